#include <dataops/git/discover.hpp>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cctype>
#include <cstdlib>

#include <dataops/util/error.hpp>
#include <dataops/util/files.hpp>
#include <dataops/util/strings.hpp>

namespace dataops::git {
namespace {

/// What changes where git looks (setup.c, git 2.39) or what it accepts as a repository there.
constexpr const char* kSearchVariables[] = {
    "GIT_DIR",           "GIT_WORK_TREE",           "GIT_COMMON_DIR",
    "GIT_OBJECT_DIRECTORY", "GIT_IMPLICIT_WORK_TREE", "GIT_CEILING_DIRECTORIES",
    "GIT_DISCOVERY_ACROSS_FILESYSTEM", "GIT_TEST_ASSUME_DIFFERENT_OWNER",
};

std::optional<std::string> real_path(const std::string& path) {
    char* resolved = ::realpath(path.c_str(), nullptr);
    if (resolved == nullptr) {
        return std::nullopt;
    }
    std::string out(resolved);
    std::free(resolved);
    return out;
}

std::string child(const std::string& dir, const char* name) {
    return dir == "/" ? std::string("/") + name : dir + "/" + name;
}

/// A small regular file's bytes (nullopt: missing, not a regular file, a symbolic link, too big,
/// unreadable).
std::optional<std::string> read_small_file(const std::string& path) {
    std::string text;
    if (util::read_regular_file(path, std::size_t{1} << 20, text, false) != util::ReadStatus::ok) {
        return std::nullopt;
    }
    return text;
}

/// Without its trailing CR and LF characters, as git reads a gitfile or a commondir file.
void drop_line_end(std::string& text) {
    while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) {
        text.pop_back();
    }
}

bool owned_by_us(const std::string& path) {
    struct stat st {};
    return ::lstat(path.c_str(), &st) == 0 && st.st_uid == ::geteuid();
}

/// git's validate_headref(), narrowed: a regular file holding a symbolic ref into refs/ or an
/// object id. (git also takes a symlink into refs/; declining it only costs a `git rev-parse`.)
bool valid_head(const std::string& git_dir) {
    auto head = read_small_file(child(git_dir, "HEAD"));
    if (!head) {
        return false;
    }
    std::string_view text(*head);
    if (util::starts_with(text, "ref:")) {
        text.remove_prefix(4);
        while (!text.empty() && std::isspace(static_cast<unsigned char>(text.front())) != 0) {
            text.remove_prefix(1);
        }
        return util::starts_with(text, "refs/");
    }
    if (text.size() < 40) {
        return false;
    }
    for (std::size_t i = 0; i < 40; ++i) {
        if (std::isxdigit(static_cast<unsigned char>(text[i])) == 0) {
            return false;
        }
    }
    return true;
}

/// The common directory of the git directory `git_dir` (its `commondir` file, as git reads it:
/// trailing CR/LF dropped, relative to `git_dir`), resolved; nullopt when it is unreadable.
std::optional<std::string> common_dir_of(const std::string& git_dir) {
    const std::string file = child(git_dir, "commondir");
    struct stat st {};
    if (::lstat(file.c_str(), &st) != 0) {
        return real_path(git_dir);
    }
    auto text = read_small_file(file);
    if (!text) {
        return std::nullopt;
    }
    drop_line_end(*text);
    if (text->empty() || text->find('\0') != std::string::npos) {
        return std::nullopt;
    }
    return real_path(text->front() == '/' ? *text : git_dir + "/" + *text);
}

/// git's is_git_directory(): HEAD, and objects/ and refs/ in the common directory.
bool is_git_directory(const std::string& dir) {
    if (!valid_head(dir)) {
        return false;
    }
    auto common = common_dir_of(dir);
    return common && ::access(child(*common, "objects").c_str(), X_OK) == 0 &&
           ::access(child(*common, "refs").c_str(), X_OK) == 0;
}

/// Could git take `dir` itself for a git directory (a bare repository, or the start is inside a
/// .git)? Only its necessary signs: a HEAD beside objects/ or a commondir file.
bool may_be_git_directory(const std::string& dir) {
    struct stat st {};
    return ::lstat(child(dir, "HEAD").c_str(), &st) == 0 &&
           (::lstat(child(dir, "objects").c_str(), &st) == 0 || ::lstat(child(dir, "commondir").c_str(), &st) == 0);
}

/// The git directory a gitfile names (git's read_gitfile_gently(): "gitdir: <path>", trailing
/// CR/LF dropped, relative to the file's directory), if it is one.
std::optional<std::string> gitfile_target(const std::string& gitfile, const std::string& dir) {
    auto text = read_small_file(gitfile);
    if (!text || !util::starts_with(*text, "gitdir: ")) {
        return std::nullopt;
    }
    drop_line_end(*text);
    std::string target = text->substr(8);
    if (target.empty() || target.find_first_of(std::string("\n\0", 2)) != std::string::npos) {
        return std::nullopt;
    }
    if (target.front() != '/') {
        target = child(dir, target.c_str());
    }
    if (!is_git_directory(target)) {
        return std::nullopt;
    }
    return real_path(target);
}

}  // namespace

