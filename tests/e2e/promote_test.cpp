#include <catch2/catch.hpp>

#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <string>

#include <nlohmann/json.hpp>

#include "support/fixtures.hpp"
#include "support/temp_repo.hpp"
#include "support/workspaces.hpp"

using dataops::testing::describe;
using dataops::testing::in_dir;
using dataops::testing::kSeedProject;
using dataops::testing::RunOptions;
using dataops::testing::RunResult;
using dataops::testing::replaced;
using dataops::testing::TempRepo;
using dataops::testing::trim;
using dataops::testing::Workspaces;

namespace {

/// Work in dev as the seed describes it: new configuration for every environment, a new file.
std::string dev_project() {
    auto text = replaced(kSeedProject, "domain: matatika-staging.eu.auth0.com",
                         "domain: matatika-dev.eu.auth0.com\n      start_date: '2024-01-01'");
    return replaced(text, "client_id: 4Zd5QXqHKNoKq4ySx8CP1UBm5eIUgh7t", "client_id: NEWSTAGINGCLIENTID");
}

}  // namespace

TEST_CASE("promote takes dev to staging and staging to prod as the seed's recipe does", "[e2e][promote]") {
    Workspaces w;
    // Each workspace has drifted on its own too (a hotfix in staging), so the merge has work to do.
    w.change(w.clone("staging"), "staging hotfix", {{"hotfix.md", "staging only\n"}});
    w.change(w.dev_work, "dev work", {{"meltano.yml", dev_project()}, {"transform/models/users.sql", "select 1\n"}});
    const auto state = w.user_state();

    const auto dev_tracking = w.repo.git({"rev-parse", "refs/remotes/dev/main"}).out;
    auto expected_staging = w.recipe_tree("dev", "staging");
    auto staging_before = w.tip("staging");
    auto promoted = w.promote({"staging", "--yes"});
    INFO(describe(promoted));
    REQUIRE(promoted.code == 0);
    CHECK(w.tree("staging") == expected_staging);
    CHECK_THAT(promoted.out, Catch::Contains("promote dev → staging (merge)"));
    CHECK_THAT(promoted.out, Catch::Contains("added    transform/models/users.sql"));
    CHECK_THAT(promoted.out, Catch::Contains("NEWSTAGINGCLIENTID"));
    CHECK_THAT(promoted.out, Catch::Contains("4Zd5QXqHKNoKq4ySx8CP1UBm5eIUgh7t"));
    CHECK_THAT(promoted.err, Catch::Contains("promoted 'dev' into 'staging'"));

    // The commit joins both histories and says where it came from.
    const auto tip = w.tip("staging");
    auto git_dir = "--git-dir=" + w.bare_of("staging");
    CHECK(trim(w.repo.git({git_dir, "rev-parse", "main^1"}).out) == staging_before);
    CHECK(trim(w.repo.git({git_dir, "rev-parse", "main^2"}).out) == w.tip("dev"));
    auto message = w.repo.git({git_dir, "log", "-1", "--format=%B%n%an <%ae>"}).out;
    CHECK_THAT(message, Catch::StartsWith("promote dev → staging\n"));
    CHECK_THAT(message, Catch::Contains("Dataops-Source: dev " + w.tip("dev")));
    CHECK_THAT(message, Catch::Contains("Dataops-Target: staging\nDataops-Environment: staging\nDataops-Mode: merge\n"
                                        "Dataops-Version: "));
    CHECK_THAT(message, Catch::Contains("A U Thor <author@example.com>"));
    CHECK(w.user_state() == state);
    // Fetching went to refs/dataops/fetch/ only: the user's remote-tracking branches stay as they were.
    CHECK(w.repo.git({"rev-parse", "refs/remotes/dev/main"}).out == dev_tracking);
    CHECK(trim(w.repo.git({"rev-parse", "refs/dataops/fetch/dev"}).out) == w.tip("dev"));

    SECTION("then staging to prod") {
        auto expected_prod = w.recipe_tree("staging", "prod");
        auto to_prod = w.promote({"prod", "--yes", "--format", "json"});
        INFO(describe(to_prod));
        REQUIRE(to_prod.code == 0);
        CHECK(w.tree("prod") == expected_prod);
        auto json = nlohmann::json::parse(to_prod.out);
        CHECK(json["source"]["stage"] == "staging");
        CHECK(json["source"]["commit"] == tip);
        CHECK(json["target"]["stage"] == "prod");
        CHECK(json["mode"] == "merge");
        CHECK(json["commit"] == w.tip("prod"));
        CHECK(json["tree"] == expected_prod);
        CHECK(json["pushed"] == true);
        CHECK(json["conflicts"].empty());
        CHECK_FALSE(json["changes"].empty());
        CHECK(w.user_state() == state);
    }
    SECTION("nothing to promote the second time") {
        auto again = w.promote({"staging", "--detailed-exitcode"});
        INFO(describe(again));
        CHECK(again.code == 0);
        CHECK(again.out == "staging is up to date with dev\n");
        CHECK(w.tip("staging") == tip);
    }
    SECTION("--dry-run shows the plan and moves nothing") {
        w.change(w.dev_work, "more dev work", {{"transform/models/orders.sql", "select 2\n"}});
        auto dry = w.promote({"staging", "--dry-run", "--detailed-exitcode"});
        INFO(describe(dry));
        CHECK(dry.code == 2);
        CHECK_THAT(dry.out, Catch::Contains("added    transform/models/orders.sql"));
        CHECK(w.tip("staging") == tip);
        CHECK(w.user_state() == state);
    }
    SECTION("--mode mirror makes the target's files exactly the source's") {
        auto mirror = w.promote({"staging", "--mode", "mirror", "--yes"});
        INFO(describe(mirror));
        // staging's hotfix.md is not in dev: mirroring removes it.
        CHECK(mirror.code == 0);
        CHECK_THAT(mirror.out, Catch::Contains("removed  hotfix.md"));
        CHECK(w.tree("staging") == w.tree("dev"));
        CHECK(trim(w.repo.git({git_dir, "rev-parse", "main^1"}).out) == tip);
    }
}

