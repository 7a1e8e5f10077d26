#pragma once
/// Private: scalar typing as ruamel.yaml's round-trip loader does it.
///
/// Resolution (which tag a plain scalar gets) follows ruamel's `resolver.py`
/// (`implicit_resolvers`, `VersionedResolver.resolve`): candidates are picked by the first
/// character and tried in the table's order (bool, float, int, merge, null, timestamp, value).
/// Construction (what value a tag gives) follows `RoundTripConstructor` in `constructor.py` and
/// `create_timestamp` in `util.py`. The regular expressions are matched by hand: they are all
/// deterministic, and this runs once per scalar on the hot path.

#include <cstdint>
#include <optional>
#include <dataops/yaml/document.hpp>
#include <string>
#include <string_view>

namespace dataops::yaml::detail {

enum class Version : std::uint8_t { v1_1, v1_2 };

/// The tag ruamel's implicit resolvers give a plain scalar.
enum class Resolved : std::uint8_t {
    null,
    boolean,
    integer,
    floating,
    timestamp,
    merge,
    value,
    string
};

/// ruamel's VersionedResolver.resolve for a scalar whose tag is implicit (plain, untagged, or `!`).
Resolved resolve_implicit(std::string_view text, Version version);

/// A constructed scalar: the kind, the payload stored in NodeData and NodeFlag bits.
struct Constructed {
    Kind kind = Kind::string;
    std::uint64_t payload = 0;
    std::uint8_t flags = 0;
};

/// The value ruamel's constructor builds for a scalar with the given standard tag, or an empty
/// problem string when it builds one; otherwise `problem` says why it cannot (ruamel raises).
struct ConstructResult {
    Constructed value;
    std::string problem;  ///< empty on success
};

ConstructResult construct_null();
ConstructResult construct_bool(std::string_view text);
ConstructResult construct_int(std::string_view text, Version version);
ConstructResult construct_float(std::string_view text, Version version);
ConstructResult construct_timestamp(std::string_view text);

/// Python's isoformat() of what Meltano sees for a date or timestamp node.
std::string iso_string(Kind kind, std::uint64_t payload, bool drop_fraction);

/// An integer beyond int64's range that fits in uint64 (2^63 to 2^64 - 1), else nullopt.
std::optional<std::uint64_t> big_int_to_uint64(std::string_view text, Version version);

/// An integer's value as a double (also for integers beyond 64 bits), as Python's float(int).
double big_int_to_double(std::string_view text, Version version);

}  // namespace dataops::yaml::detail
