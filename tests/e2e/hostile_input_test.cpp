// Hostile input, end to end (issue 8, "Bad input"): every case goes through the real binaries
// (`git dataops validate`) from the working tree and from a commit (`--rev HEAD`), and must end
// with exit 1 and a clear diagnostic (file:line:column where there is one, the documented code),
// never a crash, a signal, a fatal 128, a hang or unbounded memory.
//
// Every run is bounded: the child runs under `timeout` (a hang fails the test with exit 124,
// instead of blocking the suite) and `ulimit -v` (1 GiB of address space: a blow-up fails
// deterministically with an allocation failure instead of eating the machine). Sanitizer builds
// reserve terabytes of shadow address space, so there only the timeout applies. Large inputs are
// generated here, never committed.
#include <catch2/catch.hpp>

#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include <dataops/util/strings.hpp>

#include "support/temp_repo.hpp"

using dataops::testing::describe;
using dataops::testing::RunResult;
using dataops::testing::TempRepo;

namespace {

// AddressSanitizer and ThreadSanitizer reserve terabytes of address space for their shadow
// memory: under them the address-space limit is left out.
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
constexpr bool kSanitized = true;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
constexpr bool kSanitized = true;
#else
constexpr bool kSanitized = false;
#endif
#else
constexpr bool kSanitized = false;
#endif

/// Address space for one command (git, the dispatcher and the verb binary each get it).
constexpr const char* kMemoryLimitKiB = "1048576";
/// A hang guard, not a timing assertion: every case finishes in well under a second normally.
constexpr const char* kTimeoutSeconds = "120";

/// `git dataops <args>` under the time and memory bounds.
RunResult bounded(const TempRepo& repo, const std::vector<std::string>& args) {
    std::vector<std::string> argv = {"timeout", "-k", "5", kTimeoutSeconds, "sh", "-c",
                                     kSanitized ? "exec \"$@\"" : "ulimit -v \"$0\" && exec \"$@\"",
                                     kMemoryLimitKiB, "git", "dataops"};
    argv.insert(argv.end(), args.begin(), args.end());
    return repo.run(argv);
}

/// What a case must print: the diagnostic code, and where (`meltano.yml:3:5`, or `meltano.yml`
/// for a file-level finding), and optionally a piece of the message.
struct Expected {
    std::string code;
    std::string where;
    std::string message = {};
    bool error = true;  ///< false: a documented warning (exit 0)
    std::size_t max_stderr = 64 * 1024;
    std::size_t max_stdout = 64 * 1024;
};

/// The run finished on its own (no signal, no timeout, no fatal error) with the expected exit code
/// and diagnostic.
void check_run(const RunResult& r, const Expected& e) {
    INFO(describe(r).substr(0, 4000));
    REQUIRE(r.code != 124);  // timeout: a hang
    REQUIRE(r.code < 128);   // 128 fatal, 128+n a signal (ASan aborts too)
    CHECK(r.code == (e.error ? 1 : 0));
    // One diagnostic line has it all: the position (`file:line:column: `, or a prefix of it such as
    // `file:line:` when the column does not matter), the severity, the message and the code.
    const std::string severity = e.error ? ": error: " : ": warning: ";
    bool found = false;
    for (const auto& line : dataops::util::split_lines(r.out)) {
        const bool at = dataops::util::starts_with(line, e.where) &&
                        (e.where.back() == ':' || dataops::util::starts_with(line.substr(e.where.size()), ": "));
        if (at && line.find(severity) != std::string::npos &&
            dataops::util::ends_with(line, "[" + e.code + "]") && line.find(e.message) != std::string::npos) {
            found = true;
        }
    }
    INFO("expected a line '" << e.where << "..." << severity << "..." << e.message << "... [" << e.code << "]'");
    CHECK(found);
    // A clear diagnostic stays readable: nothing the size of the hostile input is echoed back.
    CHECK(r.out.size() < e.max_stdout);
    CHECK(r.err.size() < e.max_stderr);
}

/// Commit the files, then validate the working tree and the commit.
void check_both(TempRepo& repo, const std::map<std::string, std::optional<std::string>>& files,
                const Expected& e, const std::vector<std::string>& extra = {"--all"}) {
    repo.commit("hostile", files);
    std::vector<std::string> args = {"validate"};
    args.insert(args.end(), extra.begin(), extra.end());
    {
        INFO("from the working tree");
        check_run(bounded(repo, args), e);
    }
    args.insert(args.end(), {"--rev", "HEAD"});
    INFO("from the revision");
    check_run(bounded(repo, args), e);
}

void check_case(const std::string& meltano_yml, const Expected& e) {
    TempRepo repo;
    check_both(repo, {{"meltano.yml", meltano_yml}}, e);
}

std::string repeat(const std::string& piece, std::size_t n) {
    std::string out;
    out.reserve(piece.size() * n);
    for (std::size_t i = 0; i < n; ++i) {
        out += piece;
    }
    return out;
}

}  // namespace

