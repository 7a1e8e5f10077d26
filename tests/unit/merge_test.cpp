#include <catch2/catch.hpp>

#include <pwd.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <vector>

#include <dataops/git/config.hpp>
#include <dataops/git/merge.hpp>
#include <dataops/git/merge_ort.hpp>
#include <dataops/util/error.hpp>
#include <fmt/format.h>

#include "support/temp_repo.hpp"

using dataops::git::MergeEngine;
using dataops::git::ObjectStore;
using dataops::testing::describe;
using dataops::testing::TempRepo;

namespace {

using Files = std::map<std::string, std::string>;

std::string trim(const std::string& text) {
    return text.substr(0, text.find('\n'));
}

/// Write exactly `files` as a commit with `parents`, through git's plumbing: HEAD, branches and
/// the index file's meaning do not matter to the tests that use it.
std::string commit_files(const TempRepo& repo, const Files& files, const std::vector<std::string>& parents,
                         const std::string& message) {
    namespace fs = std::filesystem;
    for (const auto& entry : fs::directory_iterator(repo.path())) {
        if (entry.path().filename() != ".git") {
            fs::remove_all(entry.path());
        }
    }
    for (const auto& [path, content] : files) {
        repo.write(path, content);
    }
    repo.git({"read-tree", "--empty"});
    repo.git({"add", "-A"});
    auto tree = trim(repo.git({"write-tree"}).out);
    std::vector<std::string> args = {"commit-tree", tree, "-m", message};
    for (const auto& parent : parents) {
        args.push_back("-p");
        args.push_back(parent);
    }
    return trim(repo.git(args).out);
}

struct GitMerge {
    std::optional<std::string> tree;
    std::set<std::string> conflicts;
};

/// What `git merge -X theirs --allow-unrelated-histories` makes of `theirs` merged into `ours`;
/// `strategy` adds options (`-s recursive`, ...).
GitMerge git_merge(const TempRepo& repo, const std::string& ours, const std::string& theirs,
                   const std::vector<std::string>& strategy = {}) {
    repo.git({"checkout", "-q", "-f", "--detach", ours});
    repo.git({"clean", "-q", "-f", "-d"});
    std::vector<std::string> args = {"merge", "-q", "-X", "theirs", "--allow-unrelated-histories", "--no-edit"};
    args.insert(args.end(), strategy.begin(), strategy.end());
    args.push_back(theirs);
    auto merged = repo.git(args, {}, false);
    GitMerge result;
    if (merged.code == 0) {
        result.tree = trim(repo.git({"rev-parse", "HEAD^{tree}"}).out);
        return result;
    }
    INFO(describe(merged));
    REQUIRE(merged.code == 1);
    auto unmerged = repo.git({"diff", "--name-only", "--diff-filter=U"}).out;
    std::size_t start = 0;
    while (start < unmerged.size()) {
        auto end = unmerged.find('\n', start);
        result.conflicts.insert(unmerged.substr(start, end - start));
        start = end + 1;
    }
    repo.git({"reset", "-q", "--hard"});
    return result;
}

/// Random edits of a small project: lines carry their file's path, so no file is ever similar
/// enough to another one for rename detection to pair them.
class Generator {
public:
    explicit Generator(unsigned seed) : rng_(seed) {}

    Files fresh() {
        Files files;
        for (const auto& path : paths_) {
            if (chance(60)) {
                files[path] = content(path);
            }
        }
        return files;
    }

    /// Modify, delete and add files; edits touch single lines so hunks sometimes overlap.
    Files edit(Files files) {
        for (const auto& path : paths_) {
            auto it = files.find(path);
            if (it == files.end()) {
                if (chance(20)) {
                    files[path] = content(path);
                }
                continue;
            }
            int roll = pick(100);
            if (roll < 15) {
                files.erase(it);
            } else if (roll < 60) {
                it->second = edit_lines(path, it->second);
            }
        }
        return files;
    }

    bool chance(int percent) { return pick(100) < percent; }
    int pick(int n) { return std::uniform_int_distribution<int>(0, n - 1)(rng_); }

private:
    std::string line(const std::string& path) {
        static const char* words[] = {"alpha", "beta", "gamma", "delta", "epsilon", "zeta"};
        return path + ": " + words[pick(6)] + "\n";
    }

