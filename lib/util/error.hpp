#pragma once
/// The one error hierarchy of git-dataops.
///
/// Expected outcomes (not found, nothing to do, findings of a validation) are return values.
/// Everything else throws a dataops::Error whose message follows git's grammar: lower-case first
/// word, the subject in single quotes, no full stop ("cannot read 'meltano.yml' at 'abc123': ...").
/// The one place per binary that turns errors into text and exit codes is dataops::cli::run_main.

#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace dataops {

/// A failure the user has to act on. Printed as `fatal: <what>` (exit 128), followed by any hints
/// as `hint: <text>` lines.
class Error : public std::runtime_error {
public:
    explicit Error(const std::string& what, std::vector<std::string> hints = {})
        : std::runtime_error(what), hints_(std::move(hints)) {}

    /// Lines that tell the user how to fix the problem, without the `hint: ` prefix.
    const std::vector<std::string>& hints() const noexcept { return hints_; }

private:
    std::vector<std::string> hints_;
};

/// The command line itself is wrong: printed as `error: <what>` followed by the usage, exit 129.
class UsageError : public Error {
public:
    using Error::Error;
};

}  // namespace dataops
