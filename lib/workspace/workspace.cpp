#include <dataops/workspace/workspace.hpp>

#include <cctype>
#include <exception>
#include <optional>
#include <utility>

#include <dataops/git/revision_source.hpp>
#include <dataops/stages/pipeline.hpp>
#include <dataops/util/error.hpp>
#include <dataops/util/strings.hpp>
#include <fmt/format.h>

extern char** environ;

namespace dataops::workspace {
namespace {

/// An explicit project directory as a repository-relative path.
std::string explicit_project(const std::string& dir, const git::Location& location) {
    std::string relative;
    if (!dir.empty() && dir.front() == '/') {
        if (!location.work_tree || !git::path_within(dir, *location.work_tree)) {
            throw Error(fmt::format("project directory '{}' is outside the repository", dir));
        }
        relative = dir.substr(std::min(dir.size(), location.work_tree->size() + 1));
    } else {
        relative = git::join_path(location.prefix, dir);
    }
    auto normal = git::normalize_relative(relative);
    if (!normal) {
        throw Error(fmt::format("project directory '{}' is outside the repository", dir));
    }
    return *normal;
}

/// The project directory: `--project`, else `dataops.project` (when the configuration is known:
/// `config` is null before it has arrived), else the nearest directory from the current one
/// upward that holds meltano.yml, else the root.
std::string project_dir(const OpenOptions& options, const git::Location& location, const git::FileSource& source,
                        const git::Config* config) {
    if (options.project) {
        return explicit_project(*options.project, location);
    }
    if (config != nullptr) {
        if (auto configured = stages::configured_project_dir(*config)) {
            return *configured;
        }
    }
    std::string dir = location.prefix;
    for (;;) {
        if (source.kind(git::join_path(dir, "meltano.yml")) != git::EntryKind::missing || dir.empty()) {
            return dir;
        }
        auto slash = dir.rfind('/');
        dir = slash == std::string::npos ? std::string() : dir.substr(0, slash);
    }
}

/// What was read before the configuration arrived, and from where.
struct EarlyLoad {
    git::Location location;
    std::string project_dir;
    std::unique_ptr<git::FileSource> source;
    meltano::LoadResult load;
};

Workspace open_with(const OpenOptions& options, const git::Repository::LocationListener& on_location) {
    // With --rev, git cat-file starts first and peels the revision while discovery runs.
    std::unique_ptr<git::FileSource> revision;
    if (options.rev) {
        revision = git::start_revision_source(*options.rev);
    }
    Workspace ws{git::Repository::discover({}, on_location), nullptr, {}, {}};
    const auto& location = ws.repository.location();
    if (revision) {
        revision->commit();  // a bad revision is reported here, before anything else is read
        ws.source = std::move(revision);
    } else {
        ws.source = ws.repository.worktree();
    }
    ws.project_dir = project_dir(options, location, *ws.source, &ws.repository.config());
    if (location.work_tree) {
        ws.project_root = ws.project_dir.empty() ? *location.work_tree
                                                 : *location.work_tree + "/" + ws.project_dir;
    }
    return ws;
}

}  // namespace

Workspace open(const OpenOptions& options) { return open_with(options, {}); }

OpenedProject open_project(const OpenOptions& options) {
    std::optional<EarlyLoad> early;
    bool heard = false;
    auto on_location = [&](const git::Location& location) {
        // A second call corrects the file system's answer after the configuration has arrived:
        // nothing is left to overlap, and the ordinary path reads the project.
        early.reset();
        if (std::exchange(heard, true) || options.rev || !location.work_tree) {
            return;
        }
        try {
            auto source = git::make_worktree_source(*location.work_tree);
            std::string dir = project_dir(options, location, *source, nullptr);
            auto load = meltano::load_project(*source, dir);
            early = EarlyLoad{location, std::move(dir), std::move(source), std::move(load)};
        } catch (const std::exception&) {
            // Whatever went wrong is found, and reported, on the ordinary path.
        }
    };
    OpenedProject opened{open_with(options, on_location), {}};
    Workspace& ws = opened.workspace;
    if (early && early->location == ws.repository.location() && early->project_dir == ws.project_dir &&
        !options.rev) {
        ws.source = std::move(early->source);
        opened.load = std::move(early->load);
    } else {
        opened.load = meltano::load_project(*ws.source, ws.project_dir);
    }
    return opened;
}

std::map<std::string, std::string> parse_dotenv(const std::string& text) {
    std::map<std::string, std::string> vars;
    for (std::string line : util::split_lines(text)) {
        if (!line.empty() && line.back() == '\r') {
            line.pop_back();
        }
        std::string trimmed = util::trim(line);
        if (trimmed.empty() || trimmed.front() == '#') {
            continue;
        }
        if (util::starts_with(trimmed, "export ")) {
            trimmed = util::trim(trimmed.substr(7));
        }
        auto eq = trimmed.find('=');
        if (eq == std::string::npos) {
            continue;
        }
        std::string key = util::trim(trimmed.substr(0, eq));
        std::string value = util::trim(trimmed.substr(eq + 1));
        if (!value.empty() && (value.front() == '"' || value.front() == '\'')) {
            char quote = value.front();
            auto close = value.find(quote, 1);
            value = close == std::string::npos ? value.substr(1) : value.substr(1, close - 1);
            if (quote == '"') {
                std::string unescaped;
                for (std::size_t i = 0; i < value.size(); ++i) {
                    if (value[i] == '\\' && i + 1 < value.size()) {
                        char next = value[++i];
                        unescaped += next == 'n' ? '\n' : next == 't' ? '\t' : next;
                    } else {
                        unescaped += value[i];
                    }
                }
                value = unescaped;
            }
        } else {
            auto comment = value.find(" #");
            if (comment != std::string::npos) {
                value = util::trim(value.substr(0, comment));
            }
        }
        if (!key.empty()) {
            vars[key] = value;
        }
    }
    return vars;
}

std::map<std::string, std::string> read_dotenv(const Workspace& workspace) {
    auto result = workspace.source->read(git::join_path(workspace.project_dir, ".env"), workspace.project_dir);
    if (result.status != git::ReadResult::Status::ok) {
        return {};
    }
    return parse_dotenv(result.data);
}

std::map<std::string, std::string> process_environment() {
    std::map<std::string, std::string> vars;
    for (char** e = environ; *e != nullptr; ++e) {
        std::string_view entry(*e);
        auto eq = entry.find('=');
        if (eq != std::string_view::npos) {
            vars.emplace(std::string(entry.substr(0, eq)), std::string(entry.substr(eq + 1)));
        }
    }
    return vars;
}

}  // namespace dataops::workspace
