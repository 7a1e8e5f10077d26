#include <dataops/promote/shared.hpp>

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <tuple>

#include <dataops/git/revision_source.hpp>
#include <dataops/util/error.hpp>
#include <fmt/format.h>

namespace dataops::promote::detail {

PromotionLock::PromotionLock(std::string path) : path_(std::move(path)) {
    fd_ = ::open(path_.c_str(), O_CREAT | O_RDWR | O_CLOEXEC, 0644);
    if (fd_ < 0) {
        throw Error(fmt::format("cannot open '{}': {}", path_, std::strerror(errno)));
    }
    if (::flock(fd_, LOCK_EX | LOCK_NB) != 0) {
        int error = errno;
        std::string holder(32, '\0');
        auto got = ::pread(fd_, holder.data(), holder.size(), 0);
        holder.resize(got > 0 ? static_cast<std::size_t>(got) : 0);
        ::close(fd_);
        if (error == EWOULDBLOCK) {
            auto pid = first_line(holder);
            throw Error("another promotion is running from this clone",
                        {pid.empty() ? std::string("wait for it to finish")
                                     : fmt::format("wait for it to finish (process {})", pid)});
        }
        throw Error(fmt::format("cannot lock '{}': {}", path_, std::strerror(error)));
    }
    auto pid = std::to_string(::getpid()) + "\n";
    // The pid only tells a person who holds the lock: a short write is harmless.
    [[maybe_unused]] auto truncated = ::ftruncate(fd_, 0);
    [[maybe_unused]] auto written = ::pwrite(fd_, pid.data(), pid.size(), 0);
}

PromotionLock::~PromotionLock() {
    // Closing releases the lock. The file stays: unlinking it would let a process that opened it
    // meanwhile lock a file nobody else can see.
    ::close(fd_);
}

void test_pause(const char* step) {
    static bool paused = false;
    auto at = process::getenv("GIT_DATAOPS_TEST_PAUSE_AT");
    if (paused || !at || *at != step) {
        return;
    }
    paused = true;
    if (auto file = process::getenv("GIT_DATAOPS_TEST_PAUSE_FILE")) {
        // Written whole, then renamed: the test never reads half a pid.
        const std::string partial = *file + ".partial";
        std::ofstream(partial) << ::getpid() << '\n';
        std::rename(partial.c_str(), file->c_str());
    }
    ::raise(SIGSTOP);
}

std::string lock_path(const git::Repository& repository) {
    return repository.location().common_dir + "/dataops-promote.lock";
}

std::string first_line(const std::string& text) {
    return text.substr(0, text.find('\n'));
}

std::vector<std::string> lines_of(const std::string& text) {
    std::vector<std::string> lines;
    std::size_t start = 0;
    while (start < text.size()) {
        auto end = text.find('\n', start);
        if (end == std::string::npos) {
            end = text.size();
        }
        if (end > start) {
            lines.push_back(text.substr(start, end - start));
        }
        start = end + 1;
    }
    return lines;
}

Git::Git(const git::Repository& repository, bool progress)
    : cwd_(repository.location().work_tree.value_or(repository.location().git_dir)), progress_(progress) {}

process::Result Git::transport(std::vector<std::string> args) const {
    return process::run(transport_options(std::move(args)));
}

process::Options Git::transport_options(std::vector<std::string> args) const {
    args.insert(args.begin() + 1, progress_ ? "--progress" : "--quiet");
    process::Options transport = options(std::move(args), process::Interaction::person);
    if (progress_) {
        transport.err = process::Stream::inherit;
    }
    return transport;
}

namespace {

std::string fetch_ref(const stages::Stage& stage) {
    return "refs/dataops/fetch/" + stage.name;
}

/// `git fetch` of the stage's branch into our namespace. --refmap= keeps even the
/// remote-tracking branches as they were: only our namespace moves.
std::vector<std::string> fetch_args(const stages::Stage& stage) {
    return {"fetch", "--no-tags", "--no-write-fetch-head", "--refmap=", "--", stage.remote,
            fmt::format("+refs/heads/{}:{}", stage.branch, fetch_ref(stage))};
}

Error fetch_error(const stages::Stage& stage, const std::string& err) {
    return Error(fmt::format("cannot fetch '{}' from remote '{}'", stage.branch, stage.remote), lines_of(err));
}

}  // namespace

std::vector<Git::Fetched> Git::fetch_all(const std::vector<const stages::Stage*>& stages,
                                         git::ObjectReader* objects) const {
    std::vector<Fetched> results(stages.size());
    std::vector<std::size_t> fetched;  ///< stages whose branch is now in our namespace
    // With progress one at a time, so that git's progress lines never interleave; else all at
    // once, captured.
    std::vector<process::Running> running;
    running.reserve(progress_ ? 0 : stages.size());
    for (std::size_t i = 0; i < stages.size() && !progress_; ++i) {
        running.emplace_back(transport_options(fetch_args(*stages[i])));
    }
    for (std::size_t i = 0; i < stages.size(); ++i) {
        const stages::Stage& stage = *stages[i];
        if (progress_) {
            try {
                if (fetch_watched(stage)) {
                    fetched.push_back(i);
                }
            } catch (const Error& error) {
                results[i].error = error;
            }
            continue;
        }
        auto result = running[i].wait();
        if (result.ok()) {
            fetched.push_back(i);
            continue;
        }
        try {
            if (remote_tip(stage)) {
                results[i].error = fetch_error(stage, result.err);
            } else {
                run({"update-ref", "-d", fetch_ref(stage)});  // no such branch: nothing stale left
            }
        } catch (const Error& error) {
            results[i].error = error;
        }
    }
    if (objects != nullptr) {
        for (const std::size_t i : fetched) {
            auto tip = git::object_info(*objects, fetch_ref(*stages[i]) + "^{commit}");
            if (!tip) {
                throw Error(fmt::format("cannot read the fetched branch '{}'", fetch_ref(*stages[i])));
            }
            results[i].tip = std::move(tip->id);
        }
    } else if (!fetched.empty()) {  // one rev-parse for every fetched tip
        std::vector<std::string> rev_parse = {"rev-parse"};
        for (const std::size_t i : fetched) {
            rev_parse.push_back(fetch_ref(*stages[i]) + "^{commit}");
        }
        auto parsed = run(rev_parse);
        auto tips = lines_of(parsed.out);
        if (!parsed.ok() || tips.size() != fetched.size()) {
            throw Error(fmt::format("cannot read the fetched branches in '{}'", "refs/dataops/fetch/"),
                        lines_of(parsed.err));
        }
        for (std::size_t k = 0; k < fetched.size(); ++k) {
            results[fetched[k]].tip = tips[k];
        }
    }
    return results;
}

std::optional<std::string> Git::fetch(const stages::Stage& stage) const {
    auto fetched = fetch_all({&stage}).front();
    if (fetched.error) {
        throw *fetched.error;
    }
    return fetched.tip;
}

process::Options Git::options(std::vector<std::string> args, process::Interaction interaction) const {
    process::Options options;
    options.argv = {"git"};
    options.argv.insert(options.argv.end(), args.begin(), args.end());
    options.cwd = cwd_;
    options.interaction = interaction;
    return options;
}

process::Result Git::run(std::vector<std::string> args, process::Interaction interaction) const {
    return process::run(options(std::move(args), interaction));
}

std::optional<std::string> Git::remote_tip(const stages::Stage& stage) const {
    const std::string ref = "refs/heads/" + stage.branch;
    // `--` keeps a remote named like an option from being read as one.
    auto result = run({"ls-remote", "--", stage.remote, ref}, process::Interaction::person);
    if (!result.ok()) {
        throw Error(fmt::format("cannot read the branches of remote '{}'", stage.remote), lines_of(result.err));
    }
    // A pattern matches any ref ending in it: keep the exact name only.
    for (const auto& line : lines_of(result.out)) {
        auto tab = line.find('\t');
        if (tab != std::string::npos && line.substr(tab + 1) == ref) {
            return line.substr(0, tab);
        }
    }
    return std::nullopt;
}

bool Git::fetch_watched(const stages::Stage& stage) const {
    if (!remote_tip(stage)) {
        run({"update-ref", "-d", fetch_ref(stage)});
        return false;
    }
    auto result = transport(fetch_args(stage));
    if (!result.ok()) {
        throw fetch_error(stage, result.err);
    }
    return true;
}

process::Running Git::start(std::vector<std::string> args) const {
    return process::Running(options(std::move(args), process::Interaction::none));
}

Identities::Identities(const Git& git)
    : author_(git.start({"var", "GIT_AUTHOR_IDENT"})), committer_(git.start({"var", "GIT_COMMITTER_IDENT"})) {}

std::pair<git::Identity, git::Identity> Identities::get() {
    auto parse = [](const process::Result& result) {
        if (!result.ok()) {
            throw Error("cannot tell who is promoting", lines_of(result.err));
        }
        return git::parse_identity(first_line(result.out));
    };
    const auto author = author_.wait();
    const auto committer = committer_.wait();
    return {parse(author), parse(committer)};
}

process::Result Git::push(const stages::Stage& stage, const std::string& commit) const {
    // Never forced: the push is the compare-and-swap, and the remote's hooks get their say.
    return transport({"push", "--", stage.remote, fmt::format("{}:refs/heads/{}", commit, stage.branch)});
}

PushOutcome push_and_verify(const Git& git, const stages::Stage& stage, const std::string& commit, const char* what) {
    auto pushed = git.push(stage, commit);
    PushOutcome outcome;
    outcome.messages = lines_of(pushed.err);
    if (pushed.ok()) {
        // Not read back: git pushes to the remote's pushurl, which may not be where ls-remote
        // reads (a mirror), and the branch may move on right after us; either would turn a
        // promotion that happened into an error.
        outcome.pushed = true;
        outcome.now = commit;
        return outcome;
    }
    try {
        outcome.now = git.remote_tip(stage);
    } catch (const Error& error) {
        auto hints = outcome.messages;
        hints.push_back(error.what());
        hints.insert(hints.end(), error.hints().begin(), error.hints().end());
        throw Error(fmt::format("cannot push the {} to '{}' on remote '{}'", what, stage.branch, stage.remote),
                    hints);
    }
    // A push that reports failure after the remote took the commit (a connection lost at the very
    // end) still promoted: the remote's ref is what counts.
    outcome.pushed = outcome.now == commit;
    if (pushed.ok() && !outcome.pushed) {
        throw Error(fmt::format("'{}' on remote '{}' is at '{}' after the push, not at the {} '{}'", stage.branch,
                                stage.remote, outcome.now.value_or("(none)"), what, commit));
    }
    return outcome;
}

const stages::Stage& find_stage(const stages::Pipeline& pipeline, const std::string& name) {
    const stages::Stage* stage = pipeline.find(name);
    if (stage == nullptr) {
        std::string known;
        for (const auto& s : pipeline.stages) {
            known += (known.empty() ? "" : ", ") + s.name;
        }
        throw Error(fmt::format("unknown stage '{}'", name), {fmt::format("the stages are: {}", known)});
    }
    return *stage;
}

std::string write_commit(const git::ObjectStore& store, git::ObjectReader& objects, const std::string& tree,
                         std::vector<std::string> parents, const std::string& message,
                         const std::pair<git::Identity, git::Identity>& who) {
    git::CommitRequest commit;
    commit.tree = tree;
    commit.parents = std::move(parents);
    commit.message = message;
    std::tie(commit.author, commit.committer) = who;
    auto id = store.create_commit(commit);
    // libgit2 can report success for an object it failed to write (seen with a full file system
    // quota: EFBIG). Pushing an id git cannot read fails confusingly on the remote: ask git now.
    const std::string hint = "check the free space and the quotas of the repository's file system";
    std::optional<git::ObjectInfo> read_back;
    try {
        read_back = git::object_info(objects, id);
    } catch (const Error& error) {
        throw Error(fmt::format("cannot write commit '{}': git cannot read it back", id), {error.what(), hint});
    }
    if (!read_back || read_back->type != "commit") {
        throw Error(fmt::format("cannot write commit '{}': git cannot read it back", id), {hint});
    }
    return id;
}

std::shared_ptr<const meltano::LoadResult> load_tree(const std::string& tree_or_commit,
                                                     const std::shared_ptr<git::ObjectReader>& objects,
                                                     const std::string& project_dir) {
    auto source = git::make_revision_source(tree_or_commit, objects);
    return std::make_shared<const meltano::LoadResult>(meltano::load_project(*source, project_dir));
}

}  // namespace dataops::promote::detail
