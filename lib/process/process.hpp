#pragma once
/// The only place in git-dataops that starts programs, the user's `git` included.
///
/// Programs get argv vectors (never a shell string), both output pipes are drained concurrently
/// so a chatty child cannot deadlock us, and the exit code is always collected.

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace dataops::process {

/// What to do with one of the child's standard streams.
enum class Stream {
    capture,  ///< read into Result::out / Result::err
    inherit,  ///< share ours (git's progress on a terminal, a hook's stderr)
    null,     ///< /dev/null
};

/// Who could answer a prompt from the child.
enum class Interaction {
    none,    ///< nobody: LC_ALL=C, GIT_TERMINAL_PROMPT=0 (parseable output, no hanging prompt)
    person,  ///< the user at a terminal may answer (credentials for fetch/push)
};

struct Options {
    /// argv[0] is a program name (looked up on PATH) or a path.
    std::vector<std::string> argv;
    /// Working directory; empty = ours.
    std::string cwd;
    /// Variables to set (a value) or remove (nullopt) in the child's environment.
    std::map<std::string, std::optional<std::string>> env;
    /// Remove the variables git exports for the current repository (GIT_DIR, GIT_INDEX_FILE, ...,
    /// `git rev-parse --local-env-vars`), for running git in another repository.
    bool clear_repository_env = false;
    Interaction interaction = Interaction::none;
    /// Bytes for the child's stdin; nullopt = /dev/null.
    std::optional<std::string> input;
    Stream out = Stream::capture;
    Stream err = Stream::capture;
};

struct Result {
    int exit_code = 0;     ///< the exit status, or 128 + signal number when killed by a signal
    std::string out;
    std::string err;
    bool ok() const { return exit_code == 0; }
};

/// Run a program to completion. Throws dataops::Error when it cannot be started at all
/// ("cannot run 'git': No such file or directory"); a non-zero exit is a Result, not an error.
Result run(const Options& options);

/// A program started in the background; wait() collects its Result. Several may run at once
/// (repository discovery asks git two questions in parallel).
class Running {
public:
    explicit Running(const Options& options);
    ~Running();
    Running(Running&&) noexcept;
    Running& operator=(Running&&) noexcept;
    Result wait();

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

/// A long-lived child spoken to line by line over its stdin/stdout (`git cat-file --batch`).
/// Its stderr goes to an anonymous temporary file, so it can never block on it.
class Conversation {
public:
    explicit Conversation(const Options& options);
    ~Conversation();
    Conversation(const Conversation&) = delete;
    Conversation& operator=(const Conversation&) = delete;

    /// Send bytes (not flushed until read_* or flush()).
    void write(std::string_view data);
    void flush();
    /// Read one line without its LF; throws dataops::Error when the child has gone away.
    std::string read_line();
    /// Read exactly n bytes.
    std::string read_exact(std::size_t n);
    /// Close stdin, wait, and return the exit code with whatever the child wrote to stderr.
    Result finish();

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

/// Replace the current process image with the program (the dispatcher's `git dataops <verb>`):
/// arguments, stdin, stdout, stderr and the exit code pass through untouched. Returns only by
/// throwing dataops::Error when the program cannot be executed.
[[noreturn]] void exec(const std::string& path, const std::vector<std::string>& argv);

/// The absolute path of `name` found on PATH (or `name` itself when it contains a '/' and is
/// executable), or nullopt.
std::optional<std::string> find_program(std::string_view name);

/// The directory holding the running executable (from /proc/self/exe).
std::string self_directory();

/// The value of an environment variable of this process.
std::optional<std::string> getenv(const char* name);

/// True when the file descriptor is a terminal.
bool is_terminal(int fd);

}  // namespace dataops::process