    std::string content(const std::string& path) {
        std::string text;
        int n = 3 + pick(8);
        for (int i = 0; i < n; ++i) {
            text += line(path);
        }
        if (chance(10)) {
            text.pop_back();  // no newline at the end of the file
        }
        return text;
    }

    std::string edit_lines(const std::string& path, const std::string& text) {
        std::vector<std::string> lines;
        std::size_t start = 0;
        while (start < text.size()) {
            auto end = text.find('\n', start);
            end = end == std::string::npos ? text.size() : end + 1;
            lines.push_back(text.substr(start, end - start));
            start = end;
        }
        int edits = 1 + pick(3);
        for (int i = 0; i < edits; ++i) {
            int op = pick(3);
            if (op == 0 || lines.empty()) {
                lines.insert(lines.begin() + pick(static_cast<int>(lines.size()) + 1), line(path));
            } else if (op == 1) {
                lines.erase(lines.begin() + pick(static_cast<int>(lines.size())));
            } else {
                auto& target = lines[static_cast<std::size_t>(pick(static_cast<int>(lines.size())))];
                bool had_newline = !target.empty() && target.back() == '\n';
                target = line(path);
                if (!had_newline) {
                    target.pop_back();
                }
            }
        }
        std::string out;
        for (std::size_t i = 0; i < lines.size(); ++i) {
            std::string l = lines[i];
            // Only the last line may lack its newline.
            if (i + 1 < lines.size() && (l.empty() || l.back() != '\n')) {
                l += '\n';
            }
            out += l;
        }
        return out;
    }

    std::mt19937 rng_;
    std::vector<std::string> paths_ = {"meltano.yml", "README.md", "a.txt", "dir/x.sql", "dir/y.sql",
                                       "dir/sub/z.txt"};
};

}  // namespace

TEST_CASE("parse_identity reads the line git var prints", "[merge]") {
    auto identity = dataops::git::parse_identity("A U Thor <author@example.com> 1112911993 -0130");
    CHECK(identity.name == "A U Thor");
    CHECK(identity.email == "author@example.com");
    CHECK(identity.time == 1112911993);
    CHECK(identity.offset_minutes == -90);
    CHECK_THROWS_AS(dataops::git::parse_identity("nobody"), dataops::Error);
}

TEST_CASE("the in-memory merge of unrelated histories takes theirs and keeps both sides' files", "[merge]") {
    TempRepo repo;
    auto ours = commit_files(repo, {{"meltano.yml", "a\nb\nc\n"}, {"ours.txt", "o\n"}}, {}, "ours");
    auto theirs = commit_files(repo, {{"meltano.yml", "a\nB\nc\n"}, {"theirs.txt", "t\n"}}, {}, "theirs");
    auto git = git_merge(repo, ours, theirs);
    REQUIRE(git.tree);

    ObjectStore store(repo.path() + "/.git");
    auto merged = store.merge_theirs(ours, theirs);
    REQUIRE(merged.conflicts.empty());
    CHECK(merged.tree == git.tree);
    CHECK_FALSE(store.is_ancestor(theirs, ours));

    auto changes = store.diff_trees(store.tree_of(ours), *merged.tree);
    REQUIRE(changes.size() == 2);
    CHECK(changes[0].path == "meltano.yml");
    CHECK(changes[0].status == "modified");
    CHECK(changes[1].path == "theirs.txt");
    CHECK(changes[1].status == "added");

    SECTION("a commit is written without moving any reference") {
        auto refs_before = repo.git({"for-each-ref"}).out;
        dataops::git::CommitRequest request;
        request.tree = *merged.tree;
        request.parents = {ours, theirs};
        request.message = "promote dev → staging\n\nDataops-Mode: merge\n";
        request.author = dataops::git::parse_identity("A U Thor <a@example.com> 1112911993 +0000");
        request.committer = dataops::git::parse_identity("C O Mitter <c@example.com> 1112911993 +0200");
        auto commit = store.create_commit(request);
        CHECK(repo.git({"for-each-ref"}).out == refs_before);
        CHECK(trim(repo.git({"rev-parse", commit + "^{tree}"}).out) == *merged.tree);
        CHECK(trim(repo.git({"rev-parse", commit + "^1"}).out) == ours);
        CHECK(trim(repo.git({"rev-parse", commit + "^2"}).out) == theirs);
        CHECK(repo.git({"cat-file", "commit", commit}).out.find("committer C O Mitter <c@example.com> 1112911993 +0200") !=
              std::string::npos);
        CHECK(store.is_ancestor(theirs, commit));
    }
}

