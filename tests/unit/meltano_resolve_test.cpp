#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <string>

#include <dataops/git/file_source.hpp>
#include <dataops/meltano/prepare.hpp>
#include <dataops/meltano/project.hpp>
#include <dataops/meltano/resolve.hpp>
#include <fmt/format.h>

#include "support/fixtures.hpp"
#include "support/project_dir.hpp"
#include "support/temp_repo.hpp"

using namespace dataops::meltano;
using Json = nlohmann::ordered_json;

namespace {

/// Loads must succeed here; the loader's findings are kept for the test to inspect.
class ProjectDir : public dataops::testing::ProjectDir {
public:
    std::shared_ptr<const Project> load(const std::string& project_dir = "") {
        LoadResult result = load_result(project_dir);
        diagnostics = result.diagnostics;
        REQUIRE(result.project);
        return result.project;
    }

    Diagnostics diagnostics;
};

Resolution resolve_in(std::shared_ptr<const Project> project, std::optional<std::string> environment,
                      ResolveOptions options = {}) {
    options.environment = std::move(environment);
    return resolve(std::move(project), options);
}

const ResolvedSetting& setting(const Resolution& r, PluginType type, const std::string& plugin,
                               const std::string& name) {
    const ResolvedPlugin* p = r.find(type, plugin);
    REQUIRE(p != nullptr);
    const ResolvedSetting* s = p->find(name);
    INFO("setting " << name);
    REQUIRE(s != nullptr);
    return *s;
}

const ResolvedPlugin& plugin_of(const Resolution& r, PluginType type, const std::string& name) {
    const ResolvedPlugin* p = r.find(type, name);
    REQUIRE(p != nullptr);
    return *p;
}

bool has_code(const Diagnostics& diagnostics, const std::string& code) {
    for (const auto& d : diagnostics) {
        if (d.code == code) {
            return true;
        }
    }
    return false;
}

/// The seed project up to its base plugin entry's name, so each test can give tap-auth0 its own
/// definition (lock file, embedded, none) and base config.
const std::string seed_yml = [] {
    const std::string seed = dataops::testing::kSeedProject;
    const std::string base = "  - name: tap-auth0\n    config:\n";
    return seed.substr(0, seed.rfind(base) + base.find('\n') + 1);
}();

const std::string auth0_lock = R"({
  "plugin_type": "extractors",
  "name": "tap-auth0",
  "namespace": "tap_auth0",
  "variant": "matatika",
  "pip_url": "git+https://github.com/Matatika/tap-auth0",
  "settings": [
    {"name": "client_id", "kind": "string", "label": "Client ID"},
    {"name": "client_secret", "kind": "string", "sensitive": true},
    {"name": "domain", "kind": "string"},
    {"name": "job_poll_interval_ms", "kind": "integer", "value": 2000}
  ]
})";

void check_seed(const std::shared_ptr<const Project>& project) {
    struct Row {
        const char* env;
        const char* client_id;
        Source client_source;
        const char* domain;
        Source domain_source;
    };
    const Row rows[] = {
        {"dev", "39Pu9tTomnTv594VAFYnmRvkEpSlI7a6", Source::meltano_environment,
         "matatika-staging.eu.auth0.com", Source::meltano_yml},
        {"staging", "4Zd5QXqHKNoKq4ySx8CP1UBm5eIUgh7t", Source::meltano_environment,
         "matatika-staging.eu.auth0.com", Source::meltano_yml},
        {"prod", "u4kcVHKUD9lkbUbXA3eXCt88scStaqHM", Source::meltano_environment,
         "matatika.eu.auth0.com", Source::meltano_environment},
    };
    for (const Row& row : rows) {
        INFO("environment " << row.env);
        Resolution r = resolve_in(project, std::string(row.env));
        REQUIRE(r.diagnostics.empty());
        const auto& client_id = setting(r, PluginType::extractors, "tap-auth0", "client_id");
        CHECK(client_id.value == Json(row.client_id));
        CHECK(client_id.source == row.client_source);
        CHECK(source_name(client_id.source) == "meltano_environment");
        CHECK(client_id.env_var == "TAP_AUTH0_CLIENT_ID");
        const auto& domain = setting(r, PluginType::extractors, "tap-auth0", "domain");
        CHECK(domain.value == Json(row.domain));
        CHECK(domain.source == row.domain_source);
        CHECK(plugin_of(r, PluginType::extractors, "tap-auth0").diagnostics.empty());
    }
}

}  // namespace

TEST_CASE("the seed example resolves as the promotion guide says", "[meltano][resolve]") {
    ProjectDir dir;
    SECTION("as a Meltano Hub plugin with a committed lock file") {
        dir.write("meltano.yml", seed_yml + "    variant: matatika\n    config:\n"
                                            "      domain: matatika-staging.eu.auth0.com\n");
        dir.write("plugins/extractors/tap-auth0--matatika.lock", auth0_lock);
        auto project = dir.load();
        CHECK_FALSE(has_errors(dir.diagnostics));
        check_seed(project);
        Resolution r = resolve_in(project, std::string("prod"));
        const auto& poll = setting(r, PluginType::extractors, "tap-auth0", "job_poll_interval_ms");
        CHECK(poll.value == Json(2000));
        CHECK(poll.source == Source::default_);
        CHECK(setting(r, PluginType::extractors, "tap-auth0", "client_secret").sensitive);
        CHECK(setting(r, PluginType::extractors, "tap-auth0", "client_secret").value.is_null());
    }
    SECTION("as a custom plugin with namespace and pip_url") {
        dir.write("meltano.yml", seed_yml + "    namespace: tap_auth0\n"
                                            "    pip_url: git+https://github.com/Matatika/tap-auth0\n"
                                            "    config:\n"
                                            "      domain: matatika-staging.eu.auth0.com\n");
        auto project = dir.load();
        CHECK(dir.diagnostics.empty());
        check_seed(project);
    }
    SECTION("with no definition at all, every configured key is a custom setting") {
        dir.write("meltano.yml", seed_yml + "    config:\n"
                                            "      domain: matatika-staging.eu.auth0.com\n");
        auto project = dir.load();
        CHECK(has_code(dir.diagnostics, "lock-file-missing"));
        CHECK_FALSE(has_errors(dir.diagnostics));
        check_seed(project);
        Resolution r = resolve_in(project, std::string("dev"));
        CHECK(setting(r, PluginType::extractors, "tap-auth0", "domain").custom);
        CHECK(setting(r, PluginType::extractors, "tap-auth0", "client_id").custom);
    }
}

namespace {

/// Python dict equality: key order does not matter.
bool same(const Json& value, const char* json_text) {
    return nlohmann::json::parse(value.dump()) == nlohmann::json::parse(json_text);
}

ResolveOptions with_env(std::map<std::string, std::string> process,
                        std::map<std::string, std::string> dotenv = {}) {
    ResolveOptions o;
    o.with_env = true;
    o.invocation_env = true;
    o.process_env = std::move(process);
    o.dotenv = std::move(dotenv);
    return o;
}

std::string invocation_var(const ResolvedPlugin& p, const std::string& name) {
    for (const auto& [k, v] : p.invocation_env) {
        if (k == name) {
            return v;
        }
    }
    return "<unset>";
}

struct Flags {
    bool terminal = false;
    bool top_level_env = false;
    bool top_level_plugin_env = false;
    bool top_level_plugin_config = false;
    bool environment_level_env = false;
    bool environment_level_plugin_config = false;
    bool environment_level_plugin_env = false;
    bool indirected = false;
};

/// The project of test_env_var_resolution (§10 A), built from its flags.
std::string case_a_yml(const Flags& f) {
    std::string y = "default_environment: dev\n";
    y += f.top_level_env ? "env: {TEST_ENV_VAR_RESOLUTION_FROM: top_level_env}\n" : "env: {}\n";
    y += "plugins:\n  utilities:\n  - name: test-env-var-resolution\n"
         "    namespace: test_env_var_resolution\n    executable: pwd\n"
         "    settings:\n    - {name: from, kind: string, value: top_level_plugin_setting}\n";
    if (f.top_level_plugin_config) {
        y += "    config: {from: top_level_plugin_config}\n";
    }
    if (f.top_level_plugin_env) {
        y += "    env: {TEST_ENV_VAR_RESOLUTION_FROM: top_level_plugin_env}\n";
    }
    y += "environments:\n- name: dev\n";
    if (f.indirected) {
        y += "  config: {plugins: {utilities: [{name: test-env-var-resolution, config: {from: "
             "$INDIRECTED_ENV_VAR}}]}}\n"
             "  env: {INDIRECTED_ENV_VAR: environment_level_plugin_config_indirected}\n";
        return y;
    }
    if (f.environment_level_env) {
        y += "  env: {TEST_ENV_VAR_RESOLUTION_FROM: environment_level_env}\n";
    }
    if (f.environment_level_plugin_env) {
        y += "  config: {plugins: {utilities: [{name: test-env-var-resolution, env: "
             "{TEST_ENV_VAR_RESOLUTION_FROM: environment_level_plugin_env}}]}}\n";
    } else if (f.environment_level_plugin_config) {
        y += "  config: {plugins: {utilities: [{name: test-env-var-resolution, config: {from: "
             "environment_level_plugin_config}}]}}\n";
    }
    return y;
}

}  // namespace

