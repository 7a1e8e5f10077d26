#pragma once
/// Diagnostics in the formats `validate` and the hooks print: compiler-style text, JSON, and
/// GitHub workflow annotations.

#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include <dataops/meltano/diagnostic.hpp>

namespace dataops::report {

nlohmann::ordered_json diagnostic_json(const meltano::Diagnostic& diagnostic);
/// `::error file=meltano.yml,line=23,col=11,title=unknown-plugin::message (hint)`.
std::string github_annotation(const meltano::Diagnostic& diagnostic);
/// "1 error, 2 warnings" / "no problems".
std::string summary(const meltano::Diagnostics& diagnostics);

}  // namespace dataops::report
