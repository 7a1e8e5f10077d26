#include <dataops/meltano/values.hpp>

#include <cmath>
#include <cstdint>
#include <utility>

#include <fmt/format.h>
#include <boost/container/small_vector.hpp>

namespace dataops::meltano {

using Json = nlohmann::ordered_json;

namespace {

Json scalar_to_json(const yaml::NodeRef& node) {
    switch (node.kind()) {
    case yaml::Kind::null:
        return nullptr;
    case yaml::Kind::boolean:
        return node.as_bool();
    case yaml::Kind::integer:
        if (auto big = node.as_big_unsigned()) {
            return *big;  // 2^63 to 2^64 - 1: a JSON number as Python's int prints it
        }
        try {
            return node.as_int();
        } catch (const std::exception&) {
            // Python ints are unbounded; keep what does not fit in 64 bits as its text.
            return std::string(node.text());
        }
    case yaml::Kind::floating:
        return node.as_double();
    case yaml::Kind::date:
    case yaml::Kind::timestamp:
        return node.iso_string();
    default:
        return std::string(node.text());
    }
}

std::string mapping_key_text(const yaml::NodeRef& key) {
    if (key.is_scalar()) {
        if (key.kind() == yaml::Kind::date || key.kind() == yaml::Kind::timestamp) {
            return key.iso_string();
        }
        if (key.kind() == yaml::Kind::null) {
            return "None";
        }
        return std::string(key.text());
    }
    return "<complex key>";
}

bool is_word_byte(unsigned char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c >= 0x80;
}

bool is_upper_var_byte(unsigned char c) {
    return (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

struct Match {
    std::string_view name;
    std::size_t end = 0;
    bool curly = false;
};

/// Match ENV_VAR_PATTERN (without the escape group) at `p`, where text[p] == '$'.
std::optional<Match> match_reference(std::string_view text, std::size_t p) {
    const std::size_t n = text.size();
    if (p + 1 < n && text[p + 1] == '{') {
        std::size_t j = p + 2;
        while (j < n && is_word_byte(static_cast<unsigned char>(text[j]))) {
            ++j;
        }
        if (j > p + 2 && j < n && text[j] == '}') {
            return Match{text.substr(p + 2, j - p - 2), j + 1, true};
        }
        return std::nullopt;
    }
    if (p + 1 < n && text[p + 1] >= 'A' && text[p + 1] <= 'Z') {
        std::size_t j = p + 2;
        while (j < n && is_upper_var_byte(static_cast<unsigned char>(text[j]))) {
            ++j;
        }
        return Match{text.substr(p + 1, j - p - 1), j, false};
    }
    return std::nullopt;
}

void append_restored(std::string& out, const Match& m) {
    if (m.curly) {
        out += "${";
        out += m.name;
        out += '}';
    } else {
        out += '$';
        out += m.name;
    }
}

std::string python_float_repr(double d) {
    if (std::isnan(d)) {
        return "nan";
    }
    if (std::isinf(d)) {
        return d > 0 ? "inf" : "-inf";
    }
    std::string s = fmt::format("{}", d);
    if (s.find_first_of(".en") == std::string::npos) {
        s += ".0";
    }
    return s;
}

std::string python_str_repr(std::string_view s) {
    const bool has_single = s.find('\'') != std::string_view::npos;
    const bool has_double = s.find('"') != std::string_view::npos;
    const char quote = (has_single && !has_double) ? '"' : '\'';
    std::string out(1, quote);
    for (char ch : s) {
        const auto c = static_cast<unsigned char>(ch);
        if (ch == quote || ch == '\\') {
            out += '\\';
            out += ch;
        } else if (ch == '\n') {
            out += "\\n";
        } else if (ch == '\r') {
            out += "\\r";
        } else if (ch == '\t') {
            out += "\\t";
        } else if (c < 0x20 || c == 0x7f) {
            out += fmt::format("\\x{:02x}", c);
        } else {
            out += ch;
        }
    }
    out += quote;
    return out;
}

/// Decode one UTF-8 code point at s[i]; advances i. Invalid bytes decode as themselves.
std::uint32_t decode_utf8(std::string_view s, std::size_t& i) {
    const auto c = static_cast<unsigned char>(s[i]);
    auto cont = [&](std::size_t k) -> std::uint32_t {
        return i + k < s.size() ? static_cast<unsigned char>(s[i + k]) & 0x3Fu : 0u;
    };
    if (c < 0x80) {
        ++i;
        return c;
    }
    if ((c & 0xE0) == 0xC0 && i + 1 < s.size()) {
        const std::uint32_t cp = ((c & 0x1Fu) << 6) | cont(1);
        i += 2;
        return cp;
    }
    if ((c & 0xF0) == 0xE0 && i + 2 < s.size()) {
        const std::uint32_t cp = ((c & 0x0Fu) << 12) | (cont(1) << 6) | cont(2);
        i += 3;
        return cp;
    }
    if ((c & 0xF8) == 0xF0 && i + 3 < s.size()) {
        const std::uint32_t cp = ((c & 0x07u) << 18) | (cont(1) << 12) | (cont(2) << 6) | cont(3);
        i += 4;
        return cp;
    }
    ++i;
    return c;
}

void append_json_string(std::string& out, std::string_view s) {
    out += '"';
    std::size_t i = 0;
    while (i < s.size()) {
        const std::uint32_t cp = decode_utf8(s, i);
        switch (cp) {
        case '"':
            out += "\\\"";
            break;
        case '\\':
            out += "\\\\";
            break;
        case '\n':
            out += "\\n";
            break;
        case '\r':
            out += "\\r";
            break;
        case '\t':
            out += "\\t";
            break;
        case '\b':
            out += "\\b";
            break;
        case '\f':
            out += "\\f";
            break;
        default:
            if (cp < 0x20 || (cp >= 0x7f && cp < 0x10000)) {
                out += fmt::format("\\u{:04x}", cp);
            } else if (cp >= 0x10000) {
                const std::uint32_t v = cp - 0x10000;
                out += fmt::format("\\u{:04x}\\u{:04x}", 0xD800 + (v >> 10), 0xDC00 + (v & 0x3FF));
            } else {
                out += static_cast<char>(cp);
            }
        }
    }
    out += '"';
}

enum class Style { python_repr, json };

void append_scalar(std::string& out, const Json& v, Style style, bool top_level_str) {
    switch (v.type()) {
    case Json::value_t::null:
        out += style == Style::json ? "null" : "None";
        break;
    case Json::value_t::boolean:
        if (style == Style::json) {
            out += v.get<bool>() ? "true" : "false";
        } else {
            out += v.get<bool>() ? "True" : "False";
        }
        break;
    case Json::value_t::number_integer:
        out += std::to_string(v.get<std::int64_t>());
        break;
    case Json::value_t::number_unsigned:
        out += std::to_string(v.get<std::uint64_t>());
        break;
    case Json::value_t::number_float: {
        const double d = v.get<double>();
        if (style == Style::json && std::isnan(d)) {
            out += "NaN";
        } else if (style == Style::json && std::isinf(d)) {
            out += d > 0 ? "Infinity" : "-Infinity";
        } else {
            out += python_float_repr(d);
        }
        break;
    }
    case Json::value_t::string:
        if (style == Style::json) {
            append_json_string(out, v.get_ref<const std::string&>());
        } else if (top_level_str) {
            out += v.get_ref<const std::string&>();
        } else {
            out += python_str_repr(v.get_ref<const std::string&>());
        }
        break;
    default:
        out += style == Style::json ? "null" : "None";
        break;
    }
}

/// Serialise iteratively in Python's repr or json.dumps style.
std::string serialise(const Json& root, Style style) {
    std::string out;
    if (!root.is_structured()) {
        append_scalar(out, root, style, true);
        return out;
    }
    struct Frame {
        const Json* value;
        Json::const_iterator it;
        bool first;
    };
    std::vector<Frame> stack;
    auto open = [&](const Json& v) {
        out += v.is_object() ? '{' : '[';
        stack.push_back(Frame{&v, v.cbegin(), true});
    };
    open(root);
    while (!stack.empty()) {
        Frame& f = stack.back();
        if (f.it == f.value->cend()) {
            out += f.value->is_object() ? '}' : ']';
            stack.pop_back();
            continue;
        }
        if (!f.first) {
            out += ", ";
        }
        f.first = false;
        if (f.value->is_object()) {
            if (style == Style::json) {
                append_json_string(out, f.it.key());
            } else {
                out += python_str_repr(f.it.key());
            }
            out += ": ";
        }
        const Json& child = *f.it;
        ++f.it;
        if (child.is_structured()) {
            open(child);  // invalidates `f`, which is not used again this round
        } else {
            append_scalar(out, child, style, false);
        }
    }
    return out;
}

// ---- a small Python literal parser (ast.literal_eval's common subset) ----

class LiteralParser {
public:
    explicit LiteralParser(std::string_view text) : text_(text) {}

    std::optional<Json> parse() {
        auto v = value(0);
        skip_ws();
        if (!v || pos_ != text_.size()) {
            return std::nullopt;
        }
        return v;
    }

private:
    static constexpr int max_depth = 256;

    void skip_ws() {
        while (pos_ < text_.size() &&
               (text_[pos_] == ' ' || text_[pos_] == '\t' || text_[pos_] == '\n' ||
                text_[pos_] == '\r')) {
            ++pos_;
        }
    }

    bool eat(char c) {
        skip_ws();
        if (pos_ < text_.size() && text_[pos_] == c) {
            ++pos_;
            return true;
        }
        return false;
    }

    std::optional<Json> value(int depth) {
        if (depth > max_depth) {
            return std::nullopt;
        }
        skip_ws();
        if (pos_ >= text_.size()) {
            return std::nullopt;
        }
        const char c = text_[pos_];
        if (c == '{') {
            ++pos_;
            return dict_or_set(depth);
        }
        if (c == '[' || c == '(') {
            ++pos_;
            return sequence(c == '[' ? ']' : ')', depth);
        }
        if (c == '\'' || c == '"') {
            return string_literal();
        }
        if (text_.compare(pos_, 4, "True") == 0) {
            pos_ += 4;
            return Json(true);
        }
        if (text_.compare(pos_, 5, "False") == 0) {
            pos_ += 5;
            return Json(false);
        }
        if (text_.compare(pos_, 4, "None") == 0) {
            pos_ += 4;
            return Json(nullptr);
        }
        return number();
    }

    static std::string key_text(const Json& k) {
        return k.is_string() ? k.get<std::string>() : python_str(k);
    }

    std::optional<Json> dict_or_set(int depth) {
        if (eat('}')) {
            return Json::object();
        }
        auto k = value(depth + 1);
        if (!k || !eat(':')) {
            // A set literal is not a Mapping or a Sequence: Meltano rejects it either way.
            return std::nullopt;
        }
        Json obj = Json::object();
        while (true) {
            auto v = value(depth + 1);
            if (!v) {
                return std::nullopt;
            }
            obj[key_text(*k)] = std::move(*v);
            if (eat('}')) {
                return obj;
            }
            if (!eat(',')) {
                return std::nullopt;
            }
            if (eat('}')) {
                return obj;
            }
            k = value(depth + 1);
            if (!k || !eat(':')) {
                return std::nullopt;
            }
        }
    }

    std::optional<Json> sequence(char close, int depth) {
        Json arr = Json::array();
        bool first = true;
        while (true) {
            if (eat(close)) {
                return arr;
            }
            if (!first && !eat(',')) {
                return std::nullopt;
            }
            if (!first && eat(close)) {
                return arr;
            }
            first = false;
            auto v = value(depth + 1);
            if (!v) {
                return std::nullopt;
            }
            arr.push_back(std::move(*v));
        }
    }

    std::optional<Json> string_literal() {
        const char quote = text_[pos_++];
        std::string out;
        while (pos_ < text_.size() && text_[pos_] != quote) {
            char c = text_[pos_++];
            if (c == '\\' && pos_ < text_.size()) {
                const char e = text_[pos_++];
                switch (e) {
                case 'n':
                    out += '\n';
                    break;
                case 't':
                    out += '\t';
                    break;
                case 'r':
                    out += '\r';
                    break;
                case '0':
                    out += '\0';
                    break;
                default:
                    out += e;
                }
                continue;
            }
            out += c;
        }
        if (pos_ >= text_.size()) {
            return std::nullopt;
        }
        ++pos_;
        return Json(out);
    }

    std::optional<Json> number() {
        const std::size_t start = pos_;
        while (pos_ < text_.size() &&
               (std::isalnum(static_cast<unsigned char>(text_[pos_])) != 0 || text_[pos_] == '.' ||
                text_[pos_] == '-' || text_[pos_] == '+' || text_[pos_] == '_')) {
            ++pos_;
        }
        std::string digits;
        for (std::size_t i = start; i < pos_; ++i) {
            if (text_[i] != '_') {
                digits += text_[i];
            }
        }
        if (digits.empty()) {
            return std::nullopt;
        }
        Json parsed = Json::parse(digits, nullptr, false);
        if (parsed.is_discarded() || !parsed.is_number()) {
            return std::nullopt;
        }
        return parsed;
    }

    std::string_view text_;
    std::size_t pos_ = 0;
};

}  // namespace

Json yaml_to_json(const yaml::NodeRef& node) {
    Json result;
    if (!node) {
        return result;
    }
    if (!node.is_sequence() && !node.is_mapping()) {
        return scalar_to_json(node);
    }
    // Inline up to a few levels: most values are small (a stack allocated for each value was
    // some 5% of the calls to malloc of `validate --all` on the 2,000-plugin benchmark project).
    boost::container::small_vector<std::pair<yaml::NodeRef, Json*>, 16> stack;
    stack.emplace_back(node, &result);
    while (!stack.empty()) {
        auto [n, target] = stack.back();
        stack.pop_back();
        if (n.is_sequence()) {
            *target = Json::array();
            const std::size_t size = n.size();
            auto& arr = target->get_ref<Json::array_t&>();
            arr.resize(size);
            // The array is complete before any child is filled in, so the pointers stay valid.
            for (std::size_t i = 0; i < size; ++i) {
                stack.emplace_back(n.at(i), &arr[i]);
            }
        } else if (n.is_mapping()) {
            *target = Json::object();
            const std::size_t size = n.size();
            auto& obj = target->get_ref<Json::object_t&>();
            obj.reserve(size);
            // Append to the underlying vector: operator[] would search linearly for every key.
            for (std::size_t i = 0; i < size; ++i) {
                obj.Container::emplace_back(mapping_key_text(n.key(i)), nullptr);
            }
            for (std::size_t i = 0; i < size; ++i) {
                stack.emplace_back(n.value(i), &obj.Container::operator[](i).second);
            }
        } else {
            *target = scalar_to_json(n);
        }
    }
    return result;
}

namespace {

/// What to_env_var makes of one byte: upper-cased letters and digits, '_' for anything else, and
/// nothing ('\0') for a UTF-8 continuation byte (Python replaced the whole code point with one '_').
char env_var_char(char ch) {
    const auto c = static_cast<unsigned char>(ch);
    if (c >= 'a' && c <= 'z') {
        return static_cast<char>(c - 'a' + 'A');
    }
    if ((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) {
        return ch;
    }
    return (c & 0xC0) == 0x80 ? '\0' : '_';
}

}  // namespace

std::string to_env_var(std::string_view prefix, std::string_view name) {
    // Written through a pointer into a pre-sized buffer: this runs for every name of every
    // setting when a project is prepared, and appending char by char dominated it.
    std::string out(prefix.size() + name.size() + 1, '\0');
    char* const begin = out.data();
    char* w = begin;
    for (std::string_view part : {prefix, name}) {
        if (part.empty()) {
            continue;
        }
        if (w != begin) {
            *w++ = '_';
        }
        for (char ch : part) {
            if (const char converted = env_var_char(ch)) {
                *w++ = converted;
            }
        }
    }
    out.resize(static_cast<std::size_t>(w - begin));
    return out;
}

bool is_env_var_of(std::string_view converted, std::string_view name) {
    std::size_t at = 0;
    for (char ch : name) {
        const char c = env_var_char(ch);
        if (c == '\0') {
            continue;
        }
        if (at == converted.size() || converted[at] != c) {
            return false;
        }
        ++at;
    }
    return at == converted.size();
}

std::string python_str(const Json& value) { return serialise(value, Style::python_repr); }

std::string python_json_dumps(const Json& value) { return serialise(value, Style::json); }

bool json_equal(const Json& a, const Json& b) {
    std::vector<std::pair<const Json*, const Json*>> stack;
    stack.emplace_back(&a, &b);
    while (!stack.empty()) {
        auto [x, y] = stack.back();
        stack.pop_back();
        if (x->is_number() && y->is_number()) {
            if (x->is_number_float() || y->is_number_float()) {
                if (x->get<double>() != y->get<double>()) {
                    return false;
                }
            } else if (*x != *y) {
                return false;
            }
            continue;
        }
        if (x->type() != y->type()) {
            return false;
        }
        if (x->is_array()) {
            if (x->size() != y->size()) {
                return false;
            }
            for (std::size_t i = 0; i < x->size(); ++i) {
                stack.emplace_back(&(*x)[i], &(*y)[i]);
            }
        } else if (x->is_object()) {
            if (x->size() != y->size()) {
                return false;
            }
            for (auto it = x->cbegin(); it != x->cend(); ++it) {
                auto found = y->find(it.key());
                if (found == y->cend()) {
                    return false;
                }
                stack.emplace_back(&*it, &*found);
            }
        } else if (*x != *y) {
            return false;
        }
    }
    return true;
}

Json json_copy(const Json& value) {
    if (!value.is_structured()) {
        return value;
    }
    Json result;
    boost::container::small_vector<std::pair<const Json*, Json*>, 16> stack{{&value, &result}};
    while (!stack.empty()) {
        auto [src, dst] = stack.back();
        stack.pop_back();
        if (src->is_array()) {
            *dst = Json::array();
            auto& arr = dst->get_ref<Json::array_t&>();
            arr.resize(src->size());
            for (std::size_t i = 0; i < src->size(); ++i) {
                stack.emplace_back(&(*src)[i], &arr[i]);
            }
        } else if (src->is_object()) {
            *dst = Json::object();
            auto& obj = dst->get_ref<Json::object_t&>();
            obj.reserve(src->size());
            for (auto it = src->begin(); it != src->end(); ++it) {
                obj.Container::emplace_back(it.key(), nullptr);
            }
            std::size_t i = 0;
            for (auto it = src->begin(); it != src->end(); ++it, ++i) {
                stack.emplace_back(&it.value(), &obj.Container::operator[](i).second);
            }
        } else {
            *dst = *src;
        }
    }
    return result;
}

bool json_truthy(const Json& value) {
    switch (value.type()) {
    case Json::value_t::null:
        return false;
    case Json::value_t::boolean:
        return value.get<bool>();
    case Json::value_t::number_integer:
        return value.get<std::int64_t>() != 0;
    case Json::value_t::number_unsigned:
        return value.get<std::uint64_t>() != 0;
    case Json::value_t::number_float:
        return value.get<double>() != 0.0;
    case Json::value_t::string:
        return !value.get_ref<const std::string&>().empty();
    case Json::value_t::array:
    case Json::value_t::object:
        return !value.empty();
    default:
        return true;
    }
}

bool has_reference(std::string_view text) { return text.find('$') != std::string_view::npos; }

std::string expand_string(std::string_view text, const VariableResolver& resolve,
                          std::vector<std::string>* missing) {
    std::string out;
    out.reserve(text.size());
    std::size_t i = 0;
    const std::size_t n = text.size();
    while (i < n) {
        const char c = text[i];
        if (c == '\\' && i + 1 < n && text[i + 1] == '$') {
            if (auto m = match_reference(text, i + 1)) {
                append_restored(out, *m);  // escaped: the backslash is consumed
                i = m->end;
                continue;
            }
            out += c;
            ++i;
            continue;
        }
        if (c == '$') {
            if (auto m = match_reference(text, i)) {
                VariableLookup found = resolve(m->name);
                if (found.status == VariableLookup::Status::found) {
                    out += found.value;
                } else if (found.status == VariableLookup::Status::keep) {
                    append_restored(out, *m);
                } else if (missing != nullptr) {
                    missing->emplace_back(m->name);
                }
                i = m->end;
                continue;
            }
        }
        out += c;
        ++i;
    }
    return out;
}

namespace {

/// expand_json on a copy of its own: every string inside `value` expanded in place.
bool expand_in_place(Json& value, const VariableResolver& resolve,
                     std::vector<std::string>* missing) {
    bool changed = false;
    boost::container::small_vector<Json*, 16> stack{&value};
    while (!stack.empty()) {
        Json* v = stack.back();
        stack.pop_back();
        if (v->is_string()) {
            const auto& s = v->get_ref<const std::string&>();
            if (!has_reference(s)) {
                continue;
            }
            std::string expanded = expand_string(s, resolve, missing);
            if (expanded != s) {
                *v = std::move(expanded);
                changed = true;
            }
        } else if (v->is_structured()) {
            for (auto& child : *v) {
                if (child.is_string() || child.is_structured()) {
                    stack.push_back(&child);
                }
            }
        }
    }
    return changed;
}

}  // namespace

std::optional<Json> expand_json(const Json& value, const VariableResolver& resolve,
                                std::vector<std::string>* missing) {
    if (value.is_string()) {
        const auto& text = value.get_ref<const std::string&>();
        if (!has_reference(text)) {
            return std::nullopt;
        }
        std::string expanded = expand_string(text, resolve, missing);
        if (expanded == text) {
            return std::nullopt;
        }
        return Json(std::move(expanded));
    }
    if (!value.is_structured()) {
        return std::nullopt;
    }
    Json copy = json_copy(value);
    if (!expand_in_place(copy, resolve, missing)) {
        return std::nullopt;
    }
    return copy;
}

std::string valid_utf8(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    for (std::size_t i = 0; i < text.size();) {
        const auto byte = [&](std::size_t k) { return static_cast<unsigned char>(text[i + k]); };
        const unsigned char lead = byte(0);
        const std::size_t length = lead < 0x80 ? 1 : (lead >> 5) == 0x6 ? 2 : (lead >> 4) == 0xE ? 3
                                                   : (lead >> 3) == 0x1E                     ? 4
                                                                                             : 0;
        bool ok = length != 0 && i + length <= text.size();
        std::uint32_t code = length == 1 ? lead : lead & (0x7FU >> length);
        for (std::size_t k = 1; ok && k < length; ++k) {
            ok = (byte(k) & 0xC0U) == 0x80U;
            code = (code << 6) | (byte(k) & 0x3FU);
        }
        // No overlong forms, no surrogates, nothing past U+10FFFF.
        ok = ok && (length != 2 || code >= 0x80) && (length != 3 || (code >= 0x800 && (code < 0xD800 || code > 0xDFFF))) &&
             (length != 4 || (code >= 0x10000 && code <= 0x10FFFF));
        if (ok) {
            out.append(text.substr(i, length));
            i += length;
        } else {
            out += "\xEF\xBF\xBD";
            ++i;
        }
    }
    return out;
}

std::optional<Json> parse_json_bounded(std::string_view text, std::string& error, std::size_t& offset) {
    bool too_deep = false;
    // nlohmann's parser keeps its own stack; the callback only watches the depth.
    auto watch = [&too_deep](int depth, Json::parse_event_t event, Json&) {
        if ((event == Json::parse_event_t::object_start || event == Json::parse_event_t::array_start) &&
            depth >= max_json_depth) {
            too_deep = true;
            return false;
        }
        return !too_deep;
    };
    try {
        Json parsed = Json::parse(text.begin(), text.end(), watch);
        if (!too_deep) {
            return parsed;
        }
        error = "arrays and objects are nested more than " + std::to_string(max_json_depth) +
                " levels deep (Python's json module fails with a RecursionError)";
        offset = 0;
    } catch (const Json::parse_error& e) {
        error = e.what();
        offset = e.byte;
    }
    return std::nullopt;
}

std::optional<Json> parse_json_or_literal(std::string_view text) {
    std::string error;
    std::size_t offset = 0;
    if (auto parsed = parse_json_bounded(text, error, offset)) {
        return parsed;
    }
    return LiteralParser(text).parse();
}

}  // namespace dataops::meltano
