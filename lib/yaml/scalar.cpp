#include <array>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <limits>
#include <optional>

#include "document_impl.hpp"
#include "scalar.hpp"

namespace dataops::yaml::detail {

namespace {

bool is_digit(char c) {
    return c >= '0' && c <= '9';
}
bool is_digit_or_underscore(char c) {
    return is_digit(c) || c == '_';
}
bool is_octal_or_underscore(char c) {
    return (c >= '0' && c <= '7') || c == '_';
}
bool is_binary_or_underscore(char c) {
    return c == '0' || c == '1' || c == '_';
}
bool is_hex(char c) {
    return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}
bool is_hex_or_underscore(char c) {
    return is_hex(c) || c == '_';
}
bool is_sign(char c) {
    return c == '-' || c == '+';
}
bool is_blank(char c) {
    return c == ' ' || c == '\t';
}

template <typename Pred>
bool all_of(std::string_view s, Pred pred) {
    for (char c : s) {
        if (!pred(c)) {
            return false;
        }
    }
    return true;
}

bool starts_with(std::string_view s, std::string_view prefix) {
    return s.substr(0, prefix.size()) == prefix;
}

/// Skips `[0-9_]*` from i.
std::size_t skip_digits_or_underscores(std::string_view s, std::size_t i) {
    while (i < s.size() && is_digit_or_underscore(s[i])) {
        ++i;
    }
    return i;
}

/// Skips `[0-9]+` from i; npos when there is none.
std::size_t skip_digits(std::string_view s, std::size_t i) {
    std::size_t start = i;
    while (i < s.size() && is_digit(s[i])) {
        ++i;
    }
    return i == start ? std::string_view::npos : i;
}

/// `[eE][-+]?[0-9]+` at i reaching the end (sign_required: `[eE][-+][0-9]+`).
bool exponent_to_end(std::string_view s, std::size_t i, bool sign_required) {
    if (i >= s.size() || (s[i] != 'e' && s[i] != 'E')) {
        return false;
    }
    ++i;
    if (i < s.size() && is_sign(s[i])) {
        ++i;
    } else if (sign_required) {
        return false;
    }
    return skip_digits(s, i) == s.size();
}

/// `(?::[0-5]?[0-9])+` from i; returns the position after it, or npos when there is no group.
std::size_t skip_sexagesimal_groups(std::string_view s, std::size_t i) {
    std::size_t groups = 0;
    while (i < s.size() && s[i] == ':') {
        std::size_t j = i + 1;
        // Greedy two digits is safe: what follows a group must be ':' or '.', never a digit.
        if (j + 1 < s.size() && s[j] >= '0' && s[j] <= '5' && is_digit(s[j + 1])) {
            j += 2;
        } else if (j < s.size() && is_digit(s[j])) {
            j += 1;
        } else {
            break;
        }
        i = j;
        ++groups;
    }
    return groups == 0 ? std::string_view::npos : i;
}

bool match_bool(std::string_view s, Version version) {
    static constexpr std::array<std::string_view, 6> v12 = {"true",  "True",  "TRUE",
                                                            "false", "False", "FALSE"};
    static constexpr std::array<std::string_view, 16> v11_extra = {
        "y",  "Y",  "yes", "Yes", "YES", "n",   "N",   "no",
        "No", "NO", "on",  "On",  "ON",  "off", "Off", "OFF"};
    for (std::string_view word : v12) {
        if (s == word) {
            return true;
        }
    }
    if (version == Version::v1_1) {
        for (std::string_view word : v11_extra) {
            if (s == word) {
                return true;
            }
        }
    }
    return false;
}

bool match_float(std::string_view s, Version version) {
    std::size_t i = 0;
    bool has_sign = false;
    if (i < s.size() && is_sign(s[i])) {
        ++i;
        has_sign = true;
    }
    if (i >= s.size()) {
        return false;
    }
    if (s[i] == '.') {
        std::string_view rest = s.substr(i + 1);
        if (rest == "inf" || rest == "Inf" || rest == "INF") {
            return true;
        }
        if (!has_sign && (rest == "nan" || rest == "NaN" || rest == "NAN")) {
            return true;
        }
        // 1.2: `[-+]?\.[0-9_]+(?:[eE][-+][0-9]+)?`; 1.1 has the same without the sign.
        if (has_sign && version == Version::v1_1) {
            return false;
        }
        std::size_t j = skip_digits_or_underscores(s, i + 1);
        if (j == i + 1) {
            return false;
        }
        return j == s.size() || exponent_to_end(s, j, true);
    }
    if (!is_digit(s[i])) {
        return false;
    }
    std::size_t j = skip_digits_or_underscores(s, i + 1);
    if (j == s.size()) {
        return false;
    }
    if (s[j] == '.') {
        j = skip_digits_or_underscores(s, j + 1);
        return j == s.size() || exponent_to_end(s, j, false);
    }
    if (s[j] == 'e' || s[j] == 'E') {
        return exponent_to_end(s, j, false);
    }
    if (version == Version::v1_1 && s[j] == ':') {
        // Sexagesimal float: `[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+\.[0-9_]*`.
        std::size_t k = skip_sexagesimal_groups(s, j);
        if (k == std::string_view::npos || k >= s.size() || s[k] != '.') {
            return false;
        }
        return skip_digits_or_underscores(s, k + 1) == s.size();
    }
    return false;
}

bool match_int(std::string_view s, Version version) {
    std::string_view r = s;
    if (!r.empty() && is_sign(r[0])) {
        r.remove_prefix(1);
    }
    if (r.empty()) {
        return false;
    }
    if (starts_with(r, "0b") && r.size() > 2 && all_of(r.substr(2), is_binary_or_underscore)) {
        return true;
    }
    if (starts_with(r, "0x") && r.size() > 2 && all_of(r.substr(2), is_hex_or_underscore)) {
        return true;
    }
    if (version == Version::v1_2) {
        // `0o?[0-7_]+` and `[0-9_]+`; the first without `o` is inside the second.
        if (starts_with(r, "0o") && r.size() > 2 && all_of(r.substr(2), is_octal_or_underscore)) {
            return true;
        }
        return all_of(r, is_digit_or_underscore);
    }
    // 1.1: `0?[0-7_]+`, `0|[1-9][0-9_]*`, `[1-9][0-9_]*(?::[0-5]?[0-9])+`.
    if (all_of(r, is_octal_or_underscore)) {
        return true;
    }
    if (r == "0") {
        return true;
    }
    if (r[0] < '1' || r[0] > '9') {
        return false;
    }
    std::size_t j = skip_digits_or_underscores(r, 1);
    if (j == r.size()) {
        return true;
    }
    return skip_sexagesimal_groups(r, j) == r.size();
}

bool match_null(std::string_view s) {
    return s.empty() || s == "~" || s == "null" || s == "Null" || s == "NULL";
}

/// The groups of ruamel's `timestamp_regexp` (util.py).
struct TimestampParts {
    std::string_view year, month, day, hour, minute, second, fraction, tz_hour, tz_minute;
    bool t = false;  ///< `T` or `t` separator (not blanks)
    bool has_time = false;
    bool has_fraction = false;
    bool z = false;    ///< `Z`
    char tz_sign = 0;  ///< '+', '-' or 0
};

/// Takes `[0-9]` then an optional second `[0-9]`.
std::string_view take_one_or_two_digits(std::string_view s, std::size_t& i) {
    if (i >= s.size() || !is_digit(s[i])) {
        return {};
    }
    std::size_t start = i++;
    if (i < s.size() && is_digit(s[i])) {
        ++i;
    }
    return s.substr(start, i - start);
}

std::string_view take_two_digits(std::string_view s, std::size_t& i) {
    if (i + 1 >= s.size() || !is_digit(s[i]) || !is_digit(s[i + 1])) {
        return {};
    }
    i += 2;
    return s.substr(i - 2, 2);
}

/// Matches the constructor's timestamp_regexp (which also takes a date with one-digit month or
/// day; the resolver's regexp does not, see match_timestamp).
std::optional<TimestampParts> parse_timestamp(std::string_view s) {
    TimestampParts p;
    std::size_t i = 0;
    if (s.size() < 8 || !all_of(s.substr(0, 4), is_digit) || s[4] != '-') {
        return std::nullopt;
    }
    p.year = s.substr(0, 4);
    i = 5;
    p.month = take_one_or_two_digits(s, i);
    if (p.month.empty() || i >= s.size() || s[i] != '-') {
        return std::nullopt;
    }
    ++i;
    p.day = take_one_or_two_digits(s, i);
    if (p.day.empty()) {
        return std::nullopt;
    }
    if (i == s.size()) {
        return p;
    }
    if (s[i] == 'T' || s[i] == 't') {
        p.t = true;
        ++i;
    } else if (is_blank(s[i])) {
        while (i < s.size() && is_blank(s[i])) {
            ++i;
        }
    } else {
        return std::nullopt;
    }
    p.has_time = true;
    p.hour = take_one_or_two_digits(s, i);
    if (p.hour.empty() || i >= s.size() || s[i] != ':') {
        return std::nullopt;
    }
    ++i;
    p.minute = take_two_digits(s, i);
    if (p.minute.empty() || i >= s.size() || s[i] != ':') {
        return std::nullopt;
    }
    ++i;
    p.second = take_two_digits(s, i);
    if (p.second.empty()) {
        return std::nullopt;
    }
    if (i < s.size() && s[i] == '.') {
        std::size_t start = ++i;
        while (i < s.size() && is_digit(s[i])) {
            ++i;
        }
        p.has_fraction = true;
        p.fraction = s.substr(start, i - start);
    }
    if (i == s.size()) {
        return p;
    }
    while (i < s.size() && is_blank(s[i])) {
        ++i;
    }
    if (i >= s.size()) {
        return std::nullopt;
    }
    if (s[i] == 'Z') {
        p.z = true;
        ++i;
    } else if (is_sign(s[i])) {
        p.tz_sign = s[i];
        ++i;
        p.tz_hour = take_one_or_two_digits(s, i);
        if (p.tz_hour.empty()) {
            return std::nullopt;
        }
        if (i < s.size() && s[i] == ':') {
            ++i;
            p.tz_minute = take_two_digits(s, i);
            if (p.tz_minute.empty()) {
                return std::nullopt;
            }
        }
    } else {
        return std::nullopt;
    }
    if (i != s.size()) {
        return std::nullopt;
    }
    return p;
}

bool match_timestamp(std::string_view s) {
    auto parts = parse_timestamp(s);
    // The resolver's date-only alternative wants two-digit month and day.
    return parts && (parts->has_time || (parts->month.size() == 2 && parts->day.size() == 2));
}

int small_int(std::string_view digits) {
    int value = 0;
    for (char c : digits) {
        value = value * 10 + (c - '0');
    }
    return value;
}

// Civil-date arithmetic on the proleptic Gregorian calendar, days counted from 1970-01-01.
std::int64_t days_from_civil(std::int64_t y, unsigned m, unsigned d) {
    y -= m <= 2 ? 1 : 0;
    const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
    const auto yoe = static_cast<unsigned>(y - era * 400);
    const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

struct Civil {
    std::int64_t year;
    unsigned month;
    unsigned day;
};

Civil civil_from_days(std::int64_t z) {
    z += 719468;
    const std::int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    const auto doe = static_cast<unsigned>(z - era * 146097);
    const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    const std::int64_t y = static_cast<std::int64_t>(yoe) + era * 400;
    const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    const unsigned mp = (5 * doy + 2) / 153;
    const unsigned d = doy - (153 * mp + 2) / 5 + 1;
    const unsigned m = mp < 10 ? mp + 3 : mp - 9;
    return {y + (m <= 2 ? 1 : 0), m, d};
}

bool is_leap(int y) {
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

int days_in_month(int y, int m) {
    static constexpr std::array<int, 12> days = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return m == 2 && is_leap(y) ? 29 : days[static_cast<std::size_t>(m - 1)];
}

constexpr std::int64_t micros_per_second = 1'000'000;
constexpr std::int64_t micros_per_day = 86'400 * micros_per_second;

ConstructResult failure(std::string problem) {
    ConstructResult result;
    result.problem = std::move(problem);
    return result;
}

ConstructResult success(Kind kind, std::uint64_t payload, std::uint8_t flags = 0) {
    ConstructResult result;
    result.value.kind = kind;
    result.value.payload = payload;
    result.value.flags = flags;
    return result;
}

std::string without_underscores(std::string_view s) {
    std::string out;
    out.reserve(s.size());
    for (char c : s) {
        if (c != '_') {
            out.push_back(c);
        }
    }
    return out;
}

std::string_view strip_blanks(std::string_view s) {
    auto space = [](char c) {
        return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
    };
    while (!s.empty() && space(s.front())) {
        s.remove_prefix(1);
    }
    while (!s.empty() && space(s.back())) {
        s.remove_suffix(1);
    }
    return s;
}

int digit_value(char c) {
    if (is_digit(c)) {
        return c - '0';
    }
    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }
    if (c >= 'A' && c <= 'F') {
        return c - 'A' + 10;
    }
    return 99;
}

/// Magnitude of an unsigned number in `base`; nullopt when a digit is invalid or missing.
/// `overflow` is set when it exceeds uint64 (the digits are still checked).
std::optional<std::uint64_t> parse_magnitude(std::string_view digits, int base, bool& overflow) {
    if (digits.empty()) {
        return std::nullopt;
    }
    std::uint64_t value = 0;
    for (char c : digits) {
        const int d = digit_value(c);
        if (d >= base) {
            return std::nullopt;
        }
        const auto ubase = static_cast<std::uint64_t>(base);
        const auto ud = static_cast<std::uint64_t>(d);
        if (value > (std::numeric_limits<std::uint64_t>::max() - ud) / ubase) {
            overflow = true;
        } else if (!overflow) {
            value = value * ubase + ud;
        }
    }
    return value;
}

/// Python's float() on a lower-cased string without underscores.
std::optional<double> python_float(std::string_view s) {
    s = strip_blanks(s);
    double sign = 1.0;
    if (!s.empty() && is_sign(s[0])) {
        sign = s[0] == '-' ? -1.0 : 1.0;
        s.remove_prefix(1);
    }
    if (s == "inf" || s == "infinity") {
        return sign * std::numeric_limits<double>::infinity();
    }
    if (s == "nan") {
        return std::numeric_limits<double>::quiet_NaN();
    }
    // Decimal only: digits with an optional point (at least one digit) and an optional exponent.
    std::size_t i = 0;
    std::size_t digits = 0;
    while (i < s.size() && is_digit(s[i])) {
        ++i;
        ++digits;
    }
    if (i < s.size() && s[i] == '.') {
        ++i;
        while (i < s.size() && is_digit(s[i])) {
            ++i;
            ++digits;
        }
    }
    if (digits == 0) {
        return std::nullopt;
    }
    if (i < s.size() && s[i] == 'e') {
        ++i;
        if (i < s.size() && is_sign(s[i])) {
            ++i;
        }
        if (skip_digits(s, i) != s.size()) {
            return std::nullopt;
        }
        i = s.size();
    }
    if (i != s.size()) {
        return std::nullopt;
    }
    double value = 0;
    auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), value);
    if (end != s.data() + s.size()) {
        return std::nullopt;
    }
    if (ec == std::errc::result_out_of_range) {
        // Python gives inf for overflow and 0.0 for underflow; from_chars leaves value unset.
        bool huge = false;
        std::size_t epos = s.find('e');
        if (epos != std::string_view::npos) {
            huge = s[epos + 1] != '-';
        } else {
            huge = true;
        }
        value = huge ? std::numeric_limits<double>::infinity() : 0.0;
    }
    return sign * value;
}

}  // namespace

