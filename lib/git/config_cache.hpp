#pragma once
/// git's answer about the configuration (`git config -z --list --show-scope --show-origin`),
/// saved in the git directory and reused while nothing that answer depends on has changed.
///
/// Starting `git config` is half of what a command on a small project costs (1.2 of 2.4 ms,
/// BENCHMARKS.md), and the answer is a function of few inputs once discovery took the plain case
/// (discover.hpp: no GIT_DIR and the like, every path ours): the git executable, the variables
/// that point git at configuration (every GIT_CONFIG*, HOME, XDG_CONFIG_HOME) and the bytes of the
/// files it reads (system, global, the repository's, the worktree's). Those inputs are compared
/// byte for byte - never by time stamps - so an edit by any means is seen on the next run.
/// Nothing is reused when git would read more than those files: a file that includes others
/// (`include`, `includeIf`: their conditions follow the branch and the remotes), a file we cannot
/// read, or an answer naming a file we did not read (git built with a system file elsewhere).
/// DATAOPS_CONFIG_CACHE=0 turns the cache off.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <dataops/git/repository.hpp>

namespace dataops::git::config_cache {

struct Inputs {
    /// Everything the answer depends on, as bytes: what load() compares and save() stores.
    std::string key;
    /// The configuration files git may read (present or not), absolute.
    std::vector<std::string> files;
};

/// The inputs of git's answer for a repository found in the plain case; nullopt when no answer
/// may be reused (see above).
std::optional<Inputs> inputs(const Location& location);

/// The answer saved for `location` with exactly these inputs; nullopt when there is none.
std::optional<std::string> load(const Location& location, const Inputs& inputs);

/// Save git's answer for these inputs, read before git started, unless they have changed since
/// or the answer names a file (`origins`: as git prints them, relative to the work tree) that is
/// not among them. Best effort: a git directory we cannot write keeps no cache.
void save(const Location& location, const Inputs& inputs, const std::vector<std::string>& origins,
          std::string_view answer);

}  // namespace dataops::git::config_cache
