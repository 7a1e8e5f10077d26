#include <catch2/catch.hpp>

#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "support/fixtures.hpp"
#include "support/temp_repo.hpp"

using dataops::testing::describe;
using dataops::testing::in_dir;
using dataops::testing::kSeedProject;
using dataops::testing::RunOptions;
using dataops::testing::TempRepo;
using Json = nlohmann::json;

namespace {

/// setting name -> {value, source} of one plugin in `env show --format json` output.
std::map<std::string, std::pair<Json, std::string>> settings_of(const std::string& out, const std::string& plugin) {
    auto doc = Json::parse(out);
    std::map<std::string, std::pair<Json, std::string>> settings;
    for (const auto& p : doc["plugins"]) {
        if (p["name"] == plugin) {
            for (const auto& s : p["settings"]) {
                settings[s["name"].get<std::string>()] = {s["value"], s["source"].get<std::string>()};
            }
        }
    }
    return settings;
}

}  // namespace

TEST_CASE("the seed project resolves in every environment as Meltano resolves it", "[e2e][env]") {
    TempRepo repo;
    repo.commit("seed", {{"meltano.yml", kSeedProject}});
    struct Expected {
        std::string env, client_id, client_source, domain, domain_source;
    };
    for (const auto& e : {Expected{"dev", "39Pu9tTomnTv594VAFYnmRvkEpSlI7a6", "meltano_environment",
                                   "matatika-staging.eu.auth0.com", "meltano_yml"},
                          Expected{"staging", "4Zd5QXqHKNoKq4ySx8CP1UBm5eIUgh7t", "meltano_environment",
                                   "matatika-staging.eu.auth0.com", "meltano_yml"},
                          Expected{"prod", "u4kcVHKUD9lkbUbXA3eXCt88scStaqHM", "meltano_environment",
                                   "matatika.eu.auth0.com", "meltano_environment"}}) {
        auto result = repo.dataops({"env", "show", e.env, "--format", "json"});
        INFO(describe(result));
        REQUIRE(result.code == 0);
        auto settings = settings_of(result.out, "tap-auth0");
        CHECK(settings["client_id"].first == e.client_id);
        CHECK(settings["client_id"].second == e.client_source);
        CHECK(settings["domain"].first == e.domain);
        CHECK(settings["domain"].second == e.domain_source);
        CHECK(Json::parse(result.out)["environment"] == e.env);
    }
    SECTION("without an environment the default_environment is shown") {
        auto result = repo.dataops({"env", "show"});
        INFO(describe(result));
        CHECK(result.code == 0);
        CHECK_THAT(result.out, Catch::StartsWith("environment: dev\n"));
        CHECK_THAT(result.out, Catch::Contains("client_id  39Pu9tTomnTv594VAFYnmRvkEpSlI7a6  meltano_environment  "
                                               "meltano.yml:11:22"));
        CHECK_THAT(result.out, Catch::Contains("domain     matatika-staging.eu.auth0.com     meltano_yml"));
    }
    SECTION("env format prints the variables the plugin would receive") {
        auto result = repo.dataops({"env", "show", "prod", "--format", "env"});
        CHECK(result.code == 0);
        CHECK_THAT(result.out, Catch::Contains("TAP_AUTH0_CLIENT_ID='u4kcVHKUD9lkbUbXA3eXCt88scStaqHM'\n"));
        CHECK_THAT(result.out, Catch::Contains("TAP_AUTH0_DOMAIN='matatika.eu.auth0.com'\n"));
    }
}

