// Boost.Process v1 (header-only in Boost 1.74) behind a small interface. Boost starts the child
// and wires its streams to synchronous pipes; Running::wait drains them (and feeds stdin) in
// one poll() loop, so that no pipe can fill up and block the child while we wait on another.
#include <dataops/process/process.hpp>

#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <sys/wait.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <boost/process.hpp>
#include <boost/process/extend.hpp>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include <dataops/util/error.hpp>
#include <fmt/format.h>

namespace bp = boost::process;

namespace dataops::process {
namespace {

constexpr std::array kRepositoryVariables = {
    "GIT_ALTERNATE_OBJECT_DIRECTORIES", "GIT_CONFIG", "GIT_CONFIG_PARAMETERS",
    "GIT_CONFIG_COUNT", "GIT_OBJECT_DIRECTORY", "GIT_DIR", "GIT_WORK_TREE",
    "GIT_IMPLICIT_WORK_TREE", "GIT_GRAFT_FILE", "GIT_INDEX_FILE", "GIT_NO_REPLACE_OBJECTS",
    "GIT_REPLACE_REF_BASE", "GIT_PREFIX", "GIT_INTERNAL_SUPER_PREFIX", "GIT_SHALLOW_FILE",
    "GIT_COMMON_DIR"};

bool is_executable_file(const std::string& path) {
    struct stat st {};
    return ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode) && ::access(path.c_str(), X_OK) == 0;
}

std::optional<std::string> search(std::string_view name, std::string_view path_list) {
    std::size_t start = 0;
    while (start <= path_list.size()) {
        std::size_t end = path_list.find(':', start);
        if (end == std::string_view::npos) {
            end = path_list.size();
        }
        std::string dir(path_list.substr(start, end - start));
        if (dir.empty()) {
            dir = ".";
        }
        std::string candidate = dir + "/" + std::string(name);
        if (is_executable_file(candidate)) {
            return candidate;
        }
        start = end + 1;
    }
    return std::nullopt;
}

bp::environment make_environment(const Options& options) {
    bp::environment env = boost::this_process::environment();
    // No bp::environment::find (nor operator[], which uses it): Boost 1.74's compares all of
    // "NAME=" with each entry and so reads past the end of shorter ones (ThreadSanitizer caught
    // it). set() and erase() compare whole strings, and erase() is safe for an absent name.
    if (options.interaction == Interaction::none) {
        env.set("LC_ALL", "C");
        env.set("GIT_TERMINAL_PROMPT", "0");
    }
    if (options.clear_repository_env) {
        std::vector<std::string> doomed;
        for (const auto& entry : env) {
            std::string name = entry.get_name();
            if (name.rfind("GIT_CONFIG_KEY_", 0) == 0 || name.rfind("GIT_CONFIG_VALUE_", 0) == 0 ||
                std::find(kRepositoryVariables.begin(), kRepositoryVariables.end(), name) !=
                    kRepositoryVariables.end()) {
                doomed.push_back(std::move(name));
            }
        }
        for (const auto& name : doomed) {
            env.erase(name);
        }
    }
    for (const auto& [name, value] : options.env) {
        if (value) {
            env.set(name, *value);
        } else {
            env.erase(name);
        }
    }
    return env;
}

/// argv[0] as an executable path, looked up on the PATH the child will have.
std::string resolve_executable(const Options& options) {
    if (options.argv.empty()) {
        throw Error("cannot run a program without a name");
    }
    const std::string& name = options.argv.front();
    if (name.find('/') != std::string::npos) {
        return name;
    }
    std::string path_list;
    auto it = options.env.find("PATH");
    if (it != options.env.end() && it->second) {
        path_list = *it->second;
    } else if (auto path = getenv("PATH")) {
        path_list = *path;
    }
    if (auto found = search(name, path_list)) {
        return *found;
    }
    throw Error(fmt::format("cannot run '{}': not found on PATH", name));
}

std::vector<std::string> arguments(const Options& options) {
    return {options.argv.begin() + 1, options.argv.end()};
}

/// Ignore SIGPIPE while we write to a child: a child that has already exited (git outside a
/// repository) must give us an error to report, not kill us silently. Restored on scope exit.
class IgnoreSigpipe {
public:
    IgnoreSigpipe() { previous_ = std::signal(SIGPIPE, SIG_IGN); }
    ~IgnoreSigpipe() { std::signal(SIGPIPE, previous_); }
    IgnoreSigpipe(const IgnoreSigpipe&) = delete;
    IgnoreSigpipe& operator=(const IgnoreSigpipe&) = delete;

private:
    void (*previous_)(int);
};

/// The child's working directory. A missing one is an error of ours to report (Boost would
/// start the child and let it fail after fork, with nothing but an exit code to show for it).
std::string start_directory(const Options& options) {
    if (options.cwd.empty()) {
        return ".";
    }
    struct stat st {};
    const int error = ::stat(options.cwd.c_str(), &st) != 0 ? errno : S_ISDIR(st.st_mode) ? 0 : ENOTDIR;
    if (error != 0) {
        throw Error(fmt::format("cannot run '{}': cannot change to '{}': {}", options.argv.front(), options.cwd,
                                std::strerror(error)));
    }
    return options.cwd;
}

/// In the child, before exec: every descriptor above stderr closes at exec, so a child holds
/// only its own three streams, never the pipes we hold for other children (an inherited stdin
/// pipe of a `cat-file --batch` would keep it alive past its end). Close-on-exec rather than
/// close: Boost's own error pipe must stay usable until exec succeeds.
void mark_inherited_descriptors_cloexec() {
    if (::close_range(3, ~0U, CLOSE_RANGE_CLOEXEC) == 0) {
        return;
    }
    // Kernels before 5.11: walk the open descriptors.
    if (DIR* dir = ::opendir("/proc/self/fd")) {
        const int own = ::dirfd(dir);
        while (const dirent* entry = ::readdir(dir)) {
            const int fd = std::atoi(entry->d_name);
            if (fd > 2 && fd != own) {
                ::fcntl(fd, F_SETFD, FD_CLOEXEC);
            }
        }
        ::closedir(dir);
    }
}

/// What every child gets besides its own streams: no descriptors of ours, and SIGPIPE at its
/// default (we may be ignoring it, and git ignores it around hooks: exec would pass that on,
/// and `git ... | head` in a child would then complain instead of ending quietly).
/// (Boost 1.74's bp::limit_handles would close the descriptors, but it also closes the async
/// pipes the child's own outputs go to.)
auto child_hygiene() {
    return bp::extend::on_exec_setup = [](auto&) {
        ::signal(SIGPIPE, SIG_DFL);
        mark_inherited_descriptors_cloexec();
    };
}

/// The exit status as Result::exit_code: the exit code, or 128 + the signal that killed it.
int exit_code_of(int status) {
    if (WIFEXITED(status)) {
        return WEXITSTATUS(status);
    }
    if (WIFSIGNALED(status)) {
        return 128 + WTERMSIG(status);
    }
    return status;
}

}  // namespace