TEST_CASE("hostile input: empty and comment-only files", "[e2e][hostile]") {
    const Expected empty{"empty-file", "meltano.yml", "'meltano.yml' is empty"};
    SECTION("empty") { check_case("", empty); }
    SECTION("only comments") { check_case("# nothing yet\n# still nothing\n", empty); }
    SECTION("only blank lines") { check_case("\n\n   \n", empty); }
    SECTION("only a document marker") { check_case("---\n...\n", empty); }
    SECTION("an included file that is empty") {
        TempRepo repo;
        check_both(repo, {{"meltano.yml", "include_paths: [./sub.yml]\n"}, {"sub.yml", "# empty\n"}},
                   {"empty-file", "sub.yml", "'sub.yml' is empty"});
    }
}

TEST_CASE("hostile input: syntax errors and tabs have a line and a column", "[e2e][hostile]") {
    SECTION("an unclosed flow mapping") {
        check_case("plugins:\n  extractors:\n  - name: tap-auth0\n    config: {domain: a\n",
                   {"yaml-syntax", "meltano.yml:5:1", "did not find expected ',' or '}'"});
    }
    SECTION("a bad indentation") {
        check_case("plugins:\n  extractors:\n  - name: tap-x\n   config: {}\n", {"yaml-syntax", "meltano.yml:4:"});
    }
    SECTION("a tab used for indentation") {
        check_case("plugins:\n\textractors: []\n", {"yaml-syntax", "meltano.yml:2:1"});
    }
    SECTION("a tab after a key") {
        check_case("environments:\n- name:\tdev\n", {"yaml-syntax", "meltano.yml:2:8"});
    }
    SECTION("a second document") {
        check_case("version: 1\n---\nversion: 2\n", {"yaml-syntax", "meltano.yml:2:1"});
    }
    SECTION("an undefined alias") { check_case("plugins: *nothing\n", {"yaml-syntax", "meltano.yml:1:10"}); }
    SECTION("a date that does not exist") {
        check_case("environments:\n- name: dev\n  annotations: {since: 2021-02-30}\n",
                   {"yaml-syntax", "meltano.yml:3:24"});
    }
}

TEST_CASE("hostile input: the top level is not a mapping", "[e2e][hostile]") {
    SECTION("a list") { check_case("- name: dev\n- name: prod\n", {"wrong-shape", "meltano.yml:1:1"}); }
    SECTION("a scalar") { check_case("just words\n", {"wrong-shape", "meltano.yml:1:1"}); }
}

