// git dataops env: the environments of a Meltano project and their resolved configuration.
#include <algorithm>
#include <cctype>
#include <iostream>
#include <map>
#include <optional>
#include <string>

#include <dataops/cli/color.hpp>
#include <dataops/cli/main.hpp>
#include <dataops/meltano/project.hpp>
#include <dataops/meltano/resolve.hpp>
#include <dataops/report/env_report.hpp>
#include <dataops/util/error.hpp>
#include <dataops/util/strings.hpp>
#include <dataops/workspace/workspace.hpp>
#include <dataops_docs/git-dataops-env.hpp>
#include <fmt/format.h>

namespace {

constexpr const char* kUsage = dataops::docs::env::usage;

using namespace dataops;

struct Options {
    std::string verb;
    std::optional<std::string> rev;
    std::optional<std::string> project;
    std::string format = "text";
    bool reveal = false;
    bool with_env = false;
    bool all = false;
    bool exit_code = false;
    std::vector<std::string> positionals;
    cli::ColorOption color;
};

/// A loaded project of one workspace, failing with the loader's diagnostics when unusable.
struct Loaded {
    workspace::Workspace ws;
    meltano::LoadResult load;
    report::Style out;  ///< for stdout
    report::Style err;  ///< for stderr
};

/// Errors only: warnings (a missing lock file, a secret in git) are `validate`'s to report.
void print_diagnostics(const meltano::Diagnostics& diagnostics, const report::Style& style) {
    for (const auto& d : diagnostics) {
        if (d.severity == meltano::Severity::error) {
            std::cerr << report::format_diagnostic(d, style);
        }
    }
}

Loaded load(const Options& options, const std::optional<std::string>& rev) {
    auto opened = workspace::open_project({options.project, rev});
    Loaded loaded{std::move(opened.workspace), std::move(opened.load), {}, {}};
    loaded.out = report::Style(cli::use_color(options.color, &loaded.ws.repository.config(), 1));
    loaded.err = report::Style(cli::use_color(options.color, &loaded.ws.repository.config(), 2));
    if (!loaded.load.project) {
        print_diagnostics(loaded.load.diagnostics, loaded.err);
        throw Error(fmt::format("cannot load the Meltano project '{}' from {}",
                                git::join_path(loaded.ws.project_dir, "meltano.yml"), loaded.ws.source->describe()));
    }
    // Structural problems do not stop the listing; validate is the command that judges them.
    print_diagnostics(loaded.load.diagnostics, loaded.err);
    return loaded;
}

/// With --with-env, what a local `meltano` run sees besides the committed files: the process
/// environment and the workspace's `.env`, read once per workspace.
struct LocalEnv {
    std::map<std::string, std::string> process;
    std::map<std::string, std::string> dotenv;
};

std::optional<LocalEnv> local_env(const Loaded& loaded, const Options& options) {
    if (!options.with_env) {
        return std::nullopt;
    }
    LocalEnv local;
    local.process = workspace::process_environment();
    local.dotenv = workspace::read_dotenv(loaded.ws, local.process);
    return local;
}

meltano::Resolution resolve(const Loaded& loaded, const std::optional<std::string>& environment,
                            const std::optional<LocalEnv>& local) {
    meltano::ResolveOptions resolve_options;
    resolve_options.environment = environment;
    if (local) {
        resolve_options.with_env = true;
        resolve_options.process_env = local->process;
        resolve_options.dotenv = local->dotenv;
        if (!loaded.ws.project_root.empty()) {
            resolve_options.project_root = loaded.ws.project_root;
        }
    }
    auto resolution = meltano::resolve(loaded.load.project, resolve_options);
    for (const auto& d : resolution.diagnostics) {
        if (d.code == "unknown-environment") {
            std::vector<std::string> names;
            for (const auto& env : loaded.load.project->environments) {
                names.push_back(env.name);
            }
            std::vector<std::string> hints;
            auto near = util::nearest(environment.value_or(""), names);
            if (!near.empty()) {
                hints.push_back(fmt::format("did you mean '{}'?", near));
            }
            std::string known;
            for (const auto& name : names) {
                known += (known.empty() ? "" : ", ") + name;
            }
            hints.push_back(names.empty() ? "the project defines no environments"
                                          : fmt::format("known environments: {}", known));
            throw Error(fmt::format("environment '{}' is not defined in {}", environment.value_or(""),
                                    loaded.ws.source->describe()),
                        hints);
        }
    }
    for (const auto& plugin : resolution.plugins) {
        print_diagnostics(plugin.diagnostics, loaded.err);
    }
    return resolution;
}

/// The environment to show when none is named: the project's default_environment. With
/// --with-env, the one a local `meltano` run picks (meltano-semantics.md 4.1): MELTANO_ENVIRONMENT
/// from the process environment, then from `.env` ("null" in any case: no environment, which
/// `no_environment` reports), else the default_environment setting, which
/// MELTANO_DEFAULT_ENVIRONMENT (process, then `.env`) overrides.
std::optional<std::string> default_environment(const Loaded& loaded, const std::optional<LocalEnv>& local,
                                               bool& no_environment) {
    no_environment = false;
    if (!local) {
        return loaded.load.project->default_environment;
    }
    auto variable = [&](const std::string& name) -> std::optional<std::string> {
        for (const auto* source : {&local->process, &local->dotenv}) {
            if (auto found = source->find(name); found != source->end() && !found->second.empty()) {
                return found->second;
            }
        }
        return std::nullopt;
    };
    if (auto chosen = variable("MELTANO_ENVIRONMENT")) {
        std::string lower = *chosen;
        std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return std::tolower(c); });
        no_environment = lower == "null";
        return no_environment ? std::nullopt : chosen;
    }
    if (auto chosen = variable("MELTANO_DEFAULT_ENVIRONMENT")) {
        return chosen;
    }
    return loaded.load.project->default_environment;
}

