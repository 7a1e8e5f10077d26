#include <dataops/promote/promote.hpp>

#include <future>
#include <memory>

#include <dataops/meltano/validate.hpp>
#include <dataops/process/process.hpp>
#include <dataops/promote/shared.hpp>
#include <dataops/util/error.hpp>
#include <dataops_version.hpp>
#include <fmt/format.h>

namespace dataops::promote {
namespace {

using detail::find_stage;
using detail::Git;
using detail::lines_of;
using detail::load_tree;

std::string commit_message(const Request& request, const Result& result) {
    std::string subject = request.message.value_or(
        fmt::format("promote {} → {}", result.source.stage.name, result.target.stage.name));
    return fmt::format("{}\n\nDataops-Source: {} {}\nDataops-Target: {}\nDataops-Environment: {}\n"
                       "Dataops-Mode: {}\nDataops-Version: {}\n",
                       subject, result.source.stage.name, *result.source.commit, result.target.stage.name,
                       result.target.stage.environment, mode_name(result.mode), DATAOPS_VERSION);
}

std::shared_ptr<const meltano::Resolution> resolve_for(const std::shared_ptr<const meltano::LoadResult>& load,
                                                       const std::string& environment) {
    if (!load || !load->project) {
        return std::make_shared<const meltano::Resolution>();
    }
    meltano::ResolveOptions options;
    options.environment = environment;
    return std::make_shared<const meltano::Resolution>(meltano::resolve(load->project, options));
}

/// Fetch both stages' branches into refs/dataops/fetch/.
Result fetch(const Git& git, const Request& request, const stages::Stage& source, const stages::Stage& target,
             git::ObjectReader& objects) {
    Result result;
    result.mode = request.mode;
    result.source.stage = source;
    result.target.stage = target;
    // Both at once: the two workspaces are usually two remotes, asked in parallel.
    auto fetched = git.fetch_all({&source, &target}, &objects);
    for (auto& one : fetched) {
        if (one.error) {
            throw *one.error;
        }
    }
    result.source.commit = fetched[0].tip;
    if (!result.source.commit) {
        throw Error(fmt::format("branch '{}' does not exist on remote '{}' (stage '{}')", source.branch, source.remote,
                                source.name));
    }
    result.target.commit = fetched[1].tip;
    return result;
}

/// Compute the promotion of the fetched tips up to the plan (no commit written yet).
void plan(Result& result, const git::ObjectStore& store, const std::shared_ptr<git::ObjectReader>& objects,
          const git::Config& config, const Request& request) {
    const stages::Stage& target = result.target.stage;
    std::optional<std::string> target_tree;
    if (!result.target.commit) {
        // An empty target receives the source commit as it is: nothing to merge with.
        result.tree = store.tree_of(*result.source.commit);
        result.commit = result.source.commit;
    } else {
        target_tree = store.tree_of(*result.target.commit);
        if (request.mode == Mode::mirror) {
            result.tree = store.tree_of(*result.source.commit);
        } else {
            // While git merges (a child process), libgit2 reads the trees in which the two sides
            // differ, where the merged tree differs from the target: the list of changed files
            // below then finds them in its caches. The first reads of a large pack are the slow
            // part (9 of 9.5 ms on 20,000 files); the two run on two cores. A failure here is
            // the list's to report.
            std::future<void> warming = std::async(std::launch::async, [&store, &result, &target_tree] {
                try {
                    store.diff_trees(target_tree, store.tree_of(*result.source.commit));
                } catch (const Error&) {
                }
            });
            auto merged =
                store.merge_theirs(*result.target.commit, *result.source.commit, git::MergeEngine::git, &config);
            warming.get();
            if (!merged.conflicts.empty()) {
                result.conflicts = std::move(merged.conflicts);
                result.outcome = Outcome::conflicts;
                return;
            }
            result.tree = merged.tree;
        }
        if (*result.tree == *target_tree && store.is_ancestor(*result.source.commit, *result.target.commit)) {
            result.outcome = Outcome::up_to_date;
            return;
        }
    }

    // The list of changed files reads trees through libgit2 (its first pack reads cost some
    // milliseconds on a large repository) while the projects are read through `git cat-file`.
    auto changes = std::async(std::launch::async, [&store, &target_tree, &result] {
        return store.diff_trees(target_tree, *result.tree);
    });
    result.after_project = load_tree(*result.tree, objects, request.project_dir);
    meltano::ValidateOptions validate_options;
    validate_options.environments = {target.environment};
    result.diagnostics = meltano::validate(*result.after_project, validate_options).diagnostics;
    if (!result.after_project->project || meltano::has_errors(result.diagnostics)) {
        result.changes = changes.get();
        result.outcome = Outcome::invalid;
        return;
    }
    if (target_tree) {
        result.before_project = load_tree(*target_tree, objects, request.project_dir);
    }
    result.before = resolve_for(result.before_project, target.environment);
    result.after = resolve_for(result.after_project, target.environment);
    result.config_changes = report::compare(*result.before, *result.after);
    result.changes = changes.get();
    result.outcome = Outcome::planned;
}

}  // namespace

const char* mode_name(Mode mode) {
    return mode == Mode::mirror ? "mirror" : "merge";
}

Result promote(const git::Repository& repository, const Request& request) {
    auto pipeline = stages::load_pipeline(repository.config());
    const stages::Stage& target = find_stage(pipeline, request.target_stage);
    const stages::Stage* source = nullptr;
    if (request.source_stage) {
        source = &find_stage(pipeline, *request.source_stage);
    } else {
        source = pipeline.previous(target);
        if (source == nullptr) {
            throw Error(fmt::format("stage '{}' is the first stage: no stage comes before it", target.name),
                        {"name the source stage with --from <stage>"});
        }
    }
    if (source->name == target.name) {
        throw Error(fmt::format("cannot promote stage '{}' into itself", target.name));
    }

    detail::PromotionLock lock(detail::lock_path(repository));
    Git git(repository, request.progress);
    std::vector<std::string> notes;
    constexpr int max_attempts = 2;
    for (int attempt = 1;; ++attempt) {
        // libgit2's start-up (about 5 ms: it reads the system's certificates) while git fetches;
        // objects that arrive after the repository is opened are found all the same (libgit2
        // rescans the object directory when an object is missing).
        auto opening = std::async(std::launch::async, [&repository] {
            return std::make_unique<git::ObjectStore>(repository.location().git_dir);
        });
        // The projects before and after are read through one `git cat-file`, started now too.
        const auto objects = git::make_object_reader(repository.location().git_dir);
        // Who commits, asked now when nobody is to confirm first: git answers during the fetch.
        std::optional<detail::Identities> identities;
        if (!request.dry_run && !request.confirm) {
            identities.emplace(git);
        }
        Result result = fetch(git, request, *source, target, *objects);
        detail::test_pause("after-fetch");
        const std::unique_ptr<git::ObjectStore> opened = opening.get();
        const git::ObjectStore& store = *opened;
        plan(result, store, objects, repository.config(), request);
        result.attempts = attempt;
        detail::test_pause("after-merge");
        result.notes = notes;
        if (result.outcome != Outcome::planned || request.dry_run) {
            return result;
        }
        if (request.confirm && !request.confirm(result)) {
            return result;
        }
        if (result.target.commit) {
            if (!identities) {
                identities.emplace(git);
            }
            result.commit = detail::write_commit(store, *objects, *result.tree,
                                                 {*result.target.commit, *result.source.commit},
                                                 commit_message(request, result), identities->get());
        }

        detail::test_pause("after-commit");

        auto pushed = detail::push_and_verify(git, target, *result.commit, "promotion");
        if (!pushed.pushed) {
            if (pushed.now != result.target.commit && attempt < max_attempts) {
                notes.push_back(fmt::format("'{}' on remote '{}' moved while promoting; promoting again",
                                            target.branch, target.remote));
                continue;
            }
            // The target said no (a hook, a protected branch): a refusal, like a failed validation,
            // and nothing changed there.
            result.outcome = Outcome::rejected;
            result.rejection = pushed.messages;
            if (pushed.now != result.target.commit) {
                result.rejection.push_back(fmt::format(
                    "'{}' keeps moving on remote '{}': run the promotion again later", target.branch, target.remote));
            }
            return result;
        }
        for (const auto& line : pushed.messages) {
            result.notes.push_back(line);
        }
        result.pushed = true;
        result.outcome = Outcome::promoted;
        return result;
    }
}

}  // namespace dataops::promote