TEST_CASE("hostile input: every wrong shape of environments", "[e2e][hostile]") {
    SECTION("a mapping") { check_case("environments:\n  dev: {}\n", {"wrong-shape", "meltano.yml:2:3"}); }
    SECTION("a scalar") { check_case("environments: dev\n", {"wrong-shape", "meltano.yml:1:15"}); }
    SECTION("an entry that is a scalar") { check_case("environments:\n- dev\n", {"wrong-shape", "meltano.yml:2:3"}); }
    SECTION("an entry that is a list") {
        check_case("environments:\n- [dev]\n", {"wrong-shape", "meltano.yml:2:3"});
    }
    SECTION("a name that is a list") {
        check_case("environments:\n- name: [dev]\n", {"wrong-shape", "meltano.yml:2:9"});
    }
    SECTION("a missing name") { check_case("environments:\n- config: {}\n", {"missing-name", "meltano.yml:2:3"}); }
    SECTION("config that is a list") {
        check_case("environments:\n- name: dev\n  config: [a]\n", {"wrong-shape", "meltano.yml:3:11"});
    }
    SECTION("config.plugins that is a list") {
        check_case("environments:\n- name: dev\n  config:\n    plugins: [a]\n", {"wrong-shape", "meltano.yml:4:14"});
    }
    SECTION("a plugin type that is a mapping") {
        check_case("environments:\n- name: dev\n  config:\n    plugins:\n      extractors: {tap-x: {}}\n",
                   {"wrong-shape", "meltano.yml:5:19"});
    }
    SECTION("an unknown key") {
        check_case("environments:\n- name: dev\n  variables: {}\n", {"unknown-key", "meltano.yml:3:3"});
    }
}

TEST_CASE("hostile input: every wrong shape of plugins", "[e2e][hostile]") {
    SECTION("a list") { check_case("plugins: [tap-x]\n", {"wrong-shape", "meltano.yml:1:10"}); }
    SECTION("a scalar") { check_case("plugins: tap-x\n", {"wrong-shape", "meltano.yml:1:10"}); }
    SECTION("a type that is a scalar") {
        check_case("plugins:\n  extractors: tap-x\n", {"wrong-shape", "meltano.yml:2:15"});
    }
    SECTION("a type that is a mapping") {
        check_case("plugins:\n  extractors: {tap-x: {}}\n", {"wrong-shape", "meltano.yml:2:15"});
    }
    SECTION("an entry that is a scalar") {
        check_case("plugins:\n  extractors:\n  - tap-x\n", {"wrong-shape", "meltano.yml:3:5"});
    }
    SECTION("an entry without a name") {
        check_case("plugins:\n  extractors:\n  - variant: x\n", {"missing-name", "meltano.yml:3:5"});
    }
    SECTION("a name that is a mapping") {
        check_case("plugins:\n  extractors:\n  - name: {a: b}\n", {"wrong-shape", "meltano.yml:3:11"});
    }
    SECTION("config that is a list") {
        check_case("plugins:\n  extractors:\n  - name: tap-x\n    config: [a]\n", {"wrong-shape", "meltano.yml:4:13"});
    }
    SECTION("settings that is a mapping") {
        check_case("plugins:\n  extractors:\n  - name: tap-x\n    namespace: tap_x\n    settings: {port: 1}\n",
                   {"wrong-shape", "meltano.yml:5:15"});
    }
    SECTION("a setting that is a scalar") {
        check_case("plugins:\n  extractors:\n  - name: tap-x\n    namespace: tap_x\n    settings: [port]\n",
                   {"wrong-shape", "meltano.yml:5:16"});
    }
    SECTION("an unknown plugin type") {
        check_case("plugins:\n  extractor:\n  - name: tap-x\n", {"unknown-plugin-type", "meltano.yml:2:3"});
    }
}

