#include <dataops/report/env_report.hpp>

#include <algorithm>
#include <cstdint>
#include <iterator>
#include <map>
#include <sstream>

#include <dataops/meltano/values.hpp>
#include <dataops/util/strings.hpp>
#include <fmt/format.h>

namespace dataops::report {
namespace {

using meltano::PluginType;
using meltano::ResolvedPlugin;
using meltano::ResolvedSetting;
using meltano::Source;

bool is_redacted(const ResolvedSetting& setting, bool reveal) {
    if (reveal || !setting.sensitive) {
        return false;
    }
    // As Meltano: only a truthy value is redacted (null, "", false and 0 give nothing away).
    const auto& v = setting.value;
    if (v.is_null()) {
        return false;
    }
    if (v.is_string()) {
        return !v.get<std::string>().empty();
    }
    if (v.is_boolean()) {
        return v.get<bool>();
    }
    if (v.is_number()) {
        return v != 0;
    }
    return !v.empty();
}

bool needs_quotes(const std::string& text) {
    if (text.empty()) {
        return true;
    }
    return std::any_of(text.begin(), text.end(), [](char c) { return static_cast<unsigned char>(c) < 0x20; });
}

std::string position_text(const meltano::Position& position) {
    if (position.file.empty()) {
        return {};
    }
    if (position.line == 0) {
        return position.file;
    }
    return fmt::format("{}:{}:{}", position.file, position.line, position.column);
}

std::string plugin_title(const ResolvedPlugin& plugin) {
    if (plugin.mapper) {
        return fmt::format("{} (mapping of mapper '{}')", plugin.name, *plugin.mapper);
    }
    std::string title = fmt::format("{} ({})", plugin.name, singular(plugin.type));
    if (plugin.inherit_from) {
        title += fmt::format(", inherits from '{}'", *plugin.inherit_from);
    }
    return title;
}

bool selected(const ResolvedPlugin& plugin, const std::vector<std::string>& names) {
    if (names.empty()) {
        return true;
    }
    return std::any_of(names.begin(), names.end(), [&](const std::string& name) {
        return name == plugin.name || (plugin.mapper && name == *plugin.mapper);
    });
}

std::string type_name(PluginType type) {
    return std::string(meltano::plugin_type_name(type));
}

nlohmann::ordered_json position_json(const meltano::Position& position) {
    if (position.file.empty()) {
        return nullptr;
    }
    return {{"file", position.file}, {"line", position.line}, {"column", position.column}};
}

}  // namespace

std::string singular(PluginType type) {
    return std::string(meltano::plugin_type_singular(type));
}

std::string format_diagnostic(const meltano::Diagnostic& d, const Style& style) {
    std::string where;
    if (!d.file.empty()) {
        where = style.bold(d.line > 0 ? fmt::format("{}:{}:{}:", d.file, d.line, d.column) : d.file + ":") + " ";
    }
    const bool error = d.severity == meltano::Severity::error;
    std::string out = fmt::format("{}{} {} [{}]\n", where, error ? style.error("error:") : style.warning("warning:"),
                                  d.message, d.code);
    if (!d.hint.empty()) {
        out += fmt::format("  hint: {}\n", d.hint);
    }
    return out;
}

std::string display_value(const ResolvedSetting& setting, bool reveal) {
    if (is_redacted(setting, reveal)) {
        return kRedacted;
    }
    const auto& v = setting.value;
    if (v.is_string()) {
        const auto& text = v.get_ref<const std::string&>();
        return needs_quotes(text) ? v.dump() : text;
    }
    return v.dump();
}

nlohmann::ordered_json json_value(const ResolvedSetting& setting, bool reveal) {
    if (is_redacted(setting, reveal)) {
        return kRedacted;
    }
    return setting.value;
}

/// The source column: the store and, for variables, which one.
std::string describe_source(const ResolvedSetting& setting) {
    std::string text;
    switch (setting.source) {
        case Source::env:
        case Source::dotenv:
            text = std::string(meltano::source_name(setting.source));
            if (setting.env_var_used) {
                text += ' ';
                text += *setting.env_var_used;
            }
            break;
        case Source::inherited:
            text = setting.inherited_from ? fmt::format("inherited from '{}'", *setting.inherited_from)
                                          : std::string("inherited");
            break;
        default:
            text = std::string(meltano::source_name(setting.source));
    }
    return text;
}

std::string env_list_text(const EnvListInput& input) {
    std::vector<std::vector<std::string>> rows;
    for (const auto& env : input.project->environments) {
        bool is_default = input.project->default_environment == env.name && !env.duplicate;
        std::string where = position_text(env.position);
        if (env.duplicate) {
            where += "  (duplicate: ignored by Meltano)";
        }
        rows.push_back({is_default ? "*" : " ", env.name, where});
    }
    return util::columns(rows, "");
}

nlohmann::ordered_json env_list_json(const EnvListInput& input) {
    nlohmann::ordered_json out;
    out["revision"] = input.revision ? nlohmann::ordered_json(*input.revision) : nullptr;
    const auto& def = input.project->default_environment;
    out["default_environment"] = def ? nlohmann::ordered_json(*def) : nullptr;
    out["environments"] = nlohmann::ordered_json::array();
    for (const auto& env : input.project->environments) {
        out["environments"].push_back({{"name", env.name},
                                       {"file", env.position.file},
                                       {"line", env.position.line},
                                       {"column", env.position.column},
                                       {"default", def == env.name && !env.duplicate},
                                       {"duplicate", env.duplicate}});
    }
    return out;
}

std::string show_text(const ShowInput& input) {
    std::ostringstream out;
    write_show_text(out, input);
    return out.str();
}

void write_show_text(std::ostream& out, const ShowInput& input) {
    // Plugin by plugin: each aligns its own columns, and the whole text of a big project
    // need not be held at once.
    const auto& resolution = *input.resolution;
    out << fmt::format("environment: {}\n", resolution.environment.value_or("(none)"));
    if (input.revision) {
        out << fmt::format("revision: {}\n", *input.revision);
    }
    for (const auto& plugin : resolution.plugins) {
        if (!selected(plugin, input.plugins)) {
            continue;
        }
        std::vector<std::vector<std::string>> rows;
        for (const auto& setting : plugin.settings) {
            // Unset settings and the extras every plugin has by default are noise for a person.
            bool default_extra = setting.extra && setting.source == Source::default_;
            if (!input.all && (setting.value.is_null() || default_extra)) {
                continue;
            }
            rows.push_back({setting.name, display_value(setting, input.reveal),
                            input.style.dim(describe_source(setting)),
                            input.style.dim(position_text(setting.position))});
        }
        out << fmt::format("\n{}\n", plugin_title(plugin));
        out << (rows.empty() ? "  (no settings with a value)\n" : util::columns(rows, "  "));
    }
    if (!resolution.undefined_variables.empty()) {
        out << "\nundefined variables (they expand to an empty string):\n";
        std::vector<std::vector<std::string>> rows;
        for (const auto& var : resolution.undefined_variables) {
            std::string where;
            if (var.plugin && var.setting) {
                where = fmt::format("{}.{}", *var.plugin, *var.setting);
            } else if (var.plugin) {
                where = *var.plugin;
            } else {
                where = "env";
            }
            rows.push_back({var.name, where, position_text(var.position)});
        }
        out << util::columns(rows, "  ");
    }
}

namespace {

/// A plugin's "diagnostics" in show_json.
nlohmann::ordered_json diagnostics_json(const ResolvedPlugin& plugin) {
    nlohmann::ordered_json out = nlohmann::ordered_json::array();
    for (const auto& d : plugin.diagnostics) {
        out.push_back({{"code", d.code},
                       {"severity", d.severity == meltano::Severity::error ? "error" : "warning"},
                       {"message", d.message},
                       {"file", d.file},
                       {"line", d.line},
                       {"column", d.column}});
    }
    return out;
}

/// One entry of show_json's "plugins".
nlohmann::ordered_json plugin_json(const ResolvedPlugin& plugin, bool reveal) {
    nlohmann::ordered_json entry;
    entry["type"] = type_name(plugin.type);
    entry["name"] = plugin.name;
    if (plugin.mapper) {
        entry["mapper"] = *plugin.mapper;
    }
    entry["inherit_from"] = plugin.inherit_from ? nlohmann::ordered_json(*plugin.inherit_from) : nullptr;
    entry["settings"] = nlohmann::ordered_json::array();
    for (const auto& setting : plugin.settings) {
        nlohmann::ordered_json s;
        s["name"] = setting.name;
        s["value"] = json_value(setting, reveal);
        s["source"] = std::string(meltano::source_name(setting.source));
        if (setting.inherited_from) {
            s["inherited_from"] = *setting.inherited_from;
        }
        if (setting.env_var_used) {
            s["env_var_used"] = *setting.env_var_used;
        }
        s["env"] = std::string(setting.env_var);
        s["sensitive"] = setting.sensitive;
        auto kind = meltano::setting_kind_name(setting.kind);
        s["kind"] = kind.empty() ? std::string("string") : std::string(kind);
        s["custom"] = setting.custom;
        s["position"] = position_json(setting.position);
        entry["settings"].push_back(std::move(s));
    }
    entry["diagnostics"] = diagnostics_json(plugin);
    return entry;
}

nlohmann::ordered_json undefined_json(const meltano::Resolution& resolution) {
    nlohmann::ordered_json out = nlohmann::ordered_json::array();
    for (const auto& var : resolution.undefined_variables) {
        out.push_back({{"name", var.name},
                       {"plugin", var.plugin ? nlohmann::ordered_json(*var.plugin) : nullptr},
                       {"setting", var.setting ? nlohmann::ordered_json(*var.setting) : nullptr},
                       {"position", position_json(var.position)}});
    }
    return out;
}

}  // namespace

nlohmann::ordered_json show_json(const ShowInput& input) {
    const auto& resolution = *input.resolution;
    nlohmann::ordered_json out;
    out["environment"] = resolution.environment ? nlohmann::ordered_json(*resolution.environment) : nullptr;
    out["revision"] = input.revision ? nlohmann::ordered_json(*input.revision) : nullptr;
    out["plugins"] = nlohmann::ordered_json::array();
    for (const auto& plugin : resolution.plugins) {
        if (selected(plugin, input.plugins)) {
            out["plugins"].push_back(plugin_json(plugin, input.reveal));
        }
    }
    out["undefined_variables"] = undefined_json(resolution);
    return out;
}

namespace {

/// Writes show_json's document as nlohmann's dump(2) would print it, straight into a buffer
/// flushed to the stream in large blocks: building the JSON nodes of a 2,000-plugin project
/// only to print them cost more than resolving it.
class JsonOut {
public:
    explicit JsonOut(std::ostream& out) : out_(out) { buf_.reserve(kBlock + 4096); }
    JsonOut(const JsonOut&) = delete;
    JsonOut& operator=(const JsonOut&) = delete;
    ~JsonOut() { flush(); }

