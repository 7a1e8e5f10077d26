#pragma once
/// One interface for reading project files, whether from the working tree or from a revision, so
/// every command can take `--rev` without knowing where its bytes come from.
///
/// Paths are relative to the repository's work-tree root (the root of the tree for a revision),
/// '/'-separated, without leading "./". The empty path is the root itself.

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace dataops::git {

enum class EntryKind { missing, file, directory, symlink, other };

struct DirEntry {
    std::string name;  ///< the entry's own name, not its path
    EntryKind kind;    ///< as stored (a symlink is reported as a symlink, not followed)
};

/// The outcome of reading a file.
struct ReadResult {
    enum class Status {
        ok,           ///< `data` holds the file's bytes
        missing,      ///< nothing at that path (or a dangling symlink)
        not_a_file,   ///< a directory, submodule, or other non-file
        outside,      ///< a symlink on the way leads outside the confining directory
    };
    Status status = Status::missing;
    std::string data;
    /// The path that was finally read, after following symlinks (repository-relative).
    std::string resolved_path;
};

/// Read-only view of a tree of files. Implementations throw dataops::Error on I/O failures other
/// than "not there" (permission denied, a corrupt object, git not running).
class FileSource {
public:
    virtual ~FileSource() = default;

    /// For messages: "the working tree" or the abbreviated commit ("3f2a1c0").
    virtual std::string describe() const = 0;
    /// The full commit id being read, or nullopt for the working tree.
    virtual std::optional<std::string> commit() const = 0;
    /// The full id of the root tree being read (sources with the same id hold the same files),
    /// or nullopt for the working tree.
    virtual std::optional<std::string> tree() const = 0;

    /// What is at `path`, without following a final symlink.
    virtual EntryKind kind(std::string_view path) const = 0;
    /// Entries of the directory at `path` (empty if it is not a directory), sorted by name.
    virtual std::vector<DirEntry> list(std::string_view path) const = 0;
    /// The bytes of the file at `path`, following symlinks as long as every step stays inside the
    /// directory `confine` (repository-relative; "" = the whole tree).
    virtual ReadResult read(std::string_view path, std::string_view confine = {}) const = 0;
};

/// Lexically normalise a repository-relative path ("a/./b/../c" -> "a/c"). Returns nullopt when
/// the path is absolute or climbs above the root.
std::optional<std::string> normalize_relative(std::string_view path);

/// Join two repository-relative paths ("" is the root).
std::string join_path(std::string_view dir, std::string_view name);

/// True when `path` equals `dir` or lies under it ("" contains everything).
bool path_within(std::string_view path, std::string_view dir);

}  // namespace dataops::git

namespace dataops::git {
/// A FileSource over the working tree rooted at the absolute directory `root` (the work-tree root).
/// Symlinks are followed only while they stay inside the confining directory.
std::unique_ptr<FileSource> make_worktree_source(std::string root);
}  // namespace dataops::git
