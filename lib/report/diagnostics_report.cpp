#include <dataops/report/diagnostics_report.hpp>

#include <fmt/format.h>

namespace dataops::report {
namespace {

nlohmann::ordered_json optional_json(const std::optional<std::string>& value) {
    return value ? nlohmann::ordered_json(*value) : nlohmann::ordered_json(nullptr);
}

/// Workflow commands escape %, CR and LF in the message, and also ',' and ':' in properties.
std::string escape(const std::string& text, bool property) {
    std::string out;
    for (char c : text) {
        switch (c) {
            case '%': out += "%25"; break;
            case '\r': out += "%0D"; break;
            case '\n': out += "%0A"; break;
            case ':': out += property ? "%3A" : ":"; break;
            case ',': out += property ? "%2C" : ","; break;
            default: out += c;
        }
    }
    return out;
}

}  // namespace

nlohmann::ordered_json diagnostic_json(const meltano::Diagnostic& d) {
    return {{"code", d.code},
            {"severity", d.severity == meltano::Severity::error ? "error" : "warning"},
            {"message", d.message},
            {"file", d.file.empty() ? nlohmann::ordered_json(nullptr) : nlohmann::ordered_json(d.file)},
            {"line", d.line == 0 ? nlohmann::ordered_json(nullptr) : nlohmann::ordered_json(d.line)},
            {"column", d.column == 0 ? nlohmann::ordered_json(nullptr) : nlohmann::ordered_json(d.column)},
            {"environment", optional_json(d.environment)},
            {"plugin", optional_json(d.plugin)},
            {"hint", d.hint}};
}

std::string github_annotation(const meltano::Diagnostic& d) {
    std::string properties;
    if (!d.file.empty()) {
        properties += "file=" + escape(d.file, true);
        if (d.line > 0) {
            properties += fmt::format(",line={},col={}", d.line, d.column);
        }
        properties += ",";
    }
    properties += "title=" + escape(d.code, true);
    std::string message = d.message;
    if (!d.hint.empty()) {
        message += "\nhint: " + d.hint;
    }
    return fmt::format("::{} {}::{}", d.severity == meltano::Severity::error ? "error" : "warning", properties,
                       escape(message, false));
}

std::string summary(const meltano::Diagnostics& diagnostics) {
    std::size_t errors = 0;
    std::size_t warnings = 0;
    for (const auto& d : diagnostics) {
        (d.severity == meltano::Severity::error ? errors : warnings)++;
    }
    if (errors == 0 && warnings == 0) {
        return "no problems";
    }
    std::string out;
    if (errors > 0) {
        out += fmt::format("{} error{}", errors, errors == 1 ? "" : "s");
    }
    if (warnings > 0) {
        out += fmt::format("{}{} warning{}", out.empty() ? "" : ", ", warnings, warnings == 1 ? "" : "s");
    }
    return out;
}

}  // namespace dataops::report
