#include <catch2/catch.hpp>

#include <sys/stat.h>

#include <filesystem>

#include <dataops/util/strings.hpp>

#include "support/fixtures.hpp"
#include "support/temp_repo.hpp"

using dataops::testing::describe;
using dataops::testing::in_dir;
using dataops::testing::kSeedProject;
using dataops::testing::RunOptions;
using dataops::testing::TempRepo;

namespace {

/// The seed project with the staging block naming a plugin that does not exist.
std::string with_typo_in(const std::string& environment) {
    std::string text = kSeedProject;
    auto block = text.find("- name: " + environment);
    auto plugin = text.find("- name: tap-auth0", block);
    text.replace(plugin, 17, "- name: tap-authzero");
    return text;
}

/// The tip of `branch` in a bare repository, or "" when it does not exist.
std::string tip(const TempRepo& repo, const std::string& bare, const std::string& branch = "main") {
    auto result = repo.git({"--git-dir=" + bare, "rev-parse", "--verify", "-q", "refs/heads/" + branch}, {}, false);
    return result.code == 0 ? result.out.substr(0, 40) : std::string();
}

/// A repository with the seed committed, the pipeline's three remotes, and the hook installed.
struct Pipeline {
    TempRepo repo;
    std::string dev, staging, prod;
    Pipeline() {
        repo.commit("seed", {{"meltano.yml", kSeedProject}});
        dev = repo.bare("dev");
        staging = repo.bare("staging");
        prod = repo.bare("prod");
        repo.git({"remote", "add", "dev", dev});
        repo.git({"remote", "add", "staging", staging});
        repo.git({"remote", "add", "prod", prod});
        auto installed = repo.dataops({"hooks", "install"});
        REQUIRE(installed.code == 0);
    }
};

}  // namespace

TEST_CASE("the pre-push hook lets a valid push through and blocks an unknown plugin", "[e2e][hooks]") {
    Pipeline p;
    auto good = p.repo.git({"push", "staging", "main"}, {}, false);
    INFO(describe(good));
    CHECK(good.code == 0);
    CHECK_THAT(good.err, Catch::Contains("git-dataops: checking meltano.yml of"));
    CHECK_THAT(good.err, Catch::Contains("for environment 'staging' (push to staging/main)"));
    const std::string before = tip(p.repo, p.staging);
    CHECK(before == p.repo.git({"rev-parse", "HEAD"}).out.substr(0, 40));

    p.repo.commit("typo in staging", {{"meltano.yml", with_typo_in("staging")}});
    auto bad = p.repo.git({"push", "staging", "main"}, {}, false);
    INFO(describe(bad));
    CHECK(bad.code != 0);
    CHECK_THAT(bad.err, Catch::Contains("meltano.yml:16:"));
    CHECK_THAT(bad.err, Catch::Contains("tap-authzero"));
    CHECK_THAT(bad.err, Catch::Contains("[unknown-plugin]"));
    CHECK_THAT(bad.err, Catch::Contains("git push --no-verify"));
    CHECK(tip(p.repo, p.staging) == before);  // nothing reached the remote

    SECTION("the same commit is only a warning on its way to another stage") {
        auto to_prod = p.repo.git({"push", "prod", "main"}, {}, false);
        INFO(describe(to_prod));
        CHECK(to_prod.code == 0);
        CHECK_THAT(to_prod.err, Catch::Contains("warning:"));
        CHECK(tip(p.repo, p.prod) == p.repo.git({"rev-parse", "HEAD"}).out.substr(0, 40));
    }
    SECTION("pushing to the stage's repository by another spelling of its path is still that stage") {
        const std::string relative =
            std::filesystem::relative(p.staging, std::filesystem::canonical(p.repo.path())).string();
        for (const std::string& url : {"file://" + p.staging, relative, p.staging + "/"}) {
            auto spelt = p.repo.git({"push", url, "main"}, {}, false);
            INFO(url << "\n" << describe(spelt));
            CHECK(spelt.code != 0);
            CHECK_THAT(spelt.err, Catch::Contains("for environment 'staging'"));
            CHECK_THAT(spelt.err, Catch::Contains("[unknown-plugin]"));
        }
        CHECK(tip(p.repo, p.staging) == before);
    }
    SECTION("--no-verify and DATAOPS_SKIP=1 bypass the check") {
        RunOptions skip;
        skip.env["DATAOPS_SKIP"] = "1";
        auto skipped = p.repo.git({"push", "staging", "main"}, skip, false);
        INFO(describe(skipped));
        CHECK(skipped.code == 0);
        CHECK(tip(p.repo, p.staging) != before);
    }
    SECTION("--no-verify skips the hook entirely") {
        CHECK(p.repo.git({"push", "--no-verify", "staging", "main"}, {}, false).code == 0);
        CHECK(tip(p.repo, p.staging) != before);
    }
}