struct Running::Impl {
    // Only the streams that are piped have a pipe (a bp::pipe opens one when constructed).
    std::optional<bp::pipe> in;
    std::optional<bp::pipe> out;
    std::optional<bp::pipe> err;
    std::string input;
    bool waited = false;
    bp::child child;
};

Running::Running(const Options& options) : impl_(std::make_unique<Impl>()) {
    Impl& impl = *impl_;
    const std::string exe = resolve_executable(options);
    const auto args = arguments(options);
    bp::environment env = make_environment(options);

    // Each stream's redirection is a different type; compose them with generic lambdas. Boost
    // closes the child's ends of the pipes in our process once the child has started.
    const std::string cwd = start_directory(options);
    auto launch = [&](auto&&... io) {
        return bp::child(bp::exe = exe, bp::args = args, env, bp::start_dir = cwd,
                         std::forward<decltype(io)>(io)..., child_hygiene());
    };
    auto with_err = [&](auto&&... io) {
        switch (options.err) {
            case Stream::capture:
                return launch(bp::std_err > impl.err.emplace(), io...);
            case Stream::null:
                return launch(bp::std_err > bp::null, io...);
            case Stream::inherit:
                break;
        }
        return launch(io...);
    };
    auto with_out = [&](auto&&... io) {
        switch (options.out) {
            case Stream::capture:
                return with_err(bp::std_out > impl.out.emplace(), io...);
            case Stream::null:
                return with_err(bp::std_out > bp::null, io...);
            case Stream::inherit:
                break;
        }
        return with_err(io...);
    };
    try {
        if (options.input) {
            impl.input = *options.input;
            impl.child = with_out(bp::std_in < impl.in.emplace());
        } else {
            impl.child = with_out(bp::std_in < bp::null);
        }
    } catch (const bp::process_error& e) {
        throw Error(fmt::format("cannot run '{}': {}", options.argv.front(), e.code().message()));
    }
}