process::Options location_query(const std::string& start) {
    process::Options options;
    options.argv = {"git",           "rev-parse",       "--path-format=absolute", "--absolute-git-dir",
                    "--git-common-dir", "--is-bare-repository", "--show-prefix",       "--show-toplevel"};
    options.cwd = start;
    return options;
}

Location parse_location_answer(const process::Result& result) {
    auto lines = util::split_lines(result.out);
    // --show-toplevel fails in a bare repository (or inside .git) after printing the rest.
    if (lines.size() < 4) {
        throw Error(git_message(result));
    }
    Location location;
    location.git_dir = lines[0];
    location.common_dir = lines[1];
    location.bare = lines[2] == "true";
    location.prefix = lines[3];
    while (!location.prefix.empty() && location.prefix.back() == '/') {
        location.prefix.pop_back();
    }
    if (result.exit_code == 0 && lines.size() >= 5 && !location.bare) {
        location.work_tree = lines[4];
    }
    return location;
}

Location locate_with_git(const std::string& start) {
    return parse_location_answer(process::run(location_query(start)));
}

std::optional<Location> locate_from_files(const std::string& start) {
    for (const char* name : kSearchVariables) {
        if (std::getenv(name) != nullptr) {
            return std::nullopt;
        }
    }
    // git run by root through sudo trusts what SUDO_UID owns as well.
    if (::geteuid() == 0 && std::getenv("SUDO_UID") != nullptr) {
        return std::nullopt;
    }
    // git works from getcwd(): the physical path, whatever symlinks the user came through.
    auto cwd = real_path(start.empty() ? std::string(".") : start);
    struct stat st {};
    if (!cwd || ::stat(cwd->c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
        return std::nullopt;
    }
    const dev_t device = st.st_dev;
    std::string dir = *cwd;
    for (;;) {
        const std::string dot_git = child(dir, ".git");
        struct stat entry {};
        if (::lstat(dot_git.c_str(), &entry) == 0) {
            std::optional<std::string> git_dir;
            if (S_ISDIR(entry.st_mode)) {
                if (is_git_directory(dot_git)) {
                    git_dir = real_path(dot_git);
                }
            } else if (S_ISREG(entry.st_mode)) {
                git_dir = gitfile_target(dot_git, dir);
            }
            // A .git that is no repository (git would look further up, or stop with an error), a
            // symlink or anything else: git decides.
            if (!git_dir) {
                return std::nullopt;
            }
            auto common_dir = common_dir_of(*git_dir);
            if (!common_dir || !owned_by_us(dir) || !owned_by_us(dot_git) || !owned_by_us(*git_dir) ||
                !owned_by_us(*common_dir)) {
                return std::nullopt;
            }
            Location location;
            location.git_dir = std::move(*git_dir);
            location.common_dir = std::move(*common_dir);
            location.work_tree = dir;
            if (cwd->size() > dir.size()) {
                location.prefix = cwd->substr(dir == "/" ? 1 : dir.size() + 1);
            }
            return location;
        }
        if (errno != ENOENT || may_be_git_directory(dir) || dir == "/") {
            return std::nullopt;
        }
        auto slash = dir.rfind('/');
        std::string parent = slash == 0 ? std::string("/") : dir.substr(0, slash);
        if (::stat(parent.c_str(), &st) != 0 || st.st_dev != device) {
            return std::nullopt;  // a file-system boundary: git stops there unless told otherwise
        }
        dir = std::move(parent);
    }
}

}  // namespace dataops::git