TEST_CASE("the hook judges the pushed commit, not the working tree", "[e2e][hooks]") {
    Pipeline p;
    p.repo.commit("typo in staging", {{"meltano.yml", with_typo_in("staging")}});
    p.repo.write("meltano.yml", kSeedProject);  // fixed, but not committed
    CHECK(p.repo.git({"push", "staging", "main"}, {}, false).code != 0);
    p.repo.commit("fix", {{"meltano.yml", kSeedProject}});
    p.repo.write("meltano.yml", with_typo_in("staging"));  // broken, but not committed
    auto result = p.repo.git({"push", "staging", "main"}, {}, false);
    INFO(describe(result));
    CHECK(result.code == 0);
}

TEST_CASE("dataops.project moves what the hook judges away from the root it reads first", "[e2e][hooks]") {
    // The hook reads the root's meltano.yml of each pushed commit while git reads the
    // configuration; dataops.project must still decide which project is judged.
    Pipeline p;
    p.repo.git({"config", "dataops.project", "proj"});
    p.repo.commit("broken root, good project", {{"meltano.yml", with_typo_in("staging")}, {"proj/meltano.yml", kSeedProject}});
    auto good = p.repo.git({"push", "staging", "main"}, {}, false);
    INFO(describe(good));
    CHECK(good.code == 0);
    CHECK_THAT(good.err, Catch::Contains("checking proj/meltano.yml of"));
    CHECK_THAT(good.err, !Catch::Contains("tap-authzero"));

    p.repo.commit("good root, broken project", {{"meltano.yml", kSeedProject}, {"proj/meltano.yml", with_typo_in("staging")}});
    auto bad = p.repo.git({"push", "staging", "main"}, {}, false);
    INFO(describe(bad));
    CHECK(bad.code != 0);
    CHECK_THAT(bad.err, Catch::Contains("proj/meltano.yml:16:") && Catch::Contains("[unknown-plugin]"));
}

TEST_CASE("several refs, new branches, tags and deletes in one push", "[e2e][hooks]") {
    Pipeline p;
    REQUIRE(p.repo.git({"push", "staging", "main"}, {}, false).code == 0);
    p.repo.git({"branch", "feature"});
    p.repo.git({"tag", "-a", "v1", "-m", "release v1"});
    auto several = p.repo.git({"push", "staging", "main", "feature", "v1"}, {}, false);
    INFO(describe(several));
    CHECK(several.code == 0);
    CHECK(tip(p.repo, p.staging, "feature") != "");
    auto deleted = p.repo.git({"push", "staging", ":feature"}, {}, false);
    INFO(describe(deleted));
    CHECK(deleted.code == 0);
    CHECK(tip(p.repo, p.staging, "feature").empty());
    auto up_to_date = p.repo.git({"push", "staging", "main"}, {}, false);
    CHECK(up_to_date.code == 0);

    SECTION("a broken commit on a branch outside the pipeline is checked for shape only") {
        p.repo.git({"checkout", "-q", "-b", "topic"});
        p.repo.commit("typo in staging", {{"meltano.yml", with_typo_in("staging")}});
        auto topic = p.repo.git({"push", "staging", "topic"}, {}, false);
        INFO(describe(topic));
        CHECK(topic.code == 0);
        CHECK_THAT(topic.err, Catch::Contains("outside the pipeline"));
        p.repo.commit("syntax error", {{"meltano.yml", "environments: [\n"}});
        auto broken = p.repo.git({"push", "staging", "topic"}, {}, false);
        INFO(describe(broken));
        CHECK(broken.code != 0);
        CHECK_THAT(broken.err, Catch::Contains("meltano.yml:"));
    }
}

