#pragma once
/// Three workspace repositories (dev, staging, prod) in bare repositories and the user's clone
/// that has them as remotes: the setup of the promotion and history end-to-end tests.

#include <signal.h>
#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <catch2/catch.hpp>
#include <dataops/process/process.hpp>

#include "support/fixtures.hpp"
#include "support/temp_repo.hpp"

namespace dataops::testing {

/// The first line of `text`.
inline std::string trim(const std::string& text) {
    return text.substr(0, text.find('\n'));
}

/// `text` with `from` replaced by `to` (which must occur).
inline std::string replaced(std::string text, const std::string& from, const std::string& to) {
    auto at = text.find(from);
    REQUIRE(at != std::string::npos);
    text.replace(at, from.size(), to);
    return text;
}

/// The whole content of a file, or "" when it cannot be read.
inline std::string slurp(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::stringstream buffer;
    buffer << in.rdbuf();
    return buffer.str();
}

/// The state letter of a process (`R`, `S`, `T` for stopped, ...) from /proc, or 0 when it is gone.
inline char process_state(pid_t pid) {
    auto stat = slurp("/proc/" + std::to_string(pid) + "/stat");
    auto paren = stat.rfind(')');
    return paren == std::string::npos || paren + 2 >= stat.size() ? '\0' : stat[paren + 2];
}

/// Wait until `done()` holds; fails the test after a generous deadline (a wait for an event, never
/// a timing assertion: the deadline only turns a hang into a failure).
template <typename Predicate>
void wait_until(const char* what, Predicate done) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
    while (!done()) {
        if (std::chrono::steady_clock::now() > deadline) {
            FAIL("gave up waiting for " << what);
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
}

/// The process that wrote its pid into `marker` and then stopped itself (SIGSTOP), once it has.
/// Fails at once when `command` (the process that should get there) ends first.
inline pid_t wait_for_pause(const std::string& marker, pid_t command) {
    wait_until("a process to pause", [&] {
        if (std::filesystem::exists(marker)) {
            return true;
        }
        const char state = process_state(command);
        if (state == 'Z' || state == '\0') {
            FAIL("the command ended before it paused");
        }
        return false;
    });
    const pid_t pid = static_cast<pid_t>(std::stol(slurp(marker)));
    wait_until("a process to stop", [&] { return process_state(pid) == 'T'; });
    return pid;
}

/// A command run in the background, for the fault tests: it is stopped at a step (see test_pause
/// in lib/promote/shared.hpp, or a hook that stops itself) and then killed or continued.
class Background {
public:
    Background(const TempRepo& repo, const std::vector<std::string>& argv, const RunOptions& extra = {}) {
        static int count = 0;
        const std::string pid_file = repo.root() + "/background-" + std::to_string(count++) + ".pid";
        process::Options options;
        // The shell tells us the command's pid (then becomes the command), so a wait for it to
        // pause can tell when it has ended instead.
        options.argv = {"sh", "-c", "echo $$ >\"$0.partial\" && mv \"$0.partial\" \"$0\" && exec \"$@\"", pid_file};
        options.argv.insert(options.argv.end(), argv.begin(), argv.end());
        options.cwd = extra.cwd.empty() ? repo.path() : extra.cwd;
        options.env = repo.environment();
        for (const auto& [name, value] : extra.env) {
            options.env[name] = value;
        }
        running_.emplace(options);
        wait_until("a command to start", [&] { return std::filesystem::exists(pid_file); });
        pid_ = static_cast<pid_t>(std::stol(slurp(pid_file)));
    }
    Background(const Background&) = delete;
    Background& operator=(const Background&) = delete;
    ~Background() {
        // A test that failed half-way must not leave a stopped process behind (nor hang on it).
        if (running_) {
            for (pid_t pid : guarded_) {
                ::kill(pid, SIGKILL);
            }
        }
    }

    /// `git dataops <args>` stopped by GIT_DATAOPS_TEST_PAUSE_AT=<step>; returns once it is.
    static std::unique_ptr<Background> paused_at(const TempRepo& repo, const std::string& step,
                                                 const std::vector<std::string>& args) {
        static int count = 0;
        const std::string marker = repo.root() + "/paused-" + std::to_string(count++);
        RunOptions options;
        options.env["GIT_DATAOPS_TEST_PAUSE_AT"] = step;
        options.env["GIT_DATAOPS_TEST_PAUSE_FILE"] = marker;
        std::vector<std::string> argv = {"git", "dataops"};
        argv.insert(argv.end(), args.begin(), args.end());
        auto run = std::make_unique<Background>(repo, argv, options);
        run->paused_ = wait_for_pause(marker, run->pid());
        run->guard(run->paused_);
        return run;
    }

    /// Kill `pid` too if the test ends before the command does (a hook stopped on its way).
    void guard(pid_t pid) { guarded_.push_back(pid); }

    pid_t paused_pid() const { return paused_; }
    /// The command's own process (`git` for `git dataops ...`).
    pid_t pid() const { return pid_; }

    /// SIGKILL the stopped process and collect the command's result.
    RunResult kill() { return finish(SIGKILL); }
    /// Let the stopped process go on and collect the command's result.
    RunResult resume() { return finish(SIGCONT); }
    /// Collect the command's result.
    RunResult wait() {
        auto result = running_->wait();
        running_.reset();
        paused_ = 0;
        return {result.exit_code, result.out, result.err};
    }

private:
    RunResult finish(int signal) {
        REQUIRE(paused_ != 0);
        ::kill(paused_, signal);
        return wait();
    }

    std::optional<process::Running> running_;
    pid_t pid_ = 0;
    pid_t paused_ = 0;
    std::vector<pid_t> guarded_;
};

/// Three workspace repositories created independently, as the seed's platform does: each bare
/// repository is seeded by its own first commit, so their histories are unrelated. The user's
/// clone (`repo`) has the three as remotes and work of its own that promotion must not touch.
struct Workspaces {
    TempRepo repo;
    std::string dev, staging, prod;
    std::string dev_work;

    Workspaces() {
        dev = repo.bare("dev");
        staging = repo.bare("staging");
        prod = repo.bare("prod");
        seed("dev", {{"meltano.yml", kSeedProject}, {"README.md", "# My Workspace (dev)\n"}});
        seed("staging", {{"meltano.yml", kSeedProject}, {"README.md", "# My Workspace (staging)\n"}});
        seed("prod", {{"meltano.yml", kSeedProject}, {"README.md", "# My Workspace\n"}});
        dev_work = clone("dev");

        repo.commit("local work", {{"notes.txt", "mine\n"}});
        repo.git({"remote", "add", "dev", dev});
        repo.git({"remote", "add", "staging", staging});
        repo.git({"remote", "add", "prod", prod});
        repo.git({"fetch", "-q", "--all"});
        repo.write("dirty.txt", "uncommitted\n");
        repo.write("notes.txt", "mine, edited\n");
    }

    std::string bare_of(const std::string& name) const { return repo.root() + "/" + name + ".git"; }

    void seed(const std::string& name, const std::map<std::string, std::optional<std::string>>& files) {
        auto dir = repo.init_repo("seed-" + name);
        for (const auto& [path, content] : files) {
            write(dir + "/" + path, *content);
        }
        repo.git({"add", "-A"}, in_dir(dir));
        repo.git({"commit", "-q", "-m", "create workspace " + name}, in_dir(dir));
        repo.git({"push", "-q", bare_of(name), "main"}, in_dir(dir));
    }

    static void write(const std::string& path, const std::string& content) {
        std::filesystem::create_directories(std::filesystem::path(path).parent_path());
        std::ofstream(path, std::ios::binary) << content;
    }

    /// A clone of a workspace, for commits made by other people.
    std::string clone(const std::string& name) const {
        std::string dir = repo.root() + "/clone-" + name + "-" + std::to_string(clones_++);
        repo.git({"clone", "-q", bare_of(name), dir}, in_dir(repo.root()));
        return dir;
    }

    /// Commit files in a clone and push them.
    void change(const std::string& dir, const std::string& message,
                const std::map<std::string, std::optional<std::string>>& files) const {
        repo.git({"pull", "-q", "--rebase"}, in_dir(dir));
        for (const auto& [path, content] : files) {
            if (content) {
                write(dir + "/" + path, *content);
            } else {
                std::filesystem::remove(dir + "/" + path);
            }
        }
        repo.git({"add", "-A"}, in_dir(dir));
        repo.git({"commit", "-q", "-m", message}, in_dir(dir));
        repo.git({"push", "-q", "origin", "main"}, in_dir(dir));
    }

    /// The tip of main in a workspace, or "" when it has none.
    std::string tip(const std::string& name) const {
        auto result = repo.git({"--git-dir=" + bare_of(name), "rev-parse", "--verify", "-q", "refs/heads/main"}, {},
                               false);
        return result.code == 0 ? trim(result.out) : std::string();
    }

    std::string tree(const std::string& name) const {
        return trim(repo.git({"--git-dir=" + bare_of(name), "rev-parse", "main^{tree}"}).out);
    }

    /// The seed's recipe, run for real in a scratch clone of the target: the tree it would push.
    std::string recipe_tree(const std::string& source, const std::string& target) const {
        auto dir = clone(target);
        repo.git({"remote", "add", source, bare_of(source)}, in_dir(dir));
        repo.git({"fetch", "-q", source, "main"}, in_dir(dir));
        repo.git({"merge", "-q", "-X", "theirs", "--allow-unrelated-histories", "--no-edit", "FETCH_HEAD"},
                 in_dir(dir));
        return trim(repo.git({"rev-parse", "HEAD^{tree}"}, in_dir(dir)).out);
    }

    /// `git dataops promote <args>`, through the dispatcher as a user types it.
    RunResult promote(const std::vector<std::string>& args, RunOptions options = {}) const {
        std::vector<std::string> argv = {"promote"};
        argv.insert(argv.end(), args.begin(), args.end());
        return repo.dataops(argv, options);
    }

    /// Everything of the user's clone that promotion must leave alone. (A successful push moves
    /// the target's remote-tracking branch, as every `git push` to a named remote does.)
    std::string user_state() const {
        return repo.git({"status", "--porcelain"}).out + repo.git({"rev-parse", "HEAD"}).out +
               repo.git({"for-each-ref", "refs/heads", "refs/tags"}).out + repo.git({"ls-files", "-s"}).out +
               repo.read("notes.txt") + repo.read("dirty.txt");
    }

    /// Every ref of the user's clone but the private fetch namespace and the remote-tracking
    /// branches of `moving_remote` (a push to a named remote moves them, as `git push` does).
    std::string refs_state(const std::string& moving_remote = "") const {
        std::string out;
        for (const auto& line : lines(repo.git({"for-each-ref"}).out)) {
            if (line.find("\trefs/dataops/") == std::string::npos &&
                (moving_remote.empty() || line.find("\trefs/remotes/" + moving_remote + "/") == std::string::npos)) {
                out += line + "\n";
            }
        }
        return out;
    }

    /// `git fsck --full` finds nothing wrong in the user's clone (dangling objects of an
    /// interrupted promotion are fine: they are unreferenced, and gc removes them).
    void check_fsck() const {
        auto fsck = repo.git({"fsck", "--full", "--no-dangling", "--no-progress"}, {}, false);
        INFO(describe(fsck));
        CHECK(fsck.code == 0);
        CHECK(fsck.out.empty());
        CHECK(fsck.err.empty());
    }

    static std::vector<std::string> lines(const std::string& text) {
        std::vector<std::string> out;
        std::istringstream in(text);
        for (std::string line; std::getline(in, line);) {
            out.push_back(line);
        }
        return out;
    }

private:
    mutable int clones_ = 0;
};

}  // namespace dataops::testing
