#include <catch2/catch.hpp>

#include <sched.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <tuple>
#include <vector>

#include <fmt/format.h>

#include <dataops/git/file_source.hpp>
#include <dataops/meltano/project.hpp>
#include <dataops/meltano/validate.hpp>
#include <dataops/util/parallel.hpp>

#include "support/fixtures.hpp"
#include "support/project_dir.hpp"
#include "support/temp_repo.hpp"

using namespace dataops::meltano;

namespace {

class ProjectDir : public dataops::testing::ProjectDir {
public:
    LoadResult load() const { return load_result(); }
    ValidationResult validate(const ValidateOptions& options = {}) const {
        return dataops::meltano::validate(load(), options);
    }
};

ValidationResult validate_text(const std::string& text, const ValidateOptions& options = {}) {
    ProjectDir dir;
    dir.write("meltano.yml", text);
    return dir.validate(options);
}

std::vector<Diagnostic> with_code(const ValidationResult& r, const std::string& code) {
    std::vector<Diagnostic> out;
    for (const auto& d : r.diagnostics) {
        if (d.code == code) {
            out.push_back(d);
        }
    }
    return out;
}

/// The single diagnostic with this code (fails the test when there is not exactly one).
Diagnostic only(const ValidationResult& r, const std::string& code) {
    auto found = with_code(r, code);
    std::ostringstream all;
    for (const auto& d : r.diagnostics) {
        all << d.file << ":" << d.line << ":" << d.column << ": " << d.code << ": " << d.message
            << " [" << d.environment.value_or("-") << "] hint: " << d.hint << "\n";
    }
    INFO(all.str());
    REQUIRE(found.size() == 1);
    return found.front();
}

std::size_t errors(const ValidationResult& r) {
    std::size_t n = 0;
    for (const auto& d : r.diagnostics) {
        n += d.severity == Severity::error ? 1 : 0;
    }
    return n;
}

bool mentions(const ValidationResult& r, const std::string& text) {
    for (const auto& d : r.diagnostics) {
        if (d.message.find(text) != std::string::npos || d.hint.find(text) != std::string::npos) {
            return true;
        }
    }
    return false;
}

/// A custom extractor whose definition is known (it lists settings), used by several tests.
const std::string kCustomTap = R"(plugins:
  extractors:
  - name: tap-x
    namespace: tap_x
    settings:
    - name: client_id
    - name: client_secret
      kind: password
    - name: port
      kind: integer
    - name: mode
      kind: options
      options:
      - {label: Full, value: full}
      - {label: Incremental, value: incremental}
    - name: stream_maps
      kind: object
    - name: region
      aliases: [location]
    - name: start_date
      value: '2020-01-01'
    config:
      client_id: abc
      port: 5432
)";

}  // namespace

TEST_CASE("the seed project validates without errors in every environment", "[validate]") {
    const auto r = validate_text(dataops::testing::kSeedProject);
    CHECK(errors(r) == 0);
    CHECK(r.environments == std::vector<std::string>{"dev", "staging", "prod"});
}

TEST_CASE("an environment naming an undefined plugin is an error that suggests the nearest name",
          "[validate]") {
    const auto r = validate_text(R"(default_environment: dev
environments:
- name: dev
- name: staging
  config:
    plugins:
      extractors:
      - name: tap-authzero
        config:
          client_id: x
plugins:
  extractors:
  - name: tap-auth0
)");
    const auto d = only(r, "unknown-plugin");
    CHECK(d.severity == Severity::error);
    CHECK(d.file == "meltano.yml");
    CHECK(d.line == 8);
    CHECK(d.column == 15);
    CHECK(d.environment == std::optional<std::string>("staging"));
    CHECK(d.plugin == std::optional<std::string>("tap-authzero"));
    CHECK(d.message ==
          "environment 'staging' configures extractor 'tap-authzero', which is not defined");
    CHECK(d.hint == "did you mean 'tap-auth0'?");
}

TEST_CASE("a problem in staging is reported for staging and does not hide prod's problems",
          "[validate]") {
    const auto r = validate_text(kCustomTap + R"(environments:
- name: staging
  config:
    plugins:
      extractors:
      - name: tap-x
        config:
          port: not-a-number
- name: prod
  config:
    plugins:
      extractors:
      - name: tap-x
        config:
          mode: sometimes
      - name: tap-y
)");
    const auto invalid = with_code(r, "invalid-setting-value");
    REQUIRE(invalid.size() == 2);
    CHECK(invalid[0].environment == std::optional<std::string>("staging"));
    CHECK(invalid[0].line == 32);
    CHECK(invalid[0].column == 17);
    CHECK(invalid[0].plugin == std::optional<std::string>("tap-x"));
    CHECK(invalid[1].environment == std::optional<std::string>("prod"));
    CHECK(invalid[1].line == 39);
    CHECK(invalid[1].column == 17);
    const auto unknown = only(r, "unknown-plugin");
    CHECK(unknown.environment == std::optional<std::string>("prod"));
    CHECK(unknown.line == 40);
    CHECK(r.environments == std::vector<std::string>{"staging", "prod"});
}

