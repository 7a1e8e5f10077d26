#include <dataops/cli/verbs.hpp>

namespace dataops::cli {

const std::vector<Verb>& verbs() {
    static const std::vector<Verb> list = {
        {"env", "list, show and compare Meltano environments as they resolve"},
        {"validate", "find resolution errors in meltano.yml before they reach a stage"},
        {"promote", "merge a stage into the next one in memory, validate, show the plan, push"},
        {"status", "show every stage: tip, validity, work waiting and last promotion"},
        {"log", "list the promotions and rollbacks of a stage, newest first"},
        {"rollback", "restore an earlier promoted tree on a stage with a new commit and push it"},
        {"init", "write and check the promotion pipeline (stages, remotes, environments)"},
        {"hooks", "install, remove and inspect the pre-push hook that runs validate"},
        {"demo", "build a throwaway dev → staging → prod pipeline and show a team's day with it"},
    };
    return list;
}

}  // namespace dataops::cli
