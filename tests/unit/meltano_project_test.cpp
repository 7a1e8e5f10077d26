#include <catch2/catch.hpp>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <string>

#include <fmt/format.h>

#include <dataops/git/file_source.hpp>
#include <dataops/meltano/project.hpp>
#include <dataops/meltano/resolve.hpp>
#include <dataops/meltano/values.hpp>

#include "support/project_dir.hpp"
#include "support/temp_repo.hpp"

using namespace dataops::meltano;
using Json = nlohmann::ordered_json;

namespace {

class ProjectDir : public dataops::testing::ProjectDir {
public:
    LoadResult load(const std::string& project_dir = "") const { return load_result(project_dir); }
};

const Diagnostic* find_code(const Diagnostics& diagnostics, const std::string& code) {
    for (const auto& d : diagnostics) {
        if (d.code == code) {
            return &d;
        }
    }
    return nullptr;
}

std::vector<std::string> environment_names(const Project& p) {
    std::vector<std::string> out;
    for (const auto& e : p.environments) {
        out.push_back(e.name);
    }
    return out;
}

}  // namespace

TEST_CASE("include_paths merge files in pattern order, then sorted glob order", "[meltano]") {
    ProjectDir dir;
    dir.write("meltano.yml", R"(default_environment: test-meltano-environment
include_paths:
- ./subconfig_[0-9].yml
- ./*/subconfig_[0-9].yml
- ./*/**/subconfig_[0-9].yml
- ./meltano.yml
env: {A: root, B: root}
environments:
- name: test-meltano-environment
plugins:
  extractors:
  - {name: tap-root, namespace: tap_root}
)");
    dir.write("subconfig_2.yml", R"(environments: [{name: test-subconfig-2-yml}]
plugins: {extractors: [{name: tap-two, namespace: tap_two}]}
env: {B: included}
default_environment: test-subconfig-2-yml
)");
    dir.write("subfolder/subconfig_1.yml", R"(environments: [{name: test-subconfig-1-yml}]
plugins: {loaders: [{name: target-one, namespace: target_one}]}
)");
    dir.write("subfolder/deeper/subconfig_3.yml", "jobs: [{name: job-3, tasks: [tap-root target-one]}]\n");
    dir.write("subconfig_x.yml", "environments: [{name: not-matched}]\n");
    LoadResult r = dir.load();
    REQUIRE(r.project);
    CHECK(r.diagnostics.empty());
    const Project& p = *r.project;
    CHECK(p.files == std::vector<std::string>{"meltano.yml", "subconfig_2.yml",
                                              "subfolder/subconfig_1.yml",
                                              "subfolder/deeper/subconfig_3.yml"});
    CHECK(environment_names(p) == std::vector<std::string>{"test-meltano-environment",
                                                           "test-subconfig-2-yml",
                                                           "test-subconfig-1-yml"});
    CHECK(p.default_environment == std::optional<std::string>("test-subconfig-2-yml"));
    REQUIRE(p.env.size() == 2);
    CHECK(p.env[1].name == "B");
    CHECK(p.env[1].value.text() == "included");
    CHECK(p.env[1].position.file == "subconfig_2.yml");
    REQUIRE(p.find_plugin(PluginType::extractors, "tap-two") != nullptr);
    CHECK(p.find_plugin(PluginType::extractors, "tap-two")->position.file == "subconfig_2.yml");
    CHECK(p.find_plugin(PluginType::loaders, "target-one") != nullptr);
    REQUIRE(p.jobs.size() == 1);
    CHECK(p.jobs[0].tasks == std::vector<std::string>{"tap-root target-one"});
    Resolution res = resolve(r.project, ResolveOptions{std::string("test-subconfig-1-yml")});
    CHECK(res.diagnostics.empty());
    CHECK(res.plugins.size() == 3);
}

