#include <catch2/catch.hpp>

#include <sstream>
#include <string>

#include <dataops/meltano/project.hpp>
#include <dataops/meltano/resolve.hpp>
#include <dataops/report/env_report.hpp>

#include "support/project_dir.hpp"

using namespace dataops;

namespace {

/// write_show_json streams what show_json builds: the two must agree byte for byte.
std::string streamed(const report::ShowInput& input) {
    std::ostringstream out;
    report::write_show_json(out, input);
    return out.str();
}

}  // namespace

TEST_CASE("env show's streamed JSON is the built document, byte for byte", "[report]") {
    testing::ProjectDir dir;
    dir.write("meltano.yml", R"(version: 1
default_environment: dev
env:
  TAP_ODD_FLAG: "true"
plugins:
  extractors:
  - name: tap-a
    config:
      token: $UNDEFINED_TOKEN
      nested: {b: "line one\nline two", c: [1, 2]}
    settings:
    - name: token
      kind: password
    - name: nested
      kind: object
  - name: tap-b
    inherit_from: tap-a
  - name: tap-odd
    config:
      quoted: "say \"hi\" \\ back\tslash \x01 \x1b \x7f \u00e9 \U0001F600 \r\b\f"
      ratio: 1.5
      tiny: 1.0e-7
      negative: -3
      huge: 18446744073709551615
      flag: false
      empty_object: {}
      empty_list: []
      deep: {a: {b: [1, {c: "d\"e"}]}}
  mappers:
  - name: mapper-x
    mappings:
    - name: map-one
      config: {stream_maps: {users: {id: id}}}
  loaders:
  - name: target-c
    config: {port: not-a-number}
    settings:
    - name: port
      kind: integer
environments:
- name: dev
  config:
    plugins:
      extractors:
      - name: tap-b
        config: {token: literal-secret}
- name: prod
)");
    const meltano::LoadResult load = dir.load_result();
    REQUIRE(load.project);
    for (const char* environment : {"dev", "prod", "nowhere"}) {
        meltano::ResolveOptions options;
        options.environment = environment;
        const meltano::Resolution resolution = meltano::resolve(load.project, options);
        for (const bool reveal : {false, true}) {
            report::ShowInput input;
            input.resolution = &resolution;
            input.reveal = reveal;
            INFO("environment " << environment << ", reveal " << reveal);
            CHECK(streamed(input) == report::show_json(input).dump(2) + "\n");
            if (resolution.diagnostics.empty()) {  // an unknown environment resolves no plugin
                CHECK(streamed(input).find("\"env_var_used\": \"TAP_ODD_FLAG\"") !=
                      std::string::npos);
            }
            input.revision = "abc123";
            input.plugins = {"tap-b", "mapper-x"};
            CHECK(streamed(input) == report::show_json(input).dump(2) + "\n");
            input.plugins = {"no-such-plugin"};
            CHECK(streamed(input) == report::show_json(input).dump(2) + "\n");
        }
    }
}
