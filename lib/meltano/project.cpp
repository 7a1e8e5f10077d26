#include <dataops/meltano/project.hpp>

#include <algorithm>
#include <array>
#include <exception>
#include <functional>
#include <map>
#include <optional>
#include <set>

#include <fmt/format.h>

#include <dataops/meltano/values.hpp>
#include <dataops/util/parallel.hpp>

namespace dataops::meltano {

using Json = nlohmann::ordered_json;

namespace {

constexpr std::array<PluginType, 8> user_types = {
    PluginType::extractors,   PluginType::loaders, PluginType::transforms,
    PluginType::orchestrators, PluginType::transformers, PluginType::files,
    PluginType::utilities,    PluginType::mappers,
};

}  // namespace

std::string_view plugin_type_name(PluginType type) {
    switch (type) {
    case PluginType::extractors:
        return "extractors";
    case PluginType::loaders:
        return "loaders";
    case PluginType::transforms:
        return "transforms";
    case PluginType::orchestrators:
        return "orchestrators";
    case PluginType::transformers:
        return "transformers";
    case PluginType::files:
        return "files";
    case PluginType::utilities:
        return "utilities";
    case PluginType::mappers:
        return "mappers";
    case PluginType::mappings:
        return "mappings";
    }
    return "";
}

std::string_view plugin_type_singular(PluginType type) {
    switch (type) {
    case PluginType::extractors:
        return "extractor";
    case PluginType::loaders:
        return "loader";
    case PluginType::transforms:
        return "transform";
    case PluginType::orchestrators:
        return "orchestrator";
    case PluginType::transformers:
        return "transformer";
    case PluginType::files:
        return "file";
    case PluginType::utilities:
        return "utility";
    case PluginType::mappers:
        return "mapper";
    case PluginType::mappings:
        return "mapping";
    }
    return "";
}

std::string_view plugin_type_verb(PluginType type) {
    // Meltano's PluginType.verb: special cases, otherwise value[:-3].
    switch (type) {
    case PluginType::extractors:
        return "extract";
    case PluginType::loaders:
        return "load";
    case PluginType::transforms:
        return "transform";
    case PluginType::orchestrators:
        return "orchestrat";
    case PluginType::transformers:
        return "transform";
    case PluginType::files:
        return "fi";
    case PluginType::utilities:
        return "utilize";
    case PluginType::mappers:
        return "map";
    case PluginType::mappings:
        return "mappi";
    }
    return "";
}

std::optional<PluginType> parse_plugin_type(std::string_view key) {
    for (PluginType t : user_types) {
        if (plugin_type_name(t) == key) {
            return t;
        }
    }
    return std::nullopt;
}

Diagnostic diagnostic_at(std::string code, Severity severity, std::string message, const Position& pos,
                         std::string hint, std::optional<std::string> environment,
                         std::optional<std::string> plugin) {
    Diagnostic d;
    d.code = std::move(code);
    d.severity = severity;
    d.message = std::move(message);
    d.file = pos.file;
    d.line = pos.line;
    d.column = pos.column;
    d.environment = std::move(environment);
    d.plugin = std::move(plugin);
    d.hint = std::move(hint);
    return d;
}

Position position_of(const yaml::NodeRef& node) {
    if (!node) {
        return {};
    }
    const yaml::Mark m = node.mark();
    return Position{node.file(), m.line, m.column};
}

std::optional<Position> key_position(const yaml::NodeRef& mapping, std::string_view key) {
    if (!mapping || !mapping.is_mapping()) {
        return std::nullopt;
    }
    for (std::size_t i = 0; i < mapping.size(); ++i) {
        const yaml::NodeRef k = mapping.key(i);
        if (k.is_scalar() && std::string(k.text()) == key) {
            return position_of(k);
        }
    }
    return std::nullopt;
}

namespace {

constexpr std::array<std::pair<SettingKind, std::string_view>, 13> kind_names = {{
    {SettingKind::string, "string"},
    {SettingKind::integer, "integer"},
    {SettingKind::boolean, "boolean"},
    {SettingKind::decimal, "decimal"},
    {SettingKind::date_iso8601, "date_iso8601"},
    {SettingKind::email, "email"},
    {SettingKind::password, "password"},
    {SettingKind::oauth, "oauth"},
    {SettingKind::options, "options"},
    {SettingKind::file, "file"},
    {SettingKind::array, "array"},
    {SettingKind::object, "object"},
    {SettingKind::hidden, "hidden"},
}};

}  // namespace

std::string_view setting_kind_name(SettingKind kind) {
    for (const auto& [k, n] : kind_names) {
        if (k == kind) {
            return n;
        }
    }
    return "";
}

std::optional<SettingKind> parse_setting_kind(std::string_view text) {
    for (const auto& [k, n] : kind_names) {
        if (n == text) {
            return k;
        }
    }
    return std::nullopt;
}

std::string plugin_key(PluginType type, std::string_view name) {
    std::string key(plugin_type_name(type));
    key += '\0';
    key += name;
    return key;
}

namespace {

/// The entry of `index` under plugin_key(type, name), built on the stack when it is short.
const std::size_t* find_plugin_key(const KeyIndex& index, PluginType type, std::string_view name) {
    const std::string_view type_name = plugin_type_name(type);
    std::array<char, 96> buffer{};
    const std::size_t size = type_name.size() + 1 + name.size();
    KeyIndex::const_iterator it;
    if (size <= buffer.size()) {
        std::copy(type_name.begin(), type_name.end(), buffer.begin());
        buffer[type_name.size()] = '\0';
        std::copy(name.begin(), name.end(), buffer.begin() + type_name.size() + 1);
        it = index.find(std::string_view(buffer.data(), size));
    } else {
        it = index.find(plugin_key(type, name));
    }
    return it == index.end() ? nullptr : &it->second;
}

}  // namespace

const EnvironmentPluginConfig* Environment::find_plugin(PluginType type,
                                                        std::string_view plugin_name) const {
    const std::size_t* at = find_plugin_key(plugin_index, type, plugin_name);
    return at ? &plugins[*at] : nullptr;
}

Project::Project() = default;
Project::~Project() = default;

const Plugin* Project::find_plugin(PluginType type, std::string_view plugin_name) const {
    const std::size_t* at = find_plugin_key(plugin_index, type, plugin_name);
    return at ? &plugins[*at] : nullptr;
}

const Environment* Project::find_environment(std::string_view env_name) const {
    auto it = environment_index.find(env_name);
    return it == environment_index.end() ? nullptr : &environments[it->second];
}

namespace {

// ---------------------------------------------------------------------------------------------
// Setting definitions (shared by meltano.yml `settings:` and lock files)

std::optional<std::string> json_string(const Json& v) {
    if (v.is_string()) {
        return v.get<std::string>();
    }
    if (v.is_null()) {
        return std::nullopt;
    }
    return python_str(v);
}

std::vector<std::string> json_string_list(const Json& v) {
    std::vector<std::string> out;
    if (v.is_array()) {
        for (const auto& item : v) {
            if (auto s = json_string(item)) {
                out.push_back(*s);
            }
        }
    } else if (v.is_string()) {
        out.push_back(v.get<std::string>());
    }
    return out;
}

struct DefinitionProblem {
    std::string code;
    std::string message;
    std::string hint;
};

/// Build a SettingDefinition like Meltano's SettingDefinition.__init__ (kind normalisation
/// included). Problems are reported through `problems`.
SettingDefinition parse_setting(const Json& obj, Position pos,
                                std::vector<DefinitionProblem>& problems) {
    SettingDefinition def;
    def.position = std::move(pos);
    if (!obj.is_object()) {
        problems.push_back({"wrong-shape", "setting definition is not a mapping",
                            "write each setting as a mapping with at least 'name'"});
        return def;
    }
    if (auto it = obj.find("name"); it != obj.end() && it->is_string()) {
        def.name = it->get<std::string>();
    } else {
        problems.push_back({"missing-name", "setting definition has no 'name'",
                            "add 'name: <setting>' to the definition"});
    }
    bool explicit_hidden = false;
    bool explicit_sensitive = false;
    for (auto it = obj.begin(); it != obj.end(); ++it) {
        const std::string& key = it.key();
        const Json& v = it.value();
        if (key == "aliases") {
            def.aliases = json_string_list(v);
        } else if (key == "env") {
            def.env = json_string(v);
        } else if (key == "env_aliases") {
            def.env_aliases = json_string_list(v);
        } else if (key == "kind") {
            if (v.is_null()) {
                continue;
            }
            auto kind = v.is_string() ? parse_setting_kind(v.get<std::string>()) : std::nullopt;
            if (!kind) {
                problems.push_back(
                    {"unknown-setting-kind",
                     fmt::format("setting '{}' has unknown kind '{}'", def.name, python_str(v)),
                     "use one of string, integer, boolean, decimal, date_iso8601, email, "
                     "options, file, array, object"});
            } else {
                def.kind = *kind;
            }
        } else if (key == "value") {
            def.value = json_copy(v);
        } else if (key == "label") {
            def.label = json_string(v);
        } else if (key == "description") {
            def.description = json_string(v);
        } else if (key == "sensitive") {
            explicit_sensitive = json_truthy(v);
        } else if (key == "hidden") {
            explicit_hidden = json_truthy(v);
        } else if (key == "options" && v.is_array()) {
            for (const auto& option : v) {
                if (option.is_object() && option.contains("value")) {
                    def.options.push_back(json_copy(option["value"]));
                } else {
                    def.options.push_back(json_copy(option));
                }
            }
        } else if (key == "value_processor") {
            def.value_processor = json_string(v);
        }
    }
    def.hidden = explicit_hidden;
    def.sensitive = explicit_sensitive;
    if (def.kind == SettingKind::hidden) {
        if (explicit_hidden) {
            def.kind = SettingKind::string;
        }
        def.hidden = true;
    }
    if (def.kind == SettingKind::password || def.kind == SettingKind::oauth) {
        if (explicit_sensitive) {
            def.kind = SettingKind::string;
        }
        def.sensitive = true;
    }
    return def;
}

// ---------------------------------------------------------------------------------------------
// Glob, as pathlib's Path.glob (sorted)

bool has_magic(std::string_view s) { return s.find_first_of("*?[") != std::string_view::npos; }

/// fnmatch for one path segment: `*`, `?`, `[seq]`, `[!seq]`; iterative with one backtrack point.
bool fnmatch(std::string_view name, std::string_view pat) {
    std::size_t n = 0;
    std::size_t p = 0;
    std::size_t star_p = std::string_view::npos;
    std::size_t star_n = 0;
    auto match_class = [&](std::size_t& pp, char c) -> std::optional<bool> {
        // pat[pp] == '['; returns nullopt when the class is not closed (then '[' is literal).
        std::size_t i = pp + 1;
        bool negate = false;
        if (i < pat.size() && pat[i] == '!') {
            negate = true;
            ++i;
        }
        bool matched = false;
        bool first = true;
        while (i < pat.size() && (first || pat[i] != ']')) {
            first = false;
            if (i + 2 < pat.size() && pat[i + 1] == '-' && pat[i + 2] != ']') {
                if (c >= pat[i] && c <= pat[i + 2]) {
                    matched = true;
                }
                i += 3;
            } else {
                if (c == pat[i]) {
                    matched = true;
                }
                ++i;
            }
        }
        if (i >= pat.size()) {
            return std::nullopt;
        }
        pp = i + 1;
        return matched != negate;
    };
    while (n < name.size()) {
        if (p < pat.size()) {
            const char pc = pat[p];
            if (pc == '*') {
                star_p = p++;
                star_n = n;
                continue;
            }
            if (pc == '?') {
                ++p;
                ++n;
                continue;
            }
            if (pc == '[') {
                std::size_t pp = p;
                auto r = match_class(pp, name[n]);
                if (!r.has_value()) {
                    if (name[n] == '[') {
                        ++p;
                        ++n;
                        continue;
                    }
                } else if (*r) {
                    p = pp;
                    ++n;
                    continue;
                }
            } else if (pc == name[n]) {
                ++p;
                ++n;
                continue;
            }
        }
        if (star_p != std::string_view::npos) {
            p = star_p + 1;
            n = ++star_n;
            continue;
        }
        return false;
    }
    while (p < pat.size() && pat[p] == '*') {
        ++p;
    }
    return p == pat.size();
}

enum class GlobStatus { ok, outside };

struct GlobResult {
    GlobStatus status = GlobStatus::ok;
    std::vector<std::string> paths;  ///< repository-relative, sorted
};

GlobResult glob(const git::FileSource& source, const std::string& base, std::string_view pattern) {
    GlobResult result;
    if (!pattern.empty() && pattern.front() == '/') {
        result.status = GlobStatus::outside;
        return result;
    }
    std::vector<std::string> segments;
    std::size_t start = 0;
    while (start <= pattern.size()) {
        std::size_t slash = pattern.find('/', start);
        if (slash == std::string_view::npos) {
            slash = pattern.size();
        }
        std::string seg(pattern.substr(start, slash - start));
        start = slash + 1;
        if (seg.empty() || seg == ".") {
            continue;
        }
        if (seg == "..") {
            if (segments.empty() || has_magic(segments.back()) || segments.back() == "**") {
                result.status = GlobStatus::outside;
                return result;
            }
            segments.pop_back();
            continue;
        }
        segments.push_back(std::move(seg));
    }
    if (segments.empty()) {
        return result;
    }
    std::vector<std::string> current{base};
    for (std::size_t s = 0; s < segments.size(); ++s) {
        const std::string& seg = segments[s];
        const bool last = s + 1 == segments.size();
        std::vector<std::string> next;
        if (seg == "**") {
            // Zero or more directories; symlinked directories are not descended into, so a
            // link cycle cannot make this loop forever.
            std::vector<std::string> stack = current;
            std::set<std::string> seen;
            while (!stack.empty()) {
                std::string dir = std::move(stack.back());
                stack.pop_back();
                if (!seen.insert(dir).second) {
                    continue;
                }
                next.push_back(dir);
                for (const auto& entry : source.list(dir)) {
                    if (entry.kind == git::EntryKind::directory) {
                        stack.push_back(git::join_path(dir, entry.name));
                    }
                }
            }
        } else if (has_magic(seg)) {
            for (const auto& dir : current) {
                for (const auto& entry : source.list(dir)) {
                    if (!fnmatch(entry.name, seg)) {
                        continue;
                    }
                    if (last || entry.kind == git::EntryKind::directory) {
                        next.push_back(git::join_path(dir, entry.name));
                    }
                }
            }
        } else {
            for (const auto& dir : current) {
                std::string path = git::join_path(dir, seg);
                const git::EntryKind kind = source.kind(path);
                if (kind == git::EntryKind::missing) {
                    // Through a symlinked directory (a revision has no entry there): keep it when
                    // it leads outside, for the reader to report.
                    if (last && source.read(path, base).status == git::ReadResult::Status::outside) {
                        next.push_back(std::move(path));
                    }
                    continue;
                }
                // A symlink may be a directory: followed, as pathlib's glob does; reading what
                // is found through it tells whether it leads outside the project.
                if (last || kind == git::EntryKind::directory || kind == git::EntryKind::symlink) {
                    next.push_back(std::move(path));
                }
            }
        }
        std::sort(next.begin(), next.end());
        next.erase(std::unique(next.begin(), next.end()), next.end());
        current = std::move(next);
        if (current.empty()) {
            break;
        }
    }
    result.paths = std::move(current);
    return result;
}

// ---------------------------------------------------------------------------------------------
// The loader

std::string line_col_of_offset(std::string_view text, std::size_t offset, std::uint32_t& line,
                               std::uint32_t& column) {
    line = 1;
    column = 1;
    for (std::size_t i = 0; i < offset && i < text.size(); ++i) {
        if (text[i] == '\n') {
            ++line;
            column = 1;
        } else if ((static_cast<unsigned char>(text[i]) & 0xC0) != 0x80) {
            ++column;
        }
    }
    return {};
}

struct RawEntry {
    yaml::NodeRef node;
    std::size_t file = 0;  ///< index into Project::files (0 = meltano.yml)
};

/// While an entry is parsed on a thread of its own (see parse_entries), its diagnostics go here,
/// to be merged in the entries' order, instead of into the loader's list.
thread_local Diagnostics* entry_diagnostics = nullptr;

/// Runs parse(i) for every entry i in [0, n), side by side for a big project (the entries of a
/// 2,000-plugin project take some 20 ms), and hands each entry's diagnostics to merge(i, diags)
/// in order, on the calling thread. Exceptions are rethrown, the first entry's first.
template <typename Parse, typename Merge>
void parse_entries(std::size_t n, std::size_t work, const Parse& parse, const Merge& merge) {
    // Below this many plugin entries one thread does it (the validator's threshold for side by
    // side resolutions; a plugin entry takes some 10 us to build, a thread 0.1 ms to start).
    constexpr std::size_t parallel_work = 64;
    std::vector<Diagnostics> diagnostics(n);
    std::vector<std::exception_ptr> failures(n);
    const std::size_t threads = work < parallel_work ? 1 : util::hardware_threads();
    util::parallel_for(n, threads, [&](std::size_t i) {
        Diagnostics* const outer = entry_diagnostics;
        entry_diagnostics = &diagnostics[i];
        try {
            parse(i);
        } catch (...) {
            failures[i] = std::current_exception();
        }
        entry_diagnostics = outer;
    });
    for (const auto& failure : failures) {
        if (failure) {
            std::rethrow_exception(failure);
        }
    }
    for (std::size_t i = 0; i < n; ++i) {
        merge(i, diagnostics[i]);
    }
}

class Loader {
public:
    Loader(const git::FileSource& source, std::string dir, Project& project,
           Diagnostics& diagnostics)
        : source_(source), dir_(std::move(dir)), p_(project), diags_(diagnostics) {}

