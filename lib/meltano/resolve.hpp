#pragma once
/// The resolver: every plugin setting of a Project for one environment, exactly as Meltano 4.x
/// resolves it at run time (`meltano config list` / `config print`), with the source of each
/// value. See shared/docs/meltano-semantics.md; the stores are tried in Meltano's order
/// env, dotenv, meltano_environment, meltano_yml, inherited, default (the system database and
/// command-line overrides do not exist for git-dataops).
///
/// Hermetic by default: unless ResolveOptions::with_env is set, the process environment and the
/// `.env` file are not consulted, so only meltano.yml's own `env:` blocks can set a variable.
/// `$MELTANO_PROJECT_ROOT` and `$MELTANO_SYS_DIR_ROOT` are left unexpanded (written
/// `${MELTANO_PROJECT_ROOT}` stays as written, as `meltano compile` does) unless
/// ResolveOptions::project_root is given. A variable referenced but defined nowhere expands to ""
/// as in Meltano and is listed in Resolution::undefined_variables.
///
/// resolve() never throws for the project's content: failures Meltano reports per plugin (a
/// value that does not cast, an invalid option, a name and an alias set to different values,
/// an `inherit_from` parent that is missing or cyclic) are Diagnostics of that plugin, and the
/// other plugins still resolve.

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include <dataops/meltano/diagnostic.hpp>
#include <dataops/meltano/project.hpp>

namespace dataops::meltano {

/// Where a value came from, highest precedence first (Meltano's SettingValueStore order).
enum class Source : std::uint8_t {
    env,                  ///< an environment variable (meltano.yml `env:` blocks, process env)
    dotenv,               ///< the `.env` file
    meltano_environment,  ///< the active environment's plugin config
    meltano_yml,          ///< the plugin's base config
    inherited,            ///< the `inherit_from` parent's resolved value
    default_,             ///< the definition's default (or nothing at all)
};

/// "env", "dotenv", "meltano_environment", "meltano_yml", "inherited", "default".
std::string_view source_name(Source source);

struct ResolvedPlugin;

struct ResolveOptions {
    /// The active environment; nullopt resolves with no environment.
    std::optional<std::string> environment;
    /// Consult `process_env` and `dotenv`; when false both are ignored (hermetic).
    bool with_env = false;
    std::map<std::string, std::string> process_env;
    std::map<std::string, std::string> dotenv;
    /// The absolute project root, for MELTANO_PROJECT_ROOT / MELTANO_SYS_DIR_ROOT. When absent,
    /// references to them stay unexpanded.
    std::optional<std::string> project_root;
    /// Meltano's `ff.strict_env_var_mode`: a reference to an unset variable is a per-plugin
    /// `undefined-variable` error and the setting's value is null.
    bool strict_env_var_mode = false;
    /// Also compute ResolvedPlugin::invocation_env (costs a little per plugin).
    bool invocation_env = false;
    /// Fill ResolvedSetting::value with each value. When false (a caller that only asks which
    /// settings have a value, such as the validator), a value that every environment shares is
    /// given as `true` instead of copied; null stays null, and everything else is as usual
    /// (invocation_env needs the values: with it, they are always filled).
    bool values = true;
    /// The caller resolves this project for several environments (the validator): the first
    /// such call also works out, once, the results no environment can change, and every such
    /// call shares them instead of computing them again. That costs about one resolution up
    /// front, which a single resolution does without.
    bool share_across_environments = false;
    /// With share_across_environments, on_plugin and without values: leave out of
    /// ResolvedPlugin::settings each setting whose result is the shared one, and list it in
    /// ResolvedPlugin::shared_settings instead. Such a result is the one the resolution with no
    /// environment gives, findings included, so a caller that has seen that resolution (the
    /// validator) need not look at it again: most settings of most plugins, in every
    /// environment. `keep_all_settings(plugin index)`, when set, keeps every setting of the
    /// plugins it says (those whose findings need all of them).
    bool omit_shared_settings = false;
    std::function<bool(std::size_t)> keep_all_settings;
    /// When set, each plugin is handed here as soon as it is resolved, in project order, instead
    /// of being kept in Resolution::plugins: a caller that looks at one plugin at a time never
    /// holds them all (a 2,000-plugin resolution is some 25 MiB). Its views stay valid during
    /// the call only.
    std::function<void(ResolvedPlugin&&)> on_plugin;
};

struct ResolvedSetting {
    // Views and pointers below stay valid while the Resolution lives (it keeps its Project). The
    // small fields come last: some 40,000 of these make up a big project's resolution.
    std::string name;
    /// Null when unset (or when the value expanded to "").
    nlohmann::ordered_json value;
    /// For Source::inherited: the parent plugin (see inherited_source).
    std::optional<std::string_view> inherited_from;
    /// For Source::env / dotenv: the variable that supplied the value.
    std::optional<std::string_view> env_var_used;
    /// The primary variable Meltano reads for this setting (`TAP_AUTH0_CLIENT_ID`); the ones it
    /// writes are env_vars(plugin, setting).
    std::string_view env_var;
    /// The value before `$VAR` expansion, when expansion changed it.
    std::optional<nlohmann::ordered_json> unexpanded;
    /// Where the value came from (the YAML node, the `env:` entry, the lock file); empty for the
    /// process environment and for settings with no value.
    Position position;
    /// The definition.
    const SettingDefinition* definition = nullptr;
    Source source = Source::default_;
    /// For Source::inherited: where the parent got the value.
    std::optional<Source> inherited_source;
    SettingKind kind = SettingKind::none;
    bool sensitive = false;
    bool hidden = false;
    bool custom = false;  ///< not defined by the plugin: synthesised from a configured key
    bool extra = false;   ///< a Meltano extra (`_select`, `_metadata`, ...)
};

struct ResolvedPlugin {
    /// PluginType::mappings for each mapping of a mapper (then `mapper` names the mapper).
    PluginType type = PluginType::extractors;
    std::string name;
    std::optional<std::string> mapper;
    std::optional<std::string> inherit_from;
    std::string namespace_name;  ///< as Meltano uses it for MELTANO_<TYPE>_NAMESPACE
    std::string variant;         ///< as Meltano uses it ("default" when none is known)
    std::vector<ResolvedSetting> settings;  ///< in Meltano's definition order
    /// The variables of meltano.yml's `env:` blocks (top-level, environment, plugin, environment
    /// plugin) as the plugin's process receives them when Meltano invokes it: each block expanded
    /// against the previous one as PluginInvoker.env does (so `${STACKED}` chains; with no
    /// environment a plugin block sees nothing, Meltano issue #7023). Sorted by name. Only filled
    /// when ResolveOptions::invocation_env is set.
    std::vector<std::pair<std::string, std::string>> invocation_env;
    /// With ResolveOptions::omit_shared_settings: the settings left out of `settings`, whose
    /// results are those of the resolution with no environment, as their places in the
    /// `settings` of a resolution that leaves nothing out (the plugin's definition order; a
    /// resolution with no environment lists the same settings first). Valid during on_plugin
    /// only.
    std::span<const std::uint32_t> shared_settings;
    /// Failures Meltano reports for this plugin (it would refuse to run it).
    Diagnostics diagnostics;
    const Plugin* plugin = nullptr;
    /// Where env_vars() finds the plugin's `inherit_from` chain (the Resolution keeps it alive).
    const PreparedProject* prepared = nullptr;
    std::size_t index = 0;  ///< into Project::plugins