TEST_CASE("a foreign pre-push hook keeps running with the same input and comes back on uninstall",
          "[e2e][hooks]") {
    TempRepo repo;
    repo.commit("seed", {{"meltano.yml", kSeedProject}});
    auto staging = repo.bare("staging");
    repo.git({"remote", "add", "staging", staging});
    const std::string hook = repo.path() + "/.git/hooks/pre-push";
    const std::string foreign =
        "#!/bin/sh\n# a team's own hook\necho \"$1 $2\" > \"$(git rev-parse --git-dir)/foreign-args\"\n"
        "cat > \"$(git rev-parse --git-dir)/foreign-stdin\"\nexit 0\n";
    repo.write(".git/hooks/pre-push", foreign);
    ::chmod(hook.c_str(), 0750);

    auto installed = repo.dataops({"hooks", "install"});
    INFO(describe(installed));
    CHECK(installed.code == 0);
    CHECK_THAT(installed.err, Catch::Contains("pre-push.legacy"));
    CHECK(repo.read(".git/hooks/pre-push.legacy") == foreign);

    auto pushed = repo.git({"push", "staging", "main"}, {}, false);
    INFO(describe(pushed));
    CHECK(pushed.code == 0);
    auto head = repo.git({"rev-parse", "HEAD"}).out.substr(0, 40);
    CHECK(repo.read(".git/foreign-stdin") ==
          "refs/heads/main " + head + " refs/heads/main 0000000000000000000000000000000000000000\n");
    CHECK(repo.read(".git/foreign-args") == "staging " + staging + "\n");

    SECTION("a foreign hook that never reads its input does not break the chain") {
        repo.write(".git/hooks/pre-push.legacy", "#!/bin/sh\nexit 0\n");
        repo.commit("more", {{"README", "y"}});
        auto quiet = repo.git({"push", "staging", "main"}, {}, false);
        INFO(describe(quiet));
        CHECK(quiet.code == 0);
        CHECK_THAT(quiet.err, Catch::Contains("git-dataops: checking meltano.yml"));
    }
    SECTION("a failing foreign hook still blocks the push") {
        repo.write(".git/hooks/pre-push.legacy", "#!/bin/sh\ncat >/dev/null\nexit 3\n");
        repo.commit("more", {{"README", "x"}});
        CHECK(repo.git({"push", "staging", "main"}, {}, false).code != 0);
    }
    SECTION("installing twice changes nothing; uninstall restores the hook byte for byte") {
        auto again = repo.dataops({"hooks", "install"});
        CHECK(again.code == 0);
        CHECK_THAT(again.err, Catch::Contains("already installed"));
        auto removed = repo.dataops({"hooks", "uninstall"});
        INFO(describe(removed));
        CHECK(removed.code == 0);
        CHECK(repo.read(".git/hooks/pre-push") == foreign);
        struct stat st {};
        REQUIRE(::stat(hook.c_str(), &st) == 0);
        CHECK((st.st_mode & 07777) == 0750);
        CHECK(::stat((hook + ".legacy").c_str(), &st) != 0);
    }
}

TEST_CASE("hooks status says where the hook is and whether git runs it", "[e2e][hooks]") {
    TempRepo repo;
    repo.commit("seed", {{"meltano.yml", kSeedProject}});
    auto before = repo.dataops({"hooks", "status"});
    CHECK(before.code == 1);
    CHECK_THAT(before.out, Catch::Contains("installed: no"));
    REQUIRE(repo.dataops({"hooks", "install"}).code == 0);
    auto after = repo.dataops({"hooks", "status"});
    INFO(describe(after));
    CHECK(after.code == 0);
    CHECK_THAT(after.out, Catch::Contains("hook: " + repo.path() + "/.git/hooks/pre-push"));
    CHECK_THAT(after.out, Catch::Contains("installed: yes, version 1 (current)"));
    CHECK_THAT(after.out, Catch::Contains("git runs it: yes"));
}