TEST_CASE("env blocks and the process environment take precedence as in test_env_var_resolution",
          "[meltano][resolve]") {
    struct Case {
        const char* id;
        Flags flags;
        const char* expected;
    };
    Flags f00;
    f00.terminal = true;
    Flags f01 = f00;
    f01.top_level_env = true;
    Flags f02 = f00;
    f02.top_level_plugin_env = true;
    Flags f03 = f00;
    f03.environment_level_env = true;
    Flags f04 = f00;
    f04.environment_level_plugin_env = true;
    Flags f06;
    f06.top_level_env = true;
    Flags f07 = f06;
    f07.top_level_plugin_env = true;
    Flags f08 = f07;
    f08.environment_level_env = true;
    Flags f09 = f08;
    f09.environment_level_plugin_env = true;
    Flags f11 = f03;
    f11.top_level_plugin_config = true;
    Flags f12 = f11;
    f12.environment_level_plugin_config = true;
    Flags f13;
    f13.environment_level_env = true;
    Flags f14 = f13;
    f14.top_level_plugin_config = true;
    Flags f15 = f14;
    f15.environment_level_plugin_config = true;
    Flags f16 = f15;
    f16.indirected = true;
    const Case cases[] = {
        {"00", f00, "terminal_env"},
        {"01", f01, "top_level_env"},
        {"02", f02, "top_level_plugin_env"},
        {"03", f03, "environment_level_env"},
        {"04", f04, "environment_level_plugin_env"},
        {"06", f06, "top_level_env"},
        {"07", f07, "top_level_plugin_env"},
        {"08", f08, "environment_level_env"},
        {"09", f09, "environment_level_plugin_env"},
        {"10", f00, "terminal_env"},
        {"11", f11, "environment_level_env"},
        {"12", f12, "environment_level_env"},
        {"13", f13, "environment_level_env"},
        {"14", f14, "environment_level_env"},
        {"15", f15, "environment_level_env"},
        {"16", f16, "environment_level_plugin_config_indirected"},
    };
    for (const Case& c : cases) {
        DYNAMIC_SECTION("case " << c.id) {
            ProjectDir dir;
            dir.write("meltano.yml", case_a_yml(c.flags));
            auto project = dir.load();
            REQUIRE(dir.diagnostics.empty());
            ResolveOptions options;
            if (c.flags.terminal) {
                options = with_env({{"TEST_ENV_VAR_RESOLUTION_FROM", "terminal_env"}});
            }
            Resolution r = resolve_in(project, std::string("dev"), options);
            const auto& from =
                setting(r, PluginType::utilities, "test-env-var-resolution", "from");
            CHECK(from.value == Json(c.expected));
            // What `meltano invoke --print-var` shows: the variable written for the setting.
            bool written = false;
            for (const auto& [k, v] :
                 settings_env(plugin_of(r, PluginType::utilities, "test-env-var-resolution"))) {
                if (k == "TEST_ENV_VAR_RESOLUTION_FROM") {
                    CHECK(v == c.expected);
                    written = true;
                }
            }
            CHECK(written);
        }
    }
}

TEST_CASE("env blocks chain like test_environment_variable_inheritance when a plugin is invoked",
          "[meltano][resolve]") {
    ProjectDir dir;
    SECTION("every level appends to STACKED") {
        dir.write("meltano.yml", R"(env: {STACKED: "${STACKED}2"}
plugins:
  utilities:
  - {name: test-environment-inheritance, namespace: test_environment_inheritance,
     executable: pwd, env: {STACKED: "${STACKED}4"},
     settings: [{name: echo_text, env: ECHO_TEXT}], config: {echo_text: "${STACKED}"}}
environments:
- name: dev
  env: {STACKED: "${STACKED}3"}
  config: {plugins: {utilities: [{name: test-environment-inheritance, env: {STACKED: "${STACKED}5"}}]}}
)");
        auto project = dir.load();
        Resolution r = resolve_in(project, std::string("dev"), with_env({{"STACKED", "1"}}));
        const auto& p = plugin_of(r, PluginType::utilities, "test-environment-inheritance");
        CHECK(invocation_var(p, "STACKED") == "12345");
        // Config values see the raw env blocks (Meltano issue #7034).
        CHECK(setting(r, PluginType::utilities, "test-environment-inheritance", "echo_text").value ==
              Json("${STACKED}5"));
        CHECK(env_vars(p, setting(r, PluginType::utilities, "test-environment-inheritance",
                                  "echo_text"))
                  .front() == "ECHO_TEXT");
        SECTION("with no environment the plugin block sees nothing (Meltano issue #7023)") {
            Resolution none = resolve_in(project, std::nullopt, with_env({{"STACKED", "1"}}));
            const auto& q = plugin_of(none, PluginType::utilities, "test-environment-inheritance");
            CHECK(invocation_var(q, "STACKED") == "4");
            CHECK(setting(none, PluginType::utilities, "test-environment-inheritance", "echo_text")
                      .value == Json("${STACKED}4"));
        }
    }
    SECTION("only the environment's env block") {
        dir.write("meltano.yml", R"(plugins:
  utilities:
  - {name: test-environment-inheritance, namespace: test_environment_inheritance, executable: pwd}
environments:
- {name: dev, env: {STACKED: "${STACKED}2"}}
)");
        auto project = dir.load();
        Resolution r = resolve_in(project, std::string("dev"), with_env({{"STACKED", "1"}}));
        CHECK(invocation_var(plugin_of(r, PluginType::utilities, "test-environment-inheritance"),
                             "STACKED") == "12");
    }
}

TEST_CASE("unset variables are listed, expand to nothing, and fail in strict mode",
          "[meltano][resolve]") {
    ProjectDir dir;
    dir.write("meltano.yml", R"(plugins:
  extractors:
  - name: tap-x
    namespace: tap_x
    config:
      partial: ${NONEXISTENT_ENV_VAR}@nonexistent_1
      full: $NONEXISTENT
      kept: plain
  - name: tap-y
    namespace: tap_y
    config: {fine: ok}
)");
    auto project = dir.load();
    SECTION("hermetic: listed with their position, Meltano's empty-string semantics") {
        Resolution r = resolve_in(project, std::nullopt);
        CHECK(setting(r, PluginType::extractors, "tap-x", "partial").value ==
              Json("@nonexistent_1"));
        CHECK(setting(r, PluginType::extractors, "tap-x", "partial").unexpanded ==
              Json("${NONEXISTENT_ENV_VAR}@nonexistent_1"));
        CHECK(setting(r, PluginType::extractors, "tap-x", "full").value.is_null());
        CHECK(setting(r, PluginType::extractors, "tap-x", "full").source == Source::meltano_yml);
        REQUIRE(r.undefined_variables.size() == 2);
        CHECK(r.undefined_variables[0].name == "NONEXISTENT_ENV_VAR");
        CHECK(r.undefined_variables[0].plugin == std::optional<std::string>("tap-x"));
        CHECK(r.undefined_variables[0].setting == std::optional<std::string>("partial"));
        CHECK(r.undefined_variables[0].position.file == "meltano.yml");
        CHECK(r.undefined_variables[0].position.line == 6);
        CHECK(r.undefined_variables[1].name == "NONEXISTENT");
        CHECK(plugin_of(r, PluginType::extractors, "tap-x").diagnostics.empty());
    }
    SECTION("strict mode makes them per-plugin errors; other plugins still resolve") {
        ResolveOptions o;
        o.strict_env_var_mode = true;
        Resolution r = resolve_in(project, std::nullopt, o);
        CHECK(has_code(plugin_of(r, PluginType::extractors, "tap-x").diagnostics,
                       "undefined-variable"));
        CHECK(setting(r, PluginType::extractors, "tap-x", "partial").value.is_null());
        CHECK(setting(r, PluginType::extractors, "tap-x", "kept").value == Json("plain"));
        CHECK(plugin_of(r, PluginType::extractors, "tap-y").diagnostics.empty());
        CHECK(setting(r, PluginType::extractors, "tap-y", "fine").value == Json("ok"));
    }
    SECTION("defined by the process environment when it is consulted") {
        Resolution r = resolve_in(project, std::nullopt,
                                  with_env({{"NONEXISTENT_ENV_VAR", "x"}, {"NONEXISTENT", "y"}}));
        CHECK(r.undefined_variables.empty());
        CHECK(setting(r, PluginType::extractors, "tap-x", "partial").value == Json("x@nonexistent_1"));
    }
}

TEST_CASE("values expand as in test_env_var_expansion", "[meltano][resolve]") {
    ProjectDir dir;
    dir.write("meltano.yml", R"(plugins:
  extractors:
  - name: tap-mock
    namespace: tap_mock
    settings:
    - {name: test}
    - {name: var}
    - {name: foo}
    - {name: missing}
    - {name: multiple}
    - {name: info}
    - {name: password, kind: password}
    - {name: user_agent}
    config:
      var: $VAR
      foo: ${FOO}
      missing: $MISSING
      multiple: $A ${B} $C
      info: $MELTANO_EXTRACTOR_NAME
      password: foo$r$6$bar
      user_agent: $MELTANO_USER_AGENT
    extra: $TAP_MOCK_MULTIPLE
    extra_generic: $MELTANO_EXTRACT_FOO
)");
    auto project = dir.load();
    Resolution r = resolve_in(
        project, std::nullopt,
        with_env({{"VAR", "hello world!"}, {"FOO", "42"}, {"TAP_MOCK_TEST", "$FOO"}},
                 {{"A", "rock"}, {"B", "paper"}, {"C", "scissors"}}));
    auto value = [&](const char* name) {
        return setting(r, PluginType::extractors, "tap-mock", name).value;
    };
    CHECK(value("var") == Json("hello world!"));
    CHECK(value("foo") == Json("42"));
    CHECK(value("missing").is_null());
    CHECK(value("multiple") == Json("rock paper scissors"));
    CHECK(value("info") == Json("tap-mock"));
    CHECK(value("password") == Json("foo$r$6$bar"));
    CHECK(setting(r, PluginType::extractors, "tap-mock", "password").sensitive);
    const std::string agent = value("user_agent").get<std::string>();
    CHECK(agent.rfind("Meltano/", 0) == 0);
    CHECK(value("_extra") == Json("rock paper scissors"));
    CHECK(value("_extra_generic") == Json("42"));
    CHECK(value("test") == Json("$FOO"));  // values from the environment are never expanded
    CHECK(setting(r, PluginType::extractors, "tap-mock", "test").source == Source::env);
    CHECK(setting(r, PluginType::extractors, "tap-mock", "test").env_var_used ==
          std::optional<std::string>("TAP_MOCK_TEST"));
    CHECK(setting(r, PluginType::extractors, "tap-mock", "_extra").env_var == "TAP_MOCK__EXTRA");
}

