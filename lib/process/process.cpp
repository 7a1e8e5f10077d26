// Children are started with posix_spawn (glibc: clone(CLONE_VM|CLONE_VFORK), no copy of our
// page tables) and spoken to over pipes that one poll() loop drains, so neither pipe can fill up
// and block the child while we wait on the other. This replaced Boost.Process v1, whose fork()
// cost ~0.5 ms more per child and showed in every pre-push hook (BENCHMARKS.md); Boost 1.74's
// vfork launcher does not link together with asynchronous pipes.
#include <dataops/process/process.hpp>

#include <fcntl.h>
#include <poll.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <utility>

#include <dataops/util/error.hpp>
#include <fmt/format.h>

extern char** environ;

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
        std::string_view dir = path_list.substr(start, end - start);
        std::string candidate = fmt::format("{}/{}", dir.empty() ? std::string_view(".") : dir, name);
        if (is_executable_file(candidate)) {
            return candidate;
        }
        start = end + 1;
    }
    return std::nullopt;
}

std::string system_message(int error) {
    return std::strerror(error);
}

/// A file descriptor we own.
class Fd {
public:
    Fd() = default;
    explicit Fd(int fd) : fd_(fd) {}
    ~Fd() { reset(); }
    Fd(Fd&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
    Fd& operator=(Fd&& other) noexcept {
        if (this != &other) {
            reset();
            fd_ = std::exchange(other.fd_, -1);
        }
        return *this;
    }
    Fd(const Fd&) = delete;
    Fd& operator=(const Fd&) = delete;

    int get() const { return fd_; }
    bool open() const { return fd_ >= 0; }
    void reset() {
        if (fd_ >= 0) {
            ::close(fd_);
            fd_ = -1;
        }
    }

private:
    int fd_ = -1;
};

/// Close-on-exec and never 0, 1 or 2 (which the child's dup2 would then leave inheritable).
Fd own(int fd) {
    if (fd >= 0 && fd <= 2) {
        int moved = ::fcntl(fd, F_DUPFD_CLOEXEC, 3);
        ::close(fd);
        fd = moved;
    }
    if (fd < 0) {
        throw Error(fmt::format("cannot start a program: {}", system_message(errno)));
    }
    return Fd(fd);
}

struct Pipe {
    Fd read;
    Fd write;
};

Pipe make_pipe() {
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) != 0) {
        throw Error(fmt::format("cannot start a program: {}", system_message(errno)));
    }
    Fd read = own(fds[0]);
    Fd write = own(fds[1]);
    return {std::move(read), std::move(write)};
}

Fd open_null() {
    return own(::open("/dev/null", O_RDWR | O_CLOEXEC));
}

void set_nonblocking(int fd) {
    ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK);
}

bool is_repository_variable(std::string_view name) {
    for (std::string_view doomed : kRepositoryVariables) {
        if (name == doomed) {
            return true;
        }
    }
    return name.rfind("GIT_CONFIG_KEY_", 0) == 0 || name.rfind("GIT_CONFIG_VALUE_", 0) == 0;
}

/// The child's environment as NAME=value strings: ours, edited as the options say.
std::vector<std::string> make_environment(const Options& options) {
    std::map<std::string, std::optional<std::string>> changes = options.env;
    if (options.interaction == Interaction::none) {
        changes.try_emplace("LC_ALL", "C");
        changes.try_emplace("GIT_TERMINAL_PROMPT", "0");
    }
    std::vector<std::string> env;
    for (char** entry = environ; entry != nullptr && *entry != nullptr; ++entry) {
        std::string_view text(*entry);
        std::string_view name = text.substr(0, text.find('='));
        if (changes.count(std::string(name)) != 0 ||
            (options.clear_repository_env && is_repository_variable(name))) {
            continue;
        }
        env.emplace_back(text);
    }
    for (const auto& [name, value] : changes) {
        if (value) {
            env.push_back(name + "=" + *value);
        }
    }
    return env;
}

/// argv[0] as an executable path, looked up on the PATH the child will have, made absolute so
/// that a working directory for the child cannot change which program it is.
std::string resolve_executable(const Options& options) {
    if (options.argv.empty()) {
        throw Error("cannot run a program without a name");
    }
    const std::string& name = options.argv.front();
    std::string found;
    if (name.find('/') != std::string::npos) {
        found = name;
    } else {
        std::string path_list;
        auto it = options.env.find("PATH");
        if (it != options.env.end() && it->second) {
            path_list = *it->second;
        } else if (auto path = getenv("PATH")) {
            path_list = *path;
        }
        auto hit = search(name, path_list);
        if (!hit) {
            throw Error(fmt::format("cannot run '{}': not found on PATH", name));
        }
        found = *hit;
    }
    if (found.front() != '/' && !options.cwd.empty()) {
        char here[4096];
        if (::getcwd(here, sizeof here) != nullptr) {
            found = std::string(here) + "/" + found;
        }
    }
    return found;
}

/// What the child's fd 0, 1 and 2 become: one of our descriptors, or -1 for "share ours".
struct Redirections {
    int in = -1;
    int out = -1;
    int err = -1;
};