Running::~Running() {
    if (impl_ && impl_->child.valid() && !impl_->waited) {
        // Never leave a zombie behind, even when the caller gave up on the result.
        try {
            wait();
        } catch (...) {
            // A destructor must not throw; the child has been reaped either way.
        }
    }
}
Running::Running(Running&&) noexcept = default;
Running& Running::operator=(Running&&) noexcept = default;

Result Running::wait() {
    Impl& impl = *impl_;
    impl.waited = true;
    Result result;
    // One poll loop feeds stdin and drains both outputs, so that no pipe can fill up and block
    // the child while we wait on another. (Synchronous pipes: Boost.Asio's reactor, which the
    // asynchronous ones need, cost a fresh process about 0.2 ms per child; see BENCHMARKS.md.)
    struct Channel {
        int fd;
        std::string* text;  ///< where the bytes go (reading); nullptr: stdin (writing)
    };
    std::vector<Channel> channels;
    if (impl.in) {
        const int fd = impl.in->native_sink();
        if (impl.input.empty()) {
            impl.in->close();
        } else {
            ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK);
            channels.push_back({fd, nullptr});
        }
    }
    if (impl.out) {
        channels.push_back({impl.out->native_source(), &result.out});
    }
    if (impl.err) {
        channels.push_back({impl.err->native_source(), &result.err});
    }
    std::size_t written = 0;
    {
        // The child may exit without reading all its stdin (a hook that ignores it).
        IgnoreSigpipe guard;
        char buffer[65536];
        while (!channels.empty()) {
            std::vector<pollfd> fds;
            for (const auto& c : channels) {
                fds.push_back({c.fd, static_cast<short>(c.text ? POLLIN : POLLOUT), 0});
            }
            if (::poll(fds.data(), fds.size(), -1) < 0) {
                if (errno == EINTR) {
                    continue;
                }
                throw Error(fmt::format("cannot wait for a child process: {}", std::strerror(errno)));
            }
            for (std::size_t k = fds.size(); k-- > 0;) {
                if (fds[k].revents == 0) {
                    continue;
                }
                Channel& c = channels[k];
                bool done = false;
                if (c.text) {
                    const ssize_t n = ::read(c.fd, buffer, sizeof buffer);
                    if (n > 0) {
                        c.text->append(buffer, static_cast<std::size_t>(n));
                    } else {
                        done = n == 0 || (errno != EINTR && errno != EAGAIN);
                    }
                } else {
                    const ssize_t n = ::write(c.fd, impl.input.data() + written, impl.input.size() - written);
                    if (n > 0) {
                        written += static_cast<std::size_t>(n);
                        done = written == impl.input.size();
                    } else {
                        done = errno != EINTR && errno != EAGAIN;  // EPIPE: it stopped reading
                    }
                    if (done) {
                        impl.in->close();  // end of input for the child
                    }
                }
                if (done) {
                    channels.erase(channels.begin() + static_cast<std::ptrdiff_t>(k));
                }
            }
        }
    }
    std::error_code ignored;
    impl.child.wait(ignored);
    result.exit_code = exit_code_of(impl.child.native_exit_code());
    return result;
}

Result run(const Options& options) {
    Running running(options);
    return running.wait();
}

struct Conversation::Impl {
    bp::opstream in;
    bp::ipstream out;
    std::FILE* err = nullptr;
    bp::child child;
    std::string name;
    bool finished = false;
};

