#include <dataops/meltano/validate.hpp>

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <functional>
#include <iterator>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <tuple>
#include <unordered_map>
#include <unordered_set>
#include <utility>

#include <fmt/format.h>
#include <boost/container/small_vector.hpp>

#include <dataops/meltano/resolve.hpp>
#include <dataops/meltano/values.hpp>
#include <dataops/util/parallel.hpp>
#include <dataops/util/strings.hpp>

namespace dataops::meltano {

using Json = nlohmann::ordered_json;

namespace {


/// Identity of a finding regardless of the environment it was found in.
std::string finding_key(const Diagnostic& d) {
    return fmt::format("{}\n{}\n{}\n{}\n{}\n{}", d.code, d.file, d.line, d.column,
                       d.plugin.value_or(""), d.message);
}

std::string full_key(const Diagnostic& d) {
    return fmt::format("{}\n{}\n{}\n{}", finding_key(d), d.severity == Severity::error ? 1 : 0,
                       d.environment ? "e:" + *d.environment : std::string("-"), d.hint);
}

/// A quoted subject longer than this many bytes is shortened in messages and hints.
constexpr std::size_t kMaxQuoted = 200;

/// `text` cut to about `keep` bytes (never inside a UTF-8 sequence), with what was left out.
std::string shortened(std::string_view text, std::size_t keep) {
    while (keep > 0 && (static_cast<unsigned char>(text[keep]) & 0xC0U) == 0x80U) {
        --keep;
    }
    return fmt::format("{}...({} more bytes)", text.substr(0, keep), text.size() - keep);
}

/// Every single-quoted subject of `text` longer than kMaxQuoted bytes shortened: a name or a value
/// of megabytes (hostile or broken input) must not turn one diagnostic into megabytes of output.
std::string clip_quoted(const std::string& text) {
    if (text.size() <= kMaxQuoted) {
        return text;
    }
    std::string out;
    std::size_t at = 0;
    while (at < text.size()) {
        const auto open = text.find('\'', at);
        const auto close = open == std::string::npos ? std::string::npos : text.find('\'', open + 1);
        if (close == std::string::npos) {
            std::string_view rest = std::string_view(text).substr(at);
            out += rest.size() > kMaxQuoted ? shortened(rest, kMaxQuoted / 2) : std::string(rest);
            break;
        }
        out.append(text, at, open + 1 - at);
        std::string_view quoted = std::string_view(text).substr(open + 1, close - open - 1);
        out += quoted.size() > kMaxQuoted ? shortened(quoted, kMaxQuoted / 2) : std::string(quoted);
        out += '\'';
        at = close + 1;
    }
    return out;
}

void clip(std::optional<std::string>& name) {
    if (name && name->size() > kMaxQuoted) {
        name = shortened(*name, kMaxQuoted / 2);
    }
    if (name) {
        name = valid_utf8(*name);
    }
}

/// Sort by file, line and column (stable, so equal positions keep their discovery order), drop
/// exact repeats, and keep every message readable (clip_quoted).
Diagnostics finish(Diagnostics diagnostics) {
    std::stable_sort(diagnostics.begin(), diagnostics.end(),
                     [](const Diagnostic& a, const Diagnostic& b) {
                         return std::tie(a.file, a.line, a.column) <
                                std::tie(b.file, b.line, b.column);
                     });
    Diagnostics out;
    out.reserve(diagnostics.size());
    std::unordered_set<std::string> seen;
    for (auto& d : diagnostics) {
        if (seen.insert(full_key(d)).second) {
            out.push_back(std::move(d));
        }
    }
    for (auto& d : out) {
        d.message = valid_utf8(clip_quoted(d.message));
        d.hint = valid_utf8(clip_quoted(d.hint));
        d.file = valid_utf8(d.file);
        clip(d.environment);
        clip(d.plugin);
    }
    return out;
}

std::string quoted_list(const std::vector<std::string>& names) {
    std::string out;
    for (const auto& n : names) {
        out += (out.empty() ? "'" : ", '") + n + "'";
    }
    return out;
}

/// "an extractor", "a loader", "a utility" (every plugin type's singular starts with a
/// consonant sound except extractor and orchestrator).
std::string with_article(std::string_view singular) {
    const bool vowel = !singular.empty() && (singular.front() == 'e' || singular.front() == 'o');
    return fmt::format("{} {}", vowel ? "an" : "a", singular);
}

template <typename Candidates>
std::string did_you_mean(std::string_view word, const Candidates& candidates) {
    const std::string best = util::nearest(word, candidates);
    return best.empty() ? std::string() : fmt::format("did you mean '{}'?", best);
}

/// The variable names `text` references, as Meltano's ENV_VAR_PATTERN finds them
/// (`$NAME` with an upper-case first letter, `${name}`, an escaped `\$` is no reference).
std::vector<std::string> references(std::string_view text) {
    std::vector<std::string> out;
    auto word = [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
               c == '_' || static_cast<unsigned char>(c) >= 0x80;
    };
    for (std::size_t i = 0; i < text.size(); ++i) {
        if (text[i] != '$' || (i > 0 && text[i - 1] == '\\')) {
            continue;
        }
        std::size_t j = i + 1;
        if (j < text.size() && text[j] == '{') {
            std::size_t k = j + 1;
            while (k < text.size() && word(text[k])) {
                ++k;
            }
            if (k < text.size() && text[k] == '}' && k > j + 1) {
                out.emplace_back(text.substr(j + 1, k - j - 1));
                i = k;
            }
        } else if (j < text.size() && text[j] >= 'A' && text[j] <= 'Z') {
            std::size_t k = j;
            while (k < text.size() && ((text[k] >= 'A' && text[k] <= 'Z') ||
                                       (text[k] >= '0' && text[k] <= '9') || text[k] == '_')) {
                ++k;
            }
            out.emplace_back(text.substr(j, k - j));
            i = k - 1;
        }
    }
    return out;
}

/// Variables Meltano itself sets when it runs a pipeline (`MELTANO_EXTRACT__LOAD_SCHEMA`,
/// `MELTANO_EXTRACTOR_NAMESPACE`, ...): empty in `meltano config`, set by `meltano run`.
bool runtime_variable(std::string_view name) { return util::starts_with(name, "MELTANO_"); }

bool only_runtime_references(std::string_view text) {
    const auto refs = references(text);
    return !refs.empty() &&
           std::all_of(refs.begin(), refs.end(), [](const auto& r) { return runtime_variable(r); });
}

/// The first scalar under `node` (itself included) that is a literal, i.e. non-empty and not a
/// `$VAR` reference; iterative.
std::optional<yaml::NodeRef> literal_scalar(const yaml::NodeRef& node) {
    std::vector<yaml::NodeRef> stack{node};
    std::size_t budget = 100000;  // a secret is a small value: do not walk a huge one
    while (!stack.empty() && budget-- > 0) {
        const yaml::NodeRef n = stack.back();
        stack.pop_back();
        if (n.is_mapping()) {
            for (std::size_t i = n.size(); i-- > 0;) {
                stack.push_back(n.value(i));
            }
        } else if (n.is_sequence()) {
            for (std::size_t i = n.size(); i-- > 0;) {
                stack.push_back(n.at(i));
            }
        } else if (!n.is_null()) {
            if (n.kind() == yaml::Kind::string && (n.text().empty() || has_reference(n.text()))) {
                continue;
            }
            return n;
        }
    }
    return std::nullopt;
}

std::vector<std::vector<std::string>> groups_from_yaml(const yaml::NodeRef& node) {
    std::vector<std::vector<std::string>> out;
    if (!node || !node.is_sequence()) {
        return out;
    }
    for (std::size_t i = 0; i < node.size(); ++i) {
        const yaml::NodeRef g = node.at(i);
        if (!g.is_sequence()) {
            continue;
        }
        std::vector<std::string> group;
        for (std::size_t j = 0; j < g.size(); ++j) {
            if (g.at(j).is_scalar() && !g.at(j).is_null()) {
                group.emplace_back(g.at(j).text());
            }
        }
        if (!group.empty()) {
            out.push_back(std::move(group));
        }
    }
    return out;
}

std::vector<std::vector<std::string>> groups_from_json(const Json& value) {
    std::vector<std::vector<std::string>> out;
    if (!value.is_array()) {
        return out;
    }
    for (const auto& g : value) {
        if (!g.is_array()) {
            continue;
        }
        std::vector<std::string> group;
        for (const auto& s : g) {
            if (s.is_string()) {
                group.push_back(s.get<std::string>());
            }
        }
        if (!group.empty()) {
            out.push_back(std::move(group));
        }
    }
    return out;
}

/// What the validator knows about one project plugin, from the resolution with no environment.
struct PluginInfo {
    /// The plugin's definition is known (a lock file or an embedded `settings:` list), so a
    /// configured key that names none of its settings is a mistake.
    bool known_definition = false;
    /// That definition is the `settings:` list of a plugin in meltano.yml (often partial).
    bool embedded_definition = false;
    /// Defined (non-custom) settings by name and by alias. The views, here and below, are of
    /// the definitions' own strings, which live as long as the project.
    std::unordered_map<std::string_view, const SettingDefinition*> definitions;
    /// Names and aliases of the defined settings, sorted (for prefix scans and suggestions).
    std::vector<std::string_view> names;
    /// Names of the settings with a value in the resolution with no environment, sorted. Kept
    /// instead of that resolution, which would double the validator's memory.
    std::vector<std::string_view> base_set;
    /// Sensitive settings' primary variables (`TAP_X_PASSWORD`), by setting name.
    std::vector<std::pair<std::string, std::string>> sensitive_env;