TEST_CASE("hostile input: every wrong shape of environment plugin entries and env blocks",
          "[e2e][hostile]") {
    const std::string head = "plugins:\n  extractors:\n  - name: tap-x\nenvironments:\n- name: dev\n";
    SECTION("an entry that is a scalar") {
        check_case(head + "  config:\n    plugins:\n      extractors:\n      - tap-x\n",
                   {"wrong-shape", "meltano.yml:9:9"});
    }
    SECTION("an entry without a name") {
        check_case(head + "  config:\n    plugins:\n      extractors:\n      - config: {}\n",
                   {"missing-name", "meltano.yml:9:9"});
    }
    SECTION("an entry whose config is a scalar") {
        check_case(head + "  config:\n    plugins:\n      extractors:\n      - name: tap-x\n        config: x\n",
                   {"wrong-shape", "meltano.yml:10:17"});
    }
    SECTION("an entry whose env is a list") {
        check_case(head + "  config:\n    plugins:\n      extractors:\n      - name: tap-x\n        env: [A]\n",
                   {"wrong-shape", "meltano.yml:10:14"});
    }
    SECTION("an environment env block that is a list") {
        check_case(head + "  env: [A=1]\n", {"wrong-shape", "meltano.yml:6:8"});
    }
    SECTION("an environment env block that is a scalar") {
        check_case(head + "  env: A=1\n", {"wrong-shape", "meltano.yml:6:8"});
    }
    SECTION("an env value that is a mapping: a documented warning") {
        check_case(head + "  env:\n    A: {b: c}\n", {"wrong-shape", "meltano.yml:7:8", "is not a string", false});
    }
    SECTION("a top-level env block that is a list") {
        check_case("env: [A]\n" + head, {"wrong-shape", "meltano.yml:1:6"});
    }
    SECTION("a plugin env block that is a scalar") {
        check_case("plugins:\n  extractors:\n  - name: tap-x\n    env: A\n", {"wrong-shape", "meltano.yml:4:10"});
    }
}

TEST_CASE("hostile input: duplicate keys, environments and plugins", "[e2e][hostile]") {
    SECTION("a duplicate top-level key") {
        check_case("plugins: {}\nenvironments: []\nplugins: {}\n",
                   {"yaml-syntax", "meltano.yml:3:1", "found duplicate key 'plugins'"});
    }
    SECTION("a duplicate key in a plugin entry") {
        check_case("plugins:\n  extractors:\n  - name: tap-x\n    name: tap-y\n",
                   {"yaml-syntax", "meltano.yml:4:5", "found duplicate key 'name'"});
    }
    SECTION("a duplicate environment in one file: Meltano uses the first (a warning)") {
        check_case("environments:\n- name: prod\n- name: prod\n",
                   {"duplicate-environment", "meltano.yml:3:3", "", false});
    }
    SECTION("a duplicate plugin in one file: Meltano uses the first (a warning)") {
        check_case("plugins:\n  extractors:\n  - name: tap-x\n  - name: tap-x\n",
                   {"duplicate-plugin", "meltano.yml:4:5", "", false});
    }
    SECTION("a duplicate environment between included files: Meltano stops") {
        TempRepo repo;
        check_both(repo,
                   {{"meltano.yml", "include_paths: ['./envs/*.yml']\n"},
                    {"envs/a.yml", "environments:\n- name: prod\n"},
                    {"envs/b.yml", "environments:\n- name: prod\n"}},
                   {"duplicate-environment", "envs/b.yml:2:3"});
    }
    SECTION("a duplicate plugin between included files: Meltano stops") {
        TempRepo repo;
        check_both(repo,
                   {{"meltano.yml", "include_paths: ['./p/*.yml']\n"},
                    {"p/a.yml", "plugins:\n  extractors:\n  - name: tap-x\n"},
                    {"p/b.yml", "plugins:\n  extractors:\n  - name: tap-x\n"}},
                   {"duplicate-plugin", "p/b.yml:3:5"});
    }
}

TEST_CASE("hostile input: alias bombs and self-referencing anchors", "[e2e][hostile]") {
    SECTION("billion laughs") {
        std::string bomb = "a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]\n";
        for (int i = 1; i <= 9; ++i) {
            bomb += "a" + std::to_string(i) + ": &a" + std::to_string(i) + " [" +
                    repeat("*a" + std::to_string(i - 1) + ", ", 9) + "*a" + std::to_string(i - 1) + "]\n";
        }
        check_case("plugins:\n  extractors:\n  - name: tap-x\n    config:\n" + [&] {
            std::string indented;
            for (std::size_t at = 0; at < bomb.size();) {
                auto end = bomb.find('\n', at);
                indented += "      " + bomb.substr(at, end - at + 1);
                at = end + 1;
            }
            return indented;
        }(), {"yaml-syntax", "meltano.yml:", "alias"});
    }
    SECTION("an anchor that refers to itself") {
        check_case("plugins:\n  extractors:\n  - &x\n    name: tap-x\n    config: *x\n",
                   {"yaml-syntax", "meltano.yml:5:13"});
    }
    SECTION("a sequence that contains itself") {
        check_case("environments: &e\n- name: dev\n- *e\n", {"yaml-syntax", "meltano.yml:3:3"});
    }
}

