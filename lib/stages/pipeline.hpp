#pragma once
/// The pipeline: an ordered list of stages, each a workspace repository (a remote and a branch)
/// that runs one Meltano environment.
///
/// Configuration lives in git config:
///     [dataops]
///         stages = dev staging prod
///     [dataops "staging"]
///         remote = staging
///         branch = main
///         environment = staging
/// With no configuration the stages are dev, staging and prod, each with the remote of the same
/// name, branch main and the environment of the same name — the seed workflow's setup needs
/// nothing more.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <dataops/git/config.hpp>

namespace dataops::stages {

struct Stage {
    std::string name;
    std::string remote;
    std::string branch;
    std::string environment;
};

struct Pipeline {
    std::vector<Stage> stages;
    /// True when `dataops.stages` is set; false when these are the defaults.
    bool configured = false;

    const Stage* find(std::string_view name) const;
    /// The stage before `stage` (its source for promotion), or nullptr for the first.
    const Stage* previous(const Stage& stage) const;
};

/// Read the pipeline from git configuration. Throws dataops::Error for an unusable configuration
/// (an empty stage list, a repeated stage, a name git config cannot hold).
Pipeline load_pipeline(const git::Config& config);

/// The URLs git would push to for a remote (`remote.<r>.pushurl`, else `remote.<r>.url`, with
/// `url.<base>.insteadOf`/`pushInsteadOf` left to git: we compare what the hook receives).
std::vector<std::string> remote_urls(const git::Config& config, std::string_view remote);

/// The stage a push goes to: by remote name (when git pushed to a named remote), else by URL
/// (when a URL was pushed to, or the remote name matches no stage), and by the remote ref
/// (`refs/heads/<branch>`). nullptr when the push is outside the pipeline. URLs match modulo a
/// trailing '/' or ".git"; local repositories by their real path, relative paths taken from the
/// current directory (where git runs the hook, and resolved them).
const Stage* match_push(const Pipeline& pipeline, const git::Config& config, std::string_view remote_name,
                        std::string_view remote_url, std::string_view remote_ref);

/// `dataops.project`: the Meltano project's directory, repository-relative and normalised;
/// nullopt when unset. Throws dataops::Error when it leads outside the repository.
std::optional<std::string> configured_project_dir(const git::Config& config);

/// Split a `dataops.stages` value on spaces and commas.
std::vector<std::string> split_stage_list(std::string_view text);

/// True when `name` can be a stage name (letters, digits, '-', '_', '.'; not empty).
bool valid_stage_name(std::string_view name);

}  // namespace dataops::stages
