// git dataops rollback: restore an earlier promoted tree on a stage with a new commit.
#include <iostream>

#include <dataops/cli/color.hpp>
#include <dataops/cli/main.hpp>
#include <dataops/stages/pipeline.hpp>
#include <dataops/git/repository.hpp>
#include <dataops/process/process.hpp>
#include <dataops/promote/history.hpp>
#include <dataops/report/diagnostics_report.hpp>
#include <dataops/report/env_report.hpp>
#include <dataops/util/error.hpp>
#include <dataops_docs/git-dataops-rollback.hpp>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace {

constexpr const char* kUsage = dataops::docs::rollback::usage;

using namespace dataops;

struct Options {
    std::string stage;
    std::optional<std::string> to;
    std::optional<std::size_t> steps;
    bool dry_run = false;
    bool yes = false;
    std::string format = "text";
    cli::ColorOption color;
};

nlohmann::ordered_json result_json(const promote::RollbackResult& result) {
    nlohmann::ordered_json out;
    out["stage"] = result.stage.name;
    out["remote"] = result.stage.remote;
    out["branch"] = result.stage.branch;
    out["tip"] = result.tip;
    out["restored"] = result.restored;
    out["tree"] = result.tree;
    out["commit"] = result.commit ? nlohmann::ordered_json(*result.commit) : nullptr;
    out["changes"] = nlohmann::ordered_json::array();
    for (const auto& change : result.changes) {
        out["changes"].push_back({{"path", change.path}, {"status", change.status}});
    }
    out["diagnostics"] = nlohmann::ordered_json::array();
    for (const auto& diagnostic : result.diagnostics) {
        out["diagnostics"].push_back(report::diagnostic_json(diagnostic));
    }
    out["pushed"] = result.pushed;
    return out;
}

std::string plan_text(const promote::RollbackResult& result) {
    std::string out = fmt::format("rollback {} to {}\n", result.stage.name, result.restored.substr(0, 7));
    out += fmt::format("  on    {}/{}  {}\n", result.stage.remote, result.stage.branch, result.tip.substr(0, 7));
    out += "\nfiles:\n";
    for (const auto& change : result.changes) {
        out += fmt::format("  {:<9}{}\n", change.status, change.path);
    }
    return out;
}

bool ask(const promote::RollbackResult& result) {
    return cli::confirm(fmt::format("push this rollback to '{}' on remote '{}'?", result.stage.branch,
                             result.stage.remote));
}

int run(const Options& options) {
    if (options.to && options.steps) {
        throw UsageError("--to and --steps cannot be used together");
    }
    auto repository = git::Repository::discover();
    const report::Style err_style(cli::use_color(options.color, &repository.config(), 2));
    promote::RollbackRequest request;
    request.stage = options.stage;
    request.to = options.to;
    request.steps = options.steps.value_or(1);
    request.dry_run = options.dry_run;
    // git's own progress and messages for fetch and push, live, when a person is watching.
    request.progress = process::is_terminal(2);
    request.project_dir = stages::configured_project_dir(repository.config()).value_or("");
    const bool text = options.format == "text";
    bool plan_printed = false;
    bool declined = false;
    if (!options.yes && !options.dry_run && process::is_terminal(0) && process::is_terminal(2)) {
        request.confirm = [&](const promote::RollbackResult& plan) {
            if (text) {
                std::cout << plan_text(plan);
                std::cout.flush();
                plan_printed = true;
            } else {
                std::cerr << plan_text(plan);
            }
            declined = !ask(plan);
            return !declined;
        };
    }

    auto result = promote::rollback(repository, request);
    for (const auto& note : result.notes) {
        std::cerr << note << '\n';
    }
    for (const auto& diagnostic : result.diagnostics) {
        std::cerr << report::format_diagnostic(diagnostic, err_style);
    }
    if (!text) {
        std::cout << result_json(result).dump(2) << '\n';
    } else if (result.outcome == promote::RollbackOutcome::up_to_date) {
        std::cout << fmt::format("{} already has the tree of {}\n", result.stage.name, result.restored.substr(0, 7));
    } else if (result.outcome != promote::RollbackOutcome::invalid &&
               result.outcome != promote::RollbackOutcome::rejected && !plan_printed) {
        std::cout << plan_text(result);
    }

    switch (result.outcome) {
    case promote::RollbackOutcome::up_to_date:
        return cli::exit_ok;
    case promote::RollbackOutcome::invalid:
        std::cerr << fmt::format("error: cannot roll back '{}' to '{}': the tree does not validate for environment "
                                 "'{}'; nothing was pushed\n",
                                 result.stage.name, result.restored.substr(0, 7), result.stage.environment);
        return cli::exit_no;
    case promote::RollbackOutcome::rejected:
        std::cerr << fmt::format("error: remote '{}' rejected the rollback of '{}'; nothing changed there\n",
                                 result.stage.remote, result.stage.branch);
        for (const auto& line : result.rejection) {
            std::cerr << "hint: " << line << '\n';
        }
        return cli::exit_no;
    case promote::RollbackOutcome::planned:
        if (declined) {
            std::cerr << "rollback cancelled; nothing was pushed\n";
            return cli::exit_no;
        }
        return cli::exit_ok;
    case promote::RollbackOutcome::rolled_back:
        std::cerr << fmt::format("rolled back '{}' to '{}': '{}' on remote '{}' is now {}\n", result.stage.name,
                                 result.restored.substr(0, 7), result.stage.branch, result.stage.remote,
                                 result.commit->substr(0, 7));
        return cli::exit_ok;
    }
    return cli::exit_ok;
}

int parse_and_run(const std::vector<std::string>& args) {
    Options options;
    CLI::App app;
    app.add_option("stage", options.stage)->required();
    app.add_option("--to", options.to);
    app.add_option("--steps", options.steps)->check(CLI::PositiveNumber);
    app.add_flag("--dry-run", options.dry_run);
    app.add_flag("--yes,-y", options.yes);
    app.add_option("--format", options.format)->check(CLI::IsMember({"text", "json"}));
    cli::add_color_options(app, options.color);
    cli::parse(app, args);
    return run(options);
}

}  // namespace

int main(int argc, char** argv) {
    return dataops::cli::run_main(argc, argv, kUsage, parse_and_run);
}