TEST_CASE("a plugin listed under the wrong type in an environment names the right type",
          "[validate]") {
    const auto r = validate_text(R"(environments:
- name: prod
  config:
    plugins:
      extractors:
      - name: target-jsonl
plugins:
  loaders:
  - name: target-jsonl
)");
    const auto d = only(r, "wrong-plugin-type");
    CHECK(d.severity == Severity::error);
    CHECK(d.line == 6);
    CHECK(d.column == 15);
    CHECK(d.environment == std::optional<std::string>("prod"));
    CHECK(d.plugin == std::optional<std::string>("target-jsonl"));
    CHECK(d.message ==
          "environment 'prod' configures 'target-jsonl' as an extractor, but it is a loader");
    CHECK(d.hint.find("'loaders:'") != std::string::npos);
    CHECK(with_code(r, "unknown-plugin").empty());
}

TEST_CASE("a default environment that is not defined is an error", "[validate]") {
    const auto r = validate_text(R"(default_environment: prd
environments:
- name: dev
- name: prod
)");
    const auto d = only(r, "unknown-default-environment");
    CHECK(d.severity == Severity::error);
    CHECK(d.line == 1);
    CHECK(d.column == 22);
    CHECK(d.environment == std::optional<std::string>("prd"));
    CHECK(d.hint == "did you mean 'prod'?");
}

TEST_CASE("a requested environment that is not defined is an error and is not validated",
          "[validate]") {
    ValidateOptions options;
    options.environments = {"stagign", "prod"};
    const auto r = validate_text(R"(environments:
- name: staging
- name: prod
)",
                                 options);
    const auto d = only(r, "unknown-environment");
    CHECK(d.severity == Severity::error);
    CHECK(d.environment == std::optional<std::string>("stagign"));
    CHECK(d.hint == "did you mean 'staging'?");
    CHECK(r.environments == std::vector<std::string>{"prod"});
}

TEST_CASE("inherit_from a missing parent or in a cycle is reported once and does not hang",
          "[validate]") {
    const auto r = validate_text(R"(environments:
- name: dev
- name: prod
plugins:
  extractors:
  - name: tap-a
    inherit_from: tap-b
  - name: tap-b
    inherit_from: tap-a
  - name: tap-c
    inherit_from: tap-nowhere
)");
    const auto cycles = with_code(r, "inherit-cycle");
    REQUIRE(cycles.size() == 2);
    CHECK(cycles[0].line == 7);
    CHECK(cycles[0].column == 5);
    CHECK(cycles[0].severity == Severity::error);
    CHECK_FALSE(cycles[0].environment.has_value());
    const auto missing = only(r, "inherit-from-missing");
    CHECK(missing.line == 11);
    CHECK(missing.column == 5);
    CHECK(missing.plugin == std::optional<std::string>("tap-c"));
    // Meltano would ask Meltano Hub for 'tap-nowhere': that cannot be ruled out offline.
    CHECK(missing.severity == Severity::warning);
    CHECK(missing.hint.find("meltano lock") != std::string::npos);
}

TEST_CASE("inherit_from naming a plugin of another type is an error naming that type",
          "[validate]") {
    const auto r = validate_text(R"(plugins:
  extractors:
  - name: tap-a
    namespace: tap_a
  loaders:
  - name: target-a
    inherit_from: tap-a
)");
    const auto d = only(r, "inherit-from-missing");
    CHECK(d.severity == Severity::error);
    CHECK(d.line == 7);
    CHECK(d.hint == "'tap-a' is an extractor, and loaders can only inherit from loaders: fix "
                    "'inherit_from'");
}

