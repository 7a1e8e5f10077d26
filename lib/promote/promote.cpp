#include <dataops/promote/promote.hpp>

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <dataops/git/revision_source.hpp>
#include <dataops/meltano/validate.hpp>
#include <dataops/process/process.hpp>
#include <dataops/util/error.hpp>
#include <dataops_version.hpp>
#include <fmt/format.h>

namespace dataops::promote {
namespace {

/// One promotion at a time per clone: two would race on the private fetch refs and could push
/// each other's half-computed plans.
class PromotionLock {
public:
    explicit PromotionLock(std::string path) : path_(std::move(path)) {
        int fd = ::open(path_.c_str(), O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0644);
        if (fd < 0) {
            int error = errno;
            if (error == EEXIST) {
                throw Error("another promotion is running from this clone",
                            {fmt::format("if none is, remove '{}'", path_)});
            }
            throw Error(fmt::format("cannot create '{}': {}", path_, std::strerror(error)));
        }
        auto pid = std::to_string(::getpid()) + "\n";
        // The pid only helps a person decide whether the lock is stale: a short write is harmless.
        [[maybe_unused]] auto written = ::write(fd, pid.data(), pid.size());
        ::close(fd);
    }
    ~PromotionLock() { ::unlink(path_.c_str()); }
    PromotionLock(const PromotionLock&) = delete;
    PromotionLock& operator=(const PromotionLock&) = delete;

private:
    std::string path_;
};

std::string first_line(const std::string& text) {
    return text.substr(0, text.find('\n'));
}

std::vector<std::string> lines_of(const std::string& text) {
    std::vector<std::string> lines;
    std::size_t start = 0;
    while (start < text.size()) {
        auto end = text.find('\n', start);
        if (end == std::string::npos) {
            end = text.size();
        }
        if (end > start) {
            lines.push_back(text.substr(start, end - start));
        }
        start = end + 1;
    }
    return lines;
}

class Git {
public:
    explicit Git(const git::Repository& repository)
        : cwd_(repository.location().work_tree.value_or(repository.location().git_dir)) {}

    process::Result run(std::vector<std::string> args, process::Interaction interaction = process::Interaction::none) const {
        process::Options options;
        options.argv = {"git"};
        options.argv.insert(options.argv.end(), args.begin(), args.end());
        options.cwd = cwd_;
        options.interaction = interaction;
        return process::run(options);
    }

    /// The tip of `refs/heads/<branch>` on `remote`, or nullopt when the branch does not exist.
    std::optional<std::string> remote_tip(const stages::Stage& stage) const {
        const std::string ref = "refs/heads/" + stage.branch;
        // `--` keeps a remote named like an option from being read as one.
        auto result = run({"ls-remote", "--", stage.remote, ref}, process::Interaction::person);
        if (!result.ok()) {
            throw Error(fmt::format("cannot read the branches of remote '{}'", stage.remote), lines_of(result.err));
        }
        // A pattern matches any ref ending in it: keep the exact name only.
        for (const auto& line : lines_of(result.out)) {
            auto tab = line.find('\t');
            if (tab != std::string::npos && line.substr(tab + 1) == ref) {
                return line.substr(0, tab);
            }
        }
        return std::nullopt;
    }

    /// Fetch the stage's branch into refs/dataops/fetch/<stage>; nullopt when the branch does not
    /// exist on the remote.
    std::optional<std::string> fetch(const stages::Stage& stage) const {
        const std::string local = "refs/dataops/fetch/" + stage.name;
        if (!remote_tip(stage)) {
            run({"update-ref", "-d", local});
            return std::nullopt;
        }
        // --refmap= keeps even the remote-tracking branches as they were: only our namespace moves.
        auto result = run({"fetch", "--quiet", "--no-tags", "--no-write-fetch-head", "--refmap=", "--", stage.remote,
                           fmt::format("+refs/heads/{}:{}", stage.branch, local)},
                          process::Interaction::person);
        if (!result.ok()) {
            throw Error(fmt::format("cannot fetch '{}' from remote '{}'", stage.branch, stage.remote),
                        lines_of(result.err));
        }
        auto parsed = run({"rev-parse", "--verify", "--quiet", local + "^{commit}"});
        if (!parsed.ok()) {
            throw Error(fmt::format("cannot read '{}' after fetching it", local));
        }
        return first_line(parsed.out);
    }

