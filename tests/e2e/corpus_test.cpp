// The real corpus (issue 8): every public meltano.yml in ../shared/corpus/meltano-real is put
// into a throwaway repository as meltano.yml, with the other files of its directory (its
// included files), and validated for every environment through `git dataops validate`. No
// project may crash or hang the validator (exit 0 or 1 only), and the errors it reports must be
// exactly those tests/data/corpus-expectations.tsv lists, each with the reason it is a real
// problem: a real project Meltano accepts raises no error unless it really has one.
//
// The corpus is not part of the project and is never copied into it; when the folder is absent
// the test is skipped with a message.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>

#include <nlohmann/json.hpp>

#include <dataops/util/strings.hpp>

#include "support/temp_repo.hpp"

using dataops::testing::describe;
using dataops::testing::TempRepo;

namespace {

namespace fs = std::filesystem;

const fs::path kCorpus = fs::path(DATAOPS_SHARED_DIR) / "corpus" / "meltano-real";

bool is_root(const fs::path& file) {
    const auto name = file.filename().string();
    return name == "meltano.yml" || name == "ending-meltano.yml" || name == "meltano.template.yml";
}

std::string slurp(const fs::path& file) {
    std::ifstream in(file, std::ios::binary);
    std::stringstream buffer;
    buffer << in.rdbuf();
    return buffer.str();
}

/// corpus-relative root path -> code -> reason, from tests/data/corpus-expectations.tsv.
std::map<std::string, std::map<std::string, std::string>> read_expectations() {
    const fs::path file = fs::path(DATAOPS_SOURCE_DIR) / "tests" / "data" / "corpus-expectations.tsv";
    std::ifstream in(file);
    REQUIRE(in);
    std::map<std::string, std::map<std::string, std::string>> out;
    std::string line;
    while (std::getline(in, line)) {
        if (line.empty() || line[0] == '#') {
            continue;
        }
        auto fields = dataops::util::split(line, '\t');
        INFO("corpus-expectations.tsv: " << line);
        REQUIRE(fields.size() == 3);
        REQUIRE(!fields[2].empty());  // every expected error says why it is a real problem
        out[fields[0]][fields[1]] = fields[2];
    }
    return out;
}

/// Copy the project of `root` into the repository: the root as meltano.yml, and every other file
/// under its directory except those of nested projects (directories holding another root).
void copy_project(const fs::path& root, const TempRepo& repo) {
    const fs::path dir = root.parent_path();
    repo.write("meltano.yml", slurp(root));
    for (auto it = fs::recursive_directory_iterator(dir); it != fs::recursive_directory_iterator(); ++it) {
        const fs::path& path = it->path();
        if (it->is_directory()) {
            for (const auto& entry : fs::directory_iterator(path)) {
                if (is_root(entry.path())) {
                    it.disable_recursion_pending();
                    break;
                }
            }
            continue;
        }
        if (it->is_regular_file() && !is_root(path)) {
            repo.write(fs::relative(path, dir).string(), slurp(path));
        }
    }
}

}  // namespace

TEST_CASE("every project of the real corpus validates without a crash, as expected", "[e2e][corpus]") {
    if (!fs::is_directory(kCorpus)) {
        WARN("skipped: the real corpus is not at " << kCorpus.string());
        SUCCEED("no corpus");
        return;
    }
    auto expectations = read_expectations();
    std::set<std::string> roots;
    for (const auto& entry : fs::recursive_directory_iterator(kCorpus)) {
        if (entry.is_regular_file() && is_root(entry.path())) {
            roots.insert(fs::relative(entry.path(), kCorpus).string());
        }
    }
    REQUIRE(roots.size() > 100);
    for (const auto& [file, codes] : expectations) {
        INFO("corpus-expectations.tsv names a file the corpus does not have: " << file);
        CHECK(roots.count(file) == 1);
    }

    std::size_t flagged = 0;
    for (const auto& root : roots) {
        INFO("project " << root);
        TempRepo repo;
        copy_project(kCorpus / root, repo);
        // A hang guard (not a timing assertion): `timeout` turns one into exit 124.
        auto result = repo.run({"timeout", "-k", "5", "120", "git", "dataops", "validate", "--all", "--format", "json"});
        INFO(describe(result).substr(0, 8000));
        REQUIRE((result.code == 0 || result.code == 1));
        auto doc = nlohmann::json::parse(result.out);
        std::map<std::string, std::string> errors;  // code -> the first message
        for (const auto& d : doc["diagnostics"]) {
            if (d["severity"] == "error") {
                errors.emplace(d["code"].get<std::string>(),
                               d["file"].get<std::string>() + ":" + std::to_string(d["line"].get<int>()) + ": " +
                                   d["message"].get<std::string>());
            }
        }
        CHECK((result.code == 1) == !errors.empty());
        const auto expected = expectations.count(root) != 0 ? expectations[root] : std::map<std::string, std::string>{};
        for (const auto& [code, message] : errors) {
            INFO("unexpected error " << code << ": " << message);
            CHECK(expected.count(code) == 1);
        }
        for (const auto& [code, reason] : expected) {
            INFO("expected error " << code << " (" << reason << ") was not reported");
            CHECK(errors.count(code) == 1);
        }
        flagged += errors.empty() ? 0 : 1;
    }
    WARN(roots.size() << " corpus projects validated, " << flagged << " with errors");
}