TEST_CASE("a lock file's definition drives unknown-setting, secrets and required settings",
          "[validate]") {
    ProjectDir dir;
    dir.write("meltano.yml", R"(environments:
- name: prod
  config:
    plugins:
      extractors:
      - name: tap-auth0
        config:
          clientid: abc
          domain: example.eu.auth0.com
plugins:
  extractors:
  - name: tap-auth0
    variant: matatika
)");
    dir.write("plugins/extractors/tap-auth0--matatika.lock", R"({
  "plugin_type": "extractors",
  "name": "tap-auth0",
  "namespace": "tap_auth0",
  "variant": "matatika",
  "settings": [
    {"name": "client_id"},
    {"name": "client_secret", "kind": "password"},
    {"name": "domain"}
  ],
  "settings_group_validation": [["client_id", "client_secret", "domain"]]
})");
    const auto r = dir.validate();
    const auto unknown = only(r, "unknown-setting");
    CHECK(unknown.line == 8);
    CHECK(unknown.column == 11);
    CHECK(unknown.environment == std::optional<std::string>("prod"));
    CHECK(unknown.hint.rfind("did you mean 'client_id'?", 0) == 0);
    // client_secret is sensitive: assumed to come from the environment running Meltano.
    const auto required = only(r, "missing-required-settings");
    CHECK(required.environment == std::optional<std::string>("prod"));
    CHECK(required.message == "extractor 'tap-auth0' is missing required setting 'client_id'");
    CHECK(required.hint.find("TAP_AUTH0_CLIENT_ID") != std::string::npos);
    CHECK(errors(r) == 0);
}

TEST_CASE("a base value that expands to empty and drops the setting's default is a warning",
          "[validate]") {
    const auto r = validate_text(R"(plugins:
  extractors:
  - name: tap-x
    namespace: tap_x
    settings:
    - name: start_date
      value: '2020-01-01'
    config:
      start_date: $START
)");
    const auto d = only(r, "empty-expansion");
    CHECK(d.severity == Severity::warning);
    CHECK(d.line == 9);
    CHECK(d.column == 19);
    CHECK_FALSE(d.environment.has_value());
    CHECK(d.message == "setting 'start_date' of extractor 'tap-x' expands to an empty value, "
                       "which drops its default");
}

TEST_CASE("a base value emptied by the plugin's own variable is found in every environment",
          "[validate]") {
    // The setting's result is shared by every environment that leaves the plugin alone, and
    // the environments hand it to the validator only by its place: its finding must still be
    // found in each of them (once, without an environment), and in none that sets the value.
    const std::string y = R"(plugins:
  extractors:
  - name: tap-x
    namespace: tap_x
    settings:
    - name: start_date
      value: '2020-01-01'
    - name: host
    env:
      START: ''
    config:
      start_date: $START
      host: h
environments:
- name: dev
- name: staging
  config:
    plugins:
      extractors:
      - name: tap-x
        config:
          host: staging-h
- name: prod
)";
    const auto all = validate_text(y);
    const auto d = only(all, "empty-expansion");
    CHECK(d.line == 12);
    CHECK_FALSE(d.environment.has_value());
    CHECK(d.message == "setting 'start_date' of extractor 'tap-x' expands to an empty value, "
                       "which drops its default");
    // Set in prod: found in dev and staging only, once for each.
    std::string prod_sets = y;
    prod_sets.replace(prod_sets.rfind("- name: prod"), std::string::npos,
                      "- name: prod\n  config:\n    plugins:\n      extractors:\n"
                      "      - name: tap-x\n        config:\n          start_date: '2021-01-01'\n");
    const auto some = validate_text(prod_sets);
    const auto found = with_code(some, "empty-expansion");
    REQUIRE(found.size() == 2);
    CHECK(found[0].environment == "dev");
    CHECK(found[1].environment == "staging");
}

TEST_CASE("a setting set under its name and an alias with different values is an error",
          "[validate]") {
    const auto r = validate_text(kCustomTap + R"(environments:
- name: prod
  config:
    plugins:
      extractors:
      - name: tap-x
        config:
          region: eu
          location: us
)");
    const auto d = only(r, "conflicting-setting-values");
    CHECK(d.severity == Severity::error);
    CHECK(d.environment == std::optional<std::string>("prod"));
    CHECK(d.plugin == std::optional<std::string>("tap-x"));
    CHECK(d.line == 33);
    CHECK(with_code(r, "unknown-setting").empty());  // an alias is a known key
}

TEST_CASE("an environment value that expands to empty and drops the base value is a warning",
          "[validate]") {
    const auto r = validate_text(R"(environments:
- name: prod
  env:
    EMPTY: ''
  config:
    plugins:
      extractors:
      - name: tap-auth0
        config:
          domain: ${EMPTY}
plugins:
  extractors:
  - name: tap-auth0
    config:
      domain: example.com
)");
    const auto d = only(r, "empty-expansion");
    CHECK(d.severity == Severity::warning);
    CHECK(d.line == 10);
    CHECK(d.column == 19);
    CHECK(d.environment == std::optional<std::string>("prod"));
    CHECK(d.plugin == std::optional<std::string>("tap-auth0"));
    CHECK(d.hint.find("'EMPTY'") != std::string::npos);
    CHECK(with_code(r, "undefined-variable").empty());  // EMPTY is defined, only empty
}