TEST_CASE("hostile input: nesting 200,000 levels deep", "[e2e][hostile]") {
    constexpr std::size_t depth = 200000;
    TempRepo repo;
    SECTION("flow collections are refused with a position") {
        check_both(repo,
                   {{"meltano.yml", "plugins:\n  extractors:\n  - name: tap-x\n    config:\n      deep: " +
                                        repeat("[", depth) + repeat("]", depth) + "\n"}},
                   {"yaml-syntax", "meltano.yml:5:", "nested too deeply"});
    }
    SECTION("flow mappings are refused with a position") {
        check_both(repo, {{"meltano.yml", "env: " + repeat("{a: ", depth) + "b" + repeat("}", depth) + "\n"}},
                   {"yaml-syntax", "meltano.yml:1:", "nested too deeply"});
    }
    SECTION("block sequences are refused at the level that is too deep") {
        // Meltano's YAML loader fails with a RecursionError long before; the parser says where.
        check_both(repo,
                   {{"meltano.yml", "plugins:\n  extractors:\n  - name: tap-x\n    config:\n      deep:\n      " +
                                        repeat("- ", depth) + "x\n"}},
                   {"yaml-syntax", "meltano.yml:6:1997", "collections are nested too deeply"});
    }
    SECTION("block mappings with explicit keys are refused too") {
        check_both(repo, {{"meltano.yml", "env:\n  " + repeat("? ", depth) + "x\n"}},
                   {"yaml-syntax", "meltano.yml:2:", "collections are nested too deeply"});
    }
    SECTION("values nested up to the limit are resolved, validated and printed") {
        // 5 levels above a config value (document, plugins, extractors, the entry, config).
        constexpr std::size_t levels = 994;
        const std::string yml =
            "plugins:\n  extractors:\n  - name: tap-x\n    namespace: tap_x\n"
            "    settings: [{name: port, kind: integer}, {name: deep, kind: array}]\n"
            "    config:\n      port: five\n      deep:\n      " + repeat("- ", levels) + "x\n      flow: " +
            repeat("{a: ", levels) + "b" + repeat("}", levels) + "\nenvironments:\n- name: dev\n";
        check_both(repo, {{"meltano.yml", yml}}, {"invalid-setting-value", "meltano.yml:7:13", "'port'"});
        for (const std::string format : {"text", "json", "env"}) {
            INFO("env show --format " << format);
            auto show = bounded(repo, {"env", "show", "dev", "--format", format});
            INFO(describe(show).substr(0, 2000));
            CHECK(show.code < 128);
            if (format == "json") {
                CHECK(nlohmann::json::parse(show.out)["plugins"][0]["settings"].size() >= 3);
            } else {
                CHECK_THAT(show.out, Catch::Contains(repeat("[", levels) + "\"x\"" + repeat("]", levels)));
            }
        }
        auto json = bounded(repo, {"validate", "--all", "--format", "json"});
        INFO(describe(json).substr(0, 2000));
        CHECK(json.code == 1);
        CHECK(nlohmann::json::parse(json.out)["ok"] == false);
    }
}

TEST_CASE("hostile input: a 20 MB scalar", "[e2e][hostile]") {
    const std::string big(20 * 1024 * 1024, 'x');
    SECTION("as the value of an integer setting") {
        check_case("plugins:\n  extractors:\n  - name: tap-x\n    namespace: tap_x\n"
                   "    settings: [{name: port, kind: integer}]\n    config:\n      port: " + big + "\n",
                   {"invalid-setting-value", "meltano.yml:7:13", "'port'"});
    }
    SECTION("as the name of a plugin an environment configures") {
        check_case("plugins:\n  extractors:\n  - name: tap-x\nenvironments:\n- name: dev\n  config:\n"
                   "    plugins:\n      extractors:\n      - name: " + big + "\n",
                   {"unknown-plugin", "meltano.yml:9:15"});
    }
    SECTION("as an unterminated quoted scalar") {
        check_case("plugins:\n  extractors:\n  - name: tap-x\n    config:\n      a: '" + big + "\n",
                   {"yaml-syntax", "meltano.yml:"});
    }
}

