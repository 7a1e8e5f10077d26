#include <catch2/catch.hpp>

#include <string>

#include <nlohmann/json.hpp>

#include "support/fixtures.hpp"
#include "support/temp_repo.hpp"
#include "support/workspaces.hpp"

using dataops::testing::describe;
using dataops::testing::kSeedProject;
using dataops::testing::replaced;
using dataops::testing::RunResult;
using dataops::testing::trim;
using dataops::testing::Workspaces;

namespace {

/// `git dataops <args>`, through the dispatcher.
RunResult run_dataops(const Workspaces& w, const std::vector<std::string>& args) {
    return w.repo.dataops(args);
}

/// A line of `git log -1 --format=<format>` of a workspace's main.
std::string show(const Workspaces& w, const std::string& name, const std::string& rev, const std::string& format) {
    return w.repo.git({"--git-dir=" + w.bare_of(name), "log", "-1", "--format=" + format, rev}).out;
}

/// Two promotions of dev into staging: the first merges dev's first change, the second mirrors
/// dev's second change. Returns staging's tips after each.
struct TwoPromotions {
    std::string seed_tip, first, second, dev_first, dev_second;
};

TwoPromotions promote_twice(Workspaces& w) {
    TwoPromotions p;
    p.seed_tip = w.tip("staging");
    w.change(w.dev_work, "add users", {{"transform/models/users.sql", "select 1\n"}});
    p.dev_first = w.tip("dev");
    auto first = w.promote({"staging", "--yes"});
    INFO(describe(first));
    REQUIRE(first.code == 0);
    p.first = w.tip("staging");
    w.change(w.dev_work, "add orders", {{"transform/models/orders.sql", "select 2\n"}});
    p.dev_second = w.tip("dev");
    auto second = w.promote({"staging", "--yes", "--mode", "mirror"});
    INFO(describe(second));
    REQUIRE(second.code == 0);
    p.second = w.tip("staging");
    return p;
}

}  // namespace

TEST_CASE("status shows every stage's tip, validity, waiting work and last promotion", "[e2e][history]") {
    Workspaces w;
    w.change(w.dev_work, "dev work", {{"transform/models/users.sql", "select 1\n"}});
    auto promoted = w.promote({"staging", "--yes"});
    INFO(describe(promoted));
    REQUIRE(promoted.code == 0);
    w.change(w.dev_work, "more dev work", {{"transform/models/orders.sql", "select 2\n"}});

    auto result = run_dataops(w, {"status", "--format", "json"});
    INFO(describe(result));
    REQUIRE(result.code == 0);
    auto json = nlohmann::json::parse(result.out);
    REQUIRE(json["stages"].size() == 3);
    auto dev = json["stages"][0];
    auto staging = json["stages"][1];
    auto prod = json["stages"][2];
    CHECK(dev["stage"] == "dev");
    CHECK(dev["tip"] == w.tip("dev"));
    CHECK(dev["valid"] == true);
    CHECK(dev["source"].is_null());
    CHECK(dev["last_promotion"].is_null());
    CHECK(staging["remote"] == "staging");
    CHECK(staging["branch"] == "main");
    CHECK(staging["environment"] == "staging");
    CHECK(staging["tip"] == w.tip("staging"));
    CHECK(staging["valid"] == true);
    CHECK(staging["source"] == "dev");
    CHECK(staging["waiting"] == 1);
    CHECK(staging["unrelated"] == false);
    CHECK(staging["last_promotion"]["commit"] == w.tip("staging"));
    CHECK(staging["last_promotion"]["source"]["stage"] == "dev");
    CHECK(staging["last_promotion"]["source"]["commit"] == trim(show(w, "dev", "main^", "%H")));
    CHECK(staging["last_promotion"]["mode"] == "merge");
    CHECK(staging["last_promotion"]["author"]["name"] == "A U Thor");
    CHECK(staging["last_promotion"]["date"] != "");
    // prod was never promoted into: its history and staging's are unrelated.
    CHECK(prod["tip"] == w.tip("prod"));
    CHECK(prod["unrelated"] == true);
    CHECK(prod["waiting"] > 0);
    CHECK(prod["last_promotion"].is_null());

    auto text = run_dataops(w, {"status"});
    INFO(describe(text));
    CHECK(text.code == 0);
    CHECK_THAT(text.out, Catch::Contains("staging  (staging/main, environment 'staging')"));
    CHECK_THAT(text.out, Catch::Contains("1 commit of dev not in staging\n"));
    CHECK_THAT(text.out, Catch::Contains("(unrelated histories)"));
    CHECK_THAT(text.out, Catch::Contains("by A U Thor <author@example.com> from dev"));
    CHECK_THAT(text.out, Catch::Contains("validates   yes"));

    SECTION("an unreachable stage is reported and the others still shown") {
        w.repo.git({"remote", "set-url", "prod", w.repo.root() + "/nowhere.git"});
        auto partial = run_dataops(w, {"status", "--format", "json"});
        INFO(describe(partial));
        CHECK(partial.code == 0);
        CHECK_THAT(partial.err, Catch::Contains("warning: stage 'prod' is unreachable"));
        auto doc = nlohmann::json::parse(partial.out);
        CHECK(doc["stages"][2]["reachable"] == false);
        CHECK(doc["stages"][2]["tip"].is_null());
        CHECK(doc["stages"][1]["tip"] == w.tip("staging"));
    }
    SECTION("a tip that does not validate for its environment") {
        auto bad = replaced(kSeedProject, "- name: staging\n  config:\n    plugins:\n      extractors:\n      - name: tap-auth0",
                            "- name: staging\n  config:\n    plugins:\n      extractors:\n      - name: tap-authzero");
        w.change(w.clone("staging"), "typo", {{"meltano.yml", bad}});
        auto invalid = run_dataops(w, {"status", "--format", "json"});
        INFO(describe(invalid));
        auto doc = nlohmann::json::parse(invalid.out);
        CHECK(doc["stages"][1]["valid"] == false);
        CHECK(doc["stages"][1]["errors"] > 0);
        CHECK(doc["stages"][0]["valid"] == true);
    }
}