TEST_CASE("a modify/delete conflict is reported with what each side did", "[merge]") {
    TempRepo repo;
    auto base = commit_files(repo, {{"meltano.yml", "a\n"}, {"gone.txt", "x\n"}}, {}, "base");
    auto ours = commit_files(repo, {{"meltano.yml", "a\n"}, {"gone.txt", "changed\n"}}, {base}, "ours");
    auto theirs = commit_files(repo, {{"meltano.yml", "b\n"}}, {base}, "theirs");
    ObjectStore store(repo.path() + "/.git");
    auto merged = store.merge_theirs(ours, theirs);
    CHECK_FALSE(merged.tree);
    REQUIRE(merged.conflicts.size() == 1);
    CHECK(merged.conflicts[0].path == "gone.txt");
    CHECK(merged.conflicts[0].reason == "modified by target, deleted by source");
    CHECK(git_merge(repo, ours, theirs).conflicts == std::set<std::string>{"gone.txt"});
}

TEST_CASE("file/directory and symlink/file conflicts are conflicts for git and for the in-memory merge", "[merge]") {
    TempRepo repo;
    auto base = commit_files(repo, {{"meltano.yml", "a\n"}, {"models", "a file\n"}}, {}, "base");
    auto ours = commit_files(repo, {{"meltano.yml", "a\n"}, {"models", "an edited file\n"}}, {base}, "ours");
    auto theirs = commit_files(repo, {{"meltano.yml", "a\n"}, {"models/users.sql", "select 1\n"}}, {base}, "theirs");
    ObjectStore store(repo.path() + "/.git");
    auto merged = store.merge_theirs(ours, theirs);
    CHECK_FALSE(merged.tree);
    REQUIRE_FALSE(merged.conflicts.empty());
    CHECK(merged.conflicts[0].path == "models");
    CHECK(merged.conflicts[0].reason == "file/directory: a file in target, a directory in source");
    CHECK_FALSE(git_merge(repo, ours, theirs).conflicts.empty());
}

/// libgit2 diffs each side against the base with Myers' algorithm only (1.5 has no histogram
/// diff), and so does git's merge-recursive; git's default merge-ort always uses histogram diff
/// (hardcoded in git 2.39). When the two align a side's edits differently, conflicting hunks differ
/// and so does what -X theirs keeps. Here both sides add "z" after the first "b"; ours also changes
/// "a" to "e". Myers sees the same insertion on both sides and keeps our change; histogram pairs the
/// sides' edits into one conflict and takes theirs whole, dropping "e". The default engine is git's
/// merge-ort, so the promotion gives what `git pull -X theirs` gives.
TEST_CASE("overlapping edits are aligned as git merge does, not as libgit2 alone would", "[merge]") {
    TempRepo repo;
    auto base = commit_files(repo, {{"f", "b\ng\na\nb\ng\n"}}, {}, "base");
    auto ours = commit_files(repo, {{"f", "b\nz\ng\ne\nb\ng\n"}}, {base}, "ours");
    auto theirs = commit_files(repo, {{"f", "b\nz\ng\na\nb\ng\n"}}, {base}, "theirs");
    ObjectStore store(repo.path() + "/.git");
    auto merged = store.merge_theirs(ours, theirs);
    REQUIRE(merged.tree);
    CHECK(repo.git({"cat-file", "blob", *merged.tree + ":f"}).out == "b\nz\ng\na\nb\ng\n");
    auto ort = git_merge(repo, ours, theirs);
    CHECK(merged.tree == ort.tree);

    // libgit2 alone lines them up as merge-recursive does: the difference the engine exists for.
    auto libgit2 = store.merge_theirs(ours, theirs, MergeEngine::libgit2);
    REQUIRE(libgit2.tree);
    CHECK(repo.git({"cat-file", "blob", *libgit2.tree + ":f"}).out == "b\nz\ng\ne\nb\ng\n");
    auto recursive = git_merge(repo, ours, theirs, {"-s", "recursive", "-X", "diff-algorithm=myers"});
    CHECK(libgit2.tree == recursive.tree);
}