Resolved resolve_implicit(std::string_view s, Version version) {
    if (s.empty()) {
        return Resolved::null;
    }
    const char c = s[0];
    const bool bool_first = c == 't' || c == 'T' || c == 'f' || c == 'F' ||
                            (version == Version::v1_1 && (c == 'y' || c == 'Y' || c == 'n' ||
                                                          c == 'N' || c == 'o' || c == 'O'));
    if (bool_first && match_bool(s, version)) {
        return Resolved::boolean;
    }
    const bool number_first = is_digit(c) || is_sign(c);
    if ((number_first || c == '.') && match_float(s, version)) {
        return Resolved::floating;
    }
    if (number_first && match_int(s, version)) {
        return Resolved::integer;
    }
    if (c == '<' && s == "<<") {
        return Resolved::merge;
    }
    if ((c == '~' || c == 'n' || c == 'N') && match_null(s)) {
        return Resolved::null;
    }
    if (is_digit(c) && match_timestamp(s)) {
        return Resolved::timestamp;
    }
    if (c == '=' && s.size() == 1) {
        return Resolved::value;
    }
    return Resolved::string;
}

ConstructResult construct_null() {
    return success(Kind::null, 0);
}

ConstructResult construct_bool(std::string_view text) {
    // SafeConstructor.bool_values: an explicit !!bool also takes the YAML 1.1 words.
    std::string lower(text);
    for (char& c : lower) {
        if (c >= 'A' && c <= 'Z') {
            c = static_cast<char>(c - 'A' + 'a');
        }
    }
    if (lower == "true" || lower == "yes" || lower == "y" || lower == "on") {
        return success(Kind::boolean, 1);
    }
    if (lower == "false" || lower == "no" || lower == "n" || lower == "off") {
        return success(Kind::boolean, 0);
    }
    return failure("invalid boolean '" + std::string(text) + "'");
}

