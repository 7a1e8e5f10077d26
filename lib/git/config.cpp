#include <dataops/git/config.hpp>

#include <algorithm>
#include <cctype>

#include <dataops/util/error.hpp>
#include <fmt/format.h>

namespace dataops::git {
namespace {

std::string lower(std::string_view text) {
    std::string out(text);
    std::transform(out.begin(), out.end(), out.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return out;
}

}  // namespace

std::string Config::normalize_key(std::string_view key) {
    auto first = key.find('.');
    auto last = key.rfind('.');
    if (first == std::string_view::npos) {
        return lower(key);
    }
    std::string out = lower(key.substr(0, first));
    out += key.substr(first, last - first);  // ".subsection" keeps its case
    out += '.';
    out += lower(key.substr(last + 1));
    return out;
}

Config Config::parse_z_list(std::string_view text) {
    Config config;
    std::size_t pos = 0;
    while (pos < text.size()) {
        std::size_t end = text.find('\0', pos);
        if (end == std::string_view::npos) {
            throw Error("cannot parse the output of 'git config -z --list'");
        }
        std::string_view entry = text.substr(pos, end - pos);
        std::size_t newline = entry.find('\n');
        if (newline == std::string_view::npos) {
            config.entries_.emplace_back(normalize_key(entry), "true");
        } else {
            config.entries_.emplace_back(normalize_key(entry.substr(0, newline)),
                                         std::string(entry.substr(newline + 1)));
        }
        pos = end + 1;
    }
    return config;
}

std::optional<std::string> Config::get(std::string_view key) const {
    const std::string wanted = normalize_key(key);
    for (auto it = entries_.rbegin(); it != entries_.rend(); ++it) {
        if (it->first == wanted) {
            return it->second;
        }
    }
    return std::nullopt;
}

std::vector<std::string> Config::get_all(std::string_view key) const {
    const std::string wanted = normalize_key(key);
    std::vector<std::string> out;
    for (const auto& [name, value] : entries_) {
        if (name == wanted) {
            out.push_back(value);
        }
    }
    return out;
}

std::optional<bool> parse_bool(std::string_view value) {
    const std::string v = lower(value);
    if (v == "true" || v == "yes" || v == "on" || v == "1") {
        return true;
    }
    if (v == "false" || v == "no" || v == "off" || v == "0" || v.empty()) {
        return false;
    }
    return std::nullopt;
}

std::optional<bool> Config::get_bool(std::string_view key) const {
    auto value = get(key);
    if (!value) {
        return std::nullopt;
    }
    auto parsed = parse_bool(*value);
    if (!parsed) {
        throw Error(fmt::format("bad boolean config value '{}' for '{}'", *value, key));
    }
    return parsed;
}

std::vector<std::string> Config::subsections(std::string_view section) const {
    const std::string prefix = lower(section) + ".";
    std::vector<std::string> out;
    for (const auto& [name, value] : entries_) {
        auto last = name.rfind('.');
        if (name.rfind(prefix, 0) != 0 || last <= prefix.size()) {
            continue;
        }
        std::string sub = name.substr(prefix.size(), last - prefix.size());
        if (std::find(out.begin(), out.end(), sub) == out.end()) {
            out.push_back(sub);
        }
    }
    return out;
}

}  // namespace dataops::git
