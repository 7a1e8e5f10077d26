#pragma once
/// What `promote` and `rollback` share: the per-clone lock, the user's `git` for transport (fetch
/// into refs/dataops/fetch/<stage>, ls-remote, the push), stage lookup, commit writing and the
/// validation of a tree for a stage. Internal to lib/promote.

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <dataops/git/merge.hpp>
#include <dataops/git/repository.hpp>
#include <dataops/git/revision_source.hpp>
#include <dataops/meltano/project.hpp>
#include <dataops/process/process.hpp>
#include <dataops/stages/pipeline.hpp>

namespace dataops::promote::detail {

/// One promotion (or rollback) at a time per clone: two would race on the private fetch refs and
/// could push each other's half-computed plans. The lock is flock(2) on the lock file, so the
/// kernel releases it when the process ends however it ends (a SIGKILL leaves no stale lock);
/// the file itself stays. Throws dataops::Error when another process holds it.
class PromotionLock {
public:
    explicit PromotionLock(std::string path);
    ~PromotionLock();
    PromotionLock(const PromotionLock&) = delete;
    PromotionLock& operator=(const PromotionLock&) = delete;

private:
    std::string path_;
    int fd_ = -1;
};

/// The lock of `repository`: `<common dir>/dataops-promote.lock`.
std::string lock_path(const git::Repository& repository);

/// TEST-ONLY fault injection, inert in normal use: when the environment variable
/// GIT_DATAOPS_TEST_PAUSE_AT equals `step`, write this process's id to the file named by
/// GIT_DATAOPS_TEST_PAUSE_FILE and stop with SIGSTOP (once per process: a redone promotion
/// passes the step again without stopping), so an end-to-end test can SIGKILL (or
/// SIGCONT) the promotion at an exact point without guessing at timing, as git's GIT_TEST_*
/// variables do. The steps: "after-fetch", "after-merge", "after-commit" (promote) and
/// "rollback-after-commit".
void test_pause(const char* step);

/// The text up to the first LF.
std::string first_line(const std::string& text);
/// The non-empty lines of `text`.
std::vector<std::string> lines_of(const std::string& text);

/// The user's `git`, run in the repository's work tree (or git directory). With `progress`
/// (a person at a terminal), fetch and push show git's own progress and messages as they
/// happen, on our stderr; without it they are quiet and their messages are collected.
class Git {
public:
    explicit Git(const git::Repository& repository, bool progress = false);

    process::Result run(std::vector<std::string> args,
                        process::Interaction interaction = process::Interaction::none) const;

    /// The tip of `refs/heads/<branch>` on the stage's remote, or nullopt when the branch does not
    /// exist. Throws dataops::Error when the remote cannot be read.
    std::optional<std::string> remote_tip(const stages::Stage& stage) const;

    /// Fetch the stage's branch into refs/dataops/fetch/<stage>; nullopt when the branch does not
    /// exist on the remote. Throws dataops::Error when the fetch fails.
    std::optional<std::string> fetch(const stages::Stage& stage) const;

    /// What fetching one of several stages gave: its tip (nullopt: no such branch), or the error.
    struct Fetched {
        std::optional<std::string> tip;
        std::optional<Error> error;
    };
    /// Fetch several stages' branches, all at once when nobody watches git's progress (the
    /// remotes are asked in parallel; a remote's branches are listed only when its fetch fails,
    /// to tell a missing branch from a failure), one after the other with progress. The tips
    /// are read through `objects` when given (a `git cat-file` already running), else with one
    /// `git rev-parse`.
    std::vector<Fetched> fetch_all(const std::vector<const stages::Stage*>& stages,
                                   git::ObjectReader* objects = nullptr) const;

    /// Start `git <args>` in the background (no prompts).
    process::Running start(std::vector<std::string> args) const;

    /// `git push <remote> <commit>:refs/heads/<branch>`, never forced.
    process::Result push(const stages::Stage& stage, const std::string& commit) const;

private:
    /// How `git <args>` runs here.
    process::Options options(std::vector<std::string> args, process::Interaction interaction) const;
    /// A transport command: quiet and captured, or with git's progress on our stderr.
    process::Options transport_options(std::vector<std::string> args) const;
    process::Result transport(std::vector<std::string> args) const;
    /// One stage's fetch with git's progress: the branch listed first, so a missing one is not
    /// a failure git reports on the terminal. False when the remote has no such branch.
    bool fetch_watched(const stages::Stage& stage) const;

    std::string cwd_;
    bool progress_ = false;
};

/// Who writes a commit: `git var GIT_AUTHOR_IDENT` and `git var GIT_COMMITTER_IDENT`, started
/// side by side when constructed (so that they can run while other work goes on) and parsed by
/// get(), once. Throws dataops::Error from get() when git cannot tell.
class Identities {
public:
    explicit Identities(const Git& git);
    std::pair<git::Identity, git::Identity> get();

private:
    process::Running author_;
    process::Running committer_;
};

/// What became of a pushed commit.
struct PushOutcome {
    /// The stage's branch on its remote is the commit now.
    bool pushed = false;
    /// The branch's tip on the remote after a refused push (nullopt: the branch does not exist).
    std::optional<std::string> now;
    /// git's words on stderr, line by line (why the remote said no, or its notes).
    std::vector<std::string> messages;
};

/// Push `commit` to the stage's branch (never forced). git's success is the answer (it exits 0
/// only when the remote took the update); after a failure the branch is read back from the
/// remote, because a push can fail after the remote took the commit (a connection lost at the
/// very end). A refused push is an outcome; throws dataops::Error when the remote cannot be read
/// after a failed push (it went away: git's words from both attached as hints). `what` names the
/// commit in messages ("promotion").
PushOutcome push_and_verify(const Git& git, const stages::Stage& stage, const std::string& commit, const char* what);

/// The stage named `name`; throws dataops::Error naming the known stages when there is none.
const stages::Stage& find_stage(const stages::Pipeline& pipeline, const std::string& name);

/// Write a commit of `tree` with `parents` and `message`, authored and committed by `who` (see
/// Identities); no reference moves. Returns its id once the user's git can read it through
/// `objects`: throws dataops::Error when the object could not be written.
std::string write_commit(const git::ObjectStore& store, git::ObjectReader& objects, const std::string& tree,
                         std::vector<std::string> parents, const std::string& message,
                         const std::pair<git::Identity, git::Identity>& who);

/// Load the Meltano project of a tree or commit, read through `objects` (one `git cat-file` for
/// every tree a command reads; objects that arrive after it started, by a fetch, are found too).
std::shared_ptr<const meltano::LoadResult> load_tree(const std::string& tree_or_commit,
                                                     const std::shared_ptr<git::ObjectReader>& objects,
                                                     const std::string& project_dir);

}  // namespace dataops::promote::detail
