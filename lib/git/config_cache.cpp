#include <dataops/git/config_cache.hpp>

#include <sys/stat.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <utility>

#include <fmt/format.h>
#include <dataops/process/process.hpp>
#include <dataops/util/error.hpp>
#include <dataops/util/files.hpp>
#include <dataops/util/strings.hpp>

extern char** environ;  // NOLINT: POSIX declares it nowhere else

namespace dataops::git::config_cache {
namespace {

constexpr std::string_view kMagic = "git-dataops config cache 1\n";
/// Inputs bigger than this are not worth keeping (a configuration is a few KiB).
constexpr std::size_t kMaxBytes = std::size_t{1} << 20;

std::string cache_path(const Location& location) {
    return location.git_dir + "/dataops-config-cache";
}

/// "<tag> <text>\0": NUL never occurs in a path or a variable, so fields cannot run together.
void add_field(std::string& key, std::string_view tag, std::string_view text) {
    key += tag;
    key += ' ';
    key += text;
    key += '\0';
}

/// A configuration file's bytes, following symbolic links as git does. /dev/null, which
/// GIT_CONFIG_GLOBAL often names, reads as empty.
util::ReadStatus read_config_file(const std::string& path, std::string& out) {
    if (path == "/dev/null") {
        out.clear();
        return util::ReadStatus::ok;
    }
    return util::read_regular_file(path, kMaxBytes, out);
}

bool mentions_include(std::string_view text) {
    constexpr std::string_view word = "include";
    return std::search(text.begin(), text.end(), word.begin(), word.end(), [](char a, char b) {
               return std::tolower(static_cast<unsigned char>(a)) == b;
           }) != text.end();
}

/// The system file(s) git may read: $GIT_CONFIG_SYSTEM, else git's $(sysconfdir)/gitconfig -
/// /etc/gitconfig for a git installed under /usr, $(prefix)/etc/gitconfig for one installed
/// elsewhere (both, to be safe). save() refuses an answer naming a system file elsewhere.
std::vector<std::string> system_files(const std::string& git) {
    if (auto configured = process::getenv("GIT_CONFIG_SYSTEM")) {
        return {*configured};
    }
    std::vector<std::string> files{"/etc/gitconfig"};
    if (char* real = ::realpath(git.c_str(), nullptr)) {
        std::string path(real);
        std::free(real);
        for (std::string_view tail : {"/bin/git", "/libexec/git-core/git", "/lib/git-core/git"}) {
            if (util::ends_with(path, tail)) {
                const std::string prefix = path.substr(0, path.size() - tail.size());
                if (prefix != "/usr" && !prefix.empty()) {
                    files.push_back(prefix + "/etc/gitconfig");
                }
                break;
            }
        }
    }
    return files;
}

/// The global files: $GIT_CONFIG_GLOBAL, else the XDG file and ~/.gitconfig.
std::vector<std::string> global_files() {
    if (auto configured = process::getenv("GIT_CONFIG_GLOBAL")) {
        return {*configured};
    }
    std::vector<std::string> files;
    const auto home = process::getenv("HOME");
    const auto xdg = process::getenv("XDG_CONFIG_HOME");
    if (xdg && !xdg->empty()) {
        files.push_back(*xdg + "/git/config");
    } else if (home) {
        files.push_back(*home + "/.config/git/config");
    }
    if (home) {
        files.push_back(*home + "/.gitconfig");
    }
    return files;
}

bool same_file(const struct stat& a, const struct stat& b) {
    return a.st_dev == b.st_dev && a.st_ino == b.st_ino;
}

}  // namespace

std::optional<Inputs> inputs(const Location& location) {
    if (process::getenv("DATAOPS_CONFIG_CACHE") == std::optional<std::string>("0")) {
        return std::nullopt;
    }
    const auto git = process::find_program("git");
    struct stat executable {};
    if (!git || ::stat(git->c_str(), &executable) != 0) {
        return std::nullopt;
    }
    Inputs out;
    std::string& key = out.key;
    // A new git (an upgrade replaces the file) may answer differently. Not by inode: the copies
    // of one git that a package installs (/usr/bin/git, and /usr/lib/git-core/git, first on
    // PATH for hooks and `git dataops`) must share one answer rather than take turns.
    add_field(key, "git",
              fmt::format("{}:{}.{}", executable.st_size, executable.st_mtim.tv_sec,
                          executable.st_mtim.tv_nsec));
    add_field(key, "git-dir", location.git_dir);
    add_field(key, "common-dir", location.common_dir);
    add_field(key, "work-tree", location.work_tree.value_or(""));

    std::vector<std::string> variables;
    for (char** entry = environ; *entry != nullptr; ++entry) {
        const std::string_view text(*entry);
        if (util::starts_with(text, "GIT_CONFIG") || util::starts_with(text, "HOME=") ||
            util::starts_with(text, "XDG_CONFIG_HOME=")) {
            variables.emplace_back(text);
        }
    }
    std::sort(variables.begin(), variables.end());
    for (const auto& entry : variables) {
        add_field(key, "env", entry);
    }

    out.files = system_files(*git);
    for (auto& file : global_files()) {
        out.files.push_back(std::move(file));
    }
    out.files.push_back(location.common_dir + "/config");
    out.files.push_back(location.git_dir + "/config.worktree");
    std::string content;
    for (const auto& file : out.files) {
        // A relative GIT_CONFIG_GLOBAL, HOME and the like: git reads it from where it moved to.
        if (!util::starts_with(file, "/")) {
            return std::nullopt;
        }
        add_field(key, "file", file);
        switch (read_config_file(file, content)) {
        case util::ReadStatus::absent:
            key += "-\n";
            break;
        case util::ReadStatus::unusable:
            return std::nullopt;
        case util::ReadStatus::ok:
            if (mentions_include(content)) {
                return std::nullopt;
            }
            key += fmt::format("{}\n", content.size());
            key += content;
            break;
        }
        if (key.size() > kMaxBytes) {
            return std::nullopt;
        }
    }
    return out;
}

std::optional<std::string> load(const Location& location, const Inputs& inputs) {
    std::string saved;
    if (util::read_regular_file(cache_path(location), 4 * kMaxBytes, saved) !=
        util::ReadStatus::ok) {
        return std::nullopt;
    }
    const std::string header = fmt::format("{}{}\n", kMagic, inputs.key.size());
    const std::string_view view(saved);
    if (!util::starts_with(view, header) ||
        view.substr(header.size(), inputs.key.size()) != inputs.key) {
        return std::nullopt;
    }
    return saved.substr(header.size() + inputs.key.size());
}

void save(const Location& location, const Inputs& inputs, const std::vector<std::string>& origins,
          std::string_view answer) {
    // Every file git names must be one we compared: else git reads configuration we do not know of.
    std::vector<struct stat> known;
    for (const auto& file : inputs.files) {
        struct stat st {};
        if (::stat(file.c_str(), &st) == 0) {
            known.push_back(st);
        }
    }
    for (const auto& origin : origins) {
        const std::string path = util::starts_with(origin, "/")
                                     ? origin
                                     : location.work_tree.value_or(location.git_dir) + "/" + origin;
        struct stat st {};
        if (::stat(path.c_str(), &st) != 0 ||
            std::none_of(known.begin(), known.end(),
                         [&](const struct stat& k) { return same_file(k, st); })) {
            return;
        }
    }
    // A file that changed while git read it: git's answer may be of either version.
    const auto now = config_cache::inputs(location);
    if (!now || now->key != inputs.key) {
        return;
    }
    std::string bytes = fmt::format("{}{}\n", kMagic, inputs.key.size());
    bytes += inputs.key;
    bytes += answer;

    // Private: the global configuration may hold tokens its owner keeps unreadable to others.
    try {
        util::write_atomically(cache_path(location), bytes, 0600);
    } catch (const Error&) {
        // Best effort: a git directory we cannot write keeps no cache.
    }
}

}  // namespace dataops::git::config_cache
