#pragma once
/// Small file helpers. Know nothing of git-dataops.

#include <optional>
#include <string>

namespace dataops::util {

/// The whole content of the file at `path`, byte for byte; nullopt when it cannot be opened.
std::optional<std::string> read_file(const std::string& path);

}  // namespace dataops::util