    /// The resolved setting with this name, or nullptr.
    const ResolvedSetting* find(std::string_view setting) const;
};

struct UndefinedVariable {
    std::string name;
    std::optional<std::string> plugin;   ///< absent for references in environment-level `env:`
    std::optional<std::string> setting;  ///< absent for references in `env:` blocks
    Position position;
};

struct Resolution {
    /// The environment resolved for; nullopt for no environment.
    std::optional<std::string> environment;
    /// Project order (Project::plugins minus duplicates); empty when ResolveOptions::on_plugin
    /// took them.
    std::vector<ResolvedPlugin> plugins;
    std::vector<UndefinedVariable> undefined_variables;
    /// Findings about the request itself (`unknown-environment`).
    Diagnostics diagnostics;

    /// The plugin with this type and name (for mappings: the mapping's name), or nullptr.
    const ResolvedPlugin* find(PluginType type, std::string_view name) const;

    /// Keeps alive what the views and pointers above point into: the Project (plugins,
    /// definitions, names) and the resolver's own tables (env_var / env_vars).
    std::shared_ptr<const void> storage;
};

/// Resolve every plugin of `project` for `options.environment`. An environment name that does
/// not exist gives an `unknown-environment` diagnostic listing the known ones and no plugins.
/// Never throws for the project's content. The Resolution shares ownership of the project, so it
/// may outlive the caller's handle (`resolve(load().project, …)` is safe).
Resolution resolve(std::shared_ptr<const Project> project, const ResolveOptions& options);

/// Works out ahead what ResolveOptions::share_across_environments shares, which resolve() does
/// on first use: a caller can have it done beside other work (the validator resolves the
/// project with no environment meanwhile). Thread-safe; does nothing the second time.
void prepare_shared_results(const Project& project);

/// The string Meltano writes into an environment variable for this setting
/// (SettingDefinition.stringify_value): strings as-is, JSON for structured kinds, Python's str()
/// for the others. Requires a non-null value.
std::string stringify_value(const ResolvedSetting& setting);

/// Every variable Meltano writes for this setting into the plugin's environment (`--format env`):
/// the setting's own `env:`, the plugin's name and namespace prefixes, its parents' prefixes, then
/// MELTANO_<VERB>_<SETTING>, then the setting's env aliases. Built on request: on an
/// `inherit_from` chain of n plugins a setting writes n names or more.
std::vector<std::string> env_vars(const ResolvedPlugin& plugin, const ResolvedSetting& setting);

/// The variables Meltano hands the plugin for its settings (`as_env`), in order: for every
/// setting with a non-null value, each of its env_vars. Later entries win for repeated names.
std::vector<std::pair<std::string, std::string>> settings_env(const ResolvedPlugin& plugin);

}  // namespace dataops::meltano
