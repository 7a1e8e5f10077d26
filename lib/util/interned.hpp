#pragma once
/// An immutable string stored once per process: copying one is copying a pointer, and two are
/// equal exactly when they point at the same text. For values repeated hundreds of thousands of
/// times that come from a small set, above all the file name every Position carries (a
/// 2,000-plugin project holds about a million positions and a dozen file names).
///
/// The texts are never freed: intern only values drawn from a bounded set. Thread-safe.

#include <compare>
#include <string>
#include <string_view>

#include <fmt/format.h>

namespace dataops::util {

class Interned {
public:
    /// The empty string.
    Interned() noexcept;
    Interned(std::string_view text);  // NOLINT(google-explicit-constructor): a string, stored once
    Interned(const std::string& text) : Interned(std::string_view(text)) {}  // NOLINT
    Interned(const char* text) : Interned(std::string_view(text)) {}         // NOLINT

    const std::string& str() const noexcept { return *text_; }
    operator const std::string&() const noexcept { return *text_; }  // NOLINT
    operator std::string_view() const noexcept { return *text_; }    // NOLINT

    bool empty() const noexcept { return text_->empty(); }
    std::size_t size() const noexcept { return text_->size(); }
    const char* data() const noexcept { return text_->data(); }
    const char* c_str() const noexcept { return text_->c_str(); }

    friend bool operator==(Interned a, Interned b) noexcept { return a.text_ == b.text_; }
    friend bool operator==(Interned a, std::string_view b) noexcept { return *a.text_ == b; }
    friend bool operator==(Interned a, const std::string& b) noexcept { return *a.text_ == b; }
    friend bool operator==(Interned a, const char* b) noexcept { return *a.text_ == b; }
    /// By text, so that sorting by file is alphabetical.
    friend std::strong_ordering operator<=>(Interned a, Interned b) noexcept {
        return a.text_ == b.text_ ? std::strong_ordering::equal : a.text_->compare(*b.text_) <=> 0;
    }

private:
    const std::string* text_;
};

}  // namespace dataops::util

template <>
struct fmt::formatter<dataops::util::Interned> : fmt::formatter<std::string_view> {
    template <typename Context>
    auto format(const dataops::util::Interned& value, Context& ctx) const {
        return fmt::formatter<std::string_view>::format(std::string_view(value.str()), ctx);
    }
};
