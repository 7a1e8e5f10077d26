#pragma once
/// What `git dataops env list | show | diff` print, as strings and JSON documents. Rendering is
/// kept apart from printing so that it can be tested and reused (the promotion plan shows the
/// same configuration diff). Sensitive values are redacted unless `reveal` is set.

#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include <dataops/meltano/diagnostic.hpp>
#include <dataops/meltano/project.hpp>
#include <dataops/meltano/resolve.hpp>
#include <dataops/report/style.hpp>

namespace dataops::report {

inline constexpr const char* kRedacted = "(redacted)";

/// `file:line:column: error: message [code]` and an indented hint line, as a compiler prints.
std::string format_diagnostic(const meltano::Diagnostic& diagnostic, const Style& style = {});

/// The value as a person reads it: strings bare (JSON-quoted when they hold control characters
/// or are empty), everything else as JSON, null as "null", redacted when sensitive and set.
std::string display_value(const meltano::ResolvedSetting& setting, bool reveal);
/// The value for machine output: the JSON value, or "(redacted)".
nlohmann::ordered_json json_value(const meltano::ResolvedSetting& setting, bool reveal);
/// "meltano_environment", "inherited from 'tap-x'", "env TAP_X_Y", ...
std::string describe_source(const meltano::ResolvedSetting& setting);
/// "extractor", "loader", "mapping", ...
std::string singular(meltano::PluginType type);

struct EnvListInput {
    const meltano::Project* project = nullptr;
    std::optional<std::string> revision;
};
std::string env_list_text(const EnvListInput& input);
nlohmann::ordered_json env_list_json(const EnvListInput& input);

struct ShowInput {
    const meltano::Resolution* resolution = nullptr;
    std::optional<std::string> revision;
    /// Only these plugins (by name; a mapper name selects its mappings too); empty = all.
    std::vector<std::string> plugins;
    bool reveal = false;
    /// Text: list settings with no value too.
    bool all = false;
    Style style;
};
std::string show_text(const ShowInput& input);
/// Writes show_text(input), a plugin at a time.
void write_show_text(std::ostream& out, const ShowInput& input);
nlohmann::ordered_json show_json(const ShowInput& input);
/// Writes exactly show_json(input).dump(2) and a newline, without holding the whole document.
void write_show_json(std::ostream& out, const ShowInput& input);
/// dotenv lines: the variables Meltano hands each plugin for its settings.
std::string show_env(const ShowInput& input);

/// One side of a comparison.
struct DiffSide {
    std::string label;  ///< "dev" or "HEAD~1:prod"
    const meltano::Resolution* resolution = nullptr;
    std::optional<std::string> revision;
};

struct SettingChange {
    std::string name;
    const meltano::ResolvedSetting* a = nullptr;  ///< nullptr when the plugin is absent on that side
    const meltano::ResolvedSetting* b = nullptr;
};

struct PluginChange {
    meltano::PluginType type = meltano::PluginType::extractors;
    std::string name;
    std::optional<std::string> mapper;
    bool only_in_a = false;
    bool only_in_b = false;
    std::vector<SettingChange> settings;
};

/// Plugins and settings whose values differ between the two sides (presence counts; the source
/// alone does not), in the order of side b, then what exists only on side a.
std::vector<PluginChange> compare(const meltano::Resolution& a, const meltano::Resolution& b);
std::string diff_text(const DiffSide& a, const DiffSide& b, const std::vector<PluginChange>& changes,
                      bool reveal, const Style& style = {});
nlohmann::ordered_json diff_json(const DiffSide& a, const DiffSide& b,
                                 const std::vector<PluginChange>& changes, bool reveal);

}  // namespace dataops::report
