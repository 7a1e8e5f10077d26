#include <dataops/hooks/pre_push.hpp>

#include <map>
#include <utility>

#include <dataops/git/revision_source.hpp>
#include <dataops/meltano/project.hpp>
#include <dataops/meltano/validate.hpp>
#include <dataops/report/env_report.hpp>
#include <dataops/stages/pipeline.hpp>
#include <dataops/util/error.hpp>
#include <dataops/util/strings.hpp>
#include <fmt/format.h>

namespace dataops::hooks {
namespace {

bool all_zeros(std::string_view oid) {
    return !oid.empty() && oid.find_first_not_of('0') == std::string_view::npos;
}

enum class Unmapped { ignore, warn, block };

Unmapped unmapped_policy(const git::Config& config) {
    auto value = config.get("dataops.hook.unmapped").value_or("block");
    if (value == "ignore") {
        return Unmapped::ignore;
    }
    if (value == "warn") {
        return Unmapped::warn;
    }
    if (value == "block") {
        return Unmapped::block;
    }
    throw Error(fmt::format("bad config value '{}' for 'dataops.hook.unmapped'", value),
                {"use one of: ignore, warn, block"});
}

std::string short_ref(std::string_view ref) {
    for (std::string_view prefix : {"refs/heads/", "refs/tags/"}) {
        if (util::starts_with(ref, prefix)) {
            return std::string(ref.substr(prefix.size()));
        }
    }
    return std::string(ref);
}

/// "bench/b001", or for refs with the same tree "bench/b001, bench/b002 and 97 more refs with
/// the same tree" (the first few by name: a push of many branches stays readable).
std::string name_refs(const std::vector<std::string>& refs) {
    constexpr std::size_t kNamed = 3;
    std::string text = refs.front();
    const std::size_t named = refs.size() <= kNamed + 1 ? refs.size() : kNamed;
    for (std::size_t i = 1; i < named; ++i) {
        text += (i + 1 == refs.size() ? " and " : ", ") + refs[i];
    }
    if (named < refs.size()) {
        text += fmt::format(" and {} more refs", refs.size() - named);
    }
    if (refs.size() > 1) {
        text += " with the same tree";
    }
    return text;
}

}  // namespace

int add_findings(HookReport& report, meltano::Diagnostics diagnostics, const std::optional<std::string>& environment,
                 const report::Style& style) {
    int errors = 0;
    for (auto& d : diagnostics) {
        // Other environments' problems are reported, not enforced: they block at their own stage.
        if (environment && d.severity == meltano::Severity::error && d.environment && *d.environment != *environment) {
            d.severity = meltano::Severity::warning;
            d.message += fmt::format(" (blocks pushes to the stage of environment '{}')", *d.environment);
        }
        report.lines.push_back(util::trim(report::format_diagnostic(d, style)));
        if (d.severity == meltano::Severity::error) {
            ++errors;
        }
    }
    return errors;
}

bool PushUpdate::is_delete() const {
    return local_ref == "(delete)" || all_zeros(local_oid);
}

std::vector<PushUpdate> parse_pre_push_input(std::string_view text) {
    std::vector<PushUpdate> updates;
    for (const auto& line : util::split_lines(text)) {
        if (line.empty()) {
            continue;
        }
        // From the right: the local side may contain spaces (`git push origin 'HEAD~1:main'`
        // arrives as typed).
        auto p3 = line.rfind(' ');
        auto p2 = p3 == std::string::npos ? p3 : line.rfind(' ', p3 - 1);
        auto p1 = p2 == std::string::npos || p2 == 0 ? std::string::npos : line.rfind(' ', p2 - 1);
        if (p1 == std::string::npos || p1 == 0) {
            throw Error(fmt::format("cannot parse the pre-push input line '{}'", line),
                        {"git feeds '<local-ref> <local-oid> <remote-ref> <remote-oid>' lines"});
        }
        PushUpdate update;
        update.local_ref = line.substr(0, p1);
        update.local_oid = line.substr(p1 + 1, p2 - p1 - 1);
        update.remote_ref = line.substr(p2 + 1, p3 - p2 - 1);
        update.remote_oid = line.substr(p3 + 1);
        updates.push_back(std::move(update));
    }
    return updates;
}

Judgements::Judged& Judgements::get(const git::FileSource& source, const std::string& project_dir,
                                     bool validated) {
    auto key = std::make_pair(source.tree().value_or(""), project_dir);
    auto found = judged_.find(key);
    if (found == judged_.end()) {
        Judged judged;
        judged.missing = source.kind(git::join_path(project_dir, "meltano.yml")) == git::EntryKind::missing;
        if (!judged.missing) {
            judged.load = meltano::load_project(source, project_dir);
        }
        found = judged_.emplace(std::move(key), std::move(judged)).first;
    }
    Judged& judged = found->second;
    if (validated && !judged.missing && !judged.every_environment) {
        judged.every_environment = meltano::validate(judged.load, {});
    }
    return judged;
}

std::shared_ptr<const git::FileSource> Judgements::commit(const std::string& oid,
                                                          const std::shared_ptr<git::ObjectReader>& objects) {
    auto found = commits_.find(oid);
    if (found == commits_.end()) {
        std::shared_ptr<const git::FileSource> source = git::make_revision_source(oid + "^{commit}", objects);
        found = commits_.emplace(oid, std::move(source)).first;
    }
    return found->second;
}

void prejudge(Judgements& judgements, const std::shared_ptr<git::ObjectReader>& objects,
              const std::vector<PushUpdate>& updates, std::string_view remote_name,
              std::string_view remote_url) noexcept {
    try {
        const git::Config none;
        const auto defaults = stages::load_pipeline(none);
        for (const auto& update : updates) {
            if (update.is_delete()) {
                continue;
            }
            const bool to_stage =
                stages::match_push(defaults, none, remote_name, remote_url, update.remote_ref) != nullptr;
            try {
                judgements.get(*judgements.commit(update.local_oid, objects), "", to_stage);
            } catch (const Error&) {
                // Not a commit: the ordinary path skips it.
            }
        }
    } catch (...) {
        // The repository was not the one git runs the hook for, or cat-file failed: the
        // ordinary path finds out and says so.
    }
}

HookReport run_pre_push(const git::Repository& repository, const PrePushRequest& request) {
    HookReport report;
    const auto& config = repository.config();
    const auto pipeline = stages::load_pipeline(config);
    const Unmapped policy = unmapped_policy(config);
    const std::string project_dir = stages::configured_project_dir(config).value_or("");
    const std::string file = git::join_path(project_dir, "meltano.yml");
    std::shared_ptr<git::ObjectReader> objects = request.objects;  // one `git cat-file` for every ref
    const std::shared_ptr<Judgements> judgements =
        request.judgements ? request.judgements : std::make_shared<Judgements>();

    // One check per tree and destination: refs that carry the same files to the same stage (or
    // outside the pipeline) are judged, and reported, once.
    struct Check {
        std::shared_ptr<const git::FileSource> source;
        const stages::Stage* stage;
        std::vector<std::string> refs;  ///< the remote refs, shortened
    };
    std::vector<Check> checks;
    std::map<std::pair<std::string, const stages::Stage*>, std::size_t> by_tree;
    for (const auto& update : parse_pre_push_input(request.input)) {
        if (update.is_delete()) {
            continue;
        }
        // Tags arrive as the tag object: the source peels to the commit, or to nothing.
        std::shared_ptr<const git::FileSource> source;
        try {
            if (!objects) {
                objects = git::make_object_reader(repository.location().git_dir);
            }
            source = judgements->commit(update.local_oid, objects);
        } catch (const Error&) {
            continue;  // a tag of a tree or blob: no meltano.yml to judge
        }
        const stages::Stage* stage =
            stages::match_push(pipeline, config, request.remote_name, request.remote_url, update.remote_ref);
        if (stage == nullptr && policy == Unmapped::ignore) {
            continue;
        }
        auto [found, added] = by_tree.emplace(std::make_pair(*source->tree(), stage), checks.size());
        if (added) {
            checks.push_back({std::move(source), stage, {}});
        }
        checks[found->second].refs.push_back(short_ref(update.remote_ref));
    }

    int errors = 0;
    std::string blocked_what;
    for (const auto& check : checks) {
        const git::FileSource& source = *check.source;
        const stages::Stage* stage = check.stage;
        const Judgements::Judged& judged = judgements->get(source, project_dir, stage != nullptr);
        if (judged.missing) {
            continue;  // not a Meltano project at this commit: nothing to judge
        }
        const meltano::LoadResult& load = judged.load;
        meltano::ValidationResult result;
        if (stage != nullptr) {
            const std::string& environment = stage->environment;
            report.lines.push_back(fmt::format("git-dataops: checking {} of {} for environment '{}' (push to {}/{})",
                                               file, source.describe(), environment, stage->remote, stage->branch));
            // Every environment: the stage's own errors block, other environments' blocks are
            // warnings here (a typo in the prod block is news on the way to dev, and blocks at prod).
            bool defined = load.project && load.project->find_environment(environment) != nullptr;
            result = *judged.every_environment;
            if (load.project && !defined) {
                meltano::Diagnostic d;
                d.code = "stage-environment-undefined";
                d.message = fmt::format("stage '{}' runs environment '{}', which is not defined", stage->name,
                                        environment);
                d.file = file;
                d.environment = environment;
                d.hint = fmt::format("define it in {}, or set 'dataops.{}.environment'", file, stage->name);
                result.diagnostics.insert(result.diagnostics.begin(), d);
            }
        } else {
            report.lines.push_back(
                fmt::format("git-dataops: checking {} of {} (push to {} {}, outside the pipeline: syntax and shape only)",
                            file, source.describe(), request.remote_name, name_refs(check.refs)));
            result = meltano::validate_structure(load);
        }
        const int these_errors = add_findings(
            report, std::move(result.diagnostics),
            stage != nullptr ? std::optional<std::string>(stage->environment) : std::nullopt, request.style);
        if (these_errors > 0 && (stage != nullptr || policy == Unmapped::block)) {
            errors += these_errors;
            blocked_what = fmt::format("{} of {}", file, source.describe());
        }
    }
    if (errors > 0) {
        report.blocked = true;
        report.lines.push_back(fmt::format("git-dataops: push blocked: {} error{} in {}", errors,
                                           errors == 1 ? "" : "s", blocked_what));
        report.lines.push_back(
            "hint: fix and commit, or bypass this check with 'git push --no-verify' (or DATAOPS_SKIP=1)");
    }
    return report;
}

}  // namespace dataops::hooks