int run_list(const Options& options) {
    if (!options.positionals.empty()) {
        throw UsageError(fmt::format("unexpected argument '{}'", options.positionals.front()));
    }
    auto loaded = load(options, options.rev);
    cli::keep_until_exit(loaded.load.project);  // freed by the exit, not piece by piece
    report::EnvListInput input{loaded.load.project.get(), loaded.ws.source->commit()};
    if (options.format == "json") {
        std::cout << report::env_list_json(input).dump(2) << '\n';
    } else {
        std::cout << report::env_list_text(input);
    }
    return cli::exit_ok;
}

int run_show(const Options& options) {
    auto loaded = load(options, options.rev);
    const auto local = local_env(loaded, options);
    std::optional<std::string> environment;
    std::vector<std::string> plugins = options.positionals;
    if (!plugins.empty()) {
        environment = plugins.front();
        plugins.erase(plugins.begin());
    } else {
        bool no_environment = false;
        environment = default_environment(loaded, local, no_environment);
        if (!environment && !no_environment) {
            throw Error("no environment given and the project has no default_environment",
                        {"name one: git dataops env show <environment>"});
        }
    }
    auto resolution = resolve(loaded, environment, local);
    for (const auto& name : plugins) {
        bool known = std::any_of(resolution.plugins.begin(), resolution.plugins.end(), [&](const auto& p) {
            return p.name == name || (p.mapper && *p.mapper == name);
        });
        if (!known) {
            throw Error(fmt::format("plugin '{}' is not defined in {}", name, loaded.ws.source->describe()));
        }
    }
    report::ShowInput input{&resolution, loaded.ws.source->commit(), plugins, options.reveal, options.all,
                            loaded.out};
    if (options.format == "json") {
        report::write_show_json(std::cout, input);
    } else if (options.format == "env") {
        std::cout << report::show_env(input);
    } else {
        report::write_show_text(std::cout, input);
    }
    cli::keep_until_exit(std::move(resolution));  // and its project: freed by the exit
    return cli::exit_ok;
}

