#pragma once
/// Hermetic test fixtures: a temp dir that is kept (and its path printed) when the test fails,
/// and a git repository in it with its own HOME, no system config, a fixed author, committer and
/// clock, `main` as the initial branch, and the built binaries first on PATH.

#include <map>
#include <optional>
#include <string>
#include <vector>

namespace dataops::testing {

struct RunResult {
    int code = 0;
    std::string out;
    std::string err;
};

/// Everything a run needs beyond argv.
struct RunOptions {
    std::string cwd;                                            ///< default: the work tree
    std::map<std::string, std::optional<std::string>> env;      ///< extra variables (nullopt unsets)
    std::optional<std::string> input;                           ///< stdin bytes (default: none)
};

/// Options that only change the working directory.
inline RunOptions in_dir(std::string cwd) {
    RunOptions options;
    options.cwd = std::move(cwd);
    return options;
}

/// A fresh directory under $TMPDIR, removed on destruction unless an assertion failed meanwhile.
class TempDir {
public:
    TempDir();
    ~TempDir();
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;
    const std::string& path() const { return path_; }

private:
    std::string path_;
    long failures_at_start_;
};

class TempRepo {
public:
    /// A new non-bare repository "work" inside a new TempDir.
    TempRepo();

    const std::string& root() const { return dir_.path(); }  ///< the temp dir
    const std::string& path() const { return work_; }        ///< the work tree
    const std::string& home() const { return home_; }

    /// Run any program with the hermetic environment (in the work tree unless opts.cwd).
    RunResult run(const std::vector<std::string>& argv, const RunOptions& opts = {}) const;
    /// `git <args>`; throws std::runtime_error when git fails and `check` is true.
    RunResult git(const std::vector<std::string>& args, const RunOptions& opts = {}, bool check = true) const;
    /// `git dataops <args>`, through the real git and the dispatcher.
    RunResult dataops(const std::vector<std::string>& args, const RunOptions& opts = {}) const;

    /// Write (or, with nullopt, delete) files relative to the work tree, `git add -A`, commit with
    /// a fixed clock that ticks a minute per commit; returns the new commit id.
    std::string commit(const std::string& message,
                       const std::map<std::string, std::optional<std::string>>& files);
    /// Write one file relative to the work tree (directories created).
    void write(const std::string& relative, const std::string& content) const;
    /// Read a file relative to the work tree.
    std::string read(const std::string& relative) const;
    /// Create a bare repository `<root>/<name>.git` and return its path.
    std::string bare(const std::string& name) const;
    /// Create another non-bare repository `<root>/<name>` (same hermetic setup); returns its path.
    std::string init_repo(const std::string& name) const;

    /// The hermetic environment changes applied to every run.
    const std::map<std::string, std::optional<std::string>>& environment() const { return env_; }

private:
    TempDir dir_;
    std::string work_;
    std::string home_;
    std::map<std::string, std::optional<std::string>> env_;
    int tick_ = 0;
};

/// Shorthand for checks: "code=<n>\nstdout:\n...\nstderr:\n..." for failure messages.
std::string describe(const RunResult& result);

}  // namespace dataops::testing
