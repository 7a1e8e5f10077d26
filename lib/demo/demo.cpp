#include <dataops/demo/demo.hpp>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>

#include <dataops/process/process.hpp>
#include <dataops/util/error.hpp>
#include <dataops/util/files.hpp>
#include <dataops/util/strings.hpp>
#include <dataops_example.hpp>
#include <fmt/format.h>

namespace dataops::demo {
namespace {

namespace fs = std::filesystem;

constexpr const char* kStages[] = {"dev", "staging", "prod"};

/// The prod block's tap-auth0 entry, and the same entry after the hotfix that misspells it.
constexpr const char* kProdBlock = R"(      - name: tap-auth0
        config:
          client_id: u4kcVHKUD9lkbUbXA3eXCt88scStaqHM
          domain: matatika.eu.auth0.com
)";
constexpr const char* kProdBlockTypo = R"(      - name: tap-authzero
        config:
          client_id: u4kcVHKUD9lkbUbXA3eXCt88scStaqHM
          domain: matatika-eu.eu.auth0.com
)";

Step command(std::string narration, std::vector<std::string> argv, int expected_exit = 0,
             std::string expect_output = {}) {
    Step step;
    step.narration = std::move(narration);
    for (const auto& arg : argv) {
        step.display += (step.display.empty() ? "" : " ") +
                        (arg.find(' ') == std::string::npos ? arg : fmt::format("\"{}\"", arg));
    }
    step.argv = std::move(argv);
    step.expected_exit = expected_exit;
    step.expect_output = std::move(expect_output);
    return step;
}

Step edit(std::string narration, std::string display, std::string from, std::string to) {
    Step step;
    step.narration = std::move(narration);
    step.display = std::move(display);
    step.edit_from = std::move(from);
    step.edit_to = std::move(to);
    return step;
}

void write_file(const fs::path& path, std::string_view content) {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out << content;
    if (!out.flush()) {
        throw Error(fmt::format("cannot write '{}': {}", path.string(), std::strerror(errno)));
    }
}

/// The world's directories, and the environment every command of the story runs with: this
/// installation first on PATH, a HOME of its own (the user's git configuration, hooks and
/// credentials stay out of it) and no repository of the caller's.
class World {
public:
    World(const Options& options) : keep_(options.keep) {
        if (options.dir.empty()) {
            const char* tmp = std::getenv("TMPDIR");
            std::string pattern = fmt::format("{}/git-dataops-demo.XXXXXX", tmp && *tmp ? tmp : "/tmp");
            if (::mkdtemp(pattern.data()) == nullptr) {
                throw Error(fmt::format("cannot create a directory like '{}': {}", pattern, std::strerror(errno)));
            }
            root_ = pattern;
            created_ = true;
        } else {
            std::error_code ec;
            root_ = fs::absolute(options.dir, ec).lexically_normal().string();
            if (fs::exists(root_, ec) && !(fs::is_directory(root_, ec) && fs::is_empty(root_, ec))) {
                throw Error(fmt::format("cannot build the demo in '{}': it exists and is not an empty directory",
                                        options.dir),
                            {"name a new directory, or leave it out to use a temporary one"});
            }
            created_ = fs::create_directories(root_, ec);
            if (ec) {
                throw Error(fmt::format("cannot create '{}': {}", options.dir, ec.message()));
            }
        }
        clone_ = root_ + "/workspace";
        const std::string home = root_ + "/home";
        fs::create_directories(home);
        write_file(home + "/.gitconfig",
                   "[user]\n\tname = Dana Dev\n\temail = dana@example.invalid\n"
                   "[init]\n\tdefaultBranch = main\n"
                   "[advice]\n\tdetachedHead = false\n\tskippedCherryPicks = false\n");
        const std::string path = process::getenv("PATH").value_or("/usr/bin:/bin");
        env_ = {{"PATH", options.bin_dir.empty() ? path : options.bin_dir + ":" + path},
                {"HOME", home},
                {"XDG_CONFIG_HOME", home + "/.config"},
                {"GIT_CONFIG_NOSYSTEM", "1"},
                {"GIT_CONFIG_GLOBAL", std::nullopt},
                {"GIT_AUTHOR_NAME", std::nullopt},
                {"GIT_AUTHOR_EMAIL", std::nullopt},
                {"GIT_COMMITTER_NAME", std::nullopt},
                {"GIT_COMMITTER_EMAIL", std::nullopt},
                {"GIT_DATAOPS_TRACE", std::nullopt}};
    }