TEST_CASE("env list names every environment, where it is defined and the default", "[e2e][env]") {
    TempRepo repo;
    repo.commit("seed", {{"meltano.yml", kSeedProject}});
    auto text = repo.dataops({"env", "list"});
    INFO(describe(text));
    CHECK(text.code == 0);
    CHECK(text.out == "*  dev      meltano.yml:5:3\n   staging  meltano.yml:12:3\n   prod     meltano.yml:19:3\n");
    auto json = Json::parse(repo.dataops({"env", "list", "--format", "json"}).out);
    CHECK(json["default_environment"] == "dev");
    REQUIRE(json["environments"].size() == 3);
    CHECK(json["environments"][2]["name"] == "prod");
    CHECK(json["environments"][2]["line"] == 19);
    CHECK(json["revision"].is_null());
}

TEST_CASE("a revision is read from the object database, the working tree by default", "[e2e][env]") {
    TempRepo repo;
    auto first = repo.commit("seed", {{"meltano.yml", kSeedProject}});
    std::string edited = kSeedProject;
    edited.replace(edited.find("matatika.eu.auth0.com"), 21, "edited.eu.auth0.com");
    repo.commit("edit prod", {{"meltano.yml", edited}});
    std::string uncommitted = edited;
    uncommitted.replace(uncommitted.find("edited.eu.auth0.com"), 19, "dirty.eu.auth0.com");
    repo.write("meltano.yml", uncommitted);

    auto domain = [&](const std::vector<std::string>& extra) {
        std::vector<std::string> args = {"env", "show", "prod", "--format", "json"};
        args.insert(args.end(), extra.begin(), extra.end());
        auto result = repo.dataops(args);
        INFO(describe(result));
        REQUIRE(result.code == 0);
        return settings_of(result.out, "tap-auth0")["domain"].first.get<std::string>();
    };
    CHECK(domain({}) == "dirty.eu.auth0.com");
    CHECK(domain({"--rev", "HEAD"}) == "edited.eu.auth0.com");
    CHECK(domain({"--rev", "HEAD~1"}) == "matatika.eu.auth0.com");
    CHECK(domain({"--rev", first}) == "matatika.eu.auth0.com");

    SECTION("a remote-tracking branch is a revision like any other") {
        auto remote = repo.bare("staging");
        repo.git({"remote", "add", "staging", remote});
        repo.git({"push", "-q", "staging", first + ":refs/heads/main"});
        repo.git({"fetch", "-q", "staging"});
        CHECK(domain({"--rev", "staging/main"}) == "matatika.eu.auth0.com");
    }
    SECTION("the revision's sha is reported") {
        auto json = Json::parse(repo.dataops({"env", "show", "prod", "--rev", first, "--format", "json"}).out);
        CHECK(json["revision"] == first);
    }
    SECTION("a bad revision is fatal") {
        auto result = repo.dataops({"env", "show", "--rev", "no-such-branch"});
        CHECK(result.code == 128);
        CHECK(result.err == "fatal: bad revision 'no-such-branch'\n");
        CHECK(result.out.empty());
    }
}