TEST_CASE("hostile input: 100,000 environments", "[e2e][hostile]") {
    std::string yml = "plugins:\n  extractors:\n  - name: tap-x\n    config: {a: 1}\nenvironments:\n";
    constexpr int count = 100000;
    for (int i = 0; i < count - 1; ++i) {
        yml += "- name: e" + std::to_string(i) + "\n  config: {plugins: {extractors: [{name: tap-x, config: {a: 2}}]}}\n";
    }
    // The last one (line 5 + 2 * 99,999 + 1) configures a plugin that does not exist.
    yml += "- name: last\n  config: {plugins: {extractors: [{name: tap-y, config: {a: 2}}]}}\n";
    // The summary line names a few environments and counts the rest: the output stays small.
    check_case(yml, {"unknown-plugin", "meltano.yml:200005:42", "environment 'last'"});
}

TEST_CASE("hostile input: binary garbage, NUL bytes and invalid UTF-8", "[e2e][hostile]") {
    SECTION("random bytes") {
        std::mt19937 random(8);
        std::string garbage;
        for (int i = 0; i < 64 * 1024; ++i) {
            garbage += static_cast<char>(random() & 0xff);
        }
        check_case(garbage, {"yaml-syntax", "meltano.yml:1:"});
    }
    SECTION("a NUL byte in a value") {
        check_case(std::string("plugins:\n  extractors:\n  - name: tap-") + '\0' + "x\n",
                   {"yaml-syntax", "meltano.yml:3:15", "control characters are not allowed"});
    }
    SECTION("invalid UTF-8 in a value") {
        check_case("plugins:\n  extractors:\n  - name: tap-\xff\xfe\n", {"yaml-syntax", "meltano.yml:3:"});
    }
    SECTION("a truncated UTF-8 sequence at the end") {
        check_case("plugins:\n  extractors:\n  - name: tap-\xc3", {"yaml-syntax", "meltano.yml:3:"});
    }
}

TEST_CASE("hostile input: lock files that are not JSON or have the wrong shape", "[e2e][hostile]") {
    const std::string yml = "plugins:\n  extractors:\n  - name: tap-x\n    variant: v\n";
    const std::string lock = "plugins/extractors/tap-x--v.lock";
    TempRepo repo;
    SECTION("not JSON") {
        check_both(repo, {{"meltano.yml", yml}, {lock, "{ \"name\": \n"}}, {"lock-file-invalid", lock + ":2:1"});
    }
    SECTION("binary") {
        check_both(repo, {{"meltano.yml", yml}, {lock, std::string("\0\1\2\xff", 4)}},
                   {"lock-file-invalid", lock + ":1:1"});
    }
    SECTION("a list") { check_both(repo, {{"meltano.yml", yml}, {lock, "[]\n"}}, {"lock-file-invalid", lock}); }
    SECTION("settings that is not a list") {
        check_both(repo, {{"meltano.yml", yml}, {lock, R"({"name": "tap-x", "settings": {"a": 1}})"}},
                   {"lock-file-invalid", lock});
    }
    SECTION("a setting without a name") {
        check_both(repo, {{"meltano.yml", yml}, {lock, R"({"name": "tap-x", "settings": [{"kind": "string"}]})"}},
                   {"missing-name", lock, "setting definition has no 'name'"});
    }
    SECTION("a setting that is not an object") {
        check_both(repo, {{"meltano.yml", yml}, {lock, R"({"name": "tap-x", "settings": ["port"]})"}},
                   {"lock-file-invalid", lock});
    }
    SECTION("a name that is not a string") {
        check_both(repo, {{"meltano.yml", yml}, {lock, R"({"name": 5, "settings": []})"}},
                   {"lock-file-invalid", lock});
    }
    SECTION("a directory where the lock file should be") {
        check_both(repo, {{"meltano.yml", yml}, {lock + "/x", "{}"}}, {"lock-file-invalid", lock, "is not a file"});
    }
    SECTION("nested 200,000 levels deep") {
        check_both(repo, {{"meltano.yml", yml}, {lock, R"({"name": "tap-x", "settings": [{"name": "s", "value": )" +
                                                           repeat("[", 200000) + repeat("]", 200000) + "}]}"}},
                   {"lock-file-invalid", lock + ":1:1"});
    }
}