TEST_CASE("the expansion pattern is Meltano's", "[meltano][resolve]") {
    ProjectDir dir;
    dir.write("meltano.yml", R"(env:
  H: h-value
  lower_var: lv
  Upper: up
  ENV_VAR: substituted
plugins:
  extractors:
  - name: tap-x
    namespace: tap_x
    config:
      lower: $lower_var
      curly_lower: ${lower_var}
      mixed: $Host_Mixed
      suffix: ${ENV_VAR}_suffix
      escaped: MY_DB\$TableName
      escaped_curly: \${ENV_VAR}
      no_recursion: $RECURSE
      nested: {list: [$ENV_VAR, {deep: "${ENV_VAR}"}], $ENV_VAR: key}
)");
    dir.write("meltano.yml", "env:\n  RECURSE: $ENV_VAR\n" + std::string(R"(  H: h-value
  lower_var: lv
  ENV_VAR: substituted
plugins:
  extractors:
  - name: tap-x
    namespace: tap_x
    settings: [{name: nested, kind: object}]
    config:
      lower: $lower_var
      curly_lower: ${lower_var}
      mixed: $Host_Mixed
      suffix: ${ENV_VAR}_suffix
      escaped: MY_DB\$TableName
      escaped_curly: \${ENV_VAR}
      no_recursion: $RECURSE
      listed: [$ENV_VAR, {deep: "${ENV_VAR}"}]
)"));
    auto project = dir.load();
    Resolution r = resolve_in(project, std::nullopt);
    auto value = [&](const char* name) {
        return setting(r, PluginType::extractors, "tap-x", name).value;
    };
    CHECK(value("lower") == Json("$lower_var"));
    CHECK(value("curly_lower") == Json("lv"));
    CHECK(value("mixed") == Json("h-valueost_Mixed"));
    CHECK(value("suffix") == Json("substituted_suffix"));
    CHECK(value("escaped") == Json("MY_DB$TableName"));
    CHECK(value("escaped_curly") == Json("${ENV_VAR}"));
    CHECK(value("no_recursion") == Json("$ENV_VAR"));
    CHECK(same(value("listed"), R"(["substituted", {"deep": "substituted"}])"));
}

TEST_CASE("object extras merge per leaf across layers as in test_extra_object",
          "[meltano][resolve]") {
    const std::string lock_with_vars = R"({"plugin_type": "transforms", "name": "tap-mock-transform",
        "namespace": "tap_mock_transform", "variant": "meltano",
        "vars": {"var": "from_default", "other": "from_default"}})";
    const std::string lock_plain = R"({"plugin_type": "transforms", "name": "tap-mock-transform",
        "namespace": "tap_mock_transform", "variant": "meltano"})";
    const std::string head = "plugins:\n  transforms:\n  - name: tap-mock-transform\n"
                             "    variant: meltano\n";
    ProjectDir dir;
    auto vars = [&](const Resolution& r) {
        return setting(r, PluginType::transforms, "tap-mock-transform", "_vars");
    };
    SECTION("1: the default") {
        dir.write("plugins/transforms/tap-mock-transform--meltano.lock", lock_plain);
        dir.write("meltano.yml", head);
        Resolution r = resolve_in(dir.load(), std::nullopt);
        CHECK(same(vars(r).value, "{}"));
        CHECK(vars(r).source == Source::default_);
        dir.write("plugins/transforms/tap-mock-transform--meltano.lock", lock_with_vars);
        Resolution r2 = resolve_in(dir.load(), std::nullopt);
        CHECK(same(vars(r2).value, R"({"var": "from_default", "other": "from_default"})"));
        CHECK(vars(r2).source == Source::default_);
    }
    dir.write("plugins/transforms/tap-mock-transform--meltano.lock", lock_with_vars);
    SECTION("2: meltano.yml merges with the default") {
        dir.write("meltano.yml", head + "    vars: {var: from_meltano_yml}\n");
        Resolution r = resolve_in(dir.load(), std::nullopt);
        CHECK(same(vars(r).value, R"({"var": "from_meltano_yml", "other": "from_default"})"));
        CHECK(vars(r).source == Source::meltano_yml);
    }
    SECTION("3 to 6: meltano.yml, env vars, the environment") {
        dir.write("meltano.yml", head + "    vars: {other: from_meltano_yml}\n"
                                        "environments:\n- name: dev\n  config:\n    plugins:\n"
                                        "      transforms:\n      - name: tap-mock-transform\n"
                                        "        vars: {dev_setting: from_dev_env}\n");
        auto project = dir.load();
        Resolution r3 = resolve_in(project, std::nullopt);
        CHECK(same(vars(r3).value, R"({"var": "from_default", "other": "from_meltano_yml"})"));
        CHECK(vars(r3).source == Source::meltano_yml);
        Resolution r4 = resolve_in(project, std::nullopt,
                                   with_env({{"TAP_MOCK_TRANSFORM__VARS_VAR", "from_env"}}));
        CHECK(same(vars(r4).value, R"({"var": "from_env", "other": "from_meltano_yml"})"));
        CHECK(vars(r4).source == Source::env);
        Resolution r5 = resolve_in(project, std::nullopt,
                                   with_env({{"TAP_MOCK_TRANSFORM__VARS", R"({"var": "from_env"})"}}));
        CHECK(same(vars(r5).value, R"({"var": "from_env"})"));
        CHECK(vars(r5).source == Source::env);
        Resolution r6 = resolve_in(project, std::string("dev"));
        CHECK(same(vars(r6).value, R"({"var": "from_default", "other": "from_meltano_yml",
                                      "dev_setting": "from_dev_env"})"));
        CHECK(vars(r6).source == Source::meltano_environment);
    }
    SECTION("7: an inheriting child (parent definition without default vars, as after reload)") {
        dir.write("plugins/transforms/tap-mock-transform--meltano.lock", lock_plain);
        dir.write("meltano.yml", head + "    vars: {other: from_meltano_yml}\n"
                                        "  - name: tap-mock-transform--inherited\n"
                                        "    inherit_from: tap-mock-transform\n"
                                        "    vars: {new: from_inheriting}\n");
        Resolution r = resolve_in(dir.load(), std::nullopt);
        const auto& v = setting(r, PluginType::transforms, "tap-mock-transform--inherited", "_vars");
        CHECK(same(v.value, R"({"other": "from_meltano_yml", "new": "from_inheriting"})"));
        CHECK(v.source == Source::meltano_yml);
    }
}

TEST_CASE("object settings assemble from nested keys and aliases as in test_kind_object",
          "[meltano][resolve]") {
    const std::string head = R"(plugins:
  extractors:
  - name: tap-mock
    namespace: tap_mock
    settings:
    - {name: object, kind: object, aliases: [data], value: {nested: from_default}}
)";
    ProjectDir dir;
    auto object = [&](const Resolution& r) {
        return setting(r, PluginType::extractors, "tap-mock", "object");
    };
    SECTION("the default") {
        dir.write("meltano.yml", head);
        Resolution r = resolve_in(dir.load(), std::nullopt);
        CHECK(same(object(r).value, R"({"nested": "from_default"})"));
        CHECK(object(r).source == Source::default_);
    }
    SECTION("nested keys, aliases and deep keys replace the default") {
        dir.write("meltano.yml", head + R"(    config:
      object: {username: from_meltano_yml, password: from_meltano_yml, deep: {nesting: from_meltano_yml}}
      data: {password: from_meltano_yml_alias}
)");
        auto project = dir.load();
        Resolution r = resolve_in(project, std::nullopt);
        CHECK(same(object(r).value, R"({"username": "from_meltano_yml", "password":
            "from_meltano_yml", "deep.nesting": "from_meltano_yml"})"));
        CHECK(object(r).source == Source::meltano_yml);
        Resolution e = resolve_in(project, std::nullopt,
                                  with_env({{"TAP_MOCK_OBJECT_DEEP_NESTING", "from_env"}}));
        CHECK(object(e).value["deep.nesting"] == Json("from_env"));
        CHECK(object(e).source == Source::env);
        Resolution alias = resolve_in(project, std::nullopt,
                                      with_env({{"TAP_MOCK_DATA", R"({"foo":"from_env_alias"})"}}));
        CHECK(same(object(alias).value, R"({"foo": "from_env_alias"})"));
        CHECK(object(alias).source == Source::env);
        Resolution own = resolve_in(project, std::nullopt,
                                    with_env({{"TAP_MOCK_OBJECT", R"({'foo': 'from_env'})"}}));
        CHECK(same(object(own).value, R"({"foo": "from_env"})"));
        Resolution both = resolve_in(project, std::nullopt,
                                     with_env({{"TAP_MOCK_OBJECT", R"({"foo":"a"})"},
                                               {"TAP_MOCK_DATA", R"({"foo":"b"})"}}));
        CHECK(has_code(plugin_of(both, PluginType::extractors, "tap-mock").diagnostics,
                       "conflicting-env-vars"));
    }
}

TEST_CASE("stores are tried in Meltano's order as in TestAutoStoreManager", "[meltano][resolve]") {
    ProjectDir dir;
    const std::string head = R"(plugins:
  utilities:
  - name: dummy
    namespace: dummy
    settings: [{name: regular, value: from_default}]
)";
    const std::string env_with = R"(environments:
