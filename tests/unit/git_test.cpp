#include <catch2/catch.hpp>

#include <unistd.h>

#include <dataops/git/config.hpp>
#include <dataops/git/file_source.hpp>
#include <dataops/git/repository.hpp>
#include <dataops/git/revision_source.hpp>
#include <dataops/util/error.hpp>

#include "support/temp_repo.hpp"

using namespace dataops;
using dataops::testing::TempRepo;

TEST_CASE("repository-relative paths are normalised and confined", "[git]") {
    CHECK(git::normalize_relative("a/./b/../c") == "a/c");
    CHECK(git::normalize_relative("./meltano.yml") == "meltano.yml");
    CHECK(git::normalize_relative("a//b/") == "a/b");
    CHECK(git::normalize_relative("") == "");
    CHECK_FALSE(git::normalize_relative("../x").has_value());
    CHECK_FALSE(git::normalize_relative("a/../../x").has_value());
    CHECK_FALSE(git::normalize_relative("/etc/passwd").has_value());
    CHECK(git::join_path("", "a") == "a");
    CHECK(git::join_path("a", "b") == "a/b");
    CHECK(git::path_within("proj/x.yml", "proj"));
    CHECK(git::path_within("proj", "proj"));
    CHECK_FALSE(git::path_within("project/x.yml", "proj"));
    CHECK(git::path_within("anything", ""));
}

TEST_CASE("git config -z --list output is parsed with git's key rules", "[git]") {
    std::string text = std::string("core.bare\nfalse") + '\0' + "Dataops.Staging.Remote\norigin" + '\0' +
                       "dataops.flag" + '\0' + "remote.origin.url\n/a" + '\0' + "remote.origin.url\n/b" +
                       '\0' + "dataops.multi\nline1\nline2" + '\0';
    auto config = git::Config::parse_z_list(text);
    CHECK(config.get("core.bare") == "false");
    CHECK(config.get_bool("core.bare") == false);
    // Section and name are case-insensitive, the subsection keeps its case.
    CHECK(config.get("DATAOPS.Staging.REMOTE") == "origin");
    CHECK_FALSE(config.get("dataops.staging.remote").has_value());
    CHECK(config.get_bool("dataops.flag") == true);  // a key without a value is true
    CHECK(config.get("remote.origin.url") == "/b");  // the last one wins
    CHECK(config.get_all("remote.origin.url") == std::vector<std::string>{"/a", "/b"});
    CHECK(config.get("dataops.multi") == "line1\nline2");
    CHECK(config.subsections("remote") == std::vector<std::string>{"origin"});
    CHECK(config.subsections("dataops") == std::vector<std::string>{"Staging"});
    CHECK_FALSE(config.get("no.such").has_value());
    auto bad = git::Config::parse_z_list(std::string("a.b\nmaybe") + '\0');
    CHECK_THROWS_WITH(bad.get_bool("a.b"), "bad boolean config value 'maybe' for 'a.b'");
    CHECK_THROWS_AS(git::Config::parse_z_list("a.b\nunterminated"), Error);
}

TEST_CASE("a repository is discovered as git discovers it", "[git]") {
    TempRepo repo;
    repo.commit("initial", {{"sub/dir/file.txt", "x"}});
    repo.git({"config", "dataops.project", "sub"});

    SECTION("from a subdirectory of the work tree") {
        auto found = git::Repository::discover(repo.path() + "/sub/dir");
        CHECK(found.location().work_tree == repo.path());
        CHECK(found.location().git_dir == repo.path() + "/.git");
        CHECK(found.location().prefix == "sub/dir");
        CHECK_FALSE(found.location().bare);
        CHECK(found.config().get("dataops.project") == "sub");
    }
    SECTION("a bare repository has no work tree") {
        auto bare = repo.bare("remote");
        auto found = git::Repository::discover(bare);
        CHECK(found.location().bare);
        CHECK_FALSE(found.location().work_tree.has_value());
        CHECK_THROWS_WITH(found.worktree(), Catch::Contains("must be run in a work tree"));
    }
    SECTION("outside any repository git's own words are reported") {
        auto outside = repo.root() + "/home";
        ::setenv("GIT_CEILING_DIRECTORIES", repo.root().c_str(), 1);
        CHECK_THROWS_WITH(git::Repository::discover(outside), Catch::Contains("not a git repository"));
        ::unsetenv("GIT_CEILING_DIRECTORIES");
    }
}

