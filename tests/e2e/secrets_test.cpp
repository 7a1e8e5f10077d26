// Secrets never leave git-dataops unless --reveal: a unique value is planted in every way a
// setting can be sensitive, every command and format that can show it runs, and the value must
// not appear in what they print nor in anything git-dataops writes (commit messages, config,
// hooks). With --reveal it must appear, so the scan can fail.
#include <catch2/catch.hpp>

#include <algorithm>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "support/temp_repo.hpp"
#include "support/workspaces.hpp"

using dataops::testing::describe;
using dataops::testing::replaced;
using dataops::testing::RunOptions;
using dataops::testing::RunResult;
using dataops::testing::slurp;
using dataops::testing::Workspaces;

namespace {

/// Every planted value starts with this; no other text in the project or outputs contains it.
constexpr const char* kMarker = "s3cr3t";

/// A project with a secret in each way a setting can be sensitive. `generation` makes the values of
/// one revision differ from the next (for diffs between revisions).
std::string secret_project(const std::string& generation) {
    std::string text = R"(version: 1
default_environment: dev
project_id: 5ec0e7a1-0000-4000-8000-000000000000
env:
  VAULT_PASSWORD: s3cr3tGEN-top-level-env-block
environments:
- name: dev
- name: staging
  env:
    TAP_Y_API_KEY: s3cr3tGEN-environment-env-block
  config:
    plugins:
      extractors:
      - name: tap-y
        config:
          token: s3cr3tGEN-kind-oauth
      - name: tap-z
        config:
          client_secret: s3cr3tGEN-sensitive-in-lock-file
      - name: tap-y--eu
        config:
          token: s3cr3tGEN-inherited-plugin
      loaders:
      - name: target-x
        config:
          flag_secret: s3cr3tGEN-sensitive-true
- name: prod
- name: broken
  config:
    plugins:
      extractors:
      - name: tap-y
        config:
          pin: s3cr3tGEN-wrong-kind
          mode: s3cr3tGEN-not-among-options
plugins:
  extractors:
  - name: tap-y
    namespace: tap_y
    pip_url: tap-y
    settings:
    - name: token
      kind: oauth
    - name: api_key
      sensitive: true
    - name: pin
      kind: integer
      sensitive: true
    - name: mode
      kind: options
      sensitive: true
      options:
      - label: A
        value: a
      - label: B
        value: b
  - name: tap-y--eu
    inherit_from: tap-y
  - name: tap-z
    variant: acme
    pip_url: tap-z
  loaders:
  - name: target-x
    namespace: target_x
    pip_url: target-x
    settings:
    - name: password
      kind: password
    - name: secret_key
      kind: password
    - name: flag_secret
      sensitive: true
    config:
      password: $VAULT_PASSWORD
)";
    for (auto at = text.find("GEN"); at != std::string::npos; at = text.find("GEN", at)) {
        text.replace(at, 3, generation);
    }
    return text;
}

const char* kLockFile = R"({
  "plugin_type": "extractors",
  "name": "tap-z",
  "namespace": "tap_z",
  "variant": "acme",
  "pip_url": "tap-z",
  "settings": [
    {"name": "client_secret", "kind": "string", "sensitive": true},
    {"name": "refresh_token", "kind": "string", "sensitive": true}
  ]
})";

std::map<std::string, std::optional<std::string>> project_files(const std::string& generation) {
    return {{"meltano.yml", secret_project(generation)}, {"plugins/extractors/tap-z--acme.lock", kLockFile}};
}

/// The values that reach the resolver from outside the committed files (--with-env).
const std::string kProcessSecret = "s3cr3t-from-the-process-environment";
const std::string kDotenvSecret = "s3cr3t-from-dotenv";

RunOptions with_process_secret() {
    RunOptions options;
    options.env["TAP_Z_REFRESH_TOKEN"] = kProcessSecret;
    return options;
}

/// Fails when any planted secret shows in the output of `what`.
void check_no_secret(const std::string& what, const RunResult& result) {
    INFO(what << "\n" << describe(result));
    CHECK(result.out.find(kMarker) == std::string::npos);
    CHECK(result.err.find(kMarker) == std::string::npos);
}

void check_no_secret_in(const std::string& what, const std::string& text) {
    INFO(what << ":\n" << text);
    CHECK(text.find(kMarker) == std::string::npos);
}

/// Runs `git dataops <args>`, checks that it did its job (an exit code in `codes`) without
/// showing a secret, and returns the result.
RunResult scan(const Workspaces& w, const std::vector<std::string>& args, std::vector<int> codes = {0},
               const RunOptions& options = {}) {
    std::string what = "git dataops";
    for (const auto& a : args) {
        what += " " + a;
    }
    auto result = w.repo.dataops(args, options);
    INFO(what << "\n" << describe(result));
    CHECK(std::find(codes.begin(), codes.end(), result.code) != codes.end());
    check_no_secret(what, result);
    return result;
}

