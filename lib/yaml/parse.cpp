// Builds a Document from libyaml's events with explicit stacks (never recursion), resolving and
// constructing scalars as ruamel.yaml's round-trip loader does (see scalar.hpp).

#include <yaml.h>

#include <algorithm>
#include <array>
#include <bit>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <dataops/yaml/document.hpp>
#include <functional>
#include <limits>
#include <new>
#include <optional>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "document_impl.hpp"
#include "scalar.hpp"
#include "tab_check.hpp"

namespace dataops::yaml {

namespace {

using detail::NodeData;

/// libyaml's scanner checks every open flow level on every token, so deep flow nesting is
/// quadratic; ruamel's recursive composer fails long before this depth.
constexpr std::size_t max_flow_depth = 1000;
/// Collections nested deeper than this, block or flow, directly or through aliases, are refused:
/// ruamel's composer recurses per level (two Python frames each, against Python's limit of
/// 1,000), so Meltano fails with a RecursionError long before; and every consumer of the tree
/// (the resolver, JSON values, the printers) may then recurse safely.
constexpr std::size_t max_depth = 1000;
constexpr std::uint64_t min_expanded_bound = 1'000'000;
constexpr std::uint64_t expanded_bound_per_byte = 16;
constexpr std::uint32_t max_index = std::numeric_limits<std::uint32_t>::max() - 1;
constexpr std::string_view yaml_tag_prefix = "tag:yaml.org,2002:";

std::uint32_t clamp32(std::size_t value) {
    return value > max_index ? max_index : static_cast<std::uint32_t>(value);
}

Mark to_mark(const yaml_mark_t& mark) {
    return Mark{clamp32(mark.line + 1), clamp32(mark.column + 1)};
}

bool before(Mark a, Mark b) {
    return a.line != b.line ? a.line < b.line : a.column < b.column;
}

bool is_collection(Kind kind) {
    return kind == Kind::sequence || kind == Kind::mapping;
}

std::uint64_t saturating_add(std::uint64_t a, std::uint64_t b) {
    return a > std::numeric_limits<std::uint64_t>::max() - b
               ? std::numeric_limits<std::uint64_t>::max()
               : a + b;
}

std::string_view as_view(const yaml_char_t* text) {
    return text == nullptr ? std::string_view()
                           : std::string_view(reinterpret_cast<const char*>(text));
}

/// `!!int` for the standard tags, the tag itself otherwise.
std::string display_tag(std::string_view tag) {
    if (tag.substr(0, yaml_tag_prefix.size()) == yaml_tag_prefix) {
        return "!!" + std::string(tag.substr(yaml_tag_prefix.size()));
    }
    return std::string(tag);
}

const char* kind_name(Kind kind) {
    switch (kind) {
        case Kind::sequence:
            return "sequence";
        case Kind::mapping:
            return "mapping";
        default:
            return "scalar";
    }
}

std::string lower_first(std::string text) {
    if (!text.empty() && text[0] >= 'A' && text[0] <= 'Z') {
        text[0] = static_cast<char>(text[0] - 'A' + 'a');
    }
    return text;
}

std::string at_line(Mark mark) {
    return "line " + std::to_string(mark.line);
}

std::string at_position(Mark mark) {
    return "line " + std::to_string(mark.line) + ", column " + std::to_string(mark.column);
}

bool is_utf16(std::string_view input) {
    return input.substr(0, 2) == "\xFE\xFF" || input.substr(0, 2) == "\xFF\xFE";
}

class Parser {
  public:
    explicit Parser(std::string_view input) {
        if (yaml_parser_initialize(&parser_) == 0) {
            throw std::bad_alloc();
        }
        // libyaml asserts on a null pointer, which an empty string_view may hold.
        static const char empty[] = "";
        const char* data = input.data() != nullptr ? input.data() : empty;
        yaml_parser_set_input_string(&parser_, reinterpret_cast<const unsigned char*>(data),
                                     input.size());
    }
    ~Parser() { yaml_parser_delete(&parser_); }
    Parser(const Parser&) = delete;
    Parser& operator=(const Parser&) = delete;

    yaml_parser_t* get() { return &parser_; }

  private:
    yaml_parser_t parser_{};
};

class Event {
  public:
    Event() = default;
    ~Event() { reset(); }
    Event(const Event&) = delete;
    Event& operator=(const Event&) = delete;