TEST_CASE("a variable nothing defines is a warning, and an error in strict mode", "[validate]") {
    const std::string text = R"(environments:
- name: prod
plugins:
  loaders:
  - name: target-x
    config:
      password: ${TARGET_SECRET}
      schema: ${MELTANO_EXTRACT__LOAD_SCHEMA}
)";
    SECTION("default") {
        const auto r = validate_text(text);
        const auto d = only(r, "undefined-variable");
        CHECK(d.severity == Severity::warning);
        CHECK(d.line == 7);
        CHECK(d.column == 17);
        CHECK(d.plugin == std::optional<std::string>("target-x"));
        CHECK_FALSE(d.environment.has_value());  // every resolution has it: a base problem
        CHECK(d.hint.find("TARGET_SECRET") != std::string::npos);
    }
    SECTION("strict") {
        ValidateOptions options;
        options.strict = true;
        const auto d = only(validate_text(text, options), "undefined-variable");
        CHECK(d.severity == Severity::error);
    }
    SECTION("defined by the environment that runs Meltano") {
        ValidateOptions options;
        options.with_env = true;
        options.process_env = {{"TARGET_SECRET", "s3cr3t"}};
        CHECK(with_code(validate_text(text, options), "undefined-variable").empty());
    }
}

TEST_CASE("an undefined variable in one environment only carries that environment",
          "[validate]") {
    const auto r = validate_text(R"(environments:
- name: staging
  env:
    DB: staging_db
- name: prod
plugins:
  loaders:
  - name: target-x
    config:
      database: $DB
)");
    const auto d = only(r, "undefined-variable");
    CHECK(d.environment == std::optional<std::string>("prod"));
    CHECK(d.line == 10);
    CHECK(d.column == 17);
}

TEST_CASE("a sensitive setting with a literal value in meltano.yml is a warning that never shows "
          "the value",
          "[validate]") {
    const auto r = validate_text(kCustomTap + R"(environments:
- name: prod
  config:
    plugins:
      extractors:
      - name: tap-x
        config:
          client_secret: hunter2-very-secret
- name: dev
  config:
    plugins:
      extractors:
      - name: tap-x
        config:
          client_secret: ${TAP_X_CLIENT_SECRET}
)");
    const auto d = only(r, "secret-in-git");
    CHECK(d.severity == Severity::warning);
    CHECK(d.line == 32);
    CHECK(d.column == 26);
    CHECK(d.environment == std::optional<std::string>("prod"));
    CHECK(d.plugin == std::optional<std::string>("tap-x"));
    CHECK(d.hint.find("TAP_X_CLIENT_SECRET") != std::string::npos);
    CHECK_FALSE(mentions(r, "hunter2"));
}

TEST_CASE("a secret in an env block under the setting's variable is a warning too", "[validate]") {
    const auto r = validate_text(kCustomTap + R"(env:
  TAP_X_CLIENT_SECRET: hunter2
)");
    const auto d = only(r, "secret-in-git");
    CHECK(d.line == 26);
    CHECK(d.column == 24);
    CHECK_FALSE(mentions(r, "hunter2"));
}

TEST_CASE("settings_group_validation not satisfied in an environment is a warning", "[validate]") {
    const auto r = validate_text(R"(environments:
- name: dev
  config:
    plugins:
      extractors:
      - name: tap-g
        config:
          repository: a/b
- name: prod
plugins:
  extractors:
  - name: tap-g
    namespace: tap_g
    settings:
    - name: repository
    - name: token
      kind: password
    settings_group_validation:
    - [repository, token]
)");
    const auto d = only(r, "missing-required-settings");
    CHECK(d.severity == Severity::warning);
    CHECK(d.environment == std::optional<std::string>("prod"));
    CHECK(d.line == 12);
    CHECK(d.column == 5);
    CHECK(d.message == "extractor 'tap-g' is missing required setting 'repository'");
    CHECK(d.hint.find("TAP_G_REPOSITORY") != std::string::npos);
}

TEST_CASE("a config key that is not a setting of a known plugin suggests the nearest setting",
          "[validate]") {
    const auto r = validate_text(kCustomTap + R"(      clientid: abc
      stream_maps:
        users:
          email: __NULL__
      stream_maps.orders.id: __NULL__
      location: eu
)");
    const auto d = only(r, "unknown-setting");
    CHECK(d.severity == Severity::warning);
    CHECK(d.line == 25);
    CHECK(d.column == 7);
    CHECK(d.plugin == std::optional<std::string>("tap-x"));
    CHECK_FALSE(d.environment.has_value());
    CHECK(d.message == "extractor 'tap-x' has no setting 'clientid'");
    CHECK(d.hint.rfind("did you mean 'client_id'?", 0) == 0);
}

