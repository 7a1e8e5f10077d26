// Colour as git decides it: --color/--no-color, color.dataops, color.ui, a terminal, NO_COLOR.
#include <catch2/catch.hpp>

#include "support/fixtures.hpp"
#include "support/temp_repo.hpp"

using dataops::testing::describe;
using dataops::testing::kSeedProject;
using dataops::testing::RunOptions;
using dataops::testing::TempRepo;

namespace {

const std::string kRedError = "\033[1;31merror:\033[m";
const std::string kDim = "\033[2m";

/// The seed with the prod block's plugin misspelt: one error.
std::string broken() {
    std::string text = kSeedProject;
    const std::string prod_entry = "- name: tap-auth0\n        config:\n          client_id: u4kc";
    text.replace(text.find(prod_entry), std::string("- name: tap-auth0").size(), "- name: tap-authzero");
    return text;
}

bool coloured(const std::string& text) {
    return text.find('\033') != std::string::npos;
}

/// Run `git dataops <args>` with a terminal as stdin/stdout/stderr (util-linux `script`).
dataops::testing::RunResult on_terminal(const TempRepo& repo, const std::string& args, RunOptions options = {}) {
    return repo.run({"script", "-qec", "git dataops " + args, "/dev/null"}, options);
}

}  // namespace

TEST_CASE("validate colours errors only when asked or on a terminal", "[e2e][color]") {
    TempRepo repo;
    repo.commit("broken", {{"meltano.yml", broken()}});

    auto piped = repo.dataops({"validate"});
    INFO(describe(piped));
    CHECK(piped.code == 1);
    CHECK_FALSE(coloured(piped.out + piped.err));

    auto always = repo.dataops({"validate", "--color=always"});
    INFO(describe(always));
    CHECK(always.code == 1);
    CHECK_THAT(always.out, Catch::Contains(kRedError));
    CHECK_THAT(repo.dataops({"validate", "--color"}).out, Catch::Contains(kRedError));

    // git config: color.dataops wins over color.ui; the command line wins over both.
    CHECK_THAT(repo.git({"-c", "color.ui=always", "dataops", "validate"}, {}, false).out, Catch::Contains(kRedError));
    CHECK_FALSE(coloured(
        repo.git({"-c", "color.ui=always", "-c", "color.dataops=never", "dataops", "validate"}, {}, false).out));
    CHECK_FALSE(coloured(repo.git({"-c", "color.ui=always", "dataops", "validate", "--no-color"}, {}, false).out));
    CHECK_FALSE(coloured(repo.git({"-c", "color.ui=false", "dataops", "validate"}, {}, false).out));

    auto terminal = on_terminal(repo, "validate");
    INFO(describe(terminal));
    CHECK_THAT(terminal.out, Catch::Contains(kRedError));
    RunOptions no_color;
    no_color.env["NO_COLOR"] = "1";
    CHECK_FALSE(coloured(on_terminal(repo, "validate", no_color).out));
    // An explicit choice overrides NO_COLOR (no-color.org), `auto` does not.
    CHECK_THAT(on_terminal(repo, "validate --color=always", no_color).out, Catch::Contains(kRedError));
    repo.git({"config", "color.ui", "auto"});
    CHECK_FALSE(coloured(on_terminal(repo, "validate", no_color).out));
    CHECK_THAT(on_terminal(repo, "validate").out, Catch::Contains(kRedError));
}

TEST_CASE("env show dims sources and env diff colours old and new values", "[e2e][color]") {
    TempRepo repo;
    repo.commit("seed", {{"meltano.yml", kSeedProject}});
    auto show = repo.dataops({"env", "show", "prod", "--color=always"});
    INFO(describe(show));
    CHECK(show.code == 0);
    CHECK_THAT(show.out, Catch::Contains(kDim + "meltano_environment\033[m"));
    CHECK_FALSE(coloured(repo.dataops({"env", "show", "prod"}).out));

    auto diff = repo.dataops({"env", "diff", "dev", "prod", "--color=always"});
    INFO(describe(diff));
    CHECK_THAT(diff.out, Catch::Contains("\033[31mmatatika-staging.eu.auth0.com\033[m"));
    CHECK_THAT(diff.out, Catch::Contains("\033[32mmatatika.eu.auth0.com\033[m"));
}

TEST_CASE("colour settings that make no sense are refused", "[e2e][color]") {
    TempRepo repo;
    repo.commit("seed", {{"meltano.yml", kSeedProject}});
    auto bad_option = repo.dataops({"validate", "--color=sometimes"});
    CHECK(bad_option.code == 129);
    CHECK_THAT(bad_option.err, Catch::StartsWith("error: invalid --color value 'sometimes'"));

    auto bad_config = repo.git({"-c", "color.dataops=purple", "dataops", "validate"}, {}, false);
    CHECK(bad_config.code == 128);
    CHECK_THAT(bad_config.err, Catch::StartsWith("fatal: bad value 'purple' for 'color.dataops'"));
}

TEST_CASE("the pre-push hook colours its findings when git config says so", "[e2e][color][hooks]") {
    TempRepo repo;
    auto bare = repo.bare("prod");
    repo.git({"remote", "add", "prod", bare});
    repo.commit("broken", {{"meltano.yml", broken()}});
    REQUIRE(repo.dataops({"hooks", "install"}).code == 0);

    auto plain = repo.git({"push", "prod", "main"}, {}, false);
    INFO(describe(plain));
    CHECK(plain.code != 0);
    CHECK_THAT(plain.err, Catch::Contains("error: environment 'prod' configures extractor 'tap-authzero'"));
    CHECK_FALSE(coloured(plain.err));

    auto coloured_push = repo.git({"-c", "color.dataops=always", "push", "prod", "main"}, {}, false);
    CHECK(coloured_push.code != 0);
    CHECK_THAT(coloured_push.err, Catch::Contains(kRedError));
}