/// The values of one generation that `--reveal` shows for environment staging.
std::vector<std::string> staging_secrets(const std::string& generation) {
    std::vector<std::string> out;
    for (const char* kind : {"top-level-env-block", "environment-env-block", "kind-oauth", "sensitive-in-lock-file",
                             "inherited-plugin", "sensitive-true"}) {
        out.push_back(std::string("s3cr3t") + generation + "-" + kind);
    }
    return out;
}

}  // namespace

TEST_CASE("no command shows a secret without --reveal, and --reveal shows it", "[e2e][secrets]") {
    Workspaces w;
    w.repo.commit("secret project", project_files("1"));
    w.repo.commit("new secrets", project_files("2"));
    w.repo.write(".env", "TARGET_X_SECRET_KEY=" + kDotenvSecret + "\n");
    w.repo.write(".git/info/exclude", ".env\n");
    const auto env = with_process_secret();

    SECTION("env show, every format, hermetic and --with-env") {
        for (const std::string environment : {"staging", "broken", "dev"}) {
            for (const std::string format : {"text", "json", "env"}) {
                scan(w, {"env", "show", environment, "--format", format});
                scan(w, {"env", "show", environment, "--format", format, "--all"});
                scan(w, {"env", "show", environment, "--format", format, "--with-env"}, {0}, env);
                scan(w, {"env", "show", environment, "--format", format, "--rev", "HEAD~1"});
            }
        }
        scan(w, {"env", "show", "staging", "tap-z", "--with-env"}, {0}, env);
        scan(w, {"env", "list"});
        scan(w, {"env", "list", "--format", "json"});
    }
    SECTION("env diff between environments and between revisions") {
        for (const std::string format : {"text", "json"}) {
            scan(w, {"env", "diff", "staging", "broken", "--format", format}, {0, 1});
            scan(w, {"env", "diff", "dev", "staging", "--format", format, "--with-env"}, {0, 1}, env);
            scan(w, {"env", "diff", "HEAD~1:staging", "HEAD:staging", "--format", format}, {0, 1});
            scan(w, {"env", "diff", "HEAD~1:staging", "HEAD:staging", "--format", format, "--exit-code"}, {1});
        }
    }
    SECTION("validate, every format, with the diagnostics that mention values") {
        for (const std::string format : {"text", "json", "github"}) {
            scan(w, {"validate", "--format", format});
            scan(w, {"validate", "--all", "--format", format}, {1});
            scan(w, {"validate", "--env", "broken", "--format", format, "--strict"}, {1});
            scan(w, {"validate", "--all", "--format", format, "--with-env"}, {1}, env);
            scan(w, {"validate", "--all", "--format", format, "--rev", "HEAD~1"}, {1});
        }
        // The findings that would have shown a value are there, without it.
        auto text = scan(w, {"validate", "--env", "broken"}, {1});
        CHECK_THAT(text.out + text.err, Catch::Contains("[invalid-setting-value]"));
        CHECK_THAT(text.out + text.err, Catch::Contains("setting 'pin' of plugin 'tap-y'"));
        CHECK_THAT(text.out + text.err, Catch::Contains("setting 'mode' of plugin 'tap-y'"));
        auto staging = scan(w, {"validate", "--env", "staging"});
        CHECK_THAT(staging.out + staging.err, Catch::Contains("[secret-in-git]"));
    }
    SECTION("--reveal shows every planted value, so the scans above can fail") {
        auto shown = w.repo.dataops({"env", "show", "staging", "--reveal", "--with-env"}, env);
        INFO(describe(shown));
        REQUIRE(shown.code == 0);
        for (const auto& secret : staging_secrets("2")) {
            CHECK_THAT(shown.out, Catch::Contains(secret));
        }
        CHECK_THAT(shown.out, Catch::Contains(kProcessSecret));
        CHECK_THAT(shown.out, Catch::Contains(kDotenvSecret));
        auto as_env = w.repo.dataops({"env", "show", "staging", "--reveal", "--format", "env"});
        CHECK_THAT(as_env.out, Catch::Contains("s3cr3t2-kind-oauth"));
        auto diff = w.repo.dataops({"env", "diff", "HEAD~1:staging", "HEAD:staging", "--reveal"});
        INFO(describe(diff));
        for (const auto& secret : staging_secrets("1")) {
            CHECK_THAT(diff.out, Catch::Contains(secret));
        }
        auto broken = w.repo.dataops({"env", "show", "broken", "--reveal", "--format", "json"});
        CHECK_THAT(broken.out, Catch::Contains("s3cr3t2-wrong-kind"));
        CHECK_THAT(broken.out, Catch::Contains("s3cr3t2-not-among-options"));
    }
}