TEST_CASE("core.hooksPath, linked worktrees and bare repositories get the hook where git looks",
          "[e2e][hooks]") {
    TempRepo repo;
    repo.commit("seed", {{"meltano.yml", kSeedProject}});
    auto staging = repo.bare("staging");
    repo.git({"remote", "add", "staging", staging});
    repo.commit("typo", {{"meltano.yml", with_typo_in("staging")}});

    SECTION("a relative core.hooksPath") {
        repo.git({"config", "core.hooksPath", "githooks"});
        REQUIRE(repo.dataops({"hooks", "install"}, in_dir(repo.path())).code == 0);
        struct stat st {};
        CHECK(::stat((repo.path() + "/githooks/pre-push").c_str(), &st) == 0);
        CHECK(repo.git({"push", "staging", "main"}, {}, false).code != 0);
    }
    SECTION("an absolute core.hooksPath, installed from a subdirectory") {
        const std::string dir = repo.root() + "/shared-hooks";
        repo.git({"config", "core.hooksPath", dir});
        repo.write("sub/file", "x");
        REQUIRE(repo.dataops({"hooks", "install"}, in_dir(repo.path() + "/sub")).code == 0);
        struct stat st {};
        CHECK(::stat((dir + "/pre-push").c_str(), &st) == 0);
        CHECK(repo.git({"push", "staging", "main"}, {}, false).code != 0);
    }
    SECTION("a core.hooksPath from the global configuration needs consent") {
        repo.git({"config", "--global", "core.hooksPath", repo.root() + "/global-hooks"});
        auto refused = repo.dataops({"hooks", "install"});
        CHECK(refused.code == 128);
        CHECK_THAT(refused.err, Catch::Contains("every repository"));
        CHECK(repo.dataops({"hooks", "install", "--shared"}).code == 0);
    }
    SECTION("a linked worktree") {
        const std::string wt = repo.root() + "/wt";
        repo.git({"worktree", "add", "-q", wt, "-b", "wt-branch"});
        REQUIRE(repo.dataops({"hooks", "install"}, in_dir(wt)).code == 0);
        struct stat st {};
        CHECK(::stat((repo.path() + "/.git/hooks/pre-push").c_str(), &st) == 0);
        auto pushed = repo.git({"push", "staging", "wt-branch:main"}, in_dir(wt), false);
        INFO(describe(pushed));
        CHECK(pushed.code != 0);
    }
    SECTION("a bare repository pushing onwards") {
        auto mirror = repo.bare("mirror");
        repo.git({"push", "-q", "--no-verify", mirror, "main"});
        repo.git({"--git-dir=" + mirror, "remote", "add", "staging", staging});
        REQUIRE(repo.dataops({"hooks", "install"}, in_dir(mirror)).code == 0);
        auto pushed = repo.git({"push", "staging", "main"}, in_dir(mirror), false);
        INFO(describe(pushed));
        CHECK(pushed.code != 0);
        CHECK_THAT(pushed.err, Catch::Contains("unknown-plugin"));
    }
}

TEST_CASE("the server-side pre-receive hook rejects what --no-verify let through", "[e2e][hooks]") {
    TempRepo repo;
    repo.commit("seed", {{"meltano.yml", kSeedProject}});
    auto staging = repo.bare("staging");
    auto installed = repo.run({"git", "dataops", "hooks", "install", "--server", "--environment", "staging"},
                              in_dir(staging));
    INFO(describe(installed));
    REQUIRE(installed.code == 0);
    repo.git({"remote", "add", "staging", staging});
    CHECK(repo.git({"push", "--no-verify", "staging", "main"}, {}, false).code == 0);
    const std::string before = tip(repo, staging);
    repo.commit("typo", {{"meltano.yml", with_typo_in("staging")}});
    auto pushed = repo.git({"push", "--no-verify", "staging", "main"}, {}, false);
    INFO(describe(pushed));
    CHECK(pushed.code != 0);
    CHECK_THAT(pushed.err, Catch::Contains("unknown-plugin"));
    CHECK(tip(repo, staging) == before);
}

TEST_CASE("refs that carry the same tree are judged and reported once, naming the refs", "[e2e][hooks]") {
    Pipeline p;
    p.repo.git({"checkout", "-q", "-b", "topic0"});
    p.repo.commit("syntax error", {{"meltano.yml", "environments: [\n"}});
    for (int k = 1; k <= 6; ++k) {
        p.repo.git({"checkout", "-q", "-b", "topic" + std::to_string(k)});
        p.repo.git({"commit", "-q", "--allow-empty", "-m", "same tree " + std::to_string(k)});
    }
    auto lines_with = [](const std::string& text, const std::string& needle) {
        int count = 0;
        for (auto at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1)) {
            ++count;
        }
        return count;
    };
    auto one = p.repo.git({"push", "staging", "topic0"}, {}, false);
    INFO(describe(one));
    CHECK(one.code != 0);
    REQUIRE(lines_with(one.err, "git-dataops: checking") == 1);
    const int findings = lines_with(one.err, "meltano.yml:");
    REQUIRE(findings > 0);

    // Six branches, six commits, one tree: one check, its findings once, one error counted.
    auto many = p.repo.git({"push", "staging", "topic1", "topic2", "topic3", "topic4", "topic5", "topic6"}, {}, false);
    INFO(describe(many));
    CHECK(many.code != 0);
    CHECK(lines_with(many.err, "git-dataops: checking") == 1);
    CHECK_THAT(many.err, Catch::Contains("(push to staging topic1, topic2, topic3 and 3 more refs with the same tree, "
                                         "outside the pipeline: syntax and shape only)"));
    CHECK(lines_with(many.err, "meltano.yml:") == findings);
    auto blocked = [](const std::string& err) {
        auto at = err.find("push blocked: ");
        return at == std::string::npos ? std::string() : err.substr(at, err.find(" in ", at) - at);
    };
    CHECK_FALSE(blocked(one.err).empty());
    CHECK(blocked(many.err) == blocked(one.err));
    CHECK(tip(p.repo, p.staging, "topic1").empty());

    // Another tree in the same push is a check of its own.
    p.repo.git({"checkout", "-q", "main"});
    auto two = p.repo.git({"push", "staging", "main", "topic1", "topic2"}, {}, false);
    INFO(describe(two));
    CHECK(lines_with(two.err, "git-dataops: checking") == 2);
    CHECK_THAT(two.err, Catch::Contains("(push to staging topic1 and topic2 with the same tree, outside the pipeline"));
    CHECK_THAT(two.err, Catch::Contains("for environment 'staging' (push to staging/main)"));
}

