#include <catch2/catch.hpp>

#include <filesystem>

#include <dataops/stages/pipeline.hpp>
#include <dataops/util/error.hpp>

#include "support/temp_repo.hpp"

using namespace dataops;

namespace {
git::Config config_of(std::initializer_list<std::pair<std::string, std::string>> entries) {
    std::string text;
    for (const auto& [key, value] : entries) {
        text += key + "\n" + value + '\0';
    }
    return git::Config::parse_z_list(text);
}
}  // namespace

TEST_CASE("with no configuration the pipeline is dev, staging, prod named after their remotes", "[stages]") {
    auto pipeline = stages::load_pipeline(git::Config());
    CHECK_FALSE(pipeline.configured);
    REQUIRE(pipeline.stages.size() == 3);
    const auto& staging = pipeline.stages[1];
    CHECK(staging.name == "staging");
    CHECK(staging.remote == "staging");
    CHECK(staging.branch == "main");
    CHECK(staging.environment == "staging");
    CHECK(pipeline.previous(staging)->name == "dev");
    CHECK(pipeline.previous(pipeline.stages[0]) == nullptr);
}

TEST_CASE("configured stages take their remote, branch and environment from git config", "[stages]") {
    auto config = config_of({{"dataops.stages", "dev, staging  prod"},
                             {"dataops.staging.remote", "origin"},
                             {"dataops.prod.branch", "refs/heads/release"},
                             {"dataops.prod.environment", "production"}});
    auto pipeline = stages::load_pipeline(config);
    CHECK(pipeline.configured);
    CHECK(pipeline.find("staging")->remote == "origin");
    CHECK(pipeline.find("prod")->branch == "release");
    CHECK(pipeline.find("prod")->environment == "production");
    CHECK(pipeline.find("qa") == nullptr);
}

TEST_CASE("an unusable stage list is an error", "[stages]") {
    CHECK_THROWS_AS(stages::load_pipeline(config_of({{"dataops.stages", " , "}})), Error);
    CHECK_THROWS_WITH(stages::load_pipeline(config_of({{"dataops.stages", "dev dev"}})),
                      "stage 'dev' appears twice in 'dataops.stages'");
    CHECK_THROWS_WITH(stages::load_pipeline(config_of({{"dataops.stages", "dev st/aging"}})),
                      "bad stage name 'st/aging' in 'dataops.stages'");
}

TEST_CASE("a push is mapped to its stage by remote name or URL and by branch", "[stages]") {
    auto config = config_of({{"remote.staging.url", "git@example.com:team/ws-staging.git"},
                             {"remote.prod.url", "/srv/prod"},
                             {"remote.prod.pushurl", "/srv/prod-push.git"}});
    auto pipeline = stages::load_pipeline(config);
    SECTION("a named remote and the stage's branch") {
        auto stage = stages::match_push(pipeline, config, "staging", "git@example.com:team/ws-staging.git",
                                        "refs/heads/main");
        REQUIRE(stage != nullptr);
        CHECK(stage->name == "staging");
    }
    SECTION("another branch of a stage's remote is outside the pipeline") {
        CHECK(stages::match_push(pipeline, config, "staging", "x", "refs/heads/feature") == nullptr);
        CHECK(stages::match_push(pipeline, config, "staging", "x", "refs/tags/v1") == nullptr);
    }
    SECTION("a URL pushed to directly matches the stage whose remote has it") {
        auto stage = stages::match_push(pipeline, config, "git@example.com:team/ws-staging",
                                        "git@example.com:team/ws-staging", "refs/heads/main");
        REQUIRE(stage != nullptr);
        CHECK(stage->name == "staging");
        auto prod = stages::match_push(pipeline, config, "/srv/prod-push", "/srv/prod-push", "refs/heads/main");
        REQUIRE(prod != nullptr);
        CHECK(prod->name == "prod");
    }
    SECTION("a remote outside the pipeline matches nothing") {
        CHECK(stages::match_push(pipeline, config, "origin", "/elsewhere", "refs/heads/main") == nullptr);
    }
}

TEST_CASE("a local repository matches its stage however its path is spelt", "[stages]") {
    testing::TempDir dir;
    const std::filesystem::path root = std::filesystem::canonical(dir.path());
    std::filesystem::create_directories(root / "prod.git");
    std::filesystem::create_directories(root / "other.git");
    std::filesystem::create_directory_symlink(root / "prod.git", root / "link");
    auto config = config_of({{"remote.prod.url", (root / "prod.git").string()}});
    auto pipeline = stages::load_pipeline(config);
    auto stage_of = [&](const std::string& url) {
        const auto* stage = stages::match_push(pipeline, config, url, url, "refs/heads/main");
        return stage ? stage->name : std::string("(none)");
    };
    CHECK(stage_of("file://" + (root / "prod.git").string()) == "prod");
    CHECK(stage_of((root / "other.git" / ".." / "prod.git").string()) == "prod");
    CHECK(stage_of((root / "prod").string()) == "prod");
    CHECK(stage_of((root / "link").string()) == "prod");
    CHECK(stage_of((root / "link" / "").string()) == "prod");
    CHECK(stage_of((root / "other.git").string()) == "(none)");
    // Relative paths are taken from the current directory, as git takes them.
    const auto relative = std::filesystem::relative(root / "prod.git", std::filesystem::current_path());
    CHECK(stage_of(relative.string()) == "prod");
    // `host:path` is ssh even when such a directory exists here.
    CHECK(stage_of("example.com:" + (root / "prod.git").string()) == "(none)");
}

TEST_CASE("dataops.project is read once, normalised and confined to the repository", "[stages]") {
    CHECK_FALSE(stages::configured_project_dir(git::Config()).has_value());
    CHECK(stages::configured_project_dir(config_of({{"dataops.project", "./proj/sub/"}})) == "proj/sub");
    CHECK(stages::configured_project_dir(config_of({{"dataops.project", "."}})) == "");
    CHECK_THROWS_WITH(stages::configured_project_dir(config_of({{"dataops.project", "../elsewhere"}})),
                      "bad config value '../elsewhere' for 'dataops.project': outside the repository");
    CHECK_THROWS_AS(stages::configured_project_dir(config_of({{"dataops.project", "/abs"}})), Error);
}