TEST_CASE("duplicates follow Meltano: meltano.yml wins silently, included files clash",
          "[meltano]") {
    ProjectDir dir;
    dir.write("meltano.yml", R"(include_paths: [inc/*.yml]
environments: [{name: dev, env: {WHO: root}}]
plugins: {extractors: [{name: tap-x, namespace: tap_x, config: {who: root}}]}
)");
    dir.write("inc/a.yml", R"(environments: [{name: dev, env: {WHO: a}}, {name: shared}]
plugins: {extractors: [{name: tap-x, namespace: tap_x, config: {who: a}}]}
)");
    SECTION("meltano.yml and one included file") {
        LoadResult r = dir.load();
        REQUIRE(r.project);
        CHECK_FALSE(has_errors(r.diagnostics));
        CHECK(find_code(r.diagnostics, "duplicate-environment") != nullptr);
        CHECK(find_code(r.diagnostics, "duplicate-plugin") != nullptr);
        CHECK(r.project->find_environment("dev")->position.file == "meltano.yml");
        Resolution res = resolve(r.project, ResolveOptions{std::string("dev")});
        REQUIRE(res.plugins.size() == 1);
        CHECK(res.plugins[0].find("who")->value == Json("root"));
    }
    SECTION("two included files") {
        dir.write("inc/b.yml", "environments: [{name: shared}]\n");
        LoadResult r = dir.load();
        REQUIRE(r.project);
        const Diagnostic* d = find_code(r.diagnostics, "duplicate-environment");
        REQUIRE(d != nullptr);
        CHECK(d->severity == Severity::error);
        CHECK(d->file == "inc/b.yml");
        CHECK(d->message == "environment 'shared' is defined in both 'inc/a.yml' and 'inc/b.yml'");
    }
}