namespace {

/// An integer scalar's sign and magnitude as YAML (and then Python's int()) reads it; the
/// magnitude is absent when the text is not an integer, `overflow` when it needs over 64 bits.
struct IntParts {
    std::optional<std::uint64_t> magnitude;
    bool negative = false;
    bool overflow = false;
};

IntParts int_parts(std::string_view text, Version version) {
    IntParts out;
    std::string cleaned = without_underscores(text);
    std::string_view v = cleaned;
    if (v.empty()) {
        return out;
    }
    bool& negative = out.negative;
    bool& overflow = out.overflow;
    std::optional<std::uint64_t>& magnitude = out.magnitude;
    if (is_sign(v[0])) {
        negative = v[0] == '-';
        v.remove_prefix(1);
    }
    if (starts_with(v, "0b")) {
        magnitude = parse_magnitude(v.substr(2), 2, overflow);
    } else if (starts_with(v, "0x")) {
        magnitude = parse_magnitude(v.substr(2), 16, overflow);
    } else if (starts_with(v, "0o")) {
        magnitude = parse_magnitude(v.substr(2), 8, overflow);
    } else if (version == Version::v1_1 && v.size() > 1 && v[0] == '0') {
        magnitude = parse_magnitude(v, 8, overflow);
    } else if (version == Version::v1_1 && v.find(':') != std::string_view::npos) {
        // Sexagesimal: each part in base 10, the parts in base 60.
        std::uint64_t value = 0;
        std::size_t start = 0;
        while (true) {
            std::size_t colon = v.find(':', start);
            std::string_view part =
                v.substr(start, colon == std::string_view::npos ? colon : colon - start);
            auto digit = parse_magnitude(part, 10, overflow);
            if (!digit) {
                return IntParts{};
            }
            if (value > (std::numeric_limits<std::uint64_t>::max() - *digit) / 60) {
                overflow = true;
            } else {
                value = value * 60 + *digit;
            }
            if (colon == std::string_view::npos) {
                break;
            }
            start = colon + 1;
        }
        magnitude = value;
    } else {
        // Python's int(): surrounding white space and one more sign are accepted.
        std::string_view rest = strip_blanks(v);
        if (!rest.empty() && is_sign(rest[0])) {
            negative = negative != (rest[0] == '-');
            rest.remove_prefix(1);
        }
        magnitude = parse_magnitude(rest, 10, overflow);
    }
    return out;
}

}  // namespace