    /// Parses the next event; false on a libyaml error.
    bool parse(yaml_parser_t* parser) {
        reset();
        live_ = yaml_parser_parse(parser, &event_) != 0;
        return live_;
    }
    void reset() {
        if (live_) {
            yaml_event_delete(&event_);
            live_ = false;
        }
    }
    const yaml_event_t& get() const { return event_; }

  private:
    yaml_event_t event_{};
    bool live_ = false;
};

/// A mapping key as Python compares the constructed values (see parse() in document.hpp).
enum class KeyCategory : std::uint8_t {
    null,
    number,
    real,
    nan,
    big,
    str,
    binary,
    date,
    time,
    identity
};

struct KeyId {
    KeyCategory category = KeyCategory::null;
    std::uint64_t bits = 0;
    std::string_view text;

    bool operator==(const KeyId& other) const {
        return category == other.category && bits == other.bits && text == other.text;
    }
};

std::size_t hash_key(const KeyId& key) {
    std::size_t h = std::hash<std::string_view>()(key.text);
    h ^= std::hash<std::uint64_t>()(key.bits) + 0x9e3779b97f4a7c15ULL + (h << 6) + (h >> 2);
    return h ^ static_cast<std::size_t>(key.category);
}

/// Keys of one mapping: linear search while small (most mappings), open addressing beyond.
/// Reused across mappings so that closing a mapping allocates nothing.
class KeySet {
  public:
    void clear() {
        keys_.clear();
        values_.clear();
        hashed_ = false;
    }

    /// The value stored with an equal key; nullptr after inserting this one with `value`.
    const std::uint32_t* find_or_insert(const KeyId& key, std::uint32_t value) {
        if (!hashed_) {
            for (std::size_t i = 0; i < keys_.size(); ++i) {
                if (keys_[i] == key) {
                    return &values_[i];
                }
            }
            keys_.push_back(key);
            values_.push_back(value);
            if (keys_.size() > linear_limit) {
                rehash();
            }
            return nullptr;
        }
        std::size_t slot = hash_key(key) & mask_;
        while (table_[slot] != 0) {
            const std::uint32_t index = table_[slot] - 1;
            if (keys_[index] == key) {
                return &values_[index];
            }
            slot = (slot + 1) & mask_;
        }
        keys_.push_back(key);
        values_.push_back(value);
        table_[slot] = static_cast<std::uint32_t>(keys_.size());
        if (keys_.size() * 2 > mask_ + 1) {
            rehash();
        }
        return nullptr;
    }

  private:
    static constexpr std::size_t linear_limit = 8;

    void rehash() {
        std::size_t size = 32;
        while (size < keys_.size() * 4) {
            size *= 2;
        }
        table_.assign(size, 0);
        mask_ = size - 1;
        for (std::size_t i = 0; i < keys_.size(); ++i) {
            std::size_t slot = hash_key(keys_[i]) & mask_;
            while (table_[slot] != 0) {
                slot = (slot + 1) & mask_;
            }
            table_[slot] = static_cast<std::uint32_t>(i + 1);
        }
        hashed_ = true;
    }

    std::vector<KeyId> keys_;
    std::vector<std::uint32_t> values_;
    std::vector<std::uint32_t> table_;
    std::size_t mask_ = 0;
    bool hashed_ = false;
};

class Builder {
  public:
    Builder(std::string_view input, Document::Impl& impl, std::uint64_t limit)
        : input_(input),
          bom_(input.substr(0, 3) == "\xEF\xBB\xBF" ? 3 : 0),
          impl_(impl),
          limit_(limit),
          // Tabs are found by byte; libyaml also reads UTF-16 (which Meltano cannot open).
          tabs_(is_utf16(input) ? std::string_view() : input, bom_) {}

