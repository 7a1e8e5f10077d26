#pragma once
/// git configuration as the user's `git` sees it: every file, includes, and `git -c` overrides
/// (GIT_CONFIG_PARAMETERS, GIT_CONFIG_COUNT), read once through `git config -z --list`.

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace dataops::git {

class Config {
public:
    Config() = default;
    /// Parse the output of `git config -z --list`. Throws dataops::Error on malformed input.
    static Config parse_z_list(std::string_view text);

    /// The last value of `key` ("section.name" or "section.subsection.name"; section and name are
    /// case-insensitive, the subsection is not). A key given without "=value" reads as "true".
    std::optional<std::string> get(std::string_view key) const;
    /// Every value of a multi-valued key, in order.
    std::vector<std::string> get_all(std::string_view key) const;
    /// git's boolean parsing (true/yes/on/1, false/no/off/0/empty). Throws dataops::Error naming
    /// the key when the value is not a boolean.
    std::optional<bool> get_bool(std::string_view key) const;
    /// The subsections that have at least one key in `section` ("remote" -> {"origin", ...}), in
    /// order of first appearance.
    std::vector<std::string> subsections(std::string_view section) const;

    /// Every (key, value) pair with normalised keys, in order.
    const std::vector<std::pair<std::string, std::string>>& entries() const { return entries_; }

    /// Normalise a key the way git does (lower-case section and name).
    static std::string normalize_key(std::string_view key);

private:
    std::vector<std::pair<std::string, std::string>> entries_;
};

/// git's boolean parsing of one value; nullopt when it is not a boolean.
std::optional<bool> parse_bool(std::string_view value);

}  // namespace dataops::git