TEST_CASE("git's merge is resolved as -X theirs resolves it: line ends, binary files, marker-like lines",
          "[merge]") {
    TempRepo repo;
    // f: both sides change the last line, the source's without a line end. g: binary, changed by
    // both. h: a line that looks like a conflict marker of git's default width, changed by both.
    // crlf: CRLF line ends. keep: changed by the target only, must stay.
    const std::string binary_base("\0\1base", 6);
    auto base = commit_files(repo, {{"f", "a\nb\nc\n"}, {"g", binary_base}, {"h", "<<<<<<< x\n1\n=======\n2\n"},
                                    {"crlf", "a\r\nb\r\nc\r\n"}, {"keep", "k\n"}}, {}, "base");
    auto ours = commit_files(repo, {{"f", "a\nb\nours\n"}, {"g", std::string("\0\1ours", 6)},
                                    {"h", "<<<<<<< x\n1\n=======\nours\n"}, {"crlf", "a\r\nb\r\nours\r\n"},
                                    {"keep", "kept\n"}}, {base}, "ours");
    auto theirs = commit_files(repo, {{"f", "a\nb\ntheirs"}, {"g", std::string("\0\1thrs", 6)},
                                      {"h", "<<<<<<< x\n1\n=======\ntheirs\n"}, {"crlf", "a\r\nb\r\ntheirs"},
                                      {"keep", "k\n"}}, {base}, "theirs");
    ObjectStore store(repo.path() + "/.git");
    auto merged = store.merge_theirs(ours, theirs);
    REQUIRE(merged.tree);
    CHECK(repo.git({"cat-file", "blob", *merged.tree + ":f"}).out == "a\nb\ntheirs");
    CHECK(repo.git({"cat-file", "blob", *merged.tree + ":g"}).out == std::string("\0\1thrs", 6));
    CHECK(repo.git({"cat-file", "blob", *merged.tree + ":h"}).out == "<<<<<<< x\n1\n=======\ntheirs\n");
    CHECK(repo.git({"cat-file", "blob", *merged.tree + ":crlf"}).out == "a\r\nb\r\ntheirs");
    CHECK(repo.git({"cat-file", "blob", *merged.tree + ":keep"}).out == "kept\n");
    CHECK(merged.tree == git_merge(repo, ours, theirs).tree);
}

TEST_CASE("a repository that sets its own conflict-marker-size still merges, with libgit2", "[merge]") {
    TempRepo repo;
    auto base = commit_files(repo, {{"f", "a\nb\n"}}, {}, "base");
    auto ours = commit_files(repo, {{"f", "a\nours\n"}}, {base}, "ours");
    auto theirs = commit_files(repo, {{"f", "a\ntheirs\n"}}, {base}, "theirs");
    // info/attributes outranks the attributes git-dataops hands git: its markers are not the ones
    // asked for, so git's result cannot be read and libgit2 merges instead.
    std::filesystem::create_directories(repo.path() + "/.git/info");
    repo.write(".git/info/attributes", "* conflict-marker-size=12\n");
    ObjectStore store(repo.path() + "/.git");
    auto merged = store.merge_theirs(ours, theirs);
    REQUIRE(merged.tree);
    CHECK(repo.git({"cat-file", "blob", *merged.tree + ":f"}).out == "a\ntheirs\n");
    CHECK(merged.tree == git_merge(repo, ours, theirs).tree);
}

TEST_CASE("the user's core.attributesFile still applies to promotion merges", "[merge]") {
    // git-dataops hands git an attributes file of its own for the marker size; the user's global
    // one (here a union merge driver) must keep applying, as it does to git merge.
    TempRepo repo;
    auto base = commit_files(repo, {{"f", "a\nb\n"}, {"g", "a\nb\n"}}, {}, "base");
    auto ours = commit_files(repo, {{"f", "a\nours\n"}, {"g", "a\nours\n"}}, {base}, "ours");
    auto theirs = commit_files(repo, {{"f", "a\ntheirs\n"}, {"g", "a\ntheirs\n"}}, {base}, "theirs");
    // Outside the work tree, which git_merge cleans; no line end: ours must not join its line.
    repo.write(".git/user-attributes", "f merge=union");
    repo.git({"config", "core.attributesFile", repo.path() + "/.git/user-attributes"});
    ObjectStore store(repo.path() + "/.git");
    auto merged = store.merge_theirs(ours, theirs);
    REQUIRE(merged.tree);
    CHECK(repo.git({"cat-file", "blob", *merged.tree + ":f"}).out == "a\nours\ntheirs\n");
    CHECK(repo.git({"cat-file", "blob", *merged.tree + ":g"}).out == "a\ntheirs\n");
    CHECK(merged.tree == git_merge(repo, ours, theirs).tree);
}