    void run() {
        if (input_.size() >= max_index) {
            throw error(Mark{1, 1}, "file is too large to parse");
        }
        impl_.nodes.clear();
        impl_.payloads.clear();
        // Rough guesses that save most reallocations on typical files.
        impl_.nodes.reserve(input_.size() / 12 + 16);
        impl_.children.reserve(input_.size() / 12 + 16);
        impl_.text.reserve(input_.size() / 2 + 16);
        expanded_.reserve(input_.size() / 12 + 16);

        Parser parser(input_);
        Event event;
        while (true) {
            if (!event.parse(parser.get())) {
                // ruamel would have stopped at a tab before the spot libyaml chokes on.
                throw_if_tab_before(seen_until_);
                throw libyaml_error(*parser.get());
            }
            const yaml_event_t& e = event.get();
            seen_until_ = e.end_mark.index;
            switch (e.type) {
                case YAML_DOCUMENT_START_EVENT:
                    on_document_start(e);
                    break;
                case YAML_SCALAR_EVENT:
                    on_scalar(e);
                    break;
                case YAML_ALIAS_EVENT:
                    on_alias(e);
                    break;
                case YAML_SEQUENCE_START_EVENT:
                    on_collection_start(e, Kind::sequence);
                    break;
                case YAML_MAPPING_START_EVENT:
                    on_collection_start(e, Kind::mapping);
                    break;
                case YAML_SEQUENCE_END_EVENT:
                case YAML_MAPPING_END_EVENT:
                    on_collection_end(e);
                    break;
                case YAML_STREAM_END_EVENT:
                    throw_if_tab_before(std::numeric_limits<std::size_t>::max());
                    finish();
                    return;
                default:
                    break;
            }
        }
    }

  private:
    struct Child {
        std::uint32_t id;
        Mark mark;  ///< where this occurrence is (an alias's own position, not its anchor's)
    };
    struct Open {
        std::uint32_t id;
        std::uint32_t pending_start;
        bool flow;
        /// Expanded size of the children so far plus one: checked as it grows, so that an
        /// alias bomb stops at the alias that crosses the bound, before the work is done.
        std::uint64_t expanded;
        /// Levels of collections below it so far, aliases expanded (see max_depth).
        std::uint32_t height;
    };

    ParseError error(Mark mark, std::string problem, std::vector<std::string> hints = {}) const {
        return ParseError(impl_.file, mark, problem, std::move(hints));
    }

    /// Keeps the earliest constructor-level problem; it is thrown once the whole stream parsed.
    void defer(Mark mark, std::string problem, std::vector<std::string> hints = {}) {
        if (!deferred_ || before(mark, deferred_->mark())) {
            deferred_.emplace(impl_.file, mark, problem, std::move(hints));
        }
    }

    /// Line and column of a byte offset (libyaml's reader errors give offsets only).
    Mark mark_at_offset(std::size_t offset) const {
        Mark mark{1, 1};
        const std::size_t end = offset < input_.size() ? offset : input_.size();
        for (std::size_t i = bom_; i < end; ++i) {
            const auto c = static_cast<unsigned char>(input_[i]);
            if (c == '\n' || (c == '\r' && (i + 1 >= input_.size() || input_[i + 1] != '\n'))) {
                ++mark.line;
                mark.column = 1;
            } else if ((c & 0xC0U) != 0x80U && c != '\r') {
                ++mark.column;
            }
        }
        return mark;
    }

    /// The byte at a 1-based line and character column, or 0.
    char char_at(Mark mark) const {
        std::uint32_t line = 1;
        std::size_t i = bom_;
        while (line < mark.line && i < input_.size()) {
            if (input_[i] == '\n') {
                ++line;
            }
            ++i;
        }
        std::uint32_t column = 1;
        while (i < input_.size() && column < mark.column) {
            ++i;
            while (i < input_.size() && (static_cast<unsigned char>(input_[i]) & 0xC0U) == 0x80U) {
                ++i;
            }
            ++column;
        }
        return i < input_.size() ? input_[i] : '\0';
    }

    ParseError libyaml_error(const yaml_parser_t& parser) const {
        std::string problem =
            parser.problem != nullptr ? lower_first(parser.problem) : "invalid YAML";
        switch (parser.error) {
            case YAML_MEMORY_ERROR:
                throw std::bad_alloc();
            case YAML_READER_ERROR: {
                if (parser.problem_value >= 0) {
                    std::array<char, 32> value{};
                    const bool octet = problem.find("octet") != std::string::npos;
                    std::snprintf(value.data(), value.size(), octet ? " (#x%02X)" : " (#x%04X)",
                                  static_cast<unsigned>(parser.problem_value));
                    problem += value.data();
                }
                return error(mark_at_offset(parser.problem_offset), problem,
                             {"the file must be text: UTF-8 without control characters"});
            }
            default:
                break;
        }
        const Mark mark = to_mark(parser.problem_mark);
        std::vector<std::string> hints;
        if (parser.context != nullptr) {
            hints.push_back(lower_first(parser.context) + " at " +
                            at_position(to_mark(parser.context_mark)));
        }
        if (char_at(mark) == '\t' || problem.find("tab") != std::string::npos) {
            hints.emplace_back("YAML does not allow tabs for indentation; use spaces");
        }
        return error(mark, problem, std::move(hints));
    }