TEST_CASE("include paths that are missing, outside, not files or invalid are diagnostics",
          "[meltano]") {
    ProjectDir dir;
    dir.write("project/meltano.yml", R"(include_paths:
- missing/*.yml
- ../outside.yml
- /etc/passwd
- adir
- bad.yml
- link.yml
environments: [{name: dev}]
)");
    dir.write("outside.yml", "environments: [{name: evil}]\n");
    dir.write("project/adir/x", "");
    dir.write("project/bad.yml", "environments: [name: [unclosed\n");
    std::filesystem::create_symlink("../outside.yml",
                                    std::filesystem::path(dir.path()) / "project/link.yml");
    LoadResult r = dir.load("project");
    REQUIRE(r.project);
    CHECK(r.project->dir == "project");
    CHECK(find_code(r.diagnostics, "include-path-missing")->line == 2);
    int outside = 0;
    for (const auto& d : r.diagnostics) {
        outside += d.code == "include-path-outside" ? 1 : 0;
    }
    CHECK(outside == 3);
    CHECK(find_code(r.diagnostics, "include-path-not-file") != nullptr);
    const Diagnostic* syntax = find_code(r.diagnostics, "yaml-syntax");
    REQUIRE(syntax != nullptr);
    CHECK(syntax->file == "project/bad.yml");
    CHECK(syntax->line >= 1);
    CHECK(environment_names(*r.project) == std::vector<std::string>{"dev"});
}

TEST_CASE("structural problems are diagnostics with positions", "[meltano]") {
    ProjectDir dir;
    SECTION("no meltano.yml, an empty one, one that does not parse") {
        LoadResult missing = dir.load();
        CHECK_FALSE(missing.project);
        CHECK(find_code(missing.diagnostics, "meltano-yml-missing") != nullptr);
        dir.write("meltano.yml", "# nothing\n");
        LoadResult empty = dir.load();
        CHECK_FALSE(empty.project);
        CHECK(find_code(empty.diagnostics, "empty-file") != nullptr);
        dir.write("meltano.yml", "plugins:\n  extractors: []\nplugins: {}\n");
        LoadResult dup = dir.load();
        CHECK_FALSE(dup.project);
        REQUIRE(find_code(dup.diagnostics, "yaml-syntax") != nullptr);
        CHECK(find_code(dup.diagnostics, "yaml-syntax")->line == 3);
    }
    SECTION("bad entries") {
        dir.write("meltano.yml", R"(plugins:
  extractor:
  - name: tap-typo
  loaders:
  - namespace: no_name
  - just-a-string
environments:
- name: dev
  foo: bar
  config:
    plugins:
      extractors:
      - config: {x: 1}
      extractor: []
- config: {}
)");
        LoadResult r = dir.load();
        REQUIRE(r.project);
        const Diagnostic* type = find_code(r.diagnostics, "unknown-plugin-type");
        REQUIRE(type != nullptr);
        CHECK(type->message == "unknown plugin type 'extractor'");
        CHECK(type->line == 2);
        CHECK(type->column == 3);
        CHECK_FALSE(type->hint.empty());
        CHECK(find_code(r.diagnostics, "missing-name")->line == 5);
        CHECK(find_code(r.diagnostics, "wrong-shape")->line == 6);
        const Diagnostic* key = find_code(r.diagnostics, "unknown-key");
        REQUIRE(key != nullptr);
        CHECK(key->message == "environment 'dev' has unknown key 'foo'");
        CHECK(key->environment == std::optional<std::string>("dev"));
        int missing_names = 0;
        for (const auto& d : r.diagnostics) {
            missing_names += d.code == "missing-name" ? 1 : 0;
        }
        CHECK(missing_names == 3);
    }
}

TEST_CASE("lock files give hub plugins their setting definitions", "[meltano]") {
    ProjectDir dir;
    dir.write("plugins/extractors/tap-lock--acme.lock", R"({
  "plugin_type": "extractors", "name": "tap-lock", "namespace": "tap_lock_ns", "variant": "acme",
  "select": ["users.*"],
  "settings": [
    {"name": "token", "kind": "password", "aliases": ["api_token"]},
    {"name": "start", "kind": "date_iso8601", "value": "2020-01-01"},
    {"name": "retries", "kind": "integer", "value": 3, "env": "LOCK_RETRIES"},
    {"name": "mode", "kind": "options", "options": [{"label": "Fast", "value": "fast"}]}
  ]
})");
    dir.write("plugins/extractors/tap-other--v1.lock", R"({"name": "tap-other", "namespace": "tap_other",
        "variant": "v1", "settings": [{"name": "flag", "kind": "boolean"}]})");
    dir.write("plugins/loaders/target-broken--x.lock", "{ not json");
    dir.write("meltano.yml", R"(plugins:
  extractors:
  - name: tap-lock
    variant: acme
    config: {api_token: secret, retries: "5"}
  - name: tap-lock-child
    inherit_from: tap-lock
    variant: acme
  - name: tap-other
    config: {flag: "yes"}
  loaders:
  - name: target-broken
    variant: x
)");
    LoadResult r = dir.load();
    REQUIRE(r.project);
    const Diagnostic* invalid = find_code(r.diagnostics, "lock-file-invalid");
    REQUIRE(invalid != nullptr);
    CHECK(invalid->file == "plugins/loaders/target-broken--x.lock");
    CHECK(invalid->line == 1);
    const Diagnostic* guessed = find_code(r.diagnostics, "lock-variant-guessed");
    REQUIRE(guessed != nullptr);
    CHECK(guessed->severity == Severity::warning);
    REQUIRE(r.project->locks.size() == 2);
    Resolution res = resolve(r.project, ResolveOptions{});
    const ResolvedPlugin* p = res.find(PluginType::extractors, "tap-lock");
    REQUIRE(p != nullptr);
    CHECK(p->namespace_name == "tap_lock_ns");
    CHECK(p->variant == "acme");
    const ResolvedSetting* token = p->find("token");
    CHECK(token->value == Json("secret"));
    CHECK(token->sensitive);
    CHECK(token->kind == SettingKind::password);
    CHECK(p->find("api_token")->custom);
    CHECK(p->find("start")->value == Json("2020-01-01"));
    CHECK(p->find("start")->source == Source::default_);
    CHECK(p->find("start")->position.file == "plugins/extractors/tap-lock--acme.lock");
    CHECK(p->find("retries")->value == Json(5));
    CHECK(env_vars(*p, *p->find("retries"))[0] == "LOCK_RETRIES");
    CHECK(p->find("_select")->value == Json::array({"users.*"}));
    CHECK(p->find("_load_schema")->value == Json("tap_lock_ns"));
    const ResolvedPlugin* child = res.find(PluginType::extractors, "tap-lock-child");
    REQUIRE(child != nullptr);
    CHECK(child->find("retries")->value == Json(3));
    CHECK(child->find("token")->value.is_null());  // a lock parent is not a project plugin
    CHECK(child->namespace_name == "tap_lock_child");
    CHECK(res.find(PluginType::extractors, "tap-other")->find("flag")->value == Json(true));
}

TEST_CASE("each mapping of a mapper resolves as its own entry", "[meltano]") {
    ProjectDir dir;
    dir.write("meltano.yml", R"(plugins:
  mappers:
  - name: meltano-map-transformer
    namespace: meltano_map_transformer
    settings: [{name: stream_maps, kind: object}]
    config: {shared: base}
    mappings:
    - name: hash-emails
      config:
        stream_maps: {customers: {email: md5(email)}}
    - name: drop-ids
      config:
        stream_maps: {customers: {id: __NULL__}}
environments:
- name: prod
  config:
    plugins:
      mappers:
      - name: meltano-map-transformer
        config: {flag: prod}
)");
    LoadResult r = dir.load();
    REQUIRE(r.project);
    CHECK_FALSE(has_errors(r.diagnostics));
    Resolution res = resolve(r.project, ResolveOptions{std::string("prod")});
    REQUIRE(res.plugins.size() == 3);
    CHECK(res.plugins[0].type == PluginType::mappers);
    CHECK(res.plugins[1].type == PluginType::mappings);
    CHECK(res.plugins[1].name == "hash-emails");
    CHECK(res.plugins[1].mapper == std::optional<std::string>("meltano-map-transformer"));
    const ResolvedPlugin* m = res.find(PluginType::mappings, "drop-ids");
    REQUIRE(m != nullptr);
    CHECK(m->find("stream_maps")->value["customers.id"] == Json("__NULL__"));
    CHECK(m->find("shared") == nullptr);  // a mapping's config replaces the mapper's
    CHECK(m->find("flag")->value == Json("prod"));
    CHECK(m->find("_mapping_name")->value == Json("drop-ids"));
    CHECK(m->find("_mapping")->value == Json(true));
    CHECK(m->find("stream_maps")->env_var == "MELTANO_MAP_TRANSFORMER_STREAM_MAPS");
    CHECK(res.plugins[0].find("shared")->value == Json("base"));
}

TEST_CASE("inherit_from chains resolve and cycles are per-plugin errors", "[meltano]") {
    ProjectDir dir;
    SECTION("length 1 is shadowing, not a cycle") {
        dir.write("meltano.yml", R"(plugins:
  extractors:
  - {name: tap-a, namespace: tap_a, inherit_from: tap-a, config: {x: 1}}
)");
        LoadResult r = dir.load();
        Resolution res = resolve(r.project, ResolveOptions{});
        CHECK(res.plugins[0].diagnostics.empty());
        CHECK_FALSE(res.plugins[0].inherit_from);
        CHECK(res.plugins[0].find("x")->value == Json(1));
    }
    SECTION("length 2 and 3, with a bystander") {
        dir.write("meltano.yml", R"(plugins:
  extractors:
  - {name: tap-a, inherit_from: tap-b, config: {x: a}}
  - {name: tap-b, inherit_from: tap-a}
  - {name: tap-c, inherit_from: tap-d}
  - {name: tap-d, inherit_from: tap-e}
  - {name: tap-e, inherit_from: tap-c}
  - {name: tap-f, inherit_from: tap-a}
  - {name: tap-ok, namespace: tap_ok, config: {y: 1}}
  - {name: tap-ghost-child, inherit_from: tap-ghost}
)");
        LoadResult r = dir.load();
        Resolution res = resolve(r.project, ResolveOptions{});
        for (const char* name : {"tap-a", "tap-b", "tap-c", "tap-d", "tap-e", "tap-f"}) {
            INFO(name);
            const ResolvedPlugin* p = res.find(PluginType::extractors, name);
            REQUIRE(p != nullptr);
            REQUIRE(p->diagnostics.size() == 1);
            CHECK(p->diagnostics[0].code == "inherit-cycle");
            CHECK(p->diagnostics[0].line > 0);
        }
        for (const char* name : {"tap-a", "tap-b", "tap-c", "tap-d", "tap-e"}) {
            CHECK_THAT(res.find(PluginType::extractors, name)->diagnostics[0].message,
                       Catch::EndsWith("' inherits from itself through 'inherit_from'"));
        }
        // tap-f is not on a cycle: it inherits from one, and the message says so.
        CHECK(res.find(PluginType::extractors, "tap-f")->diagnostics[0].message ==
              "extractor 'tap-f' inherits from 'tap-a', which leads into an 'inherit_from' cycle");
        CHECK(res.find(PluginType::extractors, "tap-a")->find("x")->value == Json("a"));
        CHECK(res.find(PluginType::extractors, "tap-ok")->diagnostics.empty());
        CHECK(res.find(PluginType::extractors, "tap-ghost-child")->diagnostics[0].code ==
              "inherit-from-missing");
    }
    SECTION("a chain of 3000 plugins resolves without recursion") {
        std::string y = "plugins:\n  extractors:\n  - {name: p0, namespace: p0, config: {v: root}}\n";
        for (int i = 1; i < 3000; ++i) {
            y += "  - {name: p" + std::to_string(i) + ", inherit_from: p" + std::to_string(i - 1) +
                 "}\n";
        }
        dir.write("meltano.yml", y);
        LoadResult r = dir.load();
        Resolution res = resolve(r.project, ResolveOptions{});
        const ResolvedSetting* v = res.find(PluginType::extractors, "p2999")->find("v");
        REQUIRE(v != nullptr);
        CHECK(v->value == Json("root"));
        CHECK(v->inherited_from == std::optional<std::string>("p2998"));
    }
}

TEST_CASE("deeply nested values neither overflow the stack nor blow up", "[meltano]") {
    // Collections are limited to 1,000 levels by the YAML layer, and JSON read from variables
    // and lock files to 1,000 levels too: Meltano fails long before (Python's RecursionError),
    // and everything downstream (resolver, printers) may recurse up to that depth.
    const int depth = 990;  // plus the 5 levels above a plugin's config values
    std::string deep_map;
    for (int i = 0; i < depth; ++i) {
        deep_map += "{a: ";
    }
    deep_map += "leaf" + std::string(depth, '}');
    std::string deep_list;
    for (int i = 0; i < depth; ++i) {
        deep_list += "- ";
    }
    deep_list += "$X";
    auto deep_json = [](int levels) {
        std::string json;
        for (int i = 0; i < levels; ++i) {
            json += "{\"k\": ";
        }
        return json + "1" + std::string(levels, '}');
    };
    const std::string project = "env: {X: x}\nplugins:\n  extractors:\n  - name: tap-deep\n"
                                "    namespace: tap_deep\n"
                                "    settings: [{name: obj, kind: object}]\n    config:\n      m: " +
                                deep_map + "\n      l:\n        " + deep_list + "\n";
    ProjectDir dir;
    dir.write("meltano.yml", project);
    LoadResult r = dir.load();
    for (const auto& d : r.diagnostics) {
        INFO(d.code << ": " << d.message);
    }
    REQUIRE(r.project);
    ResolveOptions options;
    options.with_env = true;
    options.process_env = {{"TAP_DEEP_OBJ", deep_json(999)}};
    Resolution res = resolve(r.project, options);
    const ResolvedPlugin& p = res.plugins.at(0);
    CHECK(p.diagnostics.empty());
    bool found_leaf = false;
    for (const auto& s : p.settings) {
        if (s.name.size() == 2 * depth + 1 && s.value == Json("leaf")) {  // m.a.a...a
            found_leaf = true;
        }
    }
    CHECK(found_leaf);
    const ResolvedSetting* l = p.find("l");
    REQUIRE(l != nullptr);
    const Json* cur = &l->value;
    for (int i = 0; i < depth; ++i) {
        REQUIRE(cur->is_array());
        cur = &(*cur)[0];
    }
    CHECK(*cur == Json("x"));
    CHECK(python_json_dumps(l->value).size() == 2 * static_cast<std::size_t>(depth) + 3);
    CHECK(l->value.dump().size() == 2 * static_cast<std::size_t>(depth) + 3);  // recursion is safe
    const ResolvedSetting* obj = p.find("obj");
    REQUIRE(obj != nullptr);
    CHECK(obj->source == Source::env);
    CHECK(obj->value.is_object());
    CHECK(json_equal(obj->value, obj->value));

    SECTION("JSON from a variable nested 200,000 deep is an invalid value, not a crash") {
        options.process_env = {{"TAP_DEEP_OBJ", deep_json(200000)}};
        Resolution deep = resolve(r.project, options);
        const auto& diagnostics = deep.plugins.at(0).diagnostics;
        REQUIRE(diagnostics.size() == 1);
        CHECK(diagnostics[0].code == "invalid-setting-value");
    }
    SECTION("meltano.yml nested 200,000 deep is a syntax error at the level that is too deep") {
        std::string deep;
        for (int i = 0; i < 200000; ++i) {
            deep += "- ";
        }
        dir.write("meltano.yml", "plugins:\n  extractors:\n  - name: tap-deep\n    config:\n      l:\n      " +
                                     deep + "x\n");
        LoadResult refused = dir.load();
        CHECK_FALSE(refused.project);
        REQUIRE(refused.diagnostics.size() == 1);
        CHECK(refused.diagnostics[0].code == "yaml-syntax");
        CHECK(refused.diagnostics[0].line == 6);
        CHECK(refused.diagnostics[0].column == 7 + 2 * (1000 - 5));
        CHECK(refused.diagnostics[0].message == "collections are nested too deeply");
    }
    SECTION("a lock file nested 200,000 deep is invalid") {
        dir.write("meltano.yml", "plugins:\n  extractors:\n  - name: tap-locked\n    variant: v\n");
        dir.write("plugins/extractors/tap-locked--v.lock",
                  "{\"name\": \"tap-locked\", \"settings\": [{\"name\": \"s\", \"value\": " +
                      deep_json(200000) + "}]}");
        LoadResult locked = dir.load();
        bool invalid = false;
        for (const auto& d : locked.diagnostics) {
            if (d.code == "lock-file-invalid") {
                invalid = true;
                CHECK_THAT(d.hint, Catch::Contains("nested more than 1000 levels deep"));
            }
        }
        CHECK(invalid);
    }
}

TEST_CASE("a project of 2000 plugins and 20 environments resolves every environment quickly",
          "[meltano][resolve]") {
    ProjectDir dir;
    std::string y = "default_environment: env0\nenv: {TOP: top}\nplugins:\n  extractors:\n";
    for (int i = 0; i < 2000; ++i) {
        y += "  - name: tap-" + std::to_string(i) + "\n    namespace: tap_" + std::to_string(i) +
             "\n    settings: [{name: port, kind: integer}, {name: obj, kind: object}]\n"
             "    config: {host: host.example.com, port: 5432, user: $TOP, "
             "obj: {a: 1, b: {c: 2}}, list: [1, 2, 3]}\n";
    }
    y += "environments:\n";
    for (int e = 0; e < 20; ++e) {
        y += "- name: env" + std::to_string(e) + "\n  env: {E: e" + std::to_string(e) +
             "}\n  config:\n    plugins:\n      extractors:\n";
        for (int i = 0; i < 2000; i += 2) {
            y += "      - {name: tap-" + std::to_string(i) + ", config: {host: h" +
                 std::to_string(e) + ", password: $E}}\n";
        }
    }
    dir.write("meltano.yml", y);
    const auto t0 = std::chrono::steady_clock::now();
    LoadResult r = dir.load();
    REQUIRE(r.project);
    const auto t1 = std::chrono::steady_clock::now();
    std::size_t settings = 0;
    for (int e = 0; e < 20; ++e) {
        Resolution res = resolve(r.project, ResolveOptions{"env" + std::to_string(e)});
        REQUIRE(res.plugins.size() == 2000);
        settings += res.plugins[0].settings.size();
        CHECK(res.plugins[0].find("password")->value == Json("e" + std::to_string(e)));
    }
    const auto t2 = std::chrono::steady_clock::now();
    using ms = std::chrono::duration<double, std::milli>;
    WARN("load " << ms(t1 - t0).count() << " ms, resolve 20 environments "
                 << ms(t2 - t1).count() << " ms, " << y.size() / 1024 << " KiB");
    CHECK(settings > 0);
}

TEST_CASE("big included files, parsed side by side, load as small ones do", "[meltano]") {
    // Past 256 KiB of included YAML the files are parsed on several threads: the project, its
    // diagnostics and their order must not depend on that.
    auto write_project = [](ProjectDir& dir, std::size_t padding) {
        dir.write("meltano.yml", "include_paths: [inc/*.yml, adir]\nenvironments: [{name: dev}]\n");
        const std::string pad = "# " + std::string(padding, 'x') + "\n";
        for (int i = 0; i < 6; ++i) {
            std::string text = pad;
            if (i == 2) {
                text += "plugins: {extractors: [name: [unclosed\n";
            } else if (i == 4) {
                text += "- just a list\n";
            } else {
                text += fmt::format("plugins:\n  extractors:\n  - name: tap-{}\n    config: {{n: {}}}\n", i, i);
                text += fmt::format("environments:\n- name: env-{}\n", i);
            }
            dir.write(fmt::format("inc/f{}.yml", i), text);
        }
        dir.write("adir/x", "");
    };
    auto summary = [](const LoadResult& r) {
        std::string out;
        for (const auto& d : r.diagnostics) {
            out += fmt::format("{} {}:{}:{} {}\n", d.code, d.file, d.line, d.column, d.message);
        }
        for (const auto& p : r.project->plugins) {
            out += fmt::format("plugin {} {}:{}\n", p.name, p.position.file, p.position.line);
        }
        for (const auto& e : r.project->environments) {
            out += fmt::format("environment {} {}:{}\n", e.name, e.position.file, e.position.line);
        }
        for (const auto& f : r.project->files) {
            out += "file " + f + "\n";
        }
        return out;
    };
    ProjectDir small;
    write_project(small, 10);
    ProjectDir big;
    write_project(big, 100 * 1024);  // 600 KiB in all
    const LoadResult a = small.load();
    const LoadResult b = big.load();
    REQUIRE(a.project);
    REQUIRE(b.project);
    CHECK(summary(a) == summary(b));
    CHECK(a.project->plugins.size() == 4);
    CHECK(find_code(b.diagnostics, "yaml-syntax")->file == "inc/f2.yml");
    CHECK(find_code(b.diagnostics, "wrong-shape")->file == "inc/f4.yml");
    CHECK(find_code(b.diagnostics, "include-path-not-file") != nullptr);
}

TEST_CASE("an include path through a symlinked directory that leads outside is outside", "[meltano]") {
    ProjectDir dir;
    dir.write("project/meltano.yml", "include_paths: [./envs/env.yml]\n");
    dir.write("elsewhere/env.yml", "environments: [{name: stolen}]\n");
    std::filesystem::create_symlink("../elsewhere", std::filesystem::path(dir.path()) / "project/envs");
    LoadResult r = dir.load("project");
    REQUIRE(r.project);
    const Diagnostic* outside = find_code(r.diagnostics, "include-path-outside");
    REQUIRE(outside != nullptr);
    CHECK(outside->line == 1);
    CHECK(outside->column == 17);
    CHECK(find_code(r.diagnostics, "include-path-missing") == nullptr);
    CHECK(r.project->environments.empty());
}

TEST_CASE("lock files that are not files or have the wrong shape are invalid", "[meltano]") {
    ProjectDir dir;
    dir.write("meltano.yml", "plugins:\n  extractors:\n  - name: tap-x\n    variant: v\n");
    const std::string lock = "plugins/extractors/tap-x--v.lock";
    SECTION("a directory") {
        dir.write(lock + "/x", "{}");
        const LoadResult r = dir.load();
        const Diagnostic* d = find_code(r.diagnostics, "lock-file-invalid");
        REQUIRE(d != nullptr);
        CHECK(d->message == "lock file '" + lock + "' is not a file");
    }
    SECTION("settings that is not a list") {
        dir.write(lock, R"({"name": "tap-x", "settings": {"a": 1}})");
        const LoadResult r = dir.load();
        const Diagnostic* d = find_code(r.diagnostics, "lock-file-invalid");
        REQUIRE(d != nullptr);
        CHECK(d->message == "lock file '" + lock + "' has 'settings' that is not a list");
    }
    SECTION("a name that is not a string") {
        dir.write(lock, R"({"name": 5, "settings": []})");
        const LoadResult r = dir.load();
        const Diagnostic* d = find_code(r.diagnostics, "lock-file-invalid");
        REQUIRE(d != nullptr);
        CHECK(d->message == "lock file '" + lock + "' has 'name' that is not a string");
    }
}

TEST_CASE("a variable name is matched against a setting name as to_env_var converts it",
          "[meltano]") {
    using dataops::meltano::is_env_var_of;
    using dataops::meltano::to_env_var;
    const std::vector<std::string> names{"client_id", "nested.key", "Dash-Case", "a1_b2",
                                         "caf\xc3\xa9", "\xe2\x82\xac" "rate", "", "_load_schema"};
    for (const auto& name : names) {
        INFO("name " << name);
        const std::string converted = to_env_var("", name);
        CHECK(is_env_var_of(converted, name));
        CHECK_FALSE(is_env_var_of(converted + "_", name));
        if (!converted.empty()) {
            CHECK_FALSE(is_env_var_of(converted.substr(1), name));
            CHECK_FALSE(is_env_var_of(converted.substr(0, converted.size() - 1), name));
        }
    }
    CHECK(to_env_var("", "caf\xc3\xa9") == "CAF_");
    CHECK(is_env_var_of("CAF_", "caf\xc3\xa9"));
    CHECK_FALSE(is_env_var_of("CAF__", "caf\xc3\xa9"));
    CHECK_FALSE(is_env_var_of("client_id", "client_id"));
}