TEST_CASE("promote shows git's progress on a terminal and stays quiet when piped", "[e2e][promote]") {
    Workspaces w;
    w.change(w.dev_work, "a change", {{"notes/one.txt", "one\n"}});
    auto piped = w.promote({"staging", "--yes"});
    INFO(describe(piped));
    REQUIRE(piped.code == 0);
    CHECK_THAT(piped.err, !Catch::Contains("Writing objects"));
    CHECK_THAT(piped.err, !Catch::Contains(" -> main"));

    // A terminal (util-linux script): git's own push report comes through as git prints it.
    w.change(w.dev_work, "another change", {{"notes/two.txt", "two\n"}});
    auto terminal = w.repo.run({"script", "-qec", "git dataops promote staging --yes", "/dev/null"});
    INFO(describe(terminal));
    CHECK(terminal.code == 0);
    CHECK_THAT(terminal.out, Catch::Contains("Writing objects"));
    CHECK_THAT(terminal.out, Catch::Contains(" -> main"));
    CHECK_THAT(terminal.out, Catch::Contains("promoted 'dev' into 'staging'"));
    CHECK(w.tree("staging") == w.tree("dev"));
}

TEST_CASE("promote refuses a result that does not resolve for the target environment", "[e2e][promote]") {
    Workspaces w;
    auto bad_prod = replaced(kSeedProject, "- name: prod\n  config:\n    plugins:\n      extractors:\n      - name: tap-auth0",
                             "- name: prod\n  config:\n    plugins:\n      extractors:\n      - name: tap-authzero");
    w.change(w.dev_work, "typo in prod", {{"meltano.yml", bad_prod}});
    auto to_staging = w.promote({"staging", "--yes"});
    INFO(describe(to_staging));
    REQUIRE(to_staging.code == 0);

    const auto prod_before = w.tip("prod");
    auto to_prod = w.promote({"prod", "--yes", "--detailed-exitcode"});
    INFO(describe(to_prod));
    CHECK(to_prod.code == 1);
    CHECK_THAT(to_prod.err, Catch::Contains("tap-authzero"));
    CHECK_THAT(to_prod.err, Catch::Contains("[unknown-plugin]"));
    CHECK_THAT(to_prod.err, Catch::Contains("does not validate for environment 'prod'; nothing was pushed"));
    CHECK(w.tip("prod") == prod_before);
}