/// `<env>` or `<rev>:<env>` (environment names cannot contain ':', so the last one splits).
std::pair<std::optional<std::string>, std::string> split_side(const std::string& text,
                                                              const std::optional<std::string>& rev) {
    auto colon = text.rfind(':');
    if (colon == std::string::npos) {
        return {rev, text};
    }
    return {text.substr(0, colon), text.substr(colon + 1)};
}

int run_diff(const Options& options) {
    if (options.positionals.size() != 2) {
        throw UsageError("env diff needs two environments: <a> <b>");
    }
    if (options.format == "env") {
        throw UsageError("env diff supports --format text or json");
    }
    auto [rev_a, env_a] = split_side(options.positionals[0], options.rev);
    auto [rev_b, env_b] = split_side(options.positionals[1], options.rev);
    auto loaded_a = load(options, rev_a);
    const auto local_a = local_env(loaded_a, options);
    auto resolution_a = resolve(loaded_a, env_a, local_a);
    std::optional<Loaded> loaded_b;
    if (rev_b != rev_a) {
        loaded_b.emplace(load(options, rev_b));
    }
    auto resolution_b =
        resolve(loaded_b ? *loaded_b : loaded_a, env_b, loaded_b ? local_env(*loaded_b, options) : local_a);
    auto changes = report::compare(resolution_a, resolution_b);
    report::DiffSide a{options.positionals[0], &resolution_a, loaded_a.ws.source->commit()};
    report::DiffSide b{options.positionals[1], &resolution_b,
                       (loaded_b ? *loaded_b : loaded_a).ws.source->commit()};
    if (options.format == "json") {
        std::cout << report::diff_json(a, b, changes, options.reveal).dump(2) << '\n';
    } else {
        std::cout << report::diff_text(a, b, changes, options.reveal, loaded_a.out);
    }
    cli::keep_until_exit(std::move(resolution_a));  // and the projects: freed by the exit
    cli::keep_until_exit(std::move(resolution_b));
    return options.exit_code && !changes.empty() ? cli::exit_no : cli::exit_ok;
}

int run(const Options& options) {
    if (options.verb == "list") {
        return run_list(options);
    }
    if (options.verb == "show") {
        return run_show(options);
    }
    return run_diff(options);
}

int parse_and_run(const std::vector<std::string>& args) {
    Options options;
    if (args.empty()) {
        throw UsageError("a subcommand is required: list, show or diff");
    }
    if (args.front() == "-h" || args.front() == "--help") {
        throw cli::HelpRequested{};
    }
    options.verb = args.front();
    if (!options.verb.empty() && options.verb.front() == '-') {
        throw UsageError(fmt::format("unknown option '{}' (a subcommand comes first: list, show or diff)",
                                     options.verb));
    }
    if (options.verb != "list" && options.verb != "show" && options.verb != "diff") {
        auto near = util::nearest(options.verb, {"list", "show", "diff"});
        throw UsageError(near.empty() ? fmt::format("unknown subcommand '{}'", options.verb)
                                      : fmt::format("unknown subcommand '{}' (did you mean '{}'?)", options.verb, near));
    }
    CLI::App app;
    app.add_option("--rev", options.rev);
    app.add_option("--project", options.project);
    std::vector<std::string> formats = options.verb == "show" ? std::vector<std::string>{"text", "json", "env"}
                                                              : std::vector<std::string>{"text", "json"};
    app.add_option("--format", options.format)->check(CLI::IsMember(formats));
    if (options.verb != "list") {
        app.add_flag("--reveal", options.reveal);
        app.add_flag("--with-env", options.with_env);
    }
    if (options.verb == "show") {
        app.add_flag("--all", options.all);
    }
    if (options.verb == "diff") {
        app.add_flag("--exit-code", options.exit_code);
    }
    cli::add_color_options(app, options.color);
    app.add_option("args", options.positionals);
    cli::parse(app, {args.begin() + 1, args.end()});
    return run(options);
}

}  // namespace

int main(int argc, char** argv) {
    return dataops::cli::run_main(argc, argv, kUsage, parse_and_run);
}
