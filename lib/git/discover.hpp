#pragma once
/// Where the repository is, found two ways: by asking `git rev-parse` (right in every case, one
/// git start-up) and by looking at the file system as git does (no process at all), which answers
/// only the plain case - a `.git` directory or gitfile above the start directory, owned by us, on
/// the same file system, with no environment variable that changes the search - and declines
/// everything else. Repository::discover tries the second first, and takes its answer only when
/// the configuration git reads at the same time confirms it (see repository.hpp).

#include <optional>
#include <string>

#include <dataops/git/repository.hpp>
#include <dataops/process/process.hpp>

namespace dataops::git {

/// The `git rev-parse` that reports the Location of the repository containing `start` (empty:
/// the current directory).
process::Options location_query(const std::string& start);

/// The Location in the answer of location_query(). Throws dataops::Error with git's own words
/// when there is no repository ("not a git repository (or any of the parent directories): .git").
Location parse_location_answer(const process::Result& result);

/// location_query(), run and parsed.
Location locate_with_git(const std::string& start);

/// The Location git would report for `start`, worked out from the file system alone: absolute,
/// symlinks resolved, as `git rev-parse --path-format=absolute` prints it. nullopt whenever the
/// case is not the plain one: GIT_DIR, GIT_WORK_TREE, GIT_COMMON_DIR, GIT_OBJECT_DIRECTORY,
/// GIT_IMPLICIT_WORK_TREE, GIT_CEILING_DIRECTORIES or GIT_DISCOVERY_ACROSS_FILESYSTEM set; a bare
/// repository or a start inside a git directory; a `.git` that is a symlink, not a repository,
/// or a malformed gitfile; a path not owned by the current user (safe.directory is git's
/// business); a file-system boundary on the way up; no repository at all (git words the error).
/// What only the configuration can tell (core.worktree, core.bare) is checked by the caller.
std::optional<Location> locate_from_files(const std::string& start);

}  // namespace dataops::git