TEST_CASE("promote with no identity to commit as stops before the push, with git's words", "[e2e][promote]") {
    // Who commits is asked of git while the promotion fetches; git's refusal must still stop it
    // whole: no commit pushed, the target as it was, and the person told what to set.
    Workspaces w;
    w.change(w.dev_work, "dev work", {{"transform/models/users.sql", "select 1\n"}});
    w.repo.git({"config", "user.useConfigOnly", "true"});
    const auto staging_before = w.tip("staging");
    RunOptions anonymous;
    for (const char* name : {"GIT_AUTHOR_NAME", "GIT_AUTHOR_EMAIL", "GIT_COMMITTER_NAME", "GIT_COMMITTER_EMAIL", "EMAIL"}) {
        anonymous.env[name] = std::nullopt;
    }
    auto promoted = w.promote({"staging", "--yes"}, anonymous);
    INFO(describe(promoted));
    CHECK(promoted.code == 128);  // as `git commit` fails
    CHECK_THAT(promoted.err, Catch::Contains("fatal: cannot tell who is promoting"));
    CHECK_THAT(promoted.err, Catch::Contains("user.email"));
    CHECK(w.tip("staging") == staging_before);

    // --dry-run never needs one.
    auto planned = w.promote({"staging", "--dry-run"}, anonymous);
    INFO(describe(planned));
    CHECK(planned.code == 0);
}

TEST_CASE("promote reports a modify/delete conflict and pushes nothing", "[e2e][promote]") {
    Workspaces w;
    w.change(w.dev_work, "add a model", {{"transform/models/users.sql", "select 1\n"}});
    REQUIRE(w.promote({"staging", "--yes"}).code == 0);
    // staging edits the model while dev deletes it: -X theirs cannot decide that.
    w.change(w.clone("staging"), "fix the model in staging", {{"transform/models/users.sql", "select 42\n"}});
    w.change(w.dev_work, "drop the model", {{"transform/models/users.sql", std::nullopt}});
    const auto before = w.tip("staging");
    const auto state = w.user_state();

    auto result = w.promote({"staging", "--yes", "--format", "json"});
    INFO(describe(result));
    CHECK(result.code == 1);
    CHECK_THAT(result.err, Catch::Contains("conflict in 'transform/models/users.sql': modified by target, deleted by source"));
    auto json = nlohmann::json::parse(result.out);
    REQUIRE(json["conflicts"].size() == 1);
    CHECK(json["conflicts"][0]["path"] == "transform/models/users.sql");
    CHECK(json["pushed"] == false);
    CHECK(json["commit"].is_null());
    CHECK(w.tip("staging") == before);
    CHECK(w.user_state() == state);
}

TEST_CASE("promote into an empty target pushes the source commit as it is", "[e2e][promote]") {
    Workspaces w;
    auto empty = w.repo.bare("qa");
    w.repo.git({"remote", "add", "qa", empty});
    w.repo.git({"config", "dataops.stages", "dev qa staging prod"});
    w.repo.git({"config", "dataops.qa.environment", "staging"});
    auto result = w.promote({"qa", "--yes"});
    INFO(describe(result));
    CHECK(result.code == 0);
    CHECK_THAT(result.out, Catch::Contains("(new branch)"));
    CHECK(w.tip("qa") == w.tip("dev"));
}

