#pragma once
/// Private: the tabs ruamel.yaml rejects and libyaml accepts.
///
/// ruamel's scanner (scanner.py, 0.18: scan_to_next_token, scan_plain_spaces) takes only spaces
/// as separation outside flow collections and ends a plain scalar at a tab, so a tab anywhere
/// but inside a quoted or block scalar, a comment, or between the tokens of a flow collection
/// is an error there ("found character '\t' that cannot start any token"). libyaml accepts most
/// of those (it rejects tabs used for indentation itself). The parser's events say where the
/// scalars and flow collections are; this class keeps state only for the tabs of the input and
/// the `#` before them on their lines, so a file without tabs costs one memchr.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

namespace dataops::yaml::detail {

class TabCheck {
  public:
    /// `skip` bytes at the start (a byte order mark) are not counted as characters, as libyaml
    /// does not count them in its marks.
    TabCheck(std::string_view input, std::size_t skip);

    /// False when the input has no tab: then nothing needs to be reported.
    bool active() const { return !tabs_.empty(); }

    /// Reports a scalar over libyaml's character indexes [start, end). Calls come in document
    /// order.
    void on_scalar(std::size_t start, std::size_t end, bool plain);
    /// Reports an outermost flow collection starting, then ending.
    void on_flow_start(std::size_t start);
    void on_flow_end(std::size_t end);

    /// The byte offset of the first tab ruamel rejects among those before character index
    /// `limit`, judged on what has been reported so far.
    std::optional<std::size_t> first_rejected(std::size_t limit) const;

  private:
    enum class Where : std::uint8_t { outside, plain_scalar, other_scalar };
    struct Tab {
        std::uint32_t index;         ///< libyaml character index
        std::uint32_t offset;        ///< byte offset
        std::uint32_t hashes_first;  ///< the `#` before it on its line: hashes_[first, last)
        std::uint32_t hashes_last;
        Where where = Where::outside;
        bool in_flow = false;
    };
    struct Hash {
        std::uint32_t index;
        bool in_scalar = false;
    };

    std::vector<Tab> tabs_;
    std::vector<Hash> hashes_;
    std::size_t next_tab_ = 0;
    std::size_t next_hash_ = 0;
    std::optional<std::size_t> open_flow_;  ///< start of the outermost flow collection still open
};

}  // namespace dataops::yaml::detail