    /// Throws when ruamel would have stopped at a tab before character index `limit` (see
    /// tab_check.hpp), before an error found later in the file.
    void throw_if_tab_before(std::size_t limit) const {
        if (!tabs_.active()) {
            return;
        }
        if (const auto offset = tabs_.first_rejected(limit)) {
            throw error(mark_at_offset(*offset),
                        "found a tab character that ruamel.yaml does not accept here",
                        {"Meltano's YAML loader takes tabs only inside quoted or block scalars "
                         "and comments; use spaces"});
        }
    }

    void on_document_start(const yaml_event_t& e) {
        if (seen_document_) {
            throw_if_tab_before(e.start_mark.index);
            throw error(
                to_mark(e.start_mark), "found another document in the stream",
                {"ruamel.yaml, and so Meltano, loads a single document per file; the first one "
                 "starts at " +
                 at_line(first_document_)});
        }
        seen_document_ = true;
        first_document_ = to_mark(e.start_mark);
        const yaml_version_directive_t* version = e.data.document_start.version_directive;
        if (version != nullptr && version->major == 1 && version->minor == 1) {
            impl_.version = detail::Version::v1_1;
        }
    }

    std::uint32_t add_node(const NodeData& node, const yaml_char_t* anchor) {
        if (impl_.nodes.size() >= max_index) {
            throw error(Mark{node.line, node.column}, "document has too many nodes");
        }
        const auto id = static_cast<std::uint32_t>(impl_.nodes.size());
        impl_.nodes.push_back(node);
        expanded_.push_back(1);
        height_.push_back(0);
        if (anchor != nullptr) {
            // A repeated anchor replaces the earlier one for later aliases, as in ruamel.
            anchors_[std::string(as_view(anchor))] = id;
        }
        return id;
    }

    void add_child(std::uint32_t id, Mark mark) { pending_.push_back(Child{id, mark}); }

    /// Adds a finished child's expanded size and height to the innermost open collection.
    void account(std::uint64_t expanded, std::uint32_t height, Mark mark) {
        if (open_.empty()) {
            return;
        }
        Open& parent = open_.back();
        parent.height = std::max(parent.height, height);
        parent.expanded = saturating_add(parent.expanded, expanded);
        if (parent.expanded > limit_) {
            throw error(mark, "document expands to too many nodes through aliases",
                        {"with every alias expanded it would have more than " +
                         std::to_string(limit_) + " nodes; is this an alias bomb?"});
        }
    }

    void on_scalar(const yaml_event_t& e) {
        const auto& s = e.data.scalar;
        const Mark mark = to_mark(e.start_mark);
        if (tabs_.active()) {
            tabs_.on_scalar(e.start_mark.index, e.end_mark.index,
                            s.style == YAML_PLAIN_SCALAR_STYLE);
        }
        NodeData node;
        node.line = mark.line;
        node.column = mark.column;
        switch (s.style) {
            case YAML_SINGLE_QUOTED_SCALAR_STYLE:
                node.style = ScalarStyle::single_quoted;
                break;
            case YAML_DOUBLE_QUOTED_SCALAR_STYLE:
                node.style = ScalarStyle::double_quoted;
                break;
            case YAML_LITERAL_SCALAR_STYLE:
                node.style = ScalarStyle::literal;
                break;
            case YAML_FOLDED_SCALAR_STYLE:
                node.style = ScalarStyle::folded;
                break;
            default:
                node.style = ScalarStyle::plain;
                break;
        }
        if (impl_.text.size() + s.length >= max_index) {
            throw error(mark, "document has too much text");
        }
        node.first = static_cast<std::uint32_t>(impl_.text.size());
        node.count = static_cast<std::uint32_t>(s.length);
        impl_.text.append(reinterpret_cast<const char*>(s.value), s.length);
        const std::string_view text(impl_.text.data() + node.first, node.count);
        payload_ = 0;
        type_scalar(node, as_view(s.tag), s.style == YAML_PLAIN_SCALAR_STYLE, text, mark);
        const std::uint32_t id = add_node(node, s.anchor);
        if (payload_ != 0) {
            impl_.payloads.emplace_back(id, payload_);
        }
        add_child(id, mark);
        account(1, 0, mark);
    }

