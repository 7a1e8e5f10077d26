// FileSource over the working tree: plain POSIX calls, because this runs on every push and
// keystroke-level command and must not pay for anything it does not use.
#include <cerrno>
#include <cstring>
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>

#include <dataops/git/file_source.hpp>
#include <dataops/util/error.hpp>
#include <fmt/format.h>

namespace dataops::git {
namespace {

EntryKind kind_of(const struct stat& st) {
    if (S_ISREG(st.st_mode)) {
        return EntryKind::file;
    }
    if (S_ISDIR(st.st_mode)) {
        return EntryKind::directory;
    }
    if (S_ISLNK(st.st_mode)) {
        return EntryKind::symlink;
    }
    return EntryKind::other;
}

class WorktreeSource final : public FileSource {
public:
    explicit WorktreeSource(std::string root) : root_(std::move(root)) {
        while (root_.size() > 1 && root_.back() == '/') {
            root_.pop_back();
        }
    }

    std::string describe() const override { return "the working tree"; }
    std::optional<std::string> commit() const override { return std::nullopt; }
    std::optional<std::string> tree() const override { return std::nullopt; }

    EntryKind kind(std::string_view path) const override {
        struct stat st {};
        if (::lstat(absolute(path).c_str(), &st) != 0) {
            return EntryKind::missing;
        }
        return kind_of(st);
    }

    std::vector<DirEntry> list(std::string_view path) const override {
        std::vector<DirEntry> out;
        const std::string dir = absolute(path);
        DIR* handle = ::opendir(dir.c_str());
        if (handle == nullptr) {
            return out;
        }
        while (const dirent* entry = ::readdir(handle)) {
            std::string_view name = entry->d_name;
            if (name == "." || name == "..") {
                continue;
            }
            out.push_back({std::string(name), kind(join_path(path, name))});
        }
        ::closedir(handle);
        std::sort(out.begin(), out.end(),
                  [](const DirEntry& a, const DirEntry& b) { return a.name < b.name; });
        return out;
    }

    ReadResult read(std::string_view path, std::string_view confine) const override {
        ReadResult result;
        auto normal = normalize_relative(path);
        if (!normal || !path_within(*normal, confine)) {
            result.status = ReadResult::Status::outside;
            return result;
        }
        // Follow symlinks one step at a time so that every step is checked against `confine`,
        // as Meltano refuses included files that resolve outside the project.
        std::string current = *normal;
        for (int hops = 0;; ++hops) {
            if (hops > 40) {
                result.status = ReadResult::Status::missing;  // a symlink loop: ELOOP
                return result;
            }
            // Intermediate directories may be symlinks too: resolve them with realpath and check.
            std::string abs = absolute(current);
            struct stat st {};
            if (::lstat(abs.c_str(), &st) != 0) {
                return resolve_parent_links(current, confine);
            }
            if (S_ISLNK(st.st_mode)) {
                auto next = follow(current);
                if (!next || !path_within(*next, confine)) {
                    result.status = ReadResult::Status::outside;
                    return result;
                }
                current = *next;
                continue;
            }
            auto real = real_relative(abs);
            if (!real || !path_within(*real, confine)) {
                result.status = ReadResult::Status::outside;
                return result;
            }
            if (!S_ISREG(st.st_mode)) {
                result.status = ReadResult::Status::not_a_file;
                result.resolved_path = current;
                return result;
            }
            result.data = slurp(abs);
            result.status = ReadResult::Status::ok;
            result.resolved_path = *real;
            return result;
        }
    }

private:
    std::string absolute(std::string_view path) const {
        if (path.empty()) {
            return root_;
        }
        std::string out = root_;
        out += '/';
        out += path;
        return out;
    }

    /// The symlink at `path` resolved to a repository-relative path, or nullopt when it leaves
    /// the repository.
    std::optional<std::string> follow(const std::string& path) const {
        char buffer[4096];
        ssize_t n = ::readlink(absolute(path).c_str(), buffer, sizeof buffer - 1);
        if (n < 0) {
            return std::nullopt;
        }
        std::string target(buffer, static_cast<std::size_t>(n));
        if (!target.empty() && target.front() == '/') {
            if (!path_within(target, root_) || root_ == "/") {
                return std::nullopt;
            }
            return normalize_relative(target.substr(std::min(target.size(), root_.size() + 1)));
        }
        auto slash = path.rfind('/');
        std::string parent = slash == std::string::npos ? std::string() : path.substr(0, slash);
        return normalize_relative(join_path(parent, target));
    }

    /// realpath() of an absolute path, relative to the (real) root; nullopt when outside.
    std::optional<std::string> real_relative(const std::string& abs) const {
        char* real = ::realpath(abs.c_str(), nullptr);
        if (real == nullptr) {
            return std::nullopt;
        }
        std::string resolved(real);
        std::free(real);
        if (real_root_.empty()) {
            char* root = ::realpath(root_.c_str(), nullptr);
            real_root_ = root != nullptr ? std::string(root) : root_;
            std::free(root);
        }
        if (resolved == real_root_) {
            return std::string();
        }
        if (!path_within(resolved, real_root_)) {
            return std::nullopt;
        }
        return resolved.substr(real_root_ == "/" ? 1 : real_root_.size() + 1);
    }

    /// The path does not exist as named: it is missing, unless a parent directory is a symlink
    /// that leads outside (then say so, rather than "missing").
    ReadResult resolve_parent_links(const std::string& path, std::string_view confine) const {
        ReadResult result;
        auto slash = path.rfind('/');
        if (slash != std::string::npos) {
            auto real = real_relative(absolute(path.substr(0, slash)));
            struct stat st {};
            if (!real && ::stat(absolute(path.substr(0, slash)).c_str(), &st) == 0) {
                result.status = ReadResult::Status::outside;
                return result;
            }
            if (real && !path_within(*real, confine)) {
                result.status = ReadResult::Status::outside;
                return result;
            }
        }
        result.status = ReadResult::Status::missing;
        return result;
    }

    static std::string slurp(const std::string& abs) {
        int fd = ::open(abs.c_str(), O_RDONLY | O_CLOEXEC);
        if (fd < 0) {
            throw Error(fmt::format("cannot open '{}': {}", abs, std::strerror(errno)));
        }
        std::string data;
        struct stat st {};
        if (::fstat(fd, &st) == 0 && st.st_size > 0) {
            data.reserve(static_cast<std::size_t>(st.st_size));
        }
        char buffer[65536];
        for (;;) {
            ssize_t n = ::read(fd, buffer, sizeof buffer);
            if (n < 0) {
                if (errno == EINTR) {
                    continue;
                }
                int saved = errno;
                ::close(fd);
                throw Error(fmt::format("cannot read '{}': {}", abs, std::strerror(saved)));
            }
            if (n == 0) {
                break;
            }
            data.append(buffer, static_cast<std::size_t>(n));
        }
        ::close(fd);
        return data;
    }

    std::string root_;
    mutable std::string real_root_;
};

}  // namespace

std::unique_ptr<FileSource> make_worktree_source(std::string root) {
    return std::make_unique<WorktreeSource>(std::move(root));
}

}  // namespace dataops::git
