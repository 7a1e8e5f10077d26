#pragma once
/// The repository a git-dataops command runs in, found exactly as git finds it.
///
/// Discovery reads the configuration through the user's `git` (`git config -z --list`), so
/// `git -c k=v` (GIT_CONFIG_PARAMETERS, which libgit2 never reads), includes and worktree
/// configuration behave as they do for git itself. The location comes from the file system when
/// the case is plain (discover.hpp: a `.git` above the start directory, ours, no GIT_DIR and the
/// like) and the configuration git read confirms it (the repository's own config file, no
/// core.worktree, no core.bare=true); otherwise, and for GIT_DIR, GIT_WORK_TREE (`--work-tree`,
/// which libgit2 1.5 refuses), bare repositories, safe.directory and the rest, from
/// `git rev-parse`, started beside `git config`. The plain case costs one short-lived git
/// process, and none while git's last answer still holds (config_cache.hpp: the configuration
/// files and variables byte for byte unchanged); the others two side by side (~1.3 ms each)
/// instead of libgit2's ~8 ms start-up (measured: see BENCHMARKS.md), which matters because the
/// pre-push hook runs on every push.

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include <dataops/git/config.hpp>
#include <dataops/git/file_source.hpp>
#include <dataops/process/process.hpp>

namespace dataops::git {

struct Location {
    std::string git_dir;                   ///< absolute ($GIT_DIR; a worktree's own dir)
    std::string common_dir;                ///< absolute (shared by all worktrees)
    std::optional<std::string> work_tree;  ///< absolute; nullopt for a bare repository
    std::string prefix;                    ///< the current directory relative to the work tree ("" or "sub/dir")
    bool bare = false;

    friend bool operator==(const Location&, const Location&) = default;
};

/// What a failed `git` said, without its "fatal: "/"error: " prefix and trailing newline (or
/// "git exited with status N" when it said nothing), for our own messages.
std::string git_message(const process::Result& result);

class Repository {
public:
    /// The repository containing the current directory. Throws dataops::Error with git's own
    /// words when there is none ("not a git repository (or any of the parent directories): .git").
    /// `cwd` (empty: the current directory) is where the search starts, as `git -C` would.
    /// `on_location`, if given, hears the location as soon as it is known, which may be before
    /// the configuration has arrived (a caller can start its own git process, or read the work
    /// tree, while git reads the configuration); it hears it again, corrected, if the
    /// configuration overrules the file system's answer.
    using LocationListener = std::function<void(const Location& location)>;
    static Repository discover(const std::string& cwd = {}, const LocationListener& on_location = {});

    /// Only the configuration, which works outside a repository too (global and `-c` values).
    static Config read_config_outside();

    const Location& location() const { return location_; }
    const Config& config() const { return config_; }

    /// The working tree as a FileSource. Throws dataops::Error in a bare repository.
    std::unique_ptr<FileSource> worktree() const;

    /// The tree of a commit-ish (`main`, `staging/main`, `v1.2`, a sha, `HEAD~2`) as a FileSource,
    /// read from the object database without touching the working tree. Throws dataops::Error when
    /// the revision does not name a commit ("bad revision 'x'").
    std::unique_ptr<FileSource> revision(std::string_view rev) const;

    /// Set `key` to `value` in the repository's own configuration (`git config`). Throws
    /// dataops::Error with git's words when it refuses.
    void set_config(const std::string& key, const std::string& value) const;

private:
    Location location_;
    Config config_;
};

}  // namespace dataops::git