    void apply(NodeData& node, const detail::ConstructResult& result, Mark mark,
               const std::string& hint) {
        if (!result.problem.empty()) {
            defer(mark, result.problem,
                  hint.empty() ? std::vector<std::string>{} : std::vector<std::string>{hint});
            return;
        }
        node.kind = result.value.kind;
        payload_ = result.value.payload;
        node.flags |= result.value.flags;
    }

    void type_scalar(NodeData& node, std::string_view tag, bool plain, std::string_view text,
                     Mark mark) {
        using detail::Resolved;
        const detail::Version version = impl_.version;
        node.kind = Kind::string;
        // ruamel resolves untagged plain scalars and `!`-tagged scalars of any style (its parser
        // marks both implicit); everything else untagged is a string.
        if ((tag.empty() && plain) || tag == "!") {
            const char* what = nullptr;
            detail::ConstructResult result;
            switch (detail::resolve_implicit(text, version)) {
                case Resolved::null:
                    node.kind = Kind::null;
                    return;
                case Resolved::boolean:
                    node.kind = Kind::boolean;
                    payload_ = detail::construct_bool(text).value.payload;
                    return;
                case Resolved::integer:
                    result = detail::construct_int(text, version);
                    what = "an integer";
                    break;
                case Resolved::floating:
                    result = detail::construct_float(text, version);
                    what = "a float";
                    break;
                case Resolved::timestamp:
                    result = detail::construct_timestamp(text);
                    what = "a timestamp";
                    break;
                case Resolved::merge:
                    // A `<<` value is a TaggedScalar in ruamel: a string that equals only itself.
                    node.flags |= detail::flag_merge_key | detail::flag_identity_key;
                    return;
                case Resolved::value:
                case Resolved::string:
                    return;
            }
            apply(node, result, mark,
                  std::string("ruamel.yaml reads this plain scalar as ") + what +
                      "; quote it to make it a string");
            return;
        }
        if (tag.empty()) {
            return;
        }
        if (tag.substr(0, yaml_tag_prefix.size()) != yaml_tag_prefix) {
            // Unknown local tag: ruamel keeps a TaggedScalar, a string equal only to itself.
            node.flags |= detail::flag_identity_key;
            return;
        }
        const std::string_view suffix = tag.substr(yaml_tag_prefix.size());
        const std::string hint = "the value does not fit its tag '" + display_tag(tag) + "'";
        if (suffix == "str") {
            // RoundTripConstructor.construct_yaml_str turns a `!!str` scalar into a TaggedScalar.
            node.flags |= detail::flag_identity_key;
        } else if (suffix == "null") {
            node.kind = Kind::null;
        } else if (suffix == "bool") {
            apply(node, detail::construct_bool(text), mark, hint);
        } else if (suffix == "int") {
            apply(node, detail::construct_int(text, version), mark, hint);
        } else if (suffix == "float") {
            apply(node, detail::construct_float(text, version), mark, hint);
        } else if (suffix == "timestamp") {
            apply(node, detail::construct_timestamp(text), mark, hint);
        } else if (suffix == "merge") {
            node.flags |= detail::flag_merge_key | detail::flag_identity_key;
        } else if (suffix == "binary") {
            node.flags |= detail::flag_binary;
        } else if (suffix == "seq" || suffix == "omap" || suffix == "pairs") {
            defer(mark, "tag '" + display_tag(tag) + "' needs a sequence, not a scalar");
        } else if (suffix == "map" || suffix == "set") {
            defer(mark, "tag '" + display_tag(tag) + "' needs a mapping, not a scalar");
        } else if (suffix != "value") {
            node.flags |= detail::flag_identity_key;
        }
    }

