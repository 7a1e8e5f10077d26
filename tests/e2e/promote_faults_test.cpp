// Faults during promotion, with real bare repositories: a target that says no, a concurrent push,
// a remote that goes away, a process killed at each step, two promotions at once, a write that
// fails. After each: the target is untouched or fully promoted, the user's clone is intact, and
// the promotion runs again.
#include <catch2/catch.hpp>

#include <signal.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <string>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "support/temp_repo.hpp"
#include "support/workspaces.hpp"

using dataops::testing::Background;
using dataops::testing::describe;
using dataops::testing::slurp;
using dataops::testing::trim;
using dataops::testing::wait_for_pause;
using dataops::testing::wait_until;
using dataops::testing::Workspaces;

namespace {

/// Staging has drifted (a hotfix) and dev has new work: the promotion has a real merge to do.
struct Scene {
    Workspaces w;
    std::string before;     ///< staging's tip
    std::string expected;   ///< the tree the seed's recipe gives
    std::string state;      ///< the user's clone: working tree, index, HEAD, branches
    std::string refs;       ///< every ref of the clone but the private fetch namespace
    std::string refs_but_staging;  ///< and but staging's remote-tracking branches

    Scene() {
        w.change(w.clone("staging"), "staging hotfix", {{"hotfix.md", "staging only\n"}});
        w.change(w.dev_work, "dev work", {{"transform/models/users.sql", "select 1\n"}});
        before = w.tip("staging");
        expected = w.recipe_tree("dev", "staging");
        state = w.user_state();
        refs = w.refs_state();
        refs_but_staging = w.refs_state("staging");
    }

    std::string staging(const std::string& rev) const {
        return trim(w.repo.git({"--git-dir=" + w.bare_of("staging"), "rev-parse", rev}).out);
    }

    /// The clone is as the user left it: fsck clean, same working tree, index, HEAD and refs.
    void check_clone_intact() const {
        w.check_fsck();
        CHECK(w.user_state() == state);
        CHECK(w.refs_state() == refs);
    }

    /// Staging is the promotion of dev on top of `base`: the recipe's tree, both histories
    /// joined, and it validates for its environment.
    void check_promoted(const std::string& base) const {
        CHECK(staging("main^{tree}") == expected);
        CHECK(staging("main^1") == base);
        CHECK(staging("main^2") == w.tip("dev"));
        auto status = w.repo.dataops({"status", "--format", "json"});
        INFO(describe(status));
        REQUIRE(status.code == 0);
        CHECK(nlohmann::json::parse(status.out)["stages"][1]["valid"] == true);
    }

    /// Running the promotion again finishes the job.
    void check_runs_again() const {
        auto again = w.promote({"staging", "--yes"});
        INFO(describe(again));
        CHECK(again.code == 0);
        check_promoted(before);
    }

    std::string lock_file() const { return w.repo.path() + "/.git/dataops-promote.lock"; }
};

void write_hook(const std::string& path, const std::string& body) {
    std::ofstream(path) << "#!/bin/sh\n" << body;
    ::chmod(path.c_str(), 0755);
}

}  // namespace

TEST_CASE("a promotion killed at any step leaves the target untouched and runs again", "[e2e][faults]") {
    const std::string step = GENERATE("after-fetch", "after-merge", "after-commit");
    INFO("killed " << step);
    Scene scene;
    auto paused = Background::paused_at(scene.w.repo, step, {"promote", "staging", "--yes"});
    auto killed = paused->kill();
    INFO(describe(killed));
    CHECK(killed.code != 0);
    CHECK(scene.w.tip("staging") == scene.before);
    scene.check_clone_intact();
    // The kernel dropped the lock with the process: nothing stale blocks the next promotion.
    scene.check_runs_again();
}

