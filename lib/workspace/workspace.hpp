#pragma once
/// Opening "the project a command is about": the repository, where the bytes come from (the
/// working tree or a revision) and which directory of it holds the Meltano project.

#include <map>
#include <memory>
#include <optional>
#include <string>

#include <dataops/git/file_source.hpp>
#include <dataops/git/repository.hpp>
#include <dataops/meltano/project.hpp>

namespace dataops::workspace {

struct OpenOptions {
    /// `--project DIR`: relative to the current directory (or absolute inside the work tree).
    std::optional<std::string> project;
    /// `--rev <rev>`: read this commit-ish instead of the working tree.
    std::optional<std::string> rev;
};

struct Workspace {
    git::Repository repository;
    std::unique_ptr<git::FileSource> source;
    /// Repository-relative directory of the Meltano project ("" = the root).
    std::string project_dir;
    /// Absolute path of the project directory on disk when there is a work tree (for
    /// MELTANO_PROJECT_ROOT with --with-env), else empty.
    std::string project_root;
};

/// Find the repository from the current directory, choose the source and the project directory:
/// `--project DIR`, else `dataops.project` from git config, else the nearest directory from the
/// current one upward (inside the work tree) that holds meltano.yml, else the repository root.
/// Throws dataops::Error when there is no repository, the revision is bad, or an explicit project
/// directory lies outside the repository.
Workspace open(const OpenOptions& options);

struct OpenedProject {
    Workspace workspace;
    meltano::LoadResult load;
};

/// open(), then meltano::load_project() of its project directory. From the working tree, the
/// project is read and parsed while `git config` is still answering (the directory it would be
/// in unless the configuration says otherwise), and read again only when the configuration
/// moves it (`dataops.project`, `core.worktree`): on a small project that wait is most of a
/// command's run (see BENCHMARKS.md). Throws as open() does.
OpenedProject open_project(const OpenOptions& options);

/// Variables of the project's `.env` file (the working tree's, or the revision's) as Meltano reads
/// them, with python-dotenv's `dotenv_values`: its grammar (`export`, quotes over several lines,
/// escapes, `#` comments, a line it cannot read skipped) and its `${VAR}` / `${VAR:-default}`
/// interpolation against `environment` (the process environment) and the lines before. A key
/// with no `=` is left out. Missing file: empty.
std::map<std::string, std::string> read_dotenv(const Workspace& workspace,
                                               const std::map<std::string, std::string>& environment);

/// This process's environment as a map.
std::map<std::string, std::string> process_environment();

/// Parse dotenv text as read_dotenv does (exposed for tests).
std::map<std::string, std::string> parse_dotenv(const std::string& text,
                                                const std::map<std::string, std::string>& environment = {});

}  // namespace dataops::workspace
