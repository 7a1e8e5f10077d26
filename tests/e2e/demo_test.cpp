// git dataops demo: the story runs end to end on the built binaries and checks itself; these
// tests check the world it leaves behind and that a broken installation makes it fail.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>

#include "support/temp_repo.hpp"

using dataops::testing::describe;
using dataops::testing::in_dir;
using dataops::testing::RunOptions;
using dataops::testing::TempRepo;

namespace fs = std::filesystem;

namespace {

std::string show(const TempRepo& repo, const std::string& bare, const std::string& what) {
    return repo.git({"--git-dir=" + bare, "show", what}).out;
}

std::string message(const TempRepo& repo, const std::string& bare) {
    return repo.git({"--git-dir=" + bare, "log", "-1", "--format=%B", "main"}).out;
}

}  // namespace

TEST_CASE("the demo tells the whole story and leaves the pipeline it describes with --keep", "[e2e][demo]") {
    TempRepo repo;
    const std::string world = repo.root() + "/world";
    auto result = repo.dataops({"demo", "--keep", world}, in_dir(repo.root()));
    INFO(describe(result));
    REQUIRE(result.code == 0);
    const std::string& out = result.out;

    // Every act, in order, each command followed by its real output.
    const std::vector<std::string> story = {
        "$ git dataops init\n",
        "$ git dataops hooks install\ninstalled the pre-push hook",
        "$ git dataops env show dev\nenvironment: dev\n",
        "$ git dataops env show prod\nenvironment: prod\n",
        "+      job_poll_interval_ms: 5000",
        "$ git push dev main\ngit-dataops: checking meltano.yml",
        "$ git dataops promote staging --dry-run\npromote dev → staging (merge)",
        "job_poll_interval_ms  2000  ->  5000",
        "promoted 'dev' into 'staging'",
        "promoted 'staging' into 'prod'",
        "$ git dataops status\n",
        "$ git push prod hotfix:main\n",
        "error: environment 'prod' configures extractor 'tap-authzero', which is not defined [unknown-plugin]",
        "git-dataops: push blocked",
        "$ git push dev main\n",
        "warning: environment 'prod' configures extractor 'tap-authzero'",
        "$ git dataops promote prod\n",
        "error: cannot promote 'staging' into 'prod': the result does not validate",
        "demo: all 25 steps behaved as expected",
    };
    std::size_t at = 0;
    for (const auto& fragment : story) {
        INFO("next in the story: " << fragment);
        at = out.find(fragment, at);
        REQUIRE(at != std::string::npos);
    }
    CHECK(result.err.empty());

    // The world: three workspaces, the clone, and the refused typo nowhere near prod.
    for (const char* stage : {"dev", "staging", "prod"}) {
        CHECK(fs::is_directory(world + "/" + stage + ".git"));
    }
    const std::string prod = world + "/prod.git";
    const std::string staging = world + "/staging.git";
    CHECK_THAT(show(repo, staging, "main:meltano.yml"), Catch::Contains("name: tap-authzero"));
    CHECK_THAT(show(repo, prod, "main:meltano.yml"), Catch::Contains("job_poll_interval_ms: 5000"));
    CHECK_THAT(show(repo, prod, "main:meltano.yml"), !Catch::Contains("tap-authzero"));
    CHECK_THAT(message(repo, prod), Catch::Contains("Dataops-Target: prod"));
    // The user's clone is kept with its hook and pipeline.
    CHECK(fs::exists(world + "/workspace/.git/hooks/pre-push"));
}

TEST_CASE("the demo cleans up after itself unless --keep", "[e2e][demo]") {
    TempRepo repo;
    const std::string tmp = repo.root() + "/tmp";
    fs::create_directories(tmp);
    RunOptions options = in_dir(repo.root());
    options.env["TMPDIR"] = tmp;
    auto result = repo.dataops({"demo"}, options);
    INFO(describe(result));
    CHECK(result.code == 0);
    CHECK_THAT(result.out, Catch::Contains("the pipeline was removed"));
    CHECK(fs::is_empty(tmp));

    // A directory of the user's that is not empty is refused, untouched.
    const std::string mine = repo.root() + "/mine";
    fs::create_directories(mine);
    std::ofstream(mine + "/precious.txt") << "keep me\n";
    auto refused = repo.dataops({"demo", mine}, in_dir(repo.root()));
    INFO(describe(refused));
    CHECK(refused.code == 128);
    CHECK_THAT(refused.err, Catch::StartsWith("fatal: cannot build the demo in '"));
    CHECK(fs::exists(mine + "/precious.txt"));
}

TEST_CASE("the demo fails when the installation does not do its job", "[e2e][demo]") {
    // An installation whose hook command accepts everything: the push to prod is not blocked.
    TempRepo repo;
    const std::string bin = repo.root() + "/bin";
    fs::create_directories(bin);
    for (const auto& entry : fs::directory_iterator(DATAOPS_TEST_BIN_DIR)) {
        fs::copy_file(entry.path(), bin + "/" + entry.path().filename().string());
    }
    fs::remove(bin + "/git-dataops-hooks");
    std::ofstream(bin + "/git-dataops-hooks") << "#!/bin/sh\nexit 0\n";
    fs::permissions(bin + "/git-dataops-hooks", fs::perms::owner_all);

    auto result = repo.run({bin + "/git-dataops-demo"}, in_dir(repo.root()));
    INFO(describe(result));
    CHECK(result.code == 1);
    CHECK_THAT(result.err, Catch::Contains("error: demo step 'git push dev main' did not behave as "
                                           "expected: its output does not mention"));
    CHECK_THAT(result.out, !Catch::Contains("demo: all"));
}

TEST_CASE("git dataops demo -h prints its usage", "[e2e][demo]") {
    TempRepo repo;
    auto result = repo.dataops({"demo", "-h"});
    CHECK(result.code == 0);
    CHECK_THAT(result.out, Catch::StartsWith("usage: git dataops demo [--keep] [<dir>]"));
    auto bad = repo.dataops({"demo", "--frobnicate"});
    CHECK(bad.code == 129);
}