    void check_collection_tag(std::string_view tag, Kind kind, Mark mark) {
        if (tag.empty() || tag.substr(0, yaml_tag_prefix.size()) != yaml_tag_prefix) {
            return;
        }
        const std::string_view suffix = tag.substr(yaml_tag_prefix.size());
        const bool wants_sequence = suffix == "seq" || suffix == "omap" || suffix == "pairs";
        const bool wants_mapping = suffix == "map" || suffix == "set";
        const bool wants_scalar = suffix == "null" || suffix == "bool" || suffix == "int" ||
                                  suffix == "float" || suffix == "timestamp" || suffix == "binary";
        const char* wanted = nullptr;
        if (wants_sequence && kind != Kind::sequence) {
            wanted = "a sequence";
        } else if (wants_mapping && kind != Kind::mapping) {
            wanted = "a mapping";
        } else if (wants_scalar) {
            wanted = "a scalar";
        }
        if (wanted != nullptr) {
            defer(mark,
                  "tag '" + display_tag(tag) + "' needs " + wanted + ", not a " + kind_name(kind));
        }
    }

    void on_alias(const yaml_event_t& e) {
        const Mark mark = to_mark(e.start_mark);
        const std::string name(as_view(e.data.alias.anchor));
        const auto found = anchors_.find(name);
        if (found == anchors_.end()) {
            throw_if_tab_before(e.start_mark.index);
            throw error(mark, "found undefined alias '" + name + "'",
                        {"define the anchor '&" + name + "' before this alias"});
        }
        const NodeData& target = impl_.nodes[found->second];
        if (target.has(detail::flag_open)) {
            throw_if_tab_before(e.start_mark.index);
            throw error(
                mark, "found recursive alias '" + name + "'",
                {"the anchor '&" + name + "' at " + at_line(Mark{target.line, target.column}) +
                 " is on a collection that contains this alias"});
        }
        if (open_.size() + height_[found->second] > max_depth) {
            throw_if_tab_before(e.start_mark.index);
            throw too_deep(mark, "through the alias '*" + name + "'");
        }
        add_child(found->second, mark);
        account(expanded_[found->second], height_[found->second], mark);
    }

    ParseError too_deep(Mark mark, const std::string& how) const {
        return error(mark, "collections are nested too deeply",
                     {"more than " + std::to_string(max_depth) + " levels of sequences and mappings " +
                      how + "; Meltano's YAML loader fails with a RecursionError far earlier"});
    }

    void on_collection_start(const yaml_event_t& e, Kind kind) {
        const Mark mark = to_mark(e.start_mark);
        const bool flow = kind == Kind::sequence
                              ? e.data.sequence_start.style == YAML_FLOW_SEQUENCE_STYLE
                              : e.data.mapping_start.style == YAML_FLOW_MAPPING_STYLE;
        if (flow && flow_depth_ == 0 && tabs_.active()) {
            tabs_.on_flow_start(e.start_mark.index);
        }
        if (flow && ++flow_depth_ > max_flow_depth) {
            throw error(mark, "flow collections are nested too deeply",
                        {"more than " + std::to_string(max_flow_depth) +
                         " levels of '[' or '{' are not supported"});
        }
        const yaml_char_t* tag =
            kind == Kind::sequence ? e.data.sequence_start.tag : e.data.mapping_start.tag;
        const yaml_char_t* anchor =
            kind == Kind::sequence ? e.data.sequence_start.anchor : e.data.mapping_start.anchor;
        check_collection_tag(as_view(tag), kind, mark);
        NodeData node;
        node.kind = kind;
        node.line = mark.line;
        node.column = mark.column;
        node.flags = detail::flag_open;
        if (open_.size() + 1 > max_depth) {
            throw too_deep(mark, "at this point");
        }
        const std::uint32_t id = add_node(node, anchor);
        add_child(id, mark);
        open_.push_back(Open{id, static_cast<std::uint32_t>(pending_.size()), flow, 1, 0});
    }