    bool base_has_value(std::string_view setting) const {
        return std::binary_search(base_set.begin(), base_set.end(), setting);
    }
    std::vector<std::vector<std::string>> groups;  ///< settings_group_validation
    /// The findings of single settings in the resolution with no environment, by the setting's
    /// place in its `settings`: an environment whose result for the setting is that one
    /// (ResolvedPlugin::shared_settings) reproduces them without showing the setting.
    std::vector<std::pair<std::uint32_t, Diagnostic>> setting_findings;
};

/// A finding of the resolution with no environment, and the validated environments that
/// reproduce it: reported once without an environment when all of them do, else once for each
/// environment that does (and not at all when none does and environments are validated).
struct BaseFinding {
    Diagnostic diagnostic;
    std::vector<std::string> environments;
};

class Validator {
public:
    Validator(std::shared_ptr<const Project> project, const ValidateOptions& options, Diagnostics& out)
        : owner_(std::move(project)), p_(*owner_), options_(options), out_(out) {}

    std::vector<std::string> run();

private:
    ResolveOptions resolve_options(std::optional<std::string> environment) const;
    void prepare_infos();
    void add_info(const ResolvedPlugin& rp);
    void build_groups();
    void undefined_findings(const std::vector<UndefinedVariable>& undefined,
                            const std::optional<std::string>& env, Diagnostics& found);
    void plugin_findings(const ResolvedPlugin& rp, const std::optional<std::string>& env,
                         Diagnostics& found);
    Diagnostics resolve_findings(const std::optional<std::string>& env, bool base,
                                 Diagnostics* request);
    void check_default_environment();
    void check_environment_plugins(const Environment& env, Diagnostics& out);
    void check_jobs_and_schedules();
    void check_config(const yaml::NodeRef& config, std::size_t index,
                      const std::optional<std::string>& env, Diagnostics& out);
    void check_env_block(const std::vector<EnvEntry>& block,
                         const std::optional<std::string>& env, Diagnostics& out);
    void check_environment_config(const Environment& env, Diagnostics& out);
    void check_base_config(Diagnostics& out);
    void report_secret(const yaml::NodeRef& value, const SettingDefinition& def,
                       std::size_t index, const std::optional<std::string>& env,
                       Diagnostics& out);
    std::string suggestion(PluginType type, const std::string& name);
    void adjust_missing_parent(Diagnostic& d, const Plugin& plugin);
    std::optional<std::size_t> index_of(const ResolvedPlugin& rp) const {
        if (rp.plugin == nullptr || p_.plugins.empty()) {
            return std::nullopt;
        }
        const std::ptrdiff_t i = rp.plugin - p_.plugins.data();
        if (i < 0 || static_cast<std::size_t>(i) >= p_.plugins.size()) {
            return std::nullopt;
        }
        return static_cast<std::size_t>(i);
    }