- name: testing
  config: {plugins: {utilities: [{name: dummy, config: {regular: from_meltano_env}}]}}
)";
    auto regular = [](const Resolution& r) {
        return setting(r, PluginType::utilities, "dummy", "regular");
    };
    dir.write("meltano.yml", head + "environments: [{name: testing}]\n");
    auto bare = dir.load();
    CHECK(regular(resolve_in(bare, std::nullopt)).value == Json("from_default"));
    CHECK(regular(resolve_in(bare, std::nullopt)).source == Source::default_);
    CHECK(regular(resolve_in(bare, std::string("testing"))).source == Source::default_);
    dir.write("meltano.yml", head + "    config: {regular: from_meltano_yml}\n" + env_with);
    auto project = dir.load();
    CHECK(regular(resolve_in(project, std::nullopt)).value == Json("from_meltano_yml"));
    CHECK(regular(resolve_in(project, std::nullopt)).source == Source::meltano_yml);
    CHECK(regular(resolve_in(project, std::string("testing"))).value == Json("from_meltano_env"));
    CHECK(regular(resolve_in(project, std::string("testing"))).source ==
          Source::meltano_environment);
    Resolution dotenv =
        resolve_in(project, std::string("testing"), with_env({}, {{"DUMMY_REGULAR", "from_dotenv"}}));
    CHECK(regular(dotenv).value == Json("from_dotenv"));
    CHECK(regular(dotenv).source == Source::dotenv);
    Resolution env = resolve_in(project, std::string("testing"),
                                with_env({{"DUMMY_REGULAR", "from_env"}},
                                         {{"DUMMY_REGULAR", "from_dotenv"}}));
    CHECK(regular(env).value == Json("from_env"));
    CHECK(regular(env).source == Source::env);
    SECTION("the hermetic default ignores the process environment and .env") {
        ResolveOptions o = with_env({{"DUMMY_REGULAR", "from_env"}});
        o.with_env = false;
        CHECK(regular(resolve_in(project, std::nullopt, o)).source == Source::meltano_yml);
    }
}

