#pragma once
/// `git dataops promote`: move a stage's workspace forward with the previous stage's work, as the
/// seed's recipe (`git pull -X theirs --allow-unrelated-histories dev main` in a clone of the
/// target, then `git push`) does, without a clone and without touching the user's working tree,
/// index, HEAD or branches.
///
/// Transport goes through the user's `git` (credentials, ssh config, hooks and server checks all
/// apply); the merge, the tree diff and the commit happen in memory with libgit2. The push is the
/// compare-and-swap: it is never forced, and when it is rejected because the target moved
/// meanwhile the whole promotion is redone once on the new tip.

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <dataops/git/merge.hpp>
#include <dataops/git/repository.hpp>
#include <dataops/meltano/diagnostic.hpp>
#include <dataops/meltano/project.hpp>
#include <dataops/meltano/resolve.hpp>
#include <dataops/report/env_report.hpp>
#include <dataops/stages/pipeline.hpp>

namespace dataops::promote {

enum class Mode {
    merge,   ///< `git merge -X theirs --allow-unrelated-histories`
    mirror,  ///< the target's tree becomes the source's tree
};

/// "merge" / "mirror".
const char* mode_name(Mode mode);

struct Endpoint {
    stages::Stage stage;
    /// The tip of the stage's branch on its remote; absent when the branch does not exist yet.
    std::optional<std::string> commit;
};

enum class Outcome {
    up_to_date,      ///< nothing to promote: the source is contained and the trees agree
    planned,         ///< --dry-run (or the confirmation declined): nothing pushed
    promoted,        ///< pushed and verified
    conflicts,       ///< refused: the merge has conflicts -X theirs does not resolve
    invalid,         ///< refused: the result does not validate for the target environment
    rejected,        ///< refused by the target remote (its hooks said no); `rejection` says why
};

struct Result {
    Outcome outcome = Outcome::up_to_date;
    Endpoint source;
    Endpoint target;
    Mode mode = Mode::merge;
    /// The tree the target gets (absent when the merge has conflicts).
    std::optional<std::string> tree;
    /// The commit pushed (or that would be pushed: absent on --dry-run before it is written, and
    /// when nothing is promoted). For an empty target this is the source commit itself.
    std::optional<std::string> commit;
    std::vector<git::MergeConflict> conflicts;
    /// From the target's tip tree to the result tree.
    std::vector<git::TreeChange> changes;
    /// The target environment's resolved configuration, before (target tip) and after (result).
    /// The PluginChange pointers point into `before` and `after`, kept alive here.
    std::shared_ptr<const meltano::LoadResult> before_project;
    std::shared_ptr<const meltano::LoadResult> after_project;
    std::shared_ptr<const meltano::Resolution> before;
    std::shared_ptr<const meltano::Resolution> after;
    std::vector<report::PluginChange> config_changes;
    /// The validation of the result for the target environment.
    meltano::Diagnostics diagnostics;
    bool pushed = false;
    /// How many times the promotion was computed (2 after a redo caused by a concurrent push).
    int attempts = 0;
    /// Messages for stderr (the redo after a concurrent push).
    std::vector<std::string> notes;
    /// For Outcome::rejected: git's own words about the refusal, line by line.
    std::vector<std::string> rejection;
};

struct Request {
    std::string target_stage;
    /// The stage to promote from; absent: the stage before the target in the pipeline.
    std::optional<std::string> source_stage;
    Mode mode = Mode::merge;
    bool dry_run = false;
    /// The commit message's subject; default `promote <source> → <target>`.
    std::optional<std::string> message;
    /// Asked with the plan before pushing; returning false stops with Outcome::planned. Unset:
    /// proceed.
    std::function<bool(const Result& plan)> confirm;
    /// The project directory in the tree ("" = the root).
    std::string project_dir;
    /// Show git's progress for fetch and push (see detail::Git).
    bool progress = false;
};

/// Promote the source stage's branch into the target stage's branch of `repository`'s pipeline.
///
/// Returns the result for every expected outcome (nothing to do, a refusal with its conflicts,
/// diagnostics or the remote's words, a plan, a promotion). Throws dataops::Error for an unknown
/// stage, a missing source branch, a failing fetch, a remote that cannot be read after a failed
/// push (it went away), a remote that does not hold the pushed commit after a successful push, or
/// a promotion already running from this clone (flock(2) on `<git dir>/dataops-promote.lock`).
Result promote(const git::Repository& repository, const Request& request);

}  // namespace dataops::promote
