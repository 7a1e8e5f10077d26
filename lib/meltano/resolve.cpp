#include <dataops/meltano/resolve.hpp>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <span>
#include <unordered_map>
#include <unordered_set>

#include <fmt/format.h>
#include <boost/container/small_vector.hpp>

#include <dataops/meltano/prepare.hpp>
#include <dataops/meltano/values.hpp>
#include <dataops/util/strings.hpp>

namespace dataops::meltano {

using Json = nlohmann::ordered_json;

std::string_view source_name(Source source) {
    switch (source) {
    case Source::env:
        return "env";
    case Source::dotenv:
        return "dotenv";
    case Source::meltano_environment:
        return "meltano_environment";
    case Source::meltano_yml:
        return "meltano_yml";
    case Source::inherited:
        return "inherited";
    case Source::default_:
        return "default";
    }
    return "";
}

const ResolvedSetting* ResolvedPlugin::find(std::string_view setting) const {
    for (const auto& s : settings) {
        if (s.name == setting) {
            return &s;
        }
    }
    return nullptr;
}

const ResolvedPlugin* Resolution::find(PluginType type, std::string_view plugin_name) const {
    for (const auto& p : plugins) {
        if (p.type == type && p.name == plugin_name) {
            return &p;
        }
    }
    return nullptr;
}

namespace {

using namespace detail;

// ---------------------------------------------------------------------------------------------
// Resolution for one environment

const EnvVal* find_in(const EnvList& list, std::string_view name) {
    for (auto it = list.rbegin(); it != list.rend(); ++it) {
        if (it->first == name) {
            return &it->second;
        }
    }
    return nullptr;
}

struct Shared;

struct Ctx {
    const Shared* shared = nullptr;
    const PreparedPlugin* pp = nullptr;
    /// The plugin's shared results (see Fixed), or nullptr.
    const std::vector<std::optional<Fixed>>* fixed = nullptr;
    /// With shared results: Shared::marks and FixedResults::plain from this plugin's first def
    /// on, else nullptr.
    const char* marks = nullptr;
    const std::uint8_t* plain = nullptr;
    const Plugin* plugin = nullptr;
    Ctx* parent = nullptr;
    const EnvironmentPluginConfig* env_cfg = nullptr;
    FlatConfig env_flat;
    std::deque<SettingDefinition>* orphan_store = nullptr;
    std::vector<const SettingDefinition*> orphan_defs;
    std::vector<const NameLists*> orphan_names;  ///< list 0: the variables it is read from
    std::unordered_map<std::string_view, std::uint32_t> orphan_by_name;
    /// Parallel to the prepared defs when the environment configures the plugin: 1 where a key
    /// of env_flat is the def's name.
    std::vector<char> env_named;

    std::size_t size() const { return pp->defs.size() + orphan_defs.size(); }
    const SettingDefinition* def(std::size_t i) const {
        return i < pp->defs.size() ? pp->defs[i] : orphan_defs[i - pp->defs.size()];
    }
    std::span<const std::string_view> reads(std::size_t i) const {
        return i < pp->defs.size() ? pp->env_names[i] : (*orphan_names[i - pp->defs.size()])[0];
    }
    /// The plugin's write_prefix_vars, built on first use.
    const std::vector<std::string>& write_prefixes() {
        if (!write_prefixes_) {
            write_prefixes_ = write_prefix_vars(*prepared, pp->index);
        }
        return *write_prefixes_;
    }
    const PreparedProject* prepared = nullptr;
    std::optional<std::vector<std::string>> write_prefixes_;
    const EnvList* plugin_env = nullptr;     ///< the prepared plugin's
    /// The environment's `env:`: shared by every plugin when it references no variable, else
    /// `own_env_level`, expanded against this plugin's variables.
    const EnvList* env_level_env = nullptr;
    EnvList own_env_level;
    EnvList env_plugin_env;
    std::shared_ptr<const EnvMap> inherited_env;  ///< ancestors' plugin-specific variables
    std::vector<std::optional<Result>> noexp;
    std::vector<std::optional<Result>> full;
    /// The resolution's emptied memo vectors, which the next plugins' get() reuses: one
    /// allocation fewer per plugin and environment.
    std::vector<std::vector<std::optional<Result>>>* spare_memos = nullptr;
    Diagnostics diagnostics;
    std::set<std::string> reported;

