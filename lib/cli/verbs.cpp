#include <dataops/cli/verbs.hpp>

namespace dataops::cli {

const std::vector<Verb>& verbs() {
    static const std::vector<Verb> list = {
        {"env", "list, show and compare Meltano environments as they resolve"},
    };
    return list;
}

}  // namespace dataops::cli