ConstructResult construct_int(std::string_view text, Version version) {
    const std::string problem = "invalid integer '" + std::string(text) + "'";
    const IntParts parts = int_parts(text, version);
    const bool negative = parts.negative;
    const bool overflow = parts.overflow;
    const std::optional<std::uint64_t>& magnitude = parts.magnitude;
    if (!magnitude) {
        return failure(problem);
    }
    constexpr std::uint64_t max_positive =
        static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max());
    if (overflow || *magnitude > max_positive + (negative ? 1U : 0U)) {
        return success(Kind::integer, 0, flag_big_int);
    }
    std::int64_t value = 0;
    if (negative) {
        value = *magnitude == max_positive + 1 ? std::numeric_limits<std::int64_t>::min()
                                               : -static_cast<std::int64_t>(*magnitude);
    } else {
        value = static_cast<std::int64_t>(*magnitude);
    }
    return success(Kind::integer, static_cast<std::uint64_t>(value));
}

ConstructResult construct_float(std::string_view text, Version version) {
    const std::string problem = "invalid float '" + std::string(text) + "'";
    std::string lowered = without_underscores(text);
    for (char& c : lowered) {
        if (c >= 'A' && c <= 'Z') {
            c = static_cast<char>(c - 'A' + 'a');
        }
    }
    std::string_view v = lowered;
    if (v.empty()) {
        return failure(problem);
    }
    double sign = 1.0;
    if (v[0] == '-') {
        sign = -1.0;
    }
    if (is_sign(v[0])) {
        v.remove_prefix(1);
    }
    if (v == ".inf") {
        return success(Kind::floating, double_bits(sign * std::numeric_limits<double>::infinity()));
    }
    if (v == ".nan") {
        return success(Kind::floating, double_bits(std::numeric_limits<double>::quiet_NaN()));
    }
    if (version == Version::v1_1 && v.find(':') != std::string_view::npos) {
        double value = 0;
        std::size_t start = 0;
        while (true) {
            std::size_t colon = v.find(':', start);
            std::string_view part =
                v.substr(start, colon == std::string_view::npos ? colon : colon - start);
            auto digit = python_float(part);
            if (!digit) {
                return failure(problem);
            }
            value = value * 60 + *digit;
            if (colon == std::string_view::npos) {
                break;
            }
            start = colon + 1;
        }
        return success(Kind::floating, double_bits(sign * value));
    }
    if (v.find('e') != std::string_view::npos) {
        // ruamel splits the original text into mantissa and exponent on 'e' (else on 'E') and
        // reads the exponent's first character; an explicit !!float can fail there.
        auto count = [&](char e) {
            std::size_t n = 0;
            for (char c : text) {
                n += c == e ? 1 : 0;
            }
            return n;
        };
        const char e = count('e') == 1 ? 'e' : 'E';
        if (count(e) != 1 || text.find(e) + 1 >= text.size()) {
            return failure(problem);
        }
    }
    auto value = python_float(v);
    if (!value) {
        return failure(problem);
    }
    return success(Kind::floating, double_bits(sign * *value));
}

