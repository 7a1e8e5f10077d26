#pragma once
/// The frame of every git-dataops binary: option parsing conventions, and the one place that
/// turns errors into text and exit codes. This module (with output.hpp) is the only part of lib/
/// that writes to stdout or stderr.
///
/// Exit codes, as git and git-lfs use them: 0 success; 1 the command ran and the answer is "no"
/// (problems found, promotion refused); 128 fatal (the command could not do its job); 129 usage.

#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <string_view>
#include <vector>

#include <CLI/CLI.hpp>

namespace dataops::cli {

enum ExitCode : int { exit_ok = 0, exit_no = 1, exit_fatal = 128, exit_usage = 129 };

/// Thrown by parse() when -h/--help was given: run_main prints the usage to stdout, exit 0.
struct HelpRequested {};

/// Parse `args` (without the program name) into `app`. CLI11's own help flag is disabled: -h and
/// --help throw HelpRequested; any parse failure throws dataops::UsageError with CLI11's message
/// lower-cased into git's grammar.
void parse(CLI::App& app, const std::vector<std::string>& args);

/// Run a command body. `usage` is the complete -h text. The body returns the exit code (0 or 1);
/// exceptions become `error: ...` + usage (UsageError, 129) or `fatal: ...` + `hint: ...` lines
/// (dataops::Error and anything else, 128).
int run_main(int argc, char** argv, std::string_view usage,
             const std::function<int(const std::vector<std::string>& args)>& body);

/// Never destroy `object`: keep it, still reachable, until the process exits. A command's big
/// structures (a 2,000-plugin project and its resolution are a million allocations) are freed
/// faster by the exit than by their destructors, as git's UNLEAK() does. Leak checkers see it as
/// reachable. Only for what a command holds until it returns.
void keep_until_exit(std::shared_ptr<const void> object);
template <class T>
    requires(!std::is_convertible_v<T, std::shared_ptr<const void>>)
void keep_until_exit(T&& object) {
    keep_until_exit(std::shared_ptr<const void>(std::make_shared<std::decay_t<T>>(std::forward<T>(object))));
}

/// Ask `question` on stderr (a person at a terminal) and read the answer from stdin: only "y",
/// "Y" or "yes" is yes; end of input is no.
bool confirm(std::string_view question);

/// Print the `error:`/`fatal:`-style line for an exception to stderr and return its exit code.
int report(std::string_view usage);

}  // namespace dataops::cli
