#include <algorithm>
#include <bit>
#include <cstring>
#include <limits>

#include "tab_check.hpp"

namespace dataops::yaml::detail {

namespace {

std::uint32_t clamp32(std::size_t value) {
    constexpr std::size_t max = std::numeric_limits<std::uint32_t>::max();
    return static_cast<std::uint32_t>(value > max ? max : value);
}

/// Code points in UTF-8 text: bytes less continuation bytes (10xxxxxx), eight bytes at a time,
/// as this runs over every byte of a file that has a single tab.
std::size_t count_chars(std::string_view text) {
    constexpr std::uint64_t high_bits = 0x8080808080808080ULL;
    std::size_t continuation = 0;
    std::size_t i = 0;
    for (; i + 8 <= text.size(); i += 8) {
        std::uint64_t word = 0;
        std::memcpy(&word, text.data() + i, sizeof word);
        // Bit 7 set and bit 6 clear; shifting left by one puts each byte's bit 6 under bit 7.
        continuation += static_cast<std::size_t>(std::popcount(word & ~(word << 1) & high_bits));
    }
    for (; i < text.size(); ++i) {
        continuation += (static_cast<unsigned char>(text[i]) & 0xC0U) == 0x80U ? 1U : 0U;
    }
    return text.size() - continuation;
}

}  // namespace

TabCheck::TabCheck(std::string_view input, std::size_t skip) {
    std::size_t tab = input.find('\t', skip);
    std::size_t counted = skip;  // bytes before this are counted in `index`
    std::size_t index = 0;
    std::size_t line_hashes = 0;  // where the `#` of the current line start in hashes_
    while (tab != std::string_view::npos) {
        const std::string_view segment = input.substr(counted, tab - counted);
        std::size_t at = 0;
        const std::size_t last_break = segment.find_last_of("\r\n");
        if (last_break != std::string_view::npos) {
            at = last_break + 1;
            index += count_chars(segment.substr(0, at));
            line_hashes = hashes_.size();
        }
        for (std::size_t hash = segment.find('#', at); hash != std::string_view::npos;
             hash = segment.find('#', hash + 1)) {
            index += count_chars(segment.substr(at, hash - at));
            at = hash;
            hashes_.push_back(Hash{clamp32(index)});
        }
        index += count_chars(segment.substr(at));
        tabs_.push_back(
            Tab{clamp32(index), clamp32(tab), clamp32(line_hashes), clamp32(hashes_.size())});
        counted = tab + 1;
        ++index;
        tab = input.find('\t', counted);
    }
}

void TabCheck::on_scalar(std::size_t start, std::size_t end, bool plain) {
    while (next_tab_ < tabs_.size() && tabs_[next_tab_].index < start) {
        ++next_tab_;
    }
    for (std::size_t t = next_tab_; t < tabs_.size() && tabs_[t].index < end; ++t) {
        tabs_[t].where = plain ? Where::plain_scalar : Where::other_scalar;
    }
    while (next_hash_ < hashes_.size() && hashes_[next_hash_].index < start) {
        ++next_hash_;
    }
    for (std::size_t h = next_hash_; h < hashes_.size() && hashes_[h].index < end; ++h) {
        hashes_[h].in_scalar = true;
    }
}

void TabCheck::on_flow_start(std::size_t start) {
    open_flow_ = start;
}

void TabCheck::on_flow_end(std::size_t end) {
    if (!open_flow_) {
        return;
    }
    auto it = std::lower_bound(tabs_.begin(), tabs_.end(), *open_flow_,
                               [](const Tab& tab, std::size_t index) { return tab.index < index; });
    for (; it != tabs_.end() && it->index < end; ++it) {
        it->in_flow = true;
    }
    open_flow_.reset();
}

std::optional<std::size_t> TabCheck::first_rejected(std::size_t limit) const {
    for (const Tab& tab : tabs_) {
        if (tab.index >= limit) {
            break;
        }
        if (tab.where != Where::outside) {
            if (tab.where == Where::plain_scalar) {
                return tab.offset;
            }
            continue;
        }
        // A `#` outside every scalar earlier on the line starts a comment.
        const bool in_comment =
            std::any_of(hashes_.begin() + tab.hashes_first, hashes_.begin() + tab.hashes_last,
                        [](const Hash& hash) { return !hash.in_scalar; });
        if (in_comment || tab.in_flow || (open_flow_ && tab.index >= *open_flow_)) {
            continue;
        }
        return tab.offset;
    }
    return std::nullopt;
}

}  // namespace dataops::yaml::detail
