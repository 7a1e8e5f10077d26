#include <dataops/git/config_cache.hpp>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <utility>

#include <dataops/process/process.hpp>
#include <dataops/util/strings.hpp>
#include <fmt/format.h>

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

enum class Read { ok, absent, unusable };

/// The whole of a small regular file (following symbolic links, as git does). /dev/null, which
/// GIT_CONFIG_GLOBAL often names, reads as empty; any other kind of file is unusable.
Read read_whole(const std::string& path, std::string& out, std::size_t limit = kMaxBytes) {
    out.clear();
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        return errno == ENOENT || errno == ENOTDIR ? Read::absent : Read::unusable;
    }
    struct stat st {};
    Read result = Read::unusable;
    if (::fstat(fd, &st) == 0 && S_ISREG(st.st_mode) &&
        static_cast<std::size_t>(st.st_size) < limit) {
        out.resize(static_cast<std::size_t>(st.st_size));
        std::size_t done = 0;
        while (done < out.size()) {
            const ssize_t n = ::read(fd, out.data() + done, out.size() - done);
            if (n <= 0) {
                break;
            }
            done += static_cast<std::size_t>(n);
        }
        // A file that grew or shrank while we read is being written: no cache this time.
        char extra = 0;
        if (done == out.size() && ::read(fd, &extra, 1) == 0) {
            result = Read::ok;
        }
    } else if (path == "/dev/null") {
        result = Read::ok;
    }
    ::close(fd);
    return result;
}

bool mentions_include(std::string_view text) {
    constexpr std::string_view word = "include";
    return std::search(text.begin(), text.end(), word.begin(), word.end(), [](char a, char b) {
               return std::tolower(static_cast<unsigned char>(a)) == b;
           }) != text.end();
}

std::optional<std::string> variable(const char* name) {
    const char* value = std::getenv(name);
    return value != nullptr ? std::optional<std::string>(value) : std::nullopt;
}

/// The system file(s) git may read: $GIT_CONFIG_SYSTEM, else git's $(sysconfdir)/gitconfig -
/// /etc/gitconfig for a git installed under /usr, $(prefix)/etc/gitconfig for one installed
/// elsewhere (both, to be safe). save() refuses an answer naming a system file elsewhere.
std::vector<std::string> system_files(const std::string& git) {
    if (auto configured = variable("GIT_CONFIG_SYSTEM")) {
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
    if (auto configured = variable("GIT_CONFIG_GLOBAL")) {
        return {*configured};
    }
    std::vector<std::string> files;
    const auto home = variable("HOME");
    const auto xdg = variable("XDG_CONFIG_HOME");
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
    if (variable("DATAOPS_CONFIG_CACHE") == std::optional<std::string>("0")) {
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
        switch (read_whole(file, content)) {
        case Read::absent:
            key += "-\n";
            break;
        case Read::unusable:
            return std::nullopt;
        case Read::ok:
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
    if (read_whole(cache_path(location), saved, 4 * kMaxBytes) != Read::ok) {
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

    const std::string path = cache_path(location);
    // A name no other process uses, even one with our pid in another pid namespace, and not the
    // name of a file a killed run left behind (O_EXCL then refuses, and this run saves nothing).
    const std::string temporary =
        fmt::format("{}.{}.{}.tmp", path, ::getpid(),
                    std::chrono::steady_clock::now().time_since_epoch().count());
    // Private: the global configuration may hold tokens its owner keeps unreadable to others.
    const int fd = ::open(temporary.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) {
        return;
    }
    std::size_t done = 0;
    while (done < bytes.size()) {
        const ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
        if (n <= 0) {
            break;
        }
        done += static_cast<std::size_t>(n);
    }
    const bool written = ::close(fd) == 0 && done == bytes.size();
    if (!written || ::rename(temporary.c_str(), path.c_str()) != 0) {
        ::unlink(temporary.c_str());
    }
}

}  // namespace dataops::git::config_cache
