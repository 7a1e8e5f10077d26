#pragma once
/// Installing git-dataops' hooks without breaking anyone's setup (the rules in
/// shared/docs/git-integration.md): the hooks directory as git resolves it (core.hooksPath,
/// worktrees, bare repositories), a thin `#!/bin/sh` shim with a versioned marker line and the
/// binary's absolute path baked in, silent upgrade of our own older versions, a foreign hook moved
/// to `<hook>.legacy` and chained, atomic writes, and an uninstall that restores the foreign hook
/// byte for byte.

#include <optional>
#include <string>

namespace dataops::hooks {

/// The version written into the marker line; bump it when the shim changes.
inline constexpr int kShimVersion = 1;

enum class Force { no, yes };

struct HookTarget {
    std::string name;       ///< "pre-push" or "pre-receive"
    std::string directory;  ///< absolute hooks directory, as git resolves it
    std::string path;       ///< directory + "/" + name
    /// Where core.hooksPath comes from ("local", "global", "system", "worktree", "command"), if set.
    std::optional<std::string> hooks_path_scope;
};

/// Where git runs `hook` for the repository whose git dir is `git_dir` (work tree root
/// `work_tree`, empty for bare). Throws dataops::Error when git cannot tell.
HookTarget locate(const std::string& hook, const std::string& git_dir, const std::string& work_tree);

/// The shim for `hook` that runs `binary` (an absolute path), falling back to PATH. It passes its
/// own path in DATAOPS_HOOK_PATH so the binary finds `<hook>.legacy` without asking git.
std::string shim(const std::string& hook, const std::string& binary);

/// The marker version of a hook file's content: nullopt when it is not ours.
std::optional<int> our_version(const std::string& content);

struct InstallOptions {
    Force force = Force::no;
    /// Write into a core.hooksPath that is set globally or system-wide (every repository).
    bool allow_shared_hooks_path = false;
};

enum class InstallOutcome {
    installed,     ///< there was no hook
    upgraded,      ///< our older (or different) shim was replaced
    unchanged,     ///< ours, current
    chained,       ///< a foreign hook was moved to <hook>.legacy and will run first
    replaced,      ///< a foreign hook was overwritten (--force)
};

/// Install the shim. Throws dataops::Error when it cannot (a foreign hook and an existing
/// .legacy file, a shared core.hooksPath without consent, I/O).
InstallOutcome install(const HookTarget& target, const std::string& binary, const InstallOptions& options);

enum class UninstallOutcome {
    removed,           ///< ours removed
    restored,          ///< ours removed and the foreign hook moved back
    not_installed,     ///< nothing there
    not_ours,          ///< a foreign hook: left alone
};
UninstallOutcome uninstall(const HookTarget& target);

struct Status {
    bool exists = false;
    bool ours = false;
    std::optional<int> version;
    bool current = false;       ///< ours, this version, pointing at `binary`
    bool executable = false;
    bool legacy = false;        ///< a chained foreign hook is present
    std::string baked_binary;   ///< the binary path in our shim
};
Status status(const HookTarget& target, const std::string& binary);

}  // namespace dataops::hooks
