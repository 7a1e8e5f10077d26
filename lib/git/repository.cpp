#include <dataops/git/repository.hpp>

#include <dataops/git/revision_source.hpp>
#include <dataops/process/process.hpp>
#include <dataops/util/error.hpp>
#include <dataops/util/strings.hpp>
#include <fmt/format.h>

namespace dataops::git {
namespace {

process::Options git_options(std::vector<std::string> args) {
    process::Options options;
    options.argv = {"git"};
    options.argv.insert(options.argv.end(), args.begin(), args.end());
    return options;
}


}  // namespace

std::string git_message(const process::Result& result) {
    std::string text = util::trim(result.err);
    for (std::string_view prefix : {"fatal: ", "error: "}) {
        if (util::starts_with(text, prefix)) {
            text.erase(0, prefix.size());
        }
    }
    return text.empty() ? fmt::format("git exited with status {}", result.exit_code) : text;
}

Config Repository::read_config_outside() {
    auto result = process::run(git_options({"config", "-z", "--list"}));
    // Exit 1 means "nothing configured"; anything else is a real failure.
    if (result.exit_code != 0 && result.exit_code != 1) {
        throw Error(fmt::format("cannot read the git configuration: {}", git_message(result)));
    }
    return Config::parse_z_list(result.out);
}

Repository Repository::discover(const std::string& cwd) {
    // Both questions at once: on two cores this costs about one git start-up, not two.
    auto where_options = git_options({"rev-parse", "--path-format=absolute", "--absolute-git-dir",
                                      "--git-common-dir", "--is-bare-repository", "--show-prefix",
                                      "--show-toplevel"});
    auto config_options = git_options({"config", "-z", "--list"});
    where_options.cwd = config_options.cwd = cwd;
    process::Running location(where_options);
    process::Running config(config_options);
    auto where = location.wait();
    auto settings = config.wait();

    auto lines = util::split_lines(where.out);
    // --show-toplevel fails in a bare repository (or inside .git) after printing the rest.
    if (lines.size() < 4) {
        throw Error(git_message(where));
    }
    Repository repo;
    repo.location_.git_dir = lines[0];
    repo.location_.common_dir = lines[1];
    repo.location_.bare = lines[2] == "true";
    repo.location_.prefix = lines[3];
    while (!repo.location_.prefix.empty() && repo.location_.prefix.back() == '/') {
        repo.location_.prefix.pop_back();
    }
    if (where.exit_code == 0 && lines.size() >= 5 && !repo.location_.bare) {
        repo.location_.work_tree = lines[4];
    }
    if (settings.exit_code != 0 && settings.exit_code != 1) {
        throw Error(fmt::format("cannot read the git configuration: {}", git_message(settings)));
    }
    repo.config_ = Config::parse_z_list(settings.out);
    return repo;
}

void Repository::set_config(const std::string& key, const std::string& value) const {
    auto options = git_options({"config", "--local", "--", key, value});
    options.env["GIT_DIR"] = location_.git_dir;
    auto result = process::run(options);
    if (!result.ok()) {
        throw Error(fmt::format("cannot set '{}': {}", key, git_message(result)));
    }
}

std::unique_ptr<FileSource> Repository::worktree() const {
    if (!location_.work_tree) {
        throw Error("this operation must be run in a work tree",
                    {"use --rev <revision> to read a commit of a bare repository"});
    }
    return make_worktree_source(*location_.work_tree);
}

std::unique_ptr<FileSource> Repository::revision(std::string_view rev) const {
    return make_revision_source(rev, location_.git_dir);
}

}  // namespace dataops::git
