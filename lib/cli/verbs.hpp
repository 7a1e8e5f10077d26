#pragma once
/// The verbs git-dataops ships: `git dataops <verb>` runs `git-dataops-<verb>`. A verb is listed
/// here once its binary does its job (no stubs).

#include <string_view>
#include <vector>

namespace dataops::cli {

struct Verb {
    std::string_view name;
    std::string_view summary;  ///< one line for `git dataops -h`: the NAME line of its docs/commands page
};

/// Every shipped verb, in the order `git dataops -h` lists them.
const std::vector<Verb>& verbs();

}  // namespace dataops::cli
