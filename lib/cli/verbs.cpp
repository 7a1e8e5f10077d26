#include <dataops/cli/verbs.hpp>

namespace dataops::cli {

const std::vector<Verb>& verbs() {
    static const std::vector<Verb> list = {};
    return list;
}

}  // namespace dataops::cli
