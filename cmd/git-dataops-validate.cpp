// git dataops validate: the resolution errors Meltano would silently accept, before they reach
// staging or prod.
#include <iostream>

#include <dataops/cli/color.hpp>
#include <dataops/cli/main.hpp>
#include <dataops/meltano/project.hpp>
#include <dataops/meltano/validate.hpp>
#include <dataops/report/diagnostics_report.hpp>
#include <dataops/report/env_report.hpp>
#include <dataops/stages/pipeline.hpp>
#include <dataops/util/error.hpp>
#include <dataops/workspace/workspace.hpp>
#include <dataops_docs/git-dataops-validate.hpp>
#include <fmt/format.h>

namespace {

constexpr const char* kUsage = dataops::docs::validate::usage;

using namespace dataops;

struct Options {
    std::vector<std::string> environments;
    bool all = false;
    std::optional<std::string> rev;
    std::optional<std::string> project;
    std::string format = "text";
    bool strict = false;
    bool with_env = false;
    cli::ColorOption color;
};

int run(const Options& options) {
    auto [ws, load] = workspace::open_project({options.project, options.rev});

    meltano::ValidateOptions validate_options;
    validate_options.strict = options.strict;
    if (options.with_env) {
        validate_options.with_env = true;
        validate_options.process_env = workspace::process_environment();
        validate_options.dotenv = workspace::read_dotenv(ws, validate_options.process_env);
        if (!ws.project_root.empty()) {
            validate_options.project_root = ws.project_root;
        }
    }
    if (!options.environments.empty()) {
        validate_options.environments = options.environments;
    } else if (!options.all && load.project) {
        // The environments the pipeline runs, those the project defines; else all of them.
        for (const auto& stage : stages::load_pipeline(ws.repository.config()).stages) {
            if (load.project->find_environment(stage.environment) != nullptr) {
                validate_options.environments.push_back(stage.environment);
            }
        }
    }
    auto result = meltano::validate(load, validate_options);
    cli::keep_until_exit(load.project);  // freed by the exit, not piece by piece
    const bool ok = !meltano::has_errors(result.diagnostics);
    if (options.format == "json") {
        nlohmann::ordered_json out;
        out["ok"] = ok;
        auto commit = ws.source->commit();
        out["revision"] = commit ? nlohmann::ordered_json(*commit) : nullptr;
        out["environments"] = result.environments;
        out["diagnostics"] = nlohmann::ordered_json::array();
        for (const auto& d : result.diagnostics) {
            out["diagnostics"].push_back(report::diagnostic_json(d));
        }
        std::cout << out.dump(2) << '\n';
    } else if (options.format == "github") {
        for (const auto& d : result.diagnostics) {
            std::cout << report::github_annotation(d) << '\n';
        }
    } else {
        const report::Style style(cli::use_color(options.color, &ws.repository.config(), 1));
        for (const auto& d : result.diagnostics) {
            std::cout << report::format_diagnostic(d, style);
        }
        // A project may define thousands of environments: name a few and count the rest.
        constexpr std::size_t named = 8;
        std::string envs;
        for (std::size_t i = 0; i < result.environments.size() && i < named; ++i) {
            envs += (envs.empty() ? "" : ", ") + result.environments[i];
        }
        if (result.environments.size() > named) {
            envs += fmt::format(" and {} more", result.environments.size() - named);
        }
        std::cerr << fmt::format("{}: {} ({} of {}, environments: {})\n", ok ? "ok" : "failed",
                                 report::summary(result.diagnostics),
                                 git::join_path(ws.project_dir, "meltano.yml"), ws.source->describe(),
                                 envs.empty() ? "none" : envs);
    }
    return ok ? cli::exit_ok : cli::exit_no;
}

int parse_and_run(const std::vector<std::string>& args) {
    Options options;
    CLI::App app;
    app.add_option("--env", options.environments);
    app.add_flag("--all", options.all);
    app.add_option("--rev", options.rev);
    app.add_option("--project", options.project);
    app.add_option("--format", options.format)->check(CLI::IsMember({"text", "json", "github"}));
    app.add_flag("--strict", options.strict);
    app.add_flag("--with-env", options.with_env);
    cli::add_color_options(app, options.color);
    cli::parse(app, args);
    if (options.all && !options.environments.empty()) {
        throw UsageError("--all and --env cannot be used together");
    }
    return run(options);
}

}  // namespace

int main(int argc, char** argv) {
    return dataops::cli::run_main(argc, argv, kUsage, parse_and_run);
}