TEST_CASE("the integration manifests' resolved values (K1 to K6) come out the same",
          "[meltano][resolve]") {
    ProjectDir dir;
    dir.write("meltano.yml", R"(default_environment: userdev
include_paths: [./loaders.meltano.yml, ./environments/*.meltano.yml]
plugins:
  extractors:
  - name: tap-snowflake
    variant: meltanolabs
    config: {account: epa06486, password: "${SNOWFLAKE_PASSWORD}"}
  - name: tap-snowflake-metrics
    inherit_from: tap-snowflake
  - name: tap-github-search
    namespace: tap_github_search
    settings: [{name: stream_maps, kind: object}, {name: searches, kind: array}]
    config:
      searches:
      - {name: tap non-forks, query: tap- fork:false language:Python singer in:readme}
      - {name: target non-forks, query: target- fork:false language:Python singer in:readme}
      stream_maps:
        repositories: {__filter__: "'tap-' in record['name']"}
        issues: {__filter__: "record['type'] = 'issue'"}
  - name: tap-slack
    namespace: tap_slack
  - name: tap-slack-public
    inherit_from: tap-slack
    config: {start_date: '2021-01-01', thread_lookback_days: 1}
)");
    dir.write("plugins/extractors/tap-snowflake--meltanolabs.lock", R"({
  "plugin_type": "extractors", "name": "tap-snowflake", "namespace": "tap_snowflake",
  "variant": "meltanolabs",
  "settings": [{"name": "account"}, {"name": "dbname"}, {"name": "user"}, {"name": "role"},
               {"name": "warehouse"}, {"name": "tables"},
               {"name": "password", "kind": "password"},
               {"name": "insecure_mode", "kind": "boolean", "value": false}]
})");
    dir.write("loaders.meltano.yml", R"(plugins:
  loaders:
  - name: target-snowflake
    namespace: target_snowflake
    config: {account: epa06486, file_format: CSV, add_metadata_columns: true,
             password: "${SNOWFLAKE_PASSWORD}"}
  - name: target-apprise
    namespace: target_apprise
    settings: [{name: stream_maps, kind: object}]
)");
    dir.write("environments/prod.meltano.yml", R"(environments:
- name: prod
  config:
    plugins:
      extractors:
      - name: tap-snowflake
        config: {dbname: PROD, user: MELTANO, role: REPORTER, warehouse: REPORTER}
      - name: tap-snowflake-metrics
        config: {tables: PROD.MELTANO_HUB.FACT_VARIANT_HUB_METRICS}
      - name: tap-snowflake-metrics-legacy
        config: {tables: PROD.MELTANO_HUB.FACT_HUB_METRICS}
      - name: tap-slack-public
        config: {thread_lookback_days: 7}
      loaders:
      - name: target-snowflake
        config: {dbname: RAW, user: MELTANO, role: LOADER, warehouse: LOADER,
                 default_target_schema: "${MELTANO_EXTRACT__LOAD_SCHEMA}"}
      - name: target-apprise
        config:
          stream_maps:
            PROD-SLACK_NOTIFICATIONS-SLACK_ALERTS: {TITLE: null, title: TITLE, BODY: null, body: BODY}
)");
    dir.write("environments/userdev.meltano.yml", R"(environments:
- name: userdev
  env: {USER_PREFIX: PNADOLNY}
  config:
    plugins:
      extractors:
      - name: tap-snowflake
        config: {dbname: USERDEV_PROD, user: "${USER_PREFIX}", role: "${USER_PREFIX}", warehouse: CORE}
      - name: tap-snowflake-metrics
        config: {tables: "USERDEV_PROD.${USER_PREFIX}_MELTANO_HUB.FACT_VARIANT_HUB_METRICS"}
      - name: tap-slack-public
        config: {start_date: '2022-09-01'}
      loaders:
      - name: target-snowflake
        config: {dbname: USERDEV_RAW, user: "${USER_PREFIX}", role: "${USER_PREFIX}", warehouse: CORE,
                 default_target_schema: "${USER_PREFIX}_${MELTANO_EXTRACT__LOAD_SCHEMA}"}
)");
    dir.write("environments/cicd.meltano.yml", R"(environments:
- name: cicd
  config:
    plugins:
      extractors:
      - name: tap-snowflake-metrics
        config: {tables: "CICD_PROD.${CI_BRANCH}_MELTANO_HUB.FACT_VARIANT_HUB_METRICS"}
      - name: tap-snowflake-metrics-legacy
        config: {tables: CICD}
      - name: tap-github-search
        config:
          searches:
          - {name: tap non-forks, query: tap- fork:false language:Python singer in:readme org:MeltanoLabs org:transferwise}
          - {name: target non-forks, query: target- fork:false language:Python singer in:readme org:MeltanoLabs org:transferwise}
      - name: tap-slack-public
        config: {start_date: "${DEFAULT_START_DATE}"}
)");
    auto project = dir.load();
    CHECK_FALSE(has_errors(dir.diagnostics));
    auto env_of = [](const Resolution& r, PluginType type, const std::string& name) {
        std::map<std::string, std::string> env;
        for (auto& [k, v] : settings_env(plugin_of(r, type, name))) {
            env[k] = v;
        }
        return env;
    };
    Resolution none = resolve_in(project, std::nullopt);
    Resolution prod = resolve_in(project, std::string("prod"));
    Resolution userdev = resolve_in(project, std::string("userdev"));
    Resolution cicd = resolve_in(project, std::string("cicd"));
    SECTION("K1: fully missing expansions are None, partial ones keep the rest") {
        auto e = env_of(none, PluginType::loaders, "target-snowflake");
        CHECK(e["TARGET_SNOWFLAKE_ACCOUNT"] == "epa06486");
        CHECK(e["TARGET_SNOWFLAKE_FILE_FORMAT"] == "CSV");
        CHECK(e["TARGET_SNOWFLAKE_ADD_METADATA_COLUMNS"] == "true");
        CHECK(e.count("TARGET_SNOWFLAKE_PASSWORD") == 0);
        CHECK(e.count("TARGET_SNOWFLAKE_DBNAME") == 0);
        auto p = env_of(prod, PluginType::loaders, "target-snowflake");
        CHECK(p["TARGET_SNOWFLAKE_DBNAME"] == "RAW");
        CHECK(p["TARGET_SNOWFLAKE_ROLE"] == "LOADER");
        CHECK(p["TARGET_SNOWFLAKE_ACCOUNT"] == "epa06486");
        CHECK(p.count("TARGET_SNOWFLAKE_DEFAULT_TARGET_SCHEMA") == 0);
        auto u = env_of(userdev, PluginType::loaders, "target-snowflake");
        CHECK(u["TARGET_SNOWFLAKE_USER"] == "PNADOLNY");
        CHECK(u["TARGET_SNOWFLAKE_ROLE"] == "PNADOLNY");
        CHECK(u["TARGET_SNOWFLAKE_WAREHOUSE"] == "CORE");
        CHECK(u["TARGET_SNOWFLAKE_DEFAULT_TARGET_SCHEMA"] == "PNADOLNY_");
        CHECK(u["MELTANO_LOAD_DBNAME"] == "USERDEV_RAW");
    }
    SECTION("K2: an inheriting plugin gets the parent's environment values") {
        auto p = env_of(prod, PluginType::extractors, "tap-snowflake-metrics");
        CHECK(p["TAP_SNOWFLAKE_METRICS_ACCOUNT"] == "epa06486");
        CHECK(p["TAP_SNOWFLAKE_METRICS_DBNAME"] == "PROD");
        CHECK(p["TAP_SNOWFLAKE_METRICS_ROLE"] == "REPORTER");
        CHECK(p["TAP_SNOWFLAKE_METRICS_USER"] == "MELTANO");
        CHECK(p["TAP_SNOWFLAKE_METRICS_WAREHOUSE"] == "REPORTER");
        CHECK(p["TAP_SNOWFLAKE_METRICS_TABLES"] == "PROD.MELTANO_HUB.FACT_VARIANT_HUB_METRICS");
        CHECK(p["TAP_SNOWFLAKE_DBNAME"] == "PROD");  // the parent's prefix is written too
        CHECK(p["TAP_SNOWFLAKE_METRICS_INSECURE_MODE"] == "false");
        CHECK(p.count("TAP_SNOWFLAKE_METRICS_PASSWORD") == 0);
        CHECK(setting(prod, PluginType::extractors, "tap-snowflake-metrics", "password").sensitive);
        const auto& dbname = setting(prod, PluginType::extractors, "tap-snowflake-metrics", "dbname");
        CHECK(dbname.source == Source::inherited);
        CHECK(dbname.inherited_from == std::optional<std::string>("tap-snowflake"));
        CHECK(dbname.inherited_source == std::optional<Source>(Source::meltano_environment));
        auto u = env_of(userdev, PluginType::extractors, "tap-snowflake-metrics");
        CHECK(u["TAP_SNOWFLAKE_METRICS_DBNAME"] == "USERDEV_PROD");
        CHECK(u["TAP_SNOWFLAKE_METRICS_USER"] == "PNADOLNY");
        CHECK(u["TAP_SNOWFLAKE_METRICS_TABLES"] ==
              "USERDEV_PROD.PNADOLNY_MELTANO_HUB.FACT_VARIANT_HUB_METRICS");
        auto c = env_of(cicd, PluginType::extractors, "tap-snowflake-metrics");
        CHECK(c["TAP_SNOWFLAKE_METRICS_TABLES"] == "CICD_PROD._MELTANO_HUB.FACT_VARIANT_HUB_METRICS");
    }
    SECTION("K3: lists are replaced, objects are flattened to dot keys") {
        auto c = env_of(cicd, PluginType::extractors, "tap-github-search");
        CHECK(c["TAP_GITHUB_SEARCH_SEARCHES"] ==
              R"([{"name": "tap non-forks", "query": "tap- fork:false language:Python singer in:readme org:MeltanoLabs org:transferwise"}, {"name": "target non-forks", "query": "target- fork:false language:Python singer in:readme org:MeltanoLabs org:transferwise"}])");
        CHECK(c["TAP_GITHUB_SEARCH_STREAM_MAPS"] ==
              R"({"repositories.__filter__": "'tap-' in record['name']", "issues.__filter__": "record['type'] = 'issue'"})");
        CHECK(setting(cicd, PluginType::extractors, "tap-github-search", "searches").source ==
              Source::meltano_environment);
    }
    SECTION("K4: an environment value expanding to nothing does not fall back") {
        const auto& c = setting(cicd, PluginType::extractors, "tap-slack-public", "start_date");
        CHECK(c.value.is_null());
        CHECK(c.source == Source::meltano_environment);
        CHECK(setting(none, PluginType::extractors, "tap-slack-public", "start_date").value ==
              Json("2021-01-01"));
        CHECK(setting(userdev, PluginType::extractors, "tap-slack-public", "start_date").value ==
              Json("2022-09-01"));
        CHECK(env_of(prod, PluginType::extractors, "tap-slack-public")
                  ["TAP_SLACK_PUBLIC_THREAD_LOOKBACK_DAYS"] == "7");
        CHECK(env_of(userdev, PluginType::extractors, "tap-slack-public")
                  ["TAP_SLACK_PUBLIC_THREAD_LOOKBACK_DAYS"] == "1");
    }
    SECTION("K5: an environment entry for a plugin that does not exist is ignored") {
        CHECK(prod.find(PluginType::extractors, "tap-snowflake-metrics-legacy") == nullptr);
        for (const auto& p : prod.plugins) {
            CHECK(p.diagnostics.empty());
        }
    }
    SECTION("K6: environment-only object config keeps null leaves") {
        auto p = env_of(prod, PluginType::loaders, "target-apprise");
        CHECK(p["TARGET_APPRISE_STREAM_MAPS"] ==
              R"({"PROD-SLACK_NOTIFICATIONS-SLACK_ALERTS.TITLE": null, "PROD-SLACK_NOTIFICATIONS-SLACK_ALERTS.title": "TITLE", "PROD-SLACK_NOTIFICATIONS-SLACK_ALERTS.BODY": null, "PROD-SLACK_NOTIFICATIONS-SLACK_ALERTS.body": "BODY"})");
        CHECK(p["TARGET_APPRISE_STREAM_MAPS_PROD_SLACK_NOTIFICATIONS_SLACK_ALERTS_TITLE"] == "TITLE");
        CHECK(p["TARGET_APPRISE_STREAM_MAPS_PROD_SLACK_NOTIFICATIONS_SLACK_ALERTS_BODY"] == "BODY");
        CHECK(setting(prod, PluginType::loaders, "target-apprise", "stream_maps").source ==
              Source::meltano_environment);
    }
}

TEST_CASE("integers up to 2^64 - 1 resolve as numbers, as Python's int does", "[meltano][resolve]") {
    ProjectDir dir;
    dir.write("meltano.yml", R"(plugins:
  extractors:
  - name: tap-x
    namespace: tap_x
    settings: [{name: port, kind: integer}]
    config:
      port: 18446744073709551615
      hex: 0xFFFFFFFFFFFFFFFF
      edge: 9223372036854775808
      beyond: 18446744073709551616
)");
    Resolution r = resolve_in(dir.load(), std::nullopt);
    auto s = [&](const char* n) { return setting(r, PluginType::extractors, "tap-x", n); };
    CHECK(s("port").value == Json(std::numeric_limits<std::uint64_t>::max()));
    CHECK(s("port").value.is_number_unsigned());
    CHECK(s("hex").value == Json(std::numeric_limits<std::uint64_t>::max()));
    CHECK(s("hex").kind == SettingKind::integer);  // a custom setting takes its value's kind
    CHECK(s("edge").value.dump() == "9223372036854775808");
    CHECK(stringify_value(s("edge")) == "9223372036854775808");
    // Beyond 64 bits JSON numbers here cannot hold it: the digits are kept, as text.
    CHECK(s("beyond").value == Json("18446744073709551616"));
}

TEST_CASE("observed Meltano behaviour of section 12 resolves the same", "[meltano][resolve]") {
    ProjectDir dir;
    SECTION("3: per-leaf merge, lists replaced, null falls back") {
        dir.write("meltano.yml", R"(plugins:
  extractors:
  - name: tap-auth0
    namespace: tap_auth0
    settings: [{name: nested, kind: object}]
    config:
      nested: {a: 1}
      flat.dotted: base
      list: [1, 2, 3]
      keep: base
      empty: base
environments:
- name: dev
  config:
    plugins:
      extractors:
      - name: tap-auth0
        config:
          nested: {b: 2, c: 3}
          flat: {dotted: env}
          list: [9]
          keep: null
          empty:
)");
        auto project = dir.load();
        Resolution r = resolve_in(project, std::string("dev"));
        auto s = [&](const char* n) { return setting(r, PluginType::extractors, "tap-auth0", n); };
        CHECK(same(s("nested").value, R"({"a": 1, "b": 2, "c": 3})"));
        CHECK(s("nested").source == Source::meltano_environment);
        CHECK(s("flat.dotted").value == Json("env"));
        CHECK(same(s("list").value, "[9]"));
        CHECK(s("keep").value == Json("base"));
        CHECK(s("keep").source == Source::meltano_yml);
        CHECK(s("empty").value == Json("base"));
        Resolution e = resolve_in(project, std::string("dev"),
                                  with_env({{"TAP_AUTH0_NESTED", R"({"z":1})"}}));
        CHECK(same(setting(e, PluginType::extractors, "tap-auth0", "nested").value, R"({"z": 1})"));
        CHECK(setting(e, PluginType::extractors, "tap-auth0", "nested.a").value == Json(1));
    }
    SECTION("4: unset or empty variables, integers and objects") {
        dir.write("meltano.yml", R"(env: {EMPTY: ""}
plugins:
  extractors:
  - name: tap-auth0
    namespace: tap_auth0
    settings: [{name: port, kind: integer}, {name: obj, kind: object}]
    config:
      port: $UNSET_PORT
      empty: $EMPTY
      obj: {x: $UNSET_X, y: kept}
)");
        Resolution r = resolve_in(dir.load(), std::nullopt);
        auto s = [&](const char* n) { return setting(r, PluginType::extractors, "tap-auth0", n); };
        CHECK(s("port").value.is_null());
        CHECK(s("empty").value.is_null());
        CHECK(same(s("obj").value, R"({"x": null, "y": "kept"})"));
        Resolution seven = resolve_in(dir.load(), std::nullopt, with_env({{"UNSET_PORT", "7"}}));
        CHECK(setting(seven, PluginType::extractors, "tap-auth0", "port").value == Json(7));
    }
    SECTION("5: env blocks beat the process env; only the environment's block is expanded") {
        dir.write("meltano.yml", R"(env: {TAP_AUTH0_AUDIENCE: from_top, TOP_VAR: t, PR: "pref-${TOP_VAR}"}
plugins:
  extractors:
  - name: tap-auth0
    namespace: tap_auth0
    env: {PE_CLASH: plugin, PLUGIN_VAR: p}
    config: {audience: base, scope: base, pr: $PR, e: $E, clash: $PE_CLASH}
environments:
- name: dev
  env: {E: "e-${TOP_VAR}-${PLUGIN_VAR}-${FROM_DOTENV}", PE_CLASH: environment}
  config:
    plugins:
      extractors:
      - {name: tap-auth0, config: {scope: env}, env: {TAP_AUTH0_SCOPE: from_env_plugin_env}}
)");
        Resolution r = resolve_in(dir.load(), std::string("dev"),
                                  with_env({{"TAP_AUTH0_AUDIENCE", "process"}},
                                           {{"FROM_DOTENV", "d"}, {"TOP_VAR", "dotenv"}}));
        auto s = [&](const char* n) { return setting(r, PluginType::extractors, "tap-auth0", n); };
        CHECK(s("audience").value == Json("from_top"));
        CHECK(s("audience").source == Source::env);
        CHECK(s("audience").env_var_used == std::optional<std::string>("TAP_AUTH0_AUDIENCE"));
        CHECK(s("audience").position.line == 1);
        CHECK(s("scope").value == Json("from_env_plugin_env"));
        CHECK(s("pr").value == Json("pref-${TOP_VAR}"));
        CHECK(s("e").value == Json("e-t-p-"));
        CHECK(s("clash").value == Json("environment"));
    }
    SECTION("6: inherit_from chains, prefixes and cycles") {
        dir.write("meltano.yml", R"(plugins:
  extractors:
  - name: tap-auth0
    namespace: tap_auth0
    config: {domain: base, region: $REGION}
    env: {REGION: eu-parent}
  - name: tap-auth0--eu
    inherit_from: tap-auth0
    config: {client_id: child}
  - name: tap-auth0--eu-2
    inherit_from: tap-auth0--eu
environments:
- name: prod
  config:
    plugins:
      extractors:
      - {name: tap-auth0, config: {domain: prod}}
      - {name: tap-auth0--eu, config: {client_id: prod-child}}
)");
        Resolution r = resolve_in(dir.load(), std::string("prod"));
        const auto& d = setting(r, PluginType::extractors, "tap-auth0--eu", "domain");
        CHECK(d.value == Json("prod"));
        CHECK(d.source == Source::inherited);
        CHECK(d.env_var == "TAP_AUTH0__EU_DOMAIN");
        CHECK(setting(r, PluginType::extractors, "tap-auth0--eu", "client_id").value ==
              Json("prod-child"));
        const auto& g = setting(r, PluginType::extractors, "tap-auth0--eu-2", "client_id");
        CHECK(g.value == Json("prod-child"));
        CHECK(g.inherited_from == std::optional<std::string>("tap-auth0--eu"));
        CHECK(setting(r, PluginType::extractors, "tap-auth0--eu-2", "region").value ==
              Json("eu-parent"));
        Resolution proc = resolve_in(dir.load(), std::string("prod"),
                                     with_env({{"TAP_AUTH0_DOMAIN", "from-parent-var"}}));
        CHECK(setting(proc, PluginType::extractors, "tap-auth0--eu", "domain").value ==
              Json("from-parent-var"));
        CHECK(setting(proc, PluginType::extractors, "tap-auth0--eu", "domain").source ==
              Source::inherited);
    }
    SECTION("10 and 11: built-in variables; a setting's own env is only written") {
        dir.write("meltano.yml", R"(project_id: pid-1
plugins:
  extractors:
  - name: tap-auth0
    namespace: tap_auth0_ns
    settings: [{name: region, env: AUTH0_REGION}, {name: client_id}]
    config:
      root: ${MELTANO_PROJECT_ROOT}/x
      env_name: ${MELTANO_ENVIRONMENT}
      ns: ${MELTANO_EXTRACTOR_NAMESPACE}
      name: ${MELTANO_EXTRACTOR_NAME}
      pid: ${MELTANO_PROJECT_ID}
      not_verb: ${MELTANO_EXTRACT_NAME}
      other: ${TAP_AUTH0_CLIENT_ID}
      client_id: abc
environments: [{name: dev}]
)");
        auto project = dir.load();
        Resolution r = resolve_in(project, std::string("dev"),
                                  with_env({{"AUTH0_REGION", "ignored"},
                                            {"MELTANO_EXTRACT_CLIENT_ID", "ignored"}}));
        auto s = [&](const char* n) { return setting(r, PluginType::extractors, "tap-auth0", n); };
        CHECK(s("root").value == Json("${MELTANO_PROJECT_ROOT}/x"));
        CHECK(s("env_name").value == Json("dev"));
        CHECK(s("ns").value == Json("tap_auth0_ns"));
        CHECK(s("name").value == Json("tap-auth0"));
        CHECK(s("pid").value == Json("pid-1"));
        CHECK(s("not_verb").value.is_null());
        CHECK(s("other").value.is_null());
        CHECK(s("region").value.is_null());
        CHECK(s("client_id").value == Json("abc"));
        const auto region_vars =
            env_vars(plugin_of(r, PluginType::extractors, "tap-auth0"), s("region"));
        CHECK(region_vars == std::vector<std::string>{"AUTH0_REGION", "TAP_AUTH0_REGION",
                                                      "TAP_AUTH0_NS_REGION", "MELTANO_EXTRACT_REGION"});
        CHECK(s("region").env_var == "TAP_AUTH0_REGION");
        ResolveOptions rooted;
        rooted.project_root = "/srv/project";
        Resolution r2 = resolve_in(project, std::nullopt, rooted);
        CHECK(setting(r2, PluginType::extractors, "tap-auth0", "root").value ==
              Json("/srv/project/x"));
        CHECK(setting(r2, PluginType::extractors, "tap-auth0", "env_name").value.is_null());
    }
    SECTION("an inherit_from chain writes every ancestor's prefixes, nearest first") {
        // env_prefixes(for_writing=True): own name and namespace, then the parent's (recursively,
        // down to the locked base plugin), then MELTANO_EXTRACT; repeats only once, where first.
        dir.write("plugins/extractors/tap-lock--acme.lock",
                  R"({"plugin_type": "extractors", "name": "tap-lock", "namespace": "tap_lock_ns",
                      "variant": "acme", "settings": [{"name": "user"}]})");
        dir.write("meltano.yml", R"(plugins:
  extractors:
  - name: tap-lock
    variant: acme
  - name: tap-a
    inherit_from: tap-lock
    namespace: tap
  - name: tap-b
    inherit_from: tap-a
    namespace: tap_lock
    settings: [{name: user, env: OWN_USER, env_aliases: [ALIAS_USER, "!NOT_WRITTEN"]}]
    config: {user: x}
  - name: tap-c
    inherit_from: tap-b
    metadata: {users: {via_ancestor: $TAP_A_USER, via_own_env: $OWN_USER, via_alias: $ALIAS_USER}}
)");
        Resolution r = resolve_in(dir.load(), std::nullopt, ResolveOptions{});
        const auto& c = plugin_of(r, PluginType::extractors, "tap-c");
        // Extras expand against every variable the plugin's settings write (as_env(extras=False)).
        CHECK(c.find("_metadata")->value ==
              Json::parse(R"({"users": {"via_ancestor": "x", "via_own_env": "x", "via_alias": "x"}})"));
        CHECK(env_vars(c, *c.find("user")) ==
              std::vector<std::string>{"OWN_USER", "TAP_C_USER", "TAP_B_USER", "TAP_LOCK_USER",
                                       "TAP_A_USER", "TAP_USER", "TAP_LOCK_NS_USER",
                                       "MELTANO_EXTRACT_USER", "ALIAS_USER"});
        const auto& lock = plugin_of(r, PluginType::extractors, "tap-lock");
        CHECK(env_vars(lock, *lock.find("user")) ==
              std::vector<std::string>{"TAP_LOCK_USER", "TAP_LOCK_NS_USER", "MELTANO_EXTRACT_USER"});
        // What --format env prints: the inherited value under every name.
        std::vector<std::string> names;
        for (const auto& [name, value] : settings_env(c)) {
            if (value == "x" && name.find("__") == std::string::npos) {  // not an extra's
                names.push_back(name);
            }
        }
        CHECK(names.size() == 9);
    }
}

TEST_CASE("a setting with many aliases reads each of their variables once", "[meltano][resolve]") {
    // Two prefixes (name and namespace differ) times the name and 13 aliases: past the 16 names
    // below which repeats are found by scanning, and the last alias names a variable twice over.
    std::string aliases;
    for (int i = 1; i <= 12; ++i) {
        aliases += fmt::format("{}alias_{}", i == 1 ? "" : ", ", i);
    }
    aliases += ", alias-12";
    ProjectDir dir;
    dir.write("meltano.yml", fmt::format(R"(version: 1
plugins:
  extractors:
  - name: tap-m
    namespace: other_ns
    settings:
    - {{name: key, aliases: [{}]}}
)",
                                         aliases));
    auto project = dir.load();
    const auto key_of = [](const Resolution& r) -> const ResolvedSetting& {
        return setting(r, PluginType::extractors, "tap-m", "key");
    };
    SECTION("the last alias is read under either prefix, as one variable") {
        for (const std::string var : {"TAP_M_ALIAS_12", "OTHER_NS_ALIAS_12", "OTHER_NS_ALIAS_7"}) {
            INFO(var);
            Resolution r = resolve_in(project, std::nullopt, with_env({{var, "v"}}));
            CHECK(key_of(r).value == Json("v"));
            CHECK(key_of(r).source == Source::env);
            CHECK(key_of(r).env_var_used == std::optional<std::string_view>(var));
            CHECK(plugin_of(r, PluginType::extractors, "tap-m").diagnostics.empty());
        }
    }
    SECTION("two of its variables set to different values conflict") {
        Resolution r = resolve_in(project, std::nullopt,
                                  with_env({{"TAP_M_ALIAS_3", "a"}, {"OTHER_NS_ALIAS_11", "b"}}));
        CHECK(has_code(plugin_of(r, PluginType::extractors, "tap-m").diagnostics,
                       "conflicting-env-vars"));
    }
}

TEST_CASE("observed Meltano behaviour of section 13 resolves the same", "[meltano][resolve]") {
    ProjectDir dir;
    dir.write("meltano.yml", R"(plugins:
  extractors:
  - name: tap-x
    namespace: tap_x
    settings:
    - {name: issues, kind: object}
    - {name: port, kind: integer}
    - {name: mode, kind: options, options: [{label: A, value: a}, {label: B, value: b}]}
    - {name: user, aliases: [username]}
    - {name: ratio, kind: decimal}
    - {name: flag, kind: boolean}
    config:
      issues: {body: text, title: t}
      port: 2.5
      when: 2021-01-01T10:30:00.250+02:00
      day: 2021-01-01
      username: via-alias
      flag: yes
      count: 3
      tags: [a]
  - name: tap-bad
    namespace: tap_bad
    settings: [{name: port, kind: integer}, {name: mode, kind: options, options: [{value: a}]},
               {name: user, aliases: [username]}]
    config: {port: not-a-number, mode: c, user: u1, username: u2}
  - name: tap-good
    namespace: tap_good
    config: {ok: true}
environments:
- name: prod
  config:
    plugins:
      extractors:
      - {name: tap-x, config: {count: "42", tags: "a,b", ratio: "1.5", flag: "on"}}
)");
    auto project = dir.load();
    Resolution r = resolve_in(project, std::nullopt);
    auto s = [&](const Resolution& res, const char* n) {
        return setting(res, PluginType::extractors, "tap-x", n);
    };
    CHECK(same(s(r, "issues").value, R"({"body": "text", "title": "t"})"));
    CHECK(s(r, "issues.body").custom);
    CHECK(s(r, "port").value == Json(2.5));  // casting only touches strings
    CHECK(s(r, "when").value == Json("2021-01-01T08:30:00"));
    CHECK(s(r, "day").value == Json("2021-01-01"));
    CHECK(s(r, "user").value == Json("via-alias"));
    CHECK(s(r, "username").custom);
    CHECK(s(r, "flag").value == Json(true));  // YAML 1.2 reads a string; the boolean kind casts it
    CHECK(s(r, "count").kind == SettingKind::integer);
    CHECK(s(r, "tags").kind == SettingKind::array);
    Resolution prod = resolve_in(project, std::string("prod"));
    CHECK(s(prod, "count").value == Json(42));
    CHECK(s(prod, "ratio").value == Json(1.5));
    CHECK(s(prod, "flag").value == Json(true));
    CHECK(has_code(plugin_of(prod, PluginType::extractors, "tap-x").diagnostics,
                   "invalid-setting-value"));
    const auto& bad = plugin_of(r, PluginType::extractors, "tap-bad");
    CHECK(has_code(bad.diagnostics, "invalid-setting-value"));
    CHECK(has_code(bad.diagnostics, "conflicting-setting-values"));
    CHECK(bad.diagnostics.size() == 3);
    CHECK(plugin_of(r, PluginType::extractors, "tap-good").diagnostics.empty());
    CHECK(setting(r, PluginType::extractors, "tap-good", "ok").value == Json(true));
    SECTION("environment names are case-sensitive") {
        Resolution upper = resolve_in(project, std::string("Prod"));
        CHECK(upper.plugins.empty());
        REQUIRE(upper.diagnostics.size() == 1);
        CHECK(upper.diagnostics[0].code == "unknown-environment");
        CHECK(upper.diagnostics[0].hint.find("'prod'") != std::string::npos);
    }
}

namespace {

/// Everything a Resolution reports, as text, so two resolutions can be compared whole.
std::string fingerprint(const Resolution& r) {
    std::string out = r.environment.value_or("<none>") + "\n";
    for (const auto& u : r.undefined_variables) {
        out += fmt::format("undefined {} {} {} {}:{}\n", u.name, u.plugin.value_or("-"),
                           u.setting.value_or("-"), u.position.file, u.position.line);
    }
    for (const auto& d : r.diagnostics) {
        out += fmt::format("diagnostic {} {}\n", d.code, d.message);
    }
    for (const auto& p : r.plugins) {
        out += fmt::format("plugin {} {} {}\n", p.name, p.namespace_name, p.variant);
        for (const auto& d : p.diagnostics) {
            out += fmt::format("  diagnostic {} {} {}:{}\n", d.code, d.message, d.file, d.line);
        }
        for (const auto& [k, v] : p.invocation_env) {
            out += fmt::format("  invocation {}={}\n", k, v);
        }
        for (const auto& s : p.settings) {
            out += fmt::format("  {}={} {} {} {} {} {} {}:{}:{} {} [", s.name, s.value.dump(),
                               source_name(s.source), s.inherited_from.value_or("-"),
                               s.inherited_source ? source_name(*s.inherited_source) : "-",
                               s.env_var_used.value_or("-"),
                               s.unexpanded ? s.unexpanded->dump() : "-", s.position.file,
                               s.position.line, s.position.column, s.env_var);
            for (const auto& v : env_vars(p, s)) {
                out += v;
                out += ',';
            }
            out += fmt::format("]{}{}\n", s.custom, s.extra);
        }
    }
    return out;
}

}  // namespace

TEST_CASE("resolving one environment after another gives what resolving it alone gives",
          "[meltano][resolve]") {
    // The prepared project is shared by every resolve of a Project: nothing an environment
    // adds (orphan settings, env blocks, expanded variables) may leak into the next one.
    const std::string yml = R"(version: 1
env:
  TOP: top
environments:
- name: a
  env:
    LEVEL: a-$TOP
    TAP_ONE_PASSWORD: from-env-a
  config:
    plugins:
      extractors:
      - name: tap-one
        config:
          host: a-host
          orphan_a: only-in-a
          nested:
            deep: a-deep
        env:
          PLUGIN_A: pa
        select: [a.*]
      - name: tap-child
        config:
          port: 1
- name: b
  env:
    LEVEL: plain-b
  config:
    plugins:
      extractors:
      - name: tap-one
        config:
          orphan_b: ${LEVEL}-${MISSING_B}
      loaders:
      - name: target-two
        config:
          dir: $LEVEL
- name: c
plugins:
  extractors:
  - name: tap-one
    namespace: tap_one
    env:
      OWN: own-$TOP
    settings:
    - name: host
      aliases: [hostname]
    - name: password
      kind: password
    - name: port
      kind: integer
      value: 5432
    - name: nested
      kind: object
    config:
      host: base-host
      user: ${TOP}-user
  - name: tap-child
    inherit_from: tap-one
    config:
      extra_key: $OWN
  loaders:
  - name: target-two
    namespace: target_two
    config:
      dir: base
)";
    for (const bool invocation : {false, true}) {
        ResolveOptions options;
        options.invocation_env = invocation;
        INFO("invocation_env " << invocation);
        for (const auto& first : std::vector<std::optional<std::string>>{
                 "a", "b", "c", std::nullopt, "missing"}) {
            for (const auto& second : std::vector<std::optional<std::string>>{
                     "a", "b", "c", std::nullopt}) {
                INFO("first " << first.value_or("<none>") << ", then "
                              << second.value_or("<none>"));
                ProjectDir fresh;
                fresh.write("meltano.yml", yml);
                auto alone = fresh.load();
                const std::string expected = fingerprint(resolve_in(alone, second, options));

                ProjectDir reused;
                reused.write("meltano.yml", yml);
                auto project = reused.load();
                (void)resolve_in(project, first, options);
                CHECK(fingerprint(resolve_in(project, second, options)) == expected);
                // And again, once every cache is warm.
                CHECK(fingerprint(resolve_in(project, second, options)) == expected);
            }
        }
    }
}

TEST_CASE("plugins handed over one by one are the plugins a kept resolution holds, in order",
          "[meltano][resolve]") {
    ProjectDir dir;
    // A child before its parent, a mapper's mappings and an environment block: handing a plugin
    // over must not free what a later plugin still reads (the parent's values).
    dir.write("meltano.yml", R"(version: 1
default_environment: prod
plugins:
  extractors:
  - name: tap-child
    inherit_from: tap-parent
    config:
      own: $SCHEMA_NAME
  - name: tap-parent
    namespace: tap_parent
    config:
      host: base.example.com
      nested:
        a: 1
  mappers:
  - name: meltano-map-transformer
    namespace: map
    mappings:
    - name: hash-emails
      config:
        stream_maps: {users: {email: md5(email)}}
environments:
- name: prod
  env:
    SCHEMA_NAME: prod_schema
  config:
    plugins:
      extractors:
      - name: tap-parent
        config:
          host: prod.example.com
)");
    auto project = dir.load();
    ResolveOptions options;
    options.environment = "prod";
    const Resolution kept = resolve(project, options);
    std::vector<ResolvedPlugin> handed;
    options.on_plugin = [&](ResolvedPlugin&& p) { handed.push_back(std::move(p)); };
    const Resolution streamed = resolve(project, options);
    CHECK(streamed.plugins.empty());
    REQUIRE(handed.size() == kept.plugins.size());
    REQUIRE(handed.size() == 4);
    for (std::size_t i = 0; i < handed.size(); ++i) {
        const ResolvedPlugin& a = kept.plugins[i];
        const ResolvedPlugin& b = handed[i];
        INFO("plugin " << a.name);
        CHECK(a.name == b.name);
        CHECK(a.type == b.type);
        REQUIRE(a.settings.size() == b.settings.size());
        for (std::size_t s = 0; s < a.settings.size(); ++s) {
            INFO("setting " << a.settings[s].name);
            CHECK(a.settings[s].name == b.settings[s].name);
            CHECK(a.settings[s].value == b.settings[s].value);
            CHECK(a.settings[s].source == b.settings[s].source);
        }
    }
    CHECK(handed[0].name == "tap-child");
    CHECK(handed[0].find("host")->value == Json("prod.example.com"));
    CHECK(handed[0].find("host")->source == Source::inherited);
    CHECK(handed[0].find("own")->value == Json("prod_schema"));
    CHECK(handed[3].type == PluginType::mappings);
    CHECK(streamed.undefined_variables.size() == kept.undefined_variables.size());
}

TEST_CASE("results shared across environments are the results each environment works out",
          "[meltano][resolve]") {
    ProjectDir dir;
    // Every way an environment can change a setting whose base value it does not configure: its
    // variables (environment env:, plugin env: in the environment, process env and .env), a
    // variable its value references, an alias, an extra's or object's keys of its own, a
    // setting written to the variable an extra references, a parent's block.
    dir.write("meltano.yml", R"(version: 1
default_environment: dev
env:
  TOP: top-value
plugins:
  extractors:
  - name: tap-alpha
    namespace: tap_alpha
    env:
      SCHEMA: plugin-schema
      OWN: own-value
    settings:
    - name: host
    - name: port
      kind: integer
    - name: flag
      kind: boolean
    - name: schema
    - name: own
    - name: top
    - name: nsvar
      env: MELTANO_EXTRACTOR_NAMESPACE
    - name: choice
      kind: options
      options: [{label: A, value: a}, {label: B, value: b}]
    - name: obj
      kind: object
    - name: client_id
      aliases: [clientid]
    - name: password
      kind: password
      sensitive: true
    config:
      host: base.example.com
      port: "5432"
      flag: "yes"
      schema: $SCHEMA
      own: ${OWN}_x
      top: $TOP
      choice: a
      client_id: abc
    select:
    - a.b
    metadata:
      users:
        replication-method: FULL_TABLE
  - name: tap-beta
    namespace: tap_beta
    settings:
    - name: nsvar
      env: MELTANO_EXTRACTOR_NAMESPACE
    - name: host
    - name: creds
      kind: object
    - name: creds.user
    - name: creds.pass
    config:
      host: beta.example.com
      creds:
        pass: base-pass
  - name: tap-child
    inherit_from: tap-alpha
    config:
      own: child-$OWN
  loaders:
  - name: target-gamma
    namespace: target_gamma
    config:
      dialect_x: 1
  mappers:
  - name: meltano-map-transformer
    namespace: map
    mappings:
    - name: m1
      config: {stream_maps: {a: {b: c}}}
environments:
- name: dev
- name: staging
  env:
    SCHEMA: env-schema
    OWN: env-own
  config:
    plugins:
      extractors:
      - name: tap-alpha
        config:
          port: 1234
          clientid: via-alias
        metadata:
          orders:
            replication-method: INCREMENTAL
      - name: tap-beta
        config:
          nsvar: from-env
          orphan_key: 1
          creds:
            user: env-user
        metadata:
          s:
            k: v
        select: [env.stream]
        env:
          MELTANO_EXTRACTOR_NAMESPACE: envns
- name: prod
  env:
    TAP_ALPHA_HOST: prod.example.com
    MELTANO_EXTRACTOR_NAMESPACE: prodns
    TAP_BETA_CREDS_PASS: prod-pass
    TAP_ALPHA__SELECT: '["p.q"]'
  config:
    plugins:
      extractors:
      - name: tap-child
        config:
          host: child-prod
        select: [x.y]
      loaders:
      - name: target-gamma
        config:
          dialect_x: 2
)");
    auto project = dir.load();
    std::vector<std::optional<std::string>> environments{std::nullopt, "dev", "staging", "prod"};
    for (const bool with_env : {false, true}) {
        for (const auto& environment : environments) {
            INFO("environment " << environment.value_or("(none)") << ", with_env " << with_env);
            ResolveOptions options;
            options.environment = environment;
            options.with_env = with_env;
            options.process_env = {{"TAP_ALPHA_PORT", "99"}, {"OWN", "process-own"}};
            options.dotenv = {{"TAP_BETA_HOST", "dotenv-host"}, {"SCHEMA", "dotenv-schema"}};
            const Resolution alone = resolve(project, options);
            options.share_across_environments = true;
            const Resolution shared = resolve(project, options);
            REQUIRE(alone.plugins.size() == shared.plugins.size());
            for (std::size_t i = 0; i < alone.plugins.size(); ++i) {
                const ResolvedPlugin& a = alone.plugins[i];
                const ResolvedPlugin& b = shared.plugins[i];
                INFO("plugin " << a.name);
                REQUIRE(a.settings.size() == b.settings.size());
                for (std::size_t s = 0; s < a.settings.size(); ++s) {
                    const ResolvedSetting& x = a.settings[s];
                    const ResolvedSetting& y = b.settings[s];
                    INFO("setting " << x.name);
                    CHECK(x.name == y.name);
                    CHECK(x.value == y.value);
                    CHECK(x.source == y.source);
                    CHECK(x.unexpanded == y.unexpanded);
                    CHECK(x.env_var_used == y.env_var_used);
                    CHECK(x.position.line == y.position.line);
                    CHECK(x.position.column == y.position.column);
                }
                CHECK(a.diagnostics.size() == b.diagnostics.size());
            }
            CHECK(alone.undefined_variables.size() == shared.undefined_variables.size());
        }
    }
    // The shared values, and what they stand for when values are not asked for.
    ResolveOptions options;
    options.environment = "staging";
    options.share_across_environments = true;
    const Resolution staging = resolve(project, options);
    CHECK(setting(staging, PluginType::extractors, "tap-alpha", "schema").value ==
          Json("env-schema"));
    CHECK(setting(staging, PluginType::extractors, "tap-alpha", "port").value == Json(1234));
    // The extra's $MELTANO_EXTRACTOR_NAMESPACE is first the setting written to that variable,
    // which staging configures.
    CHECK(setting(staging, PluginType::extractors, "tap-beta", "_load_schema").value ==
          Json("from-env"));
    CHECK(setting(staging, PluginType::extractors, "tap-alpha", "_load_schema").value ==
          Json("tap_alpha"));
    CHECK(setting(staging, PluginType::extractors, "tap-beta", "_metadata").value ==
          Json::parse(R"({"s": {"k": "v"}})"));
    // An extra without references is shared unless the environment configures it or sets
    // one of its variables.
    CHECK(setting(staging, PluginType::extractors, "tap-beta", "_select").value ==
          Json::parse(R"(["env.stream"])"));
    CHECK(setting(staging, PluginType::extractors, "tap-alpha", "_select").value ==
          Json::parse(R"(["a.b"])"));
    // An object assembled from its members is shared only where they all are.
    CHECK(setting(staging, PluginType::extractors, "tap-beta", "creds").value ==
          Json::parse(R"({"user": "env-user", "pass": "base-pass"})"));
    options.environment = "prod";
    const Resolution prod = resolve(project, options);
    CHECK(setting(prod, PluginType::extractors, "tap-beta", "creds").value ==
          Json::parse(R"({"user": null, "pass": "prod-pass"})"));
    CHECK(setting(prod, PluginType::extractors, "tap-alpha", "_select").value ==
          Json::parse(R"(["p.q"])"));
    options.environment = "dev";
    CHECK(setting(resolve(project, options), PluginType::extractors, "tap-beta", "creds").value ==
          Json::parse(R"({"user": null, "pass": "base-pass"})"));
    options.environment = "staging";
    options.values = false;
    const Resolution presence = resolve(project, options);
    CHECK(setting(presence, PluginType::extractors, "tap-alpha", "host").value == Json(true));
    CHECK(setting(presence, PluginType::extractors, "tap-alpha", "_catalog").value.is_null());
    CHECK(setting(presence, PluginType::extractors, "tap-alpha", "port").value == Json(1234));
}

TEST_CASE("a parent nothing defines is a warning, a parent of another type an error", "[resolve]") {
    // Meltano asks Meltano Hub for a definition named by a missing `inherit_from`, which cannot be
    // checked offline; it inherits within a type only, so a project plugin of another type by
    // that name is a lookup bound to fail. `env show` prints the errors; it must agree with
    // `validate` on which these are.
    ProjectDir dir;
    dir.write("meltano.yml", "plugins:\n"
                             "  extractors:\n"
                             "  - {name: tap-postgres, namespace: tap_postgres}\n"
                             "  - {name: tap-child, inherit_from: tap-hub-only}\n"
                             "  loaders:\n"
                             "  - {name: target-pg, inherit_from: tap-postgres}\n");
    const Resolution r = resolve_in(dir.load(), std::nullopt);
    const auto& hub = plugin_of(r, PluginType::extractors, "tap-child").diagnostics;
    REQUIRE(hub.size() == 1);
    CHECK(hub[0].code == "inherit-from-missing");
    CHECK(hub[0].severity == Severity::warning);
    const auto& wrong_type = plugin_of(r, PluginType::loaders, "target-pg").diagnostics;
    REQUIRE(wrong_type.size() == 1);
    CHECK(wrong_type[0].code == "inherit-from-missing");
    CHECK(wrong_type[0].severity == Severity::error);
}

TEST_CASE("the writers of one variable among many settings are writes_name's", "[resolve]") {
    // An extra's `$VAR` is first a variable one of the plugin's settings writes: NameWriters
    // decides the prefixes once for all of them, and must agree with writes_name everywhere.
    using dataops::meltano::detail::NameWriters;
    using dataops::meltano::detail::writes_name;
    std::vector<SettingDefinition> defs(6);
    defs[0].name = "host";
    defs[1].name = "";
    defs[2].name = "host";
    defs[2].env = "CUSTOM_HOST";
    defs[3].name = "a.b-c";
    defs[4].name = "port";
    defs[4].env_aliases = {"ALIAS_PORT", "!NEG_PORT"};
    defs[5].name = "_select";
    const std::vector<std::vector<std::string>> prefix_lists{
        {"TAP_X", "MELTANO_EXTRACT"}, {"", "TAP_X"}, {"TAP_X"}, {}};
    const std::vector<std::string> names{"TAP_X_HOST",
                                         "TAP_X",
                                         "TAP_XHOST",
                                         "MELTANO_EXTRACTOR_NAMESPACE",
                                         "MELTANO_EXTRACT_HOST",
                                         "HOST",
                                         "",
                                         "CUSTOM_HOST",
                                         "ALIAS_PORT",
                                         "NEG_PORT",
                                         "!NEG_PORT",
                                         "TAP_X_A_B_C",
                                         "A_B_C",
                                         "TAP_X__SELECT"};
    std::size_t written = 0;
    for (const auto& prefixes : prefix_lists) {
        for (const auto& name : names) {
            const NameWriters writers(prefixes, name);
            for (const auto& def : defs) {
                INFO("prefixes " << prefixes.size() << ", name '" << name << "', setting '"
                                 << def.name << "'");
                const bool expected = writes_name(prefixes, def, name);
                CHECK(writers.writes(def) == expected);
                written += expected ? 1 : 0;
            }
        }
    }
    // Written through a prefix, by the setting's own name and by an alias, and not otherwise.
    CHECK(writes_name(prefix_lists[0], defs[0], "TAP_X_HOST"));
    CHECK(writes_name(prefix_lists[0], defs[0], "MELTANO_EXTRACT_HOST"));
    CHECK(writes_name(prefix_lists[1], defs[0], "HOST"));
    CHECK(writes_name(prefix_lists[3], defs[2], "CUSTOM_HOST"));
    CHECK(writes_name(prefix_lists[3], defs[4], "ALIAS_PORT"));
    CHECK_FALSE(writes_name(prefix_lists[0], defs[4], "!NEG_PORT"));
    CHECK_FALSE(writes_name(prefix_lists[0], defs[0], "MELTANO_EXTRACTOR_NAMESPACE"));
    CHECK(written > 10);
}
