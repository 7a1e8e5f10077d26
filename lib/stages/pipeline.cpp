#include <dataops/stages/pipeline.hpp>

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <optional>
#include <system_error>

#include <dataops/git/file_source.hpp>
#include <dataops/util/error.hpp>
#include <dataops/util/strings.hpp>
#include <fmt/format.h>

namespace dataops::stages {

const Stage* Pipeline::find(std::string_view name) const {
    for (const auto& stage : stages) {
        if (stage.name == name) {
            return &stage;
        }
    }
    return nullptr;
}

const Stage* Pipeline::previous(const Stage& stage) const {
    for (std::size_t i = 1; i < stages.size(); ++i) {
        if (stages[i].name == stage.name) {
            return &stages[i - 1];
        }
    }
    return nullptr;
}

std::vector<std::string> split_stage_list(std::string_view text) {
    std::vector<std::string> out;
    std::string current;
    for (char c : text) {
        if (c == ',' || std::isspace(static_cast<unsigned char>(c)) != 0) {
            if (!current.empty()) {
                out.push_back(current);
                current.clear();
            }
        } else {
            current += c;
        }
    }
    if (!current.empty()) {
        out.push_back(current);
    }
    return out;
}

bool valid_stage_name(std::string_view name) {
    return !name.empty() && std::all_of(name.begin(), name.end(), [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '-' || c == '_' || c == '.';
    });
}

Pipeline load_pipeline(const git::Config& config) {
    Pipeline pipeline;
    std::vector<std::string> names = {"dev", "staging", "prod"};
    if (auto configured = config.get("dataops.stages")) {
        names = split_stage_list(*configured);
        pipeline.configured = true;
        if (names.empty()) {
            throw Error("bad config value for 'dataops.stages': no stages",
                        {"list them in order: git config dataops.stages 'dev staging prod'"});
        }
    }
    for (const auto& name : names) {
        if (!valid_stage_name(name)) {
            throw Error(fmt::format("bad stage name '{}' in 'dataops.stages'", name),
                        {"use letters, digits, '-', '_' and '.'"});
        }
        if (pipeline.find(name) != nullptr) {
            throw Error(fmt::format("stage '{}' appears twice in 'dataops.stages'", name));
        }
        Stage stage;
        stage.name = name;
        stage.remote = config.get(fmt::format("dataops.{}.remote", name)).value_or(name);
        stage.branch = config.get(fmt::format("dataops.{}.branch", name)).value_or("main");
        stage.environment = config.get(fmt::format("dataops.{}.environment", name)).value_or(name);
        if (util::starts_with(stage.branch, "refs/heads/")) {
            stage.branch.erase(0, 11);
        }
        pipeline.stages.push_back(std::move(stage));
    }
    return pipeline;
}

std::optional<std::string> configured_project_dir(const git::Config& config) {
    auto configured = config.get("dataops.project");
    if (!configured) {
        return std::nullopt;
    }
    auto normal = git::normalize_relative(*configured);
    if (!normal) {
        throw Error(fmt::format("bad config value '{}' for 'dataops.project': outside the repository", *configured),
                    {"use a path relative to the repository root"});
    }
    return normal;
}

std::vector<std::string> remote_urls(const git::Config& config, std::string_view remote) {
    auto urls = config.get_all(fmt::format("remote.{}.pushurl", remote));
    if (urls.empty()) {
        urls = config.get_all(fmt::format("remote.{}.url", remote));
    }
    return urls;
}

namespace {

/// Whether `url` starts with `<scheme>://`, as git's is_url() decides.
bool has_scheme(std::string_view url) {
    const std::size_t end = url.find("://");
    if (end == std::string_view::npos || end == 0 || !std::isalpha(static_cast<unsigned char>(url[0]))) {
        return false;
    }
    return std::all_of(url.begin(), url.begin() + static_cast<std::ptrdiff_t>(end), [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) || c == '+' || c == '-' || c == '.';
    });
}

/// The path of a URL that git reads as a local repository (a `file://` URL, or no scheme and no
/// ':' before the first '/', which would make it ssh's `host:path`), absolute from the current
/// directory and with symbolic links resolved; nullopt for any other URL. The hook runs where
/// git resolved relative paths itself (the top of the work tree, or $GIT_DIR when bare).
std::optional<std::string> local_repository_path(std::string_view url) {
    std::string_view path = url;
    if (util::starts_with(url, "file://")) {
        path = url.substr(7);
    } else if (has_scheme(url)) {
        return std::nullopt;
    } else {
        const std::size_t colon = url.find(':');
        if (colon != std::string_view::npos && colon < url.find('/')) {
            return std::nullopt;
        }
    }
    if (path.empty()) {
        return std::nullopt;
    }
    std::error_code error;
    const std::filesystem::path absolute = std::filesystem::absolute(path, error);
    if (error) {
        return std::nullopt;
    }
    const std::filesystem::path canonical = std::filesystem::weakly_canonical(absolute, error);
    return (error ? absolute.lexically_normal() : canonical).string();
}

/// URLs compare equal modulo a trailing slash and a trailing ".git" (git tries `<path>.git` and
/// `<path>/.git` for a local path too); a local repository's, however its path is spelt
/// (relative, `file://`, through `..` or a symbolic link).
std::string comparable_url(std::string url) {
    if (auto local = local_repository_path(url)) {
        url = std::move(*local);
    }
    while (!url.empty() && url.back() == '/') {
        url.pop_back();
    }
    if (util::ends_with(url, "/.git")) {
        url.erase(url.size() - 5);
    } else if (util::ends_with(url, ".git")) {
        url.erase(url.size() - 4);
    }
    return url;
}

}  // namespace

const Stage* match_push(const Pipeline& pipeline, const git::Config& config, std::string_view remote_name,
                        std::string_view remote_url, std::string_view remote_ref) {
    const std::string branch_ref_prefix = "refs/heads/";
    if (!util::starts_with(remote_ref, branch_ref_prefix)) {
        return nullptr;
    }
    std::string_view branch = remote_ref.substr(branch_ref_prefix.size());
    // A named remote: git passes its name; a URL pushed to directly: git passes the URL twice.
    for (const auto& stage : pipeline.stages) {
        if (stage.remote == remote_name && remote_name != remote_url) {
            return stage.branch == branch ? &stage : nullptr;
        }
    }
    const std::string wanted = comparable_url(std::string(remote_url));
    for (const auto& stage : pipeline.stages) {
        for (const auto& url : remote_urls(config, stage.remote)) {
            if (comparable_url(url) == wanted && stage.branch == branch) {
                return &stage;
            }
        }
    }
    return nullptr;
}

}  // namespace dataops::stages