TEST_CASE("the user's core.attributesFile applies when taken from the configuration already read", "[merge]") {
    // promote hands the merge the configuration it read at start-up, which spares a `git config
    // --path`: a `~/` path must come out as git expands it, and a `~user/` one is still git's to say.
    TempRepo repo;
    auto base = commit_files(repo, {{"f", "a\nb\n"}}, {}, "base");
    auto ours = commit_files(repo, {{"f", "a\nours\n"}}, {base}, "ours");
    auto theirs = commit_files(repo, {{"f", "a\ntheirs\n"}}, {base}, "theirs");
    std::ofstream(repo.home() + "/user-attributes") << "f merge=union\n";
    const struct passwd* account = ::getpwuid(::getuid());
    REQUIRE(account != nullptr);
    const std::string user = account->pw_name;
    auto value = GENERATE_COPY(std::string("~/user-attributes"), "~" + user + "/no-such-attributes");
    repo.git({"config", "core.attributesFile", value});
    const auto config = dataops::git::Config::parse_z_list(repo.git({"config", "-z", "--list"}).out);
    // This process runs with the test's HOME, as promote runs with the user's; restored however
    // the merge ends.
    struct HomeGuard {
        std::optional<std::string> previous;
        explicit HomeGuard(const std::string& home) {
            if (const char* saved = std::getenv("HOME")) {
                previous = saved;
            }
            ::setenv("HOME", home.c_str(), 1);
        }
        ~HomeGuard() {
            if (previous) {
                ::setenv("HOME", previous->c_str(), 1);
            } else {
                ::unsetenv("HOME");
            }
        }
        HomeGuard(const HomeGuard&) = delete;
        HomeGuard& operator=(const HomeGuard&) = delete;
    };
    dataops::git::MergeOutcome merged;
    {
        const HomeGuard home(repo.home());
        ObjectStore store(repo.path() + "/.git");
        merged = store.merge_theirs(ours, theirs, MergeEngine::git, &config);
    }
    REQUIRE(merged.tree);
    const bool union_merge = value.rfind("~/", 0) == 0;
    CHECK(repo.git({"cat-file", "blob", *merged.tree + ":f"}).out ==
          (union_merge ? "a\nours\ntheirs\n" : "a\ntheirs\n"));
    CHECK(merged.tree == git_merge(repo, ours, theirs).tree);
}

TEST_CASE("a directory renamed by the source stops the promotion as it stops git merge", "[merge]") {
    // merge-ort notices that the source moved models/ to transform/ while the target added a file
    // under models/: git merge stops with a conflict (file location) and so does the promotion;
    // libgit2 alone knows no directory renames and would leave the file behind.
    TempRepo repo;
    auto base = commit_files(repo, {{"models/a.sql", "select 1\n"}, {"models/b.sql", "select 2\n"}}, {}, "base");
    auto ours = commit_files(repo, {{"models/a.sql", "select 1\n"}, {"models/b.sql", "select 2\n"},
                                    {"models/new.sql", "select 3\n"}}, {base}, "ours");
    auto theirs = commit_files(repo, {{"transform/a.sql", "select 1\n"}, {"transform/b.sql", "select 2\n"}},
                               {base}, "theirs");
    ObjectStore store(repo.path() + "/.git");
    auto merged = store.merge_theirs(ours, theirs);
    CHECK_FALSE(merged.tree);
    std::set<std::string> paths;
    for (const auto& conflict : merged.conflicts) {
        INFO(conflict.path << ": " << conflict.reason);
        CHECK_FALSE(conflict.reason.empty());
        CHECK(conflict.reason.find(ours) == std::string::npos);
        CHECK(conflict.reason.find('\n') == std::string::npos);
        paths.insert(conflict.path);
    }
    auto git = git_merge(repo, ours, theirs);
    CHECK_FALSE(git.tree);
    for (const auto& path : git.conflicts) {
        CHECK(paths.count(path) == 1);
    }
    REQUIRE(merged.conflicts.size() == 2);
    // git's own words (they vary with git's version), the commits named as target and source.
    CHECK_THAT(merged.conflicts[0].reason, Catch::Contains("models/new.sql added in target") &&
                                               Catch::Contains("renamed in source") &&
                                               Catch::Contains("transform/new.sql"));
    CHECK(store.merge_theirs(ours, theirs, MergeEngine::libgit2).tree);
}