TEST_CASE("promote redoes the promotion once when the target moves during the push", "[e2e][promote]") {
    Workspaces w;
    w.change(w.dev_work, "dev work", {{"transform/models/users.sql", "select 1\n"}});
    // The first push finds that someone else pushed to staging in the meantime: the server-side
    // hook plays that person, moving main itself, so the push's compare-and-swap fails.
    const std::string hook = w.bare_of("staging") + "/hooks/pre-receive";
    std::ofstream(hook) << "#!/bin/sh\n"
                           "read old new ref\n"
                           "[ -e raced ] && exit 0\n"
                           "touch raced\n"
                           "unset GIT_QUARANTINE_PATH GIT_OBJECT_DIRECTORY GIT_ALTERNATE_OBJECT_DIRECTORIES\n"
                           "c=$(echo 'someone else' | git commit-tree \"$old^{tree}\" -p \"$old\")\n"
                           "git update-ref \"$ref\" \"$c\" \"$old\"\n";
    ::chmod(hook.c_str(), 0755);
    const auto before = w.tip("staging");

    auto result = w.promote({"staging", "--yes"});
    INFO(describe(result));
    CHECK(result.code == 0);
    CHECK_THAT(result.err, Catch::Contains("moved while promoting; promoting again"));
    auto git_dir = "--git-dir=" + w.bare_of("staging");
    auto first_parent = trim(w.repo.git({git_dir, "rev-parse", "main^1"}).out);
    CHECK(first_parent != before);
    CHECK(trim(w.repo.git({git_dir, "rev-parse", first_parent + "^"}).out) == before);
    CHECK(trim(w.repo.git({git_dir, "rev-parse", "main^2"}).out) == w.tip("dev"));
}

TEST_CASE("a push the target rejects is a refused promotion, with the remote's words", "[e2e][promote]") {
    Workspaces w;
    w.change(w.dev_work, "dev work", {{"transform/models/users.sql", "select 1\n"}});
    const std::string hook = w.bare_of("staging") + "/hooks/pre-receive";
    std::ofstream(hook) << "#!/bin/sh\necho 'staging is frozen' >&2\nexit 1\n";
    ::chmod(hook.c_str(), 0755);
    const auto before = w.tip("staging");
    auto result = w.promote({"staging", "--yes"});
    INFO(describe(result));
    CHECK(result.code == 1);
    CHECK_THAT(result.err, Catch::Contains("error: remote 'staging' rejected the promotion of 'main'; nothing "
                                           "changed there"));
    CHECK_THAT(result.err, Catch::Contains("hint: remote: staging is frozen"));
    CHECK_THAT(result.err, Catch::Contains("pre-receive hook declined"));
    CHECK(w.tip("staging") == before);
}

TEST_CASE("promote names the stages it does not know and needs a source", "[e2e][promote]") {
    Workspaces w;
    auto first = w.promote({"dev"});
    CHECK(first.code == 128);
    CHECK_THAT(first.err, Catch::Contains("fatal: stage 'dev' is the first stage"));
    CHECK_THAT(first.err, Catch::Contains("hint: name the source stage with --from <stage>"));
    auto unknown = w.promote({"qa"});
    CHECK(unknown.code == 128);
    CHECK_THAT(unknown.err, Catch::Contains("fatal: unknown stage 'qa'"));
    CHECK_THAT(unknown.err, Catch::Contains("hint: the stages are: dev, staging, prod"));
    auto usage = w.promote({});
    CHECK(usage.code == 129);
    auto help = w.promote({"-h"});
    CHECK(help.code == 0);
    CHECK_THAT(help.out, Catch::StartsWith("usage: git dataops promote <stage>"));

    SECTION("--from skips a stage") {
        w.change(w.dev_work, "dev work", {{"transform/models/users.sql", "select 1\n"}});
        auto result = w.promote({"prod", "--from", "dev", "--yes", "-m", "hotfix straight to prod"});
        INFO(describe(result));
        CHECK(result.code == 0);
        auto message = w.repo.git({"--git-dir=" + w.bare_of("prod"), "log", "-1", "--format=%B"}).out;
        CHECK_THAT(message, Catch::StartsWith("hotfix straight to prod\n\nDataops-Source: dev " + w.tip("dev")));
        CHECK_THAT(message, Catch::Contains("Dataops-Target: prod\nDataops-Environment: prod\n"));
    }
}

TEST_CASE("promote asks before pushing when a person is at a terminal", "[e2e][promote]") {
    Workspaces w;
    if (w.repo.run({"sh", "-c", "command -v script"}).code != 0) {
        WARN("script(1) is not installed: cannot give promote a terminal");
        return;
    }
    w.change(w.dev_work, "dev work", {{"transform/models/users.sql", "select 1\n"}});
    const auto before = w.tip("staging");
    // script(1) runs the command on a pseudo-terminal and feeds it our stdin.
    RunOptions answer;
    answer.input = "n\n";
    auto declined = w.repo.run({"script", "-qec", "git dataops-promote staging", "/dev/null"}, answer);
    INFO(describe(declined));
    CHECK_THAT(declined.out, Catch::Contains("push this promotion to 'main' on remote 'staging'? [y/N]"));
    CHECK_THAT(declined.out, Catch::Contains("promotion cancelled; nothing was pushed"));
    CHECK(w.tip("staging") == before);

    answer.input = "y\n";
    auto accepted = w.repo.run({"script", "-qec", "git dataops-promote staging", "/dev/null"}, answer);
    INFO(describe(accepted));
    CHECK_THAT(accepted.out, Catch::Contains("promoted 'dev' into 'staging'"));
    CHECK(w.tip("staging") != before);
}