/// Start the program; returns its pid. Throws dataops::Error when it cannot be started.
pid_t spawn(const Options& options, const Redirections& io) {
    const std::string exe = resolve_executable(options);
    std::vector<std::string> env = make_environment(options);
    std::vector<char*> argv;
    argv.reserve(options.argv.size() + 1);
    for (const auto& arg : options.argv) {
        argv.push_back(const_cast<char*>(arg.c_str()));
    }
    argv.push_back(nullptr);
    std::vector<char*> envp;
    envp.reserve(env.size() + 1);
    for (auto& entry : env) {
        envp.push_back(entry.data());
    }
    envp.push_back(nullptr);

    posix_spawn_file_actions_t actions;
    posix_spawnattr_t attributes;
    posix_spawn_file_actions_init(&actions);
    posix_spawnattr_init(&attributes);
    const std::array<int, 3> from = {io.in, io.out, io.err};
    for (int target = 0; target < 3; ++target) {
        if (from[static_cast<std::size_t>(target)] >= 0) {
            posix_spawn_file_actions_adddup2(&actions, from[static_cast<std::size_t>(target)], target);
        }
    }
    if (!options.cwd.empty()) {
        posix_spawn_file_actions_addchdir_np(&actions, options.cwd.c_str());
    }
    // The child starts with no blocked signals and SIGPIPE at its default, whatever we do.
    sigset_t signals;
    sigemptyset(&signals);
    posix_spawnattr_setsigmask(&attributes, &signals);
    sigaddset(&signals, SIGPIPE);
    posix_spawnattr_setsigdefault(&attributes, &signals);
    posix_spawnattr_setflags(&attributes, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);

    pid_t pid = -1;
    int error = ::posix_spawn(&pid, exe.c_str(), &actions, &attributes, argv.data(), envp.data());
    posix_spawn_file_actions_destroy(&actions);
    posix_spawnattr_destroy(&attributes);
    if (error != 0) {
        throw Error(fmt::format("cannot run '{}': {}", options.argv.front(), system_message(error)));
    }
    return pid;
}

/// Wait for the child; its exit status, or 128 + the signal that killed it.
int reap(pid_t pid) {
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0) {
        if (errno != EINTR) {
            return 128;
        }
    }
    if (WIFSIGNALED(status)) {
        return 128 + WTERMSIG(status);
    }
    return WEXITSTATUS(status);
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

/// Read what is there into `into`; false at end of file or on an error.
bool read_some(int fd, std::string& into) {
    char buffer[65536];
    for (;;) {
        ssize_t n = ::read(fd, buffer, sizeof buffer);
        if (n > 0) {
            into.append(buffer, static_cast<std::size_t>(n));
            return true;
        }
        if (n < 0 && errno == EINTR) {
            continue;
        }
        return n < 0 && errno == EAGAIN;
    }
}

}  // namespace

struct Running::Impl {
    pid_t pid = -1;
    bool reaped = false;
    std::string input;
    std::size_t written = 0;
    Fd in, out, err;
    Result result;

    /// Feed stdin and drain both outputs until the child closes them, then reap it.
    void finish() {
        IgnoreSigpipe guard;  // the child may exit without reading all its stdin
        if (in.open() && written == input.size()) {
            in.reset();
        }
        while (in.open() || out.open() || err.open()) {
            std::array<pollfd, 3> fds{};
            std::array<Fd*, 3> owners{};
            nfds_t count = 0;
            for (auto [fd, events] : {std::pair{&in, POLLOUT}, std::pair{&out, POLLIN}, std::pair{&err, POLLIN}}) {
                if (fd->open()) {
                    fds[count] = pollfd{fd->get(), static_cast<short>(events), 0};
                    owners[count++] = fd;
                }
            }
            if (::poll(fds.data(), count, -1) < 0) {
                if (errno == EINTR) {
                    continue;
                }
                break;
            }
            for (nfds_t i = 0; i < count; ++i) {
                if (fds[i].revents == 0) {
                    continue;
                }
                Fd& fd = *owners[i];
                if (&fd == &in) {
                    ssize_t n = ::write(fd.get(), input.data() + written, input.size() - written);
                    if (n > 0) {
                        written += static_cast<std::size_t>(n);
                    }
                    if ((n < 0 && errno != EAGAIN && errno != EINTR) || written == input.size()) {
                        fd.reset();
                    }
                } else if (!read_some(fd.get(), &fd == &out ? result.out : result.err)) {
                    fd.reset();
                }
            }
        }
        in.reset();
        out.reset();
        err.reset();
        result.exit_code = reap(pid);
        reaped = true;
    }
};

