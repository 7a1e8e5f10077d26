// git dataops promote: merge one stage's workspace into the next and push it.
#include <iostream>

#include <dataops/cli/color.hpp>
#include <dataops/cli/main.hpp>
#include <dataops/stages/pipeline.hpp>
#include <dataops/git/repository.hpp>
#include <dataops/process/process.hpp>
#include <dataops/promote/promote.hpp>
#include <dataops/report/diagnostics_report.hpp>
#include <dataops/report/env_report.hpp>
#include <dataops/util/error.hpp>
#include <dataops_docs/git-dataops-promote.hpp>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace {

constexpr const char* kUsage = dataops::docs::promote::usage;

using namespace dataops;

struct Options {
    std::string stage;
    std::optional<std::string> from;
    bool dry_run = false;
    std::string mode = "merge";
    bool yes = false;
    std::string format = "text";
    bool detailed_exitcode = false;
    std::optional<std::string> message;
    cli::ColorOption color;
};

std::string short_id(const std::optional<std::string>& id) {
    return id ? id->substr(0, 7) : std::string("(none)");
}

nlohmann::ordered_json endpoint_json(const promote::Endpoint& endpoint) {
    return {{"stage", endpoint.stage.name},
            {"remote", endpoint.stage.remote},
            {"branch", endpoint.stage.branch},
            {"commit", endpoint.commit ? nlohmann::ordered_json(*endpoint.commit) : nullptr}};
}

nlohmann::ordered_json result_json(const promote::Result& result) {
    nlohmann::ordered_json out;
    out["source"] = endpoint_json(result.source);
    out["target"] = endpoint_json(result.target);
    out["mode"] = promote::mode_name(result.mode);
    out["tree"] = result.tree ? nlohmann::ordered_json(*result.tree) : nullptr;
    out["commit"] = result.commit && result.outcome != promote::Outcome::up_to_date
                        ? nlohmann::ordered_json(*result.commit)
                        : nullptr;
    out["conflicts"] = nlohmann::ordered_json::array();
    for (const auto& conflict : result.conflicts) {
        out["conflicts"].push_back({{"path", conflict.path}, {"reason", conflict.reason}});
    }
    out["changes"] = nlohmann::ordered_json::array();
    for (const auto& change : result.changes) {
        out["changes"].push_back({{"path", change.path}, {"status", change.status}});
    }
    out["config_changes"] = nlohmann::ordered_json::array();
    if (result.before && result.after) {
        report::DiffSide a{result.target.stage.name + " (before)", result.before.get(), result.target.commit};
        report::DiffSide b{result.target.stage.name + " (after)", result.after.get(), result.commit};
        out["config_changes"] = report::diff_json(a, b, result.config_changes, false)["plugins"];
    }
    out["diagnostics"] = nlohmann::ordered_json::array();
    for (const auto& diagnostic : result.diagnostics) {
        out["diagnostics"].push_back(report::diagnostic_json(diagnostic));
    }
    out["pushed"] = result.pushed;
    return out;
}

std::string plan_text(const promote::Result& result, const report::Style& style) {
    const auto& source = result.source;
    const auto& target = result.target;
    std::string out = fmt::format("promote {} → {} ({})\n", source.stage.name, target.stage.name,
                                  promote::mode_name(result.mode));
    out += fmt::format("  from  {}/{}  {}\n", source.stage.remote, source.stage.branch, short_id(source.commit));
    out += fmt::format("  into  {}/{}  {}{}\n", target.stage.remote, target.stage.branch, short_id(target.commit),
                       target.commit ? "" : " (new branch)");
    out += "\nfiles:\n";
    if (result.changes.empty()) {
        out += "  no changes\n";
    }
    for (const auto& change : result.changes) {
        out += fmt::format("  {:<9}{}\n", change.status, change.path);
    }
    out += fmt::format("\nconfiguration of environment '{}':\n", target.stage.environment);
    if (result.config_changes.empty()) {
        out += "  no changes\n";
    } else if (result.before && result.after) {
        report::DiffSide a{fmt::format("{} (before)", target.stage.name), result.before.get(), target.commit};
        report::DiffSide b{fmt::format("{} (after)", target.stage.name), result.after.get(), result.commit};
        out += report::diff_text(a, b, result.config_changes, false, style);
    }
    return out;
}

/// Ask on the terminal; anything but y/yes declines.
bool ask(const promote::Result& result) {
    return cli::confirm(fmt::format("push this promotion to '{}' on remote '{}'?", result.target.stage.branch,
                             result.target.stage.remote));
}

