#include <dataops/hooks/pre_receive.hpp>

#include <dataops/git/revision_source.hpp>
#include <dataops/meltano/project.hpp>
#include <dataops/meltano/validate.hpp>
#include <dataops/report/env_report.hpp>
#include <dataops/util/error.hpp>
#include <dataops/util/strings.hpp>
#include <fmt/format.h>

namespace dataops::hooks {

HookReport run_pre_receive(const git::Repository& repository, const std::string& input) {
    HookReport report;
    const auto& config = repository.config();
    auto environment = config.get("dataops.server.environment");
    if (!environment) {
        report.lines.push_back("git-dataops: dataops.server.environment is not set; nothing checked");
        return report;
    }
    const std::string branch = "refs/heads/" + config.get("dataops.server.branch").value_or("main");
    const std::string project_dir = git::normalize_relative(config.get("dataops.project").value_or("")).value_or("");
    const std::string file = git::join_path(project_dir, "meltano.yml");
    int errors = 0;
    for (const auto& line : util::split_lines(input)) {
        auto fields = util::split(line, ' ');
        if (fields.size() != 3 || fields[2] != branch || fields[1].find_first_not_of('0') == std::string::npos) {
            continue;  // another ref, or a delete
        }
        auto source = git::make_revision_source(fields[1] + "^{commit}", repository.location().git_dir);
        if (source->kind(file) == git::EntryKind::missing) {
            continue;
        }
        report.lines.push_back(fmt::format("git-dataops: checking {} of {} for environment '{}' (update of {})",
                                           file, source->describe(), *environment, branch));
        auto load = meltano::load_project(*source, project_dir);
        meltano::ValidateOptions options;
        options.environments = {*environment};
        auto result = meltano::validate(load, options);
        for (const auto& d : result.diagnostics) {
            bool other_environment = d.environment && *d.environment != *environment;
            std::string text = report::format_diagnostic(d);
            if (other_environment && d.severity == meltano::Severity::error) {
                text = util::trim(text);  // reported, but it blocks at its own stage
                report.lines.push_back("(other environment) " + text);
                continue;
            }
            report.lines.push_back(util::trim(text));
            if (d.severity == meltano::Severity::error) {
                ++errors;
            }
        }
    }
    if (errors > 0) {
        report.blocked = true;
        report.lines.push_back(fmt::format("git-dataops: update rejected: {} error{} in {} for environment '{}'",
                                           errors, errors == 1 ? "" : "s", file, *environment));
    }
    return report;
}

}  // namespace dataops::hooks
