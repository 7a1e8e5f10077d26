#include <dataops/hooks/pre_receive.hpp>

#include <dataops/git/revision_source.hpp>
#include <dataops/meltano/project.hpp>
#include <dataops/meltano/validate.hpp>
#include <dataops/stages/pipeline.hpp>
#include <dataops/util/error.hpp>
#include <dataops/util/strings.hpp>
#include <fmt/format.h>

namespace dataops::hooks {

HookReport run_pre_receive(const git::Repository& repository, const std::string& input,
                           const report::Style& style) {
    HookReport report;
    const auto& config = repository.config();
    auto environment = config.get("dataops.server.environment");
    if (!environment) {
        report.lines.push_back("git-dataops: dataops.server.environment is not set; nothing checked");
        return report;
    }
    const std::string branch = "refs/heads/" + config.get("dataops.server.branch").value_or("main");
    const std::string project_dir = stages::configured_project_dir(config).value_or("");
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
        errors += add_findings(report, std::move(result.diagnostics), *environment, style);
    }
    if (errors > 0) {
        report.blocked = true;
        report.lines.push_back(fmt::format("git-dataops: update rejected: {} error{} in {} for environment '{}'",
                                           errors, errors == 1 ? "" : "s", file, *environment));
    }
    return report;
}

}  // namespace dataops::hooks