    std::shared_ptr<const Project> owner_;  ///< resolutions share it
    const Project& p_;
    const ValidateOptions& options_;
    Diagnostics& out_;
    std::vector<PluginInfo> infos_;  ///< parallel to Project::plugins
    /// Plugin names by type (first definitions, user-facing types), for suggestions.
    std::unordered_map<int, std::vector<std::string>> names_by_type_;
    /// Every plugin type a name is defined under (mappings included).
    std::unordered_map<std::string, std::vector<const Plugin*>> plugins_by_name_;
    std::unordered_map<std::string, std::string> suggestion_cache_;
    std::mutex suggestion_mutex_;
    /// Several environments are validated: their resolutions share what none of them changes
    /// (working that out costs about one resolution, which one environment does not win back).
    bool share_ = false;
    /// Primary variable of every sensitive setting -> (plugin index, definition).
    std::unordered_map<std::string, std::pair<std::size_t, const SettingDefinition*>>
        sensitive_vars_;
};

ResolveOptions Validator::resolve_options(std::optional<std::string> environment) const {
    ResolveOptions ro;
    ro.environment = std::move(environment);
    ro.with_env = options_.with_env;
    if (options_.with_env) {
        ro.process_env = options_.process_env;
        ro.dotenv = options_.dotenv;
    }
    ro.project_root = options_.project_root;
    // Strictness is the validator's: undefined variables become `undefined-variable` errors
    // here, while the values resolve as Meltano's default mode resolves them.
    ro.strict_env_var_mode = false;
    // The findings ask only whether each setting has a value.
    ro.values = false;
    ro.share_across_environments = share_ && ro.environment.has_value();
    // A shared setting's findings are the base resolution's (see PluginInfo::
    // setting_findings); a settings group needs every setting.
    ro.omit_shared_settings = ro.share_across_environments;
    ro.keep_all_settings = [this](std::size_t i) { return !infos_[i].groups.empty(); };
    return ro;
}

void Validator::add_info(const ResolvedPlugin& rp) {
    auto index = index_of(rp);
    if (!index) {
        return;
    }
    {
        PluginInfo& info = infos_[*index];
        for (const auto& s : rp.settings) {
            if (!s.value.is_null() && s.definition != nullptr) {
                info.base_set.push_back(s.definition->name);
            }
            if (s.sensitive) {
                info.sensitive_env.emplace_back(s.name, s.env_var);
            }
            if (s.custom || s.extra || s.definition == nullptr) {
                continue;
            }
            info.definitions.emplace(s.definition->name, s.definition);
            info.names.emplace_back(s.definition->name);
            for (const auto& alias : s.definition->aliases) {
                if (info.definitions.emplace(alias, s.definition).second) {
                    info.names.push_back(alias);
                }
            }
            if (s.sensitive && !s.env_var.empty()) {
                sensitive_vars_.emplace(std::string(s.env_var),
                                        std::make_pair(*index, s.definition));
            }
        }
        std::sort(info.names.begin(), info.names.end());
        std::sort(info.base_set.begin(), info.base_set.end());
    }
}

void Validator::prepare_infos() {
    infos_.assign(p_.plugins.size(), PluginInfo{});
    // A definition is known when the root of the plugin's `inherit_from` chain is a lock file
    // or an embedded custom definition that lists settings. The walk is bounded: a cycle is
    // flagged by the loader, and a chain never visits more plugins than the project has.
    for (std::size_t i = 0; i < p_.plugins.size(); ++i) {
        std::size_t cur = i;
        for (std::size_t steps = 0; steps <= p_.plugins.size(); ++steps) {
            const PluginParent& parent = p_.parents[cur];
            if (parent.cycle || parent.missing) {
                break;
            }
            if (parent.kind == PluginParent::Kind::custom) {
                infos_[i].known_definition = !p_.plugins[cur].settings.empty();
                infos_[i].embedded_definition = true;
                break;
            }
            if (parent.kind == PluginParent::Kind::lock) {
                infos_[i].known_definition = !p_.locks[parent.index].settings.empty();
                break;
            }
            if (parent.kind != PluginParent::Kind::project_plugin) {
                break;
            }
            cur = parent.index;
        }
    }
    build_groups();
}

void Validator::build_groups() {
    // settings_group_validation: the plugin's own, else its definition's (lock file or parent
    // plugin). Computed in one pass per chain, iteratively.
    std::vector<char> done(p_.plugins.size(), 0);
    for (std::size_t start = 0; start < p_.plugins.size(); ++start) {
        std::vector<std::size_t> chain;
        std::size_t cur = start;
        while (!done[cur]) {
            done[cur] = 1;
            chain.push_back(cur);
            const Plugin& plugin = p_.plugins[cur];
            const PluginParent& parent = p_.parents[cur];
            if (plugin.settings_group_validation || parent.cycle ||
                parent.kind != PluginParent::Kind::project_plugin) {
                break;
            }
            cur = parent.index;
        }
        for (auto it = chain.rbegin(); it != chain.rend(); ++it) {
            const std::size_t i = *it;
            const Plugin& plugin = p_.plugins[i];
            const PluginParent& parent = p_.parents[i];
            if (plugin.settings_group_validation) {
                infos_[i].groups = groups_from_yaml(plugin.settings_group_validation);
            } else if (parent.cycle) {
                continue;
            } else if (parent.kind == PluginParent::Kind::lock) {
                const LockDefinition& lock = p_.locks[parent.index];
                infos_[i].groups = groups_from_json(lock.settings_group_validation);
            } else if (parent.kind == PluginParent::Kind::project_plugin) {
                infos_[i].groups = infos_[parent.index].groups;
            }
        }
    }
}

void Validator::undefined_findings(const std::vector<UndefinedVariable>& undefined,
                                   const std::optional<std::string>& env, Diagnostics& found) {
    const Severity undefined_severity = options_.strict ? Severity::error : Severity::warning;
    std::unordered_set<std::string> undefined_seen;
    for (const auto& uv : undefined) {
        if (runtime_variable(uv.name)) {
            continue;
        }
        if (!undefined_seen
                 .insert(fmt::format("{}\n{}\n{}\n{}", uv.name, uv.position.file, uv.position.line,
                                     uv.position.column))
                 .second) {
            continue;
        }
        std::string message;
        std::optional<std::string> plugin;
        if (uv.setting && uv.plugin) {
            message = fmt::format("setting '{}' of plugin '{}' references variable '{}', which "
                                  "nothing defines",
                                  *uv.setting, *uv.plugin, uv.name);
            plugin = uv.plugin;
        } else {
            message = fmt::format("variable '{}' is referenced but nothing defines it", uv.name);
        }
        found.push_back(diagnostic_at(
            "undefined-variable", undefined_severity, std::move(message), uv.position,
            options_.with_env
                ? fmt::format("Meltano expands it to an empty string: define '{}' in an 'env:' "
                              "block, in '.env' or in the environment that runs Meltano",
                              uv.name)
                : fmt::format("Meltano expands it to an empty string unless the environment "
                              "that runs Meltano sets '{}': define it there, in '.env' or in an "
                              "'env:' block",
                              uv.name),
            env, plugin));
    }
}

void Validator::plugin_findings(const ResolvedPlugin& rp, const std::optional<std::string>& env,
                                Diagnostics& found) {
    {
        for (Diagnostic d : rp.diagnostics) {
            if (d.code == "undefined-variable") {
                continue;  // strictness is reported from undefined_variables above
            }
            d.environment = env;
            if (d.code == "inherit-from-missing" && rp.plugin != nullptr) {
                adjust_missing_parent(d, *rp.plugin);
            }
            found.push_back(std::move(d));
        }
        auto index = index_of(rp);
        if (!index) {
            return;
        }
        PluginInfo& info = infos_[*index];
        // Settings the environment left as the base resolution has them: that resolution's
        // findings of them, in this environment.
        for (const std::uint32_t shared : rp.shared_settings) {
            for (const auto& [setting, finding] : info.setting_findings) {
                if (setting == shared) {
                    Diagnostic d = finding;
                    d.environment = env;
                    found.push_back(std::move(d));
                }
            }
        }
        // Only a finding needs the words (this runs for every plugin in every environment).
        const auto what = [&rp] {
            return fmt::format("{} '{}'", plugin_type_singular(rp.type), rp.name);
        };
        // A value that expands to "" becomes None and the lower stores are never consulted.
        for (const auto& s : rp.settings) {
            if (!s.value.is_null() || !s.unexpanded || !s.unexpanded->is_string()) {
                continue;
            }
            const std::string& raw = s.unexpanded->get_ref<const std::string&>();
            if (raw.empty() || only_runtime_references(raw)) {
                continue;
            }
            const auto refs = references(raw);
            const std::string vars =
                refs.empty() ? std::string("its variables") : quoted_list(refs);
            if (s.source == Source::meltano_environment && env) {
                if (!info.base_has_value(s.name)) {
                    continue;
                }
                found.push_back(diagnostic_at(
                    "empty-expansion", Severity::warning,
                    fmt::format("setting '{}' of {} expands to an empty value in environment "
                                "'{}', which drops its base value",
                                s.name, what(), *env),
                    s.position,
                    fmt::format("{} {} empty or undefined, and Meltano does not fall back to the "
                                "base value: define {}, or remove the environment's value to "
                                "keep the base one",
                                vars, refs.size() == 1 ? "is" : "are", vars),
                    env, rp.name));
            } else if (s.source == Source::meltano_yml && s.definition != nullptr &&
                       !s.definition->value.is_null()) {
                found.push_back(diagnostic_at(
                    "empty-expansion", Severity::warning,
                    fmt::format("setting '{}' of {} expands to an empty value, which drops its "
                                "default",
                                s.name, what()),
                    s.position,
                    fmt::format("{} {} empty or undefined, and Meltano does not fall back to the "
                                "default: define {}, or remove the value to keep the default",
                                vars, refs.size() == 1 ? "is" : "are", vars),
                    env, rp.name));
                if (!env) {
                    info.setting_findings.emplace_back(
                        static_cast<std::uint32_t>(&s - rp.settings.data()), found.back());
                }
            }
        }
        // settings_group_validation: at least one group must be fully set.
        if (!info.groups.empty() && rp.type != PluginType::mappings) {
            std::unordered_map<std::string_view, const ResolvedSetting*> by_name;
            by_name.reserve(rp.settings.size());
            for (const auto& s : rp.settings) {
                by_name.emplace(s.name, &s);
            }
            const std::vector<std::string>* best = nullptr;
            std::vector<std::string> best_missing;
            bool satisfied = false;
            for (const auto& group : info.groups) {
                std::vector<std::string> missing;
                for (const auto& name : group) {
                    auto it = by_name.find(name);
                    const bool set = it != by_name.end() && !it->second->value.is_null();
                    // Hermetic: a secret is expected to come from the environment running
                    // Meltano, never from git.
                    const bool from_env = !options_.with_env && it != by_name.end() &&
                                          it->second->sensitive;
                    if (!set && !from_env) {
                        missing.push_back(name);
                    }
                }
                if (missing.empty()) {
                    satisfied = true;
                    break;
                }
                if (best == nullptr || missing.size() < best_missing.size()) {
                    best = &group;
                    best_missing = std::move(missing);
                }
            }
            if (!satisfied && best != nullptr) {
                std::string groups;
                for (const auto& g : info.groups) {
                    groups += (groups.empty() ? "[" : " or [") + quoted_list(g) + "]";
                }
                std::string first_var;
                if (auto it = by_name.find(best_missing.front()); it != by_name.end()) {
                    first_var = std::string(it->second->env_var);
                }
                found.push_back(diagnostic_at(
                    "missing-required-settings", Severity::warning,
                    fmt::format("{} is missing required setting{} {}", what(),
                                best_missing.size() == 1 ? "" : "s", quoted_list(best_missing)),
                    rp.plugin->position,
                    fmt::format("its definition requires one of these groups to be set: {}; set "
                                "them in 'config:'{}",
                                groups,
                                first_var.empty()
                                    ? std::string()
                                    : fmt::format(" or through variables such as '{}'", first_var)),
                    env, rp.name));
            }
        }
    }
}

/// The findings of one resolution (for `env`, or with no environment), in discovery order: the
/// undefined variables', then each plugin's. Plugins go through plugin_findings as the resolver
/// hands them over, so no whole resolution is ever held. The base resolution also fills the
/// per-plugin infos that the environments' findings compare against. `request` receives the
/// resolution's own diagnostics (an unknown environment).
Diagnostics Validator::resolve_findings(const std::optional<std::string>& env, bool base,
                                        Diagnostics* request) {
    Diagnostics plugins_found;
    ResolveOptions ro = resolve_options(env);
    ro.on_plugin = [&](ResolvedPlugin&& rp) {
        if (base) {
            add_info(rp);
        }
        plugin_findings(rp, env, plugins_found);
    };
    const Resolution r = resolve(owner_, ro);
    Diagnostics found;
    undefined_findings(r.undefined_variables, env, found);
    found.insert(found.end(), std::make_move_iterator(plugins_found.begin()),
                 std::make_move_iterator(plugins_found.end()));
    if (request != nullptr) {
        *request = r.diagnostics;
    }
    return found;
}

void Validator::check_default_environment() {
    if (!p_.default_environment || p_.find_environment(*p_.default_environment) != nullptr) {
        return;
    }
    std::vector<std::string> names;
    for (const auto& e : p_.environments) {
        if (!e.duplicate) {
            names.push_back(e.name);
        }
    }
    std::string hint = did_you_mean(*p_.default_environment, names);
    if (hint.empty()) {
        hint = names.empty() ? std::string("the project defines no environments: add one or "
                                           "remove 'default_environment'")
                             : fmt::format("known environments: {}", quoted_list(names));
    }
    out_.push_back(diagnostic_at("unknown-default-environment", Severity::error,
                        fmt::format("default environment '{}' is not defined",
                                    *p_.default_environment),
                        p_.default_environment_position,
                        std::move(hint), *p_.default_environment));
}

std::string Validator::suggestion(PluginType type, const std::string& name) {
    // Environments' findings are made side by side (adjust_missing_parent asks from there).
    const std::lock_guard<std::mutex> lock(suggestion_mutex_);
    const std::string key = plugin_key(type, name);
    if (auto it = suggestion_cache_.find(key); it != suggestion_cache_.end()) {
        return it->second;
    }
    std::string hint;
    // Distances are computed against every plugin of the type: bound the work on hostile input.
    if (suggestion_cache_.size() < 1000) {
        auto names = names_by_type_.find(static_cast<int>(type));
        if (names != names_by_type_.end()) {
            hint = did_you_mean(name, names->second);
        }
    }
    suggestion_cache_.emplace(key, hint);
    return hint;
}

void Validator::adjust_missing_parent(Diagnostic& d, const Plugin& plugin) {
    if (!plugin.inherit_from) {
        return;
    }
    const std::string& parent = *plugin.inherit_from;
    const PluginType type =
        plugin.type == PluginType::mappings ? PluginType::mappers : plugin.type;
    // A parent of another type in the project: Meltano only looks for the same type, so the
    // Hub lookup that follows asks for the wrong plugin.
    if (auto it = plugins_by_name_.find(parent); it != plugins_by_name_.end()) {
        for (const Plugin* other : it->second) {
            if (other->type != type && other->type != PluginType::mappings) {
                d.hint = fmt::format("'{}' is {}, and {} can only inherit from {}: fix "
                                     "'inherit_from'",
                                     parent, with_article(plugin_type_singular(other->type)),
                                     plugin_type_name(type), plugin_type_name(type));
                return;
            }
        }
    }
    // Otherwise Meltano asks Meltano Hub for a definition named `inherit_from`, which offline
    // cannot be confirmed either way: a warning (the resolver's severity), with the nearest
    // project plugin if any.
    const std::string near = suggestion(type, parent);
    d.hint = fmt::format("{}no project plugin or lock file defines it, so Meltano looks it up on "
                         "Meltano Hub and fails if the Hub does not know it: run 'meltano lock "
                         "{}' and commit 'plugins/' to pin it",
                         near.empty() ? std::string() : near + " ", plugin.name);
}

void Validator::check_environment_plugins(const Environment& env, Diagnostics& out) {
    for (const auto& pc : env.plugins) {
        if (pc.duplicate || p_.find_plugin(pc.type, pc.name) != nullptr) {
            continue;
        }
        Position pos = pc.position;
        if (auto n = pc.node.find("name")) {
            pos = position_of(*n);
        }
        const std::string_view type_name = plugin_type_name(pc.type);
        const std::string_view singular = plugin_type_singular(pc.type);
        // Defined under another type?
        const Plugin* other = nullptr;
        if (auto it = plugins_by_name_.find(pc.name); it != plugins_by_name_.end()) {
            for (const Plugin* candidate : it->second) {
                if (candidate->type != PluginType::mappings) {
                    other = candidate;
                    break;
                }
            }
            if (other == nullptr && !it->second.empty() && pc.type == PluginType::mappers) {
                const Plugin* mapping = it->second.front();
                out.push_back(diagnostic_at(
                    "unknown-plugin", Severity::error,
                    fmt::format("environment '{}' configures mapper '{}', which is not defined",
                                env.name, pc.name),
                    pos,
                    fmt::format("'{}' is a mapping of mapper '{}': configure it in an entry "
                                "named '{}'",
                                pc.name, mapping->mapper, mapping->mapper),
                    env.name, pc.name));
                continue;
            }
        }
        if (other != nullptr) {
            out.push_back(diagnostic_at(
                "wrong-plugin-type", Severity::error,
                fmt::format("environment '{}' configures '{}' as {}, but it is {}", env.name,
                            pc.name, with_article(singular),
                            with_article(plugin_type_singular(other->type))),
                pos,
                fmt::format("Meltano silently ignores the entry: move it from '{}:' to '{}:'",
                            type_name, plugin_type_name(other->type)),
                env.name, pc.name));
            continue;
        }
        std::string hint = suggestion(pc.type, pc.name);
        const std::string consequence =
            fmt::format("Meltano silently ignores the entry, so '{}' runs with the base "
                        "configuration",
                        env.name);
        hint = hint.empty() ? fmt::format("{}: define {} '{}' under 'plugins: {}:' or remove the "
                                          "entry",
                                          consequence, singular, pc.name, type_name)
                            : hint;
        out.push_back(diagnostic_at("unknown-plugin", Severity::error,
                            fmt::format("environment '{}' configures {} '{}', which is not defined",
                                        env.name, singular, pc.name),
                            pos, std::move(hint), env.name, pc.name));
    }
}

void Validator::check_jobs_and_schedules() {
    std::unordered_set<std::string> job_names;
    std::vector<std::string> candidates;
    for (const auto& job : p_.jobs) {
        if (job_names.insert(job.name).second) {
            candidates.push_back(job.name);
        }
    }
    for (const auto& [name, plugins] : plugins_by_name_) {
        candidates.push_back(name);
    }
    std::sort(candidates.begin(), candidates.end());
    std::unordered_map<std::string, const Job*> first_job;
    for (const auto& job : p_.jobs) {
        auto [it, inserted] = first_job.emplace(job.name, &job);
        if (!inserted && (job.position.file == p_.files.front() ||
                          it->second->position.file == p_.files.front())) {
            out_.push_back(diagnostic_at("duplicate-job", Severity::warning,
                                fmt::format("job '{}' is defined twice; Meltano uses the first one",
                                            job.name),
                                job.position,
                                fmt::format("the first definition is at {}:{}",
                                            it->second->position.file,
                                            it->second->position.line)));
        }
        auto tasks = job.node.find("tasks");
        if (!tasks) {
            continue;
        }
        std::vector<yaml::NodeRef> stack{*tasks};
        std::size_t unknown = 0;
        while (!stack.empty()) {
            const yaml::NodeRef n = stack.back();
            stack.pop_back();
            if (n.is_sequence()) {
                for (std::size_t i = n.size(); i-- > 0;) {
                    stack.push_back(n.at(i));
                }
                continue;
            }
            if (!n.is_scalar() || n.is_null()) {
                continue;
            }
            const std::string_view text = n.text();
            const bool one_line = text.find('\n') == std::string_view::npos;
            const yaml::ScalarStyle style = n.style();
            std::size_t i = 0;
            while (i < text.size()) {
                while (i < text.size() && (text[i] == ' ' || text[i] == '\t' || text[i] == '\n')) {
                    ++i;
                }
                const std::size_t start = i;
                while (i < text.size() && text[i] != ' ' && text[i] != '\t' && text[i] != '\n') {
                    ++i;
                }
                if (start == i) {
                    continue;
                }
                const std::string token(text.substr(start, i - start));
                const std::string name = token.substr(0, token.find(':'));
                if (plugins_by_name_.count(name) != 0 || job_names.count(token) != 0 ||
                    job_names.count(name) != 0) {
                    continue;
                }
                Position pos = position_of(n);
                if (one_line && style == yaml::ScalarStyle::plain) {
                    pos.column += static_cast<std::uint32_t>(start);
                } else if (one_line && (style == yaml::ScalarStyle::single_quoted ||
                                        style == yaml::ScalarStyle::double_quoted)) {
                    pos.column += static_cast<std::uint32_t>(start) + 1;
                }
                std::string hint =
                    ++unknown <= 100 ? did_you_mean(name, candidates) : std::string();
                if (hint.empty()) {
                    hint = "a task names plugins (optionally 'plugin:command') or jobs: define "
                           "it or fix the name";
                }
                out_.push_back(diagnostic_at("unknown-plugin", Severity::error,
                                    fmt::format("job '{}' runs '{}', which is neither a plugin "
                                                "nor a job",
                                                job.name, name),
                                    pos, std::move(hint), std::nullopt, name));
            }
        }
    }
    std::unordered_map<std::string, const Schedule*> first_schedule;
    std::vector<std::string> job_list(job_names.begin(), job_names.end());
    std::sort(job_list.begin(), job_list.end());
    for (const auto& schedule : p_.schedules) {
        auto [it, inserted] = first_schedule.emplace(schedule.name, &schedule);
        if (!inserted && (schedule.position.file == p_.files.front() ||
                          it->second->position.file == p_.files.front())) {
            out_.push_back(diagnostic_at("duplicate-schedule", Severity::warning,
                                fmt::format("schedule '{}' is defined twice; Meltano uses the "
                                            "first one",
                                            schedule.name),
                                schedule.position,
                                fmt::format("the first definition is at {}:{}",
                                            it->second->position.file,
                                            it->second->position.line)));
        }
        auto pos_of = [&](std::string_view key) {
            auto v = schedule.node.find(key);
            return v ? position_of(*v) : schedule.position;
        };
        if (schedule.job && job_names.count(*schedule.job) == 0) {
            std::string hint = did_you_mean(*schedule.job, job_list);
            out_.push_back(diagnostic_at("unknown-job", Severity::error,
                                fmt::format("schedule '{}' runs job '{}', which is not defined",
                                            schedule.name, *schedule.job),
                                pos_of("job"),
                                hint.empty() ? std::string("define the job under 'jobs:' or fix "
                                                           "the name")
                                             : hint,
                                std::nullopt, std::nullopt));
        }
        using Ref = std::tuple<std::string_view, PluginType, const std::optional<std::string>*>;
        const std::array<Ref, 2> refs = {
            Ref{"extractor", PluginType::extractors, &schedule.extractor},
            Ref{"loader", PluginType::loaders, &schedule.loader},
        };
        for (auto [key, type, value] : refs) {
            if (!*value || p_.find_plugin(type, **value) != nullptr) {
                continue;
            }
            std::string hint = suggestion(type, **value);
            if (hint.empty()) {
                hint = fmt::format("define {} '{}' under 'plugins: {}:' or fix the name",
                                   key, **value, plugin_type_name(type));
            }
            out_.push_back(diagnostic_at("unknown-plugin", Severity::error,
                                fmt::format("schedule '{}' runs {} '{}', which is not defined",
                                            schedule.name, key, **value),
                                pos_of(key), std::move(hint), std::nullopt, **value));
        }
    }
}

void Validator::report_secret(const yaml::NodeRef& value, const SettingDefinition& def,
                              std::size_t index, const std::optional<std::string>& env,
                              Diagnostics& out) {
    auto literal = literal_scalar(value);
    if (!literal) {
        return;
    }
    const Plugin& plugin = p_.plugins[index];
    const PluginInfo& info = infos_[index];
    std::string var;
    for (const auto& [name, env_var] : info.sensitive_env) {
        if (name == def.name) {
            var = env_var;
        }
    }
    const Position pos = position_of(*literal);
    out.push_back(diagnostic_at(
        "secret-in-git", Severity::warning,
        fmt::format("sensitive setting '{}' of {} '{}' has a literal value in '{}'", def.name,
                    plugin_type_singular(plugin.type), plugin.name, pos.file),
        pos,
        var.empty()
            ? std::string("move the secret out of git (into '.env' or the environment that runs "
                          "Meltano) and rotate it: it stays in the history")
            : fmt::format("move the secret out of git: set '{}' in '.env' or in the environment "
                          "that runs Meltano, or write '${{{}}}' here; rotate it, it stays in "
                          "the history",
                          var, var),
        env, plugin.name));
}

void Validator::check_config(const yaml::NodeRef& config, std::size_t index,
                             const std::optional<std::string>& env, Diagnostics& out) {
    if (!config || !config.is_mapping()) {
        return;
    }
    const PluginInfo& info = infos_[index];
    if (info.definitions.empty()) {
        return;  // nothing defined: every key is a custom setting, nothing is sensitive
    }
    const Plugin& plugin = p_.plugins[index];
    auto defined_under = [&](const std::string& path) {
        const std::string prefix = path + ".";
        auto it = std::lower_bound(info.names.begin(), info.names.end(), prefix);
        return it != info.names.end() && util::starts_with(*it, prefix);
    };
    // The definition `path` or one of its dotted prefixes names (the longest wins).
    auto definition_of = [&](const std::string& path) -> const SettingDefinition* {
        std::size_t end = path.size();
        while (true) {
            auto it = info.definitions.find(std::string_view(path).substr(0, end));
            if (it != info.definitions.end()) {
                return it->second;
            }
            const std::size_t dot = path.rfind('.', end == 0 ? 0 : end - 1);
            if (dot == std::string::npos || dot == 0) {
                return nullptr;
            }
            end = dot;
        }
    };
    boost::container::small_vector<std::pair<yaml::NodeRef, std::string>, 8> stack{
        {config, std::string()}};
    while (!stack.empty()) {
        auto [node, prefix] = std::move(stack.back());
        stack.pop_back();
        for (std::size_t i = 0; i < node.size(); ++i) {
            const yaml::NodeRef k = node.key(i);
            const yaml::NodeRef v = node.value(i);
            if (!k.is_scalar() || k.is_null()) {
                continue;  // the resolver reports non-string keys
            }
            const std::string path =
                prefix.empty() ? std::string(k.text()) : prefix + "." + std::string(k.text());
            if (const SettingDefinition* def = definition_of(path)) {
                if (def->sensitive) {
                    report_secret(v, *def, index, env, out);
                }
                continue;
            }
            // Only descend while some setting lives under this path: depth is bounded by the
            // setting names, not by the document.
            if (v.is_mapping() && v.size() > 0 && defined_under(path)) {
                stack.emplace_back(v, path);
                continue;
            }
            if (!info.known_definition || k.text().empty() || k.text().front() == '_') {
                continue;
            }
            std::string hint = did_you_mean(path, info.names);
            if (hint.empty() && info.embedded_definition) {
                hint = "the plugin's own 'settings:' list does not declare it; Meltano passes it "
                       "on as a custom setting, so declare it if the plugin reads it, or fix the "
                       "name";
            } else if (hint.empty()) {
                hint = fmt::format("{} '{}' defines no such setting, so the value configures "
                                   "nothing: check the name against its settings ('meltano "
                                   "config list {}')",
                                   plugin_type_singular(plugin.type), plugin.name, plugin.name);
            } else {
                hint += fmt::format(" ({} '{}' defines no setting '{}', so the value configures "
                                    "nothing)",
                                    plugin_type_singular(plugin.type), plugin.name, path);
            }
            out.push_back(diagnostic_at("unknown-setting", Severity::warning,
                                fmt::format("{} '{}' has no setting '{}'",
                                            plugin_type_singular(plugin.type), plugin.name, path),
                                position_of(k), std::move(hint), env, plugin.name));
        }
    }
}

void Validator::check_env_block(const std::vector<EnvEntry>& block,
                                const std::optional<std::string>& env, Diagnostics& out) {
    for (const auto& entry : block) {
        auto it = sensitive_vars_.find(entry.name);
        if (it == sensitive_vars_.end() || !entry.value) {
            continue;
        }
        report_secret(entry.value, *it->second.second, it->second.first, env, out);
    }
}

void Validator::check_base_config(Diagnostics& out) {
    for (std::size_t i = 0; i < p_.plugins.size(); ++i) {
        if (!p_.plugins[i].duplicate) {
            check_config(p_.plugins[i].config, i, std::nullopt, out);
            check_env_block(p_.plugins[i].env, std::nullopt, out);
        }
    }
    check_env_block(p_.env, std::nullopt, out);
}

void Validator::check_environment_config(const Environment& env, Diagnostics& out) {
    check_env_block(env.env, env.name, out);
    for (const auto& pc : env.plugins) {
        if (pc.duplicate) {
            continue;
        }
        const Plugin* plugin = p_.find_plugin(pc.type, pc.name);
        if (plugin == nullptr) {
            continue;
        }
        const auto index = static_cast<std::size_t>(plugin - p_.plugins.data());
        check_config(pc.config, index, env.name, out);
        check_env_block(pc.env, env.name, out);
    }
}

std::vector<std::string> Validator::run() {
    for (const auto& plugin : p_.plugins) {
        if (plugin.duplicate) {
            continue;
        }
        plugins_by_name_[plugin.name].push_back(&plugin);
        if (plugin.type != PluginType::mappings) {
            names_by_type_[static_cast<int>(plugin.type)].push_back(plugin.name);
        }
    }
    // Which environments: the requested ones that exist, or all of them.
    std::vector<const Environment*> envs;
    std::vector<std::string> validated;
    if (options_.environments.empty()) {
        for (const auto& e : p_.environments) {
            if (!e.duplicate) {
                envs.push_back(&e);
            }
        }
    } else {
        std::set<std::string> requested;
        std::vector<std::string> known;
        for (const auto& e : p_.environments) {
            if (!e.duplicate) {
                known.push_back(e.name);
            }
        }
        for (const auto& name : options_.environments) {
            if (!requested.insert(name).second) {
                continue;
            }
            if (const Environment* e = p_.find_environment(name)) {
                envs.push_back(e);
                continue;
            }
            if (p_.default_environment == name) {
                continue;  // reported as unknown-default-environment, at its position
            }
            std::string hint = did_you_mean(name, known);
            if (hint.empty()) {
                hint = known.empty() ? std::string("the project defines no environments")
                                     : fmt::format("known environments: {}", quoted_list(known));
            }
            out_.push_back(diagnostic_at("unknown-environment", Severity::error,
                                fmt::format("environment '{}' is not defined", name), Position{},
                                std::move(hint), name));
        }
    }
    for (const Environment* e : envs) {
        validated.push_back(e->name);
    }

    check_default_environment();
    check_jobs_and_schedules();

    // Base findings, kept until an environment reproduces them (or no environment is
    // validated). The base resolution itself goes before the environments': one resolution
    // is alive at a time.
    std::vector<BaseFinding> base_findings;
    std::unordered_map<std::string, std::size_t> base_index;
    // Each resolution in flight holds a few MiB on a 2,000-plugin project: bounded. A thread
    // costs about 0.1 ms to start and a plugin about 6 µs to resolve in one environment
    // (BENCHMARKS.md), so small projects (the seed's one plugin) stay on one thread.
    constexpr std::size_t max_threads = 4;
    constexpr std::size_t min_plugin_environments = 64;
    const std::size_t threads = p_.plugins.size() * envs.size() < min_plugin_environments
                                    ? 1
                                    : std::min(util::hardware_threads(), max_threads);
    // The resolution with no environment, beside the results the environments will share.
    share_ = envs.size() > 1;
    prepare_infos();
    // Runs task(k) for k in [0, n) side by side, then rethrows the first failure.
    std::vector<std::exception_ptr> failures;
    auto run_tasks = [&](std::size_t n, const std::function<void(std::size_t)>& task) {
        failures.assign(n, nullptr);
        util::parallel_for(n, threads, [&](std::size_t k) {
            try {
                task(k);
            } catch (...) {
                failures[k] = std::current_exception();
            }
        });
        for (const auto& failure : failures) {
            if (failure) {
                std::rethrow_exception(failure);
            }
        }
    };
    Diagnostics base_found;
    run_tasks(share_ ? 2 : 1, [&](std::size_t k) {
        if (k == 0) {
            base_found = resolve_findings(std::nullopt, true, nullptr);
        } else {
            prepare_shared_results(p_);
        }
    });
    for (auto& d : base_found) {
        std::string key = finding_key(d);
        if (base_index.emplace(std::move(key), base_findings.size()).second) {
            base_findings.push_back(BaseFinding{std::move(d), {}});
        }
    }
    // The environments resolve side by side (each resolution is independent and reads only the
    // project and the infos above). Then their blocks and the base configuration are checked,
    // side by side too: checked within each environment's task, they slowed the resolutions
    // down by more than they took (the 2,000-plugin benchmark project, 85 -> 125 ms). The
    // findings are merged in the order of a one-thread run.
    struct Outcome {
        Diagnostics plugins;  ///< the environment's plugin entries
        Diagnostics request;
        Diagnostics found;
        Diagnostics config;   ///< keys that configure nothing, secrets
    };
    std::vector<Outcome> outcomes(envs.size());
    Diagnostics base_config;
    run_tasks(envs.size(), [&](std::size_t k) {
        check_environment_plugins(*envs[k], outcomes[k].plugins);
        outcomes[k].found = resolve_findings(envs[k]->name, false, &outcomes[k].request);
    });
    run_tasks(envs.size() + 1, [&](std::size_t k) {
        if (k == envs.size()) {
            check_base_config(base_config);
        } else {
            check_environment_config(*envs[k], outcomes[k].config);
        }
    });
    auto append = [&](Diagnostics& from) {
        out_.insert(out_.end(), std::make_move_iterator(from.begin()),
                    std::make_move_iterator(from.end()));
    };
    for (std::size_t k = 0; k < envs.size(); ++k) {
        const Environment* e = envs[k];
        append(outcomes[k].plugins);
        append(outcomes[k].request);
        for (auto& d : outcomes[k].found) {
            auto it = base_index.find(finding_key(d));
            if (it != base_index.end()) {
                auto& seen = base_findings[it->second].environments;
                if (seen.empty() || seen.back() != e->name) {
                    seen.push_back(e->name);
                }
                continue;
            }
            out_.push_back(std::move(d));
        }
    }
    for (auto& f : base_findings) {
        if (envs.empty() || f.environments.size() == envs.size()) {
            out_.push_back(std::move(f.diagnostic));
            continue;
        }
        for (const auto& name : f.environments) {
            Diagnostic d = f.diagnostic;
            d.environment = name;
            out_.push_back(std::move(d));
        }
    }
    // Keys that configure nothing, and secrets committed to git: the base configuration of every
    // plugin, then each validated environment's entries.
    append(base_config);
    for (auto& outcome : outcomes) {
        append(outcome.config);
    }
    return validated;
}

}  // namespace

ValidationResult validate(const LoadResult& load, const ValidateOptions& options) {
    ValidationResult result;
    Diagnostics all = load.diagnostics;
    if (load.project) {
        Validator validator(load.project, options, all);
        result.environments = validator.run();
    }
    result.diagnostics = finish(std::move(all));
    return result;
}

ValidationResult validate_structure(const LoadResult& load) {
    ValidationResult result;
    result.diagnostics = finish(load.diagnostics);
    return result;
}

}  // namespace dataops::meltano
