#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include "support/fixtures.hpp"
#include "support/temp_repo.hpp"

using dataops::testing::describe;
using dataops::testing::kSeedProject;
using dataops::testing::TempRepo;
using Json = nlohmann::json;

namespace {

std::string replace_once(std::string text, const std::string& from, const std::string& to) {
    auto at = text.find(from);
    REQUIRE(at != std::string::npos);
    text.replace(at, from.size(), to);
    return text;
}

/// The seed with the prod block's plugin misspelt (line 23, column 15 is the name's value).
std::string prod_typo() {
    return replace_once(kSeedProject, "      - name: tap-auth0\n        config:\n          client_id: u4kc",
                        "      - name: tap-authzero\n        config:\n          client_id: u4kc");
}

}  // namespace

TEST_CASE("validate passes a clean project and fails one with an unknown plugin", "[e2e][validate]") {
    TempRepo repo;
    repo.commit("seed", {{"meltano.yml", kSeedProject}});
    auto clean = repo.dataops({"validate"});
    INFO(describe(clean));
    CHECK(clean.code == 0);
    CHECK_THAT(clean.err, Catch::StartsWith("ok: "));
    CHECK_THAT(clean.err, Catch::Contains("environments: dev, staging, prod"));

    repo.write("meltano.yml", prod_typo());
    auto bad = repo.dataops({"validate"});
    INFO(describe(bad));
    CHECK(bad.code == 1);
    CHECK_THAT(bad.out, Catch::StartsWith("meltano.yml:23:"));
    CHECK_THAT(bad.out, Catch::Contains("error: environment 'prod' configures extractor 'tap-authzero', "
                                        "which is not defined [unknown-plugin]"));
    CHECK_THAT(bad.out, Catch::Contains("hint: did you mean 'tap-auth0'?"));
    CHECK_THAT(bad.err, Catch::StartsWith("failed: 1 error"));

    SECTION("the committed revision is still clean") {
        CHECK(repo.dataops({"validate", "--rev", "HEAD"}).code == 0);
    }
    SECTION("only the environments asked for are judged") {
        CHECK(repo.dataops({"validate", "--env", "dev", "--env", "staging"}).code == 0);
        CHECK(repo.dataops({"validate", "--env", "prod"}).code == 1);
        CHECK(repo.dataops({"validate", "--all"}).code == 1);
    }
    SECTION("json is the same findings as data") {
        auto json = repo.dataops({"validate", "--format", "json"});
        CHECK(json.code == 1);
        auto doc = Json::parse(json.out);
        CHECK(doc["ok"] == false);
        CHECK(doc["revision"].is_null());
        CHECK(doc["environments"] == Json::array({"dev", "staging", "prod"}));
        bool found = false;
        for (const auto& d : doc["diagnostics"]) {
            if (d["code"] == "unknown-plugin") {
                found = true;
                CHECK(d["severity"] == "error");
                CHECK(d["file"] == "meltano.yml");
                CHECK(d["line"] == 23);
                CHECK(d["environment"] == "prod");
                CHECK(d["plugin"] == "tap-authzero");
                CHECK_THAT(d["hint"].get<std::string>(), Catch::Contains("tap-auth0"));
            }
        }
        CHECK(found);
    }
    SECTION("github annotations") {
        auto gh = repo.dataops({"validate", "--format", "github"});
        CHECK(gh.code == 1);
        CHECK_THAT(gh.out, Catch::Contains("::error file=meltano.yml,line=23,"));
        CHECK_THAT(gh.out, Catch::Contains("title=unknown-plugin::"));
    }
}

TEST_CASE("validate judges the environments the pipeline runs by default", "[e2e][validate]") {
    TempRepo repo;
    repo.commit("seed", {{"meltano.yml", prod_typo()}});
    repo.git({"config", "dataops.stages", "dev staging"});
    auto result = repo.dataops({"validate"});
    INFO(describe(result));
    CHECK(result.code == 0);
    CHECK_THAT(result.err, Catch::Contains("environments: dev, staging"));
}

TEST_CASE("validate reports syntax errors with their position from the working tree and a revision",
          "[e2e][validate]") {
    TempRepo repo;
    repo.commit("broken", {{"meltano.yml", "plugins:\n  extractors:\n  - name: tap-x\n    config: {a: 1\n"}});
    for (const auto& extra : {std::vector<std::string>{}, std::vector<std::string>{"--rev", "HEAD"}}) {
        std::vector<std::string> args = {"validate"};
        args.insert(args.end(), extra.begin(), extra.end());
        auto result = repo.dataops(args);
        INFO(describe(result));
        CHECK(result.code == 1);
        CHECK_THAT(result.out, Catch::StartsWith("meltano.yml:"));
        CHECK_THAT(result.out, Catch::Contains("[yaml-syntax]"));
    }
}

TEST_CASE("validate usage errors exit 129", "[e2e][validate]") {
    TempRepo repo;
    CHECK(repo.dataops({"validate", "--all", "--env", "dev"}).code == 129);
    CHECK(repo.dataops({"validate", "--format", "xml"}).code == 129);
    auto help = repo.dataops({"validate", "-h"});
    CHECK(help.code == 0);
    CHECK_THAT(help.out, Catch::StartsWith("usage: git dataops validate"));
}

TEST_CASE("init writes the pipeline and checks remotes and environments", "[e2e][init]") {
    TempRepo repo;
    repo.commit("seed", {{"meltano.yml", kSeedProject}});
    repo.git({"remote", "add", "origin", repo.bare("staging")});
    repo.git({"remote", "add", "prod", repo.bare("prod")});
    auto result = repo.dataops({"init", "--stages", "staging,prod", "--remote", "staging=origin"});
    INFO(describe(result));
    CHECK(result.code == 0);
    CHECK(result.out == "staging  origin/main  environment 'staging'\nprod     prod/main    environment 'prod'\n");
    CHECK(repo.git({"config", "dataops.stages"}).out == "staging prod\n");
    CHECK(repo.git({"config", "dataops.staging.remote"}).out == "origin\n");
    CHECK(repo.git({"config", "dataops.prod.environment"}).out == "prod\n");

    SECTION("a missing remote or environment is reported") {
        auto warned = repo.dataops({"init", "--environment", "prod=production"});
        INFO(describe(warned));
        CHECK(warned.code == 1);
        CHECK_THAT(warned.err, Catch::Contains("environment 'production', which is not defined"));
    }
    SECTION("an assignment to an unknown stage is a usage error") {
        CHECK(repo.dataops({"init", "--remote", "qa=origin"}).code == 129);
        CHECK(repo.dataops({"init", "--remote", "staging"}).code == 129);
    }
}