    void on_collection_end(const yaml_event_t& e) {
        const Open open = open_.back();
        open_.pop_back();
        if (open.flow && --flow_depth_ == 0 && tabs_.active()) {
            tabs_.on_flow_end(e.end_mark.index);
        }
        const std::size_t first = impl_.children.size();
        if (impl_.nodes[open.id].kind == Kind::sequence) {
            for (std::size_t i = open.pending_start; i < pending_.size(); ++i) {
                impl_.children.push_back(pending_[i].id);
            }
        } else {
            close_mapping(open);
        }
        if (impl_.children.size() >= max_index) {
            throw error(pending_[open.pending_start - 1].mark, "document has too many nodes");
        }
        NodeData& node = impl_.nodes[open.id];
        node.first = static_cast<std::uint32_t>(first);
        node.count = static_cast<std::uint32_t>(impl_.children.size() - first);
        node.flags = static_cast<std::uint8_t>(node.flags & ~detail::flag_open);
        expanded_[open.id] = open.expanded;
        height_[open.id] = open.height + 1;
        pending_.resize(open.pending_start);
        account(open.expanded, open.height + 1, Mark{node.line, node.column});
    }

    KeyId key_id(std::uint32_t id) const {
        const NodeData& n = impl_.nodes[id];
        KeyId key;
        switch (n.kind) {
            case Kind::null:
                key.category = KeyCategory::null;
                break;
            case Kind::boolean:
                key.category = KeyCategory::number;
                key.bits = impl_.payload(id);
                break;
            case Kind::integer:
                if (n.has(detail::flag_big_int)) {
                    key.category = KeyCategory::big;
                    key.text = impl_.raw_text(n);
                } else {
                    key.category = KeyCategory::number;
                    key.bits = impl_.payload(id);
                }
                break;
            case Kind::floating: {
                const double d = detail::bits_double(impl_.payload(id));
                if (std::isnan(d)) {
                    // ruamel returns one shared NaN object for `.nan`, so two such keys collide.
                    key.category = KeyCategory::nan;
                } else if (std::trunc(d) == d && d >= -9223372036854775808.0 &&
                           d < 9223372036854775808.0) {
                    key.category = KeyCategory::number;
                    key.bits = static_cast<std::uint64_t>(static_cast<std::int64_t>(d));
                } else {
                    key.category = KeyCategory::real;
                    key.bits = impl_.payload(id);
                }
                break;
            }
            case Kind::string:
                if (n.has(detail::flag_identity_key)) {
                    key.category = KeyCategory::identity;
                    key.bits = id;
                } else {
                    key.category =
                        n.has(detail::flag_binary) ? KeyCategory::binary : KeyCategory::str;
                    key.text = impl_.raw_text(n);
                }
                break;
            case Kind::date:
                key.category = KeyCategory::date;
                key.bits = impl_.payload(id);
                break;
            case Kind::timestamp:
                key.category = KeyCategory::time;
                key.bits = impl_.payload(id);
                break;
            case Kind::sequence:
            case Kind::mapping:
                key.category = KeyCategory::identity;
                key.bits = id;
                break;
        }
        return key;
    }

    bool is_merge_key(std::uint32_t id) const {
        const NodeData& n = impl_.nodes[id];
        return !is_collection(n.kind) && n.has(detail::flag_merge_key);
    }

    std::string key_text(std::uint32_t id) const {
        const NodeData& n = impl_.nodes[id];
        return std::string(is_collection(n.kind) ? std::string_view(kind_name(n.kind))
                                                 : impl_.raw_text(n));
    }

    /// Collects the mappings a `<<` value merges, in merge order, as RoundTripConstructor's
    /// flatten_mapping accepts them.
    void collect_merge_sources(const Child& value) {
        const NodeData& v = impl_.nodes[value.id];
        if (v.kind == Kind::mapping) {
            merge_sources_.push_back(value.id);
            return;
        }
        if (v.kind != Kind::sequence) {
            defer(value.mark,
                  "merge key '<<' needs a mapping or a sequence of mappings, not a scalar");
            return;
        }
        for (std::uint32_t slot = 0; slot < v.count; ++slot) {
            const std::uint32_t item = impl_.children[v.first + slot];
            const NodeData& n = impl_.nodes[item];
            if (n.kind != Kind::mapping) {
                defer(Mark{n.line, n.column},
                      std::string("merge key '<<' needs mappings in its sequence, not a ") +
                          kind_name(n.kind));
                continue;
            }
            merge_sources_.push_back(item);
        }
    }

