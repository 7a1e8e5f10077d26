#pragma once
/// In-memory merges, tree diffs and commits on libgit2, for promotion.
///
/// Nothing here touches a working tree, an index file, HEAD or any reference: merges happen in an
/// in-memory index, and trees and commits are written to the object database only. libgit2 is
/// initialised by the first ObjectStore and shut down with the last one, so commands that never
/// merge (the pre-push hook, `validate`, `env`) do not pay its ~8 ms start-up.
///
/// <git2.h> stays inside merge.cpp: callers see object ids as 40-hex strings.

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace dataops::git {

class Config;

/// A path libgit2 could not merge even with conflicting hunks resolved to theirs.
struct MergeConflict {
    std::string path;
    /// What each side did: "modified by target, deleted by source", "added by both", ...
    std::string reason;
};

struct MergeOutcome {
    /// The tree of the merge (40 hex), absent when there are conflicts.
    std::optional<std::string> tree;
    /// Sorted by path; empty when `tree` is set.
    std::vector<MergeConflict> conflicts;
};

/// Which merge machinery ObjectStore::merge_theirs uses.
enum class MergeEngine {
    git,      ///< git's merge-ort (`git merge-tree`), libgit2 when git is older than 2.38
    libgit2,  ///< libgit2's merge only
};

/// One path that differs between two trees.
struct TreeChange {
    std::string path;
    std::string status;  ///< "added", "modified" or "removed"
};

/// A name, an e-mail and a time, as `git var GIT_AUTHOR_IDENT` prints them.
struct Identity {
    std::string name;
    std::string email;
    std::int64_t time = 0;        ///< seconds since the epoch
    int offset_minutes = 0;       ///< the time zone, east of UTC
};

/// Parse `Name <email> 1700000000 +0100`. Throws dataops::Error when the line has another shape.
Identity parse_identity(const std::string& line);

struct CommitRequest {
    std::string tree;
    std::vector<std::string> parents;
    std::string message;
    Identity author;
    Identity committer;
};

/// One repository's object database opened through libgit2. Its calls may come from several
/// threads; they run one at a time (git's own merge, a child process, runs beside them).
class ObjectStore {
public:
    /// Open the repository whose git directory is `git_dir` (no discovery, no environment).
    /// Throws dataops::Error with libgit2's message when it cannot be opened.
    explicit ObjectStore(const std::string& git_dir);
    ~ObjectStore();
    ObjectStore(const ObjectStore&) = delete;
    ObjectStore& operator=(const ObjectStore&) = delete;

    /// The full id of the commit `rev` names (a sha or a reference name). Throws dataops::Error
    /// ("bad revision 'x'") when it names no commit.
    std::string commit_id(const std::string& rev) const;
    /// The tree of a commit.
    std::string tree_of(const std::string& commit) const;
    /// True when `ancestor` is `descendant` or one of its ancestors.
    bool is_ancestor(const std::string& ancestor, const std::string& descendant) const;

    /// Merge `theirs` into `ours` as `git merge -X theirs --allow-unrelated-histories` does:
    /// conflicting hunks take theirs, and with no common ancestor the merge runs against an empty
    /// tree. Conflicts that -X theirs does not resolve (modify/delete, file/directory, ...) are
    /// returned, not thrown. Throws dataops::Error for libgit2 failures.
    ///
    /// MergeEngine::git (the default) asks the user's git for merge-ort's own result (see
    /// merge_ort.hpp), so that line alignment (histogram diff), rename and directory-rename
    /// detection and the user's merge configuration are exactly `git pull`'s; with a git older
    /// than 2.38 it merges with libgit2. MergeEngine::libgit2 merges with libgit2 only: the same
    /// tree except where both sides edit a file near the same lines and the edits can be lined up
    /// in more than one way (libgit2 1.5 has only the Myers diff, as git's merge-recursive), or
    /// where merge-ort detects a directory rename.
    ///
    /// `config`, the repository's configuration as already read (Repository::config()), spares
    /// git merge-tree's caller a `git config` for the user's core.attributesFile; without it git
    /// is asked.
    MergeOutcome merge_theirs(const std::string& ours, const std::string& theirs,
                              MergeEngine engine = MergeEngine::git, const Config* config = nullptr) const;

    /// The repository's git directory, as opened.
    const std::string& git_dir() const;
    /// The content of a blob. Throws dataops::Error when there is no such blob.
    std::string read_blob(const std::string& id) const;
    /// What `path` names in `tree`: its id and "file", "symlink", "submodule" or "directory";
    /// nullopt when nothing is there.
    struct Entry {
        std::string id;
        std::string_view kind;
    };
    std::optional<Entry> entry_at(const std::string& tree, const std::string& path) const;
    /// Write a blob; returns its id.
    std::string write_blob(std::string_view content) const;
    /// `tree` with the blobs at some paths replaced (each path must name a blob in `tree`; its
    /// mode is kept). Returns the new tree's id.
    std::string replace_blobs(const std::string& tree,
                              const std::vector<std::pair<std::string, std::string>>& path_to_blob) const;

    /// The paths that differ from tree `from` (absent: the empty tree) to tree `to`, sorted.
    std::vector<TreeChange> diff_trees(const std::optional<std::string>& from, const std::string& to) const;

    /// Write a commit object without updating any reference; returns its id.
    std::string create_commit(const CommitRequest& request) const;

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace dataops::git