    ~World() {
        if (keep_) {
            return;
        }
        std::error_code ec;
        if (created_) {
            fs::remove_all(root_, ec);
        } else {
            for (const auto& entry : fs::directory_iterator(root_, ec)) {
                fs::remove_all(entry.path(), ec);
            }
        }
    }

    World(const World&) = delete;
    World& operator=(const World&) = delete;

    const std::string& root() const { return root_; }
    const std::string& clone() const { return clone_; }

    process::Options options(std::vector<std::string> argv, const std::string& cwd) const {
        process::Options o;
        o.argv = std::move(argv);
        o.cwd = cwd;
        o.env = env_;
        o.clear_repository_env = true;
        return o;
    }

    /// A setup command: its failure means the world cannot be built.
    std::string git(std::vector<std::string> args, const std::string& cwd) const {
        args.insert(args.begin(), "git");
        auto result = process::run(options(args, cwd));
        if (!result.ok()) {
            throw Error(fmt::format("cannot build the demo: '{}' failed: {}", fmt::join(args, " "),
                                    util::trim(result.err.empty() ? result.out : result.err)));
        }
        return result.out;
    }

    /// Three bare workspaces, each created by its own first commit (unrelated histories, as on
    /// the platform), and a clone of dev with a remote per stage.
    void build() const {
        for (const char* stage : kStages) {
            const std::string bare = fmt::format("{}/{}.git", root_, stage);
            const std::string seed = fmt::format("{}/seed-{}", root_, stage);
            git({"init", "-q", "--bare", bare}, root_);
            git({"init", "-q", seed}, root_);
            write_file(seed + "/meltano.yml", example_project());
            write_file(seed + "/README.md", "# Auth0 users into JSON Lines\n");
            git({"add", "-A"}, seed);
            git({"commit", "-q", "-m", fmt::format("create workspace {}", stage)}, seed);
            git({"push", "-q", bare, "main"}, seed);
            fs::remove_all(seed);
        }
        git({"clone", "-q", "--origin", "dev", root_ + "/dev.git", clone_}, root_);
        git({"remote", "add", "staging", root_ + "/staging.git"}, clone_);
        git({"remote", "add", "prod", root_ + "/prod.git"}, clone_);
        git({"fetch", "-q", "--all"}, clone_);
    }

    /// The tip of a workspace's main branch.
    std::string tip(const std::string& stage) const {
        return git({"--git-dir=" + root_ + "/" + stage + ".git", "rev-parse", "main"}, root_);
    }

    Outcome perform(const Step& step) const {
        Outcome outcome;
        if (step.argv.empty()) {
            const fs::path file = fs::path(clone_) / "meltano.yml";
            std::string text = util::read_file(file.string()).value_or("");
            auto at = text.find(step.edit_from);
            if (at == std::string::npos) {
                outcome.exit_code = 1;
                outcome.as_expected = false;
                outcome.problem = "meltano.yml does not hold the text this edit changes";
                return outcome;
            }
            text.replace(at, step.edit_from.size(), step.edit_to);
            write_file(file, text);
            return outcome;
        }
        // One pipe for both streams, so the output reads as it would at a terminal.
        std::vector<std::string> argv = {"sh", "-c", "exec \"$@\" 2>&1", "sh"};
        argv.insert(argv.end(), step.argv.begin(), step.argv.end());
        auto result = process::run(options(argv, clone_));
        outcome.exit_code = result.exit_code;
        outcome.output = std::move(result.out);
        if (outcome.exit_code != step.expected_exit) {
            outcome.as_expected = false;
            outcome.problem = fmt::format("exited with {}, expected {}", outcome.exit_code, step.expected_exit);
        } else if (!step.expect_output.empty() && outcome.output.find(step.expect_output) == std::string::npos) {
            outcome.as_expected = false;
            outcome.problem = fmt::format("its output does not mention '{}'", step.expect_output);
        }
        return outcome;
    }

private:
    std::string root_;
    std::string clone_;
    bool keep_ = false;
    bool created_ = false;
    std::map<std::string, std::optional<std::string>> env_;
};

}  // namespace

std::string_view example_project() {
    return generated::kExampleProject;
}

