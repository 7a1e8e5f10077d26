// git dataops status: every stage of the pipeline at a glance.
#include <iostream>

#include <dataops/cli/main.hpp>
#include <dataops/git/repository.hpp>
#include <dataops/promote/history.hpp>
#include <dataops_docs/git-dataops-status.hpp>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace {

constexpr const char* kUsage = dataops::docs::status::usage;

using namespace dataops;

struct Options {
    std::string format = "text";
};

std::string short_id(const std::string& id) {
    return id.substr(0, 7);
}

nlohmann::ordered_json optional_json(const std::optional<std::string>& value) {
    return value ? nlohmann::ordered_json(*value) : nullptr;
}

nlohmann::ordered_json promotion_json(const promote::HistoryEntry& entry) {
    return {{"commit", entry.commit},
            {"date", entry.date},
            {"author", {{"name", entry.author_name}, {"email", entry.author_email}}},
            {"source", {{"stage", entry.source_stage}, {"commit", entry.source_commit}}},
            {"mode", entry.mode}};
}

nlohmann::ordered_json status_json(const std::vector<promote::StageStatus>& stages) {
    nlohmann::ordered_json out;
    out["stages"] = nlohmann::ordered_json::array();
    for (const auto& s : stages) {
        nlohmann::ordered_json entry;
        entry["stage"] = s.stage.name;
        entry["remote"] = s.stage.remote;
        entry["branch"] = s.stage.branch;
        entry["environment"] = s.stage.environment;
        entry["reachable"] = s.reachable;
        entry["error"] = s.reachable ? nlohmann::ordered_json(nullptr) : nlohmann::ordered_json(s.error);
        entry["tip"] = optional_json(s.tip);
        entry["valid"] = s.valid ? nlohmann::ordered_json(*s.valid) : nullptr;
        entry["errors"] = s.errors;
        entry["warnings"] = s.warnings;
        entry["source"] = optional_json(s.source_stage);
        entry["waiting"] = s.waiting ? nlohmann::ordered_json(*s.waiting) : nullptr;
        entry["unrelated"] = s.unrelated;
        entry["last_promotion"] = s.last_promotion ? promotion_json(*s.last_promotion) : nullptr;
        out["stages"].push_back(entry);
    }
    return out;
}

std::string status_text(const std::vector<promote::StageStatus>& stages) {
    std::string out;
    for (const auto& s : stages) {
        if (!out.empty()) {
            out += "\n";
        }
        out += fmt::format("{}  ({}/{}, environment '{}')\n", s.stage.name, s.stage.remote, s.stage.branch,
                           s.stage.environment);
        if (!s.reachable) {
            out += fmt::format("  unreachable: {}\n", s.error);
            continue;
        }
        if (!s.tip) {
            out += "  tip         (no branch)\n";
        } else {
            out += fmt::format("  tip         {}\n", short_id(*s.tip));
            std::string problems;
            if (s.errors != 0 || s.warnings != 0) {
                problems = fmt::format(" ({} error{}, {} warning{})", s.errors, s.errors == 1 ? "" : "s", s.warnings,
                                       s.warnings == 1 ? "" : "s");
            }
            out += fmt::format("  validates   {}{}\n", s.valid.value_or(false) ? "yes" : "no", problems);
        }
        if (s.source_stage) {
            if (s.waiting) {
                out += fmt::format("  waiting     {} commit{} of {} not in {}{}\n", *s.waiting,
                                   *s.waiting == 1 ? "" : "s", *s.source_stage, s.stage.name,
                                   s.unrelated ? " (unrelated histories)" : "");
            } else {
                out += fmt::format("  waiting     unknown ({} has no tip)\n", *s.source_stage);
            }
        }
        if (s.last_promotion) {
            const auto& p = *s.last_promotion;
            out += fmt::format("  promoted    {} by {} <{}> from {} {} ({}), {}\n", p.date, p.author_name,
                               p.author_email, p.source_stage, short_id(p.source_commit), p.mode,
                               short_id(p.commit));
        } else if (s.tip) {
            out += "  promoted    never\n";
        }
    }
    return out;
}

int run(const Options& options) {
    auto repository = git::Repository::discover();
    auto stages = promote::status(repository);
    if (options.format == "json") {
        std::cout << status_json(stages).dump(2) << '\n';
    } else {
        std::cout << status_text(stages);
    }
    for (const auto& s : stages) {
        if (!s.reachable) {
            std::cerr << fmt::format("warning: stage '{}' is unreachable: {}\n", s.stage.name, s.error);
            for (const auto& hint : s.error_hints) {
                std::cerr << fmt::format("hint: {}\n", hint);
            }
        }
    }
    return cli::exit_ok;
}

int parse_and_run(const std::vector<std::string>& args) {
    Options options;
    CLI::App app;
    app.add_option("--format", options.format)->check(CLI::IsMember({"text", "json"}));
    cli::parse(app, args);
    return run(options);
}

}  // namespace

int main(int argc, char** argv) {
    return dataops::cli::run_main(argc, argv, kUsage, parse_and_run);
}