Conversation::Conversation(const Options& options) : impl_(std::make_unique<Impl>()) {
    const std::string exe = resolve_executable(options);
    impl_->name = options.argv.front();
    impl_->err = std::tmpfile();
    if (impl_->err == nullptr) {
        throw Error(fmt::format("cannot create a temporary file: {}", std::strerror(errno)));
    }
    try {
        const std::string cwd = start_directory(options);
        impl_->child = bp::child(bp::exe = exe, bp::args = arguments(options), make_environment(options),
                                 bp::start_dir = cwd, bp::std_in < impl_->in, bp::std_out > impl_->out,
                                 bp::std_err > impl_->err, child_hygiene());
    } catch (const bp::process_error& e) {
        std::fclose(impl_->err);
        impl_->err = nullptr;
        throw Error(fmt::format("cannot run '{}': {}", options.argv.front(), e.code().message()));
    }
}

Conversation::~Conversation() {
    if (impl_ && !impl_->finished) {
        try {
            finish();
        } catch (...) {
            // A destructor must not throw; the child has been reaped either way.
        }
    }
    if (impl_ && impl_->err != nullptr) {
        std::fclose(impl_->err);
    }
}

void Conversation::write(std::string_view data) {
    IgnoreSigpipe guard;
    impl_->in.write(data.data(), static_cast<std::streamsize>(data.size()));
}

void Conversation::flush() {
    IgnoreSigpipe guard;
    impl_->in.flush();
}

std::string Conversation::read_line() {
    flush();
    std::string line;
    if (!std::getline(impl_->out, line)) {
        throw Error(fmt::format("'{}' stopped answering", impl_->name));
    }
    return line;
}

std::string Conversation::read_exact(std::size_t n) {
    flush();
    std::string data(n, '\0');
    if (n > 0 && !impl_->out.read(data.data(), static_cast<std::streamsize>(n))) {
        throw Error(fmt::format("'{}' stopped answering", impl_->name));
    }
    return data;
}

Result Conversation::finish() {
    Result result;
    impl_->finished = true;
    {
        IgnoreSigpipe guard;
        impl_->in.flush();
    }
    impl_->in.pipe().close();
    std::error_code ignored;
    impl_->child.wait(ignored);
    result.exit_code = exit_code_of(impl_->child.native_exit_code());
    if (impl_->err != nullptr) {
        std::rewind(impl_->err);
        char buffer[4096];
        std::size_t n = 0;
        while ((n = std::fread(buffer, 1, sizeof buffer, impl_->err)) > 0) {
            result.err.append(buffer, n);
        }
    }
    return result;
}

void exec(const std::string& path, const std::vector<std::string>& argv) {
    std::vector<char*> raw;
    raw.reserve(argv.size() + 1);
    for (const auto& arg : argv) {
        raw.push_back(const_cast<char*>(arg.c_str()));
    }
    raw.push_back(nullptr);
    ::execv(path.c_str(), raw.data());
    throw Error(fmt::format("cannot run '{}': {}", path, std::strerror(errno)));
}

std::optional<std::string> find_program(std::string_view name) {
    if (name.find('/') != std::string_view::npos) {
        std::string path(name);
        return is_executable_file(path) ? std::optional<std::string>(path) : std::nullopt;
    }
    auto path = getenv("PATH");
    return path ? search(name, *path) : std::nullopt;
}

std::string self_directory() {
    std::string buffer(4096, '\0');
    ssize_t n = ::readlink("/proc/self/exe", buffer.data(), buffer.size());
    if (n <= 0) {
        return {};
    }
    buffer.resize(static_cast<std::size_t>(n));
    auto slash = buffer.rfind('/');
    return slash == std::string::npos ? std::string() : buffer.substr(0, slash);
}

std::optional<std::string> getenv(const char* name) {
    const char* value = std::getenv(name);
    return value != nullptr ? std::optional<std::string>(value) : std::nullopt;
}

bool is_terminal(int fd) {
    return ::isatty(fd) == 1;
}

}  // namespace dataops::process