    void close_mapping(const Open& open) {
        const std::size_t begin = open.pending_start;
        const std::size_t end = pending_.size();
        merge_sources_.clear();
        std::optional<Mark> first_merge;
        for (std::size_t i = begin; i + 1 < end; i += 2) {
            if (!is_merge_key(pending_[i].id)) {
                continue;
            }
            if (first_merge && !merge_sources_.empty()) {
                defer(pending_[i].mark, "found duplicate merge key '<<'",
                      {"first defined at " + at_line(*first_merge)});
                continue;
            }
            first_merge = pending_[i].mark;
            collect_merge_sources(pending_[i + 1]);
        }
        keys_.clear();
        for (std::size_t i = begin; i + 1 < end; i += 2) {
            const std::uint32_t key = pending_[i].id;
            if (is_merge_key(key)) {
                continue;
            }
            if (const std::uint32_t* previous =
                    keys_.find_or_insert(key_id(key), static_cast<std::uint32_t>(i))) {
                defer(pending_[i].mark, "found duplicate key '" + key_text(key) + "'",
                      {"first defined at " + at_line(pending_[*previous].mark)});
                continue;
            }
            impl_.children.push_back(key);
            impl_.children.push_back(pending_[i + 1].id);
        }
        // Merged entries come after the explicit ones; an explicit key, or one merged from an
        // earlier source, wins (CommentedMap.add_yaml_merge).
        for (const std::uint32_t source : merge_sources_) {
            const std::uint32_t source_first = impl_.nodes[source].first;
            const std::uint32_t source_count = impl_.nodes[source].count;
            for (std::uint32_t slot = 0; slot + 1 < source_count; slot += 2) {
                const std::uint32_t key = impl_.children[source_first + slot];
                const std::uint32_t value = impl_.children[source_first + slot + 1];
                if (keys_.find_or_insert(key_id(key), 0) != nullptr) {
                    continue;
                }
                impl_.children.push_back(key);
                impl_.children.push_back(value);
            }
        }
    }

    void finish() {
        if (deferred_) {
            throw *deferred_;
        }
        if (!seen_document_ || pending_.empty()) {
            impl_.nodes.clear();
            impl_.payloads.clear();
            impl_.nodes.emplace_back();
            impl_.nodes.back().line = 1;
            impl_.nodes.back().column = 1;
            impl_.root = 0;
            impl_.empty = true;
            return;
        }
        impl_.root = pending_.front().id;
        impl_.empty = false;
        // The document lives as long as the project: give back what the reservations above
        // and the vectors' doubling left unused (a quarter of a big project's node storage).
        impl_.nodes.shrink_to_fit();
        impl_.children.shrink_to_fit();
        impl_.text.shrink_to_fit();
        impl_.payloads.shrink_to_fit();
    }

    std::string_view input_;
    /// A UTF-8 byte order mark, which libyaml counts neither in lines nor in columns.
    std::size_t bom_;
    Document::Impl& impl_;
    std::uint64_t limit_;
    std::vector<Child> pending_;
    std::vector<Open> open_;
    std::vector<std::uint64_t> expanded_;
    /// The value of the scalar being typed (see Document::Impl::payloads).
    std::uint64_t payload_ = 0;
    /// Per node: levels of collections it holds, itself included, aliases expanded (0: scalar).
    std::vector<std::uint32_t> height_;
    std::vector<std::uint32_t> merge_sources_;
    std::unordered_map<std::string, std::uint32_t> anchors_;
    std::optional<ParseError> deferred_;
    KeySet keys_;
    std::size_t flow_depth_ = 0;
    bool seen_document_ = false;
    std::size_t seen_until_ = 0;  ///< end of the last event, as a character index
    detail::TabCheck tabs_;
    Mark first_document_;
};

}  // namespace

Document parse(std::string_view text, std::string file, const ParseOptions& options) {
    Document doc;
    doc.impl_->file = std::move(file);
    std::uint64_t limit = options.max_expanded_nodes;
    if (limit == 0) {
        const std::uint64_t by_size =
            static_cast<std::uint64_t>(text.size()) * expanded_bound_per_byte;
        limit = by_size > min_expanded_bound ? by_size : min_expanded_bound;
    }
    Builder(text, *doc.impl_, limit).run();
    return doc;
}

}  // namespace dataops::yaml
