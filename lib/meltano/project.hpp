#pragma once
/// The Meltano project model: meltano.yml, the files its `include_paths` pull in, and the plugin
/// lock files, read from any git::FileSource.
///
/// The model keeps the parsed YAML documents alive, so every yaml::NodeRef in it stays valid as
/// long as the Project lives, and every entry remembers its file, line and column. Loading never
/// throws for problems in the project's content: those are Diagnostics. It throws dataops::Error
/// only when the FileSource itself fails (I/O, a corrupt object).

#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include <dataops/git/file_source.hpp>
#include <dataops/meltano/diagnostic.hpp>
#include <dataops/util/interned.hpp>
#include <dataops/yaml/document.hpp>

namespace dataops::meltano {

/// Lets unordered maps keyed by std::string be searched with a string_view, without a copy.
struct StringHash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
};

template <typename T>
using StringMap = std::unordered_map<std::string, T, StringHash, std::equal_to<>>;

/// A name -> position index searched with a string_view: the resolver and the validator look a
/// plugin up in every environment, and a key built as a std::string for each lookup was an
/// allocation per plugin and environment ("extractors\0tap-..." is past the inline 15 bytes).
using KeyIndex = StringMap<std::size_t>;

/// Meltano's plugin types, in Meltano's own order (the order plugins are listed in).
/// `mappings` is internal: one entry per item of a mapper's `mappings:` list.
enum class PluginType : std::uint8_t {
    extractors,
    loaders,
    transforms,
    orchestrators,
    transformers,
    files,
    utilities,
    mappers,
    mappings,
};

/// "extractors", "loaders", ... (the key used in meltano.yml).
std::string_view plugin_type_name(PluginType type);
/// "extractor", "utility", "file", ... (used in MELTANO_<SINGULAR>_NAME).
std::string_view plugin_type_singular(PluginType type);
/// Meltano's `PluginType.verb` ("extract", "utilize", "orchestrat", "fi", ...).
std::string_view plugin_type_verb(PluginType type);
/// The user-facing type named by a meltano.yml key; nullopt for anything else (and "mappings").
std::optional<PluginType> parse_plugin_type(std::string_view key);

/// Where something is in the project: a repository-relative file and a 1-based line/column
/// (0 when unknown, e.g. a built-in default).
struct Position {
    util::Interned file;  ///< one copy per file name: a Position is 16 bytes and copies for free
    std::uint32_t line = 0;
    std::uint32_t column = 0;
};

/// A finding at `pos` (the one way the loader and the validator build a Diagnostic).
Diagnostic diagnostic_at(std::string code, Severity severity, std::string message, const Position& pos,
                         std::string hint, std::optional<std::string> environment = std::nullopt,
                         std::optional<std::string> plugin = std::nullopt);

/// The position of a node (its file is the repository-relative path it was parsed from).
Position position_of(const yaml::NodeRef& node);
/// The position of the key `key` in a mapping node, if present.
std::optional<Position> key_position(const yaml::NodeRef& mapping, std::string_view key);

enum class SettingKind : std::uint8_t {
    none,  ///< no kind given: a string setting
    string,
    integer,
    boolean,
    decimal,
    date_iso8601,
    email,
    password,
    oauth,
    options,
    file,
    array,
    object,
    hidden,
};

/// "string", "integer", ... ("" for SettingKind::none).
std::string_view setting_kind_name(SettingKind kind);
std::optional<SettingKind> parse_setting_kind(std::string_view text);

/// One setting definition, from a plugin's `settings:`, a lock file, Meltano's built-in extras,
/// or synthesised for a configured key nothing defines (`custom`).
struct SettingDefinition {
    std::string name;
    std::vector<std::string> aliases;
    std::optional<std::string> env;        ///< the setting's own `env:` (only ever written)
    std::vector<std::string> env_aliases;  ///< deprecated extra names read for shadowing plugins
    SettingKind kind = SettingKind::none;
    nlohmann::ordered_json value;          ///< the default value; null when there is none
    std::optional<std::string> label;
    std::optional<std::string> description;
    bool sensitive = false;  ///< also true for kind password/oauth, as Meltano normalises it
    bool hidden = false;
    std::vector<nlohmann::ordered_json> options;  ///< the `value` of each option
    std::optional<std::string> value_processor;   ///< "nest_object", "upcase_string", ...
    bool custom = false;     ///< synthesised from a configured key
    Position position;       ///< of the definition; empty for built-ins
};

