#pragma once
/// The validator: every resolution error of a Meltano project caught before it reaches staging or
/// prod, including the ones Meltano itself is silent about (an environment block naming a plugin
/// that does not exist, a value that expands to empty and so drops its base value, a variable
/// nothing defines, a misspelt setting name, a secret committed in meltano.yml).
///
/// Findings are Diagnostics (codes documented in docs/diagnostics.md), never exceptions: one bad
/// environment does not hide the next problem. validate() includes the loader's structural
/// diagnostics and the resolver's per-plugin diagnostics, and adds its own checks; see
/// docs/diagnostics.md for which code comes from where.

#include <map>
#include <optional>
#include <string>
#include <vector>

#include <dataops/meltano/diagnostic.hpp>
#include <dataops/meltano/project.hpp>

namespace dataops::meltano {

struct ValidateOptions {
    /// The environments to validate for; empty means every environment the project defines.
    std::vector<std::string> environments;
    /// Undefined variables are errors instead of warnings (Meltano's strict env var mode).
    bool strict = false;
    /// Consult `process_env` and `dotenv` (same meaning as ResolveOptions::with_env). When false
    /// the validation is hermetic: only meltano.yml's own `env:` blocks define variables, and a
    /// sensitive setting is assumed to come from the process environment at run time.
    bool with_env = false;
    std::map<std::string, std::string> process_env;
    std::map<std::string, std::string> dotenv;
    /// The absolute project root, for MELTANO_PROJECT_ROOT (see ResolveOptions::project_root).
    std::optional<std::string> project_root;
};

struct ValidationResult {
    /// Sorted by file, line and column; no two identical.
    Diagnostics diagnostics;
    /// The environments that were validated (requested names the project does not define are
    /// not listed: they are `unknown-environment` errors).
    std::vector<std::string> environments;
};

/// Validate the project of `load` (the LoadResult of load_project) for `options.environments`.
///
/// Returns the loader's diagnostics (de-duplicated), the resolver's diagnostics for every
/// validated environment, and the validator's own findings. A finding that comes from an
/// environment carries that environment's name; a finding that every resolution shares (a
/// problem in the base configuration) is reported once without one. When `load.project` is
/// absent only the loader's diagnostics are returned. Never throws for the project's content;
/// every walk is iterative and every lookup indexed, so hostile input (deep nesting, long
/// `inherit_from` chains or cycles, thousands of plugins) costs little beyond resolving it.
ValidationResult validate(const LoadResult& load, const ValidateOptions& options);

/// Only what breaks every environment: YAML syntax, wrong shapes, duplicates, include paths and
/// lock files (the loader's diagnostics), sorted and de-duplicated. For pushes outside the
/// promotion pipeline, where no environment is being promoted. Never throws.
ValidationResult validate_structure(const LoadResult& load);

}  // namespace dataops::meltano