TEST_CASE("hostile input: include paths outside the project or at the wrong thing", "[e2e][hostile]") {
    TempRepo repo;
    namespace fs = std::filesystem;
    // A file outside the project, next to the repository (what `..` from the root reaches).
    repo.write("../outside.yml", "environments:\n- name: stolen\n");
    SECTION("..") {
        check_both(repo, {{"meltano.yml", "include_paths: [../outside.yml]\n"}},
                   {"include-path-outside", "meltano.yml:1:17"});
    }
    SECTION(".. inside a subdirectory project") {
        check_both(repo, {{"project/meltano.yml", "include_paths: [./sub/../../x.yml]\n"}, {"x.yml", "env: {}\n"}},
                   {"include-path-outside", "project/meltano.yml:1:17"}, {"--all", "--project", "project"});
    }
    SECTION("an absolute path") {
        check_both(repo, {{"meltano.yml", "include_paths: [/etc/passwd]\n"}},
                   {"include-path-outside", "meltano.yml:1:17"});
    }
    SECTION("a symlink to a file outside") {
        fs::create_symlink("../outside.yml", fs::path(repo.path()) / "linked.yml");
        check_both(repo, {{"meltano.yml", "include_paths: [./linked.yml]\n"}},
                   {"include-path-outside", "meltano.yml:1:17"});
    }
    SECTION("a symlink to an absolute path") {
        fs::create_symlink("/etc/passwd", fs::path(repo.path()) / "linked.yml");
        check_both(repo, {{"meltano.yml", "include_paths: ['./*.yml']\n"}},
                   {"include-path-outside", "meltano.yml:1:17"});
    }
    SECTION("a symlinked directory that leads outside") {
        fs::create_directories(fs::path(repo.root()) / "elsewhere");
        repo.write("../elsewhere/env.yml", "environments:\n- name: stolen\n");
        fs::create_symlink("../elsewhere", fs::path(repo.path()) / "envs");
        check_both(repo, {{"meltano.yml", "include_paths: [./envs/env.yml]\n"}},
                   {"include-path-outside", "meltano.yml:1:17"});
    }
    SECTION("a directory") {
        check_both(repo, {{"meltano.yml", "include_paths: [./envs]\n"}, {"envs/prod.yml", "environments: []\n"}},
                   {"include-path-not-file", "meltano.yml:1:17"});
    }
    SECTION("a missing file: Meltano ignores it silently (a warning)") {
        check_both(repo, {{"meltano.yml", "include_paths: [./missing.yml]\n"}},
                   {"include-path-missing", "meltano.yml:1:17", "", false});
    }
    SECTION("a file that does not parse") {
        check_both(repo, {{"meltano.yml", "include_paths: [./sub.yml]\n"}, {"sub.yml", "environments:\n- name: [x\n"}},
                   {"yaml-syntax", "sub.yml:3:1"});
    }
    SECTION("a file of the wrong shape") {
        check_both(repo, {{"meltano.yml", "include_paths: [./sub.yml]\n"}, {"sub.yml", "- a\n"}},
                   {"wrong-shape", "sub.yml:1:1"});
    }
    SECTION("include_paths that is not a list") {
        check_both(repo, {{"meltano.yml", "include_paths: ./sub.yml\n"}}, {"wrong-shape", "meltano.yml:1:16"});
    }
}