int run(const Options& options) {
    auto repository = git::Repository::discover();
    const report::Style out_style(cli::use_color(options.color, &repository.config(), 1));
    const report::Style err_style(cli::use_color(options.color, &repository.config(), 2));
    promote::Request request;
    request.target_stage = options.stage;
    request.source_stage = options.from;
    request.mode = options.mode == "mirror" ? promote::Mode::mirror : promote::Mode::merge;
    request.dry_run = options.dry_run;
    // git's own progress and messages for fetch and push, live, when a person is watching.
    request.progress = process::is_terminal(2);
    request.message = options.message;
    request.project_dir = stages::configured_project_dir(repository.config()).value_or("");

    const bool text = options.format == "text";
    bool plan_printed = false;
    bool findings_printed = false;
    bool declined = false;
    auto print_findings = [&](const promote::Result& result) {
        if (findings_printed) {
            return;
        }
        for (const auto& diagnostic : result.diagnostics) {
            std::cerr << report::format_diagnostic(diagnostic, err_style);
        }
        findings_printed = true;
    };
    if (!options.yes && !options.dry_run && process::is_terminal(0) && process::is_terminal(2)) {
        request.confirm = [&](const promote::Result& plan) {
            print_findings(plan);
            if (text) {
                std::cout << plan_text(plan, out_style);
                std::cout.flush();
                plan_printed = true;
            } else {
                // stdout is for the JSON document: the person deciding still needs the plan.
                std::cerr << plan_text(plan, err_style);
            }
            declined = !ask(plan);
            return !declined;
        };
    }

    auto result = promote::promote(repository, request);
    for (const auto& note : result.notes) {
        std::cerr << note << '\n';
    }
    print_findings(result);
    const bool refused = result.outcome == promote::Outcome::conflicts ||
                         result.outcome == promote::Outcome::invalid || result.outcome == promote::Outcome::rejected;
    if (!text) {
        std::cout << result_json(result).dump(2) << '\n';
    } else if (result.outcome == promote::Outcome::up_to_date) {
        std::cout << fmt::format("{} is up to date with {}\n", result.target.stage.name, result.source.stage.name);
    } else if (!refused && !plan_printed) {
        std::cout << plan_text(result, out_style);
    }

    const std::string what = fmt::format("'{}' into '{}'", result.source.stage.name, result.target.stage.name);
    switch (result.outcome) {
    case promote::Outcome::up_to_date:
        return cli::exit_ok;
    case promote::Outcome::conflicts:
        for (const auto& conflict : result.conflicts) {
            std::cerr << fmt::format("error: conflict in '{}': {}\n", conflict.path, conflict.reason);
        }
        std::cerr << fmt::format("error: cannot promote {}: the merge has conflicts -X theirs does not resolve; "
                                 "nothing was pushed\n",
                                 what);
        return cli::exit_no;
    case promote::Outcome::invalid:
        std::cerr << fmt::format("error: cannot promote {}: the result does not validate for environment '{}'; "
                                 "nothing was pushed\n",
                                 what, result.target.stage.environment);
        return cli::exit_no;
    case promote::Outcome::rejected:
        std::cerr << fmt::format("error: remote '{}' rejected the promotion of '{}'; nothing changed there\n",
                                 result.target.stage.remote, result.target.stage.branch);
        for (const auto& line : result.rejection) {
            std::cerr << "hint: " << line << '\n';
        }
        return cli::exit_no;
    case promote::Outcome::planned:
        if (declined) {
            std::cerr << "promotion cancelled; nothing was pushed\n";
            return cli::exit_no;
        }
        return options.detailed_exitcode ? 2 : cli::exit_ok;
    case promote::Outcome::promoted:
        std::cerr << fmt::format("promoted {}: '{}' on remote '{}' is now {}\n", what, result.target.stage.branch,
                                 result.target.stage.remote, short_id(result.commit));
        return options.detailed_exitcode ? 2 : cli::exit_ok;
    }
    return cli::exit_ok;
}

int parse_and_run(const std::vector<std::string>& args) {
    Options options;
    CLI::App app;
    app.add_option("stage", options.stage)->required();
    app.add_option("--from", options.from);
    app.add_flag("--dry-run", options.dry_run);
    app.add_option("--mode", options.mode)->check(CLI::IsMember({"merge", "mirror"}));
    app.add_flag("--yes,-y", options.yes);
    app.add_option("--format", options.format)->check(CLI::IsMember({"text", "json"}));
    app.add_flag("--detailed-exitcode", options.detailed_exitcode);
    app.add_option("-m,--message", options.message);
    cli::add_color_options(app, options.color);
    cli::parse(app, args);
    return run(options);
}

}  // namespace

int main(int argc, char** argv) {
    return dataops::cli::run_main(argc, argv, kUsage, parse_and_run);
}