TEST_CASE("log lists a stage's promotions newest first", "[e2e][history]") {
    Workspaces w;
    auto p = promote_twice(w);

    auto result = run_dataops(w, {"log", "staging", "--format", "json"});
    INFO(describe(result));
    REQUIRE(result.code == 0);
    auto json = nlohmann::json::parse(result.out);
    CHECK(json["stage"] == "staging");
    CHECK(json["tip"] == p.second);
    REQUIRE(json["entries"].size() == 2);
    CHECK(json["entries"][0]["kind"] == "promotion");
    CHECK(json["entries"][0]["commit"] == p.second);
    CHECK(json["entries"][0]["source"]["stage"] == "dev");
    CHECK(json["entries"][0]["source"]["commit"] == p.dev_second);
    CHECK(json["entries"][0]["mode"] == "mirror");
    CHECK(json["entries"][0]["author"]["email"] == "author@example.com");
    CHECK(json["entries"][0]["environment"] == "staging");
    CHECK(json["entries"][1]["commit"] == p.first);
    CHECK(json["entries"][1]["source"]["commit"] == p.dev_first);
    CHECK(json["entries"][1]["mode"] == "merge");

    auto limited = run_dataops(w, {"log", "staging", "-n", "1", "--format", "json"});
    INFO(describe(limited));
    CHECK(nlohmann::json::parse(limited.out)["entries"].size() == 1);

    auto text = run_dataops(w, {"log", "staging"});
    INFO(describe(text));
    CHECK(text.code == 0);
    auto first_line = text.out.substr(0, text.out.find('\n'));
    CHECK_THAT(first_line, Catch::StartsWith(p.second.substr(0, 7)));
    CHECK_THAT(first_line, Catch::Contains("promote from dev " + p.dev_second.substr(0, 7) + " (mirror)"));

    auto none = run_dataops(w, {"log", "prod"});
    CHECK(none.code == 0);
    CHECK(none.out == "no promotions into prod\n");
    auto unknown = run_dataops(w, {"log", "qa"});
    CHECK(unknown.code == 128);
    CHECK_THAT(unknown.err, Catch::Contains("fatal: unknown stage 'qa'"));
    auto help = run_dataops(w, {"log", "-h"});
    CHECK(help.code == 0);
    CHECK_THAT(help.out, Catch::StartsWith("usage: git dataops log <stage>"));
}