Running::Running(const Options& options) : impl_(std::make_unique<Impl>()) {
    Impl& impl = *impl_;
    Fd null_device;
    auto null_fd = [&] {
        if (!null_device.open()) {
            null_device = open_null();
        }
        return null_device.get();
    };
    Redirections io;
    Fd child_in, child_out, child_err;
    if (options.input) {
        impl.input = *options.input;
        Pipe pipe = make_pipe();
        child_in = std::move(pipe.read);
        impl.in = std::move(pipe.write);
        set_nonblocking(impl.in.get());
        io.in = child_in.get();
    } else {
        io.in = null_fd();
    }
    auto redirect = [&](Stream stream, Fd& ours, Fd& theirs) {
        switch (stream) {
            case Stream::capture: {
                Pipe pipe = make_pipe();
                ours = std::move(pipe.read);
                theirs = std::move(pipe.write);
                return theirs.get();
            }
            case Stream::null:
                return null_fd();
            case Stream::inherit:
                break;
        }
        return -1;
    };
    io.out = redirect(options.out, impl.out, child_out);
    io.err = redirect(options.err, impl.err, child_err);
    impl.pid = spawn(options, io);
    // Our copies of the child's ends close here, so its exit is the end of file we wait for.
}

Running::~Running() {
    if (impl_ && !impl_->reaped) {
        // Never leave a zombie behind, even when the caller gave up on the result.
        impl_->finish();
    }
}
Running::Running(Running&&) noexcept = default;
Running& Running::operator=(Running&&) noexcept = default;

Result Running::wait() {
    if (!impl_->reaped) {
        impl_->finish();
    }
    return std::move(impl_->result);
}

Result run(const Options& options) {
    Running running(options);
    return running.wait();
}

struct Conversation::Impl {
    pid_t pid = -1;
    Fd in;
    Fd out;
    std::FILE* err = nullptr;
    std::string name;
    std::string pending;     // written, not yet sent
    std::string buffer;      // received, not yet read
    std::size_t consumed = 0;
    bool broken = false;     // the child stopped reading
    bool finished = false;

    /// Make at least n unread bytes available; false when the child has gone away first.
    bool fill(std::size_t n) {
        if (consumed > 0 && consumed == buffer.size()) {
            buffer.clear();
            consumed = 0;
        }
        while (buffer.size() - consumed < n) {
            if (consumed > 65536 && consumed * 2 > buffer.size()) {
                buffer.erase(0, consumed);
                consumed = 0;
            }
            std::size_t before = buffer.size();
            if (!read_some(out.get(), buffer) || buffer.size() == before) {
                return false;
            }
        }
        return true;
    }
};

Conversation::Conversation(const Options& options) : impl_(std::make_unique<Impl>()) {
    impl_->name = options.argv.empty() ? std::string() : options.argv.front();
    impl_->err = std::tmpfile();
    if (impl_->err == nullptr) {
        throw Error(fmt::format("cannot create a temporary file: {}", std::strerror(errno)));
    }
    ::fcntl(fileno(impl_->err), F_SETFD, FD_CLOEXEC);
    Pipe to_child = make_pipe();
    Pipe from_child = make_pipe();
    Redirections io{to_child.read.get(), from_child.write.get(), fileno(impl_->err)};
    try {
        impl_->pid = spawn(options, io);
    } catch (...) {
        std::fclose(impl_->err);
        impl_->err = nullptr;
        throw;
    }
    impl_->in = std::move(to_child.write);
    impl_->out = std::move(from_child.read);
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
    impl_->pending.append(data);
}

void Conversation::flush() {
    Impl& impl = *impl_;
    IgnoreSigpipe guard;
    std::size_t sent = 0;
    while (sent < impl.pending.size() && !impl.broken && impl.in.open()) {
        ssize_t n = ::write(impl.in.get(), impl.pending.data() + sent, impl.pending.size() - sent);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            impl.broken = true;  // reading its answer will say it stopped answering
            break;
        }
        sent += static_cast<std::size_t>(n);
    }
    impl.pending.clear();
}

std::string Conversation::read_line() {
    flush();
    Impl& impl = *impl_;
    std::size_t searched = impl.consumed;
    for (;;) {
        auto newline = impl.buffer.find('\n', searched);
        if (newline != std::string::npos) {
            std::string line = impl.buffer.substr(impl.consumed, newline - impl.consumed);
            impl.consumed = newline + 1;
            return line;
        }
        searched = impl.buffer.size();
        std::size_t offset = searched - impl.consumed;
        if (!impl.fill(offset + 1)) {
            throw Error(fmt::format("'{}' stopped answering", impl.name));
        }
        searched = impl.consumed + offset;
    }
}

std::string Conversation::read_exact(std::size_t n) {
    flush();
    Impl& impl = *impl_;
    if (!impl.fill(n)) {
        throw Error(fmt::format("'{}' stopped answering", impl.name));
    }
    std::string data = impl.buffer.substr(impl.consumed, n);
    impl.consumed += n;
    return data;
}

Result Conversation::finish() {
    Result result;
    Impl& impl = *impl_;
    impl.finished = true;
    flush();
    // Closing both pipes first: a child still writing an answer nobody reads must not block us.
    impl.in.reset();
    impl.out.reset();
    result.exit_code = reap(impl.pid);
    if (impl.err != nullptr) {
        std::rewind(impl.err);
        char buffer[4096];
        std::size_t n = 0;
        while ((n = std::fread(buffer, 1, sizeof buffer, impl.err)) > 0) {
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
