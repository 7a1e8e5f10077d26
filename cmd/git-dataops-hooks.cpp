// git dataops hooks: install, remove and inspect the pre-push hook (and the server-side
// pre-receive hook); `run` is what the installed shims call.
#include <unistd.h>

#include <algorithm>
#include <iostream>
#include <iterator>
#include <utility>

#include <dataops/cli/color.hpp>
#include <dataops/cli/main.hpp>
#include <dataops/git/discover.hpp>
#include <dataops/git/repository.hpp>
#include <dataops/git/revision_source.hpp>
#include <dataops/hooks/install.hpp>
#include <dataops/hooks/pre_push.hpp>
#include <dataops/hooks/pre_receive.hpp>
#include <dataops/process/process.hpp>
#include <dataops/util/error.hpp>
#include <dataops/util/strings.hpp>
#include <dataops_docs/git-dataops-hooks.hpp>
#include <fmt/format.h>

namespace {

constexpr const char* kUsage = dataops::docs::hooks::usage;

using namespace dataops;

struct Options {
    std::string verb;
    bool force = false;
    bool manual = false;
    bool shared = false;
    bool server = false;
    std::string environment;
    std::string branch = "main";
    std::vector<std::string> args;
};

std::string own_binary() {
    return process::self_directory() + "/git-dataops-hooks";
}

hooks::HookTarget target_for(const git::Repository& repo, bool server) {
    const auto& location = repo.location();
    if (server && !location.bare) {
        throw Error("--server needs a bare repository (the one your team pushes to)",
                    {"run it inside the server's repository, e.g. git -C /srv/git/staging.git dataops hooks install --server"});
    }
    return hooks::locate(server ? "pre-receive" : "pre-push", location.git_dir,
                         location.work_tree.value_or(""));
}

int run_install(const Options& options) {
    auto repo = git::Repository::discover();
    auto target = target_for(repo, options.server);
    if (options.manual) {
        std::cout << fmt::format(
            "# Add this to {} (it reads the same stdin git gives the hook):\n"
            "DATAOPS_HOOK_PATH=$0 {} run {} \"$@\" || exit 1\n"
            "# If your hook reads stdin itself, save it first and feed it to both.\n",
            target.path, own_binary(), target.name);
        return cli::exit_ok;
    }
    if (options.server) {
        if (options.environment.empty()) {
            throw UsageError("--server needs --environment <env>");
        }
        repo.set_config("dataops.server.environment", options.environment);
        repo.set_config("dataops.server.branch", options.branch);
    }
    hooks::InstallOptions install_options;
    install_options.force = options.force ? hooks::Force::yes : hooks::Force::no;
    install_options.allow_shared_hooks_path = options.shared;
    auto outcome = hooks::install(target, own_binary(), install_options);
    switch (outcome) {
        case hooks::InstallOutcome::installed:
            std::cerr << fmt::format("installed the {} hook in '{}'\n", target.name, target.path);
            break;
        case hooks::InstallOutcome::upgraded:
            std::cerr << fmt::format("updated the {} hook in '{}'\n", target.name, target.path);
            break;
        case hooks::InstallOutcome::unchanged:
            std::cerr << fmt::format("the {} hook in '{}' is already installed and current\n", target.name,
                                     target.path);
            break;
        case hooks::InstallOutcome::chained:
            std::cerr << fmt::format("installed the {} hook in '{}'; the existing hook moved to '{}.legacy' and "
                                     "runs first\n",
                                     target.name, target.path, target.path);
            break;
        case hooks::InstallOutcome::replaced:
            std::cerr << fmt::format("replaced the existing {} hook in '{}' (--force)\n", target.name, target.path);
            break;
    }
    if (target.hooks_path_scope) {
        std::cerr << fmt::format("note: core.hooksPath ({} configuration) points git at '{}'\n",
                                 *target.hooks_path_scope, target.directory);
    }
    return cli::exit_ok;
}

int run_uninstall(const Options& options) {
    auto repo = git::Repository::discover();
    auto target = target_for(repo, options.server);
    switch (hooks::uninstall(target)) {
        case hooks::UninstallOutcome::removed:
            std::cerr << fmt::format("removed the {} hook from '{}'\n", target.name, target.path);
            return cli::exit_ok;
        case hooks::UninstallOutcome::restored:
            std::cerr << fmt::format("removed the {} hook and restored the previous one in '{}'\n", target.name,
                                     target.path);
            return cli::exit_ok;
        case hooks::UninstallOutcome::not_installed:
            std::cerr << fmt::format("no {} hook is installed in '{}'\n", target.name, target.path);
            return cli::exit_ok;
        case hooks::UninstallOutcome::not_ours:
            std::cerr << fmt::format("error: the {} hook in '{}' is not git-dataops'; leaving it alone\n", target.name,
                                     target.path);
            return cli::exit_no;
    }
    return cli::exit_ok;
}

int run_status(const Options& options) {
    auto repo = git::Repository::discover();
    auto target = target_for(repo, options.server);
    auto s = hooks::status(target, own_binary());
    std::cout << fmt::format("hook: {}\n", target.path);
    if (target.hooks_path_scope) {
        std::cout << fmt::format("core.hooksPath: set in the {} configuration\n", *target.hooks_path_scope);
    }
    if (!s.exists) {
        std::cout << "installed: no\n";
        return cli::exit_no;
    }
    if (!s.ours) {
        std::cout << "installed: no (a hook that is not git-dataops' is there)\n";
        return cli::exit_no;
    }
    std::cout << fmt::format("installed: yes, version {}{}\n", *s.version,
                             s.current ? " (current)" : " (out of date: run 'git dataops hooks install')");
    std::cout << fmt::format("runs: {}\n", s.baked_binary);
    std::cout << fmt::format("chains: {}\n", s.legacy ? target.path + ".legacy" : std::string("nothing"));
    bool runs = s.executable;
    std::cout << fmt::format("git runs it: {}\n", runs ? "yes" : "no (not executable: chmod +x it)");
    return runs && s.current ? cli::exit_ok : cli::exit_no;
}

std::string read_stdin() {
    // A person who runs the hook by hand has a terminal on stdin: never wait on it.
    if (process::is_terminal(0)) {
        return {};
    }
    return std::string(std::istreambuf_iterator<char>(std::cin), std::istreambuf_iterator<char>());
}

/// Run `<hook>.legacy` first, with the same arguments and stdin bytes; its exit code.
int run_legacy(const std::vector<std::string>& args, const std::string& input) {
    auto hook_path = process::getenv("DATAOPS_HOOK_PATH");
    if (!hook_path) {
        return 0;
    }
    const std::string legacy = *hook_path + ".legacy";
    if (::access(legacy.c_str(), X_OK) != 0) {
        return 0;
    }
    process::Options legacy_options;
    legacy_options.argv = {legacy};
    legacy_options.argv.insert(legacy_options.argv.end(), args.begin(), args.end());
    legacy_options.input = input;
    legacy_options.out = process::Stream::inherit;
    legacy_options.err = process::Stream::inherit;
    legacy_options.interaction = process::Interaction::person;
    legacy_options.env["DATAOPS_HOOK_RUNNING"] = "1";  // a legacy hook that calls us again: no loop
    legacy_options.env["DATAOPS_HOOK_PATH"] = std::nullopt;
    return process::run(legacy_options).exit_code;
}

int run_hook(const Options& options) {
    if (options.args.empty()) {
        throw UsageError("run needs a hook name: pre-push or pre-receive");
    }
    const std::string hook = options.args.front();
    std::vector<std::string> args(options.args.begin() + 1, options.args.end());
    if (hook != "pre-push" && hook != "pre-receive") {
        throw UsageError(fmt::format("unknown hook '{}'", hook));
    }
    if (process::getenv("DATAOPS_HOOK_RUNNING")) {
        return cli::exit_ok;
    }
    const std::string input = read_stdin();
    int legacy = run_legacy(args, input);
    if (auto skip = process::getenv("DATAOPS_SKIP"); skip && !skip->empty() && *skip != "0") {
        std::cerr << "git-dataops: skipping the meltano.yml check (DATAOPS_SKIP is set)\n";
        return legacy == 0 ? cli::exit_ok : cli::exit_no;
    }
    // The pushed commits are read through one `git cat-file`, the longer of the two paths
    // (commit, tree, meltano.yml, then validation): it starts before `git config` when the file
    // system tells where the repository is, and the commits are read and validated while git
    // reads the configuration, which then names the stage and the project directory.
    std::vector<hooks::PushUpdate> updates;
    if (hook == "pre-push") {
        updates = hooks::parse_pre_push_input(input);
    }
    const bool reads_commits =
        std::any_of(updates.begin(), updates.end(), [](const hooks::PushUpdate& u) { return !u.is_delete(); });
    std::shared_ptr<git::ObjectReader> objects;
    std::string objects_dir;
    auto read_objects_of = [&](const std::string& git_dir) {
        if (reads_commits && git_dir != objects_dir) {
            objects = git::make_object_reader(git_dir);
            objects_dir = git_dir;
        }
    };
    if (auto found = git::locate_from_files({})) {
        read_objects_of(found->git_dir);
    }
    auto judgements = std::make_shared<hooks::Judgements>();
    bool prejudged = false;
    auto repo = git::Repository::discover({}, [&](const git::Location& location) {
        read_objects_of(location.git_dir);
        if (reads_commits && !std::exchange(prejudged, true)) {
            hooks::prejudge(*judgements, objects, updates, args.size() > 0 ? args[0] : "",
                            args.size() > 1 ? args[1] : "");
        }
    });
    // git runs hooks with no options of ours: colour follows color.dataops / color.ui.
    const report::Style style(cli::use_color({}, &repo.config(), 2));
    hooks::HookReport report;
    if (hook == "pre-push") {
        if (args.size() < 2) {
            throw UsageError("pre-push needs <remote> and <url>");
        }
        report = hooks::run_pre_push(repo, {args[0], args[1], input, style, std::move(objects), judgements});
    } else {
        report = hooks::run_pre_receive(repo, input, style);
    }
    for (const auto& line : report.lines) {
        std::cerr << line << '\n';
    }
    return report.blocked || legacy != 0 ? cli::exit_no : cli::exit_ok;
}

int parse_and_run(const std::vector<std::string>& args) {
    if (args.empty()) {
        throw UsageError("a subcommand is required: install, uninstall, status or run");
    }
    if (args.front() == "-h" || args.front() == "--help") {
        throw cli::HelpRequested{};
    }
    Options options;
    options.verb = args.front();
    if (!options.verb.empty() && options.verb.front() == '-') {
        throw UsageError(fmt::format("unknown option '{}' (a subcommand comes first: install, uninstall, status or run)",
                                     options.verb));
    }
    std::vector<std::string> rest(args.begin() + 1, args.end());
    if (options.verb == "run") {
        // The hook's own arguments pass through untouched (a remote may be named like an option).
        options.args = rest;
        return run_hook(options);
    }
    CLI::App app;
    if (options.verb == "install") {
        app.add_flag("--force", options.force);
        app.add_flag("--manual", options.manual);
        app.add_flag("--shared", options.shared);
        app.add_option("--environment", options.environment);
        app.add_option("--branch", options.branch);
    } else if (options.verb != "uninstall" && options.verb != "status") {
        auto near = util::nearest(options.verb, {"install", "uninstall", "status", "run"});
        throw UsageError(near.empty() ? fmt::format("unknown subcommand '{}'", options.verb)
                                      : fmt::format("unknown subcommand '{}' (did you mean '{}'?)", options.verb, near));
    }
    app.add_flag("--server", options.server);
    cli::parse(app, rest);
    if (options.force && options.manual) {
        throw UsageError("--force and --manual cannot be used together");
    }
    if (options.verb == "install") {
        return run_install(options);
    }
    if (options.verb == "uninstall") {
        return run_uninstall(options);
    }
    return run_status(options);
}

}  // namespace

int main(int argc, char** argv) {
    return dataops::cli::run_main(argc, argv, kUsage, parse_and_run);
}
