#include <dataops/git/repository.hpp>

#include <algorithm>

#include <dataops/git/config_cache.hpp>
#include <dataops/git/discover.hpp>
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

void check_config_answer(const process::Result& result) {
    // Exit 1 means "nothing configured"; anything else is a real failure.
    if (result.exit_code != 0 && result.exit_code != 1) {
        throw Error(fmt::format("cannot read the git configuration: {}", git_message(result)));
    }
}

/// `git config -z --list --show-scope --show-origin`: "<scope>\0<origin>\0<key>[\n<value>]\0" per
/// entry.
process::Options config_query(const std::string& cwd) {
    auto options = git_options({"config", "-z", "--list", "--show-scope", "--show-origin"});
    options.cwd = cwd;
    return options;
}

struct ScopedConfig {
    Config config;
    /// The repository's own config file was read: the repository git found has one, as every
    /// repository made by `git init` or `git clone` does.
    bool local_format_version = false;
    /// The files the entries came from ("file:<path>" origins), each once.
    std::vector<std::string> files;
};

ScopedConfig parse_scoped(std::string_view text) {
    ScopedConfig scoped;
    std::string plain;
    std::size_t pos = 0;
    while (pos < text.size()) {
        const std::size_t scope_end = text.find('\0', pos);
        const std::size_t origin_end =
            scope_end == std::string_view::npos ? scope_end : text.find('\0', scope_end + 1);
        const std::size_t entry_end =
            origin_end == std::string_view::npos ? origin_end : text.find('\0', origin_end + 1);
        if (entry_end == std::string_view::npos) {
            throw Error(
                "cannot parse the output of 'git config -z --list --show-scope --show-origin'");
        }
        const auto scope = text.substr(pos, scope_end - pos);
        const auto origin = text.substr(scope_end + 1, origin_end - scope_end - 1);
        const auto entry = text.substr(origin_end + 1, entry_end - origin_end);  // with its NUL
        if (scope == "local" && util::starts_with(entry, "core.repositoryformatversion\n")) {
            scoped.local_format_version = true;
        }
        if (util::starts_with(origin, "file:")) {
            const auto file = origin.substr(5);
            if (std::find(scoped.files.begin(), scoped.files.end(), file) == scoped.files.end()) {
                scoped.files.emplace_back(file);
            }
        }
        plain += entry;
        pos = entry_end + 1;
    }
    scoped.config = Config::parse_z_list(plain);
    return scoped;
}

/// A saved answer (config_cache), or nullopt when there is none or it does not parse.
std::optional<ScopedConfig> saved_answer(const Location& location,
                                         const config_cache::Inputs& inputs) {
    auto saved = config_cache::load(location, inputs);
    if (!saved) {
        return std::nullopt;
    }
    try {
        return parse_scoped(*saved);
    } catch (const Error&) {
        return std::nullopt;
    }
}

/// Whether the configuration git read confirms a Location found in the file system: git found a
/// repository with its own config file, and nothing moves the work tree or makes it bare.
bool confirms(const ScopedConfig& scoped) {
    if (!scoped.local_format_version || !scoped.config.get_all("core.worktree").empty()) {
        return false;
    }
    for (const auto& value : scoped.config.get_all("core.bare")) {
        auto bare = parse_bool(value);
        if (!bare || *bare) {
            return false;
        }
    }
    return true;
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
    check_config_answer(result);
    return Config::parse_z_list(result.out);
}

Repository Repository::discover(const std::string& cwd, const LocationListener& on_location) {
    std::optional<Location> found = locate_from_files(cwd);
    // The configuration is needed in every case: from the cache when nothing it depends on has
    // changed, else git starts on it while we go on.
    std::optional<config_cache::Inputs> inputs;
    std::optional<ScopedConfig> scoped;
    if (found && (inputs = config_cache::inputs(*found))) {
        scoped = saved_answer(*found, *inputs);
    }
    std::optional<process::Running> config;
    if (!scoped) {
        config.emplace(config_query(cwd));
    }
    std::optional<process::Running> where;
    if (found) {
        if (on_location) {
            on_location(*found);
        }
    } else {
        // Both questions at once: on two cores this costs about one git start-up, not two.
        where.emplace(location_query(cwd));
    }
    process::Result settings;
    if (config) {
        settings = config->wait();
        if (settings.exit_code == 0 || settings.exit_code == 1) {
            scoped = parse_scoped(settings.out);
            if (inputs && settings.exit_code == 0 && settings.err.empty()) {
                config_cache::save(*found, *inputs, scoped->files, settings.out);
            }
        }
    }
    Repository repo;
    if (found && scoped && confirms(*scoped)) {
        repo.location_ = std::move(*found);
    } else {
        // Not the plain case after all (or git failed: its own words about the location first).
        if (!where) {
            where.emplace(location_query(cwd));
        }
        repo.location_ = parse_location_answer(where->wait());
        if (on_location && (!found || *found != repo.location_)) {
            on_location(repo.location_);
        }
    }
    if (config) {
        check_config_answer(settings);
    }
    repo.config_ = std::move(scoped->config);
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