TEST_CASE("the promotion plan shows configuration changes with secrets redacted", "[e2e][promote]") {
    Workspaces w;
    auto project = replaced(kSeedProject, "environments:", "env:\n  TARGET_X_PW: hunter2\nenvironments:") +
                   "  loaders:\n  - name: target-x\n    namespace: target_x\n    pip_url: target-x\n"
                   "    settings:\n    - name: password\n      kind: password\n"
                   "    config:\n      password: $TARGET_X_PW\n";
    w.change(w.dev_work, "a loader with a secret", {{"meltano.yml", project}});
    auto text = w.promote({"staging", "--dry-run"});
    INFO(describe(text));
    CHECK(text.code == 0);
    CHECK_THAT(text.out, Catch::Contains("target-x (loader), only in staging (after)"));
    CHECK_THAT(text.out, Catch::Contains("(redacted)"));
    CHECK(text.out.find("hunter2") == std::string::npos);
    auto json = w.promote({"staging", "--dry-run", "--format", "json"});
    INFO(describe(json));
    CHECK(json.out.find("hunter2") == std::string::npos);
    auto document = nlohmann::json::parse(json.out);
    REQUIRE(document["config_changes"].size() == 1);
    CHECK(document["config_changes"][0]["name"] == "target-x");
    CHECK(document["config_changes"][0]["settings"][0]["name"] == "password");
    CHECK(document["config_changes"][0]["settings"][0]["b"]["value"] == "(redacted)");
}

TEST_CASE("a lock file left by a killed promotion does not block the next one", "[e2e][promote]") {
    // The lock is flock(2) on the file, released by the kernel with its process: the file left
    // behind (by a SIGKILL, a power cut) is no lock. Two live promotions: promote_faults_test.
    Workspaces w;
    w.change(w.dev_work, "dev work", {{"transform/models/users.sql", "select 1\n"}});
    std::ofstream(w.repo.path() + "/.git/dataops-promote.lock") << "1\n";
    auto result = w.promote({"staging", "--yes"});
    INFO(describe(result));
    CHECK(result.code == 0);
    CHECK_THAT(result.err, Catch::Contains("promoted 'dev' into 'staging'"));
}

TEST_CASE("promote passes remote names to git as names, never as options", "[e2e][promote]") {
    Workspaces w;
    // A remote name nothing configures: git must look for a repository of that name.
    w.repo.git({"config", "dataops.staging.remote", "--upload-pack=touch PWNED;git-upload-pack"});
    auto result = w.promote({"staging", "--yes"});
    INFO(describe(result));
    CHECK(result.code == 128);
    // git reads it as a path (and refuses one that starts with '-'), not as an option.
    CHECK_THAT(result.err, Catch::Contains("fatal: cannot read the branches of remote '--upload-pack=touch "
                                           "PWNED;git-upload-pack'"));
    CHECK_THAT(result.err, Catch::Contains("strange pathname"));
    CHECK_FALSE(std::filesystem::exists(w.repo.path() + "/PWNED"));
    CHECK_FALSE(std::filesystem::exists(w.repo.root() + "/PWNED"));
}

