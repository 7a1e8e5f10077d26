#pragma once
/// Small string helpers. Knows nothing of git-dataops.

#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace dataops::util {

bool starts_with(std::string_view text, std::string_view prefix);
bool ends_with(std::string_view text, std::string_view suffix);
/// Without leading and trailing ASCII whitespace.
std::string trim(std::string_view text);
/// Lines without their LF (a final LF does not make an empty last line).
std::vector<std::string> split_lines(std::string_view text);
/// Split on a single character; empty fields are kept.
std::vector<std::string> split(std::string_view text, char separator);
/// `text` broken into lines of at most `width` characters at spaces (a longer word stays whole),
/// each line starting with `prefix` (counted in the width) and ending with a newline.
std::string wrap(std::string_view text, std::size_t width, std::string_view prefix = "");

/// Rows of aligned columns (two spaces apart), each line starting with `indent`; the last column
/// is not padded and no line ends in spaces.
std::string columns(const std::vector<std::vector<std::string>>& rows, std::string_view indent = "");

/// Damerau-Levenshtein (optimal string alignment) distance, for "did you mean" suggestions.
std::size_t edit_distance(std::string_view a, std::string_view b);
/// The candidate closest to `word`, if it is close enough to be a plausible typo.
std::string nearest(std::string_view word, const std::vector<std::string>& candidates);
std::string nearest(std::string_view word, std::span<const std::string_view> candidates);

}  // namespace dataops::util
