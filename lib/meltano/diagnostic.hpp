#pragma once
/// Findings about a Meltano project are data, not exceptions: one bad environment must not hide
/// the next problem. Loading, resolving and validating all report through this type.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace dataops::meltano {

enum class Severity { error, warning };

struct Diagnostic {
    std::string code;      ///< stable kebab-case identifier, documented in docs/diagnostics.md
    Severity severity = Severity::error;
    std::string message;   ///< git grammar: lower-case, subjects in single quotes, no full stop
    std::string file;      ///< repository-relative path ("meltano.yml", "plugins/x.lock"); may be empty
    std::uint32_t line = 0;    ///< 1-based; 0 when unknown
    std::uint32_t column = 0;  ///< 1-based; 0 when unknown
    std::optional<std::string> environment;
    std::optional<std::string> plugin;
    std::string hint;      ///< how to fix it; may be empty
};

using Diagnostics = std::vector<Diagnostic>;

inline bool has_errors(const Diagnostics& diagnostics) {
    for (const auto& d : diagnostics) {
        if (d.severity == Severity::error) {
            return true;
        }
    }
    return false;
}

}  // namespace dataops::meltano
