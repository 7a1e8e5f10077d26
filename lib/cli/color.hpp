#pragma once
/// When to colour, decided as git decides: `--color[=<when>]` / `--no-color` on the command
/// line, else `color.dataops`, else `color.ui` (always, never, auto; true means auto as in git),
/// else auto. `auto` colours a terminal only, and not when NO_COLOR is set (no-color.org: an
/// explicit choice on the command line or in git config overrides it) or TERM is dumb.

#include <optional>
#include <string>

#include <CLI/CLI.hpp>

#include <dataops/git/config.hpp>

namespace dataops::cli {

struct ColorOption {
    std::string when;  ///< "always", "never", "auto", or empty when neither option was given
    bool no_color = false;
};

/// Register `--color[=<when>]` and `--no-color` on `app`.
void add_color_options(CLI::App& app, ColorOption& option);

/// Whether output to file descriptor `fd` is coloured. `config` may be null (no repository).
/// Throws dataops::UsageError for a `--color` value other than always, never or auto.
bool use_color(const ColorOption& option, const git::Config* config, int fd);

}  // namespace dataops::cli
