#pragma once
/// A YAML document tree that remembers where every node came from.
///
/// Built from libyaml's event API (never recursion: a document nested 200,000 levels deep must
/// be parsed and refused without overflowing the stack; one nested up to the limit of parse()
/// is safe to walk recursively). Scalars are typed by the YAML 1.2
/// core schema exactly as ruamel.yaml's round-trip loader (which Meltano uses) types them.
/// Nodes live in one arena owned by the Document; NodeRef is a cheap handle into it. An alias
/// refers to the same node as its anchor (no copy), so a "billion laughs" document stays small
/// in memory; its expanded size is bounded at parse time (see ParseOptions).

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <dataops/util/error.hpp>
#include <dataops/util/interned.hpp>

namespace dataops::yaml {

/// Position in the source, both 1-based, column counted in characters (code points).
struct Mark {
    std::uint32_t line = 0;
    std::uint32_t column = 0;
};

enum class Kind : std::uint8_t {
    null,       ///< `~`, `null`, `Null`, `NULL`, or an empty plain scalar
    boolean,    ///< `true|True|TRUE|false|False|FALSE` (never yes/no/on/off)
    integer,    ///< decimal, 0o octal, 0x hex, 0b binary, `_` separators, as ruamel 1.2
    floating,   ///< as ruamel 1.2, including .inf/.nan
    string,     ///< every other scalar, and every quoted or block scalar
    date,       ///< `2021-01-01` (ruamel's timestamp resolver, date only)
    timestamp,  ///< `2021-01-01T10:00:00Z` and the other forms ruamel resolves as timestamps
    sequence,
    mapping,
};

enum class ScalarStyle : std::uint8_t { plain, single_quoted, double_quoted, literal, folded, none };

class Document;

/// A handle to one node of a Document. Valid as long as the Document lives.
class NodeRef {
public:
    NodeRef() = default;
    NodeRef(const Document* doc, std::uint32_t id) : doc_(doc), id_(id) {}

    Kind kind() const;
    bool is_scalar() const;  ///< not a sequence or mapping
    bool is_null() const { return kind() == Kind::null; }
    bool is_mapping() const { return kind() == Kind::mapping; }
    bool is_sequence() const { return kind() == Kind::sequence; }
    ScalarStyle style() const;  ///< ScalarStyle::none for collections
    Mark mark() const;          ///< where the node starts (for an alias: where the anchor's node starts)
    util::Interned file() const;  ///< the file name given to parse()

    /// The scalar's text after YAML unescaping/folding (empty for null and collections). A view
    /// into the Document: no copy per call.
    std::string_view text() const;
    /// Requires Kind::boolean (else throws std::logic_error).
    bool as_bool() const;
    /// Requires Kind::integer (else throws std::logic_error). Throws dataops::Error when the value
    /// does not fit in 64 bits (text() keeps it).
    std::int64_t as_int() const;
    /// Requires Kind::integer (else throws std::logic_error). For an integer beyond int64 that
    /// fits in uint64 (2^63 to 2^64 - 1, which Python's int and JSON both hold): the value;
    /// otherwise nullopt (as_int() gives the ones within int64).
    std::optional<std::uint64_t> as_big_unsigned() const;
    /// Requires Kind::floating or Kind::integer (else throws std::logic_error). An integer beyond
    /// 64 bits is rounded as Python's float(int) would.
    double as_double() const;
    /// For Kind::date / Kind::timestamp (else throws std::logic_error): the string Meltano
    /// reports, i.e. Python's isoformat() of the value ruamel constructs ("2021-01-01",
    /// "2021-01-01T10:00:00"; a timestamp with an offset is converted to UTC and loses the offset
    /// and the fraction, "2021-01-01T08:30:00"). Meltano sees ruamel's TimeStamp objects (a `T`
    /// or an offset in the text) through copy.deepcopy, which keeps whole seconds only; a
    /// timestamp written with a blank separator and no offset keeps its fraction
    /// ("2021-01-01 10:30:00.25" gives "2021-01-01T10:30:00.250000"). A `Z` is dropped.
    std::string iso_string() const;

    /// Number of items of a sequence or entries of a mapping (0 for scalars).
    std::size_t size() const;
    /// Item i of a sequence. Throws std::out_of_range past the end or on a non-sequence.
    NodeRef at(std::size_t i) const;
    /// Key and value of entry i of a mapping, in document order, merge keys already applied: the
    /// explicit entries (without the `<<` entry) in document order, then the merged entries whose
    /// keys are not explicit, in merge order (in `<<: [*a, *b]` an entry of a beats one of b).
    /// Throws std::out_of_range past the end or on a non-mapping.
    NodeRef key(std::size_t i) const;
    NodeRef value(std::size_t i) const;
    /// The value of the first entry whose key is a scalar with this text, if any (nullopt for
    /// non-mappings).
    std::optional<NodeRef> find(std::string_view key) const;