TEST_CASE("stages, remotes and branches named like options work as names in every command", "[e2e][promote]") {
    Workspaces w;
    // Remotes that exist under option-like names, and a branch that would force a push if git
    // read it as an option.
    const std::string evil = "--upload-pack=touch PWNED;git-upload-pack";
    w.repo.git({"config", "remote.-x.url", w.staging});
    w.repo.git({"config", "remote." + evil + ".url", w.prod});
    w.repo.git({"--git-dir=" + w.prod, "update-ref", "refs/heads/--force", "refs/heads/main"});
    w.repo.write("meltano.yml", kSeedProject);
    auto pwned = [&] {
        for (const auto& dir : {w.repo.path(), w.repo.root(), w.staging, w.prod, w.dev}) {
            if (std::filesystem::exists(dir + "/PWNED")) {
                return true;
            }
        }
        return false;
    };

    auto init = w.repo.dataops({"init", "--stages=-dev,--staging,-prod", "--remote=-dev=dev", "--remote=--staging=-x",
                                "--remote=-prod=" + evil, "--branch=-prod=--force", "--environment=-dev=dev",
                                "--environment=--staging=staging", "--environment=-prod=prod"});
    INFO(describe(init));
    REQUIRE(init.code == 0);
    CHECK(trim(w.repo.git({"config", "dataops.-prod.remote"}).out) == evil);
    CHECK(trim(w.repo.git({"config", "dataops.-prod.branch"}).out) == "--force");

    w.change(w.dev_work, "dev work", {{"transform/models/users.sql", "select 1\n"}});
    auto to_staging = w.promote({"--yes", "--", "--staging"});
    INFO(describe(to_staging));
    CHECK(to_staging.code == 0);
    CHECK_THAT(to_staging.err, Catch::Contains("promoted '-dev' into '--staging': 'main' on remote '-x'"));
    CHECK(trim(w.repo.git({"--git-dir=" + w.staging, "rev-parse", "main^2"}).out) == w.tip("dev"));

    const auto prod_main = w.tip("prod");
    auto to_prod = w.promote({"--yes", "--from=--staging", "--", "-prod"});
    INFO(describe(to_prod));
    CHECK(to_prod.code == 0);
    // The branch named --force moved, as a branch: main is where it was, nothing was forced.
    auto forced = trim(w.repo.git({"--git-dir=" + w.prod, "rev-parse", "refs/heads/--force"}).out);
    CHECK(trim(w.repo.git({"--git-dir=" + w.prod, "rev-parse", forced + "^1"}).out) == prod_main);
    CHECK(w.tip("prod") == prod_main);

    auto status = w.repo.dataops({"status", "--format", "json"});
    INFO(describe(status));
    CHECK(status.code == 0);
    auto stages = nlohmann::json::parse(status.out)["stages"];
    REQUIRE(stages.size() == 3);
    CHECK(stages[2]["remote"] == evil);
    CHECK(stages[2]["tip"] == forced);

    auto log = w.repo.dataops({"log", "--format=json", "--", "-prod"});
    INFO(describe(log));
    CHECK(log.code == 0);
    CHECK_THAT(log.out, Catch::Contains(forced));

    auto bad_to = w.repo.dataops({"rollback", "--yes", "--to=--output=PWNED", "--", "-prod"});
    INFO(describe(bad_to));
    CHECK(bad_to.code == 128);
    CHECK_THAT(bad_to.err, Catch::Contains("bad revision '--output=PWNED'"));
    auto rollback = w.repo.dataops({"rollback", "--yes", "--", "-prod"});
    INFO(describe(rollback));
    CHECK(rollback.code == 0);
    CHECK(trim(w.repo.git({"--git-dir=" + w.prod, "rev-parse", "refs/heads/--force^{tree}"}).out) ==
          trim(w.repo.git({"--git-dir=" + w.prod, "rev-parse", "main^{tree}"}).out));

    // The pre-push hook gets the remote's name as its first argument: a name, not an option.
    auto hooks = w.repo.dataops({"hooks", "install"});
    INFO(describe(hooks));
    REQUIRE(hooks.code == 0);
    w.repo.git({"fetch", "-q", "--", "-x", "main"});
    w.repo.git({"checkout", "-q", "-f", "-B", "fix", "FETCH_HEAD"});
    w.repo.commit("a fix in staging", {{"fix.md", "fixed\n"}});
    auto push = w.repo.git({"push", "--", "-x", "HEAD:main"}, {}, false);
    INFO(describe(push));
    CHECK(push.code == 0);
    CHECK_THAT(push.err, Catch::Contains("for environment 'staging'"));
    CHECK_FALSE(pwned());
}
