// git dataops log: the promotions and rollbacks of a stage, newest first.
#include <iostream>

#include <dataops/cli/main.hpp>
#include <dataops/git/repository.hpp>
#include <dataops/promote/history.hpp>
#include <dataops_docs/git-dataops-log.hpp>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace {

constexpr const char* kUsage = dataops::docs::log::usage;

using namespace dataops;

struct Options {
    std::string stage;
    std::size_t count = 0;
    std::string format = "text";
};

nlohmann::ordered_json entry_json(const promote::HistoryEntry& entry) {
    nlohmann::ordered_json out;
    out["kind"] = promote::kind_name(entry.kind);
    out["commit"] = entry.commit;
    out["date"] = entry.date;
    out["author"] = {{"name", entry.author_name}, {"email", entry.author_email}};
    out["subject"] = entry.subject;
    if (entry.kind == promote::HistoryEntry::Kind::promotion) {
        out["source"] = {{"stage", entry.source_stage}, {"commit", entry.source_commit}};
        out["mode"] = entry.mode;
    } else {
        out["restored"] = entry.restored_commit;
    }
    out["environment"] = entry.environment;
    return out;
}

int run(const Options& options) {
    auto repository = git::Repository::discover();
    auto history = promote::log(repository, options.stage, options.count);
    if (options.format == "json") {
        nlohmann::ordered_json out;
        out["stage"] = history.stage.name;
        out["tip"] = history.tip ? nlohmann::ordered_json(*history.tip) : nullptr;
        out["entries"] = nlohmann::ordered_json::array();
        for (const auto& entry : history.entries) {
            out["entries"].push_back(entry_json(entry));
        }
        std::cout << out.dump(2) << '\n';
        return cli::exit_ok;
    }
    if (history.entries.empty()) {
        std::cout << fmt::format("no promotions into {}\n", history.stage.name);
    }
    for (const auto& entry : history.entries) {
        if (entry.kind == promote::HistoryEntry::Kind::promotion) {
            std::cout << fmt::format("{}  {}  {} <{}>  promote from {} {} ({})\n", entry.commit.substr(0, 7),
                                     entry.date, entry.author_name, entry.author_email, entry.source_stage,
                                     entry.source_commit.substr(0, 7), entry.mode);
        } else {
            std::cout << fmt::format("{}  {}  {} <{}>  rollback to {}\n", entry.commit.substr(0, 7), entry.date,
                                     entry.author_name, entry.author_email, entry.restored_commit.substr(0, 7));
        }
    }
    return cli::exit_ok;
}

int parse_and_run(const std::vector<std::string>& args) {
    Options options;
    CLI::App app;
    app.add_option("stage", options.stage)->required();
    app.add_option("-n,--max-count", options.count)->check(CLI::PositiveNumber);
    app.add_option("--format", options.format)->check(CLI::IsMember({"text", "json"}));
    cli::parse(app, args);
    return run(options);
}

}  // namespace

int main(int argc, char** argv) {
    return dataops::cli::run_main(argc, argv, kUsage, parse_and_run);
}
