#include <dataops/meltano/prepare.hpp>

#include <algorithm>
#include <type_traits>
#include <unordered_set>

#include <fmt/format.h>

#include <dataops/util/parallel.hpp>

namespace dataops::meltano::detail {
namespace {

/// Flatten a JSON object (the synthetic extras of mappings and lock defaults).
void flatten_json_into(FlatConfig& out, const std::string& key, const Json& value,
                       const Position& pos) {
    std::vector<std::pair<std::string, const Json*>> stack{{key, &value}};
    while (!stack.empty()) {
        auto [k, v] = std::move(stack.back());
        stack.pop_back();
        if (v->is_object() && !v->empty()) {
            std::vector<std::pair<std::string, const Json*>> children;
            for (auto it = v->begin(); it != v->end(); ++it) {
                children.emplace_back(k + "." + it.key(), &it.value());
            }
            stack.insert(stack.end(), children.rbegin(), children.rend());
        } else {
            out.put(k, json_copy(*v), pos);
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Meltano's built-in extras (EXTRA_SETTINGS of each plugin class)

SettingDefinition extra_def(std::string name, SettingKind kind, Json value,
                            std::vector<std::string> aliases = {},
                            std::optional<std::string> processor = std::nullopt) {
    SettingDefinition d;
    d.name = std::move(name);
    d.kind = kind;
    d.value = std::move(value);
    d.aliases = std::move(aliases);
    d.value_processor = std::move(processor);
    return d;
}

const std::vector<SettingDefinition>& builtin_extras(PluginType type, std::string_view base_name) {
    static const std::vector<SettingDefinition> none;
    static const std::vector<SettingDefinition> tap = {
        extra_def("_log_parser", SettingKind::none, "singer-sdk"),
        extra_def("_catalog", SettingKind::none, nullptr),
        extra_def("_state", SettingKind::none, nullptr),
        extra_def("_load_schema", SettingKind::none, "$MELTANO_EXTRACTOR_NAMESPACE"),
        extra_def("_select", SettingKind::array, Json::array({"*.*"})),
        extra_def("_metadata", SettingKind::object, Json::object(), {"metadata"}, "nest_object"),
        extra_def("_schema", SettingKind::object, Json::object(), {}, "nest_object"),
        extra_def("_select_filter", SettingKind::array, Json::array()),
        extra_def("_use_cached_catalog", SettingKind::boolean, true),
    };
    static const std::vector<SettingDefinition> target = {
        extra_def("_log_parser", SettingKind::none, "singer-sdk"),
        extra_def("_dialect", SettingKind::none, "$MELTANO_LOADER_NAMESPACE"),
    };
    static const std::vector<SettingDefinition> mapper = {
        extra_def("_log_parser", SettingKind::none, "singer-sdk"),
        extra_def("_mappings", SettingKind::array, Json::object(), {"mappings"}),
        extra_def("_mapping_name", SettingKind::string, nullptr, {"mapping_name"}),
    };
    static const std::vector<SettingDefinition> dbt_transform = {
        extra_def("_package_name", SettingKind::none, "$MELTANO_TRANSFORM_NAMESPACE"),
        extra_def("_vars", SettingKind::object, Json::object()),
    };
    static const std::vector<SettingDefinition> file = {
        extra_def("_update", SettingKind::object, Json::object(), {"update"}),
    };
    static const std::vector<SettingDefinition> superset = {
        extra_def("_config_path", SettingKind::none, nullptr),
    };
    switch (type) {
    case PluginType::extractors:
        return tap;
    case PluginType::loaders:
        return target;
    case PluginType::transforms:
        return dbt_transform;
    case PluginType::files:
        return file;
    case PluginType::mappers:
    case PluginType::mappings:
        return mapper;
    case PluginType::utilities:
        return base_name == "superset" ? superset : none;
    default:
        return none;
    }
}

/// Whether a name repeats one already kept. A long `inherit_from` chain gives every setting one
/// name per ancestor, so past a few names the check uses a set instead of a scan (which made
/// preparing a 3,000-plugin chain cubic). The set keeps views of the kept names: they must not
/// move while it is in use.
class RepeatCheck {
public:
    /// True when `candidate` equals one of kept[0, n); otherwise `candidate`, which must be where
    /// it stays from now on (kept[n]), is remembered.
    bool repeats(std::string_view candidate, const std::string* kept, std::size_t n) {
        if (n < 16) {
            return std::find(kept, kept + n, candidate) != kept + n;
        }
        if (seen_.empty()) {
            seen_.insert(kept, kept + n);
        }
        return !seen_.insert(candidate).second;
    }

private:
    std::unordered_set<std::string_view> seen_;
};

/// Appends names not already in `out`. `out` must have capacity for every name pushed (see
/// RepeatCheck).
class UniqueNames {
public:
    explicit UniqueNames(std::vector<std::string>& out) : out_(out) {}
    void push(std::string name) {
        out_.push_back(std::move(name));
        if (check_.repeats(out_.back(), out_.data(), out_.size() - 1)) {
            out_.pop_back();
        }
    }

private:
    std::vector<std::string>& out_;
    RepeatCheck check_;
};

std::vector<std::string> uniques(std::vector<std::string> in) {
    std::vector<std::string> out;
    out.reserve(in.size());
    UniqueNames names(out);
    for (auto& s : in) {
        names.push(std::move(s));
    }
    return out;
}

std::string dashes_to_underscores(std::string s) {
    std::replace(s.begin(), s.end(), '-', '_');
    return s;
}

/// The definitions' names, sorted (for std::binary_search).
template <typename Definitions>
std::vector<std::string_view> sorted_names(const Definitions& defs) {
    std::vector<std::string_view> names;
    names.reserve(defs.size());
    for (const auto& d : defs) {
        if constexpr (std::is_pointer_v<std::decay_t<decltype(d)>>) {
            names.emplace_back(d->name);
        } else {
            names.emplace_back(d.name);
        }
    }
    std::sort(names.begin(), names.end());
    return names;
}

/// SettingDefinition.from_missing: a custom definition for every flat key not already named.
void add_missing(std::vector<const SettingDefinition*>& defs, const FlatConfig& flat,
                 OwnedDefinitions& owned, bool custom, bool with_default) {
    if (flat.entries.empty()) {
        return;  // (a plugin with no lock file has no defaults: most of them)
    }
    // Sorted names, not a hash map: a node per definition was some 20 allocations per plugin.
    const std::vector<std::string_view> names = sorted_names(defs);
    defs.reserve(defs.size() + flat.entries.size());
    for (const auto& e : flat.entries) {
        if (std::binary_search(names.begin(), names.end(), std::string_view(e.key))) {
            continue;
        }
        SettingDefinition d;
        d.name = e.key;
        d.kind = kind_of_value(e.value);
        d.custom = custom;
        if (with_default) {
            d.value = e.value;
        }
        d.position = e.position;
        owned.push_back(std::make_unique<SettingDefinition>(std::move(d)));
        defs.push_back(owned.back().get());
    }
}

/// Whether join_env_var puts a '_' between the prefix and the name.
bool joined_with_separator(std::string_view converted_prefix, std::string_view name) {
    return !converted_prefix.empty() && !name.empty();
}

/// to_env_var(prefix, name) from the prefix already converted (to_env_var(prefix, "")):
/// converting each prefix once per plugin rather than once per setting and prefix.
std::string join_env_var(const std::string& converted_prefix, std::string_view name,
                         std::string_view converted_name) {
    std::string out;
    out.reserve(converted_prefix.size() + converted_name.size() + 1);
    out += converted_prefix;
    if (joined_with_separator(converted_prefix, name)) {
        out += '_';
    }
    out += converted_name;
    return out;
}

/// Whether Meltano writes an env alias as well as reading it (a `!` alias is read negated).
bool written_alias(std::string_view alias) { return alias.empty() || alias.front() != '!'; }

void prepare_one(const Project& project, PreparedProject& prep, std::size_t i) {
    PreparedPlugin& pp = prep.plugins[i];
    const Plugin& plugin = project.plugins[i];
    const PluginParent& link = project.parents[i];
    pp.index = i;
    pp.meltano_type = plugin.type == PluginType::mappings ? PluginType::mappers : plugin.type;
    pp.meltano_name = plugin.type == PluginType::mappings ? plugin.mapper : plugin.name;
    pp.shadowing = !plugin.inherit_from.has_value();

    const PreparedPlugin* parent = nullptr;
    if (link.cycle) {
        pp.diagnostics.push_back(plugin_diagnostic(
            "inherit-cycle",
            link.on_cycle ? fmt::format("{} '{}' inherits from itself through 'inherit_from'",
                                        plugin_type_singular(plugin.type), plugin.name)
                          : fmt::format("{} '{}' inherits from '{}', which leads into an 'inherit_from' cycle",
                                        plugin_type_singular(plugin.type), plugin.name,
                                        plugin.inherit_from.value_or("")),
            key_position(plugin.node, "inherit_from").value_or(plugin.position),
            "Meltano fails with a RecursionError: break the 'inherit_from' cycle", plugin.name));
    } else if (link.missing) {
        Diagnostic missing = plugin_diagnostic(
            "inherit-from-missing",
            fmt::format("{} '{}' inherits from '{}', which is neither a plugin nor a lock file",
                        plugin_type_singular(plugin.type), plugin.name,
                        plugin.inherit_from.value_or("")),
            key_position(plugin.node, "inherit_from").value_or(plugin.position),
            fmt::format("define {} '{}' in the project, or lock its definition with 'meltano lock'",
                        plugin_type_singular(plugin.type), plugin.inherit_from.value_or("")),
            plugin.name);
        // Meltano then asks Meltano Hub for a definition of that name, which cannot be checked
        // offline: a warning. A project plugin of another type by that name is an error: Meltano
        // inherits within a type only, so the Hub is asked for the wrong plugin.
        const bool other_type = std::any_of(project.plugins.begin(), project.plugins.end(), [&](const Plugin& p) {
            return p.name == *plugin.inherit_from && p.type != PluginType::mappings && p.type != pp.meltano_type;
        });
        if (!other_type) {
            missing.severity = Severity::warning;
        }
        pp.diagnostics.push_back(std::move(missing));
    } else if (link.kind == PluginParent::Kind::project_plugin) {
        parent = &prep.plugins[link.index];
        pp.parent = static_cast<int>(link.index);
    }

    const LockDefinition* lock =
        link.kind == PluginParent::Kind::lock && !link.cycle ? &project.locks[link.index] : nullptr;

    // Namespace and variant, with Meltano's fallbacks and defaults.
    if (plugin.namespace_name) {
        pp.namespace_name = *plugin.namespace_name;
    } else if (plugin.inherit_from) {
        pp.namespace_name = dashes_to_underscores(pp.meltano_name);
    } else if (lock && lock->namespace_name) {
        pp.namespace_name = *lock->namespace_name;
    } else if (parent) {
        pp.namespace_name = parent->namespace_name;
    } else {
        // No definition at hand (Meltano would ask the Hub): Hub namespaces are the name with
        // underscores, which is the best stand-in.
        pp.namespace_name = dashes_to_underscores(pp.meltano_name);
    }
    if (plugin.variant) {
        pp.variant = *plugin.variant;
    } else if (parent) {
        pp.variant = parent->variant;
    } else if (lock && lock->variant) {
        pp.variant = *lock->variant;
    } else {
        pp.variant = "default";
    }

    // Setting definitions: the parent's (project plugin or base plugin), own settings override
    // by name, then custom definitions for configured keys nothing defines.
    std::vector<const SettingDefinition*> base_all;
    std::vector<const SettingDefinition*> base_extra;
    std::vector<std::string> root_write_prefixes;  ///< the base plugin's, for a chain's root
    if (parent) {
        base_all = parent->all_settings;
        base_extra = parent->extra_settings;
    } else {
        std::string base_name = pp.meltano_name;
        std::vector<std::pair<std::string, Json>> base_defaults;
        if (lock) {
            base_all.reserve(lock->settings.size());
            for (const auto& s : lock->settings) {
                base_all.push_back(&s);
            }
            base_name = lock->name;
            base_defaults = lock->extras;
            root_write_prefixes = {lock->name, lock->namespace_name.value_or("")};
        } else if (link.kind == PluginParent::Kind::custom && !link.cycle) {
            base_all.reserve(plugin.settings.size());
            for (const auto& s : plugin.settings) {
                base_all.push_back(&s);
            }
            root_write_prefixes = {pp.meltano_name, pp.namespace_name};
        }
        // BasePlugin.extra_settings: the class's extras with the definition's defaults, plus a
        // definition (with its default) for every flattened default nothing else names.
        FlatConfig defaults;
        for (const auto& [key, value] : base_defaults) {
            flatten_json_into(defaults, "_" + key, value, Position{lock ? lock->path : "", 0, 0});
        }
        const auto& builtins = builtin_extras(pp.meltano_type, base_name);
        base_extra.reserve(builtins.size());
        for (const auto& builtin : builtins) {
            auto found = std::find_if(base_defaults.begin(), base_defaults.end(),
                                      [&](const auto& kv) { return "_" + kv.first == builtin.name; });
            if (found != base_defaults.end() && !found->second.is_null()) {
                SettingDefinition copy = builtin;
                copy.value = json_copy(found->second);
                pp.owned.push_back(std::make_unique<SettingDefinition>(std::move(copy)));
                base_extra.push_back(pp.owned.back().get());
            } else {
                base_extra.push_back(&builtin);
            }
        }
        add_missing(base_extra, defaults, pp.owned, false, true);
    }
    {
        const std::vector<std::string_view> own = sorted_names(plugin.settings);
        pp.all_settings.reserve(base_all.size() + plugin.settings.size());
        for (const auto* d : base_all) {
            if (!std::binary_search(own.begin(), own.end(), std::string_view(d->name))) {
                pp.all_settings.push_back(d);
            }
        }
        for (const auto& s : plugin.settings) {
            pp.all_settings.push_back(&s);
        }
    }
    auto bad_key = [&](const yaml::NodeRef& k) {
        pp.diagnostics.push_back(plugin_diagnostic(
            "non-string-key",
            fmt::format("plugin '{}' has a configuration key '{}' that is not a string",
                        plugin.name, key_words(k)),
            position_of(k), "quote the key: Meltano fails on non-string keys", plugin.name));
    };
    FlatConfig config_flat;
    flatten_into(config_flat, plugin.config, "", bad_key);
    FlatConfig extra_flat;
    for (const auto& extra : plugin.extras) {
        if (extra.value.is_mapping() && extra.value.size() > 0) {
            FlatConfig tmp;
            flatten_into(tmp, extra.value, "", bad_key);
            for (auto& e : tmp.entries) {
                extra_flat.put("_" + extra.key + "." + e.key, std::move(e.value),
                               std::move(e.position));
            }
        } else {
            extra_flat.put("_" + extra.key, yaml_to_json(extra.value), position_of(extra.value));
        }
    }
    for (const auto& [key, value] : plugin.synthetic_extras) {
        flatten_json_into(extra_flat, "_" + key, value, plugin.position);
    }
    add_missing(pp.all_settings, config_flat, pp.owned, true, false);
    pp.extra_settings = base_extra;
    add_missing(pp.extra_settings, extra_flat, pp.owned, true, false);
    pp.defs.reserve(pp.all_settings.size() + pp.extra_settings.size());
    pp.defs = pp.all_settings;
    pp.defs.insert(pp.defs.end(), pp.extra_settings.begin(), pp.extra_settings.end());

    // config_with_extras = {**config, **extra_config}, flattened.
    pp.yml = std::move(config_flat);
    for (auto& e : extra_flat.entries) {
        pp.yml.put(e.key, std::move(e.value), std::move(e.position));
    }

    for (const auto& p : uniques({pp.meltano_name, pp.namespace_name})) {
        pp.read_prefix_vars.push_back(to_env_var(p, ""));
    }
    std::vector<std::string> wp{pp.meltano_name, pp.namespace_name};
    wp.insert(wp.end(), root_write_prefixes.begin(), root_write_prefixes.end());
    for (const auto& p : uniques(std::move(wp))) {
        if (!p.empty()) {
            pp.own_write_prefix_vars.push_back(to_env_var(p, ""));
        }
    }
    pp.verb_prefix_var = to_env_var(fmt::format("meltano_{}", plugin_type_verb(pp.meltano_type)), "");

    {
        std::vector<std::string> read;
        pp.by_name.reserve(pp.defs.size());
        for (std::size_t d = 0; d < pp.defs.size(); ++d) {
            const std::size_t count = compute_read_names(pp, *pp.defs[d], read);
            pp.env_names.add(std::span<const std::string>(read).first(count));
            pp.by_name.add(pp.defs[d]->name, static_cast<std::uint32_t>(d));
        }
        pp.by_name.finish();
        pp.env_names.finish();
    }
    pp.sorted.resize(pp.defs.size());
    for (std::size_t d = 0; d < pp.defs.size(); ++d) {
        pp.sorted[d] = static_cast<std::uint32_t>(d);
    }
    std::sort(pp.sorted.begin(), pp.sorted.end(),
              [&](std::uint32_t a, std::uint32_t b) { return pp.defs[a]->name < pp.defs[b]->name; });

    pp.yml_first.assign(pp.defs.size(), -1);
    pp.yml_conflict.assign(pp.defs.size(), -1);
    pp.read_hash_begin.reserve(pp.defs.size() + 1);
    pp.read_hashes.reserve(pp.env_names.total());
    pp.sub_defs.resize(pp.defs.size());
    for (std::size_t d = 0; d < pp.defs.size(); ++d) {
        const SettingDefinition& def = *pp.defs[d];
        const auto index_of = [&](std::string_view key) -> std::int32_t {
            return static_cast<std::int32_t>(pp.yml.find_index(key));
        };
        std::int32_t first = index_of(def.name);
        std::int32_t conflict = -1;
        for (const auto& alias : def.aliases) {
            const std::int32_t v = index_of(alias);
            if (v < 0) {
                continue;
            }
            if (first < 0) {
                first = v;
            } else if (conflict < 0 && !json_equal(pp.yml.entries[static_cast<std::size_t>(v)].value,
                                                   pp.yml.entries[static_cast<std::size_t>(first)].value)) {
                conflict = v;
            }
        }
        pp.yml_first[d] = first;
        pp.yml_conflict[d] = conflict;
        pp.read_hash_begin.push_back(static_cast<std::uint32_t>(pp.read_hashes.size()));
        for (const std::string_view n : pp.env_names[d]) {
            const std::string_view key = !n.empty() && n.front() == '!' ? n.substr(1) : n;
            pp.read_hashes.push_back(std::hash<std::string_view>{}(key));
        }
        if (def.kind == SettingKind::object) {
            std::vector<std::string> keys{def.name};
            keys.insert(keys.end(), def.aliases.begin(), def.aliases.end());
            for (const auto& key : keys) {
                const std::string prefix = key + ".";
                std::vector<std::uint32_t> matches;
                auto it = std::lower_bound(pp.sorted.begin(), pp.sorted.end(), prefix,
                                           [&](std::uint32_t a, const std::string& p) {
                                               return pp.defs[a]->name < p;
                                           });
                for (; it != pp.sorted.end() &&
                       pp.defs[*it]->name.compare(0, prefix.size(), prefix) == 0;
                     ++it) {
                    matches.push_back(*it);
                }
                std::sort(matches.begin(), matches.end());
                pp.sub_defs[d].push_back(std::move(matches));
            }
        }
    }
    pp.read_hash_begin.push_back(static_cast<std::uint32_t>(pp.read_hashes.size()));
    pp.plugin_env = env_list(plugin.env, false);

    const std::string singular = to_env_var("meltano", plugin_type_singular(pp.meltano_type));
    pp.info_env = {
        {singular + "_NAME", EnvVal{pp.meltano_name, {}}},
        {singular + "_NAMESPACE", EnvVal{pp.namespace_name, {}}},
        {singular + "_VARIANT", EnvVal{pp.variant, {}}},
    };
    pp.prepared = true;
}

}  // namespace

SettingKind kind_of_value(const Json& value) {
    switch (value.type()) {
    case Json::value_t::boolean:
        return SettingKind::boolean;
    case Json::value_t::number_integer:
    case Json::value_t::number_unsigned:
        return SettingKind::integer;
    case Json::value_t::number_float:
        return SettingKind::decimal;
    case Json::value_t::object:
        return SettingKind::object;
    case Json::value_t::array:
        return SettingKind::array;
    default:
        return SettingKind::none;
    }
}

/// ProjectPlugin.env_prefixes(for_writing=True), converted to variable prefixes: the plugin's
/// name and namespace, then its parent's prefixes (recursively), then MELTANO_<VERB>, without
/// repeats. Built on request by walking the chain: on a chain of n plugins it has n entries.
std::vector<std::string> write_prefix_vars(const PreparedProject& prep, std::size_t index) {
    std::vector<const PreparedPlugin*> chain;
    for (int cur = static_cast<int>(index); cur >= 0;
         cur = prep.plugins[static_cast<std::size_t>(cur)].parent) {
        chain.push_back(&prep.plugins[static_cast<std::size_t>(cur)]);
    }
    std::vector<std::string> all;
    for (const auto* pp : chain) {
        all.insert(all.end(), pp->own_write_prefix_vars.begin(), pp->own_write_prefix_vars.end());
    }
    for (auto it = chain.rbegin(); it != chain.rend(); ++it) {
        all.push_back((*it)->verb_prefix_var);
    }
    return uniques(std::move(all));
}

std::string_view key_words(const yaml::NodeRef& key) {
    return key.is_null() ? std::string_view("null") : key.text();
}

Diagnostic plugin_diagnostic(std::string code, std::string message, const Position& pos,
                             std::string hint, const std::string& plugin,
                             const std::optional<std::string>& environment) {
    Diagnostic d;
    d.code = std::move(code);
    d.severity = Severity::error;
    d.message = std::move(message);
    d.file = pos.file;
    d.line = pos.line;
    d.column = pos.column;
    d.plugin = plugin;
    d.environment = environment;
    d.hint = std::move(hint);
    return d;
}

std::size_t compute_read_names(const PreparedPlugin& pp, const SettingDefinition& def,
                               std::vector<std::string>& read) {
    // Same names, in the same first-occurrence order, as collecting every candidate and
    // dropping repeats; built without the intermediate lists. Every candidate is written into
    // read[n] and kept (n advanced) unless it repeats one of read[0, n).
    const std::size_t most = pp.read_prefix_vars.size() * (1 + def.aliases.size()) +
                             (pp.shadowing ? def.env_aliases.size() : 0);
    if (read.size() < most) {
        read.resize(most);  // before any view of an element is taken
    }
    std::size_t n = 0;
    RepeatCheck check;
    const auto keep = [&] {
        if (!check.repeats(read[n], read.data(), n)) {
            ++n;
        }
    };
    const auto push_joined = [&](const std::string& prefix, std::string_view key,
                                 std::string_view converted) {
        std::string& out = read[n];
        out.assign(prefix);
        if (joined_with_separator(prefix, key)) {
            out += '_';
        }
        out += converted;
        keep();
    };
    const std::string name = to_env_var("", def.name);
    for (const auto& p : pp.read_prefix_vars) {
        push_joined(p, def.name, name);
    }
    for (const auto& alias : def.aliases) {
        const std::string converted = to_env_var("", alias);
        for (const auto& p : pp.read_prefix_vars) {
            push_joined(p, alias, converted);
        }
    }
    if (pp.shadowing) {
        for (const auto& alias : def.env_aliases) {
            read[n].assign(alias);
            keep();
        }
    }
    return n;
}

/// The variables Meltano writes a setting to (ProjectPlugin.env_prefixes(for_writing=True)):
/// the setting's own `env:`, every write prefix joined with its name, its env aliases.
std::vector<std::string> compute_write_names(const std::vector<std::string>& prefix_vars,
                                             const SettingDefinition& def) {
    std::vector<std::string> write;
    write.reserve(1 + prefix_vars.size() + def.env_aliases.size());
    UniqueNames writes(write);
    if (def.env) {
        writes.push(*def.env);
    }
    const std::string name = to_env_var("", def.name);
    for (const auto& p : prefix_vars) {
        writes.push(join_env_var(p, def.name, name));
    }
    for (const auto& alias : def.env_aliases) {
        if (written_alias(alias)) {
            writes.push(alias);
        }
    }
    return write;
}

namespace {

/// The setting's own `env:` or one of its written env aliases is `name`.
bool writes_name_itself(const SettingDefinition& def, std::string_view name) {
    if (def.env && *def.env == name) {
        return true;
    }
    return std::any_of(
        def.env_aliases.begin(), def.env_aliases.end(),
        [&](const std::string& alias) { return alias == name && written_alias(alias); });
}

}  // namespace

bool writes_name(const std::vector<std::string>& prefix_vars, const SettingDefinition& def,
                 std::string_view name) {
    if (writes_name_itself(def, name)) {
        return true;
    }
    // join_env_var(p, def.name, converted) == name, without building anything.
    return std::any_of(prefix_vars.begin(), prefix_vars.end(), [&](const std::string& p) {
        const std::size_t sep = joined_with_separator(p, def.name) ? 1 : 0;
        return name.size() >= p.size() + sep && name.starts_with(p) &&
               (sep == 0 || name[p.size()] == '_') &&
               is_env_var_of(name.substr(p.size() + sep), def.name);
    });
}

NameWriters::NameWriters(const std::vector<std::string>& prefix_vars, std::string_view name)
    : prefix_vars_(prefix_vars), name_(name) {
    // A prefix that writes_name can match: the name is the prefix, or the prefix and '_' start
    // it (an empty prefix, or a setting without a name, joins without the '_'; then the rest
    // must still convert from the setting's name, which an empty rest does only for the prefix
    // itself).
    by_prefix_ = std::any_of(prefix_vars.begin(), prefix_vars.end(), [&](const std::string& p) {
        return name.starts_with(p) &&
               (p.empty() || name.size() == p.size() || name[p.size()] == '_');
    });
}

bool NameWriters::writes(const SettingDefinition& def) const {
    return by_prefix_ ? writes_name(prefix_vars_, def, name_) : writes_name_itself(def, name_);
}

std::shared_ptr<const PreparedProject> prepare(const Project& project) {
    auto prep = std::make_shared<PreparedProject>();
    const std::size_t n = project.plugins.size();
    prep->plugins.resize(n);
    // A plugin is prepared after its project-plugin parent: by depth in the `inherit_from`
    // chains (found iteratively, a chain can be as long as the project), each depth's plugins
    // side by side. Cycles are broken where the loader flagged them.
    constexpr std::size_t unknown = static_cast<std::size_t>(-1);
    constexpr std::size_t visiting = unknown - 1;
    std::vector<std::size_t> depth(n, unknown);
    std::vector<std::vector<std::size_t>> levels;
    for (std::size_t start = 0; start < n; ++start) {
        std::vector<std::size_t> chain;
        std::size_t base = 0;
        for (std::size_t cur = start;;) {
            if (depth[cur] == visiting) {
                break;  // defensive: the loader flags every cycle
            }
            if (depth[cur] != unknown) {
                base = depth[cur] + 1;
                break;
            }
            chain.push_back(cur);
            depth[cur] = visiting;
            const PluginParent& link = project.parents[cur];
            if (link.cycle || link.kind != PluginParent::Kind::project_plugin) {
                break;
            }
            cur = link.index;
        }
        std::size_t d = base;
        for (auto it = chain.rbegin(); it != chain.rend(); ++it, ++d) {
            depth[*it] = d;
            if (levels.size() <= d) {
                levels.resize(d + 1);
            }
            levels[d].push_back(*it);
        }
    }
    // A plugin takes some 13 µs to prepare: a second thread pays off from a few dozen on.
    constexpr std::size_t min_plugins_per_thread = 32;
    for (const auto& level : levels) {
        const std::size_t threads =
            std::min(util::hardware_threads(),
                     std::max<std::size_t>(1, level.size() / min_plugins_per_thread));
        util::parallel_for(level.size(), threads,
                           [&](std::size_t k) { prepare_one(project, *prep, level[k]); });
    }
    // Without repeats: every plugin of a type has the same three MELTANO_<TYPE>_* names, and
    // the set built from these is probed for every setting in every resolution (sized by
    // them, 2,000 plugins made it 512 KiB for some 15 names, and every probe a cache miss).
    std::unordered_set<std::string_view> seen;
    for (std::size_t i = 0; i < n; ++i) {
        for (const auto& e : project.plugins[i].env) {
            if (seen.insert(e.name).second) {
                prep->layer_names.push_back(e.name);
            }
        }
        for (const auto& [name, value] : prep->plugins[i].info_env) {
            if (seen.insert(name).second) {
                prep->layer_names.push_back(name);
            }
        }
    }
    return prep;
}

EnvList env_list(const std::vector<EnvEntry>& entries, bool stringify) {
    EnvList out;
    out.reserve(entries.size());
    for (const auto& e : entries) {
        Json v = yaml_to_json(e.value);
        if (stringify && !v.is_null()) {
            // MeltanoFile.load_env: str(value) for the top-level block.
            std::string s = python_str(v);
            if (e.value.kind() == yaml::Kind::timestamp) {
                std::replace(s.begin(), s.end(), 'T', ' ');
            }
            v = std::move(s);
        }
        out.emplace_back(e.name, EnvVal{std::move(v), e.position});
    }
    return out;
}

}  // namespace dataops::meltano::detail
