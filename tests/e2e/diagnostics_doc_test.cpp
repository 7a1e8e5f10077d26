// Every diagnostic code, end to end: each example in docs/diagnostics.md is written into a real
// repository and validated through `git dataops validate`, from the working tree and from a
// commit, and must print what the documentation says. The documentation cannot drift from the
// product, and no code goes without an e2e test.
#include <catch2/catch.hpp>

#include <fstream>
#include <sstream>

#include <dataops/util/strings.hpp>

#include "support/temp_repo.hpp"

using dataops::testing::describe;
using dataops::testing::TempRepo;

namespace {

struct Example {
    std::string code;
    std::vector<std::pair<std::string, std::string>> files;  // path, content
    std::vector<std::string> expected;                       // output lines
    std::vector<std::string> extra_args;                     // from the "Output (...)" note
};

/// The `## <code>` sections of docs/diagnostics.md with their files and expected output.
std::vector<Example> read_examples() {
    std::ifstream in(std::string(DATAOPS_SOURCE_DIR) + "/docs/diagnostics.md");
    REQUIRE(in);
    std::stringstream buffer;
    buffer << in.rdbuf();
    auto lines = dataops::util::split_lines(buffer.str());
    std::vector<Example> examples;
    Example* current = nullptr;
    std::string pending_file;
    bool pending_output = false;
    for (std::size_t i = 0; i < lines.size(); ++i) {
        const std::string& line = lines[i];
        if (dataops::util::starts_with(line, "## ")) {
            std::string code = line.substr(3);
            bool is_code = !code.empty() && code.find(' ') == std::string::npos;
            examples.push_back({is_code ? code : std::string(), {}, {}, {}});
            current = &examples.back();
            continue;
        }
        if (current == nullptr || current->code.empty()) {
            continue;
        }
        if (line.size() > 3 && line.front() == '`' && dataops::util::ends_with(line, "`:")) {
            pending_file = line.substr(1, line.size() - 3);
            continue;
        }
        if (dataops::util::starts_with(line, "Output")) {
            pending_output = true;
            auto env = line.find("validating environment `");
            if (env != std::string::npos) {
                auto start = env + 24;
                current->extra_args = {"--env", line.substr(start, line.find('`', start) - start)};
            }
            if (line.find("strict") != std::string::npos) {
                current->extra_args.push_back("--strict");
            }
            continue;
        }
        if (dataops::util::starts_with(line, "```") && (!pending_file.empty() || pending_output)) {
            std::string body;
            std::vector<std::string> body_lines;
            for (++i; i < lines.size() && !dataops::util::starts_with(lines[i], "```"); ++i) {
                body += lines[i] + "\n";
                body_lines.push_back(lines[i]);
            }
            if (pending_output) {
                current->expected = body_lines;
                pending_output = false;
            } else {
                current->files.emplace_back(pending_file, body);
                pending_file.clear();
            }
        }
    }
    examples.erase(std::remove_if(examples.begin(), examples.end(),
                                  [](const Example& e) { return e.code.empty() || e.expected.empty(); }),
                   examples.end());
    return examples;
}

}  // namespace

TEST_CASE("every documented diagnostic is printed as docs/diagnostics.md shows it", "[e2e][validate][docs]") {
    auto examples = read_examples();
    REQUIRE(examples.size() >= 30);
    for (const auto& example : examples) {
        DYNAMIC_SECTION(example.code) {
            TempRepo repo;
            std::map<std::string, std::optional<std::string>> files;
            for (const auto& [path, content] : example.files) {
                files[path] = content;
            }
            const std::string head = repo.commit("example for " + example.code, files).substr(0, 7);
            bool expects_error = false;
            for (const auto& line : example.expected) {
                expects_error = expects_error || line.find(": error: ") != std::string::npos ||
                                dataops::util::starts_with(line, "error: ");
            }
            for (const auto& rev : {std::vector<std::string>{}, std::vector<std::string>{"--rev", "HEAD"}}) {
                std::vector<std::string> args = {"validate"};
                if (example.extra_args.empty() || example.extra_args.front() != "--env") {
                    args.push_back("--all");
                }
                args.insert(args.end(), example.extra_args.begin(), example.extra_args.end());
                args.insert(args.end(), rev.begin(), rev.end());
                auto result = repo.dataops(args);
                INFO(example.code << (rev.empty() ? " (working tree)" : " (--rev HEAD)"));
                INFO(describe(result));
                CHECK(result.code == (expects_error ? 1 : 0));
                CHECK_THAT(result.out, Catch::Contains("[" + example.code + "]"));
                // The documented lines, modulo the indentation of hints.
                std::vector<std::string> printed;
                for (const auto& line : dataops::util::split_lines(result.out)) {
                    printed.push_back(dataops::util::trim(line));
                }
                for (std::string line : example.expected) {
                    // Messages that name their source say the commit instead of the working tree.
                    auto where = line.find("the working tree");
                    if (!rev.empty() && where != std::string::npos) {
                        line.replace(where, 16, head);
                    }
                    CHECK(std::find(printed.begin(), printed.end(), dataops::util::trim(line)) != printed.end());
                }
            }
        }
    }
}