std::vector<Step> story() {
    const std::string base_before = "    config:\n      domain: matatika-staging.eu.auth0.com\n";
    const std::string base_after = base_before + "      job_poll_interval_ms: 5000\n";
    std::vector<Step> steps;
    auto add = [&](Step step) { steps.push_back(std::move(step)); };

    add(command("Tell git-dataops about the pipeline: stages dev, staging and prod, each a remote of this "
                "clone running the Meltano environment of the same name.",
                {"git", "dataops", "init"}, 0, "prod"));
    add(command("Install the pre-push hook: every push to a stage validates meltano.yml for that stage's "
                "environment.",
                {"git", "dataops", "hooks", "install"}));
    add(command("What each environment runs, and where every value comes from: the environment's block "
                "(meltano_environment), the plugin's base config (meltano_yml), the parent of an "
                "inherit_from plugin, or a setting's default.",
                {"git", "dataops", "env", "show", "dev"}, 0, "39Pu9tTomnTv594VAFYnmRvkEpSlI7a6"));
    add(command("", {"git", "dataops", "env", "show", "staging"}, 0, "4Zd5QXqHKNoKq4ySx8CP1UBm5eIUgh7t"));
    add(command("", {"git", "dataops", "env", "show", "prod"}, 0, "matatika.eu.auth0.com"));

    add(edit("A change in dev: poll Auth0's export job every 5 s instead of the default 2 s, for every "
             "environment.",
             "edit meltano.yml", base_before, base_after));
    add(command("", {"git", "diff"}, 0, "job_poll_interval_ms: 5000"));
    add(command("", {"git", "commit", "-q", "-a", "-m", "tap-auth0: poll the export job every 5 s"}));
    add(command("The hook checks what goes to dev for environment dev.", {"git", "push", "dev", "main"}, 0,
                "for environment 'dev'"));

    add(command("Promote it: merge dev into staging in memory (the same tree as `git pull -X theirs "
                "--allow-unrelated-histories dev main` in a clone of staging), validate it for staging, "
                "and show what would change. --dry-run stops there.",
                {"git", "dataops", "promote", "staging", "--dry-run"}, 0, "job_poll_interval_ms"));
    add(command("Now for real (at a terminal it asks first; --yes skips the question).",
                {"git", "dataops", "promote", "staging"}, 0, "promoted"));
    add(command("", {"git", "dataops", "promote", "prod"}, 0, "promoted"));
    add(command("Where every stage stands.", {"git", "dataops", "status"}, 0, "prod"));
    add(command("", {"git", "dataops", "log", "prod"}, 0, "from staging"));

    add(command("A hotfix straight to prod, moving it to a new Auth0 tenant, with a typo in the plugin's "
                "name. Meltano ignores an environment block for a plugin that does not exist: prod would "
                "quietly keep running with staging's tenant.",
                {"git", "switch", "-q", "-c", "hotfix", "prod/main"}));
    add(edit("", "edit meltano.yml", kProdBlock, kProdBlockTypo));
    add(command("", {"git", "diff"}, 0, "tap-authzero"));
    add(command("", {"git", "commit", "-q", "-a", "-m", "prod: move to the new Auth0 tenant"}));
    add(command("The hook stops the push, with where the problem is and how to fix it.",
                {"git", "push", "prod", "hotfix:main"}, 1, "[unknown-plugin]"));

    add(command("The same change made in dev instead: dev does not run the prod block, so the push goes "
                "through with a warning...",
                {"git", "switch", "-q", "main"}));
    add(edit("", "edit meltano.yml", kProdBlock, kProdBlockTypo));
    add(command("", {"git", "commit", "-q", "-a", "-m", "prod: move to the new Auth0 tenant"}));
    add(command("", {"git", "push", "dev", "main"}, 0, "tap-authzero"));
    add(command("...and so does staging's promotion...", {"git", "dataops", "promote", "staging"}, 0,
                "promoted"));
    add(command("...but prod's promotion is refused, and nothing is pushed.",
                {"git", "dataops", "promote", "prod"}, 1, "[unknown-plugin]"));
    return steps;
}

Result run(const Options& options) {
    World world(options);
    world.build();
    if (options.on_world) {
        options.on_world(world.root(), world.clone());
    }
    Result result;
    result.root = world.root();
    result.kept = options.keep;
    result.ok = true;
    std::string prod_tip;
    for (const auto& step : story()) {
        if (options.on_step) {
            options.on_step(step);
        }
        Outcome outcome = world.perform(step);
        ++result.steps;
        // The refused promotion and the blocked push must leave prod where the last promotion put it.
        if (outcome.as_expected && step.expected_exit != 0 && !prod_tip.empty() && world.tip("prod") != prod_tip) {
            outcome.as_expected = false;
            outcome.problem = "prod's branch moved although the step was refused";
        }
        if (step.display == "git dataops promote prod" && step.expected_exit == 0) {
            prod_tip = world.tip("prod");
        }
        if (options.on_outcome) {
            options.on_outcome(step, outcome);
        }
        if (!outcome.as_expected) {
            result.ok = false;
            break;
        }
    }
    return result;
}

}  // namespace dataops::demo
