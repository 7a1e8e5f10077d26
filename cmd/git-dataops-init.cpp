// git dataops init: write the pipeline (stages, their remotes, branches and environments) into
// the repository's git config, check it, and print it.
#include <algorithm>
#include <iostream>

#include <dataops/cli/main.hpp>
#include <dataops/meltano/project.hpp>
#include <dataops/stages/pipeline.hpp>
#include <dataops/util/error.hpp>
#include <dataops/util/strings.hpp>
#include <dataops/workspace/workspace.hpp>
#include <dataops_docs/git-dataops-init.hpp>
#include <fmt/format.h>

namespace {

constexpr const char* kUsage = dataops::docs::init::usage;

using namespace dataops;

struct Options {
    std::optional<std::string> stages;
    std::vector<std::string> remotes;
    std::vector<std::string> branches;
    std::vector<std::string> environments;
};

/// Apply `stage=value` assignments to `field` of the matching stages.
void assign(std::vector<stages::Stage>& list, const std::vector<std::string>& assignments, const char* option,
            std::string stages::Stage::*field) {
    for (const auto& a : assignments) {
        auto eq = a.find('=');
        if (eq == std::string::npos || eq == 0 || eq + 1 == a.size()) {
            throw UsageError(fmt::format("{} expects <stage>=<value>, not '{}'", option, a));
        }
        std::string name = a.substr(0, eq);
        auto it = std::find_if(list.begin(), list.end(), [&](const auto& s) { return s.name == name; });
        if (it == list.end()) {
            throw UsageError(fmt::format("{} names stage '{}', which is not in the pipeline", option, name));
        }
        (*it).*field = a.substr(eq + 1);
    }
}

int run(const Options& options) {
    auto ws = workspace::open({});
    const auto& config = ws.repository.config();
    auto pipeline = stages::load_pipeline(config);
    if (options.stages) {
        auto names = stages::split_stage_list(*options.stages);
        std::string list;
        for (const auto& n : names) {
            list += (list.empty() ? "" : " ") + n;
        }
        // Fresh stages: defaults for every field, then what the options say.
        pipeline = stages::load_pipeline(git::Config::parse_z_list("dataops.stages\n" + list + std::string(1, '\0')));
    }
    assign(pipeline.stages, options.remotes, "--remote", &stages::Stage::remote);
    assign(pipeline.stages, options.branches, "--branch", &stages::Stage::branch);
    assign(pipeline.stages, options.environments, "--environment", &stages::Stage::environment);

    std::string list;
    for (const auto& s : pipeline.stages) {
        list += (list.empty() ? "" : " ") + s.name;
    }
    ws.repository.set_config("dataops.stages", list);
    for (const auto& s : pipeline.stages) {
        ws.repository.set_config(fmt::format("dataops.{}.remote", s.name), s.remote);
        ws.repository.set_config(fmt::format("dataops.{}.branch", s.name), s.branch);
        ws.repository.set_config(fmt::format("dataops.{}.environment", s.name), s.environment);
    }

    auto load = meltano::load_project(*ws.source, ws.project_dir);
    int problems = 0;
    std::vector<std::vector<std::string>> rows;
    for (const auto& s : pipeline.stages) {
        bool remote_ok = !stages::remote_urls(config, s.remote).empty();
        bool env_ok = load.project && load.project->find_environment(s.environment) != nullptr;
        if (!remote_ok) {
            ++problems;
            std::cerr << fmt::format("warning: stage '{}' uses remote '{}', which does not exist\n", s.name, s.remote);
            std::cerr << fmt::format("hint: add it with 'git remote add {} <url>'\n", s.remote);
        }
        if (!env_ok) {
            ++problems;
            std::cerr << fmt::format("warning: stage '{}' runs environment '{}', which is not defined in {}\n", s.name,
                                     s.environment, git::join_path(ws.project_dir, "meltano.yml"));
        }
        rows.push_back({s.name, s.remote + "/" + s.branch, fmt::format("environment '{}'", s.environment)});
    }
    std::cout << util::columns(rows);
    return problems == 0 ? cli::exit_ok : cli::exit_no;
}

int parse_and_run(const std::vector<std::string>& args) {
    Options options;
    CLI::App app;
    app.add_option("--stages", options.stages);
    app.add_option("--remote", options.remotes);
    app.add_option("--branch", options.branches);
    app.add_option("--environment", options.environments);
    cli::parse(app, args);
    return run(options);
}

}  // namespace

int main(int argc, char** argv) {
    return dataops::cli::run_main(argc, argv, kUsage, parse_and_run);
}
