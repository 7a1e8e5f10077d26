// git-dataops: the dispatcher. `git dataops <verb> [args]` runs `git-dataops-<verb>` (first the
// one beside this binary, then one on PATH) in place of this process, so arguments, stdin, stdout,
// stderr and the exit code pass through untouched.
#include <iostream>

#include <dataops/cli/main.hpp>
#include <dataops/cli/verbs.hpp>
#include <dataops/process/process.hpp>
#include <dataops/util/error.hpp>
#include <dataops/util/strings.hpp>
#include <dataops_docs/git-dataops.hpp>
#include <dataops_version.hpp>
#include <fmt/format.h>

namespace {

std::string usage_text() {
    std::string text = std::string(dataops::docs::dispatcher::usage) + "\ncommands:\n";
    std::size_t width = 0;
    for (const auto& verb : dataops::cli::verbs()) {
        width = std::max(width, verb.name.size());
    }
    for (const auto& verb : dataops::cli::verbs()) {
        text += fmt::format("   {:<{}}   {}\n", verb.name, width, verb.summary);
    }
    text += "\nSee 'git dataops <command> -h' for the options of a command.\n";
    return text;
}

/// The binary that implements `verb`, or nullopt.
std::optional<std::string> find_verb(const std::string& verb) {
    const std::string name = "git-dataops-" + verb;
    const std::string beside = dataops::process::self_directory() + "/" + name;
    if (auto found = dataops::process::find_program(beside)) {
        return found;
    }
    return dataops::process::find_program(name);
}

int dispatch(const std::vector<std::string>& args) {
    const std::string usage = usage_text();
    if (args.empty() || args[0] == "-h" || args[0] == "--help") {
        std::cout << usage;
        return dataops::cli::exit_ok;
    }
    const std::string& verb = args[0];
    if (verb == "--version" || verb == "version") {
        std::cout << "git-dataops version " << DATAOPS_VERSION << '\n';
        return dataops::cli::exit_ok;
    }
    if (verb.front() == '-') {
        throw dataops::UsageError(fmt::format("unknown option '{}'", verb));
    }
    std::optional<std::string> binary;
    if (verb.find('/') == std::string::npos) {
        binary = find_verb(verb);
    }
    if (!binary) {
        std::vector<std::string> names;
        for (const auto& known : dataops::cli::verbs()) {
            names.emplace_back(known.name);
        }
        std::cerr << fmt::format("error: '{}' is not a git-dataops command\n", verb);
        auto suggestion = dataops::util::nearest(verb, names);
        if (!suggestion.empty()) {
            std::cerr << fmt::format("hint: the most similar command is '{}'\n", suggestion);
        }
        std::cerr << "hint: see 'git dataops -h' for the list of commands\n";
        return dataops::cli::exit_usage;
    }
    std::cout.flush();
    // `git dataops <verb> --help` opens the manual page, as `git <command> --help` does (git
    // rewrites only `git dataops --help` and `git dataops-<verb> --help` itself); -h prints usage.
    if (args.size() == 2 && args[1] == "--help") {
        if (auto git = dataops::process::find_program("git")) {
            dataops::process::exec(*git, {"git", "help", "dataops-" + verb});
        }
    }
    std::vector<std::string> argv = {"git-dataops-" + verb};
    argv.insert(argv.end(), args.begin() + 1, args.end());
    dataops::process::exec(*binary, argv);
}

}  // namespace

int main(int argc, char** argv) {
    return dataops::cli::run_main(argc, argv, usage_text(), dispatch);
}