/// One `NAME: value` entry of an `env:` block. `value` may be a null node.
struct EnvEntry {
    std::string name;
    yaml::NodeRef value;
    Position position;  ///< of the value (of the key when the value is null)
};

/// A key of a plugin entry that is not one of Meltano's known keys (`select`, `metadata`,
/// `schema`, `vars`, ...): Meltano exposes it as the extra setting `_<key>`.
struct Extra {
    std::string key;
    yaml::NodeRef value;
};

/// A plugin of the merged project (meltano.yml plus included files).
struct Plugin {
    PluginType type = PluginType::extractors;
    std::string name;
    std::optional<std::string> namespace_name;
    std::optional<std::string> variant;
    /// Normalised like Meltano: `inherit_from` equal to `name` means no inheritance.
    std::optional<std::string> inherit_from;
    std::optional<std::string> pip_url;
    std::optional<std::string> executable;
    std::vector<SettingDefinition> settings;
    yaml::NodeRef settings_group_validation;  ///< empty when absent
    yaml::NodeRef config;                     ///< the `config:` mapping; empty when absent
    std::vector<EnvEntry> env;
    std::vector<Extra> extras;
    /// Extras that exist only in the model (a mapping's `mapping: true` and `mapping_name`).
    std::vector<std::pair<std::string, nlohmann::ordered_json>> synthetic_extras;
    yaml::NodeRef node;  ///< the whole entry (key positions: key_position(node, "config"))
    Position position;
    /// For type mappings: the mapper this mapping belongs to (the entry's `name` is the mapper's
    /// name, as in Meltano; `mapping_name` is the mapping's own name).
    std::string mapper;
    std::optional<std::string> mapping_name;
    /// A later entry with the same type and name: Meltano's lookups never return it.
    bool duplicate = false;

    /// Custom definition embedded in meltano.yml: a `namespace` and no `inherit_from`.
    bool is_custom() const { return namespace_name.has_value() && !inherit_from.has_value(); }
};

/// One `environments[].config.plugins.<type>[]` entry.
struct EnvironmentPluginConfig {
    PluginType type = PluginType::extractors;
    std::string name;
    yaml::NodeRef config;  ///< empty when absent
    std::vector<EnvEntry> env;
    std::vector<Extra> extras;
    yaml::NodeRef node;
    Position position;
    bool duplicate = false;  ///< a later entry for the same plugin: Meltano ignores it
};

struct Environment {
    std::string name;
    std::vector<EnvironmentPluginConfig> plugins;
    std::vector<EnvEntry> env;
    yaml::NodeRef state_id_suffix;  ///< empty when absent
    yaml::NodeRef annotations;      ///< empty when absent
    yaml::NodeRef node;
    Position position;
    bool duplicate = false;  ///< a later environment with the same name: never activated

    /// The first entry for this plugin (as Meltano's get_plugin_config), or nullptr.
    const EnvironmentPluginConfig* find_plugin(PluginType type, std::string_view name) const;

    /// Index "type\0name" -> position in `plugins` of the first entry; built by the loader.
    KeyIndex plugin_index;
};

struct Job {
    std::string name;
    /// Every task string, flattened from the nested lists Meltano accepts.
    std::vector<std::string> tasks;
    yaml::NodeRef node;
    Position position;
    bool duplicate = false;
};

struct Schedule {
    std::string name;
    std::optional<std::string> job;
    std::optional<std::string> extractor;
    std::optional<std::string> loader;
    std::optional<std::string> transform;
    std::optional<std::string> interval;
    yaml::NodeRef node;
    Position position;
    bool duplicate = false;
};

