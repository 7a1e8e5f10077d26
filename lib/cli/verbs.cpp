#include <dataops/cli/verbs.hpp>

#include <dataops_docs/git-dataops-demo.hpp>
#include <dataops_docs/git-dataops-env.hpp>
#include <dataops_docs/git-dataops-hooks.hpp>
#include <dataops_docs/git-dataops-init.hpp>
#include <dataops_docs/git-dataops-log.hpp>
#include <dataops_docs/git-dataops-promote.hpp>
#include <dataops_docs/git-dataops-rollback.hpp>
#include <dataops_docs/git-dataops-status.hpp>
#include <dataops_docs/git-dataops-validate.hpp>

namespace dataops::cli {

const std::vector<Verb>& verbs() {
    static const std::vector<Verb> list = {
        {"env", docs::env::summary},
        {"validate", docs::validate::summary},
        {"promote", docs::promote::summary},
        {"status", docs::status::summary},
        {"log", docs::log::summary},
        {"rollback", docs::rollback::summary},
        {"init", docs::init::summary},
        {"hooks", docs::hooks::summary},
        {"demo", docs::demo::summary},
    };
    return list;
}

}  // namespace dataops::cli