TEST_CASE("git's ways of choosing the repository and configuration reach the binary", "[e2e][env][git]") {
    TempRepo repo;
    repo.commit("nested", {{"proj/meltano.yml", kSeedProject}, {"proj/sub/readme", "x"}});
    const std::string elsewhere = repo.root() + "/home";

    SECTION("git -C") {
        auto result = repo.run({"git", "-C", repo.path() + "/proj", "dataops", "env", "list"}, in_dir(elsewhere));
        INFO(describe(result));
        CHECK(result.code == 0);
        CHECK_THAT(result.out, Catch::Contains("proj/meltano.yml:19:3"));
    }
    SECTION("--git-dir and --work-tree (GIT_DIR, GIT_WORK_TREE)") {
        auto result = repo.run({"git", "--git-dir=" + repo.path() + "/.git", "--work-tree=" + repo.path(), "-c",
                                "dataops.project=proj", "dataops", "env", "list"},
                               in_dir(elsewhere));
        INFO(describe(result));
        CHECK(result.code == 0);
        CHECK_THAT(result.out, Catch::Contains("proj/meltano.yml:5:3"));

        RunOptions env_only = in_dir(elsewhere);
        env_only.env["GIT_DIR"] = repo.path() + "/.git";
        env_only.env["GIT_WORK_TREE"] = repo.path();
        auto via_env = repo.run({"git", "dataops", "env", "show", "prod", "--project", repo.path() + "/proj"},
                                env_only);
        INFO(describe(via_env));
        CHECK(via_env.code == 0);
        CHECK_THAT(via_env.out, Catch::Contains("u4kcVHKUD9lkbUbXA3eXCt88scStaqHM"));
    }
    SECTION("git -c dataops.project chooses the project directory") {
        repo.commit("second project", {{"other/meltano.yml", "environments:\n- name: only\n"}});
        auto result = repo.run({"git", "-c", "dataops.project=other", "dataops", "env", "list"});
        INFO(describe(result));
        CHECK(result.code == 0);
        CHECK(result.out == "   only  other/meltano.yml:2:3\n");
    }
    SECTION("dataops.project wins over the nearest meltano.yml, which is read before the configuration arrives") {
        repo.commit("second project", {{"other/meltano.yml", "environments:\n- name: only\n"}});
        RunOptions in_sub = in_dir(repo.path() + "/proj/sub");
        auto listed = repo.run({"git", "-c", "dataops.project=other", "dataops", "env", "list"}, in_sub);
        INFO(describe(listed));
        CHECK(listed.code == 0);
        CHECK(listed.out == "   only  other/meltano.yml:2:3\n");
        auto validated = repo.run({"git", "-c", "dataops.project=other", "dataops", "validate", "--all"}, in_sub);
        INFO(describe(validated));
        CHECK(validated.code == 0);
        CHECK_THAT(validated.err, Catch::Contains("other/meltano.yml") && Catch::Contains("environments: only"));
        auto nearest = repo.run({"git", "dataops", "validate", "--all"}, in_sub);
        INFO(describe(nearest));
        CHECK_THAT(nearest.err, Catch::Contains("proj/meltano.yml") && Catch::Contains("environments: dev, staging, prod"));
    }
    SECTION("the nearest meltano.yml upward from the current directory") {
        auto result = repo.dataops({"env", "list"}, in_dir(repo.path() + "/proj/sub"));
        INFO(describe(result));
        CHECK(result.code == 0);
        CHECK_THAT(result.out, Catch::Contains("proj/meltano.yml"));
    }
    SECTION("a bare repository is read with --rev") {
        auto bare = repo.bare("workspace");
        repo.git({"push", "-q", bare, "HEAD:refs/heads/main"});
        auto result = repo.run({"git", "dataops", "env", "list", "--rev", "main", "--project", "proj"}, in_dir(bare));
        INFO(describe(result));
        CHECK(result.code == 0);
        CHECK_THAT(result.out, Catch::Contains("staging"));
        auto without = repo.run({"git", "dataops", "env", "list"}, in_dir(bare));
        CHECK(without.code == 128);
        CHECK_THAT(without.err, Catch::Contains("must be run in a work tree"));
    }
}

TEST_CASE("usage, help and failures follow git's conventions", "[e2e][env]") {
    TempRepo repo;
    const std::string outside = repo.root() + "/home";
    RunOptions opts = in_dir(outside);
    opts.env["GIT_CEILING_DIRECTORIES"] = repo.root();

    auto help = repo.dataops({"env", "-h"}, opts);
    CHECK(help.code == 0);
    CHECK_THAT(help.out, Catch::StartsWith("usage: git dataops env list"));
    CHECK(help.err.empty());
    CHECK(repo.dataops({"env", "show", "-h"}, opts).code == 0);

    auto bad = repo.dataops({"env", "show", "--frobnicate"}, opts);
    CHECK(bad.code == 129);
    CHECK_THAT(bad.err, Catch::StartsWith("error: unknown argument '--frobnicate'\n\nusage: git dataops env"));
    CHECK(bad.out.empty());

    auto format = repo.dataops({"env", "list", "--format", "yaml"}, opts);
    CHECK(format.code == 129);

    auto sub = repo.dataops({"env", "shwo"}, opts);
    CHECK(sub.code == 129);
    CHECK_THAT(sub.err, Catch::Contains("did you mean 'show'?"));

    auto outside_repo = repo.dataops({"env", "list"}, opts);
    CHECK(outside_repo.code == 128);
    CHECK_THAT(outside_repo.err, Catch::StartsWith("fatal: not a git repository"));
    // With --rev, git cat-file is already running (and gone) when discovery fails.
    for (int i = 0; i < 5; ++i) {
        auto rev_outside = repo.dataops({"env", "list", "--rev", "HEAD"}, opts);
        CHECK(rev_outside.code == 128);
        CHECK_THAT(rev_outside.err, Catch::StartsWith("fatal: not a git repository"));
    }
}

