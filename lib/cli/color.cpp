#include <dataops/cli/color.hpp>

#include <dataops/process/process.hpp>
#include <dataops/util/error.hpp>
#include <fmt/format.h>

namespace dataops::cli {
namespace {

enum class When { always, never, automatic };

/// A colour setting of git config: always, never, auto, or a boolean (true = auto, as git).
std::optional<When> config_when(const git::Config& config, std::string_view key) {
    auto value = config.get(key);
    if (!value) {
        return std::nullopt;
    }
    if (*value == "always") {
        return When::always;
    }
    if (*value == "never") {
        return When::never;
    }
    if (*value == "auto") {
        return When::automatic;
    }
    auto flag = git::parse_bool(*value);
    if (!flag) {
        throw Error(fmt::format("bad value '{}' for '{}'", *value, key),
                    {"use always, never, auto, true or false, as for git's color.ui"});
    }
    return *flag ? When::automatic : When::never;
}

}  // namespace

void add_color_options(CLI::App& app, ColorOption& option) {
    app.add_flag("--color{always}", option.when);
    app.add_flag("--no-color", option.no_color);
}

bool use_color(const ColorOption& option, const git::Config* config, int fd) {
    std::optional<When> when;
    if (option.no_color) {
        when = When::never;
    } else if (!option.when.empty()) {
        if (option.when == "always") {
            when = When::always;
        } else if (option.when == "never") {
            when = When::never;
        } else if (option.when == "auto") {
            when = When::automatic;
        } else {
            throw UsageError(fmt::format("invalid --color value '{}': use always, never or auto", option.when));
        }
    } else if (config != nullptr) {
        when = config_when(*config, "color.dataops");
        if (!when) {
            when = config_when(*config, "color.ui");
        }
    }
    if (when == When::always) {
        return true;
    }
    if (when == When::never) {
        return false;
    }
    // auto, explicit or by default: a terminal that can show colour, unless the user opted out
    // of colour everywhere.
    auto no_color = process::getenv("NO_COLOR");
    if (no_color && !no_color->empty()) {
        return false;
    }
    auto term = process::getenv("TERM");
    if (term && *term == "dumb") {
        return false;
    }
    return process::is_terminal(fd);
}

}  // namespace dataops::cli
