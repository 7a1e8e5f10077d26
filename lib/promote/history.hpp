#pragma once
/// The pipeline's history as the promotion trailers tell it: `git dataops status` (every stage at
/// a glance), `git dataops log <stage>` (a stage's promotions and rollbacks, newest first) and
/// `git dataops rollback <stage>` (a new commit restoring an earlier promoted tree).
///
/// Stages are read after fetching them into refs/dataops/fetch/<stage> with the user's `git`, as
/// promotion does; the history is walked with `git log --first-parent`. A rollback is written,
/// validated and pushed like a promotion: never forced, under the promotion lock, verified with
/// `git ls-remote` afterwards.

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <dataops/git/merge.hpp>
#include <dataops/git/repository.hpp>
#include <dataops/meltano/diagnostic.hpp>
#include <dataops/stages/pipeline.hpp>

namespace dataops::promote {

/// One commit of a stage's first-parent history that carries promotion or rollback trailers.
struct HistoryEntry {
    enum class Kind { promotion, rollback };
    Kind kind = Kind::promotion;
    std::string commit;
    std::string subject;
    std::string author_name;
    std::string author_email;
    std::string date;                 ///< committer date, ISO 8601 (`%cI`)
    std::int64_t time = 0;            ///< committer date, seconds since the epoch
    std::string source_stage;         ///< Dataops-Source (promotions)
    std::string source_commit;        ///< Dataops-Source (promotions)
    std::string restored_commit;      ///< Dataops-Rollback (rollbacks)
    std::string target;               ///< Dataops-Target
    std::string environment;          ///< Dataops-Environment
    std::string mode;                 ///< Dataops-Mode (promotions)
    std::string version;              ///< Dataops-Version
    /// The commit's first parent (the stage's tip before it); empty for a root commit.
    std::string first_parent;
};

/// "promotion" / "rollback".
const char* kind_name(HistoryEntry::Kind kind);

/// The entries of the first-parent history of `commit` in `repository`, newest first, at most `limit` (0: all) of them, and of `kinds` only (empty:
/// both). Throws dataops::Error when git cannot walk the history.
std::vector<HistoryEntry> read_history(const git::Repository& repository, const std::string& commit, std::size_t limit = 0,
                                       std::vector<HistoryEntry::Kind> kinds = {});

struct StageStatus {
    stages::Stage stage;
    bool reachable = true;
    /// Why the stage could not be fetched (git's message), when it could not.
    std::string error;
    std::vector<std::string> error_hints;
    /// The tip of the stage's branch; absent when the branch does not exist (or unreachable).
    std::optional<std::string> tip;
    /// Validation of the tip for the stage's environment (absent without a tip).
    std::optional<bool> valid;
    std::size_t errors = 0;
    std::size_t warnings = 0;
    /// The previous stage in the pipeline, when there is one.
    std::optional<std::string> source_stage;
    /// Commits reachable from the previous stage's tip and not from this stage's tip (absent
    /// when either tip is unknown).
    std::optional<std::size_t> waiting;
    /// The previous stage's tip and this one share no history.
    bool unrelated = false;
    std::optional<HistoryEntry> last_promotion;
};

/// Fetch every stage of `repository`'s pipeline and describe it. A stage whose remote cannot be
/// read or fetched is reported unreachable (StageStatus::error), not thrown. Throws
/// dataops::Error for an unusable pipeline configuration.
std::vector<StageStatus> status(const git::Repository& repository);

struct StageLog {
    stages::Stage stage;
    std::optional<std::string> tip;
    std::vector<HistoryEntry> entries;
};

/// Fetch the stage and read its promotion history (at most `limit` entries; 0: all). Throws
/// dataops::Error for an unknown stage or a failing fetch.
StageLog log(const git::Repository& repository, const std::string& stage, std::size_t limit = 0);

enum class RollbackOutcome {
    up_to_date,   ///< the stage's tree already is the restored tree: nothing to do
    planned,      ///< --dry-run (or the confirmation declined): nothing pushed
    rolled_back,  ///< pushed and verified
    invalid,      ///< refused: the restored tree does not validate for the stage's environment
    rejected,     ///< refused by the stage's remote (its hooks said no, or it moved); `rejection` says why
};

struct RollbackResult;

struct RollbackRequest {
    std::string stage;
    /// A commit whose tree to restore (any revision git can read after the fetch).
    std::optional<std::string> to;
    /// How many promotions to go back (the tree before the N-th newest promotion); default 1.
    std::size_t steps = 1;
    bool dry_run = false;
    /// Asked with the plan before pushing; false stops with RollbackOutcome::planned.
    std::function<bool(const RollbackResult& plan)> confirm;
    /// The project directory in the tree ("" = the root).
    std::string project_dir;
    /// Show git's progress for fetch and push (see detail::Git).
    bool progress = false;
};

struct RollbackResult {
    RollbackOutcome outcome = RollbackOutcome::up_to_date;
    stages::Stage stage;
    std::string tip;          ///< the stage's tip before the rollback (the new commit's parent)
    std::string restored;     ///< the commit whose tree is restored
    std::string tree;
    std::optional<std::string> commit;  ///< the rollback commit (absent until written)
    std::vector<git::TreeChange> changes;
    meltano::Diagnostics diagnostics;
    bool pushed = false;
    std::vector<std::string> notes;
    /// For RollbackOutcome::rejected: git's own words about the refusal, line by line.
    std::vector<std::string> rejection;
};

/// Roll the stage back to an earlier tree with a new commit on top of its tip. A push the remote
/// refuses is RollbackOutcome::rejected, as for a promotion (a rollback is not redone when the
/// stage moved: what to restore may have changed). Throws dataops::Error for an unknown stage, a
/// missing branch, no promotion to go back before, a revision that names no commit, a remote that
/// cannot be read after a failed push, or a running promotion.
RollbackResult rollback(const git::Repository& repository, const RollbackRequest& request);

}  // namespace dataops::promote