TEST_CASE("the hook finds the repository without git rev-parse and reads the commits beside git config",
          "[e2e][hooks]") {
    Pipeline p;
    // git puts its own directory first on PATH for the hooks it runs: run the installed hook as
    // git would, with a logging `git` first on PATH to see every git process the hook starts.
    const std::string bin = p.repo.root() + "/logging-bin";
    const std::string log = p.repo.root() + "/git.log";
    auto real = p.repo.run({"sh", "-c", "command -v git"});
    REQUIRE(real.code == 0);
    p.repo.write("../logging-bin/git", "#!/bin/sh\nprintf '%s\\n' \"$*\" >> '" + log + "'\nexec " +
                                           dataops::util::trim(real.out) + " \"$@\"\n");
    REQUIRE(::chmod((bin + "/git").c_str(), 0755) == 0);
    const std::string head = p.repo.git({"rev-parse", "HEAD"}).out.substr(0, 40);
    RunOptions options;
    options.env["PATH"] = bin + ":" + *p.repo.environment().at("PATH");
    options.input = "refs/heads/main " + head + " refs/heads/main " + std::string(40, '0') + "\n";
    options.cwd = p.repo.path();
    auto ran = p.repo.run({p.repo.path() + "/.git/hooks/pre-push", "staging", p.staging}, options);
    INFO(describe(ran));
    CHECK(ran.code == 0);
    CHECK_THAT(ran.err, Catch::Contains("for environment 'staging' (push to staging/main)"));
    const std::string logged = p.repo.read("../git.log");
    INFO(logged);
    CHECK_THAT(logged, Catch::Contains("config -z --list"));
    CHECK_THAT(logged, Catch::Contains("cat-file --batch"));
    CHECK_THAT(logged, !Catch::Contains("rev-parse"));

    // The next push, with the configuration unchanged, reuses git's answer about it.
    p.repo.write("../git.log", "");
    auto again =
        p.repo.run({p.repo.path() + "/.git/hooks/pre-push", "staging", p.staging}, options);
    INFO(describe(again));
    CHECK(again.code == 0);
    CHECK_THAT(again.err, Catch::Contains("for environment 'staging' (push to staging/main)"));
    CHECK(p.repo.read("../git.log") == "cat-file --batch\n");
}

TEST_CASE("a change to the pipeline's configuration counts at the next push", "[e2e][hooks]") {
    Pipeline p;
    p.repo.commit("typo in staging", {{"meltano.yml", with_typo_in("staging")}});
    CHECK(p.repo.git({"push", "staging", "main"}, {}, false).code != 0);
    // The stage now runs the prod environment, whose block has no typo.
    p.repo.git({"config", "dataops.staging.environment", "prod"});
    auto retargeted = p.repo.git({"push", "staging", "main"}, {}, false);
    INFO(describe(retargeted));
    CHECK(retargeted.code == 0);
    CHECK_THAT(retargeted.err, Catch::Contains("for environment 'prod' (push to staging/main)"));
    // And back, by an edit of the file itself.
    p.repo.commit("another", {{"README", "x"}});
    std::string config = p.repo.read(".git/config");
    config.replace(config.find("environment = prod"), 18, "environment = staging");
    p.repo.write(".git/config", config);
    auto blocked = p.repo.git({"push", "staging", "main"}, {}, false);
    INFO(describe(blocked));
    CHECK(blocked.code != 0);
    CHECK_THAT(blocked.err, Catch::Contains("for environment 'staging' (push to staging/main)"));
}
