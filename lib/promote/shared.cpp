#include <dataops/promote/shared.hpp>

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <dataops/git/revision_source.hpp>
#include <dataops/util/error.hpp>
#include <fmt/format.h>

namespace dataops::promote::detail {

PromotionLock::PromotionLock(std::string path) : path_(std::move(path)) {
    int fd = ::open(path_.c_str(), O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0644);
    if (fd < 0) {
        int error = errno;
        if (error == EEXIST) {
            throw Error("another promotion is running from this clone",
                        {fmt::format("if none is, remove '{}'", path_)});
        }
        throw Error(fmt::format("cannot create '{}': {}", path_, std::strerror(error)));
    }
    auto pid = std::to_string(::getpid()) + "\n";
    // The pid only helps a person decide whether the lock is stale: a short write is harmless.
    [[maybe_unused]] auto written = ::write(fd, pid.data(), pid.size());
    ::close(fd);
}

PromotionLock::~PromotionLock() {
    ::unlink(path_.c_str());
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

Git::Git(const git::Repository& repository)
    : cwd_(repository.location().work_tree.value_or(repository.location().git_dir)) {}

process::Result Git::run(std::vector<std::string> args, process::Interaction interaction) const {
    process::Options options;
    options.argv = {"git"};
    options.argv.insert(options.argv.end(), args.begin(), args.end());
    options.cwd = cwd_;
    options.interaction = interaction;
    return process::run(options);
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

std::optional<std::string> Git::fetch(const stages::Stage& stage) const {
    const std::string local = "refs/dataops/fetch/" + stage.name;
    if (!remote_tip(stage)) {
        run({"update-ref", "-d", local});
        return std::nullopt;
    }
    // --refmap= keeps even the remote-tracking branches as they were: only our namespace moves.
    auto result = run({"fetch", "--quiet", "--no-tags", "--no-write-fetch-head", "--refmap=", "--", stage.remote,
                       fmt::format("+refs/heads/{}:{}", stage.branch, local)},
                      process::Interaction::person);
    if (!result.ok()) {
        throw Error(fmt::format("cannot fetch '{}' from remote '{}'", stage.branch, stage.remote),
                    lines_of(result.err));
    }
    auto parsed = run({"rev-parse", "--verify", "--quiet", local + "^{commit}"});
    if (!parsed.ok()) {
        throw Error(fmt::format("cannot read '{}' after fetching it", local));
    }
    return first_line(parsed.out);
}

git::Identity Git::identity(const char* variable) const {
    auto result = run({"var", variable});
    if (!result.ok()) {
        throw Error("cannot tell who is promoting", lines_of(result.err));
    }
    return git::parse_identity(first_line(result.out));
}

process::Result Git::push(const stages::Stage& stage, const std::string& commit) const {
    // Never forced: the push is the compare-and-swap, and the remote's hooks get their say.
    return run({"push", "--quiet", "--", stage.remote, fmt::format("{}:refs/heads/{}", commit, stage.branch)},
               process::Interaction::person);
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

std::string write_commit(const Git& git, const git::ObjectStore& store, const std::string& tree,
                         std::vector<std::string> parents, const std::string& message) {
    git::CommitRequest commit;
    commit.tree = tree;
    commit.parents = std::move(parents);
    commit.message = message;
    commit.author = git.identity("GIT_AUTHOR_IDENT");
    commit.committer = git.identity("GIT_COMMITTER_IDENT");
    return store.create_commit(commit);
}

std::shared_ptr<const meltano::LoadResult> load_tree(const std::string& tree_or_commit, const std::string& git_dir,
                                                     const std::string& project_dir) {
    auto source = git::make_revision_source(tree_or_commit, git_dir);
    return std::make_shared<const meltano::LoadResult>(meltano::load_project(*source, project_dir));
}

}  // namespace dataops::promote::detail
