#include <catch2/catch.hpp>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <vector>

#include <dataops/git/discover.hpp>
#include <dataops/git/repository.hpp>
#include <dataops/process/process.hpp>
#include <dataops/util/error.hpp>

#include "support/temp_repo.hpp"

using namespace dataops;
using dataops::testing::in_dir;
using dataops::testing::TempRepo;
namespace fs = std::filesystem;

namespace {

/// Set (or, with nullopt, remove) a variable of this process until the end of the scope.
class ScopedEnv {
public:
    ScopedEnv(const char* name, const std::optional<std::string>& value) : name_(name) {
        if (const char* old = std::getenv(name)) {
            old_ = old;
        }
        set(value);
    }
    ~ScopedEnv() { set(old_); }
    ScopedEnv(const ScopedEnv&) = delete;
    ScopedEnv& operator=(const ScopedEnv&) = delete;

private:
    void set(const std::optional<std::string>& value) {
        if (value) {
            ::setenv(name_, value->c_str(), 1);
        } else {
            ::unsetenv(name_);
        }
    }
    const char* name_;
    std::optional<std::string> old_;
};

std::string describe(const git::Location& l) {
    return "git_dir=" + l.git_dir + " common_dir=" + l.common_dir + " work_tree=" + l.work_tree.value_or("(none)") +
           " prefix=" + l.prefix + " bare=" + (l.bare ? "true" : "false");
}

bool same(const git::Location& a, const git::Location& b) {
    return a.git_dir == b.git_dir && a.common_dir == b.common_dir && a.work_tree == b.work_tree &&
           a.prefix == b.prefix && a.bare == b.bare;
}

/// A `git` first on PATH that logs every command line to a file and runs the real git: how the
/// tests see which git processes discovery started, with nothing of git's replaced.
class GitLog {
public:
    explicit GitLog(const std::string& dir) : log_(dir + "/git.log") {
        auto real = process::find_program("git");
        REQUIRE(real);
        fs::create_directories(dir + "/bin");
        const std::string wrapper = dir + "/bin/git";
        std::ofstream(wrapper) << "#!/bin/sh\nprintf '%s\\n' \"$*\" >> '" << log_ << "'\nexec '" << *real
                               << "' \"$@\"\n";
        ::chmod(wrapper.c_str(), 0755);
        path_.emplace("PATH", dir + "/bin:" + std::getenv("PATH"));
    }
    /// The command lines logged since the last call.
    std::string take() {
        std::ifstream in(log_);
        std::stringstream text;
        text << in.rdbuf();
        std::ofstream(log_, std::ios::trunc).flush();
        return text.str();
    }

private:
    std::string log_;
    std::optional<ScopedEnv> path_;
};

/// How discovery is expected to find the repository.
enum class Path {
    files,              ///< from the file system alone: only `git config` runs
    git,                ///< the file system declines at once: `git rev-parse` runs too
    git_after_config,   ///< the configuration overrules the file system: `git rev-parse` runs too
};

/// Discovery from `start` finds what `git rev-parse` finds, and took the expected way there.
void check_discovery(const std::string& start, Path expected) {
    INFO("start: " << start);
    const auto by_git = git::locate_with_git(start);
    INFO("git rev-parse: " << describe(by_git));
    const auto by_files = git::locate_from_files(start);
    if (by_files) {
        INFO("file system: " << describe(*by_files));
        // What only the configuration tells (core.worktree, core.bare) is not the file system's.
        CHECK((same(*by_files, by_git) || expected == Path::git_after_config));
    }
    CHECK(by_files.has_value() == (expected != Path::git));
    dataops::testing::TempDir scratch;
    GitLog log(scratch.path());
    const auto found = git::Repository::discover(start);
    const std::string ran = log.take();
    INFO("git ran:\n" << ran);
    INFO("discovered: " << describe(found.location()));
    CHECK(same(found.location(), by_git));
    CHECK(ran.find("config -z --list") != std::string::npos);
    if (expected == Path::files) {
        CHECK(ran.find("rev-parse") == std::string::npos);
    } else {
        CHECK(ran.find("rev-parse") != std::string::npos);
    }
}

/// A repository with a commit, and none of the developer's variables that change the search.
struct Plain {
    Plain() {
        for (const char* name : {"GIT_CEILING_DIRECTORIES", "GIT_DIR", "GIT_WORK_TREE", "GIT_COMMON_DIR",
                                 "GIT_DISCOVERY_ACROSS_FILESYSTEM", "GIT_CONFIG_PARAMETERS"}) {
            unset.push_back(std::make_unique<ScopedEnv>(name, std::nullopt));
        }
        repo.commit("initial", {{"sub/dir/file.txt", "x"}});
    }
    std::vector<std::unique_ptr<ScopedEnv>> unset;
    TempRepo repo;
};

}  // namespace