    git::Identity identity(const char* variable) const {
        auto result = run({"var", variable});
        if (!result.ok()) {
            throw Error("cannot tell who is promoting", lines_of(result.err));
        }
        return git::parse_identity(first_line(result.out));
    }

private:
    std::string cwd_;
};

const stages::Stage& find_stage(const stages::Pipeline& pipeline, const std::string& name) {
    const stages::Stage* stage = pipeline.find(name);
    if (stage == nullptr) {
        std::string known;
        for (const auto& s : pipeline.stages) {
            known += (known.empty() ? "" : ", ") + s.name;
        }
        throw Error(fmt::format("unknown stage '{}'", name), {fmt::format("the stages are: {}", known)});
    }
    return *stage;
}

std::string commit_message(const Request& request, const Result& result) {
    std::string subject = request.message.value_or(
        fmt::format("promote {} → {}", result.source.stage.name, result.target.stage.name));
    return fmt::format("{}\n\nDataops-Source: {} {}\nDataops-Target: {}\nDataops-Environment: {}\n"
                       "Dataops-Mode: {}\nDataops-Version: {}\n",
                       subject, result.source.stage.name, *result.source.commit, result.target.stage.name,
                       result.target.stage.environment, mode_name(result.mode), DATAOPS_VERSION);
}

std::shared_ptr<const meltano::Resolution> resolve_for(const std::shared_ptr<const meltano::LoadResult>& load,
                                                       const std::string& environment) {
    if (!load || !load->project) {
        return std::make_shared<const meltano::Resolution>();
    }
    meltano::ResolveOptions options;
    options.environment = environment;
    return std::make_shared<const meltano::Resolution>(meltano::resolve(*load->project, options));
}

std::shared_ptr<const meltano::LoadResult> load_tree(const std::string& tree_or_commit, const std::string& git_dir,
                                                     const std::string& project_dir) {
    auto source = git::make_revision_source(tree_or_commit, git_dir);
    return std::make_shared<const meltano::LoadResult>(meltano::load_project(*source, project_dir));
}

/// Fetch both stages' branches into refs/dataops/fetch/.
Result fetch(const Git& git, const Request& request, const stages::Stage& source, const stages::Stage& target) {
    Result result;
    result.mode = request.mode;
    result.source.stage = source;
    result.target.stage = target;
    result.source.commit = git.fetch(source);
    if (!result.source.commit) {
        throw Error(fmt::format("branch '{}' does not exist on remote '{}' (stage '{}')", source.branch, source.remote,
                                source.name));
    }
    result.target.commit = git.fetch(target);
    return result;
}

/// Compute the promotion of the fetched tips up to the plan (no commit written yet).
void plan(Result& result, const git::ObjectStore& store, const std::string& git_dir, const Request& request) {
    const stages::Stage& target = result.target.stage;
    std::optional<std::string> target_tree;
    if (!result.target.commit) {
        // An empty target receives the source commit as it is: nothing to merge with.
        result.tree = store.tree_of(*result.source.commit);
        result.commit = result.source.commit;
    } else {
        target_tree = store.tree_of(*result.target.commit);
        if (request.mode == Mode::mirror) {
            result.tree = store.tree_of(*result.source.commit);
        } else {
            auto merged = store.merge_theirs(*result.target.commit, *result.source.commit);
            if (!merged.conflicts.empty()) {
                result.conflicts = std::move(merged.conflicts);
                result.outcome = Outcome::conflicts;
                return;
            }
            result.tree = merged.tree;
        }
        if (*result.tree == *target_tree && store.is_ancestor(*result.source.commit, *result.target.commit)) {
            result.outcome = Outcome::up_to_date;
            return;
        }
    }

    result.changes = store.diff_trees(target_tree, *result.tree);
    result.after_project = load_tree(*result.tree, git_dir, request.project_dir);
    meltano::ValidateOptions validate_options;
    validate_options.environments = {target.environment};
    result.diagnostics = meltano::validate(*result.after_project, validate_options).diagnostics;
    if (!result.after_project->project || meltano::has_errors(result.diagnostics)) {
        result.outcome = Outcome::invalid;
        return;
    }
    if (target_tree) {
        result.before_project = load_tree(*target_tree, git_dir, request.project_dir);
    }
    result.before = resolve_for(result.before_project, target.environment);
    result.after = resolve_for(result.after_project, target.environment);
    result.config_changes = report::compare(*result.before, *result.after);
    result.outcome = Outcome::planned;
}

}  // namespace

const char* mode_name(Mode mode) {
    return mode == Mode::mirror ? "mirror" : "merge";
}

Result promote(const git::Repository& repository, const Request& request) {
    auto pipeline = stages::load_pipeline(repository.config());
    const stages::Stage& target = find_stage(pipeline, request.target_stage);
    const stages::Stage* source = nullptr;
    if (request.source_stage) {
        source = &find_stage(pipeline, *request.source_stage);
    } else {
        source = pipeline.previous(target);
        if (source == nullptr) {
            throw Error(fmt::format("stage '{}' is the first stage: no stage comes before it", target.name),
                        {"name the source stage with --from <stage>"});
        }
    }
    if (source->name == target.name) {
        throw Error(fmt::format("cannot promote stage '{}' into itself", target.name));
    }

    PromotionLock lock(repository.location().common_dir + "/dataops-promote.lock");
    Git git(repository);
    std::vector<std::string> notes;
    constexpr int max_attempts = 2;
    for (int attempt = 1;; ++attempt) {
        Result result = fetch(git, request, *source, target);
        // Opened after the fetch so the fetched objects are there; one libgit2 start-up per attempt.
        git::ObjectStore store(repository.location().git_dir);
        plan(result, store, repository.location().git_dir, request);
        result.attempts = attempt;
        result.notes = notes;
        if (result.outcome != Outcome::planned || request.dry_run) {
            return result;
        }
        if (request.confirm && !request.confirm(result)) {
            return result;
        }
        if (result.target.commit) {
            git::CommitRequest commit;
            commit.tree = *result.tree;
            commit.parents = {*result.target.commit, *result.source.commit};
            commit.message = commit_message(request, result);
            commit.author = git.identity("GIT_AUTHOR_IDENT");
            commit.committer = git.identity("GIT_COMMITTER_IDENT");
            result.commit = store.create_commit(commit);
        }

        // Never forced: the push is the compare-and-swap, and the remote's hooks get their say.
        auto pushed = git.run({"push", "--quiet", "--", target.remote,
                               fmt::format("{}:refs/heads/{}", *result.commit, target.branch)},
                              process::Interaction::person);
        if (!pushed.ok()) {
            auto now = git.remote_tip(target);
            if (now != result.target.commit && attempt < max_attempts) {
                notes.push_back(fmt::format("'{}' on remote '{}' moved while promoting; promoting again",
                                            target.branch, target.remote));
                continue;
            }
            auto hints = lines_of(pushed.err);
            if (now != result.target.commit) {
                hints.push_back(fmt::format("'{}' keeps moving on remote '{}': run the promotion again later",
                                            target.branch, target.remote));
            }
            throw Error(fmt::format("remote '{}' rejected the promotion of '{}'", target.remote, target.branch), hints);
        }
        auto now = git.remote_tip(target);
        if (now != result.commit) {
            throw Error(fmt::format("'{}' on remote '{}' is at '{}' after the push, not at the promotion '{}'",
                                    target.branch, target.remote, now.value_or("(none)"), *result.commit));
        }
        for (const auto& line : lines_of(pushed.err)) {
            result.notes.push_back(line);
        }
        result.pushed = true;
        result.outcome = Outcome::promoted;
        return result;
    }
}

}  // namespace dataops::promote