TEST_CASE("a promotion killed while git push runs leaves the target untouched or fully promoted",
          "[e2e][faults]") {
    Scene scene;
    auto& w = scene.w;
    // The server's hook stops itself, holding the push half-way; the test then kills promote.
    const std::string hook = w.bare_of("staging") + "/hooks/pre-receive";
    const std::string marker = w.repo.root() + "/hook-paused";
    write_hook(hook, "cat >/dev/null\necho $$ >'" + marker + ".partial' && mv '" + marker + ".partial' '" + marker +
                         "'\nkill -STOP $$\n");
    Background run(w.repo, {"git", "dataops", "promote", "staging", "--yes"});
    const pid_t hook_pid = wait_for_pause(marker, run.pid());
    run.guard(hook_pid);
    // The promotion holds its lock while it pushes; the lock file names its process.
    const pid_t promote_pid = static_cast<pid_t>(std::stol(slurp(scene.lock_file())));
    REQUIRE(promote_pid > 0);
    ::kill(promote_pid, SIGKILL);
    auto killed = run.wait();
    INFO(describe(killed));
    CHECK(killed.code != 0);
    std::filesystem::remove(hook);

    SECTION("the push completes without it: the target is fully promoted") {
        ::kill(hook_pid, SIGCONT);
        wait_until("the orphaned push to land", [&] { return w.tip("staging") != scene.before; });
        scene.check_promoted(scene.before);
        w.check_fsck();
        CHECK(w.user_state() == scene.state);
        CHECK(w.refs_state("staging") == scene.refs_but_staging);
        auto again = w.promote({"staging", "--yes"});
        INFO(describe(again));
        CHECK(again.code == 0);
        CHECK(again.out == "staging is up to date with dev\n");
    }
    SECTION("the push dies with it: the target is untouched") {
        ::kill(hook_pid, SIGKILL);
        CHECK(w.tip("staging") == scene.before);
        scene.check_clone_intact();
        scene.check_runs_again();
    }
}

TEST_CASE("two promotions started at once from one clone: the second is refused", "[e2e][faults]") {
    Scene scene;
    auto first = Background::paused_at(scene.w.repo, "after-merge", {"promote", "staging", "--yes"});
    auto second = scene.w.promote({"staging", "--yes"});
    INFO(describe(second));
    CHECK(second.code == 128);
    CHECK_THAT(second.err, Catch::Contains("fatal: another promotion is running from this clone"));
    CHECK_THAT(second.err, Catch::Contains(fmt::format("hint: wait for it to finish (process {})",
                                                       first->paused_pid())));
    CHECK(scene.w.tip("staging") == scene.before);
    auto done = first->resume();
    INFO(describe(done));
    CHECK(done.code == 0);
    scene.check_promoted(scene.before);
    CHECK(scene.w.user_state() == scene.state);
    // Once the first is done, the lock is free again.
    auto third = scene.w.promote({"staging", "--yes"});
    INFO(describe(third));
    CHECK(third.code == 0);
    CHECK(third.out == "staging is up to date with dev\n");
}

TEST_CASE("a concurrent push that gets there first: promote redoes the promotion on the new tip",
          "[e2e][faults]") {
    Scene scene;
    auto& w = scene.w;
    auto paused = Background::paused_at(w.repo, "after-commit", {"promote", "staging", "--yes"});
    // Someone else pushes to staging while the promotion commit is written but not pushed.
    w.change(w.clone("staging"), "another hotfix", {{"hotfix2.md", "also staging\n"}});
    const auto theirs = w.tip("staging");
    auto result = paused->resume();
    INFO(describe(result));
    CHECK(result.code == 0);
    CHECK_THAT(result.err, Catch::Contains("'main' on remote 'staging' moved while promoting; promoting again"));
    // Their commit is kept: the promotion is redone on top of it.
    CHECK(scene.staging("main^1") == theirs);
    CHECK(scene.staging("main^2") == w.tip("dev"));
    CHECK(scene.staging("main:hotfix2.md").size() == 40);
    CHECK(scene.staging("main:transform/models/users.sql").size() == 40);
    w.check_fsck();
    CHECK(w.user_state() == scene.state);
}

TEST_CASE("a target that keeps moving: refused after one redo, nothing lost", "[e2e][faults]") {
    Scene scene;
    auto& w = scene.w;
    // Every push finds that someone else pushed first: the hook plays that person each time.
    const std::string hook = w.bare_of("staging") + "/hooks/pre-receive";
    write_hook(hook, "read old new ref\n"
                     "unset GIT_QUARANTINE_PATH GIT_OBJECT_DIRECTORY GIT_ALTERNATE_OBJECT_DIRECTORIES\n"
                     "c=$(echo 'someone else' | git commit-tree \"$old^{tree}\" -p \"$old\")\n"
                     "git update-ref \"$ref\" \"$c\" \"$old\"\n");
    auto result = w.promote({"staging", "--yes", "--format", "json"});
    INFO(describe(result));
    CHECK(result.code == 1);
    CHECK_THAT(result.err, Catch::Contains("moved while promoting; promoting again"));
    CHECK_THAT(result.err, Catch::Contains("error: remote 'staging' rejected the promotion of 'main'; nothing "
                                           "changed there"));
    CHECK_THAT(result.err, Catch::Contains("hint: 'main' keeps moving on remote 'staging': run the promotion "
                                           "again later"));
    CHECK(nlohmann::json::parse(result.out)["pushed"] == false);
    // The other person's two commits are there, on top of the old tip: nothing was lost.
    CHECK(scene.staging("main~2") == scene.before);
    CHECK(scene.staging("main^{tree}") == scene.staging(scene.before + "^{tree}"));
    scene.check_clone_intact();
    std::filesystem::remove(hook);
    const auto theirs = w.tip("staging");
    auto again = w.promote({"staging", "--yes"});
    INFO(describe(again));
    CHECK(again.code == 0);
    CHECK(scene.staging("main^1") == theirs);
    CHECK(scene.staging("main^2") == w.tip("dev"));
}