    bool run();

private:
    void add(std::string code, Severity severity, std::string message, const Position& pos,
             std::string hint, std::optional<std::string> environment = std::nullopt,
             std::optional<std::string> plugin = std::nullopt) {
        Diagnostics& to = entry_diagnostics != nullptr ? *entry_diagnostics : diags_;
        to.push_back(diagnostic_at(std::move(code), severity, std::move(message), pos,
                                   std::move(hint), std::move(environment), std::move(plugin)));
    }

    const yaml::Document* parse_file(const std::string& path, const std::string& text);
    /// The document `parse` returns, kept in the project; nullptr (and a diagnostic) when it
    /// throws a yaml::ParseError.
    const yaml::Document* add_document(const std::string& path,
                                       const std::function<yaml::Document()>& parse);
    void collect(const yaml::NodeRef& root, std::size_t file);
    void resolve_includes(const yaml::NodeRef& root);
    std::optional<std::string> name_of(const yaml::NodeRef& entry, std::string_view what,
                                       const std::optional<std::string>& environment);
    void build_plugins();
    std::optional<Plugin> parse_plugin(PluginType type, const yaml::NodeRef& entry);
    void add_mappings(const Plugin& mapper);
    std::vector<EnvEntry> parse_env(const yaml::NodeRef& node, std::string_view owner);
    std::optional<Environment> parse_environment(const RawEntry& raw);
    void build_environments();
    void build_jobs_and_schedules();
    void link_parents();
    std::optional<std::size_t> load_lock(PluginType type, const std::string& name,
                                         const std::optional<std::string>& variant,
                                         const Plugin& plugin);
    void detect_cycles();