TEST_CASE("merge-tree's output is taken apart field by field", "[merge]") {
    using dataops::git::parse_merge_tree_output;
    const std::string tree(40, 'a');
    const std::string blob(40, 'b');
    auto clean = parse_merge_tree_output(tree + std::string("\0", 1), false);
    REQUIRE(clean);
    CHECK(clean->tree == tree);
    std::string out = tree + '\0' + "100644 " + blob + " 2\tdir/a b" + '\0' + '\0' + "1" + '\0' + "dir/a b" + '\0' +
                      "CONFLICT (modify/delete)" + '\0' + "CONFLICT (modify/delete): dir/a b deleted\n" + '\0';
    auto conflicted = parse_merge_tree_output(out, true);
    REQUIRE(conflicted);
    REQUIRE(conflicted->entries.size() == 1);
    CHECK(conflicted->entries[0].path == "dir/a b");
    CHECK(conflicted->entries[0].stage == 2);
    CHECK(conflicted->entries[0].id == blob);
    REQUIRE(conflicted->messages.size() == 1);
    CHECK(conflicted->messages[0].paths == std::vector<std::string>{"dir/a b"});
    CHECK(conflicted->messages[0].type == "CONFLICT (modify/delete)");
    CHECK_FALSE(parse_merge_tree_output("fatal: not a tree\n", false));
    CHECK_FALSE(parse_merge_tree_output(tree + '\0' + "100644 " + blob + " 9\tx" + '\0' + '\0', true));
    CHECK_FALSE(parse_merge_tree_output(out.substr(0, out.size() - 5), true));
}

TEST_CASE("take_theirs keeps the source's side of each conflict and refuses what it cannot read", "[merge]") {
    using dataops::git::take_theirs;
    const std::string open = std::string(5, '<') + " ours\n";
    const std::string middle = std::string(5, '=') + "\n";
    const std::string close = std::string(5, '>') + " theirs\n";
    CHECK(take_theirs("a\n" + open + "o\n" + middle + "t\n" + close + "z\n", 5, true) == "a\nt\nz\n");
    CHECK(take_theirs(open + "o\n" + middle + close, 5, true) == "");
    CHECK(take_theirs(open + "o\n" + middle + "t\n" + close, 5, false) == "t");
    CHECK(take_theirs(open + "o\n" + middle + "t\r\n" + close, 5, false) == "t");
    CHECK(take_theirs("<<<<<< longer is not a marker\n" + open + middle + "t\n" + close, 5, true) ==
          "<<<<<< longer is not a marker\nt\n");
    CHECK_FALSE(take_theirs("no markers\n", 5, true));
    CHECK_FALSE(take_theirs(open + "o\n" + middle + "t\n", 5, true));
    CHECK_FALSE(take_theirs(open + open + middle + close, 5, true));
}

TEST_CASE("every object the merged tree names is in the object database when merge_theirs returns", "[merge]") {
    // Strict object creation is off (merge.cpp): nothing checks the tree's entries as it is
    // written, so this checks that libgit2 wrote each merged blob and subtree it refers to.
    TempRepo repo;
    auto base = commit_files(repo, {{"dir/sub/f", "1\n2\n3\n4\n5\n"}, {"g", "x\n"}}, {}, "base");
    auto ours = commit_files(repo, {{"dir/sub/f", "one\n2\n3\n4\n5\n"}, {"g", "x\n"}}, {base}, "ours");
    auto theirs = commit_files(repo, {{"dir/sub/f", "1\n2\n3\n4\nfive\n"}, {"g", "x\n"}, {"h", "y\n"}}, {base}, "theirs");
    ObjectStore store(repo.path() + "/.git");
    auto merged = store.merge_theirs(ours, theirs);
    REQUIRE(merged.tree);
    // Each side changed one line of f: the merged blob is new, written by the merge itself.
    auto listing = repo.git({"ls-tree", "-r", "-t", "--format=%(objectname)", *merged.tree}).out;
    dataops::testing::RunOptions batch;
    batch.input = *merged.tree + "\n" + listing;
    auto types = repo.git({"cat-file", "--batch-check=%(objecttype)"}, batch).out;
    CHECK(types == "tree\ntree\ntree\nblob\nblob\nblob\n");
    CHECK(repo.git({"cat-file", "blob", *merged.tree + ":dir/sub/f"}).out == "one\n2\n3\n4\nfive\n");
}

