#pragma once
/// Three workspace repositories (dev, staging, prod) in bare repositories and the user's clone
/// that has them as remotes: the setup of the promotion and history end-to-end tests.

#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

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

private:
    mutable int clones_ = 0;
};

}  // namespace dataops::testing