TEST_CASE("a target whose hook says no refuses promotion and rollback alike", "[e2e][faults]") {
    Scene scene;
    auto& w = scene.w;
    const std::string hook = w.bare_of("staging") + "/hooks/pre-receive";
    write_hook(hook, "echo 'staging is frozen' >&2\nexit 1\n");
    auto refused = w.promote({"staging", "--yes"});
    INFO(describe(refused));
    CHECK(refused.code == 1);
    CHECK_THAT(refused.err, Catch::Contains("error: remote 'staging' rejected the promotion of 'main'; nothing "
                                            "changed there\nhint: "));
    CHECK_THAT(refused.err, Catch::Contains("hint: remote: staging is frozen"));
    CHECK(w.tip("staging") == scene.before);
    scene.check_clone_intact();
    std::filesystem::remove(hook);
    scene.check_runs_again();

    SECTION("a rollback the remote refuses is a refusal too (exit 1), not a fatal error") {
        write_hook(hook, "echo 'staging is frozen' >&2\nexit 1\n");
        const auto promoted = w.tip("staging");
        auto rollback = w.repo.dataops({"rollback", "staging", "--yes"});
        INFO(describe(rollback));
        CHECK(rollback.code == 1);
        CHECK_THAT(rollback.err, Catch::Contains("error: remote 'staging' rejected the rollback of 'main'; nothing "
                                                 "changed there\nhint: "));
        CHECK_THAT(rollback.err, Catch::Contains("hint: remote: staging is frozen"));
        CHECK(rollback.err.find("fatal:") == std::string::npos);
        CHECK(w.tip("staging") == promoted);
        auto json = w.repo.dataops({"rollback", "staging", "--yes", "--format", "json"});
        INFO(describe(json));
        CHECK(json.code == 1);
        CHECK(nlohmann::json::parse(json.out)["pushed"] == false);
        std::filesystem::remove(hook);
        auto again = w.repo.dataops({"rollback", "staging", "--yes"});
        INFO(describe(again));
        CHECK(again.code == 0);
        CHECK(scene.staging("main^{tree}") == scene.staging(scene.before + "^{tree}"));
    }
}

TEST_CASE("a remote that disappears between fetch and push stops the promotion", "[e2e][faults]") {
    Scene scene;
    auto& w = scene.w;
    auto paused = Background::paused_at(w.repo, "after-merge", {"promote", "staging", "--yes"});
    const std::string gone = w.repo.root() + "/staging-moved-away.git";
    std::filesystem::rename(w.bare_of("staging"), gone);
    auto result = paused->resume();
    INFO(describe(result));
    CHECK(result.code == 128);
    CHECK_THAT(result.err, Catch::Contains("fatal: cannot push the promotion to 'main' on remote 'staging'"));
    CHECK_THAT(result.err, Catch::Contains("does not appear to be a git repository"));
    std::filesystem::rename(gone, w.bare_of("staging"));
    CHECK(w.tip("staging") == scene.before);
    scene.check_clone_intact();
    scene.check_runs_again();
}

TEST_CASE("a failure writing the promotion commit (the file size limit) leaves everything as it was",
          "[e2e][faults]") {
    Scene scene;
    auto& w = scene.w;
    // Fetch and merge once so the real run has only the commit object left to write.
    REQUIRE(w.promote({"staging", "--dry-run"}).code == 0);
    // A subject that does not compress makes the commit object larger than the 512-byte limit;
    // with SIGXFSZ ignored the write fails with EFBIG, as it would with ENOSPC.
    std::string subject;
    unsigned state = 12345;
    for (int i = 0; i < 3000; ++i) {
        state = state * 1103515245u + 12345u;
        subject += "abcdefghijklmnopqrstuvwxyz0123456789"[(state >> 16) % 36];
    }
    auto result = w.repo.run({"sh", "-c", "trap '' XFSZ; ulimit -f 1; exec git dataops promote staging --yes -m \"$1\"",
                              "sh", subject});
    INFO(describe(result));
    CHECK(result.code == 128);
    CHECK_THAT(result.err, Catch::Contains("fatal: cannot write "));
    CHECK(result.err.find("rejected") == std::string::npos);
    CHECK(w.tip("staging") == scene.before);
    scene.check_clone_intact();
    scene.check_runs_again();
}