TEST_CASE("a value sensitive on one side of a diff is redacted on both", "[e2e][secrets]") {
    Workspaces w;
    w.repo.commit("secret project", project_files("1"));
    // The lock file that made client_secret sensitive goes, and the value changes.
    auto files = project_files("2");
    files["plugins/extractors/tap-z--acme.lock"] = std::nullopt;
    w.repo.commit("no lock file", files);
    for (const std::string format : {"text", "json"}) {
        auto diff = scan(w, {"env", "diff", "HEAD~1:staging", "HEAD:staging", "--format", format}, {0, 1});
        CHECK_THAT(diff.out, Catch::Contains("client_secret"));
    }
    auto revealed = w.repo.dataops({"env", "diff", "HEAD~1:staging", "HEAD:staging", "--reveal"});
    CHECK_THAT(revealed.out, Catch::Contains("s3cr3t1-sensitive-in-lock-file"));
    CHECK_THAT(revealed.out, Catch::Contains("s3cr3t2-sensitive-in-lock-file"));
    // A promotion that drops the lock file shows the plan with the same rule.
    w.change(w.dev_work, "secret project", project_files("1"));
    REQUIRE(w.promote({"staging", "--yes"}).code == 0);
    w.change(w.dev_work, "no lock file", files);
    scan(w, {"promote", "staging", "--dry-run"});
    scan(w, {"promote", "staging", "--dry-run", "--format", "json"});
}

TEST_CASE("promotion, its history and the hooks never show or write a secret", "[e2e][secrets]") {
    Workspaces w;
    w.change(w.dev_work, "secret project", project_files("1"));
    scan(w, {"promote", "staging", "--dry-run"});
    scan(w, {"promote", "staging", "--dry-run", "--format", "json"});
    scan(w, {"promote", "staging", "--yes"});
    w.change(w.dev_work, "new secrets", project_files("2"));
    scan(w, {"promote", "staging", "--dry-run", "--format", "json", "--detailed-exitcode"}, {2});
    scan(w, {"promote", "staging", "--yes", "--format", "json"});
    scan(w, {"promote", "prod", "--yes", "-m", "to prod"});

    // A promotion refused for a value of the wrong kind in the target's environment.
    auto broken = replaced(secret_project("3"), "          token: s3cr3t3-kind-oauth",
                           "          token: s3cr3t3-kind-oauth\n          pin: s3cr3t3-wrong-kind-staging");
    w.change(w.dev_work, "a wrong kind in staging", {{"meltano.yml", broken}});
    auto refused = scan(w, {"promote", "staging", "--yes"}, {1});
    CHECK_THAT(refused.err, Catch::Contains("[invalid-setting-value]"));
    scan(w, {"promote", "staging", "--yes", "--format", "json"}, {1});

    for (const std::string format : {"text", "json"}) {
        scan(w, {"status", "--format", format});
        scan(w, {"log", "staging", "--format", format});
    }
    scan(w, {"rollback", "staging", "--dry-run"});
    scan(w, {"rollback", "staging", "--yes", "--format", "json"});
    scan(w, {"rollback", "staging", "--yes", "--steps", "2"});
    scan(w, {"log", "staging"});

    // What git-dataops wrote: commit messages, configuration.
    for (const std::string stage : {"staging", "prod"}) {
        auto messages = w.repo.git({"--git-dir=" + w.bare_of(stage), "log", "--format=%B", "main"});
        check_no_secret_in(stage + "'s commit messages", messages.out);
        CHECK_THAT(messages.out, Catch::Contains("Dataops-Source: "));
    }
    CHECK_THAT(w.repo.git({"--git-dir=" + w.bare_of("staging"), "log", "--format=%B", "main"}).out,
               Catch::Contains("Dataops-Rollback: "));

    SECTION("the pre-push hook's report on a blocked push") {
        scan(w, {"init"}, {0, 1});  // 1: this clone has no meltano.yml to check the environments in
        scan(w, {"hooks", "install"});
        auto hook = slurp(w.repo.path() + "/.git/hooks/pre-push");
        REQUIRE_FALSE(hook.empty());
        check_no_secret_in("the installed hook", hook);
        check_no_secret_in("git config", w.repo.git({"config", "--list"}).out);
        // Work on staging's branch that breaks it: the hook blocks the push and says why.
        w.repo.git({"fetch", "-q", "staging"});
        w.repo.git({"checkout", "-q", "-f", "-B", "fix", "refs/remotes/staging/main"});
        w.repo.commit("break staging", {{"meltano.yml", broken}});
        auto push = w.repo.git({"push", "staging", "HEAD:main"}, {}, false);
        INFO(describe(push));
        CHECK(push.code != 0);
        CHECK_THAT(push.err, Catch::Contains("[invalid-setting-value]"));
        check_no_secret("git push (pre-push hook)", push);
        check_no_secret_in("git config", w.repo.git({"config", "--list"}).out);
    }
}