TEST_CASE("an unknown environment or plugin is an error that lists what exists", "[e2e][env]") {
    TempRepo repo;
    repo.commit("seed", {{"meltano.yml", kSeedProject}});
    auto result = repo.dataops({"env", "show", "prdo"});
    CHECK(result.code == 128);
    CHECK(result.err ==
          "fatal: environment 'prdo' is not defined in the working tree\nhint: did you mean 'prod'?\n"
          "hint: known environments: dev, staging, prod\n");
    auto plugin = repo.dataops({"env", "show", "prod", "tap-authzero"});
    CHECK(plugin.code == 128);
    CHECK_THAT(plugin.err, Catch::Contains("plugin 'tap-authzero' is not defined"));
}

TEST_CASE("with --with-env, no environment named: the one a local meltano run picks", "[e2e][env]") {
    // meltano-semantics.md 4.1: MELTANO_ENVIRONMENT (process, then .env; "null" means none), then
    // default_environment, which MELTANO_DEFAULT_ENVIRONMENT overrides. Without --with-env the
    // answer stays the committed default_environment, whatever the shell says.
    TempRepo repo;
    repo.commit("seed", {{"meltano.yml", kSeedProject}});
    auto environment_of = [&](const std::map<std::string, std::optional<std::string>>& variables,
                              std::vector<std::string> extra = {"--with-env"}) {
        RunOptions options;
        options.env = variables;
        options.env.emplace("MELTANO_ENVIRONMENT", std::nullopt);
        options.env.emplace("MELTANO_DEFAULT_ENVIRONMENT", std::nullopt);
        std::vector<std::string> args = {"env", "show", "--format", "json"};
        args.insert(args.end(), extra.begin(), extra.end());
        auto shown = repo.dataops(args, options);
        INFO(describe(shown));
        REQUIRE(shown.code == 0);
        return Json::parse(shown.out)["environment"];
    };
    CHECK(environment_of({}) == "dev");
    CHECK(environment_of({{"MELTANO_ENVIRONMENT", "prod"}}) == "prod");
    CHECK(environment_of({{"MELTANO_ENVIRONMENT", "prod"}}, {}) == "dev");
    CHECK(environment_of({{"MELTANO_DEFAULT_ENVIRONMENT", "staging"}}) == "staging");
    CHECK(environment_of({{"MELTANO_ENVIRONMENT", "prod"}, {"MELTANO_DEFAULT_ENVIRONMENT", "staging"}}) == "prod");
    CHECK(environment_of({{"MELTANO_ENVIRONMENT", "Null"}}).is_null());
    repo.write(".env", "MELTANO_ENVIRONMENT=staging\n");
    CHECK(environment_of({}) == "staging");
    CHECK(environment_of({{"MELTANO_ENVIRONMENT", "prod"}}) == "prod");  // the process wins over .env
}