TEST_CASE("discovery finds the plain repository without git rev-parse, as git would", "[git][discover]") {
    Plain plain;
    const TempRepo& repo = plain.repo;

    SECTION("the top of the work tree") {
        check_discovery(repo.path(), Path::files);
    }
    SECTION("a subdirectory") {
        check_discovery(repo.path() + "/sub/dir", Path::files);
        CHECK(git::Repository::discover(repo.path() + "/sub/dir").location().prefix == "sub/dir");
    }
    SECTION("a path through a symlink (git reports the physical path)") {
        fs::create_directory_symlink(repo.path(), repo.root() + "/link");
        check_discovery(repo.root() + "/link/sub", Path::files);
        CHECK(git::Repository::discover(repo.root() + "/link/sub").location().work_tree == repo.path());
    }
    SECTION("a linked worktree, at its top and below") {
        repo.git({"worktree", "add", "-q", repo.root() + "/linked"});
        check_discovery(repo.root() + "/linked", Path::files);
        check_discovery(repo.root() + "/linked/sub/dir", Path::files);
        auto found = git::Repository::discover(repo.root() + "/linked/sub");
        CHECK(found.location().git_dir == repo.path() + "/.git/worktrees/linked");
        CHECK(found.location().common_dir == repo.path() + "/.git");
    }
    SECTION("a linked worktree's own configuration (extensions.worktreeConfig) is read") {
        repo.git({"worktree", "add", "-q", repo.root() + "/linked"});
        repo.git({"config", "extensions.worktreeConfig", "true"});
        repo.git({"config", "--worktree", "dataops.where", "linked"}, in_dir(repo.root() + "/linked"));
        check_discovery(repo.root() + "/linked", Path::files);
        CHECK(git::Repository::discover(repo.root() + "/linked").config().get("dataops.where") == "linked");
        CHECK_FALSE(git::Repository::discover(repo.path()).config().get("dataops.where").has_value());
    }
    SECTION("`git -c` reaches the configuration and does not change the location") {
        ScopedEnv c("GIT_CONFIG_PARAMETERS", std::string("'dataops.flag'='on'"));
        check_discovery(repo.path() + "/sub", Path::files);
        CHECK(git::Repository::discover(repo.path() + "/sub").config().get("dataops.flag") == "on");
    }
    SECTION("a gitfile with a relative path") {
        repo.git({"init", "-q", "--separate-git-dir", repo.root() + "/separate.git", repo.root() + "/other"},
                 in_dir(repo.root()));
        std::ofstream(repo.root() + "/other/.git") << "gitdir: ../separate.git\n";
        check_discovery(repo.root() + "/other", Path::files);
        CHECK(git::Repository::discover(repo.root() + "/other").location().git_dir == repo.root() + "/separate.git");
    }
}