ConstructResult construct_timestamp(std::string_view text) {
    auto parts = parse_timestamp(text);
    if (!parts) {
        return failure("invalid timestamp '" + std::string(text) + "'");
    }
    const std::string invalid = "invalid date or time '" + std::string(text) + "'";
    const int year = small_int(parts->year);
    const int month = small_int(parts->month);
    const int day = small_int(parts->day);
    // Python's date()/datetime() reject what the regular expression lets through.
    if (year < 1 || month < 1 || month > 12 || day < 1 || day > days_in_month(year, month)) {
        return failure(invalid);
    }
    const std::int64_t days =
        days_from_civil(year, static_cast<unsigned>(month), static_cast<unsigned>(day));
    if (!parts->has_time) {
        return success(Kind::date, static_cast<std::uint64_t>(days));
    }
    const int hour = small_int(parts->hour);
    const int minute = small_int(parts->minute);
    const int second = small_int(parts->second);
    if (hour > 23 || minute > 59 || second > 59) {
        return failure(invalid);
    }
    // create_timestamp: six digits of fraction, rounded on the seventh; a fraction that rounds
    // up to a whole second becomes 0 and the second is carried through `delta`.
    constexpr std::int64_t max_frac = 999'999;
    std::int64_t frac = 0;
    if (!parts->fraction.empty()) {
        std::string frac_s(parts->fraction.substr(0, 6));
        frac_s.resize(6, '0');
        frac = small_int(frac_s);
        if (parts->fraction.size() > 6 && parts->fraction[6] > '4') {
            ++frac;
        }
    }
    const std::int64_t fraction = frac > max_frac ? 0 : frac;
    std::int64_t delta_micros = 0;
    if (parts->tz_sign != 0) {
        const std::int64_t tz_minutes =
            small_int(parts->tz_hour) * 60 +
            (parts->tz_minute.empty() ? 0 : small_int(parts->tz_minute));
        delta_micros = (tz_minutes * 60 + (frac > max_frac ? 1 : 0)) * micros_per_second;
        if (parts->tz_sign == '-') {
            delta_micros = -delta_micros;
        }
    } else if (frac > max_frac) {
        delta_micros = -micros_per_second;
    }
    std::int64_t micros =
        days * micros_per_day +
        ((static_cast<std::int64_t>(hour) * 60 + minute) * 60 + second) * micros_per_second +
        fraction;
    micros -= delta_micros;
    const std::int64_t min_micros = days_from_civil(1, 1, 1) * micros_per_day;
    const std::int64_t max_micros = (days_from_civil(9999, 12, 31) + 1) * micros_per_day - 1;
    if (micros < min_micros || micros > max_micros) {
        return failure("timestamp '" + std::string(text) + "' is out of range");
    }
    // RoundTripConstructor returns create_timestamp's plain datetime unless there is a `T` or an
    // offset; then it builds a TimeStamp, and TimeStamp.__deepcopy__ keeps whole seconds only.
    const bool timestamp_object = parts->t || parts->tz_sign != 0;
    return success(Kind::timestamp, static_cast<std::uint64_t>(micros),
                   timestamp_object ? std::uint8_t{flag_drop_fraction} : std::uint8_t{0});
}