TEST_CASE("a project that does not parse is reported with its position", "[e2e][env]") {
    TempRepo repo;
    repo.commit("broken", {{"meltano.yml", "environments:\n- name: dev\n  config: [\n"}});
    for (const auto& extra : {std::vector<std::string>{}, std::vector<std::string>{"--rev", "HEAD"}}) {
        std::vector<std::string> args = {"env", "list"};
        args.insert(args.end(), extra.begin(), extra.end());
        auto result = repo.dataops(args);
        INFO(describe(result));
        CHECK(result.code == 128);
        CHECK_THAT(result.err, Catch::StartsWith("meltano.yml:"));
        CHECK_THAT(result.err, Catch::Contains("error:"));
        CHECK_THAT(result.err, Catch::Contains("fatal: cannot load the Meltano project 'meltano.yml'"));
    }
}

TEST_CASE("sensitive values are redacted in every format unless --reveal", "[e2e][env][secrets]") {
    TempRepo repo;
    repo.commit("secret", {{"meltano.yml", R"(default_environment: prod
plugins:
  extractors:
  - name: tap-secret
    namespace: tap_secret
    settings:
    - name: password
      kind: password
    - name: token
      sensitive: true
    config:
      password: planted-secret-1
environments:
- name: prod
  config:
    plugins:
      extractors:
      - name: tap-secret
        config:
          token: planted-secret-2
- name: dev
)"}});
    for (const auto& args : std::vector<std::vector<std::string>>{
             {"env", "show"}, {"env", "show", "--format", "json"}, {"env", "show", "--format", "env"},
             {"env", "show", "--all"}, {"env", "diff", "dev", "prod"}, {"env", "diff", "dev", "prod", "--format", "json"}}) {
        auto result = repo.dataops(args);
        INFO(describe(result));
        CHECK(result.code == 0);
        CHECK_THAT(result.out + result.err, !Catch::Contains("planted-secret"));
        CHECK_THAT(result.out, Catch::Contains("(redacted)"));
    }
    auto revealed = repo.dataops({"env", "show", "--reveal"});
    CHECK_THAT(revealed.out, Catch::Contains("planted-secret-1"));
    CHECK_THAT(revealed.out, Catch::Contains("planted-secret-2"));
}

TEST_CASE("env diff compares environments and commits", "[e2e][env]") {
    TempRepo repo;
    auto first = repo.commit("seed", {{"meltano.yml", kSeedProject}});
    auto result = repo.dataops({"env", "diff", "dev", "prod"});
    INFO(describe(result));
    CHECK(result.code == 0);
    CHECK(result.out ==
          "--- dev\n+++ prod\n\ntap-auth0 (extractor)\n"
          "  domain     matatika-staging.eu.auth0.com     ->  matatika.eu.auth0.com\n"
          "  client_id  39Pu9tTomnTv594VAFYnmRvkEpSlI7a6  ->  u4kcVHKUD9lkbUbXA3eXCt88scStaqHM\n");
    CHECK(repo.dataops({"env", "diff", "dev", "prod", "--exit-code"}).code == 1);
    CHECK(repo.dataops({"env", "diff", "dev", "dev", "--exit-code"}).code == 0);

    std::string edited = kSeedProject;
    edited.replace(edited.find("u4kcVHKUD9lkbUbXA3eXCt88scStaqHM"), 32, "NEWPRODCLIENT");
    auto second = repo.commit("rotate prod client", {{"meltano.yml", edited}});
    auto across = repo.dataops({"env", "diff", first + ":prod", "HEAD:prod", "--format", "json", "--exit-code"});
    INFO(describe(across));
    CHECK(across.code == 1);
    auto json = Json::parse(across.out);
    CHECK(json["a"]["revision"] == first);
    CHECK(json["b"]["revision"] == second);
    REQUIRE(json["plugins"].size() == 1);
    REQUIRE(json["plugins"][0]["settings"].size() == 1);
    CHECK(json["plugins"][0]["settings"][0]["name"] == "client_id");
    CHECK(json["plugins"][0]["settings"][0]["b"]["value"] == "NEWPRODCLIENT");
}