TEST_CASE("discovery leaves everything but the plain case to git rev-parse", "[git][discover]") {
    Plain plain;
    const TempRepo& repo = plain.repo;

    SECTION("a bare repository") {
        check_discovery(repo.bare("remote"), Path::git);
    }
    SECTION("inside the git directory") {
        check_discovery(repo.path() + "/.git/refs", Path::git);
        check_discovery(repo.path() + "/.git", Path::git);
    }
    SECTION("inside a linked worktree's git directory") {
        repo.git({"worktree", "add", "-q", repo.root() + "/linked"});
        check_discovery(repo.path() + "/.git/worktrees/linked", Path::git);
    }
    SECTION("GIT_DIR and GIT_WORK_TREE") {
        ScopedEnv d("GIT_DIR", repo.path() + "/.git");
        check_discovery(repo.path() + "/sub", Path::git);
        ScopedEnv t("GIT_WORK_TREE", repo.path() + "/sub");
        check_discovery(repo.path() + "/sub/dir", Path::git);
    }
    SECTION("GIT_CEILING_DIRECTORIES and GIT_DISCOVERY_ACROSS_FILESYSTEM") {
        ScopedEnv c("GIT_CEILING_DIRECTORIES", repo.root() + "/elsewhere");
        check_discovery(repo.path() + "/sub", Path::git);
        ScopedEnv a("GIT_DISCOVERY_ACROSS_FILESYSTEM", std::string("true"));
        check_discovery(repo.path() + "/sub", Path::git);
    }
    SECTION("core.worktree") {
        repo.git({"config", "core.worktree", repo.path()});
        check_discovery(repo.path() + "/sub", Path::git_after_config);
    }
    SECTION("core.bare=true in a .git directory") {
        repo.git({"config", "core.bare", "true"});
        check_discovery(repo.path() + "/sub", Path::git_after_config);
    }
    SECTION("core.bare=true given with `git -c`") {
        ScopedEnv c("GIT_CONFIG_PARAMETERS", std::string("'core.bare'='true'"));
        check_discovery(repo.path() + "/sub", Path::git_after_config);
    }
    SECTION("a repository without core.repositoryformatversion") {
        repo.git({"config", "--unset", "core.repositoryformatversion"});
        check_discovery(repo.path() + "/sub", Path::git_after_config);
    }
    SECTION("a submodule (its core.worktree)") {
        auto other = repo.init_repo("library");
        repo.git({"commit", "-q", "--allow-empty", "-m", "library"}, in_dir(other));
        repo.git({"-c", "protocol.file.allow=always", "submodule", "add", "-q", other, "lib"});
        check_discovery(repo.path() + "/lib", Path::git_after_config);
    }
    SECTION("a .git that is a symlink, or not a repository") {
        auto other = repo.init_repo("other");
        fs::rename(other + "/.git", repo.root() + "/moved.git");
        fs::create_directory_symlink(repo.root() + "/moved.git", other + "/.git");
        check_discovery(other, Path::git);
        fs::remove(other + "/.git");
        fs::create_directories(other + "/.git");  // empty: git looks further up
        CHECK_FALSE(git::locate_from_files(other).has_value());
        ScopedEnv c("GIT_CEILING_DIRECTORIES", repo.root());
        CHECK_THROWS_WITH(git::Repository::discover(other), Catch::Contains("not a git repository"));
    }
    SECTION("a malformed gitfile") {
        auto other = repo.init_repo("other");
        fs::remove_all(other + "/.git");
        std::ofstream(other + "/.git") << "gitdir " << repo.path() << "/.git\n";
        CHECK_FALSE(git::locate_from_files(other).has_value());
        CHECK_THROWS_WITH(git::Repository::discover(other), Catch::Contains("invalid gitfile format"));
    }
    SECTION("a repository owned by someone else") {
        if (::geteuid() != 0) {
            WARN("not root: cannot give a repository away to test the ownership check");
            return;
        }
        auto other = repo.init_repo("theirs");
        for (const auto& entry : fs::recursive_directory_iterator(other)) {
            REQUIRE(::lchown(entry.path().c_str(), 4242, 4242) == 0);
        }
        REQUIRE(::lchown(other.c_str(), 4242, 4242) == 0);
        ScopedEnv sudo("SUDO_UID", std::nullopt);
        CHECK_FALSE(git::locate_from_files(other).has_value());
        // git refuses it, unless safe.directory (in the user's own configuration) says otherwise.
        std::optional<git::Location> by_git;
        try {
            by_git = git::locate_with_git(other);
        } catch (const Error& e) {
            CHECK_THAT(e.what(), Catch::Contains("dubious ownership"));
            CHECK_THROWS_WITH(git::Repository::discover(other), Catch::Contains("dubious ownership"));
        }
        if (by_git) {
            CHECK(same(git::Repository::discover(other).location(), *by_git));
        }
    }
}