TEST_CASE("rollback restores the tree from before the last promotion as a new commit", "[e2e][history]") {
    Workspaces w;
    auto p = promote_twice(w);
    const auto git_dir = "--git-dir=" + w.bare_of("staging");
    const auto first_tree = trim(show(w, "staging", p.first, "%T"));

    SECTION("--dry-run moves nothing") {
        auto dry = run_dataops(w, {"rollback", "staging", "--dry-run"});
        INFO(describe(dry));
        CHECK(dry.code == 0);
        CHECK_THAT(dry.out, Catch::Contains("rollback staging to " + p.first.substr(0, 7)));
        CHECK_THAT(dry.out, Catch::Contains("removed  transform/models/orders.sql"));
        CHECK(w.tip("staging") == p.second);
    }
    SECTION("the default: one promotion back, pushed on top of the tip") {
        auto result = run_dataops(w, {"rollback", "staging", "--yes"});
        INFO(describe(result));
        CHECK(result.code == 0);
        CHECK_THAT(result.err, Catch::Contains("rolled back 'staging' to '" + p.first.substr(0, 7) + "'"));
        const auto tip = w.tip("staging");
        CHECK(tip != p.second);
        // Never forced: the old tip is the rollback's only parent.
        CHECK(trim(w.repo.git({git_dir, "rev-parse", "main^"}).out) == p.second);
        CHECK(show(w, "staging", "main", "%P") == p.second + "\n");
        CHECK(w.tree("staging") == first_tree);
        auto message = show(w, "staging", "main", "%B");
        CHECK_THAT(message, Catch::StartsWith("rollback staging to " + p.first.substr(0, 7) + "\n"));
        CHECK_THAT(message, Catch::Contains("Dataops-Rollback: " + p.first + "\nDataops-Target: staging\n"
                                            "Dataops-Environment: staging\n"));

        auto log = nlohmann::json::parse(run_dataops(w, {"log", "staging", "--format", "json"}).out);
        REQUIRE(log["entries"].size() == 3);
        CHECK(log["entries"][0]["kind"] == "rollback");
        CHECK(log["entries"][0]["restored"] == p.first);

        auto again = run_dataops(w, {"rollback", "staging", "--yes"});
        INFO(describe(again));
        CHECK(again.code == 0);
        CHECK_THAT(again.out, Catch::Contains("staging already has the tree of"));
        CHECK(w.tip("staging") == tip);
    }
    SECTION("--steps 2 goes back before both promotions") {
        auto result = run_dataops(w, {"rollback", "staging", "--steps", "2", "--yes", "--format", "json"});
        INFO(describe(result));
        CHECK(result.code == 0);
        auto json = nlohmann::json::parse(result.out);
        CHECK(json["restored"] == p.seed_tip);
        CHECK(json["pushed"] == true);
        CHECK(json["commit"] == w.tip("staging"));
        CHECK(w.tree("staging") == trim(show(w, "staging", p.seed_tip, "%T")));
        auto too_far = run_dataops(w, {"rollback", "staging", "--steps", "5", "--yes"});
        CHECK(too_far.code == 128);
        CHECK_THAT(too_far.err, Catch::Contains("fatal: stage 'staging' has 2 promotions to roll back, not 5"));
    }
    SECTION("--to names the commit whose tree to restore") {
        auto result = run_dataops(w, {"rollback", "staging", "--to", p.seed_tip, "--yes"});
        INFO(describe(result));
        CHECK(result.code == 0);
        CHECK(w.tree("staging") == trim(show(w, "staging", p.seed_tip, "%T")));
        CHECK(show(w, "staging", "main", "%P") == p.second + "\n");
        auto bad = run_dataops(w, {"rollback", "staging", "--to", "no-such-commit", "--yes"});
        CHECK(bad.code == 128);
        CHECK_THAT(bad.err, Catch::Contains("fatal: bad revision 'no-such-commit'"));
    }
}

TEST_CASE("rollback refuses a tree that does not validate for the stage", "[e2e][history]") {
    Workspaces w;
    // Someone pushed a broken configuration straight to staging; a mirror promotion replaced it.
    auto bad = replaced(kSeedProject, "- name: staging\n  config:\n    plugins:\n      extractors:\n      - name: tap-auth0",
                        "- name: staging\n  config:\n    plugins:\n      extractors:\n      - name: tap-authzero");
    w.change(w.clone("staging"), "typo", {{"meltano.yml", bad}});
    auto promoted = w.promote({"staging", "--yes", "--mode", "mirror"});
    INFO(describe(promoted));
    REQUIRE(promoted.code == 0);
    const auto before = w.tip("staging");

    auto result = run_dataops(w, {"rollback", "staging", "--yes"});
    INFO(describe(result));
    CHECK(result.code == 1);
    CHECK_THAT(result.err, Catch::Contains("tap-authzero"));
    CHECK_THAT(result.err, Catch::Contains("does not validate for environment 'staging'; nothing was pushed"));
    CHECK(w.tip("staging") == before);
    CHECK(result.err.find('\033') == std::string::npos);

    // Its findings are coloured as the other commands' are, when asked.
    auto coloured = run_dataops(w, {"rollback", "staging", "--yes", "--color=always"});
    INFO(describe(coloured));
    CHECK(coloured.code == 1);
    CHECK_THAT(coloured.err, Catch::Contains("\033[1;31merror:\033[m"));
    CHECK(run_dataops(w, {"rollback", "staging", "--yes", "--color=sometimes"}).code == 129);
    CHECK(w.tip("staging") == before);
}
