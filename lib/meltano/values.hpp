#pragma once
/// Value helpers that reproduce what Meltano (Python) does with configuration values: YAML to
/// JSON as ruamel types them, `to_env_var`, `$VAR` expansion, Python's `str()` and `json.dumps()`
/// renderings. Every walk over a value is iterative: a value nested 200,000 levels deep must not
/// overflow the stack.

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include <dataops/yaml/document.hpp>

namespace dataops::meltano {

/// The JSON value Meltano would see for a YAML node: dates and timestamps become their ISO
/// strings, mapping keys their text. Never throws.
nlohmann::ordered_json yaml_to_json(const yaml::NodeRef& node);

/// Meltano's `to_env_var(*parts)`: every character outside [A-Za-z0-9] becomes `_`, upper-cased,
/// non-empty parts joined with `_`.
std::string to_env_var(std::string_view prefix, std::string_view name);

/// Whether to_env_var("", name) == converted, without building it (asked for every setting of
/// a plugin when an extra's `$MELTANO_EXTRACTOR_NAMESPACE` is expanded).
bool is_env_var_of(std::string_view converted, std::string_view name);

/// Python's `str(value)` for a value from YAML (True/False/None, repr of containers).
std::string python_str(const nlohmann::ordered_json& value);

/// Python's `json.dumps(value)` with its default separators (", ", ": ") and ASCII escaping.
std::string python_json_dumps(const nlohmann::ordered_json& value);

/// Deep equality, iteratively (nlohmann's operator== recurses). Integers and floats compare by
/// value as in Python (1 == 1.0).
bool json_equal(const nlohmann::ordered_json& a, const nlohmann::ordered_json& b);

/// A deep copy, iteratively (nlohmann's copy constructor recurses).
nlohmann::ordered_json json_copy(const nlohmann::ordered_json& value);

/// Python truthiness (`bool(value)`): null, false, 0, "", [] and {} are false.
bool json_truthy(const nlohmann::ordered_json& value);

/// The outcome of looking up one variable during expansion.
struct VariableLookup {
    enum class Status { found, missing, keep };  ///< keep: leave the reference as written
    Status status = Status::missing;
    std::string value;
};

using VariableResolver = std::function<VariableLookup(std::string_view name)>;

/// Expand `$VAR` and `${VAR}` in one string exactly as Meltano's ENV_VAR_PATTERN:
/// `(\\)?\$(?:{(\w+)}|([A-Z][A-Z0-9_]*))`. An escaped reference loses its backslash and is kept;
/// substituted text is not expanded again. `missing` collects the names that resolved to
/// Status::missing (they expand to "").
std::string expand_string(std::string_view text, const VariableResolver& resolve,
                          std::vector<std::string>* missing);

/// True when `text` contains something expand_string would replace.
bool has_reference(std::string_view text);

/// `value` with every string inside it expanded (dict values and list items, never keys),
/// iteratively; nullopt when that changes nothing. A string is expanded from itself, with no
/// copy of the value unless it changes.
std::optional<nlohmann::ordered_json> expand_json(const nlohmann::ordered_json& value,
                                                  const VariableResolver& resolve,
                                                  std::vector<std::string>* missing);

/// `text` with every byte that is not part of a well-formed UTF-8 sequence replaced by U+FFFD: a
/// file name may hold any bytes, and every output (JSON above all) needs UTF-8.
std::string valid_utf8(std::string_view text);

/// Arrays and objects nested deeper than this are refused wherever JSON is read (values from
/// variables, lock files): Python's json module fails with a RecursionError long before, and
/// values stay shallow enough for everything that walks them recursively (as the YAML layer's
/// own limit keeps meltano.yml's values).
inline constexpr int max_json_depth = 1000;

/// `json.loads` with the depth limit: the value, or nullopt with `error` (nlohmann's message, or
/// "nested too deeply") and the byte offset where it went wrong.
std::optional<nlohmann::ordered_json> parse_json_bounded(std::string_view text, std::string& error,
                                                         std::size_t& offset);

/// Python's `json.loads`, then `ast.literal_eval` for Python literals (single quotes, True,
/// False, None, tuples). Returns nullopt when neither parses (or the value nests too deeply).
std::optional<nlohmann::ordered_json> parse_json_or_literal(std::string_view text);

}  // namespace dataops::meltano