TEST_CASE("config keys of a plugin whose definition is unknown are not flagged", "[validate]") {
    const auto r = validate_text(R"(plugins:
  extractors:
  - name: tap-unknown
    config:
      anything: 1
  utilities:
  - name: my-util
    namespace: my_util
    config:
      whatever: 2
)");
    CHECK(with_code(r, "unknown-setting").empty());
}

TEST_CASE("jobs and schedules naming undefined plugins or jobs are errors", "[validate]") {
    const auto r = validate_text(R"(plugins:
  extractors:
  - name: tap-auth0
  loaders:
  - name: target-jsonl
jobs:
- name: daily
  tasks:
  - tap-auth0 target-jsnol
- name: daily
  tasks: [tap-auth0 target-jsonl]
schedules:
- name: every-day
  job: dialy
  interval: '@daily'
- name: legacy
  extractor: tap-auth0
  loader: target-csv
  transform: skip
  interval: '@daily'
)");
    const auto unknown = with_code(r, "unknown-plugin");
    REQUIRE(unknown.size() == 2);
    CHECK(unknown[0].line == 9);
    CHECK(unknown[0].column == 15);
    CHECK(unknown[0].plugin == std::optional<std::string>("target-jsnol"));
    CHECK(unknown[0].hint == "did you mean 'target-jsonl'?");
    CHECK(unknown[1].line == 18);
    CHECK(unknown[1].column == 11);
    const auto job = only(r, "unknown-job");
    CHECK(job.severity == Severity::error);
    CHECK(job.line == 14);
    CHECK(job.column == 8);
    CHECK(job.hint == "did you mean 'daily'?");
    const auto dup = only(r, "duplicate-job");
    CHECK(dup.severity == Severity::warning);
    CHECK(dup.line == 10);
}

TEST_CASE("structural problems from the loader reach the result", "[validate]") {
    SECTION("yaml syntax error with its position") {
        const auto r = validate_text("plugins:\n  extractors:\n  - name: [tap\n");
        const auto d = only(r, "yaml-syntax");
        CHECK(d.severity == Severity::error);
        CHECK(d.line > 0);
        CHECK(d.column > 0);
    }
    SECTION("duplicate keys") {
        const auto r = validate_text("plugins: {}\nplugins: {}\n");
        const auto d = only(r, "yaml-syntax");
        CHECK(d.line == 2);
        CHECK(d.message.find("duplicate") != std::string::npos);
    }
    SECTION("empty file") {
        const auto d = only(validate_text("# nothing\n"), "empty-file");
        CHECK(d.severity == Severity::error);
    }
    SECTION("environments that are not a list, and an entry without a name") {
        CHECK(only(validate_text("environments: {dev: {}}\n"), "wrong-shape").line == 1);
        const auto d = only(validate_text("environments:\n- config: {}\n"), "missing-name");
        CHECK(d.line == 2);
        CHECK(d.column == 3);
    }
    SECTION("an unknown plugin type in an environment") {
        const auto d = only(validate_text(R"(environments:
- name: prod
  config:
    plugins:
      extractor:
      - name: tap-x
)"),
                            "unknown-plugin-type");
        CHECK(d.line == 5);
        CHECK(d.column == 7);
        CHECK(d.environment == std::optional<std::string>("prod"));
    }
    SECTION("duplicate environments and a ':' in a name") {
        const auto r = validate_text("environments:\n- name: dev\n- name: dev\n- name: a:b\n");
        CHECK(only(r, "duplicate-environment").line == 3);
        CHECK(only(r, "invalid-name").line == 4);
    }
}

