#pragma once
/// `git dataops demo`: a throwaway dev → staging → prod pipeline, built with no network from the
/// bundled example project, and the story of a team using it, told by running the real commands.
///
/// The world: three bare workspace repositories created independently (as a platform creates
/// new workspaces, so their histories are unrelated) and a clone of dev with a remote for each.
/// Every step runs a real `git` or `git dataops` command in that clone and checks its outcome
/// (exit code, and a phrase its output must contain), so the demo is also a smoke test of an
/// installation: it succeeds only when every command behaved as the story says.

#include <functional>
#include <string>
#include <vector>

namespace dataops::demo {

/// One thing the story does: a command to run in the clone, or a file to edit.
struct Step {
    /// What a person is doing and why, shown before the command; may be empty.
    std::string narration;
    /// The command as typed at a prompt (`git dataops env show dev`), or for an edit, a summary.
    std::string display;
    /// The argv to run (argv[0] is "git"); empty for an edit.
    std::vector<std::string> argv;
    /// For an edit: the replacement made in meltano.yml of the clone.
    std::string edit_from, edit_to;
    int expected_exit = 0;
    /// A phrase the output must contain (empty: none required).
    std::string expect_output;
};

/// What running one step gave.
struct Outcome {
    int exit_code = 0;
    std::string output;  ///< stdout and stderr as they interleaved
    bool as_expected = true;
    std::string problem;  ///< why not, when !as_expected
};

struct Options {
    /// Where to build the world: a directory that does not exist or is empty. Empty: a new
    /// directory under $TMPDIR (or /tmp).
    std::string dir;
    /// Leave the world in place afterwards.
    bool keep = false;
    /// The directory of the git-dataops binaries to put first on PATH, so `git dataops` runs
    /// this installation's commands.
    std::string bin_dir;
    /// Called when the world is built, with its directory and the clone the story runs in.
    std::function<void(const std::string& root, const std::string& clone)> on_world;
    /// Called before each step is run, and after it with what it gave.
    std::function<void(const Step&)> on_step;
    std::function<void(const Step&, const Outcome&)> on_outcome;
};

struct Result {
    std::string root;    ///< the world's directory (removed unless kept)
    bool kept = false;
    std::size_t steps = 0;  ///< steps run
    bool ok = false;     ///< every step behaved as expected
};

/// The bundled example project (examples/auth0/meltano.yml), compiled in.
std::string_view example_project();

/// The story, in order.
std::vector<Step> story();

/// Build the world and run the story, stopping at the first step that does not behave as
/// expected. Throws dataops::Error when the world cannot be built (a directory that is not
/// empty, git missing).
Result run(const Options& options);

}  // namespace dataops::demo