TEST_CASE("git's answer about the configuration is reused until anything it depends on changes",
          "[git][discover][config-cache]") {
    Plain plain;
    const TempRepo& repo = plain.repo;
    dataops::testing::TempDir scratch;
    const std::string home = scratch.path() + "/home";
    fs::create_directories(home);
    ScopedEnv home_variable("HOME", home);
    ScopedEnv xdg("XDG_CONFIG_HOME", std::nullopt);
    ScopedEnv global("GIT_CONFIG_GLOBAL", std::nullopt);
    ScopedEnv system("GIT_CONFIG_NOSYSTEM", std::string("1"));
    ScopedEnv switch_off("DATAOPS_CONFIG_CACHE", std::nullopt);
    GitLog log(scratch.path());
    const std::string start = repo.path() + "/sub";
    // What one discovery asked git, and the value of dataops.probe it ended with.
    auto discover = [&](const std::string& from) {
        log.take();
        auto found = git::Repository::discover(from);
        const std::string ran = log.take();
        return std::make_pair(ran.find("config -z --list") != std::string::npos,
                              found.config().get("dataops.probe").value_or("(unset)"));
    };
    auto asked_git = std::make_pair(true, std::string("(unset)"));
    auto from_cache = std::make_pair(false, std::string("(unset)"));

    const auto first = git::Repository::discover(start);
    log.take();
    const auto second = git::Repository::discover(start);
    CHECK(log.take().empty());  // not even `git rev-parse`
    CHECK(second.config().entries() == first.config().entries());
    CHECK(same(second.location(), first.location()));
    struct stat cache {};
    REQUIRE(::stat((repo.path() + "/.git/dataops-config-cache").c_str(), &cache) == 0);
    CHECK((cache.st_mode & 0777) == 0600);  // the configuration may hold tokens

    SECTION("the repository's own file") {
        repo.git({"config", "dataops.probe", "local"});
        CHECK(discover(start) == std::make_pair(true, std::string("local")));
        CHECK(discover(start) == std::make_pair(false, std::string("local")));
    }
    SECTION("an edit that keeps the size and the time stamps of the file") {
        repo.git({"config", "dataops.probe", "one"});
        discover(start);
        const std::string config = repo.path() + "/.git/config";
        struct stat before {};
        REQUIRE(::stat(config.c_str(), &before) == 0);
        std::string text = repo.read(".git/config");
        text.replace(text.find("= one"), 5, "= two");
        std::ofstream(config, std::ios::trunc) << text;
        const struct timespec times[2] = {before.st_atim, before.st_mtim};
        REQUIRE(::utimensat(AT_FDCWD, config.c_str(), times, 0) == 0);
        CHECK(discover(start) == std::make_pair(true, std::string("two")));
    }
    SECTION("the global files, and the variables that move them") {
        std::ofstream(home + "/.gitconfig") << "[dataops]\n\tprobe = global\n";
        CHECK(discover(start) == std::make_pair(true, std::string("global")));
        CHECK(discover(start) == std::make_pair(false, std::string("global")));
        fs::create_directories(home + "/.config/git");
        std::ofstream(home + "/.config/git/config") << "[dataops]\n\tprobe = xdg\n";
        CHECK(discover(start).first);
        {
            ScopedEnv moved("XDG_CONFIG_HOME", scratch.path() + "/xdg");
            fs::create_directories(scratch.path() + "/xdg/git");
            std::ofstream(scratch.path() + "/xdg/git/config") << "[dataops]\n\tprobe = moved\n";
            fs::remove(home + "/.gitconfig");
            CHECK(discover(start) == std::make_pair(true, std::string("moved")));
            ScopedEnv named("GIT_CONFIG_GLOBAL", std::string("/dev/null"));
            CHECK(discover(start) == asked_git);
            CHECK(discover(start) == from_cache);
        }
        {
            // Relative to the top of the work tree, where git moves before reading it.
            repo.write("global.cfg", "[dataops]\n\tprobe = relative\n");
            ScopedEnv relative("GIT_CONFIG_GLOBAL", std::string("global.cfg"));
            CHECK(discover(start) == std::make_pair(true, std::string("relative")));
            CHECK(discover(start) == std::make_pair(true, std::string("relative")));
        }
        CHECK(discover(start) == std::make_pair(true, std::string("xdg")));
    }
    SECTION("`git -c`, in both of the forms git hands it on") {
        {
            ScopedEnv c("GIT_CONFIG_PARAMETERS", std::string("'dataops.probe'='c'"));
            CHECK(discover(start) == std::make_pair(true, std::string("c")));
            CHECK(discover(start) == std::make_pair(false, std::string("c")));
        }
        CHECK(discover(start) == asked_git);
        ScopedEnv count("GIT_CONFIG_COUNT", std::string("1"));
        ScopedEnv key("GIT_CONFIG_KEY_0", std::string("dataops.probe"));
        ScopedEnv value("GIT_CONFIG_VALUE_0", std::string("env"));
        CHECK(discover(start) == std::make_pair(true, std::string("env")));
    }
    SECTION("a file that includes others is read by git every time") {
        // The condition follows the branch, which is no input of the cache.
        repo.write("../extra.cfg", "[dataops]\n\tprobe = included\n");
        repo.git({"config", "includeIf.onbranch:topic.path", repo.root() + "/extra.cfg"});
        CHECK(discover(start) == asked_git);
        CHECK(discover(start) == asked_git);
        repo.git({"checkout", "-q", "-b", "topic"});
        CHECK(discover(start) == std::make_pair(true, std::string("included")));
        repo.write("../extra.cfg", "[dataops]\n\tprobe = edited\n");
        CHECK(discover(start) == std::make_pair(true, std::string("edited")));
    }
    SECTION("a linked worktree has its own configuration, and its own answer") {
        repo.git({"worktree", "add", "-q", repo.root() + "/linked"});
        repo.git({"config", "extensions.worktreeConfig", "true"});
        repo.git({"config", "--worktree", "dataops.probe", "linked"},
                 in_dir(repo.root() + "/linked"));
        CHECK(discover(repo.root() + "/linked") == std::make_pair(true, std::string("linked")));
        CHECK(discover(start) == asked_git);
        CHECK(discover(repo.root() + "/linked") == std::make_pair(false, std::string("linked")));
        CHECK(discover(start) == from_cache);
    }
    SECTION("another git, a damaged cache, or DATAOPS_CONFIG_CACHE=0: git is asked") {
        GitLog other(scratch.path() + "/other");
        other.take();
        git::Repository::discover(start);
        CHECK_THAT(other.take(), Catch::Contains("config -z --list"));
        std::ofstream(repo.path() + "/.git/dataops-config-cache", std::ios::trunc)
            << "git-dataops config cache 1\n9";
        git::Repository::discover(start);
        CHECK_THAT(other.take(), Catch::Contains("config -z --list"));
        git::Repository::discover(start);
        CHECK(other.take().empty());
        ScopedEnv off("DATAOPS_CONFIG_CACHE", std::string("0"));
        git::Repository::discover(start);
        CHECK_THAT(other.take(), Catch::Contains("config -z --list"));
        git::Repository::discover(start);
        CHECK_THAT(other.take(), Catch::Contains("config -z --list"));
    }
}