std::string iso_string(Kind kind, std::uint64_t payload, bool drop_fraction) {
    std::array<char, 64> buffer{};
    const auto value = static_cast<std::int64_t>(payload);
    if (kind == Kind::date) {
        const Civil c = civil_from_days(value);
        std::snprintf(buffer.data(), buffer.size(), "%04lld-%02u-%02u",
                      static_cast<long long>(c.year), c.month, c.day);
        return buffer.data();
    }
    std::int64_t days = value / micros_per_day;
    std::int64_t rest = value % micros_per_day;
    if (rest < 0) {
        rest += micros_per_day;
        --days;
    }
    const Civil c = civil_from_days(days);
    const std::int64_t micro = rest % micros_per_second;
    const std::int64_t secs = rest / micros_per_second;
    const int written = std::snprintf(
        buffer.data(), buffer.size(), "%04lld-%02u-%02uT%02lld:%02lld:%02lld",
        static_cast<long long>(c.year), c.month, c.day, static_cast<long long>(secs / 3600),
        static_cast<long long>(secs / 60 % 60), static_cast<long long>(secs % 60));
    std::string out(buffer.data(), static_cast<std::size_t>(written));
    if (micro != 0 && !drop_fraction) {
        std::snprintf(buffer.data(), buffer.size(), ".%06lld", static_cast<long long>(micro));
        out += buffer.data();
    }
    return out;
}