    std::uint32_t id() const { return id_; }
    const Document* document() const { return doc_; }
    explicit operator bool() const { return doc_ != nullptr; }

private:
    const Document* doc_ = nullptr;
    std::uint32_t id_ = 0;
};

struct ParseOptions {
    /// Upper bound on the number of nodes the document would have with every alias expanded.
    /// A document above it is rejected (alias bombs). 0 means "derive from the input size":
    /// max(1,000,000, 16 x input bytes), far above what anchors in a real file give (each alias
    /// of a k-node anchor costs k, and a file has at most one node per two bytes). The count is
    /// checked as it grows, so an alias bomb is rejected after at most that much work, and the
    /// merged views of mappings (see NodeRef::key) never hold more entries than the bound.
    std::uint64_t max_expanded_nodes = 0;
};

/// A parse failure with the position libyaml (or the tree builder) reports.
class ParseError : public Error {
public:
    ParseError(std::string file, Mark mark, const std::string& problem, std::vector<std::string> hints = {})
        : Error(problem, std::move(hints)), file_(std::move(file)), mark_(mark) {}
    const std::string& file() const noexcept { return file_; }
    Mark mark() const noexcept { return mark_; }

private:
    std::string file_;
    Mark mark_;
};

/// One parsed document. Movable, not copyable.
class Document {
public:
    Document();
    ~Document();
    Document(Document&&) noexcept;
    Document& operator=(Document&&) noexcept;
    Document(const Document&) = delete;
    Document& operator=(const Document&) = delete;

    /// The root node; Kind::null for an empty or comment-only stream (see empty()).
    NodeRef root() const;
    /// True when the stream held no document at all (empty or only comments).
    bool empty() const;
    util::Interned file() const;

    struct Impl;
    const Impl& impl() const { return *impl_; }

private:
    friend Document parse(std::string_view, std::string, const ParseOptions&);
    std::unique_ptr<Impl> impl_;
};

/// Parse one YAML stream (a single document; a second document is an error, as in ruamel's load).
/// `file` is only used for messages and NodeRef::file(). Throws ParseError on syntax errors,
/// duplicate mapping keys (as ruamel's DuplicateKeyError), undefined or recursive aliases, and
/// documents whose alias expansion exceeds the bound. Messages are git-style and lower-case
/// ("found duplicate key 'name'", with a hint naming the first occurrence's line).
///
/// Also rejected, as ruamel's loader rejects them: plain scalars that resolve to a type whose
/// constructor fails (`-_` resolves to int, `2021-02-30` to a date), explicit tags whose value
/// does not fit (`!!int abc`), a `<<` whose value is not a mapping or a sequence of mappings,
/// and a repeated `<<` key. Such errors are reported after syntax errors, as in ruamel (which
/// composes the whole document before constructing it); among several, the earliest in the file.
///
/// Mapping keys compare as Python compares the constructed values: `1`, `1.0` and `true` are
/// the same key, `'1'` is not; `~` and `null` are. A key that is a collection, or a scalar that
/// ruamel keeps as a TaggedScalar (`!!str`, unknown tags), equals only itself (the same node
/// again through an alias): ruamel compares those by identity, or collections as tuples, which
/// no real file relies on. Integers beyond 64 bits compare by their text.
///
/// Tabs: ruamel's scanner (0.18) takes only spaces as separation outside flow collections and
/// ends a plain scalar at a tab, so a tab anywhere but inside a quoted or block scalar, a
/// comment, or between the tokens of a flow collection is an error at the tab, although libyaml
/// accepts most of those. Tabs used for indentation are libyaml's own errors.
///
/// The syntax is libyaml's (YAML 1.1): the few YAML 1.2 forms ruamel's own parser also takes,
/// such as a block mapping entry with an empty key (`: value`), are syntax errors here.
///
/// Collections nested more than 1,000 deep are rejected ("collections are nested too deeply"),
/// block or flow, counting the levels an alias brings in: ruamel's recursive composer fails far
/// earlier (Meltano stops with a RecursionError), and everything that walks the tree or the JSON
/// values built from it may then recurse. Flow collections are checked first ("flow
/// collections are nested too deeply"): libyaml's scanner is quadratic in flow depth.
Document parse(std::string_view text, std::string file, const ParseOptions& options = {});

}  // namespace dataops::yaml