/// Many commits written by one `git fast-import`, so a randomized test costs a few git processes
/// per merge rather than a few per commit.
class History {
public:
    /// Add a commit holding exactly `files`; returns its mark.
    int commit(const Files& files, const std::vector<int>& parents) {
        int mark = ++marks_;
        std::string message = "commit " + std::to_string(mark);
        stream_ += fmt::format("commit refs/random/{}\nmark :{}\ncommitter C O Mitter <c@example.com> {} +0000\n"
                               "data {}\n{}\n",
                               mark, mark, 1112911993 + mark, message.size(), message);
        for (std::size_t i = 0; i < parents.size(); ++i) {
            stream_ += fmt::format("{} :{}\n", i == 0 ? "from" : "merge", parents[i]);
        }
        stream_ += "deleteall\n";
        for (const auto& [path, content] : files) {
            stream_ += fmt::format("M 100644 inline {}\ndata {}\n{}\n", path, content.size(), content);
        }
        stream_ += "\n";
        return mark;
    }

    /// Write every commit; returns the id of each mark.
    std::map<int, std::string> write(const TempRepo& repo) const {
        const std::string marks = repo.root() + "/marks";
        dataops::testing::RunOptions options;
        options.input = stream_;
        repo.git({"fast-import", "--quiet", "--export-marks=" + marks}, options);
        std::map<int, std::string> ids;
        std::ifstream in(marks);
        std::string mark;
        std::string id;
        while (in >> mark >> id) {
            ids[std::stoi(mark.substr(1))] = id;
        }
        return ids;
    }

private:
    std::string stream_;
    int marks_ = 0;
};

TEST_CASE("random histories merge in memory exactly as git merge -X theirs does", "[merge]") {
    TempRepo repo;
    Generator generator(20261123);
    History history;
    struct Case {
        int ours = 0;
        int theirs = 0;
    };
    std::vector<Case> cases;
    int unrelated = 0;
    for (int i = 0; i < 150; ++i) {
        if (generator.chance(30)) {
            ++unrelated;
            int ours = history.commit(generator.fresh(), {});
            cases.push_back({ours, history.commit(generator.fresh(), {})});
            continue;
        }
        Files base_files = generator.fresh();
        int base = history.commit(base_files, {});
        Files our_files = generator.edit(base_files);
        int ours = history.commit(our_files, {base});
        if (generator.chance(30)) {
            ours = history.commit(generator.edit(our_files), {ours});
        }
        cases.push_back({ours, history.commit(generator.edit(base_files), {base})});
    }
    const auto ids = history.write(repo);

    ObjectStore store(repo.path() + "/.git");
    int conflicted = 0;
    int aligned_differently = 0;
    for (std::size_t i = 0; i < cases.size(); ++i) {
        const auto& ours = ids.at(cases[i].ours);
        const auto& theirs = ids.at(cases[i].theirs);
        auto expected = git_merge(repo, ours, theirs);
        auto conflict_paths = [](const dataops::git::MergeOutcome& outcome) {
            std::set<std::string> paths;
            for (const auto& conflict : outcome.conflicts) {
                paths.insert(conflict.path);
            }
            return paths;
        };
        // The default engine is git's merge-ort: exactly git merge's tree and conflicts.
        auto actual = store.merge_theirs(ours, theirs);
        INFO("case " << i << ": ours " << ours << ", theirs " << theirs << "; git's tree "
                     << expected.tree.value_or("(conflicts)") << ", in memory " << actual.tree.value_or("(conflicts)"));
        CHECK(conflict_paths(actual) == expected.conflicts);
        CHECK(actual.tree == expected.tree);

        // libgit2 alone: the same, but for the known difference in aligning overlapping edits (see
        // above), where the result must be exactly merge-recursive's, which diffs as libgit2 does.
        auto libgit2 = store.merge_theirs(ours, theirs, MergeEngine::libgit2);
        CHECK(conflict_paths(libgit2) == expected.conflicts);
        if (libgit2.tree && expected.tree && libgit2.tree != expected.tree) {
            auto myers = git_merge(repo, ours, theirs, {"-s", "recursive", "-X", "diff-algorithm=myers"});
            INFO("libgit2's tree " << *libgit2.tree << ", merge-recursive's " << myers.tree.value_or("(conflicts)"));
            CHECK(libgit2.tree == myers.tree);
            ++aligned_differently;
        } else {
            CHECK(libgit2.tree == expected.tree);
        }
        conflicted += expected.conflicts.empty() ? 0 : 1;
    }
    // The generator must exercise both outcomes and both kinds of history to mean anything.
    CHECK(conflicted > 0);
    CHECK(conflicted < static_cast<int>(cases.size()));
    CHECK(unrelated > 0);
    CHECK(aligned_differently * 10 < static_cast<int>(cases.size()));
}