TEST_CASE("duplicates across included files are errors, against meltano.yml warnings",
          "[validate]") {
    ProjectDir dir;
    dir.write("meltano.yml", R"(include_paths:
- ./inc/*.yml
- ./missing/*.yml
environments:
- name: dev
)");
    dir.write("inc/a.yml", "environments:\n- name: dev\n- name: prod\n");
    dir.write("inc/b.yml", "environments:\n- name: prod\n");
    const auto r = dir.validate();
    const auto dups = with_code(r, "duplicate-environment");
    REQUIRE(dups.size() == 2);
    CHECK(dups[0].file == "inc/a.yml");
    CHECK(dups[0].severity == Severity::warning);
    CHECK(dups[1].file == "inc/b.yml");
    CHECK(dups[1].severity == Severity::error);
    CHECK(only(r, "include-path-missing").line == 3);
}

TEST_CASE("validate_structure reports only what breaks every environment", "[validate]") {
    ProjectDir dir;
    dir.write("meltano.yml", R"(default_environment: nope
include_paths:
- ../outside.yml
environments:
- name: prod
  config:
    plugins:
      extractors:
      - name: tap-ghost
plugins:
  extractors:
  - name: tap-auth0
)");
    dir.write("plugins/extractors/tap-auth0--auth0.lock", "{ not json");
    const auto r = validate_structure(dir.load());
    CHECK(only(r, "include-path-outside").line == 3);
    CHECK(only(r, "lock-file-invalid").file == "plugins/extractors/tap-auth0--auth0.lock");
    CHECK(with_code(r, "unknown-plugin").empty());
    CHECK(with_code(r, "unknown-default-environment").empty());
}

TEST_CASE("diagnostics are sorted by file, line and column", "[validate]") {
    const auto r = validate_text(R"(default_environment: nope
environments:
- name: prod
  config:
    plugins:
      extractors:
      - name: tap-ghost
      loaders:
      - name: target-ghost
)");
    REQUIRE(r.diagnostics.size() >= 3);
    for (std::size_t i = 1; i < r.diagnostics.size(); ++i) {
        const auto& a = r.diagnostics[i - 1];
        const auto& b = r.diagnostics[i];
        CHECK(std::tie(a.file, a.line, a.column) <= std::tie(b.file, b.line, b.column));
    }
}

TEST_CASE("hostile input neither crashes nor recurses", "[validate]") {
    // Compact block sequences ("- - - x") nest one level per "- " on a single line.
    auto nested = [](std::size_t levels) {
        std::string deep;
        for (std::size_t i = 0; i < levels; ++i) {
            deep += "- ";
        }
        return deep + "x\n";
    };
    SECTION("config values nested up to the YAML layer's limit") {
        const auto r = validate_text(kCustomTap + "      stream_maps:\n        deep:\n        " + nested(990) +
                                     "      clientid:\n        " + nested(990));
        CHECK(only(r, "unknown-setting").line == 28);
    }
    SECTION("a config value nested 200,000 levels deep is a syntax error") {
        const auto r = validate_text(kCustomTap + "      clientid:\n        " + nested(200000));
        CHECK(only(r, "yaml-syntax").message == "collections are nested too deeply");
    }
    SECTION("a long inherit_from chain") {
        std::string text = "environments:\n- name: prod\nplugins:\n  extractors:\n"
                           "  - name: tap-0\n    namespace: tap\n";
        for (int i = 1; i < 3000; ++i) {
            text += fmt::format("  - name: tap-{}\n    inherit_from: tap-{}\n", i, i - 1);
        }
        const auto r = validate_text(text);
        CHECK(errors(r) == 0);
    }
}

TEST_CASE("huge names and values are shortened in diagnostics, not echoed", "[meltano][validate]") {
    const std::string huge(1024 * 1024, 'x');
    const std::string accented = std::string(99, 'a') + "\xc3\xa9" + std::string(300, 'b');
    auto r = validate_text("plugins:\n  extractors:\n  - name: tap-x\n    namespace: tap_x\n"
                           "    settings: [{name: port, kind: integer}]\n    config:\n      port: " + huge +
                           "\nenvironments:\n- name: dev\n  config:\n    plugins:\n      extractors:\n"
                           "      - name: " + huge + "\n      - name: " + accented + "\n");
    auto invalid = only(r, "invalid-setting-value");
    CHECK(invalid.message.size() < 400);
    CHECK_THAT(invalid.message, Catch::Contains("'xxxxxxxxxx") && Catch::Contains("...(1048476 more bytes)'"));
    auto unknown = with_code(r, "unknown-plugin");
    REQUIRE(unknown.size() == 2);
    for (const auto& d : unknown) {
        CHECK(d.message.size() < 400);
        CHECK(d.hint.size() < 400);
        REQUIRE(d.plugin);
        CHECK(d.plugin->size() < 200);
        CHECK(d.line > 0);
    }
    // Never cut inside a UTF-8 sequence: the é straddling the cut is dropped whole.
    CHECK_THAT(unknown[1].message, Catch::Contains(std::string(99, 'a') + "...(302 more bytes)'"));
}

TEST_CASE("diagnostics are valid UTF-8 whatever bytes the project's file names hold", "[meltano][validate]") {
    ProjectDir dir;
    dir.write("meltano.yml", "include_paths: ['./envs/*.yml']\n");
    dir.write("envs/a\xff\xc3(\xed\xa0\x80.yml", "# empty\n");
    const auto r = dir.validate();
    const auto d = only(r, "empty-file");
    const std::string replaced = "envs/a\xef\xbf\xbd\xef\xbf\xbd(\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd.yml";
    CHECK(d.file == replaced);
    CHECK_THAT(d.message, Catch::Contains(replaced));
    CHECK_NOTHROW(nlohmann::ordered_json({{"file", d.file}, {"message", d.message}}).dump());
    // The model shows the included file's name as UTF-8 too (`env list`, positions).
    dir.write("envs/a\xff\xc3(\xed\xa0\x80.yml", "environments: [{name: e}]\n");
    const auto load = dir.load();
    REQUIRE(load.project);
    CHECK(load.project->files.back() == replaced);
    CHECK(load.project->environments.at(0).position.file == replaced);
}

TEST_CASE("environments validated side by side report what each one finds, in the same order",
          "[validate]") {
    // 40 plugins x 6 environments: enough for the environments to resolve on several threads.
    std::string y = "default_environment: e0\nplugins:\n  extractors:\n";
    for (int i = 0; i < 40; ++i) {
        y += fmt::format("  - name: tap-{}\n    namespace: tap_{}\n", i, i);
        y += "    settings: [{name: port, kind: integer}, {name: schema}, {name: host}]\n";
        y += fmt::format("    config: {{port: {}, schema: base, host: h{}}}\n", 5000 + i, i);
    }
    y += "  - name: tap-orphan\n    inherit_from: tap-nowhere\n";
    y += "environments:\n";
    for (int e = 0; e < 6; ++e) {
        y += fmt::format("- name: e{}\n  config:\n    plugins:\n      extractors:\n", e);
        // Each environment: its own plugin with a value that expands to empty, one that does not
        // cast, and every other environment a typo'd plugin name.
        y += fmt::format("      - name: tap-{}\n        config: {{schema: $UNSET_{}}}\n", e, e);
        y += fmt::format("      - name: tap-{}\n        config: {{port: not-a-port-{}}}\n", 10 + e, e);
        if (e % 2 == 1) {
            y += fmt::format("      - name: tap-typo-{}\n", e);
        }
    }
    ProjectDir dir;
    dir.write("meltano.yml", y);
    const ValidationResult first = dir.validate();
    REQUIRE(first.environments.size() == 6);
    const auto empty = with_code(first, "empty-expansion");
    const auto casts = with_code(first, "invalid-setting-value");
    const auto unknown = with_code(first, "unknown-plugin");
    REQUIRE(empty.size() == 6);
    REQUIRE(casts.size() == 6);
    REQUIRE(unknown.size() == 3);
    for (int e = 0; e < 6; ++e) {
        INFO("environment e" << e);
        CHECK(empty[static_cast<std::size_t>(e)].environment == fmt::format("e{}", e));
        CHECK(empty[static_cast<std::size_t>(e)].plugin == fmt::format("tap-{}", e));
        CHECK(casts[static_cast<std::size_t>(e)].environment == fmt::format("e{}", e));
        CHECK(casts[static_cast<std::size_t>(e)].plugin == fmt::format("tap-{}", 10 + e));
    }
    // The missing parent is the same in every environment: reported once, without one.
    const Diagnostic parent = only(first, "inherit-from-missing");
    CHECK_FALSE(parent.environment.has_value());
    // Same findings, same order, every time.
    for (int run = 0; run < 3; ++run) {
        const ValidationResult again = dir.validate();
        REQUIRE(again.diagnostics.size() == first.diagnostics.size());
        for (std::size_t i = 0; i < first.diagnostics.size(); ++i) {
            CHECK(again.diagnostics[i].code == first.diagnostics[i].code);
            CHECK(again.diagnostics[i].environment == first.diagnostics[i].environment);
            CHECK(again.diagnostics[i].line == first.diagnostics[i].line);
        }
    }
}

namespace {

/// Runs `body` with the calling thread (and so every thread it starts) confined to one core:
/// util::hardware_threads() then answers 1 and every parallel_for runs on the caller.
template <typename Body>
auto on_one_core(const Body& body) {
    cpu_set_t before;
    CPU_ZERO(&before);
    REQUIRE(sched_getaffinity(0, sizeof(before), &before) == 0);
    int first = 0;
    while (!CPU_ISSET(first, &before)) {
        ++first;
    }
    cpu_set_t one;
    CPU_ZERO(&one);
    CPU_SET(first, &one);
    REQUIRE(sched_setaffinity(0, sizeof(one), &one) == 0);
    struct Restore {
        cpu_set_t mask;
        ~Restore() { sched_setaffinity(0, sizeof(mask), &mask); }
    } restore{before};
    return body();
}

std::vector<std::string> described(const Diagnostics& diagnostics) {
    std::vector<std::string> out;
    for (const auto& d : diagnostics) {
        out.push_back(fmt::format("{}:{}:{}: {} [{}] {} ({}, {}) hint: {}", d.file, d.line, d.column,
                                  d.severity == Severity::error ? "error" : "warning", d.code,
                                  d.message, d.environment.value_or("-"), d.plugin.value_or("-"),
                                  d.hint));
    }
    return out;
}

}  // namespace

TEST_CASE("a big project with findings everywhere validates the same on one core and on several",
          "[validate]") {
    if (dataops::util::hardware_threads() < 2) {
        WARN("one core only: the side-by-side loading and validation cannot be compared");
        return;
    }
    // 120 plugins over the main file and two included files, 8 environments: past every
    // threshold for loading and validating side by side, with findings of the loader (shapes,
    // duplicates, names), of the resolutions and of the configuration checks in each part.
    auto plugin = [](int i) {
        std::string y = fmt::format("  - name: tap-{}\n", i);
        y += i % 17 == 3 ? std::string("    namespace: [not, a, string]\n")
                         : fmt::format("    namespace: tap_{}\n", i);
        y += "    settings: [{name: port, kind: integer}, {name: password, kind: password}, "
             "{name: schema}]\n";
        y += fmt::format("    config: {{port: {}, schema: s{}", i % 11 == 0 ? "'x'" : "5000", i);
        if (i % 13 == 5) {
            y += ", password: hunter2";
        }
        if (i % 7 == 2) {
            y += ", prot: 1";
        }
        y += "}\n";
        if (i % 19 == 4) {
            y += "    env: [not, a, mapping]\n";
        }
        return y;
    };
    auto environment = [](int e, int from, int to) {
        std::string y = fmt::format("- name: e{}\n", e);
        if (e == 5) {
            y += "  colour: blue\n";
        }
        y += "  config:\n    plugins:\n      extractors:\n";
        for (int i = from; i < to; ++i) {
            if ((i + e) % 3 != 0) {
                continue;
            }
            y += fmt::format("      - name: tap-{}\n        config: {{schema: '${{SCHEMA_{}}}'", i, e);
            if (i % 23 == e) {
                y += ", pasword: x";
            }
            if (i % 29 == e) {
                y += ", password: literal";
            }
            y += "}\n";
        }
        y += fmt::format("      - name: tap-typo-{}\n", e);
        if (e % 2 == 0) {
            y += fmt::format("      - name: tap-{}\n", from);
        }
        y += fmt::format("  env: {{SCHEMA_{}: '', TAP_{}_PASSWORD: plain}}\n", e, from);
        return y;
    };
    std::string main = "default_environment: e0\ninclude_paths: ['conf/*.yml']\nplugins:\n"
                       "  extractors:\n";
    for (int i = 0; i < 40; ++i) {
        main += plugin(i);
    }
    main += "  - name: tap-3\n  - pip_url: nameless\n  - [not, a, mapping]\n  - name: 'bad:name'\n";
    main += "environments:\n";
    for (int e = 0; e < 4; ++e) {
        main += environment(e, 0, 120);
    }
    main += environment(1, 0, 10);  // a duplicate environment
    ProjectDir dir;
    dir.write("meltano.yml", main);
    for (int part = 0; part < 2; ++part) {
        std::string y = "plugins:\n  extractors:\n";
        for (int i = 40 + part * 40; i < 80 + part * 40; ++i) {
            y += plugin(i);
        }
        y += "environments:\n";
        for (int e = 4 + part * 2; e < 6 + part * 2; ++e) {
            y += environment(e, 40 * part, 120);
        }
        dir.write(fmt::format("conf/part{}.yml", part), y);
    }
    ValidateOptions options;
    options.strict = true;
    const ValidationResult several = dir.validate(options);
    const ValidationResult one = on_one_core([&] { return dir.validate(options); });
    const auto expected = described(one.diagnostics);
    // Findings from every stage, so the comparison below compares something.
    for (const char* code : {"wrong-shape", "duplicate-plugin", "missing-name", "invalid-name",
                             "unknown-key", "duplicate-environment", "unknown-plugin",
                             "invalid-setting-value", "unknown-setting", "secret-in-git",
                             "empty-expansion"}) {
        INFO(code);
        CHECK_FALSE(with_code(one, code).empty());
    }
    CHECK(one.environments == several.environments);
    CHECK(described(several.diagnostics) == expected);
}