/// A plugin definition read from `plugins/<type>/<name>--<variant>.lock`.
struct LockDefinition {
    std::string path;  ///< repository-relative
    PluginType type = PluginType::extractors;
    std::string name;
    std::optional<std::string> namespace_name;
    std::optional<std::string> variant;
    std::optional<std::string> pip_url;
    std::optional<std::string> executable;
    std::vector<SettingDefinition> settings;
    /// Keys Meltano treats as variant extras (`select`, `metadata`, `vars`, ...): they become
    /// the defaults of the extra settings `_<key>`.
    std::vector<std::pair<std::string, nlohmann::ordered_json>> extras;
    nlohmann::ordered_json settings_group_validation;
};

/// How a plugin's definition was found (Meltano's `find_parent`).
struct PluginParent {
    enum class Kind : std::uint8_t {
        none,            ///< no definition: not custom, no lock, not inheriting from a plugin
        custom,          ///< the plugin's own embedded definition (namespace, no inherit_from)
        lock,            ///< a lock file (index into Project::locks)
        project_plugin,  ///< another project plugin (index into Project::plugins)
    };
    Kind kind = Kind::none;
    std::size_t index = 0;
    /// `inherit_from` names something that exists neither as a plugin nor as a lock file.
    bool missing = false;
    /// The plugin is on, or inherits from, an `inherit_from` cycle.
    bool cycle = false;
    /// The plugin is on the cycle itself (it inherits from itself).
    bool on_cycle = false;
};

class PreparedProject;  // resolver caches, built on first use (prepare.hpp)

/// The merged project. Not copyable: NodeRefs point into the documents it owns.
struct Project {
    Project();
    ~Project();
    Project(const Project&) = delete;
    Project& operator=(const Project&) = delete;

    std::string dir;  ///< repository-relative project directory ("" = root)
    /// Files read, meltano.yml first, then the included files in merge order.
    std::vector<std::string> files;
    /// The parsed documents, one per entry of `files` (a deque: NodeRefs hold their address).
    std::deque<yaml::Document> documents;

    std::optional<std::string> default_environment;
    Position default_environment_position;
    std::optional<std::string> project_id;
    /// Top-level `env:`, merged across files (an included file's entry wins, Meltano's deep_merge).
    std::vector<EnvEntry> env;
    std::vector<std::pair<std::string, Position>> include_paths;  ///< patterns, from meltano.yml
    /// Other top-level scalars (Meltano project settings such as `send_anonymous_usage_stats`).
    std::vector<std::pair<std::string, yaml::NodeRef>> settings;

    /// In Meltano's order: by type, then merged file order; each mapper is followed by its
    /// mappings. Duplicates are kept (flagged) so a validator can point at them.
    std::vector<Plugin> plugins;
    std::vector<PluginParent> parents;  ///< parallel to `plugins`
    std::vector<Environment> environments;
    std::vector<Job> jobs;
    std::vector<Schedule> schedules;
    std::vector<LockDefinition> locks;

    /// The plugin Meltano's lookups return (the first of that type and name), or nullptr.
    const Plugin* find_plugin(PluginType type, std::string_view name) const;
    /// The environment `Environment.find` returns (the first with that name), or nullptr.
    const Environment* find_environment(std::string_view name) const;

    KeyIndex plugin_index;       ///< "type\0name" -> first
    KeyIndex environment_index;  ///< name -> first

    /// Built lazily by the resolver; not part of the model.
    mutable std::shared_ptr<const PreparedProject> prepared;
};

struct LoadResult {
    /// Absent only when nothing usable could be read (no meltano.yml, or it does not parse).
    std::shared_ptr<const Project> project;
    Diagnostics diagnostics;
};

/// Load the project whose meltano.yml is at `<project_dir>/meltano.yml` (`project_dir` is
/// repository-relative, "" for the root), with its included files and lock files.
/// Returns the model and every structural finding. Throws dataops::Error only for FileSource
/// failures.
LoadResult load_project(const git::FileSource& source, const std::string& project_dir);

/// The key used in the index maps: type name, '\0', name.
std::string plugin_key(PluginType type, std::string_view name);

}  // namespace dataops::meltano