    const git::FileSource& source_;
    std::string dir_;
    Project& p_;
    Diagnostics& diags_;

    std::array<std::vector<RawEntry>, 8> raw_plugins_;
    std::vector<RawEntry> raw_environments_;
    std::vector<RawEntry> raw_jobs_;
    std::vector<RawEntry> raw_schedules_;
    std::map<std::string, std::size_t> env_positions_;  ///< top-level env name -> index
    /// Entries of included files, indexed like Meltano's ProjectFiles._add_to_index.
    std::map<std::string, std::size_t> included_index_;
    std::map<std::string, std::size_t> lock_cache_;  ///< path -> index into p_.locks
    std::set<std::string> missing_locks_;
};

const yaml::Document* Loader::parse_file(const std::string& path, const std::string& text) {
    return add_document(path, [&] { return yaml::parse(text, path); });
}

const yaml::Document* Loader::add_document(const std::string& path,
                                           const std::function<yaml::Document()>& parse) {
    try {
        p_.documents.push_back(parse());
    } catch (const yaml::ParseError& e) {
        add("yaml-syntax", Severity::error, e.what(),
            Position{e.file().empty() ? path : e.file(), e.mark().line, e.mark().column},
            e.hints().empty() ? "fix the YAML syntax" : e.hints().front());
        return nullptr;
    }
    return &p_.documents.back();
}

bool Loader::run() {
    p_.dir = dir_;
    const std::string root_path = git::join_path(dir_, "meltano.yml");
    git::ReadResult read = source_.read(root_path, dir_);
    const Position root_pos{root_path, 0, 0};
    if (read.status != git::ReadResult::Status::ok) {
        const char* why = read.status == git::ReadResult::Status::missing      ? "does not exist"
                          : read.status == git::ReadResult::Status::not_a_file ? "is not a file"
                                                                                : "leads outside the project";
        add("meltano-yml-missing", Severity::error,
            fmt::format("'{}' {} in {}", root_path, why, source_.describe()), root_pos,
            "run the command inside a Meltano project, or point it at the project directory");
        return false;
    }
    p_.files.push_back(root_path);
    const yaml::Document* doc = parse_file(root_path, read.data);
    if (doc == nullptr) {
        return false;
    }
    if (doc->empty() || doc->root().is_null()) {
        add("empty-file", Severity::error, fmt::format("'{}' is empty", root_path), root_pos,
            "Meltano refuses an empty meltano.yml: add at least 'plugins:' or 'environments:'");
        return false;
    }
    const yaml::NodeRef root = doc->root();
    if (!root.is_mapping()) {
        add("wrong-shape", Severity::error,
            fmt::format("'{}' is not a mapping of settings", root_path), position_of(root),
            "meltano.yml must be a YAML mapping (keys such as 'plugins' and 'environments')");
        return false;
    }
    collect(root, 0);
    resolve_includes(root);
    build_plugins();
    build_environments();
    build_jobs_and_schedules();
    link_parents();
    detect_cycles();
    return true;
}

void Loader::collect(const yaml::NodeRef& root, std::size_t file) {
    const bool included = file != 0;
    auto index_included = [&](const std::string& key, const std::string& what,
                              const yaml::NodeRef& entry, const std::string& display) {
        if (!included) {
            return;
        }
        auto [it, inserted] = included_index_.emplace(key, file);
        if (!inserted) {
            add("duplicate-" + what, Severity::error,
                fmt::format("{} '{}' is defined in both '{}' and '{}'", what, display,
                            p_.files[it->second], p_.files[file]),
                position_of(entry),
                "Meltano stops with 'Duplicate plugin name found' when two included files "
                "define the same entry: keep one of them");
        }
    };
    for (std::size_t i = 0; i < root.size(); ++i) {
        const yaml::NodeRef k = root.key(i);
        const yaml::NodeRef v = root.value(i);
        const std::string key = k.is_scalar() ? std::string(k.text()) : std::string();
        if (key == "plugins") {
            if (v.is_null()) {
                continue;
            }
            if (!v.is_mapping()) {
                add("wrong-shape", Severity::error, "'plugins' is not a mapping of plugin types",
                    position_of(v), "write 'plugins:' as a mapping such as 'extractors: [...]'");
                continue;
            }
            for (std::size_t t = 0; t < v.size(); ++t) {
                const yaml::NodeRef tk = v.key(t);
                const yaml::NodeRef tv = v.value(t);
                const std::string type_name = tk.is_scalar() ? std::string(tk.text()) : std::string();
                auto type = parse_plugin_type(type_name);
                if (!type) {
                    const bool internal = type_name == "mappings";
                    add("unknown-plugin-type", internal ? Severity::warning : Severity::error,
                        fmt::format("unknown plugin type '{}'", type_name), position_of(tk),
                        internal ? "mappings belong under a mapper's 'mappings:' list"
                                 : "use one of extractors, loaders, transforms, orchestrators, "
                                   "transformers, files, utilities, mappers");
                    continue;
                }
                if (tv.is_null()) {
                    continue;
                }
                if (!tv.is_sequence()) {
                    add("wrong-shape", Severity::error,
                        fmt::format("'plugins.{}' is not a list", type_name), position_of(tv),
                        "list the plugins as '- name: <plugin>' entries");
                    continue;
                }
                for (std::size_t j = 0; j < tv.size(); ++j) {
                    const yaml::NodeRef entry = tv.at(j);
                    raw_plugins_[static_cast<std::size_t>(*type)].push_back(RawEntry{entry, file});
                    if (entry.is_mapping()) {
                        if (auto n = entry.find("name"); n && n->is_scalar()) {
                            index_included(plugin_key(*type, std::string(n->text())), "plugin", entry,
                                           std::string(n->text()));
                        }
                    }
                }
            }
        } else if (key == "environments" || key == "jobs" || key == "schedules") {
            if (v.is_null()) {
                continue;
            }
            if (!v.is_sequence()) {
                add("wrong-shape", Severity::error, fmt::format("'{}' is not a list", key),
                    position_of(v), fmt::format("write '{}' as a list of '- name: ...' entries", key));
                continue;
            }
            auto& target = key == "environments" ? raw_environments_
                           : key == "jobs"       ? raw_jobs_
                                                 : raw_schedules_;
            const std::string what = key == "environments" ? "environment"
                                     : key == "jobs"       ? "job"
                                                           : "schedule";
            for (std::size_t j = 0; j < v.size(); ++j) {
                const yaml::NodeRef entry = v.at(j);
                target.push_back(RawEntry{entry, file});
                if (entry.is_mapping()) {
                    if (auto n = entry.find("name"); n && n->is_scalar()) {
                        index_included(key + '\0' + std::string(n->text()), what, entry, std::string(n->text()));
                    }
                }
            }
        } else if (key == "env") {
            if (v.is_null()) {
                continue;
            }
            for (auto& entry : parse_env(v, "the top-level 'env'")) {
                auto [it, inserted] = env_positions_.emplace(entry.name, p_.env.size());
                if (inserted) {
                    p_.env.push_back(std::move(entry));
                } else {
                    p_.env[it->second] = std::move(entry);  // deep_merge: the included file wins
                }
            }
        } else if (key == "default_environment") {
            if (v.is_null()) {
                p_.default_environment.reset();
            } else if (v.is_scalar()) {
                p_.default_environment = v.kind() == yaml::Kind::date ? v.iso_string() : std::string(v.text());
            } else {
                add("wrong-shape", Severity::error, "'default_environment' is not a name",
                    position_of(v), "set 'default_environment' to the name of an environment");
                continue;
            }
            p_.default_environment_position = position_of(v);
        } else if (key == "project_id") {
            if (v.is_scalar() && !v.is_null()) {
                p_.project_id = std::string(v.text());
            }
        } else if (key == "include_paths") {
            if (included) {
                continue;  // Meltano only reads include_paths from meltano.yml itself
            }
            if (v.is_null()) {
                continue;
            }
            if (!v.is_sequence()) {
                add("wrong-shape", Severity::error, "'include_paths' is not a list",
                    position_of(v), "list glob patterns such as '- ./environments/*.meltano.yml'");
                continue;
            }
            for (std::size_t j = 0; j < v.size(); ++j) {
                const yaml::NodeRef item = v.at(j);
                if (!item.is_scalar() || item.is_null()) {
                    add("wrong-shape", Severity::error, "an include path is not a string",
                        position_of(item), "write each include path as a glob pattern string");
                    continue;
                }
                p_.include_paths.emplace_back(std::string(item.text()), position_of(item));
            }
        } else if (!key.empty()) {
            bool replaced = false;
            for (auto& s : p_.settings) {
                if (s.first == key) {
                    s.second = v;
                    replaced = true;
                }
            }
            if (!replaced) {
                p_.settings.emplace_back(key, v);
            }
        }
    }
}

void Loader::resolve_includes(const yaml::NodeRef& /*root*/) {
    const std::string root_path = p_.files.front();
    std::vector<std::pair<std::string, Position>> matched;
    std::set<std::string> seen;
    for (const auto& [pattern, pos] : p_.include_paths) {
        GlobResult g = glob(source_, dir_, pattern);
        if (g.status == GlobStatus::outside) {
            add("include-path-outside", Severity::error,
                fmt::format("include path '{}' is outside the project", pattern), pos,
                "Meltano only includes files inside the project directory");
            continue;
        }
        if (g.paths.empty()) {
            add("include-path-missing", Severity::warning,
                fmt::format("include path '{}' matches no file", pattern), pos,
                "Meltano silently ignores it: fix the pattern or remove it");
            continue;
        }
        for (auto& path : g.paths) {
            if (path == root_path || !seen.insert(path).second) {
                continue;
            }
            matched.emplace_back(std::move(path), pos);
        }
    }
    // Read every file first (in order: the source may not be shared between threads), parse
    // them side by side when there is enough YAML to be worth a thread, then merge in order.
    struct Included {
        const std::string* path;
        const Position* pos;
        std::string shown;
        std::string data;
        std::optional<yaml::Document> doc;
        std::exception_ptr error;
        /// Set when the path could not be read: the diagnostic, given in the files' order.
        std::optional<std::array<std::string, 3>> unreadable;  ///< code, message, hint
    };
    std::vector<Included> files;
    std::size_t bytes = 0;
    for (const auto& [path, pos] : matched) {
        Included f{&path, &pos, {}, {}, {}, {}, {}};
        const git::EntryKind kind = source_.kind(path);
        git::ReadResult read;
        if (kind != git::EntryKind::directory && kind != git::EntryKind::other) {
            read = source_.read(path, dir_);
        }
        if (kind == git::EntryKind::directory || kind == git::EntryKind::other ||
            (read.status != git::ReadResult::Status::ok &&
             read.status != git::ReadResult::Status::outside)) {
            f.unreadable = {"include-path-not-file",
                            fmt::format("included path '{}' is not a file", path),
                            "Meltano stops on it: make the pattern match only YAML files"};
        } else if (read.status == git::ReadResult::Status::outside) {
            f.unreadable = {"include-path-outside",
                            fmt::format("included path '{}' leads outside the project", path),
                            "Meltano refuses symlinks that point outside the project directory"};
        } else {
            bytes += read.data.size();
            // A path may hold any bytes; the model shows it (positions, `env list`) as UTF-8.
            f.shown = valid_utf8(path);
            f.data = std::move(read.data);
        }
        files.push_back(std::move(f));
    }
    // Below this much YAML a second thread costs more than it saves (parsing runs at about
    // 80 MB/s; starting a thread takes some 50 us). Past a few threads each adds a malloc arena
    // for little: parsing is bound by memory as much as by the cores.
    constexpr std::size_t parallel_bytes = 256 * 1024;
    constexpr std::size_t max_threads = 8;
    const std::size_t threads =
        bytes < parallel_bytes ? 1 : std::min(util::hardware_threads(), max_threads);
    util::parallel_for(files.size(), threads,
                       [&](std::size_t i) {
                           Included& f = files[i];
                           if (f.unreadable) {
                               return;
                           }
                           try {
                               f.doc.emplace(yaml::parse(f.data, f.shown));
                           } catch (...) {
                               f.error = std::current_exception();
                           }
                           std::string().swap(f.data);
                       });
    for (Included& f : files) {
        const std::string& path = *f.path;
        if (f.unreadable) {
            auto& [code, message, hint] = *f.unreadable;
            add(std::move(code), Severity::error, std::move(message), *f.pos, std::move(hint));
            continue;
        }
        const std::size_t file = p_.files.size();
        p_.files.push_back(f.shown);
        const yaml::Document* doc = add_document(f.shown, [&] {
            if (f.error) {
                std::rethrow_exception(f.error);
            }
            return std::move(*f.doc);
        });
        f.doc.reset();
        if (doc == nullptr) {
            p_.documents.emplace_back();  // keep `documents` parallel to `files`
            continue;
        }
        const Position file_pos{path, 0, 0};
        if (doc->empty() || doc->root().is_null()) {
            add("empty-file", Severity::error, fmt::format("included file '{}' is empty", path),
                file_pos, "Meltano fails on an empty included file: delete it or add content");
            continue;
        }
        if (!doc->root().is_mapping()) {
            add("wrong-shape", Severity::error,
                fmt::format("included file '{}' is not a mapping", path), position_of(doc->root()),
                "an included file holds 'plugins', 'environments', 'schedules' or 'jobs'");
            continue;
        }
        collect(doc->root(), file);
    }
}

std::optional<std::string> Loader::name_of(const yaml::NodeRef& entry, std::string_view what,
                                           const std::optional<std::string>& environment) {
    if (!entry.is_mapping()) {
        add("wrong-shape", Severity::error, fmt::format("{} entry is not a mapping", what),
            position_of(entry), fmt::format("write the {} as a mapping with 'name'", what),
            environment);
        return std::nullopt;
    }
    auto n = entry.find("name");
    if (!n || n->is_null()) {
        add("missing-name", Severity::error, fmt::format("{} has no 'name'", what),
            position_of(entry), fmt::format("add 'name: <{}>' to the entry", what), environment);
        return std::nullopt;
    }
    if (!n->is_scalar()) {
        add("wrong-shape", Severity::error, fmt::format("{} 'name' is not a string", what),
            position_of(*n), "use a plain string as the name", environment);
        return std::nullopt;
    }
    if (std::string(n->text()).find(':') != std::string::npos) {
        add("invalid-name", Severity::error,
            fmt::format("{} name '{}' contains ':'", what, std::string(n->text())), position_of(*n),
            "Meltano reserves ':' as the state ID delimiter: rename it", environment);
    }
    return std::string(n->text());
}

std::vector<EnvEntry> Loader::parse_env(const yaml::NodeRef& node, std::string_view owner) {
    std::vector<EnvEntry> out;
    if (!node || node.is_null()) {
        return out;
    }
    if (!node.is_mapping()) {
        add("wrong-shape", Severity::error, fmt::format("{} is not a mapping", owner),
            position_of(node), "write 'env:' as 'NAME: value' entries");
        return out;
    }
    for (std::size_t i = 0; i < node.size(); ++i) {
        const yaml::NodeRef k = node.key(i);
        const yaml::NodeRef v = node.value(i);
        EnvEntry e;
        e.name = k.is_scalar() ? std::string(k.text()) : std::string();
        e.value = v;
        e.position = v.is_null() ? position_of(k) : position_of(v);
        if (!v.is_scalar()) {
            add("wrong-shape", Severity::warning,
                fmt::format("variable '{}' in {} is not a string", e.name, owner), position_of(v),
                "environment variables hold strings");
        }
        out.push_back(std::move(e));
    }
    return out;
}

std::optional<Plugin> Loader::parse_plugin(PluginType type, const yaml::NodeRef& entry) {
    auto name = name_of(entry, plugin_type_singular(type), std::nullopt);
    if (!name) {
        return std::nullopt;
    }
    Plugin plugin;
    plugin.type = type;
    plugin.name = *name;
    plugin.node = entry;
    plugin.position = position_of(entry);
    auto text_of = [&](std::string_view key) -> std::optional<std::string> {
        auto v = entry.find(key);
        if (!v || v->is_null()) {
            return std::nullopt;
        }
        if (!v->is_scalar()) {
            add("wrong-shape", Severity::error,
                fmt::format("'{}' of plugin '{}' is not a string", key, *name), position_of(*v),
                "use a plain string", std::nullopt, *name);
            return std::nullopt;
        }
        return std::string(v->text());
    };
    plugin.namespace_name = text_of("namespace");
    plugin.variant = text_of("variant");
    plugin.inherit_from = text_of("inherit_from");
    if (plugin.inherit_from && *plugin.inherit_from == plugin.name) {
        plugin.inherit_from.reset();  // Meltano: inheriting from itself means shadowing
    }
    plugin.pip_url = text_of("pip_url");
    plugin.executable = text_of("executable");
    const bool custom = plugin.is_custom();

    static const std::set<std::string, std::less<>> known = {
        "name",         "inherit_from",     "namespace",    "variant",
        "pip_url",      "python",           "executable",   "capabilities",
        "settings_group_validation",        "settings",     "commands",
        "requires",     "requires_meltano", "config",       "default_variant",
        "env",          "hidden",           "label",        "logo_url",
        "description",  "annotations",
    };
    // Keys an embedded custom definition consumes (Variant / PluginDefinition parameters).
    static const std::set<std::string, std::less<>> custom_known = {
        "docs", "repo", "original", "deprecated", "supported_python_versions", "variants",
        "is_default_variant",
    };
    for (std::size_t i = 0; i < entry.size(); ++i) {
        const yaml::NodeRef k = entry.key(i);
        const yaml::NodeRef v = entry.value(i);
        const std::string key = k.is_scalar() ? std::string(k.text()) : std::string();
        if (key == "config") {
            if (v.is_null()) {
                continue;
            }
            if (!v.is_mapping()) {
                add("wrong-shape", Severity::error,
                    fmt::format("'config' of plugin '{}' is not a mapping", plugin.name),
                    position_of(v), "write 'config:' as 'setting: value' entries", std::nullopt,
                    plugin.name);
                continue;
            }
            plugin.config = v;
        } else if (key == "env") {
            plugin.env = parse_env(v, fmt::format("the 'env' of plugin '{}'", plugin.name));
        } else if (key == "settings") {
            if (v.is_null()) {
                continue;
            }
            if (!v.is_sequence()) {
                add("wrong-shape", Severity::error,
                    fmt::format("'settings' of plugin '{}' is not a list", plugin.name),
                    position_of(v), "list settings as '- name: <setting>' entries", std::nullopt,
                    plugin.name);
                continue;
            }
            plugin.settings.reserve(plugin.settings.size() + v.size());
            for (std::size_t j = 0; j < v.size(); ++j) {
                std::vector<DefinitionProblem> problems;
                plugin.settings.push_back(
                    parse_setting(yaml_to_json(v.at(j)), position_of(v.at(j)), problems));
                for (auto& pr : problems) {
                    add(pr.code, Severity::error,
                        fmt::format("plugin '{}': {}", plugin.name, pr.message),
                        position_of(v.at(j)), pr.hint, std::nullopt, plugin.name);
                }
            }
        } else if (key == "settings_group_validation") {
            plugin.settings_group_validation = v;
        } else if (known.count(key) != 0 || (custom && custom_known.count(key) != 0)) {
            continue;
        } else {
            plugin.extras.push_back(Extra{key, v});
        }
    }
    return plugin;
}

void Loader::add_mappings(const Plugin& mapper) {
    auto mappings = mapper.node.find("mappings");
    if (!mappings || mappings->is_null()) {
        return;
    }
    if (!mappings->is_sequence()) {
        add("wrong-shape", Severity::error,
            fmt::format("'mappings' of mapper '{}' is not a list", mapper.name),
            position_of(*mappings), "list mappings as '- name: <mapping>' entries", std::nullopt,
            mapper.name);
        return;
    }
    for (std::size_t i = 0; i < mappings->size(); ++i) {
        const yaml::NodeRef m = mappings->at(i);
        auto name = name_of(m, "mapping", std::nullopt);
        if (!name) {
            continue;
        }
        Plugin mapping = mapper;  // Meltano deep-copies the mapper's entry for every mapping
        mapping.type = PluginType::mappings;
        mapping.mapper = mapper.name;
        mapping.name = *name;
        mapping.mapping_name = *name;
        mapping.node = m;
        mapping.position = position_of(m);
        mapping.config = yaml::NodeRef();
        if (auto c = m.find("config"); c && c->is_mapping()) {
            mapping.config = *c;
        }
        mapping.synthetic_extras.emplace_back("mapping", true);
        mapping.synthetic_extras.emplace_back("mapping_name", *name);
        p_.plugins.push_back(std::move(mapping));
    }
}

void Loader::build_plugins() {
    struct Entry {
        PluginType type;
        const RawEntry* raw;
        std::optional<Plugin> plugin;
    };
    std::vector<Entry> entries;
    for (PluginType type : user_types) {
        for (const RawEntry& raw : raw_plugins_[static_cast<std::size_t>(type)]) {
            entries.push_back(Entry{type, &raw, std::nullopt});
        }
    }
    auto parse = [&](std::size_t i) {
        entries[i].plugin = parse_plugin(entries[i].type, entries[i].raw->node);
    };
    auto merge = [&](std::size_t i, Diagnostics& found) {
        diags_.insert(diags_.end(), std::make_move_iterator(found.begin()),
                      std::make_move_iterator(found.end()));
        const PluginType type = entries[i].type;
        const RawEntry& raw = *entries[i].raw;
        std::optional<Plugin>& plugin = entries[i].plugin;
        if (!plugin) {
            return;
        }
        const std::string key = plugin_key(type, plugin->name);
        auto [it, inserted] = p_.plugin_index.emplace(key, p_.plugins.size());
        if (!inserted) {
            plugin->duplicate = true;
            const Plugin& first = p_.plugins[it->second];
            const bool both_included =
                first.position.file != p_.files.front() && raw.file != 0;
            if (!both_included) {
                add("duplicate-plugin", Severity::warning,
                    fmt::format("{} '{}' is defined twice; Meltano uses the first one",
                                plugin_type_singular(type), plugin->name),
                    plugin->position,
                    fmt::format("the first definition is at {}:{}", first.position.file,
                                first.position.line),
                    std::nullopt, plugin->name);
            }
        }
        p_.plugins.push_back(std::move(*plugin));
        if (type == PluginType::mappers) {
            const Plugin mapper = p_.plugins.back();
            add_mappings(mapper);
        }
    };
    parse_entries(entries.size(), entries.size(), parse, merge);
    for (std::size_t i = 0; i < p_.plugins.size(); ++i) {
        if (p_.plugins[i].type == PluginType::mappings) {
            p_.plugin_index.emplace(plugin_key(PluginType::mappings, p_.plugins[i].name), i);
        }
    }
}

std::optional<Environment> Loader::parse_environment(const RawEntry& raw) {
    static const std::set<std::string, std::less<>> known = {"name", "config", "env",
                                                             "state_id_suffix", "annotations"};
    auto name = name_of(raw.node, "environment", std::nullopt);
    if (!name) {
        return std::nullopt;
    }
    Environment env;
    env.name = *name;
    env.node = raw.node;
    env.position = position_of(raw.node);
    for (std::size_t i = 0; i < raw.node.size(); ++i) {
        const yaml::NodeRef k = raw.node.key(i);
        const std::string key = k.is_scalar() ? std::string(k.text()) : std::string();
        if (known.count(key) == 0) {
            add("unknown-key", Severity::error,
                fmt::format("environment '{}' has unknown key '{}'", env.name, key),
                position_of(k),
                "Meltano refuses to load it: an environment has only name, config, env, "
                "state_id_suffix and annotations",
                env.name);
        }
    }
    if (auto e = raw.node.find("env")) {
        env.env = parse_env(*e, fmt::format("the 'env' of environment '{}'", env.name));
    }
    if (auto s = raw.node.find("state_id_suffix")) {
        env.state_id_suffix = *s;
    }
    if (auto a = raw.node.find("annotations")) {
        env.annotations = *a;
    }
    auto config = raw.node.find("config");
    if (config && !config->is_null() && !config->is_mapping()) {
        add("wrong-shape", Severity::error,
            fmt::format("'config' of environment '{}' is not a mapping", env.name),
            position_of(*config), "write 'config:' with a 'plugins:' mapping", env.name);
    }
    std::optional<yaml::NodeRef> plugins;
    if (config && config->is_mapping()) {
        plugins = config->find("plugins");
    }
    if (plugins && !plugins->is_null() && !plugins->is_mapping()) {
        add("wrong-shape", Severity::error,
            fmt::format("'config.plugins' of environment '{}' is not a mapping", env.name),
            position_of(*plugins), "write it as a mapping such as 'extractors: [...]'",
            env.name);
    } else if (plugins && plugins->is_mapping()) {
        for (std::size_t t = 0; t < plugins->size(); ++t) {
            const yaml::NodeRef tk = plugins->key(t);
            const yaml::NodeRef tv = plugins->value(t);
            const std::string type_name = tk.is_scalar() ? std::string(tk.text()) : std::string();
            auto type = parse_plugin_type(type_name);
            if (!type) {
                if (type_name == "mappings") {
                    continue;  // a valid PluginType for Meltano, which nothing ever looks up
                }
                add("unknown-plugin-type", Severity::error,
                    fmt::format("environment '{}' has unknown plugin type '{}'", env.name,
                                type_name),
                    position_of(tk),
                    "Meltano refuses to load the project: use extractors, loaders, "
                    "transforms, orchestrators, transformers, files, utilities or mappers",
                    env.name);
                continue;
            }
            if (tv.is_null()) {
                continue;
            }
            if (!tv.is_sequence()) {
                add("wrong-shape", Severity::error,
                    fmt::format("'{}' of environment '{}' is not a list", type_name, env.name),
                    position_of(tv), "list the plugins as '- name: <plugin>' entries",
                    env.name);
                continue;
            }
            for (std::size_t j = 0; j < tv.size(); ++j) {
                const yaml::NodeRef entry = tv.at(j);
                auto pname = name_of(entry, plugin_type_singular(*type), env.name);
                if (!pname) {
                    continue;
                }
                EnvironmentPluginConfig pc;
                pc.type = *type;
                pc.name = *pname;
                pc.node = entry;
                pc.position = position_of(entry);
                for (std::size_t i = 0; i < entry.size(); ++i) {
                    const yaml::NodeRef k = entry.key(i);
                    const yaml::NodeRef v = entry.value(i);
                    const std::string key = k.is_scalar() ? std::string(k.text()) : std::string();
                    if (key == "name" || key == "annotations") {
                        continue;
                    }
                    if (key == "config") {
                        if (v.is_null()) {
                            continue;
                        }
                        if (!v.is_mapping()) {
                            add("wrong-shape", Severity::error,
                                fmt::format("'config' of plugin '{}' in environment '{}' is "
                                            "not a mapping",
                                            pc.name, env.name),
                                position_of(v), "write 'config:' as 'setting: value' entries",
                                env.name, pc.name);
                            continue;
                        }
                        pc.config = v;
                    } else if (key == "env") {
                        pc.env = parse_env(
                            v, fmt::format("the 'env' of plugin '{}' in environment '{}'",
                                           pc.name, env.name));
                    } else {
                        pc.extras.push_back(Extra{key, v});
                    }
                }
                auto [it, inserted] =
                    env.plugin_index.emplace(plugin_key(pc.type, pc.name), env.plugins.size());
                if (!inserted) {
                    pc.duplicate = true;
                    add("duplicate-plugin", Severity::warning,
                        fmt::format("{} '{}' appears twice in environment '{}'; Meltano uses "
                                    "the first entry",
                                    plugin_type_singular(pc.type), pc.name, env.name),
                        pc.position, "merge the two entries into one", env.name, pc.name);
                }
                env.plugins.push_back(std::move(pc));
            }
        }
    }
    return env;
}

void Loader::build_environments() {
    std::vector<std::optional<Environment>> parsed(raw_environments_.size());
    // Each environment is about as much work as its plugin entries; a big project has many.
    auto parse = [&](std::size_t i) { parsed[i] = parse_environment(raw_environments_[i]); };
    auto merge = [&](std::size_t i, Diagnostics& found) {
        diags_.insert(diags_.end(), std::make_move_iterator(found.begin()),
                      std::make_move_iterator(found.end()));
        if (!parsed[i]) {
            return;
        }
        Environment& env = *parsed[i];
        const RawEntry& raw = raw_environments_[i];
        auto [it, inserted] = p_.environment_index.emplace(env.name, p_.environments.size());
        if (!inserted) {
            env.duplicate = true;
            const Environment& first = p_.environments[it->second];
            const bool both_included = first.position.file != p_.files.front() && raw.file != 0;
            if (!both_included) {
                add("duplicate-environment", Severity::warning,
                    fmt::format("environment '{}' is defined twice; Meltano uses the first one",
                                env.name),
                    env.position,
                    fmt::format("the first definition is at {}:{}", first.position.file,
                                first.position.line),
                    env.name);
            }
        }
        p_.environments.push_back(std::move(env));
    };
    parse_entries(parsed.size(), raw_environments_.size() > 1 ? p_.plugins.size() : 0, parse,
                  merge);
}

void Loader::build_jobs_and_schedules() {
    std::set<std::string> job_names;
    for (const RawEntry& raw : raw_jobs_) {
        auto name = name_of(raw.node, "job", std::nullopt);
        if (!name) {
            continue;
        }
        Job job;
        job.name = *name;
        job.node = raw.node;
        job.position = position_of(raw.node);
        if (auto tasks = raw.node.find("tasks")) {
            std::vector<yaml::NodeRef> stack{*tasks};
            std::vector<std::string> reversed;
            while (!stack.empty()) {
                yaml::NodeRef n = stack.back();
                stack.pop_back();
                if (n.is_sequence()) {
                    for (std::size_t i = 0; i < n.size(); ++i) {
                        stack.push_back(n.at(i));
                    }
                } else if (n.is_scalar() && !n.is_null()) {
                    reversed.push_back(std::string(n.text()));
                }
            }
            job.tasks.assign(reversed.rbegin(), reversed.rend());
        }
        job.duplicate = !job_names.insert(job.name).second;
        p_.jobs.push_back(std::move(job));
    }
    std::set<std::string> schedule_names;
    for (const RawEntry& raw : raw_schedules_) {
        auto name = name_of(raw.node, "schedule", std::nullopt);
        if (!name) {
            continue;
        }
        Schedule s;
        s.name = *name;
        s.node = raw.node;
        s.position = position_of(raw.node);
        auto text_of = [&](std::string_view key) -> std::optional<std::string> {
            auto v = raw.node.find(key);
            if (!v || !v->is_scalar() || v->is_null()) {
                return std::nullopt;
            }
            return std::string(v->text());
        };
        s.job = text_of("job");
        s.extractor = text_of("extractor");
        s.loader = text_of("loader");
        s.transform = text_of("transform");
        s.interval = text_of("interval");
        s.duplicate = !schedule_names.insert(s.name).second;
        p_.schedules.push_back(std::move(s));
    }
}

Json parse_lock_json(const std::string& text, std::string& error, std::size_t& offset) {
    return parse_json_bounded(text, error, offset).value_or(Json());
}

std::optional<std::size_t> Loader::load_lock(PluginType type, const std::string& name,
                                             const std::optional<std::string>& variant,
                                             const Plugin& plugin) {
    const std::string dir = git::join_path(dir_, fmt::format("plugins/{}", plugin_type_name(type)));
    std::string path = git::join_path(dir, fmt::format("{}--{}.lock", name,
                                                       variant.value_or("default")));
    if (auto it = lock_cache_.find(path); it != lock_cache_.end()) {
        return it->second;
    }
    git::ReadResult read = source_.read(path, dir_);
    if (read.status != git::ReadResult::Status::ok && !variant) {
        // Without a variant Meltano asks the Hub for the default variant. Offline, the one lock
        // file committed for this plugin is the best stand-in; with several we cannot choose.
        std::vector<std::string> candidates;
        const std::string prefix = name + "--";
        for (const auto& entry : source_.list(dir)) {
            if (entry.name.size() > prefix.size() + 5 && entry.name.rfind(prefix, 0) == 0 &&
                entry.name.substr(entry.name.size() - 5) == ".lock") {
                candidates.push_back(git::join_path(dir, entry.name));
            }
        }
        if (candidates.size() == 1) {
            path = candidates.front();
            if (auto it = lock_cache_.find(path); it != lock_cache_.end()) {
                return it->second;
            }
            read = source_.read(path, dir_);
        }
    }
    if (read.status == git::ReadResult::Status::not_a_file ||
        read.status == git::ReadResult::Status::outside) {
        // Meltano finds the path and fails to read it as a file.
        const bool outside = read.status == git::ReadResult::Status::outside;
        add("lock-file-invalid", Severity::error,
            fmt::format("lock file '{}' {}", path, outside ? "leads outside the project" : "is not a file"),
            Position{path, 0, 0},
            outside ? "replace the symlink by the lock file itself ('meltano lock --update')"
                    : "remove it and regenerate the lock file with 'meltano lock --update'",
            std::nullopt, plugin.name);
        lock_cache_.emplace(path, SIZE_MAX);
        return std::nullopt;
    }
    if (read.status != git::ReadResult::Status::ok) {
        return std::nullopt;
    }
    std::string error;
    std::size_t offset = 0;
    Json json = parse_lock_json(read.data, error, offset);
    Position pos{path, 0, 0};
    if (!error.empty() || !json.is_object()) {
        if (!error.empty()) {
            line_col_of_offset(read.data, offset == 0 ? 0 : offset - 1, pos.line, pos.column);
        }
        add("lock-file-invalid", Severity::error,
            fmt::format("lock file '{}' is not a JSON plugin definition", path), pos,
            error.empty() ? "regenerate it with 'meltano lock --update'" : error, std::nullopt,
            plugin.name);
        lock_cache_.emplace(path, SIZE_MAX);
        return std::nullopt;
    }
    LockDefinition lock;
    lock.path = path;
    lock.type = type;
    lock.name = name;
    static const std::set<std::string, std::less<>> known = {
        "plugin_type", "name",        "namespace", "variant",          "label",
        "docs",        "repo",        "pip_url",   "python",           "executable",
        "description", "logo_url",    "capabilities", "settings_group_validation",
        "settings",    "commands",    "requires",  "requires_meltano", "env",
        "supported_python_versions",  "hidden",    "original",         "deprecated",
    };
    for (auto it = json.begin(); it != json.end(); ++it) {
        const std::string& key = it.key();
        const Json& v = it.value();
        const bool wrong_shape = (key == "name" && !v.is_string()) || (key == "settings" && !v.is_array());
        if (wrong_shape) {
            // Meltano fails to build the plugin definition from it.
            add("lock-file-invalid", Severity::error,
                fmt::format("lock file '{}' has '{}' that is not {}", path, key,
                            key == "name" ? "a string" : "a list"),
                pos, "regenerate it with 'meltano lock --update'", std::nullopt, plugin.name);
            continue;
        }
        if (key == "name") {
            lock.name = v.get<std::string>();
        } else if (key == "namespace") {
            lock.namespace_name = json_string(v);
        } else if (key == "variant") {
            lock.variant = json_string(v);
        } else if (key == "pip_url") {
            lock.pip_url = json_string(v);
        } else if (key == "executable") {
            lock.executable = json_string(v);
        } else if (key == "settings_group_validation") {
            lock.settings_group_validation = json_copy(v);
        } else if (key == "settings") {
            for (const auto& s : v) {
                std::vector<DefinitionProblem> problems;
                lock.settings.push_back(parse_setting(s, pos, problems));
                for (auto& pr : problems) {
                    add(pr.code == "wrong-shape" ? "lock-file-invalid" : pr.code, Severity::error,
                        fmt::format("lock file '{}': {}", path, pr.message), pos, pr.hint,
                        std::nullopt, plugin.name);
                }
            }
        } else if (known.count(key) == 0) {
            lock.extras.emplace_back(key, json_copy(v));
        }
    }
    const std::size_t index = p_.locks.size();
    p_.locks.push_back(std::move(lock));
    lock_cache_.emplace(path, index);
    return index;
}

void Loader::link_parents() {
    p_.parents.assign(p_.plugins.size(), PluginParent{});
    for (std::size_t i = 0; i < p_.plugins.size(); ++i) {
        const Plugin& plugin = p_.plugins[i];
        PluginParent& parent = p_.parents[i];
        // Mappings are mappers to Meltano: same lookups, same lock directory.
        const PluginType meltano_type =
            plugin.type == PluginType::mappings ? PluginType::mappers : plugin.type;
        const std::string& meltano_name =
            plugin.type == PluginType::mappings ? plugin.mapper : plugin.name;
        if (plugin.is_custom()) {
            parent.kind = PluginParent::Kind::custom;
            continue;
        }
        if (plugin.inherit_from && !plugin.variant) {
            auto it = p_.plugin_index.find(plugin_key(meltano_type, *plugin.inherit_from));
            if (it != p_.plugin_index.end()) {
                parent.kind = PluginParent::Kind::project_plugin;
                parent.index = it->second;
                continue;
            }
        }
        const std::string lock_name = plugin.inherit_from.value_or(meltano_name);
        auto lock = load_lock(meltano_type, lock_name, plugin.variant, plugin);
        if (lock && *lock != SIZE_MAX) {
            parent.kind = PluginParent::Kind::lock;
            parent.index = *lock;
            const LockDefinition& def = p_.locks[*lock];
            if (!plugin.variant && def.variant && plugin.type != PluginType::mappings) {
                add("lock-variant-guessed", Severity::warning,
                    fmt::format("{} '{}' sets no variant; using lock file '{}'",
                                plugin_type_singular(plugin.type), plugin.name, def.path),
                    plugin.position,
                    fmt::format("Meltano would ask Meltano Hub for the default variant: add "
                                "'variant: {}' to pin it",
                                *def.variant),
                    std::nullopt, plugin.name);
            }
            continue;
        }
        if (plugin.inherit_from) {
            parent.missing = true;  // reported by the resolver, per plugin
            continue;
        }
        if (plugin.type != PluginType::mappings && missing_locks_.insert(lock_name).second) {
            add("lock-file-missing", Severity::warning,
                fmt::format("{} '{}' has no lock file and no embedded definition",
                            plugin_type_singular(plugin.type), plugin.name),
                plugin.position,
                fmt::format("Meltano fetches its definition from Meltano Hub; run 'meltano lock "
                            "{}' and commit 'plugins/{}/' to pin its settings",
                            plugin.name, plugin_type_name(meltano_type)),
                std::nullopt, plugin.name);
        }
    }
}

void Loader::detect_cycles() {
    // 0 = unvisited, 1 = on the current walk, 2 = done. Iterative: chains can be long.
    std::vector<std::uint8_t> state(p_.plugins.size(), 0);
    for (std::size_t start = 0; start < p_.plugins.size(); ++start) {
        if (state[start] != 0) {
            continue;
        }
        std::vector<std::size_t> path;
        std::size_t cur = start;
        bool cyclic = false;
        while (true) {
            if (state[cur] == 1) {
                cyclic = true;
                // The walk entered the cycle at `cur`: it and what follows on the path are on it.
                for (auto it = std::find(path.begin(), path.end(), cur); it != path.end(); ++it) {
                    p_.parents[*it].on_cycle = true;
                }
                break;
            }
            if (state[cur] == 2) {
                cyclic = p_.parents[cur].cycle;
                break;
            }
            state[cur] = 1;
            path.push_back(cur);
            const PluginParent& parent = p_.parents[cur];
            if (parent.kind != PluginParent::Kind::project_plugin) {
                break;
            }
            cur = parent.index;
        }
        for (std::size_t i : path) {
            state[i] = 2;
            p_.parents[i].cycle = cyclic;
        }
    }
}

}  // namespace

LoadResult load_project(const git::FileSource& source, const std::string& project_dir) {
    LoadResult result;
    auto project = std::make_shared<Project>();
    std::string dir = project_dir;
    while (!dir.empty() && dir.back() == '/') {
        dir.pop_back();
    }
    if (dir == ".") {
        dir.clear();
    }
    Loader loader(source, dir, *project, result.diagnostics);
    if (loader.run()) {
        result.project = std::move(project);
    }
    return result;
}

}  // namespace dataops::meltano
