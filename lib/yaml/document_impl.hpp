#pragma once
/// Private: the arena behind dataops::yaml::Document. Only lib/yaml/*.cpp include this.

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <dataops/util/interned.hpp>
#include <dataops/yaml/document.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "scalar.hpp"

namespace dataops::yaml {

namespace detail {

/// Bits of NodeData::flags.
enum NodeFlag : std::uint8_t {
    flag_open = 1U << 0,           ///< collection still being built (an alias to it is recursive)
    flag_merge_key = 1U << 1,      ///< scalar resolved to tag:yaml.org,2002:merge (`<<`)
    flag_drop_fraction = 1U << 2,  ///< timestamp whose isoformat() Meltano sees without fraction
    flag_big_int = 1U << 3,        ///< integer that does not fit in int64 (payload unused)
    flag_identity_key = 1U << 4,   ///< as a mapping key, equal only to itself (unknown tags)
    flag_binary = 1U << 5,         ///< !!binary scalar (compares as bytes, not as str)
};

/// One node of the arena. 32 bytes; scalars and collections share the two index fields.
struct NodeData {
    std::uint32_t first = 0;  ///< scalar: offset into Impl::text; collection: into Impl::children
    std::uint32_t count = 0;  ///< scalar: text length; collection: child slots (2 per entry)
    std::uint32_t line = 0;
    std::uint32_t column = 0;
    Kind kind = Kind::null;
    ScalarStyle style = ScalarStyle::none;
    std::uint8_t flags = 0;
    std::uint8_t reserved = 0;

    bool has(NodeFlag flag) const { return (flags & flag) != 0; }
};

inline std::uint64_t double_bits(double value) {
    std::uint64_t bits = 0;
    std::memcpy(&bits, &value, sizeof bits);
    return bits;
}

inline double bits_double(std::uint64_t bits) {
    double value = 0;
    std::memcpy(&value, &bits, sizeof value);
    return value;
}

}  // namespace detail

struct Document::Impl {
    util::Interned file;
    /// Every scalar's text, back to back; nodes refer to it by offset so that a document costs
    /// a handful of allocations, not one per scalar.
    std::string text;
    std::vector<detail::NodeData> nodes;
    /// Children of every collection, each collection's contiguous. Mappings store key, value,
    /// key, value, ... in their merged view.
    std::vector<std::uint32_t> children;
    /// The value of every typed scalar whose value is not 0, by node id in increasing order:
    /// int64 (integer, boolean 0/1), double bits (floating), days since 0001-01-01 (date) or
    /// microseconds since 0001-01-01T00:00:00 (timestamp). Beside the nodes rather than in each,
    /// since most scalars are strings: a node is 20 bytes instead of 32.
    std::vector<std::pair<std::uint32_t, std::uint64_t>> payloads;
    std::uint32_t root = 0;
    bool empty = true;
    /// `%YAML 1.1` switches ruamel to its 1.1 resolvers; the default is 1.2.
    detail::Version version = detail::Version::v1_2;

    const detail::NodeData& node(std::uint32_t id) const { return nodes[id]; }

    std::uint64_t payload(std::uint32_t id) const {
        const auto it = std::lower_bound(
            payloads.begin(), payloads.end(), id,
            [](const std::pair<std::uint32_t, std::uint64_t>& p, std::uint32_t v) { return p.first < v; });
        return it != payloads.end() && it->first == id ? it->second : 0;
    }
    /// The scalar's text as written (also for null scalars such as `~`); empty for collections.
    std::string_view raw_text(const detail::NodeData& n) const {
        if (n.kind == Kind::sequence || n.kind == Kind::mapping || n.count == 0) {
            return {};
        }
        return std::string_view(text.data() + n.first, n.count);
    }
};

}  // namespace dataops::yaml