std::optional<std::uint64_t> big_int_to_uint64(std::string_view text, Version version) {
    const IntParts parts = int_parts(text, version);
    if (!parts.magnitude || parts.overflow || (parts.negative && *parts.magnitude != 0)) {
        return std::nullopt;
    }
    return parts.magnitude;
}

double big_int_to_double(std::string_view text, Version version) {
    std::string cleaned = without_underscores(text);
    std::string_view v = strip_blanks(cleaned);
    double sign = 1.0;
    if (!v.empty() && is_sign(v[0])) {
        sign = v[0] == '-' ? -1.0 : 1.0;
        v.remove_prefix(1);
    }
    int base = 10;
    if (starts_with(v, "0b")) {
        base = 2;
        v.remove_prefix(2);
    } else if (starts_with(v, "0x")) {
        base = 16;
        v.remove_prefix(2);
    } else if (starts_with(v, "0o")) {
        base = 8;
        v.remove_prefix(2);
    } else if (version == Version::v1_1 && v.size() > 1 && v[0] == '0') {
        base = 8;
    }
    if (base == 10 && v.find(':') == std::string_view::npos) {
        double value = 0;
        auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), value);
        if (ec == std::errc() && end == v.data() + v.size()) {
            return sign * value;
        }
        if (ec == std::errc::result_out_of_range) {
            return sign * std::numeric_limits<double>::infinity();
        }
    }
    // Other bases (and sexagesimal) are rare enough that a long double accumulation will do.
    long double value = 0;
    long double part = 0;
    for (char c : v) {
        if (c == ':') {
            value = value * 60 + part;
            part = 0;
            continue;
        }
        part = part * base + digit_value(c);
    }
    if (v.find(':') != std::string_view::npos) {
        value = value * 60 + part;
    } else {
        value = part;
    }
    return sign * static_cast<double>(value);
}

}  // namespace dataops::yaml::detail
