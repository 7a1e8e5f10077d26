#pragma once
/// Small file helpers. Know nothing of git-dataops.

#include <cstddef>
#include <optional>
#include <string>

namespace dataops::util {

/// The whole content of the file at `path`, byte for byte; nullopt when it cannot be opened.
std::optional<std::string> read_file(const std::string& path);

enum class ReadStatus { ok, absent, unusable };

/// The whole of the regular file at `path`, smaller than `limit` bytes, into `out`. absent: no
/// file there (ENOENT, ENOTDIR); unusable: anything else - not a regular file, too big,
/// unreadable, a size that changed while it was read, or with `follow_links` false a symbolic
/// link (O_NOFOLLOW).
ReadStatus read_regular_file(const std::string& path, std::size_t limit, std::string& out,
                             bool follow_links = true);

/// Write `content` to `path` atomically (a temporary file in the same directory, given `mode`,
/// synced, then renamed over `path`). Throws dataops::Error.
void write_atomically(const std::string& path, const std::string& content, unsigned mode);

}  // namespace dataops::util
