#include <dataops/hooks/install.hpp>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <dataops/process/process.hpp>
#include <dataops/util/error.hpp>
#include <dataops/util/files.hpp>
#include <dataops/util/strings.hpp>
#include <fmt/format.h>

namespace dataops::hooks {
namespace {

constexpr const char* kMarker = "# git-dataops hook, version ";

bool exists(const std::string& path) {
    struct stat st {};
    return ::lstat(path.c_str(), &st) == 0;
}

/// Single-quote for sh.
std::string sh_quote(const std::string& text) {
    std::string out = "'";
    for (char c : text) {
        out += c == '\'' ? std::string("'\\''") : std::string(1, c);
    }
    return out + "'";
}

std::string git_line(const std::vector<std::string>& args, const std::string& cwd, bool allow_missing) {
    process::Options options;
    options.argv = {"git"};
    options.argv.insert(options.argv.end(), args.begin(), args.end());
    options.cwd = cwd;
    auto result = process::run(options);
    if (result.exit_code != 0) {
        if (allow_missing && result.exit_code == 1) {
            return {};
        }
        throw Error(fmt::format("cannot locate the hooks directory: {}", util::trim(result.err)));
    }
    return util::trim(result.out);
}

}  // namespace

HookTarget locate(const std::string& hook, const std::string& git_dir, const std::string& work_tree) {
    // git runs hooks from the work tree root (the git dir when bare); a relative core.hooksPath
    // is relative to that, and `--git-path hooks` returns it verbatim, so ask from there.
    const std::string base = work_tree.empty() ? git_dir : work_tree;
    std::string dir = git_line({"rev-parse", "--git-path", "hooks"}, base, false);
    if (dir.empty() || dir.front() != '/') {
        dir = base + "/" + dir;
    }
    HookTarget target;
    target.name = hook;
    target.directory = dir;
    target.path = dir + "/" + hook;
    auto scope = git_line({"config", "--show-scope", "--get", "core.hooksPath"}, base, true);
    if (!scope.empty()) {
        target.hooks_path_scope = scope.substr(0, scope.find('\t'));
    }
    return target;
}

std::string shim(const std::string& hook, const std::string& binary) {
    return fmt::format(R"(#!/bin/sh
{}{}
# Installed by 'git dataops hooks install'; remove with 'git dataops hooks uninstall'.
# A hook that was here before lives on as {}.legacy and runs first.
bin={}
if [ ! -x "$bin" ]; then
    bin=$(command -v git-dataops-hooks 2>/dev/null) || bin=
fi
if [ -z "$bin" ]; then
    echo "git-dataops: cannot find git-dataops-hooks (was {}); reinstall git-dataops," >&2
    echo "git-dataops: or remove this hook: git dataops hooks uninstall, or rm \"$0\"" >&2
    exit 1
fi
DATAOPS_HOOK_PATH=$0 exec "$bin" run {} "$@"
)",
                       kMarker, kShimVersion, hook, sh_quote(binary), binary, hook);
}

std::optional<int> our_version(const std::string& content) {
    for (const auto& line : util::split_lines(content)) {
        if (util::starts_with(line, kMarker)) {
            try {
                return std::stoi(line.substr(std::strlen(kMarker)));
            } catch (const std::exception&) {
                return 0;
            }
        }
    }
    return std::nullopt;
}

InstallOutcome install(const HookTarget& target, const std::string& binary, const InstallOptions& options) {
    if (target.hooks_path_scope && (*target.hooks_path_scope == "global" || *target.hooks_path_scope == "system") &&
        !options.allow_shared_hooks_path) {
        throw Error(fmt::format("core.hooksPath is set in the {} configuration: installing into '{}' would "
                                "affect every repository that uses it",
                                *target.hooks_path_scope, target.directory),
                    {"pass --shared to install there anyway, or --manual to see what to add by hand"});
    }
    struct stat st {};
    if (::stat(target.directory.c_str(), &st) != 0) {
        if (::mkdir(target.directory.c_str(), 0755) != 0 && errno != EEXIST) {
            throw Error(fmt::format("cannot create '{}': {}", target.directory, std::strerror(errno)));
        }
    }
    const std::string content = shim(target.name, binary);
    auto existing = util::read_file(target.path);
    if (!existing && exists(target.path)) {
        throw Error(fmt::format("cannot read the existing hook '{}'", target.path));
    }
    InstallOutcome outcome = InstallOutcome::installed;
    if (existing) {
        if (our_version(*existing)) {
            if (*existing == content && ::access(target.path.c_str(), X_OK) == 0) {
                return InstallOutcome::unchanged;
            }
            outcome = InstallOutcome::upgraded;
        } else if (options.force == Force::yes) {
            outcome = InstallOutcome::replaced;
        } else {
            const std::string legacy = target.path + ".legacy";
            if (exists(legacy)) {
                throw Error(fmt::format("cannot chain the existing hook '{}': '{}' already exists", target.path,
                                        legacy),
                            {"move one of them away, or pass --force to replace the hook"});
            }
            // A link, not a copy: the foreign hook keeps its bytes, mode and inode.
            if (::rename(target.path.c_str(), legacy.c_str()) != 0) {
                throw Error(fmt::format("cannot move '{}' aside: {}", target.path, std::strerror(errno)));
            }
            outcome = InstallOutcome::chained;
        }
    }
    util::write_atomically(target.path, content, 0755);
    return outcome;
}

UninstallOutcome uninstall(const HookTarget& target) {
    auto existing = util::read_file(target.path);
    if (!existing) {
        return UninstallOutcome::not_installed;
    }
    if (!our_version(*existing)) {
        return UninstallOutcome::not_ours;
    }
    const std::string legacy = target.path + ".legacy";
    if (exists(legacy)) {
        // rename() replaces our shim in one step: the foreign hook is back, byte for byte.
        if (::rename(legacy.c_str(), target.path.c_str()) != 0) {
            throw Error(fmt::format("cannot restore '{}': {}", legacy, std::strerror(errno)));
        }
        return UninstallOutcome::restored;
    }
    if (::unlink(target.path.c_str()) != 0) {
        throw Error(fmt::format("cannot remove '{}': {}", target.path, std::strerror(errno)));
    }
    return UninstallOutcome::removed;
}

Status status(const HookTarget& target, const std::string& binary) {
    Status s;
    auto existing = util::read_file(target.path);
    s.exists = existing.has_value();
    s.legacy = exists(target.path + ".legacy");
    if (!existing) {
        return s;
    }
    s.executable = ::access(target.path.c_str(), X_OK) == 0;
    s.version = our_version(*existing);
    s.ours = s.version.has_value();
    if (s.ours) {
        for (const auto& line : util::split_lines(*existing)) {
            if (util::starts_with(line, "bin='")) {
                s.baked_binary = line.substr(5, line.size() - 6);
            }
        }
        s.current = *existing == shim(target.name, binary);
    }
    return s;
}

}  // namespace dataops::hooks
