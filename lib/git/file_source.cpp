#include <dataops/git/file_source.hpp>

namespace dataops::git {

std::optional<std::string> normalize_relative(std::string_view path) {
    if (!path.empty() && path.front() == '/') {
        return std::nullopt;
    }
    std::vector<std::string_view> parts;
    std::size_t start = 0;
    while (start <= path.size()) {
        std::size_t end = path.find('/', start);
        if (end == std::string_view::npos) {
            end = path.size();
        }
        std::string_view part = path.substr(start, end - start);
        if (part == "..") {
            if (parts.empty()) {
                return std::nullopt;
            }
            parts.pop_back();
        } else if (!part.empty() && part != ".") {
            parts.push_back(part);
        }
        start = end + 1;
    }
    std::string out;
    for (const auto& part : parts) {
        if (!out.empty()) {
            out += '/';
        }
        out += part;
    }
    return out;
}

std::string join_path(std::string_view dir, std::string_view name) {
    if (dir.empty()) {
        return std::string(name);
    }
    if (name.empty()) {
        return std::string(dir);
    }
    std::string out(dir);
    out += '/';
    out += name;
    return out;
}

bool path_within(std::string_view path, std::string_view dir) {
    if (dir.empty()) {
        return true;
    }
    if (path.size() < dir.size() || path.substr(0, dir.size()) != dir) {
        return false;
    }
    return path.size() == dir.size() || path[dir.size()] == '/';
}

}  // namespace dataops::git
