#include "support/temp_repo.hpp"

#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <stdexcept>

#include <dataops/process/process.hpp>
#include <fmt/format.h>

extern char** environ;

namespace dataops::testing {

long failed_assertions();  // counted by the listener in catch_main.cpp

namespace fs = std::filesystem;

TempDir::TempDir() : failures_at_start_(failed_assertions()) {
    std::string base = fs::temp_directory_path().string() + "/dataops-test-XXXXXX";
    if (::mkdtemp(base.data()) == nullptr) {
        throw std::runtime_error("mkdtemp failed");
    }
    path_ = fs::canonical(base).string();
}

TempDir::~TempDir() {
    if (failed_assertions() != failures_at_start_ || std::uncaught_exceptions() > 0) {
        std::cerr << "note: keeping the test directory " << path_ << '\n';
        return;
    }
    std::error_code ignored;
    fs::remove_all(path_, ignored);
}

TempRepo::TempRepo() {
    work_ = dir_.path() + "/work";
    home_ = dir_.path() + "/home";
    fs::create_directories(home_);
    // Nothing from the developer's environment leaks in: every GIT_* variable is removed.
    for (char** e = environ; *e != nullptr; ++e) {
        std::string_view entry(*e);
        auto eq = entry.find('=');
        std::string name(entry.substr(0, eq));
        if (name.rfind("GIT_", 0) == 0 || name.rfind("DATAOPS_", 0) == 0) {
            env_[name] = std::nullopt;
        }
    }
    const char* path = std::getenv("PATH");
    env_["PATH"] = std::string(DATAOPS_TEST_BIN_DIR) + ":" + (path != nullptr ? path : "/usr/bin:/bin");
    env_["HOME"] = home_;
    env_["XDG_CONFIG_HOME"] = home_ + "/.config";
    env_["GIT_CONFIG_NOSYSTEM"] = "1";
    env_["GIT_AUTHOR_NAME"] = "A U Thor";
    env_["GIT_AUTHOR_EMAIL"] = "author@example.com";
    env_["GIT_COMMITTER_NAME"] = "C O Mitter";
    env_["GIT_COMMITTER_EMAIL"] = "committer@example.com";
    env_["LC_ALL"] = "C";
    env_["LANG"] = "C";
    env_["TZ"] = "UTC";
    env_["NO_COLOR"] = std::nullopt;
    env_["GIT_TERMINAL_PROMPT"] = "0";
    {
        std::ofstream config(home_ + "/.gitconfig");
        config << "[init]\n\tdefaultBranch = main\n[advice]\n\tdetachedHead = false\n";
    }
    fs::create_directories(work_);
    git({"init", "-q", "-b", "main", work_}, in_dir(dir_.path()));
}

RunResult TempRepo::run(const std::vector<std::string>& argv, const RunOptions& opts) const {
    process::Options options;
    options.argv = argv;
    options.cwd = opts.cwd.empty() ? work_ : opts.cwd;
    options.env = env_;
    for (const auto& [name, value] : opts.env) {
        options.env[name] = value;
    }
    options.input = opts.input;
    auto result = process::run(options);
    return {result.exit_code, result.out, result.err};
}

RunResult TempRepo::git(const std::vector<std::string>& args, const RunOptions& opts, bool check) const {
    std::vector<std::string> argv = {"git"};
    argv.insert(argv.end(), args.begin(), args.end());
    auto result = run(argv, opts);
    if (check && result.code != 0) {
        std::string command;
        for (const auto& a : argv) {
            command += a + " ";
        }
        throw std::runtime_error(fmt::format("'{}' failed: {}", command, describe(result)));
    }
    return result;
}

RunResult TempRepo::dataops(const std::vector<std::string>& args, const RunOptions& opts) const {
    std::vector<std::string> argv = {"git", "dataops"};
    argv.insert(argv.end(), args.begin(), args.end());
    return run(argv, opts);
}

void TempRepo::write(const std::string& relative, const std::string& content) const {
    fs::path file = fs::path(work_) / relative;
    fs::create_directories(file.parent_path());
    std::ofstream out(file, std::ios::binary);
    out << content;
}

std::string TempRepo::read(const std::string& relative) const {
    std::ifstream in(fs::path(work_) / relative, std::ios::binary);
    std::stringstream buffer;
    buffer << in.rdbuf();
    return buffer.str();
}

std::string TempRepo::commit(const std::string& message,
                             const std::map<std::string, std::optional<std::string>>& files) {
    for (const auto& [name, content] : files) {
        if (content) {
            write(name, *content);
        } else {
            fs::remove(fs::path(work_) / name);
        }
    }
    git({"add", "-A"});
    // test_tick: a fixed clock that moves a minute per commit, so ids are reproducible.
    const std::string date = fmt::format("@{} +0000", 1112911993 + 60 * tick_++);
    RunOptions opts;
    opts.env["GIT_AUTHOR_DATE"] = date;
    opts.env["GIT_COMMITTER_DATE"] = date;
    git({"commit", "-q", "--allow-empty", "-m", message}, opts);
    auto head = git({"rev-parse", "HEAD"});
    return head.out.substr(0, head.out.find('\n'));
}

std::string TempRepo::bare(const std::string& name) const {
    std::string path = dir_.path() + "/" + name + ".git";
    git({"init", "-q", "--bare", "-b", "main", path}, in_dir(dir_.path()));
    return path;
}

std::string TempRepo::init_repo(const std::string& name) const {
    std::string path = dir_.path() + "/" + name;
    git({"init", "-q", "-b", "main", path}, in_dir(dir_.path()));
    return path;
}

std::string describe(const RunResult& result) {
    return fmt::format("exit code {}\n--- stdout:\n{}--- stderr:\n{}", result.code, result.out, result.err);
}

}  // namespace dataops::testing
