#include <catch2/catch.hpp>

#include <sys/stat.h>

#include <dataops_version.hpp>

#include "support/temp_repo.hpp"

using dataops::testing::describe;
using dataops::testing::TempRepo;

TEST_CASE("git dataops lists its commands, with and without -h, outside any repository", "[e2e][dispatch]") {
    TempRepo repo;
    for (const auto& args : {std::vector<std::string>{}, std::vector<std::string>{"-h"}}) {
        auto result = repo.dataops(args, dataops::testing::in_dir(repo.home()));
        INFO(describe(result));
        CHECK(result.code == 0);
        CHECK_THAT(result.out, Catch::StartsWith("usage: git dataops <command> [<args>]"));
        CHECK_THAT(result.out, Catch::Contains("   env "));
        CHECK(result.err.empty());
    }
}

TEST_CASE("git dataops --version prints the version", "[e2e][dispatch]") {
    TempRepo repo;
    auto result = repo.dataops({"--version"});
    CHECK(result.code == 0);
    CHECK(result.out == std::string("git-dataops version ") + DATAOPS_VERSION + "\n");
}

TEST_CASE("an unknown command is refused with the nearest suggestion and exit 129", "[e2e][dispatch]") {
    TempRepo repo;
    auto result = repo.dataops({"evn", "list"});
    INFO(describe(result));
    CHECK(result.code == 129);
    CHECK(result.out.empty());
    CHECK_THAT(result.err, Catch::StartsWith("error: 'evn' is not a git-dataops command\n"));
    CHECK_THAT(result.err, Catch::Contains("hint: the most similar command is 'env'"));

    auto far = repo.dataops({"frobnicate"});
    CHECK(far.code == 129);
    CHECK_THAT(far.err, !Catch::Contains("most similar"));

    auto option = repo.dataops({"--frobnicate"});
    CHECK(option.code == 129);
    CHECK_THAT(option.err, Catch::StartsWith("error: unknown option '--frobnicate'"));
}

TEST_CASE("a verb found on PATH gets the arguments, stdin and exit code untouched", "[e2e][dispatch]") {
    TempRepo repo;
    // An extension verb of our own making, reached through PATH like any git-dataops-<verb>.
    const std::string bin = repo.root() + "/bin";
    repo.write("../bin/git-dataops-echo",
               "#!/bin/sh\nprintf '%s|' \"$@\"\necho\ncat\nprintf 'to stderr' >&2\nexit 7\n");
    ::chmod((bin + "/git-dataops-echo").c_str(), 0755);
    dataops::testing::RunOptions opts;
    opts.env["PATH"] = std::string(DATAOPS_TEST_BIN_DIR) + ":" + bin + ":/usr/bin:/bin";
    opts.input = "stdin bytes\n";
    auto result = repo.dataops({"echo", "a b", "--opt=x", "-h"}, opts);
    CHECK(result.code == 7);
    CHECK(result.out == "a b|--opt=x|-h|\nstdin bytes\n");
    CHECK(result.err == "to stderr");
}