TEST_CASE("hostile input: inherit_from cycles", "[e2e][hostile]") {
    const std::string head = "plugins:\n  extractors:\n";
    SECTION("length 1 is shadowing in Meltano, not a cycle") {
        TempRepo repo;
        repo.commit("shadow", {{"meltano.yml", head + "  - name: tap-a\n    inherit_from: tap-a\n"}});
        for (const auto& rev : std::vector<std::vector<std::string>>{{}, {"--rev", "HEAD"}}) {
            std::vector<std::string> args = {"validate", "--all"};
            args.insert(args.end(), rev.begin(), rev.end());
            auto r = bounded(repo, args);
            INFO(describe(r));
            CHECK(r.code == 0);
            CHECK_THAT(r.out, !Catch::Contains("inherit-cycle"));
        }
    }
    SECTION("length 2") {
        check_case(head + "  - name: tap-a\n    inherit_from: tap-b\n  - name: tap-b\n    inherit_from: tap-a\n",
                   {"inherit-cycle", "meltano.yml:4:5", "extractor 'tap-a' inherits from itself"});
    }
    SECTION("length 3") {
        check_case(head + "  - name: tap-a\n    inherit_from: tap-b\n  - name: tap-b\n    inherit_from: tap-c\n"
                          "  - name: tap-c\n    inherit_from: tap-a\n",
                   {"inherit-cycle", "meltano.yml:8:5", "extractor 'tap-c' inherits from itself"});
    }
    SECTION("a long chain into a cycle") {
        std::string yml = head;
        for (int i = 0; i < 5000; ++i) {
            yml += "  - name: tap-" + std::to_string(i) + "\n    inherit_from: tap-" + std::to_string(i + 1) + "\n";
        }
        yml += "  - name: tap-5000\n    inherit_from: tap-4999\n";
        // Every plugin of the chain fails in Meltano, so each one is reported (about 200 bytes each).
        const std::size_t output = 5001 * 256;
        check_case(yml, {"inherit-cycle", "meltano.yml:4:5",
                         "extractor 'tap-0' inherits from 'tap-1', which leads into an 'inherit_from' cycle",
                         true, 64 * 1024, output});
        check_case(yml, {"inherit-cycle", "meltano.yml:10004:5", "extractor 'tap-5000' inherits from itself", true,
                         64 * 1024, output});
    }
}

TEST_CASE("hostile input: setting values of the wrong kind", "[e2e][hostile]") {
    auto project = [](const std::string& setting, const std::string& value) {
        return "plugins:\n  extractors:\n  - name: tap-x\n    namespace: tap_x\n    settings: [" + setting +
               "]\n    config:\n      v: " + value + "\n";
    };
    const Expected invalid{"invalid-setting-value", "meltano.yml:7:10", "setting 'v' of plugin 'tap-x'"};
    SECTION("integer") { check_case(project("{name: v, kind: integer}", "five"), invalid); }
    // Meltano casts only strings (a list for an integer setting stays a list) and takes any string
    // that is not true/1/yes/on as false for a boolean: neither is an error there, nor here.
    SECTION("integer from a float string") { check_case(project("{name: v, kind: integer}", "'1.5'"), invalid); }
    SECTION("object from a string") { check_case(project("{name: v, kind: object}", "'[1'"), invalid); }
    SECTION("array from a string") { check_case(project("{name: v, kind: array}", "'{'"), invalid); }
    SECTION("options") {
        check_case(project("{name: v, kind: options, options: [{value: a}, {value: b}]}", "c"), invalid);
    }
    SECTION("decimal") { check_case(project("{name: v, kind: decimal}", "lots"), invalid); }
    SECTION("a setting kind that does not exist") {
        check_case(project("{name: v, kind: number}", "1"), {"unknown-setting-kind", "meltano.yml:5:16"});
    }
    SECTION("a configuration key that is not a string") {
        check_case("plugins:\n  extractors:\n  - name: tap-x\n    namespace: tap_x\n    config:\n      1: one\n",
                   {"non-string-key", "meltano.yml:6:7"});
    }
    SECTION("a configuration key that is null") {
        check_case("plugins:\n  extractors:\n  - name: tap-x\n    namespace: tap_x\n    config:\n      ~: one\n",
                   {"non-string-key", "meltano.yml:6:7", "configuration key 'null' that is not a string"});
    }
}