    void raw(std::string_view text) {
        buf_.append(text);
        if (buf_.size() >= kBlock) {
            flush();
        }
    }
    void indent(int depth) { buf_.append(static_cast<std::size_t>(2 * depth), ' '); }
    /// `"key": ` on a new line of an object whose members are at `depth`.
    void key(int depth, std::string_view name, bool& first) {
        buf_.append(first ? "\n" : ",\n");
        first = false;
        indent(depth);
        string(name);
        buf_.append(": ");
    }
    /// The key and its string, only when there is one (nlohmann omits unset members).
    template <class Text>
    void key_if(int depth, std::string_view name, bool& first, const std::optional<Text>& text) {
        if (text) {
            key(depth, name, first);
            string(*text);
        }
    }
    /// The start of an array element on a new line, the elements at `depth`.
    void element(int depth, bool& first) {
        buf_.append(first ? "\n" : ",\n");
        first = false;
        indent(depth);
    }
    void null() { raw("null"); }
    template <class Text>
    void string_or_null(const std::optional<Text>& text) {
        if (text) {
            string(*text);
        } else {
            null();
        }
    }
    void boolean(bool value) { raw(value ? "true" : "false"); }
    void integer(std::int64_t value) { fmt::format_to(std::back_inserter(buf_), "{}", value); }
    /// A JSON string as nlohmann escapes it (ensure_ascii off): quote, backslash and the control
    /// characters; \u00XX in lower-case hex for those without a short form. Text that is not
    /// valid UTF-8 goes through nlohmann itself, so it fails exactly as dump() does.
    void string(std::string_view text) {
        const bool ascii = std::all_of(text.begin(), text.end(), [](char c) {
            return static_cast<unsigned char>(c) < 0x80;
        });
        if (!ascii && meltano::valid_utf8(text) != text) {
            raw(nlohmann::ordered_json(std::string(text)).dump());
            return;
        }
        buf_ += '"';
        std::size_t plain = 0;
        for (std::size_t i = 0; i < text.size(); ++i) {
            const auto c = static_cast<unsigned char>(text[i]);
            if (c >= 0x20 && c != '"' && c != '\\') {
                continue;
            }
            buf_.append(text.substr(plain, i - plain));
            plain = i + 1;
            switch (c) {
                case '"': buf_.append("\\\""); break;
                case '\\': buf_.append("\\\\"); break;
                case '\b': buf_.append("\\b"); break;
                case '\f': buf_.append("\\f"); break;
                case '\n': buf_.append("\\n"); break;
                case '\r': buf_.append("\\r"); break;
                case '\t': buf_.append("\\t"); break;
                default: fmt::format_to(std::back_inserter(buf_), "\\u{:04x}", c);
            }
        }
        buf_.append(text.substr(plain));
        buf_ += '"';
        if (buf_.size() >= kBlock) {
            flush();
        }
    }
    /// Any value, its nested lines indented for a value at `depth`.
    void value(const nlohmann::ordered_json& v, int depth) {
        if (v.is_string()) {
            string(v.get_ref<const std::string&>());
        } else if (v.is_null()) {
            null();
        } else if (v.is_boolean()) {
            boolean(v.get<bool>());
        } else if (v.is_number_integer() && !v.is_number_unsigned()) {
            integer(v.get<std::int64_t>());
        } else if (v.is_structured() && !v.empty()) {
            nested(v.dump(2), depth);
        } else {
            raw(v.dump());
        }
    }
    /// `text`, a JSON document dumped with an indent of 2, as the value nested `depth` levels
    /// deep in another such dump.
    void nested(const std::string& text, int depth) {
        std::size_t start = 0;
        for (std::size_t nl = text.find('\n'); nl != std::string::npos; nl = text.find('\n', start)) {
            raw(std::string_view(text).substr(start, nl + 1 - start));
            indent(depth);
            start = nl + 1;
        }
        raw(std::string_view(text).substr(start));
    }
    void flush() {
        out_.write(buf_.data(), static_cast<std::streamsize>(buf_.size()));
        buf_.clear();
    }

private:
    static constexpr std::size_t kBlock = 1 << 16;
    std::ostream& out_;
    std::string buf_;
};

void write_position(JsonOut& o, const meltano::Position& position, int depth) {
    if (position.file.empty()) {
        o.null();
        return;
    }
    bool first = true;
    o.raw("{");
    o.key(depth + 1, "file", first);
    o.string(position.file);
    o.key(depth + 1, "line", first);
    o.integer(static_cast<std::int64_t>(position.line));
    o.key(depth + 1, "column", first);
    o.integer(static_cast<std::int64_t>(position.column));
    o.raw("\n");
    o.indent(depth);
    o.raw("}");
}

/// plugin_json(plugin, reveal), written as an element of an array at `depth`.
void write_plugin(JsonOut& o, const ResolvedPlugin& plugin, bool reveal, int depth) {
    const int d = depth + 1;  // the plugin's members
    bool first = true;
    o.raw("{");
    o.key(d, "type", first);
    o.string(meltano::plugin_type_name(plugin.type));
    o.key(d, "name", first);
    o.string(plugin.name);
    o.key_if(d, "mapper", first, plugin.mapper);
    o.key(d, "inherit_from", first);
    o.string_or_null(plugin.inherit_from);
    o.key(d, "settings", first);
    if (plugin.settings.empty()) {
        o.raw("[]");
    } else {
        o.raw("[");
        bool first_setting = true;
        for (const auto& setting : plugin.settings) {
            o.element(d + 1, first_setting);
            o.raw("{");
            const int m = d + 2;  // the setting's members
            bool first_member = true;
            o.key(m, "name", first_member);
            o.string(setting.name);
            o.key(m, "value", first_member);
            if (is_redacted(setting, reveal)) {
                o.string(kRedacted);
            } else {
                o.value(setting.value, m);
            }
            o.key(m, "source", first_member);
            o.string(meltano::source_name(setting.source));
            o.key_if(m, "inherited_from", first_member, setting.inherited_from);
            o.key_if(m, "env_var_used", first_member, setting.env_var_used);
            o.key(m, "env", first_member);
            o.string(setting.env_var);
            o.key(m, "sensitive", first_member);
            o.boolean(setting.sensitive);
            o.key(m, "kind", first_member);
            const auto kind = meltano::setting_kind_name(setting.kind);
            o.string(kind.empty() ? std::string_view("string") : kind);
            o.key(m, "custom", first_member);
            o.boolean(setting.custom);
            o.key(m, "position", first_member);
            write_position(o, setting.position, m);
            o.raw("\n");
            o.indent(d + 1);
            o.raw("}");
        }
        o.raw("\n");
        o.indent(d);
        o.raw("]");
    }
    o.key(d, "diagnostics", first);
    if (plugin.diagnostics.empty()) {
        o.raw("[]");
    } else {
        o.nested(diagnostics_json(plugin).dump(2), d);
    }
    o.raw("\n");
    o.indent(depth);
    o.raw("}");
}

}  // namespace

void write_show_json(std::ostream& out, const ShowInput& input) {
    // The bytes of show_json(input).dump(2) and a newline, one plugin at a time: the whole
    // document of a 2,000-plugin project is some 40 MB of JSON nodes.
    const auto& resolution = *input.resolution;
    JsonOut o(out);
    o.raw("{\n  \"environment\": ");
    o.string_or_null(resolution.environment);
    o.raw(",\n  \"revision\": ");
    o.string_or_null(input.revision);
    o.raw(",\n  \"plugins\": [");
    bool first = true;
    for (const auto& plugin : resolution.plugins) {
        if (!selected(plugin, input.plugins)) {
            continue;
        }
        o.element(2, first);
        write_plugin(o, plugin, input.reveal, 2);
    }
    o.raw(first ? "]" : "\n  ]");
    o.raw(",\n  \"undefined_variables\": ");
    o.nested(undefined_json(resolution).dump(2), 1);
    o.raw("\n}\n");
}

std::string show_env(const ShowInput& input) {
    std::string out;
    for (const auto& plugin : input.resolution->plugins) {
        if (!selected(plugin, input.plugins)) {
            continue;
        }
        out += fmt::format("# {} {}\n", type_name(plugin.type), plugin.name);
        // Which variables carry a redacted value: every name of a sensitive setting with a value.
        std::map<std::string, bool> secret;
        for (const auto& setting : plugin.settings) {
            if (is_redacted(setting, input.reveal)) {
                for (auto& name : meltano::env_vars(plugin, setting)) {
                    secret[std::move(name)] = true;
                }
            }
        }
        for (const auto& [name, value] : meltano::settings_env(plugin)) {
            std::string shown = secret.count(name) > 0 ? std::string(kRedacted) : value;
            // Single quotes as `meltano config print --format=env`; a quote inside is escaped.
            std::string quoted;
            for (char c : shown) {
                quoted += c == '\'' ? std::string("'\\''") : std::string(1, c);
            }
            out += fmt::format("{}='{}'\n", name, quoted);
        }
    }
    return out;
}

std::vector<PluginChange> compare(const meltano::Resolution& a, const meltano::Resolution& b) {
    std::vector<PluginChange> changes;
    auto key = [](const ResolvedPlugin& p) { return meltano::plugin_key(p.type, p.name); };
    std::map<std::string, const ResolvedPlugin*> in_a;
    for (const auto& p : a.plugins) {
        in_a.emplace(key(p), &p);
    }
    std::map<std::string, bool> seen;
    for (const auto& pb : b.plugins) {
        seen[key(pb)] = true;
        auto found = in_a.find(key(pb));
        const ResolvedPlugin* pa = found == in_a.end() ? nullptr : found->second;
        PluginChange change{pb.type, pb.name, pb.mapper, false, pa == nullptr, {}};
        for (const auto& sb : pb.settings) {
            const ResolvedSetting* sa = pa != nullptr ? pa->find(sb.name) : nullptr;
            bool differs = sa == nullptr ? !sb.value.is_null() : sa->value != sb.value;
            if (differs) {
                change.settings.push_back({sb.name, sa, &sb});
            }
        }
        if (pa != nullptr) {
            for (const auto& sa : pa->settings) {
                if (pb.find(sa.name) == nullptr && !sa.value.is_null()) {
                    change.settings.push_back({sa.name, &sa, nullptr});
                }
            }
        }
        if (!change.settings.empty() || change.only_in_b) {
            changes.push_back(std::move(change));
        }
    }
    for (const auto& pa : a.plugins) {
        if (seen.count(key(pa)) == 0) {
            PluginChange change{pa.type, pa.name, pa.mapper, true, false, {}};
            for (const auto& sa : pa.settings) {
                if (!sa.value.is_null()) {
                    change.settings.push_back({sa.name, &sa, nullptr});
                }
            }
            changes.push_back(std::move(change));
        }
    }
    return changes;
}

namespace {

/// `s` as one side of a diff: sensitive when either side is, so a value that was a secret on one
/// side stays redacted where the other forgot to say so (a lock file removed, a definition changed).
ResolvedSetting diff_side(const ResolvedSetting& s, const ResolvedSetting* other) {
    ResolvedSetting side = s;
    side.sensitive = s.sensitive || (other != nullptr && other->sensitive);
    return side;
}

}  // namespace

std::string diff_text(const DiffSide& a, const DiffSide& b, const std::vector<PluginChange>& changes,
                      bool reveal, const Style& style) {
    std::string out = fmt::format("--- {}\n+++ {}\n", a.label, b.label);
    auto shown = [&](const ResolvedSetting* s, const ResolvedSetting* other) {
        if (s == nullptr || s->value.is_null()) {
            return std::string("(unset)");
        }
        return display_value(diff_side(*s, other), reveal);
    };
    for (const auto& change : changes) {
        std::string title = fmt::format("{} ({})", change.name, singular(change.type));
        if (change.only_in_a) {
            title += fmt::format(", only in {}", a.label);
        } else if (change.only_in_b) {
            title += fmt::format(", only in {}", b.label);
        }
        out += fmt::format("\n{}\n", title);
        std::vector<std::vector<std::string>> rows;
        for (const auto& s : change.settings) {
            rows.push_back({s.name, style.removed(shown(s.a, s.b)), "->", style.added(shown(s.b, s.a))});
        }
        out += util::columns(rows, "  ");
    }
    if (changes.empty()) {
        out += "\nno differences\n";
    }
    return out;
}

nlohmann::ordered_json diff_json(const DiffSide& a, const DiffSide& b, const std::vector<PluginChange>& changes,
                                 bool reveal) {
    auto side = [](const DiffSide& s) {
        return nlohmann::ordered_json{
            {"label", s.label},
            {"environment", s.resolution->environment ? nlohmann::ordered_json(*s.resolution->environment) : nullptr},
            {"revision", s.revision ? nlohmann::ordered_json(*s.revision) : nullptr}};
    };
    auto value = [&](const ResolvedSetting* s, const ResolvedSetting* other) -> nlohmann::ordered_json {
        if (s == nullptr) {
            return nullptr;
        }
        return {{"value", json_value(diff_side(*s, other), reveal)},
                {"source", std::string(meltano::source_name(s->source))}};
    };
    nlohmann::ordered_json out;
    out["a"] = side(a);
    out["b"] = side(b);
    out["plugins"] = nlohmann::ordered_json::array();
    for (const auto& change : changes) {
        nlohmann::ordered_json p{{"type", type_name(change.type)}, {"name", change.name}};
        if (change.mapper) {
            p["mapper"] = *change.mapper;
        }
        p["only_in"] = change.only_in_a ? nlohmann::ordered_json("a")
                       : change.only_in_b ? nlohmann::ordered_json("b")
                                          : nlohmann::ordered_json(nullptr);
        p["settings"] = nlohmann::ordered_json::array();
        for (const auto& s : change.settings) {
            p["settings"].push_back({{"name", s.name}, {"a", value(s.a, s.b)}, {"b", value(s.b, s.a)}});
        }
        out["plugins"].push_back(std::move(p));
    }
    return out;
}

}  // namespace dataops::report
