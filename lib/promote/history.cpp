#include <dataops/promote/history.hpp>

#include <algorithm>
#include <cctype>

#include <dataops/meltano/validate.hpp>
#include <dataops/promote/shared.hpp>
#include <dataops/util/error.hpp>
#include <dataops_version.hpp>
#include <fmt/format.h>

namespace dataops::promote {
namespace {

using detail::Git;
using detail::lines_of;

std::vector<std::string> split(const std::string& text, char separator) {
    std::vector<std::string> parts;
    std::size_t start = 0;
    for (;;) {
        auto end = text.find(separator, start);
        if (end == std::string::npos) {
            parts.push_back(text.substr(start));
            return parts;
        }
        parts.push_back(text.substr(start, end - start));
        start = end + 1;
    }
}

/// The value of trailer `key` in `trailers` (one `Key: value` a line), or "".
std::string trailer(const std::vector<std::string>& trailers, const std::string& key) {
    const std::string prefix = key + ": ";
    for (const auto& line : trailers) {
        if (line.size() >= prefix.size() && std::equal(prefix.begin(), prefix.end(), line.begin(), [](char a, char b) {
                return std::tolower(static_cast<unsigned char>(a)) == std::tolower(static_cast<unsigned char>(b));
            })) {
            return line.substr(prefix.size());
        }
    }
    return {};
}

/// The entry of one `git log` record, or nullopt when the commit carries no dataops trailers.
std::optional<HistoryEntry> parse_record(const std::string& record) {
    auto fields = split(record, '\x1f');
    if (fields.size() < 8) {
        return std::nullopt;
    }
    auto trailers = lines_of(fields[7]);
    HistoryEntry entry;
    auto source = trailer(trailers, "Dataops-Source");
    auto restored = trailer(trailers, "Dataops-Rollback");
    if (!source.empty()) {
        entry.kind = HistoryEntry::Kind::promotion;
        auto space = source.find(' ');
        entry.source_stage = source.substr(0, space);
        entry.source_commit = space == std::string::npos ? std::string() : source.substr(space + 1);
    } else if (!restored.empty()) {
        entry.kind = HistoryEntry::Kind::rollback;
        entry.restored_commit = restored;
    } else {
        return std::nullopt;
    }
    entry.commit = fields[0];
    entry.first_parent = fields[1].substr(0, fields[1].find(' '));
    entry.author_name = fields[2];
    entry.author_email = fields[3];
    entry.date = fields[4];
    try {
        entry.time = std::stoll(fields[5]);
    } catch (const std::exception&) {
        entry.time = 0;
    }
    entry.subject = fields[6];
    entry.target = trailer(trailers, "Dataops-Target");
    entry.environment = trailer(trailers, "Dataops-Environment");
    entry.mode = trailer(trailers, "Dataops-Mode");
    entry.version = trailer(trailers, "Dataops-Version");
    return entry;
}

std::string missing_branch(const stages::Stage& stage) {
    return fmt::format("branch '{}' does not exist on remote '{}' (stage '{}')", stage.branch, stage.remote,
                       stage.name);
}

}  // namespace

const char* kind_name(HistoryEntry::Kind kind) {
    return kind == HistoryEntry::Kind::rollback ? "rollback" : "promotion";
}

std::vector<HistoryEntry> read_history(const git::Repository& repository, const std::string& commit,
                                       std::size_t limit, std::vector<HistoryEntry::Kind> kinds) {
    Git git(repository);
    auto result = git.run({"log", "--first-parent", "--no-color",
                           "--format=%H%x1f%P%x1f%an%x1f%ae%x1f%cI%x1f%ct%x1f%s%x1f%(trailers:only,unfold)%x1e",
                           "--end-of-options", commit});
    if (!result.ok()) {
        throw Error(fmt::format("cannot read the history of '{}'", commit), lines_of(result.err));
    }
    std::vector<HistoryEntry> entries;
    for (auto record : split(result.out, '\x1e')) {
        // Records after the first start with the LF that ends the previous one.
        if (!record.empty() && record.front() == '\n') {
            record.erase(0, 1);
        }
        auto entry = parse_record(record);
        if (!entry) {
            continue;
        }
        if (!kinds.empty() && std::find(kinds.begin(), kinds.end(), entry->kind) == kinds.end()) {
            continue;
        }
        entries.push_back(std::move(*entry));
        if (limit != 0 && entries.size() == limit) {
            break;
        }
    }
    return entries;
}

std::vector<StageStatus> status(const git::Repository& repository) {
    auto pipeline = stages::load_pipeline(repository.config());
    const std::string project_dir = stages::configured_project_dir(repository.config()).value_or("");
    const std::string& git_dir = repository.location().git_dir;
    Git git(repository);
    std::vector<const stages::Stage*> wanted;
    for (const auto& stage : pipeline.stages) {
        wanted.push_back(&stage);
    }
    const auto objects = git::make_object_reader(git_dir);  // one `git cat-file` for every stage
    auto fetched = git.fetch_all(wanted, objects.get());
    std::vector<StageStatus> out;
    for (std::size_t i = 0; i < pipeline.stages.size(); ++i) {
        const auto& stage = pipeline.stages[i];
        StageStatus entry;
        entry.stage = stage;
        entry.tip = fetched[i].tip;
        if (fetched[i].error) {
            entry.reachable = false;
            entry.error = fetched[i].error->what();
            entry.error_hints = fetched[i].error->hints();
        }
        if (entry.tip) {
            auto load = detail::load_tree(*entry.tip, objects, project_dir);
            meltano::ValidateOptions options;
            options.environments = {stage.environment};
            auto diagnostics = meltano::validate(*load, options).diagnostics;
            for (const auto& diagnostic : diagnostics) {
                if (diagnostic.severity == meltano::Severity::error) {
                    ++entry.errors;
                } else {
                    ++entry.warnings;
                }
            }
            entry.valid = load->project && !meltano::has_errors(diagnostics);
            auto last = read_history(repository, *entry.tip, 1, {HistoryEntry::Kind::promotion});
            if (!last.empty()) {
                entry.last_promotion = std::move(last.front());
            }
        }
        out.push_back(std::move(entry));
    }
    // Compare each stage with the one before it, now that every tip is fetched.
    for (std::size_t i = 1; i < out.size(); ++i) {
        auto& entry = out[i];
        const auto& previous = out[i - 1];
        entry.source_stage = previous.stage.name;
        if (!previous.tip) {
            continue;
        }
        if (!entry.tip) {
            if (entry.reachable) {
                auto counted = git.run({"rev-list", "--count", *previous.tip});
                if (counted.ok()) {
                    entry.waiting = std::stoull(detail::first_line(counted.out));
                }
            }
            continue;
        }
        auto base = git.run({"merge-base", *previous.tip, *entry.tip});
        entry.unrelated = base.exit_code == 1;
        auto counted = git.run({"rev-list", "--count", *previous.tip, "^" + *entry.tip});
        if (!counted.ok()) {
            throw Error(fmt::format("cannot compare stage '{}' with stage '{}'", entry.stage.name, previous.stage.name),
                        lines_of(counted.err));
        }
        entry.waiting = std::stoull(detail::first_line(counted.out));
    }
    return out;
}

StageLog log(const git::Repository& repository, const std::string& stage_name, std::size_t limit) {
    auto pipeline = stages::load_pipeline(repository.config());
    StageLog out;
    out.stage = detail::find_stage(pipeline, stage_name);
    Git git(repository);
    out.tip = git.fetch(out.stage);
    if (!out.tip) {
        throw Error(missing_branch(out.stage));
    }
    out.entries = read_history(repository, *out.tip, limit);
    return out;
}

RollbackResult rollback(const git::Repository& repository, const RollbackRequest& request) {
    auto pipeline = stages::load_pipeline(repository.config());
    const stages::Stage& stage = detail::find_stage(pipeline, request.stage);
    if (request.steps == 0) {
        throw UsageError("--steps must be at least 1");
    }
    detail::PromotionLock lock(detail::lock_path(repository));
    Git git(repository, request.progress);
    RollbackResult result;
    result.stage = stage;
    auto tip = git.fetch(stage);
    if (!tip) {
        throw Error(missing_branch(stage));
    }
    result.tip = *tip;

    if (request.to) {
        auto parsed = git.run({"rev-parse", "--verify", "--quiet", "--end-of-options", *request.to + "^{commit}"});
        if (!parsed.ok()) {
            throw Error(fmt::format("bad revision '{}'", *request.to));
        }
        result.restored = detail::first_line(parsed.out);
    } else {
        auto promotions = read_history(repository, result.tip, request.steps, {HistoryEntry::Kind::promotion});
        if (promotions.size() < request.steps) {
            throw Error(fmt::format("stage '{}' has {} promotion{} to roll back, not {}", stage.name,
                                    promotions.size(), promotions.size() == 1 ? "" : "s", request.steps),
                        {"name the commit to restore with --to <commit>"});
        }
        const auto& promotion = promotions.back();
        if (promotion.first_parent.empty()) {
            throw Error(fmt::format("promotion '{}' has no parent: nothing came before it",
                                    promotion.commit.substr(0, 7)));
        }
        result.restored = promotion.first_parent;
    }

    const std::string& git_dir = repository.location().git_dir;
    git::ObjectStore store(git_dir);
    result.tree = store.tree_of(result.restored);
    const auto tip_tree = store.tree_of(result.tip);
    if (result.tree == tip_tree) {
        result.outcome = RollbackOutcome::up_to_date;
        return result;
    }
    result.changes = store.diff_trees(tip_tree, result.tree);
    const auto objects = git::make_object_reader(git_dir);
    auto load = detail::load_tree(result.tree, objects, request.project_dir);
    meltano::ValidateOptions options;
    options.environments = {stage.environment};
    result.diagnostics = meltano::validate(*load, options).diagnostics;
    if (!load->project || meltano::has_errors(result.diagnostics)) {
        result.outcome = RollbackOutcome::invalid;
        return result;
    }
    result.outcome = RollbackOutcome::planned;
    if (request.dry_run || (request.confirm && !request.confirm(result))) {
        return result;
    }

    const auto message = fmt::format("rollback {} to {}\n\nDataops-Rollback: {}\nDataops-Target: {}\n"
                                     "Dataops-Environment: {}\nDataops-Version: {}\n",
                                     stage.name, result.restored.substr(0, 7), result.restored, stage.name,
                                     stage.environment, DATAOPS_VERSION);
    result.commit = detail::write_commit(store, *objects, result.tree, {result.tip}, message,
                                         detail::Identities(git).get());
    detail::test_pause("rollback-after-commit");
    auto pushed = detail::push_and_verify(git, stage, *result.commit, "rollback");
    if (!pushed.pushed) {
        result.outcome = RollbackOutcome::rejected;
        result.rejection = pushed.messages;
        if (pushed.now != result.tip) {
            result.rejection.push_back(fmt::format("'{}' moved on remote '{}' meanwhile: check `git dataops log {}` "
                                                   "and roll back again",
                                                   stage.branch, stage.remote, stage.name));
        }
        return result;
    }
    result.notes = pushed.messages;
    result.pushed = true;
    result.outcome = RollbackOutcome::rolled_back;
    return result;
}

}  // namespace dataops::promote