namespace {

/// A tree of (mode, path, content) entries written straight into the object database, so that
/// modes git would not take from a work tree (symlinks, submodules) are easy to state.
std::string tree_of_entries(const TempRepo& repo, const std::vector<std::array<std::string, 3>>& entries) {
    repo.git({"read-tree", "--empty"});
    for (const auto& [mode, path, content] : entries) {
        std::string id = content;  // a submodule's entry is a commit id
        if (mode != "160000") {
            dataops::testing::RunOptions in;
            in.input = content;
            id = trim(repo.git({"hash-object", "-w", "--stdin"}, in).out);
        }
        repo.git({"update-index", "--add", "--cacheinfo", mode + "," + id + "," + path});
    }
    return trim(repo.git({"write-tree"}).out);
}

}  // namespace

TEST_CASE("tree changes are git's: nested paths, modes, kinds that change, whole directories", "[merge]") {
    TempRepo repo;
    const std::string sub = std::string(40, '1');
    auto before = tree_of_entries(repo, {{{"100644", "keep.txt", "k\n"},
                                          {"100644", "run.sh", "echo\n"},
                                          {"100644", "link", "target\n"},
                                          {"100644", "becomes-dir", "f\n"},
                                          {"100644", "gone/a.txt", "a\n"},
                                          {"100644", "gone/deep/b.txt", "b\n"},
                                          {"100644", "dir/same.txt", "s\n"},
                                          {"100644", "dir/sub/changed.txt", "1\n"},
                                          {"160000", "vendor/lib", sub}}});
    auto after = tree_of_entries(repo, {{{"100644", "keep.txt", "k\n"},
                                         {"100755", "run.sh", "echo\n"},
                                         {"120000", "link", "target"},
                                         {"100644", "becomes-dir/inner.txt", "i\n"},
                                         {"100644", "dir/same.txt", "s\n"},
                                         {"100644", "dir/sub/changed.txt", "2\n"},
                                         {"100644", "new/x/y.txt", "y\n"},
                                         {"160000", "vendor/lib", std::string(40, '2')}}});
    ObjectStore store(repo.path() + "/.git");
    std::vector<std::string> got;
    for (const auto& change : store.diff_trees(before, after)) {
        got.push_back(change.status + " " + change.path);
    }
    // As `git diff-tree -r --no-renames` sees it, with a type change (T) as a removal and an addition.
    const std::vector<std::string> expected = {
        "removed becomes-dir", "added becomes-dir/inner.txt", "modified dir/sub/changed.txt", "removed gone/a.txt",
        "removed gone/deep/b.txt", "removed link", "added link", "added new/x/y.txt", "modified run.sh",
        "modified vendor/lib"};
    CHECK(got == expected);
    const auto raw = repo.git({"diff-tree", "-r", "--no-renames", "--name-status", before, after}).out;
    CHECK(raw == "D\tbecomes-dir\nA\tbecomes-dir/inner.txt\nM\tdir/sub/changed.txt\nD\tgone/a.txt\n"
                 "D\tgone/deep/b.txt\nT\tlink\nA\tnew/x/y.txt\nM\trun.sh\nM\tvendor/lib\n");

    SECTION("from nothing, everything is added") {
        auto all = store.diff_trees(std::nullopt, before);
        REQUIRE(all.size() == 9);
        CHECK(all.front().path == "becomes-dir");
        CHECK(std::all_of(all.begin(), all.end(), [](const auto& c) { return c.status == "added"; }));
    }
    SECTION("a tree against itself has no changes") {
        CHECK(store.diff_trees(after, after).empty());
    }
}