TEST_CASE("files are read the same way from the working tree and from a revision", "[git]") {
    TempRepo repo;
    repo.write("outside.txt", "secret");
    auto first = repo.commit("first", {{"proj/meltano.yml", "version: 1\n"},
                                       {"proj/inc/a.yml", "a: 1\n"},
                                       {"README", "readme\n"}});
    REQUIRE(::symlink("a.yml", (repo.path() + "/proj/inc/link.yml").c_str()) == 0);
    REQUIRE(::symlink("../../README", (repo.path() + "/proj/inc/up.yml").c_str()) == 0);
    REQUIRE(::symlink("/etc/passwd", (repo.path() + "/proj/inc/abs.yml").c_str()) == 0);
    REQUIRE(::symlink("inc", (repo.path() + "/proj/dirlink").c_str()) == 0);
    repo.commit("second", {{"proj/meltano.yml", "version: 2\n"}});
    repo.write("proj/meltano.yml", "version: uncommitted\n");

    auto worktree = git::make_worktree_source(repo.path());
    auto head = git::make_revision_source("HEAD", repo.path() + "/.git");
    auto old = git::make_revision_source(first, repo.path() + "/.git");

    using Status = git::ReadResult::Status;
    SECTION("the working tree includes uncommitted edits, revisions do not") {
        CHECK(worktree->read("proj/meltano.yml").data == "version: uncommitted\n");
        CHECK(head->read("proj/meltano.yml").data == "version: 2\n");
        CHECK(old->read("proj/meltano.yml").data == "version: 1\n");
        CHECK(old->commit() == first);
        CHECK(head->describe().size() == 7);
        CHECK(worktree->describe() == "the working tree");
    }
    for (const git::FileSource* source : {worktree.get(), head.get()}) {
        CAPTURE(source->describe());
        SECTION("kinds and listings") {
            CHECK(source->kind("proj") == git::EntryKind::directory);
            CHECK(source->kind("proj/meltano.yml") == git::EntryKind::file);
            CHECK(source->kind("proj/inc/link.yml") == git::EntryKind::symlink);
            CHECK(source->kind("proj/nope") == git::EntryKind::missing);
            auto entries = source->list("proj/inc");
            REQUIRE(entries.size() == 4);
            CHECK(entries[0].name == "a.yml");
            CHECK(entries[1].name == "abs.yml");
            CHECK(source->list("proj/meltano.yml").empty());
        }
        SECTION("symlinks are followed inside the confining directory only") {
            auto inside = source->read("proj/inc/link.yml", "proj");
            CHECK(inside.status == Status::ok);
            CHECK(inside.data == "a: 1\n");
            CHECK(inside.resolved_path == "proj/inc/a.yml");
            CHECK(source->read("proj/dirlink/a.yml", "proj").status == Status::ok);
            CHECK(source->read("proj/inc/up.yml", "proj").status == Status::outside);
            CHECK(source->read("proj/inc/up.yml", "").status == Status::ok);
            CHECK(source->read("proj/inc/abs.yml", "proj").status == Status::outside);
            CHECK(source->read("proj/../README", "proj").status == Status::outside);
            CHECK(source->read("../outside.txt", "").status == Status::outside);
        }
        SECTION("missing files and directories are told apart") {
            CHECK(source->read("proj/missing.yml").status == Status::missing);
            CHECK(source->read("proj/inc").status == Status::not_a_file);
            CHECK(source->read("proj/meltano.yml/x").status == Status::missing);
        }
    }
}

TEST_CASE("a revision that names no commit is a clear error", "[git]") {
    TempRepo repo;
    repo.commit("first", {{"a", "1"}});
    CHECK_THROWS_WITH(git::make_revision_source("no-such-branch", repo.path() + "/.git"),
                      "bad revision 'no-such-branch'");
    CHECK_THROWS_WITH(git::make_revision_source("--output=x", repo.path() + "/.git"),
                      "bad revision '--output=x'");
    auto tree = repo.git({"rev-parse", "HEAD^{tree}"}).out.substr(0, 40);
    auto by_tree = git::make_revision_source(tree, repo.path() + "/.git");
    CHECK_FALSE(by_tree->commit().has_value());
    CHECK(by_tree->read("a").data == "1");
}

TEST_CASE("a started revision source reports a bad revision on first use", "[git]") {
    TempRepo repo;
    repo.commit("first", {{"a", "1"}});
    auto bad = git::start_revision_source("no-such-branch", repo.path() + "/.git");
    CHECK_THROWS_WITH(bad->commit(), "bad revision 'no-such-branch'");
    auto good = git::start_revision_source("HEAD", repo.path() + "/.git");
    CHECK(good->read("a").data == "1");
    CHECK(good->commit()->size() == 40);
    CHECK_THROWS_WITH(git::start_revision_source("-x", repo.path() + "/.git"), "bad revision '-x'");
}

TEST_CASE("a reader tells what a name is, objects and references written after it started too", "[git]") {
    TempRepo repo;
    auto first = repo.commit("first", {{"a", "1"}});
    auto reader = git::make_object_reader(repo.path() + "/.git");
    auto head = git::object_info(*reader, "HEAD");
    REQUIRE(head);
    CHECK(head->id == first);
    CHECK(head->type == "commit");
    CHECK_FALSE(git::object_info(*reader, "refs/later/tip^{commit}"));
    // What a promotion does while the reader runs: a fetch moves a reference, a commit is written.
    auto second = repo.commit("second", {{"a", "2"}});
    repo.git({"update-ref", "refs/later/tip", second});
    auto later = git::object_info(*reader, "refs/later/tip^{commit}");
    REQUIRE(later);
    CHECK(later->id == second);
    auto tree = git::object_info(*reader, second + "^{tree}");
    REQUIRE(tree);
    CHECK(tree->type == "tree");
    CHECK_FALSE(git::object_info(*reader, std::string(40, '0')));
    CHECK_THROWS_WITH(git::object_info(*reader, "-x"), "bad revision '-x'");
}

TEST_CASE("revision sources can share one reader, interleaved and after a bad revision", "[git]") {
    TempRepo repo;
    auto first = repo.commit("first", {{"a", "1"}, {"dir/b", "b1"}});
    repo.commit("second", {{"a", "2"}});
    auto reader = git::make_object_reader(repo.path() + "/.git");
    auto head = git::make_revision_source("HEAD", reader);
    CHECK_THROWS_WITH(git::make_revision_source("no-such-branch", reader), "bad revision 'no-such-branch'");
    CHECK_THROWS_WITH(git::make_revision_source("-x", reader), "bad revision '-x'");
    auto old = git::make_revision_source(first, reader);
    // Reads of one source between reads of the other each get their own answers.
    CHECK(head->read("a").data == "2");
    CHECK(old->read("a").data == "1");
    CHECK(head->read("dir/b").data == "b1");
    CHECK(old->commit() == first);
    CHECK(head->commit() != first);
    reader.reset();  // the sources keep the reader alive
    CHECK(old->read("dir/b").data == "b1");
}