    /// Frees the intermediate results once the plugin's settings are out and no child plugin
    /// can ask for them: without this, a resolution holds every plugin's results twice at its
    /// end (a tenth of `env show`'s memory on a 2,000-plugin project). The memo vectors go back
    /// to spare_memos, emptied.
    void release() {
        recycle(noexp);
        recycle(full);
        env_flat = FlatConfig();
        EnvList().swap(own_env_level);
        EnvList().swap(env_plugin_env);
        inherited_env.reset();
        reported.clear();
    }
    void recycle(std::vector<std::optional<Result>>& memo) {
        if (memo.capacity() == 0) {
            return;
        }
        memo.clear();
        if (spare_memos != nullptr) {
            spare_memos->push_back(std::move(memo));
        }
        std::vector<std::optional<Result>>().swap(memo);
    }
};

/// A set of variable names probed with precomputed hashes (open addressing, never shrinks).
class NameSet {
public:
    void reserve(std::size_t n) {
        std::size_t cap = 16;
        while (cap < n * 2) {
            cap *= 2;
        }
        slots_.assign(cap, Slot{});
        mask_ = cap - 1;
    }
    void insert(std::string_view name) {
        if ((size_ + 1) * 2 > slots_.size()) {
            grow();
        }
        place(std::hash<std::string_view>{}(name), name);
    }
    /// The name is asked for only when a hash matches (the caller's names may be cold).
    template <typename NameOf>
    bool contains(std::size_t hash, const NameOf& name_of) const {
        if (slots_.empty()) {
            return false;
        }
        for (std::size_t i = hash & mask_;; i = (i + 1) & mask_) {
            const Slot& slot = slots_[i];
            if (!slot.used) {
                return false;
            }
            if (slot.hash == hash && slot.name == name_of()) {
                return true;
            }
        }
    }

private:
    struct Slot {
        std::size_t hash = 0;
        std::string_view name;
        bool used = false;
    };
    void place(std::size_t hash, std::string_view name) {
        for (std::size_t i = hash & mask_;; i = (i + 1) & mask_) {
            Slot& slot = slots_[i];
            if (!slot.used) {
                slot = Slot{hash, name, true};
                ++size_;
                return;
            }
            if (slot.hash == hash && slot.name == name) {
                return;
            }
        }
    }
    void grow() {
        std::vector<Slot> old = std::move(slots_);
        reserve(std::max<std::size_t>(16, old.size()));
        size_ = 0;
        for (const Slot& slot : old) {
            if (slot.used) {
                place(slot.hash, slot.name);
            }
        }
    }
    std::vector<Slot> slots_;
    std::size_t mask_ = 0;
    std::size_t size_ = 0;
};

struct Shared {
    const Project* project = nullptr;
    const ResolveOptions* options = nullptr;
    const Environment* environment = nullptr;
    EnvMap project_env;  ///< as_env > top-level env > built-ins > process env
    /// Every name any variable layer (or the process env and .env, when consulted) defines: a
    /// setting none of whose variables is in here has nothing in the env and dotenv stores.
    NameSet defined;
    /// With shared results (FixedResults::def_base numbering): 1 for each def some variable of
    /// which `defined` holds.
    std::vector<char> marks;
    /// The environment's `env:` when it references no variable (the same for every plugin).
    std::optional<EnvList> shared_env_level;
    std::vector<UndefinedVariable>* undefined = nullptr;
    std::unordered_set<std::string>* undefined_seen = nullptr;
};

const EnvVal* lookup_override(const Ctx& c, std::string_view name, bool include_env_level) {
    if (include_env_level) {
        if (const EnvVal* v = find_in(c.env_plugin_env, name)) {
            return v;
        }
        if (c.env_level_env) {
            if (const EnvVal* v = find_in(*c.env_level_env, name)) {
                return v;
            }
        }
    }
    if (const EnvVal* v = find_in(*c.plugin_env, name)) {
        return v;
    }
    if (const EnvVal* v = find_in(c.pp->info_env, name)) {
        return v;
    }
    if (auto it = c.shared->project_env.find(name); it != c.shared->project_env.end()) {
        return &it->second;
    }
    if (c.inherited_env) {
        if (auto it = c.inherited_env->find(name); it != c.inherited_env->end()) {
            return &it->second;
        }
    }
    return nullptr;
}

bool keep_unexpanded(const Shared& s, std::string_view name) {
    return !s.options->project_root &&
           (name == "MELTANO_PROJECT_ROOT" || name == "MELTANO_SYS_DIR_ROOT");
}

void record_undefined(const Shared& s, const std::string& name, const Position& pos,
                      const std::optional<std::string>& plugin,
                      const std::optional<std::string>& setting) {
    std::string key;
    key.reserve(name.size() + pos.file.size() + 32 + (plugin ? plugin->size() : 0) +
                (setting ? setting->size() : 0));
    key.append(name).append(1, '\n').append(pos.file).append(1, '\n');
    key.append(std::to_string(pos.line)).append(1, '\n').append(std::to_string(pos.column));
    key.append(1, '\n').append(plugin.value_or("")).append(1, '\n').append(setting.value_or(""));
    if (s.undefined_seen->insert(key).second) {
        s.undefined->push_back(UndefinedVariable{name, plugin, setting, pos});
    }
}

/// Build the variables of a plugin's settings service (PluginSettingsService.__init__).
void build_env(Ctx& c) {
    const Shared& s = *c.shared;
    c.plugin_env = &c.pp->plugin_env;
    if (c.env_cfg) {
        c.env_plugin_env = env_list(c.env_cfg->env, false);
    }
    if (c.parent) {
        // Everything the parent's service added on top of the project's variables.
        const Ctx& p = *c.parent;
        static const EnvList no_env;
        const EnvList& p_level = p.env_level_env ? *p.env_level_env : no_env;
        if (p.plugin_env->empty() && p_level.empty() && p.env_plugin_env.empty()) {
            c.inherited_env = p.inherited_env;
        } else {
            auto merged = p.inherited_env ? std::make_shared<EnvMap>(*p.inherited_env)
                                          : std::make_shared<EnvMap>();
            for (const EnvList* layer : {p.plugin_env, &p_level, &p.env_plugin_env}) {
                for (const auto& [k, v] : *layer) {
                    (*merged)[k] = v;
                }
            }
            c.inherited_env = std::move(merged);
        }
    }
    if (s.environment && s.shared_env_level) {
        c.env_level_env = &*s.shared_env_level;
    } else if (s.environment) {
        // The environment's `env:` is expanded against everything built so far (not `.env`).
        c.env_level_env = &c.own_env_level;
        for (const auto& e : s.environment->env) {
            Json v = yaml_to_json(e.value);
            if (v.is_string() && has_reference(v.get_ref<const std::string&>())) {
                std::vector<std::string> missing;
                std::string expanded = expand_string(
                    v.get_ref<const std::string&>(),
                    [&](std::string_view name) {
                        if (const EnvVal* found = lookup_override(c, name, false)) {
                            return VariableLookup{VariableLookup::Status::found,
                                                  python_str(found->value)};
                        }
                        if (keep_unexpanded(s, name)) {
                            return VariableLookup{VariableLookup::Status::keep, {}};
                        }
                        return VariableLookup{};
                    },
                    &missing);
                for (const auto& m : missing) {
                    record_undefined(s, m, e.position, std::nullopt, std::nullopt);
                    if (s.options->strict_env_var_mode &&
                        c.reported.insert("strict-env:" + m).second) {
                        c.diagnostics.push_back(plugin_diagnostic(
                            "undefined-variable",
                            fmt::format("variable '{}' is referenced by environment '{}' but not "
                                        "set",
                                        m, s.environment->name),
                            e.position, "set the variable, or turn off strict env var mode",
                            c.plugin->name, s.environment->name));
                    }
                }
                v = std::move(expanded);
            }
            c.own_env_level.emplace_back(e.name, EnvVal{std::move(v), e.position});
        }
    }
}

std::optional<std::uint32_t> def_index(const Ctx& c, std::string_view name) {
    if (auto d = c.pp->by_name.find(name)) {
        return d;
    }
    if (auto it = c.orphan_by_name.find(name); it != c.orphan_by_name.end()) {
        return it->second;
    }
    return std::nullopt;
}

void add_diag(Ctx& c, const std::string& dedupe, Diagnostic d) {
    if (c.reported.insert(dedupe).second) {
        c.diagnostics.push_back(std::move(d));
    }
}

const Result& get(Ctx& c, std::uint32_t idx, bool expand);

/// Whether any variable a prepared def is read from is defined in some layer (or, with_env, the
/// process environment or `.env`). The common answer is no, which the precomputed hashes tell
/// without hashing or scanning a layer.
bool any_variable_defined(const Ctx& c, std::uint32_t idx) {
    if (c.marks != nullptr) {
        return c.marks[idx] != 0;
    }
    const std::uint32_t begin = c.pp->read_hash_begin[idx];
    const std::uint32_t end = c.pp->read_hash_begin[idx + 1];
    for (std::uint32_t k = begin; k < end; ++k) {
        const auto name_of = [&] {
            const std::string_view n = c.reads(idx)[k - begin];
            return !n.empty() && n.front() == '!' ? n.substr(1) : n;
        };
        if (c.shared->defined.contains(c.pp->read_hashes[k], name_of)) {
            return true;
        }
    }
    return false;
}

/// Whether the active environment's block for the plugin configures the setting (by its name or
/// an alias).
bool in_environment_config(const Ctx& c, std::uint32_t idx) {
    if (c.env_flat.entries.empty()) {
        return false;
    }
    const SettingDefinition& def = *c.def(idx);
    if (idx < c.env_named.size() ? c.env_named[idx] != 0 : c.env_flat.find(def.name) != nullptr) {
        return true;
    }
    return std::any_of(def.aliases.begin(), def.aliases.end(),
                       [&](const std::string& alias) { return c.env_flat.find(alias) != nullptr; });
}

/// Whether a def is plain (FixedResults::plain) and its shared result this resolution's: two
/// bytes decide it, without reading the result or the definition.
bool plain_applies(const Ctx& c, std::uint32_t idx) {
    return c.plain != nullptr && idx < c.pp->defs.size() && c.plain[idx] != 0 &&
           c.marks[idx] == 0 && (c.env_named.empty() || c.env_named[idx] == 0);
}

/// Whether the prepared plugin's fixed result of a def (which must exist) is this
/// resolution's: nothing the fixed result left out applies here.
bool fixed_applies(const Ctx& c, std::uint32_t idx) {
    if (c.plain[idx] != 0) {
        return plain_applies(c, idx);
    }
    const Fixed& fixed = *(*c.fixed)[idx];
    if (any_variable_defined(c, idx) || in_environment_config(c, idx)) {
        return false;
    }
    if (fixed.needs_no_orphans && !c.orphan_defs.empty()) {
        return false;
    }
    if (!fixed.depends) {
        return true;
    }
    const auto& references = fixed.depends->references;
    const auto& members = fixed.depends->members;
    return std::none_of(references.begin(), references.end(),
                        [&](const std::string& name) {
                            return find_in(c.env_plugin_env, name) != nullptr ||
                                   (c.env_level_env && find_in(*c.env_level_env, name) != nullptr);
                        }) &&
           std::all_of(members.begin(), members.end(),
                       [&](std::uint32_t m) { return fixed_applies(c, m); });
}

/// The stores, without expansion, object assembly or casting (AutoStoreManager.get).
Result raw_get(Ctx& c, std::uint32_t idx) {
    const Shared& s = *c.shared;
    const SettingDefinition& def = *c.def(idx);
    const bool prepared_def = idx < c.pp->defs.size();
    Result r;
    // ENV, then DOTENV: every name Meltano reads; two set at once is an error. Nothing is
    // allocated unless a variable is found: this runs for every setting of every plugin.
    const auto& names = c.reads(idx);
    const bool any_defined = !prepared_def || any_variable_defined(c, idx);
    for (int store = 0; store < 2 && any_defined; ++store) {
        if (store == 1 && !s.options->with_env) {
            break;
        }
        struct Hit {
            std::string_view key;
            const EnvVal* ptr;
            std::size_t holder;
            const Position* pos;  ///< stable: never points into `holders`
        };
        std::vector<Hit> found;
        std::vector<EnvVal> holders;
        for (const auto& n : names) {
            const bool negated = !n.empty() && n.front() == '!';
            const std::string_view key = negated ? std::string_view(n).substr(1) : std::string_view(n);
            Hit hit{key, nullptr, 0, &no_position};
            if (store == 0) {
                hit.ptr = lookup_override(c, key, true);
                if (hit.ptr) {
                    hit.pos = &hit.ptr->position;
                }
                if (!hit.ptr && s.options->with_env) {
                    auto it = s.options->process_env.find(std::string(key));
                    if (it != s.options->process_env.end()) {
                        holders.push_back(EnvVal{it->second, {}});
                        hit.holder = holders.size();
                    }
                }
            } else {
                auto it = s.options->dotenv.find(std::string(key));
                if (it != s.options->dotenv.end()) {
                    holders.push_back(EnvVal{it->second, {}});
                    hit.holder = holders.size();
                }
            }
            if (!hit.ptr && hit.holder == 0) {
                continue;
            }
            if (negated) {
                const EnvVal& v = hit.ptr ? *hit.ptr : holders[hit.holder - 1];
                std::string lower;
                for (char ch : python_str(v.value)) {
                    lower += static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
                }
                const bool truthy = lower == "true" || lower == "1" || lower == "yes" || lower == "on";
                EnvVal flipped{truthy ? "False" : "True", v.position};
                holders.push_back(std::move(flipped));
                hit.ptr = nullptr;
                hit.holder = holders.size();
            }
            found.push_back(hit);
        }
        if (found.empty()) {
            continue;
        }
        auto value_of = [&](const Hit& h) -> const EnvVal& {
            return h.ptr ? *h.ptr : holders[h.holder - 1];
        };
        if (found.size() > 1) {
            bool same = true;
            std::string list;
            for (const auto& h : found) {
                same = same && json_equal(value_of(h).value, value_of(found[0]).value);
                list += (list.empty() ? "'" : ", '") + std::string(h.key) + "'";
            }
            add_diag(c, "env-conflict:" + def.name,
                     plugin_diagnostic(same ? "multiple-env-vars" : "conflicting-env-vars",
                                       fmt::format("setting '{}' of plugin '{}' is set by several "
                                                   "variables: {}",
                                                   def.name, c.plugin->name, list),
                                       value_of(found[0]).position,
                                       "Meltano refuses to run the plugin: set only one of them",
                                       c.plugin->name, s.options->environment));
        }
        const EnvVal& first = value_of(found[0]);
        r.value = json_copy(first.value);
        r.position = found[0].pos;
        r.env_var_used = found[0].key;
        r.source = store == 0 ? Source::env : Source::dotenv;
        if (!r.value.is_null()) {
            return r;
        }
    }
    // MELTANO_ENVIRONMENT, then MELTANO_YML: the name and every alias, flattened.
    for (int store = 0; store < 2; ++store) {
        if (store == 0 && !s.environment) {
            continue;
        }
        const FlatConfig& flat = store == 0 ? c.env_flat : c.pp->yml;
        const FlatValue* first = nullptr;
        const FlatValue* conflict = nullptr;
        if (store == 1 && prepared_def) {
            // Environment-independent: looked up once, when the project was prepared.
            if (c.pp->yml_first[idx] >= 0) {
                first = &flat.entries[static_cast<std::size_t>(c.pp->yml_first[idx])];
            }
            if (c.pp->yml_conflict[idx] >= 0) {
                conflict = &flat.entries[static_cast<std::size_t>(c.pp->yml_conflict[idx])];
            }
        } else if (!flat.entries.empty()) {
            first = flat.find(def.name);
            for (const auto& alias : def.aliases) {
                const FlatValue* v = flat.find(alias);
                if (!v) {
                    continue;
                }
                if (!first) {
                    first = v;
                } else if (!conflict && !json_equal(v->value, first->value)) {
                    conflict = v;
                }
            }
        }
        if (conflict) {
            std::string list = flat.find(def.name) ? "'" + def.name + "'" : std::string();
            for (const auto& alias : def.aliases) {
                if (flat.find(alias)) {
                    list += (list.empty() ? "'" : ", '") + alias + "'";
                }
            }
            add_diag(c, "yml-conflict:" + def.name,
                     plugin_diagnostic("conflicting-setting-values",
                                       fmt::format("setting '{}' of plugin '{}' has different "
                                                   "values under {}",
                                                   def.name, c.plugin->name, list),
                                       conflict->position,
                                       "Meltano refuses to run the plugin: keep only one of the "
                                       "setting's name and its aliases",
                                       c.plugin->name, s.options->environment));
        }
        r = Result{};
        r.source = store == 0 ? Source::meltano_environment : Source::meltano_yml;
        if (first) {
            r.value = json_copy(first->value);
            r.position = &first->position;
            r.expandable = true;
            if (!r.value.is_null()) {
                return r;
            }
        }
    }
    // INHERITED: the parent's value, unexpanded, unless it is the parent's default.
    if (c.parent) {
        r = Result{};
        r.source = Source::inherited;
        if (auto pidx = def_index(*c.parent, def.name)) {
            const Result& pr = get(*c.parent, *pidx, false);
            if (!pr.value.is_null() && pr.source != Source::default_) {
                r.value = json_copy(pr.value);
                r.position = pr.position;
                r.expandable = pr.expandable;
                r.inherited_source = pr.source;
                return r;
            }
        }
    }
    // DEFAULT
    r = Result{};
    r.source = Source::default_;
    if (!def.value.is_null()) {
        r.value = json_copy(def.value);
        r.expandable = true;
        r.position = &def.position;
    }
    return r;
}

std::string stringify(const SettingDefinition& def, const Json& value) {
    if (value.is_string()) {
        return value.get<std::string>();
    }
    if (def.kind == SettingKind::none || def.kind == SettingKind::string ||
        def.kind == SettingKind::decimal) {
        return python_str(value);
    }
    return python_json_dumps(value);
}

/// One variable of the plugin's non-extra settings as Meltano's as_env(extras=False) writes it
/// (the last non-null setting writing that name wins), for expanding extras.
std::optional<std::string> non_extra_var(Ctx& c, std::string_view name) {
    const NameWriters writers(c.write_prefixes(), name);
    for (std::size_t i = c.size(); i-- > 0;) {
        const SettingDefinition& def = *c.def(i);
        if (!def.name.empty() && def.name.front() == '_') {
            continue;
        }
        if (!writers.writes(def)) {
            continue;
        }
        const Result& r = get(c, static_cast<std::uint32_t>(i), true);
        if (!r.value.is_null()) {
            return stringify(def, r.value);
        }
    }
    return std::nullopt;
}

std::optional<Json> python_int(const std::string& text) {
    const std::string t = util::trim(text);
    std::string digits;
    std::size_t i = 0;
    if (!t.empty() && (t[0] == '+' || t[0] == '-')) {
        digits += t[0];
        i = 1;
    }
    bool last_digit = false;
    for (; i < t.size(); ++i) {
        if (std::isdigit(static_cast<unsigned char>(t[i])) != 0) {
            digits += t[i];
            last_digit = true;
        } else if (t[i] == '_' && last_digit && i + 1 < t.size() &&
                   std::isdigit(static_cast<unsigned char>(t[i + 1])) != 0) {
            last_digit = false;
        } else {
            return std::nullopt;
        }
    }
    if (digits.empty() || digits == "+" || digits == "-") {
        return std::nullopt;
    }
    Json parsed = Json::parse(digits[0] == '+' ? digits.substr(1) : digits, nullptr, false);
    if (parsed.is_discarded()) {
        // Leading zeros ("007") are valid for int() but not JSON.
        try {
            return Json(std::stoll(digits));
        } catch (const std::exception&) {
            return std::nullopt;
        }
    }
    return parsed;
}

std::optional<Json> python_decimal(const std::string& text) {
    const std::string t = util::trim(text);
    std::string cleaned;
    for (char ch : t) {
        if (ch != '_') {
            cleaned += ch;
        }
    }
    if (cleaned.empty()) {
        return std::nullopt;
    }
    char* end = nullptr;
    const double d = std::strtod(cleaned.c_str(), &end);
    if (end == nullptr || *end != '\0') {
        return std::nullopt;
    }
    if (cleaned.find_first_of(".eEnN") == std::string::npos) {
        if (auto i = python_int(cleaned)) {
            return i;
        }
    }
    return Json(d);
}

Json nest_object(const Json& flat) {
    if (!flat.is_object()) {
        return flat;
    }
    Json out = Json::object();
    for (auto it = flat.begin(); it != flat.end(); ++it) {
        // Split on unescaped dots; `\.` is a literal dot.
        std::vector<std::string> parts(1);
        const std::string& key = it.key();
        for (std::size_t i = 0; i < key.size(); ++i) {
            if (key[i] == '\\' && i + 1 < key.size() && key[i + 1] == '.') {
                parts.back() += '.';
                ++i;
            } else if (key[i] == '.') {
                parts.emplace_back();
            } else {
                parts.back() += key[i];
            }
        }
        Json* cursor = &out;
        bool ok = true;
        for (std::size_t p = 0; p + 1 < parts.size(); ++p) {
            if (!cursor->contains(parts[p])) {
                (*cursor)[parts[p]] = Json::object();
            }
            cursor = &(*cursor)[parts[p]];
            if (!cursor->is_object()) {
                ok = false;
                break;
            }
        }
        if (ok && !cursor->contains(parts.back())) {
            (*cursor)[parts.back()] = json_copy(it.value());
        }
    }
    return out;
}

/// SettingDefinition.cast_value. Returns an error message when Meltano would raise.
std::optional<std::string> cast_value(const SettingDefinition& def, Json& value) {
    const bool parses_strings = def.kind == SettingKind::boolean ||
                                def.kind == SettingKind::integer ||
                                def.kind == SettingKind::decimal ||
                                def.kind == SettingKind::object || def.kind == SettingKind::array;
    if (value.is_string() && parses_strings) {
        const std::string text = value.get<std::string>();
        switch (def.kind) {
        case SettingKind::boolean: {
            std::string lower;
            for (char ch : text) {
                lower += static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
            }
            value = lower == "true" || lower == "1" || lower == "yes" || lower == "on";
            break;
        }
        case SettingKind::integer:
            if (auto i = python_int(text)) {
                value = std::move(*i);
            } else {
                return fmt::format("invalid literal for int() with base 10: {}",
                                   python_str(Json::array({text})).substr(1, text.size() + 2));
            }
            break;
        case SettingKind::decimal:
            if (auto d = python_decimal(text)) {
                value = std::move(*d);
            } else {
                return fmt::format("'{}' is not a decimal number", text);
            }
            break;
        case SettingKind::object:
        case SettingKind::array: {
            const bool object = def.kind == SettingKind::object;
            auto parsed = parse_json_or_literal(text);
            if (!parsed || (object ? !parsed->is_object() : !parsed->is_array())) {
                return fmt::format("failed to parse JSON {} from string '{}'",
                                   object ? "object" : "array", text);
            }
            value = std::move(*parsed);
            break;
        }
        default:
            break;
        }
    }
    if (!value.is_null() && def.kind == SettingKind::options) {
        const bool valid = std::any_of(def.options.begin(), def.options.end(),
                                       [&](const Json& o) { return json_equal(o, value); });
        if (!valid) {
            return fmt::format("'{}' is not a valid choice for '{}'",
                               value.is_string() ? value.get<std::string>() : python_str(value),
                               def.name);
        }
    }
    if (!value.is_null() && def.value_processor) {
        if (*def.value_processor == "nest_object") {
            value = nest_object(value);
        } else if (*def.value_processor == "upcase_string" && value.is_string()) {
            std::string up = value.get<std::string>();
            for (auto& ch : up) {
                ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
            }
            value = std::move(up);
        } else if (*def.value_processor == "stringify" && !value.is_string()) {
            value = python_json_dumps(value);
        }
    }
    return std::nullopt;
}

/// True when some string inside `value` contains a `$` (what expand_json could act on).
bool json_has_reference(const Json& value) {
    if (value.is_string()) {
        return has_reference(value.get_ref<const std::string&>());
    }
    if (!value.is_structured()) {
        return false;
    }
    boost::container::small_vector<const Json*, 16> stack{&value};
    while (!stack.empty()) {
        const Json* v = stack.back();
        stack.pop_back();
        if (v->is_string()) {
            if (has_reference(v->get_ref<const std::string&>())) {
                return true;
            }
        } else if (v->is_structured()) {
            for (const auto& child : *v) {
                stack.push_back(&child);
            }
        }
    }
    return false;
}

const Result& get(Ctx& c, std::uint32_t idx, bool expand) {
    auto& memo = expand ? c.full : c.noexp;
    if (!memo.empty() && memo[idx]) {
        return *memo[idx];
    }
    // Fixed results are expanded and cast: a child plugin's unexpanded view of its parent's
    // values is always worked out. A plugin whose results are all fixed never needs a memo.
    if (expand && c.fixed && idx < c.fixed->size() && (c.plain[idx] != 0 || (*c.fixed)[idx]) &&
        fixed_applies(c, idx)) {
        return (*c.fixed)[idx]->result;
    }
    if (memo.empty()) {
        if (c.spare_memos != nullptr && !c.spare_memos->empty()) {
            memo = std::move(c.spare_memos->back());
            c.spare_memos->pop_back();
        }
        memo.resize(c.size());
    }
    const Shared& s = *c.shared;
    const SettingDefinition& def = *c.def(idx);
    Result r = raw_get(c, idx);
    const bool is_extra = !def.name.empty() && def.name.front() == '_';

    if (expand && r.expandable && !json_has_reference(r.value)) {
        // Nothing to expand (expand_json would change nothing and report nothing): skip the
        // copy and the resolver.
        r.expandable = false;
    }
    if (expand && r.expandable) {
        r.expandable = false;
        // Captures no more than std::function keeps without an allocation (16 bytes).
        const auto lookup = [&c, is_extra](std::string_view name) {
            const Shared& sh = *c.shared;
            if (is_extra) {
                if (auto v = non_extra_var(c, name)) {
                    return VariableLookup{VariableLookup::Status::found, std::move(*v)};
                }
            }
            if (const EnvVal* v = lookup_override(c, name, true)) {
                return VariableLookup{VariableLookup::Status::found, python_str(v->value)};
            }
            if (sh.options->with_env) {
                const std::string key(name);
                if (auto it = sh.options->process_env.find(key);
                    it != sh.options->process_env.end()) {
                    return VariableLookup{VariableLookup::Status::found, it->second};
                }
                if (auto it = sh.options->dotenv.find(key); it != sh.options->dotenv.end()) {
                    return VariableLookup{VariableLookup::Status::found, it->second};
                }
            }
            if (keep_unexpanded(sh, name)) {
                return VariableLookup{VariableLookup::Status::keep, {}};
            }
            return VariableLookup{};
        };
        std::vector<std::string> missing;
        std::optional<Json> expanded = expand_json(r.value, lookup, &missing);
        for (const auto& m : missing) {
            record_undefined(s, m, *r.position, c.plugin->name, def.name);
        }
        if (!missing.empty() && s.options->strict_env_var_mode) {
            add_diag(c, "strict:" + def.name,
                     plugin_diagnostic("undefined-variable",
                                       fmt::format("setting '{}' of plugin '{}' references "
                                                   "variable '{}', which is not set",
                                                   def.name, c.plugin->name, missing.front()),
                                       *r.position,
                                       "set the variable, or turn off strict env var mode",
                                       c.plugin->name, s.options->environment));
            r.unexpanded = std::move(r.value);
            r.value = nullptr;
        } else if (expanded) {
            // A non-empty value that expands to nothing is None, with no fallback (#7189).
            if (json_truthy(r.value) && !json_truthy(*expanded)) {
                *expanded = nullptr;
            }
            r.unexpanded = std::move(r.value);
            r.value = std::move(*expanded);
        }
    }

    if (def.kind == SettingKind::object &&
        (r.source == Source::default_ || r.source == Source::inherited)) {
        // Assemble the object from every defined `<name>.<key>` (and alias) setting. Created
        // on its first member: most object settings of most plugins have none.
        Json object;
        Source object_source = r.source;
        const Position* object_pos = r.position;
        const bool prepared_def = idx < c.pp->defs.size();
        auto add_member = [&](const std::string& prefix, std::uint32_t m) {
            const std::string nested = c.def(m)->name.substr(prefix.size());
            if (object.contains(nested)) {
                return;
            }
            const Result& nr = get(c, m, expand);
            if (object.is_null()) {
                object = Json::object();
                if (prepared_def) {
                    std::size_t members = 0;
                    for (const auto& list : c.pp->sub_defs[idx]) {
                        members += list.size();
                    }
                    object.get_ref<Json::object_t&>().reserve(members);
                }
            }
            object[nested] = json_copy(nr.value);
            if (static_cast<int>(nr.source) < static_cast<int>(object_source)) {
                object_source = nr.source;
                object_pos = nr.position;
            }
        };
        for (std::size_t k = 0; k <= def.aliases.size(); ++k) {
            const std::string prefix = (k == 0 ? def.name : def.aliases[k - 1]) + ".";
            // Definition order, as Meltano iterates: the prepared defs' matches (found once per
            // project), then this environment's orphans, which come after every prepared def.
            if (prepared_def) {
                for (const std::uint32_t m : c.pp->sub_defs[idx][k]) {
                    add_member(prefix, m);
                }
            } else {
                const auto& sorted = c.pp->sorted;
                std::vector<std::uint32_t> matches;
                auto it = std::lower_bound(sorted.begin(), sorted.end(), prefix,
                                           [&](std::uint32_t a, const std::string& p) {
                                               return c.pp->defs[a]->name < p;
                                           });
                for (; it != sorted.end() &&
                       c.pp->defs[*it]->name.compare(0, prefix.size(), prefix) == 0;
                     ++it) {
                    matches.push_back(*it);
                }
                std::sort(matches.begin(), matches.end());
                for (const std::uint32_t m : matches) {
                    add_member(prefix, m);
                }
            }
            for (std::uint32_t o = static_cast<std::uint32_t>(c.pp->defs.size()); o < c.size();
                 ++o) {
                if (c.def(o)->name.compare(0, prefix.size(), prefix) == 0) {
                    add_member(prefix, o);
                }
            }
        }
        if (!object.empty()) {
            r.value = std::move(object);
            r.source = object_source;
            r.position = object_pos;
            if (object_source != Source::inherited) {
                r.inherited_source.reset();
            }
        }
    }

    if (!r.expandable) {
        if (auto error = cast_value(def, r.value)) {
            // Meltano's words quote the value: never a sensitive one.
            if (def.sensitive) {
                *error = def.kind == SettingKind::options
                             ? std::string("the value is not among its options (sensitive: not shown)")
                             : fmt::format("the value is not of kind '{}' (sensitive: not shown)",
                                           setting_kind_name(def.kind));
            }
            add_diag(c, "cast:" + def.name,
                     plugin_diagnostic("invalid-setting-value",
                                       fmt::format("setting '{}' of plugin '{}': {}", def.name,
                                                   c.plugin->name, *error),
                                       *r.position,
                                       def.kind == SettingKind::options
                                           ? "use one of the setting's options"
                                           : fmt::format("give a value of kind '{}'",
                                                         setting_kind_name(def.kind)),
                                       c.plugin->name, s.options->environment));
        }
    }
    memo[idx] = std::move(r);
    return *memo[idx];
}

/// PluginInvoker.env, restricted to the variables meltano.yml's `env:` blocks define.
std::vector<std::pair<std::string, std::string>> invocation_env(Ctx& c, const ResolvedPlugin& out) {
    const Shared& s = *c.shared;
    using Vars = std::map<std::string, std::string>;
    auto expand_block = [&](const std::vector<EnvEntry>& block, const Vars& against) {
        Vars result;
        for (const auto& e : block) {
            Json v = yaml_to_json(e.value);
            std::string text = v.is_string() ? v.get<std::string>() : python_str(v);
            std::vector<std::string> missing;
            text = expand_string(
                text,
                [&](std::string_view name) {
                    if (auto it = against.find(std::string(name)); it != against.end()) {
                        return VariableLookup{VariableLookup::Status::found, it->second};
                    }
                    if (keep_unexpanded(s, name)) {
                        return VariableLookup{VariableLookup::Status::keep, {}};
                    }
                    return VariableLookup{};
                },
                &missing);
            for (const auto& m : missing) {
                record_undefined(s, m, e.position, c.plugin->name, std::nullopt);
            }
            result[e.name] = std::move(text);
        }
        return result;
    };
    Vars os_env;
    if (s.options->with_env) {
        os_env.insert(s.options->process_env.begin(), s.options->process_env.end());
    }
    // expand_env_vars(project.settings.env, os.environ): the process environment, the
    // built-ins and the top-level block, each value expanded against the process environment.
    Vars top_env = expand_block(s.project->env, os_env);
    Vars project_env = os_env;
    for (const auto& [k, v] : s.project_env) {
        project_env[k] = python_str(v.value);
    }
    for (const auto& [k, v] : top_env) {
        project_env[k] = v;
    }
    static const std::vector<EnvEntry> no_entries;
    Vars active = expand_block(s.environment ? s.environment->env : no_entries, project_env);
    Vars root_plugin = expand_block(c.plugin->env, active);
    Vars env_plugin = expand_block(c.env_cfg ? c.env_cfg->env : no_entries, root_plugin);
    Vars config_env;
    for (auto& [k, v] : settings_env(out)) {
        config_env[k] = v;
    }
    std::vector<std::pair<std::string, std::string>> result;
    std::set<std::string> names;
    for (const Vars* layer : {&top_env, &active, &root_plugin, &env_plugin}) {
        for (const auto& [k, v] : *layer) {
            names.insert(k);
        }
    }
    for (const auto& name : names) {
        std::optional<std::string> value;
        for (const Vars* layer : {&env_plugin, &active, &root_plugin, &config_env}) {
            if (auto it = layer->find(name); it != layer->end()) {
                value = it->second;
                break;
            }
        }
        if (!value) {
            if (const EnvVal* v = lookup_override(c, name, true)) {
                value = python_str(v->value);
            } else if (auto it = project_env.find(name); it != project_env.end()) {
                value = it->second;
            }
        }
        if (value) {
            result.emplace_back(name, std::move(*value));
        }
    }
    return result;
}

/// The shared results (Fixed) of every plugin. A setting qualifies when, leaving aside the env,
/// dotenv and environment stores (which every resolution checks before using the result), its
/// result depends on nothing an environment changes: the plugin inherits from no project plugin,
/// an object assembled from `<name>.<key>` settings has shared results for all of them (see
/// Fixed::Dependencies), its name and aliases agree, and its value from meltano.yml or its default
/// references only variables of the plugin's own (see Fixed::Dependencies). It is computed here as
/// any resolution computes it, with no environment and none of the project's variables, and kept
/// only when that reported nothing (a value that does not cast is reported by each resolution).
std::shared_ptr<const FixedResults> compute_fixed(const Project& project,
                                                  const PreparedProject& prep) {
    auto table = std::make_shared<FixedResults>();
    table->plugins.resize(prep.plugins.size());
    static const ResolveOptions no_options;
    Shared shared;
    shared.project = &project;
    shared.options = &no_options;
    std::vector<UndefinedVariable> undefined;
    std::unordered_set<std::string> undefined_seen;
    shared.undefined = &undefined;
    shared.undefined_seen = &undefined_seen;
    std::deque<SettingDefinition> no_orphans;
    table->def_base.reserve(prep.plugins.size() + 1);
    std::uint32_t defs = 0;
    for (const PreparedPlugin& pp : prep.plugins) {
        table->def_base.push_back(defs);
        defs += static_cast<std::uint32_t>(pp.defs.size());
    }
    table->def_base.push_back(defs);
    table->plain.assign(defs, 0);
    table->readers.build([&](const auto& visit) {
        for (std::size_t i = 0; i < prep.plugins.size(); ++i) {
            const PreparedPlugin& pp = prep.plugins[i];
            if (pp.read_hash_begin.size() != pp.defs.size() + 1) {
                continue;  // not prepared: no def of it is ever resolved
            }
            for (std::uint32_t d = 0; d < pp.defs.size(); ++d) {
                for (std::uint32_t k = pp.read_hash_begin[d]; k < pp.read_hash_begin[d + 1]; ++k) {
                    visit(pp.read_hashes[k], table->def_base[i] + d);
                }
            }
        }
    });
    // On one thread: worked out side by side, the 2,000-plugin benchmark project saved 6 ms
    // here and lost 20 ms in the resolutions that read the results (memory another thread
    // allocated).
    for (std::size_t i = 0; i < prep.plugins.size(); ++i) {
        const PreparedPlugin& pp = prep.plugins[i];
        if (!pp.prepared || pp.parent >= 0 || project.plugins[i].duplicate) {
            continue;
        }
        std::vector<std::optional<Fixed>>& fixed = table->plugins[i];
        Ctx c;
        c.shared = &shared;
        c.pp = &pp;
        c.prepared = &prep;
        c.plugin = &project.plugins[i];
        c.orphan_store = &no_orphans;
        c.plugin_env = &pp.plugin_env;
        // An object is assembled from its `<name>.<key>` settings (its members), which an
        // environment may set: it qualifies only where its members do, and is tried after
        // them. Its result then holds while every member's does (and the environment adds no
        // settings of its own, see fixed_applies). A member that is itself such an object is
        // not followed: that object is worked out in each resolution.
        std::vector<std::pair<std::uint32_t, std::vector<std::uint32_t>>> objects;
        auto fix = [&](std::uint32_t d, std::vector<std::uint32_t> members) {
            const SettingDefinition& def = *pp.defs[d];
            const bool object = def.kind == SettingKind::object;
            if (pp.yml_conflict[d] >= 0) {
                return;
            }
            const std::int32_t first = pp.yml_first[d];
            const Json* raw = nullptr;
            if (first >= 0 && !pp.yml.entries[static_cast<std::size_t>(first)].value.is_null()) {
                raw = &pp.yml.entries[static_cast<std::size_t>(first)].value;
            } else {
                raw = &def.value;
            }
            const bool extra = !def.name.empty() && def.name.front() == '_';
            std::vector<std::string> references;
            const bool referencing = json_has_reference(*raw);
            if (referencing) {
                // Only references the plugin itself answers, the same in every environment:
                // its `env:` and its MELTANO_<TYPE>_* variables, and for an extra no setting
                // of the plugin that writes the variable (its value could be the
                // environment's).
                bool qualifies = true;
                // Only the names asked for count: every reference is kept as written.
                expand_json(
                    *raw,
                    [&](std::string_view name) {
                        bool written = false;
                        if (extra) {
                            const NameWriters writers(c.write_prefixes(), name);
                            written = std::any_of(pp.defs.begin(), pp.defs.end(),
                                                  [&](const SettingDefinition* other) {
                                                      return !other->name.starts_with('_') &&
                                                             writers.writes(*other);
                                                  });
                        }
                        if (!written && (find_in(pp.plugin_env, name) != nullptr ||
                                         find_in(pp.info_env, name) != nullptr)) {
                            references.emplace_back(name);
                        } else {
                            qualifies = false;
                        }
                        return VariableLookup{VariableLookup::Status::keep, {}};
                    },
                    nullptr);
                if (!qualifies) {
                    return;
                }
            }
            const std::size_t reported = c.diagnostics.size();
            const std::size_t undefined_before = undefined.size();
            // Moved out of the memo, not copied; reset, so that anything asking for it again
            // works it out again rather than reading what the move left.
            get(c, d, true);
            Result r = std::move(*c.full[d]);
            c.full[d].reset();
            if (c.diagnostics.size() != reported || undefined.size() != undefined_before ||
                r.env_var_used) {
                return;
            }
            if (fixed.empty()) {
                fixed.resize(pp.defs.size());
            }
            // Only an extra's references are looked for among the settings (orphans
            // included): one without any is as plain as any other setting.
            const bool orphans_matter = object || (extra && referencing);
            table->plain[table->def_base[i] + d] =
                references.empty() && !orphans_matter && def.aliases.empty();
            std::unique_ptr<const Fixed::Dependencies> depends;
            if (!references.empty() || !members.empty()) {
                depends = std::make_unique<const Fixed::Dependencies>(
                    Fixed::Dependencies{std::move(references), std::move(members)});
            }
            fixed[d] = Fixed{std::move(r), std::move(depends), orphans_matter};
        };
        for (std::uint32_t d = 0; d < pp.defs.size(); ++d) {
            std::vector<std::uint32_t> members;
            if (pp.defs[d]->kind == SettingKind::object) {
                for (const auto& keys : pp.sub_defs[d]) {
                    members.insert(members.end(), keys.begin(), keys.end());
                }
            }
            if (members.empty()) {
                fix(d, {});
                continue;
            }
            std::sort(members.begin(), members.end());
            members.erase(std::unique(members.begin(), members.end()), members.end());
            objects.emplace_back(d, std::move(members));
        }
        for (auto& [d, members] : objects) {
            const bool members_fixed =
                !fixed.empty() && std::all_of(members.begin(), members.end(), [&](std::uint32_t m) {
                    return fixed[m] && (!fixed[m]->depends || fixed[m]->depends->members.empty());
                });
            if (members_fixed) {
                fix(d, std::move(members));
            }
        }
    }
    return table;
}

struct Storage {
    std::shared_ptr<const Project> project;
    std::shared_ptr<const PreparedProject> prepared;
    std::deque<SettingDefinition> orphans;
    std::deque<NameLists> names;
};

/// Project::prepared and PreparedProject::fixed are set once, under this lock, and never changed.
std::mutex prepare_mutex;

std::shared_ptr<const PreparedProject> prepared_of(const Project& project) {
    std::lock_guard<std::mutex> lock(prepare_mutex);
    if (!project.prepared) {
        project.prepared = prepare(project);
    }
    return project.prepared;
}

/// The lock is not held while they are worked out: a resolution that does not share them (the
/// validator's resolution with no environment) runs meanwhile.
std::shared_ptr<const FixedResults> fixed_of(const Project& project,
                                             const std::shared_ptr<const PreparedProject>& prepared) {
    {
        std::lock_guard<std::mutex> lock(prepare_mutex);
        if (prepared->fixed) {
            return prepared->fixed;
        }
    }
    auto fixed = compute_fixed(project, *prepared);
    std::lock_guard<std::mutex> lock(prepare_mutex);
    if (!prepared->fixed) {
        prepared->fixed = std::move(fixed);
    }
    return prepared->fixed;
}

}  // namespace

void prepare_shared_results(const Project& project) { fixed_of(project, prepared_of(project)); }

Resolution resolve(std::shared_ptr<const Project> project_ptr, const ResolveOptions& options) {
    const Project& project = *project_ptr;
    std::shared_ptr<const PreparedProject> prepared = prepared_of(project);
    std::shared_ptr<const FixedResults> fixed;
    if (options.share_across_environments) {
        fixed = fixed_of(project, prepared);
    }
    auto storage = std::make_shared<Storage>();
    storage->project = std::move(project_ptr);
    storage->prepared = prepared;

    Resolution res;
    res.environment = options.environment;
    res.storage = storage;

    Shared shared;
    shared.project = &project;
    shared.options = &options;
    std::unordered_set<std::string> undefined_seen;
    shared.undefined = &res.undefined_variables;
    shared.undefined_seen = &undefined_seen;

    if (options.environment) {
        shared.environment = project.find_environment(*options.environment);
        if (!shared.environment) {
            std::string known;
            for (const auto& e : project.environments) {
                if (!e.duplicate) {
                    known += (known.empty() ? "'" : ", '") + e.name + "'";
                }
            }
            Diagnostic d;
            d.code = "unknown-environment";
            d.message = fmt::format("environment '{}' is not defined", *options.environment);
            d.environment = options.environment;
            d.hint = known.empty() ? "the project defines no environments"
                                   : fmt::format("known environments: {}", known);
            if (options.environment == project.default_environment) {
                d.file = project.default_environment_position.file;
                d.line = project.default_environment_position.line;
                d.column = project.default_environment_position.column;
            }
            res.diagnostics.push_back(std::move(d));
            return res;
        }
    }

    // Project-level variables: process env < built-ins < top-level env < project settings.
    if (options.with_env) {
        for (const auto& [k, v] : options.process_env) {
            shared.project_env[k] = EnvVal{v, {}};
        }
    }
    if (options.project_root) {
        shared.project_env["MELTANO_PROJECT_ROOT"] = EnvVal{*options.project_root, {}};
        shared.project_env["MELTANO_SYS_DIR_ROOT"] =
            EnvVal{*options.project_root + "/.meltano", {}};
    } else {
        shared.project_env.erase("MELTANO_PROJECT_ROOT");
        shared.project_env.erase("MELTANO_SYS_DIR_ROOT");
    }
    shared.project_env["MELTANO_ENVIRONMENT"] =
        EnvVal{shared.environment ? shared.environment->name : std::string(), {}};
    shared.project_env["MELTANO_USER_AGENT"] = EnvVal{std::string("Meltano/4.2.2"), {}};
    for (auto& [k, v] : env_list(project.env, true)) {
        shared.project_env[k] = std::move(v);
    }
    for (const auto& [key, node] : project.settings) {
        if (key == "version" || key == "requires_meltano" || !node.is_scalar() || node.is_null()) {
            continue;
        }
        Json v = yaml_to_json(node);
        shared.project_env[to_env_var("meltano", key)] =
            EnvVal{v.is_string() ? v : Json(v.is_boolean() ? python_json_dumps(v) : python_str(v)),
                   position_of(node)};
    }
    if (project.project_id) {
        shared.project_env["MELTANO_PROJECT_ID"] = EnvVal{*project.project_id, {}};
    }
    if (project.default_environment) {
        shared.project_env["MELTANO_DEFAULT_ENVIRONMENT"] =
            EnvVal{*project.default_environment, project.default_environment_position};
    }

    // Every name a variable layer can define, for the env store's quick "nothing here" check.
    {
        std::size_t count = shared.project_env.size() + prepared->layer_names.size();
        if (shared.environment) {
            count += shared.environment->env.size();
            for (const auto& epc : shared.environment->plugins) {
                count += epc.env.size();
            }
        }
        if (options.with_env) {
            count += options.process_env.size() + options.dotenv.size();
        }
        shared.defined.reserve(count);
        if (fixed) {
            shared.marks.assign(fixed->def_base.back(), 0);
        }
        // Every defined name goes into the set, and with shared results also marks the defs
        // that read it (any_variable_defined then reads one byte).
        auto define = [&](std::string_view name) {
            shared.defined.insert(name);
            if (!fixed) {
                return;
            }
            for (const std::uint32_t d : fixed->readers.find(name)) {
                shared.marks[d] = 1;
            }
        };
        for (const auto& [name, value] : shared.project_env) {
            define(name);
        }
        for (const auto& name : prepared->layer_names) {
            define(name);
        }
        if (shared.environment) {
            for (const auto& e : shared.environment->env) {
                define(e.name);
            }
            for (const auto& epc : shared.environment->plugins) {
                for (const auto& e : epc.env) {
                    define(e.name);
                }
            }
        }
        if (options.with_env) {
            for (const auto& [name, value] : options.process_env) {
                define(name);
            }
            for (const auto& [name, value] : options.dotenv) {
                define(name);
            }
        }
    }
    // The environment's `env:` depends on the plugin only through the variables it references:
    // without any, every plugin gets the same list, built once.
    if (shared.environment) {
        EnvList level;
        bool plain = true;
        for (const auto& e : shared.environment->env) {
            Json v = yaml_to_json(e.value);
            if (v.is_string() && has_reference(v.get_ref<const std::string&>())) {
                plain = false;
                break;
            }
            level.emplace_back(e.name, EnvVal{std::move(v), e.position});
        }
        if (plain) {
            shared.shared_env_level = std::move(level);
        }
    }

    // One context per plugin; parents are set up before their children.
    const std::size_t n = project.plugins.size();
    std::vector<std::vector<std::optional<Result>>> spare_memos;
    std::vector<Ctx> ctxs(n);
    std::vector<char> built(n, 0);
    auto setup = [&](std::size_t i) {
        Ctx& c = ctxs[i];
        const PreparedPlugin& pp = prepared->plugins[i];
        c.shared = &shared;
        c.pp = &pp;
        c.prepared = prepared.get();
        if (fixed) {
            c.fixed = &fixed->plugins[i];
            c.marks = shared.marks.data() + fixed->def_base[i];
            c.plain = fixed->plain.data() + fixed->def_base[i];
        }
        c.plugin = &project.plugins[i];
        c.parent = pp.parent >= 0 ? &ctxs[static_cast<std::size_t>(pp.parent)] : nullptr;
        c.orphan_store = &storage->orphans;
        c.spare_memos = &spare_memos;
        if (shared.environment) {
            c.env_cfg = shared.environment->find_plugin(pp.meltano_type, pp.meltano_name);
        }
        if (c.env_cfg) {
            // A block's keys and a nested key or two: no regrowth for the usual few.
            const yaml::NodeRef& config = c.env_cfg->config;
            c.env_flat.entries.reserve(2 * (config ? config.size() : 0) + c.env_cfg->extras.size());
            auto bad_key = [&](const yaml::NodeRef& k) {
                add_diag(c, "key:" + std::string(k.text()),
                         plugin_diagnostic("non-string-key",
                                           fmt::format("plugin '{}' has a configuration key '{}' "
                                                       "that is not a string",
                                                       c.plugin->name, key_words(k)),
                                           position_of(k),
                                           "quote the key: Meltano fails on non-string keys",
                                           c.plugin->name, options.environment));
            };
            flatten_into(c.env_flat, c.env_cfg->config, "", bad_key);
            for (const auto& extra : c.env_cfg->extras) {
                if (extra.value.is_mapping() && extra.value.size() > 0) {
                    FlatConfig tmp;
                    flatten_into(tmp, extra.value, "", bad_key);
                    for (auto& e : tmp.entries) {
                        c.env_flat.put("_" + extra.key + "." + e.key, std::move(e.value),
                                       std::move(e.position));
                    }
                } else {
                    c.env_flat.put("_" + extra.key, yaml_to_json(extra.value),
                                   position_of(extra.value));
                }
            }
        }
        // Orphans: environment keys nothing defines (get_orphan_settings). The keys that name
        // a def are marked for in_environment_config.
        if (!c.env_flat.entries.empty()) {
            c.env_named.assign(pp.defs.size(), 0);
        }
        for (const auto& e : c.env_flat.entries) {
            bool named = false;
            pp.by_name.each(e.key, [&](std::uint32_t d) {
                c.env_named[d] = 1;
                named = true;
            });
            if (named || c.orphan_by_name.count(e.key) != 0) {
                continue;
            }
            SettingDefinition d;
            d.name = e.key;
            d.kind = kind_of_value(e.value);
            d.custom = true;
            d.position = e.position;
            storage->orphans.push_back(std::move(d));
            const SettingDefinition* def = &storage->orphans.back();
            c.orphan_by_name.emplace(def->name, static_cast<std::uint32_t>(c.size()));
            c.orphan_defs.push_back(def);
            std::vector<std::string> read;
            const std::size_t count = compute_read_names(pp, *def, read);
            NameLists& names = storage->names.emplace_back();
            names.add(std::span<const std::string>(read).first(count));
            names.finish();
            c.orphan_names.push_back(&names);
        }
        build_env(c);
        for (const auto& d : pp.diagnostics) {
            c.diagnostics.push_back(d);
        }
    };
    std::vector<std::size_t> chain;
    for (std::size_t start = 0; start < n; ++start) {
        chain.clear();
        std::size_t cur = start;
        while (!built[cur]) {
            chain.push_back(cur);
            built[cur] = 1;
            const int parent = prepared->plugins[cur].parent;
            if (parent < 0) {
                break;
            }
            cur = static_cast<std::size_t>(parent);
        }
        for (auto it = chain.rbegin(); it != chain.rend(); ++it) {
            setup(*it);
            // Children ask for the parent's unexpanded values: compute them now, parents first,
            // so a long chain never recurses.
            Ctx& c = ctxs[*it];
            if (c.parent) {
                for (std::uint32_t d = 0; d < c.parent->size(); ++d) {
                    get(*c.parent, d, false);
                }
            }
        }
    }

    std::vector<char> has_child(n, 0);
    for (std::size_t i = 0; i < n; ++i) {
        if (prepared->plugins[i].parent >= 0) {
            has_child[static_cast<std::size_t>(prepared->plugins[i].parent)] = 1;
        }
    }
    if (!options.on_plugin) {
        res.plugins.reserve(n);
    }
    std::vector<const Result*> results;
    std::vector<std::uint32_t> shared_indices;
    for (std::size_t i = 0; i < n; ++i) {
        const Plugin& plugin = project.plugins[i];
        if (plugin.duplicate) {
            continue;
        }
        Ctx& c = ctxs[i];
        const PreparedPlugin& pp = prepared->plugins[i];
        ResolvedPlugin out;
        out.type = plugin.type;
        out.name = plugin.name;
        if (plugin.type == PluginType::mappings) {
            out.mapper = plugin.mapper;
        }
        out.inherit_from = plugin.inherit_from;
        out.namespace_name = pp.namespace_name;
        out.variant = pp.variant;
        out.plugin = &plugin;
        out.prepared = prepared.get();
        out.index = i;
        const bool values = options.values || options.invocation_env;
        // (Only for a caller that takes each plugin as it comes: shared_settings views a buffer
        // the next plugin reuses.)
        const bool omit = fixed && !values && options.omit_shared_settings && options.on_plugin &&
                          !(options.keep_all_settings && options.keep_all_settings(i));
        // Each result's address: memoised results stay where they are, and a fixed result
        // (not memoised) is not looked for twice. A plain def whose shared result holds is
        // left out unread when shared results are (most defs of most plugins): its get()
        // would return that result and compute nothing else.
        results.resize(c.size());
        for (std::uint32_t d = 0; d < c.size(); ++d) {
            results[d] = omit && plain_applies(c, d) ? nullptr : &get(c, d, true);
        }
        // Every result of this plugin is final now: move them out rather than copy, except the
        // fixed ones, which every environment shares (copied only when values are asked for).
        // Left out, the shared results need no room (often all of a plugin's).
        out.settings.reserve(
            !omit ? c.size()
                  : static_cast<std::size_t>(std::count_if(
                        c.full.begin(), c.full.end(),
                        [](const std::optional<Result>& r) { return r.has_value(); })));
        shared_indices.clear();
        for (std::uint32_t d = 0; d < c.size(); ++d) {
            const bool own = !c.full.empty() && c.full[d].has_value();
            if (omit && !own) {
                // Not memoised: the shared result (get() memoises everything else). Neither it
                // nor its definition is read.
                shared_indices.push_back(d);
                continue;
            }
            const SettingDefinition& def = *c.def(d);
            const Result& r = *results[d];  // c.full[d] when own
            ResolvedSetting s;
            s.name = def.name;
            if (own) {
                s.value = std::move(c.full[d]->value);
                s.unexpanded = std::move(c.full[d]->unexpanded);
            } else {
                s.value = values || r.value.is_null() ? json_copy(r.value) : Json(true);
                if (r.unexpanded && (values || r.value.is_null())) {
                    s.unexpanded = json_copy(*r.unexpanded);
                }
            }
            s.source = r.source;
            if (r.source == Source::inherited && c.parent) {
                s.inherited_from = std::string_view(c.parent->plugin->name);
                s.inherited_source = r.inherited_source;
            }
            s.env_var_used = r.env_var_used;
            const auto& read = c.reads(d);
            s.env_var = read.empty() ? std::string_view() : read.front();
            s.kind = def.kind;
            s.sensitive = def.sensitive;
            s.hidden = def.hidden;
            s.custom = def.custom;
            s.extra = !def.name.empty() && def.name.front() == '_';
            s.position = *r.position;
            s.definition = &def;
            out.settings.push_back(std::move(s));
        }
        if (options.invocation_env) {
            out.invocation_env = invocation_env(c, out);
        }
        out.shared_settings = shared_indices;
        out.diagnostics = std::move(c.diagnostics);
        if (options.on_plugin) {
            options.on_plugin(std::move(out));
        } else {
            res.plugins.push_back(std::move(out));
        }
        if (!has_child[i]) {
            c.release();
        }
    }
    return res;
}

std::string stringify_value(const ResolvedSetting& setting) {
    static const SettingDefinition fallback;
    return stringify(setting.definition ? *setting.definition : fallback, setting.value);
}

std::vector<std::string> env_vars(const ResolvedPlugin& plugin, const ResolvedSetting& setting) {
    if (!plugin.prepared || !setting.definition) {
        return {};
    }
    return compute_write_names(write_prefix_vars(*plugin.prepared, plugin.index),
                               *setting.definition);
}

std::vector<std::pair<std::string, std::string>> settings_env(const ResolvedPlugin& plugin) {
    std::vector<std::pair<std::string, std::string>> out;
    if (!plugin.prepared) {
        return out;
    }
    const auto prefixes = write_prefix_vars(*plugin.prepared, plugin.index);
    for (const auto& s : plugin.settings) {
        if (s.value.is_null() || !s.definition) {
            continue;
        }
        const std::string text = stringify_value(s);
        for (auto& name : compute_write_names(prefixes, *s.definition)) {
            out.emplace_back(std::move(name), text);
        }
    }
    return out;
}

}  // namespace dataops::meltano
