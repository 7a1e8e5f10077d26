// libFuzzer target: bytes -> YAML tree -> Meltano project model -> resolution of every
// environment -> validation -> every report format, the path `git dataops validate` and
// `git dataops env show` take on untrusted input.
//
// The input is meltano.yml. Lines of the form `#@file <path>` (a YAML comment, so a plain
// meltano.yml is a valid input as it is) start another file of the project, such as an included
// file or a plugin lock file, so the fuzzer can reach include_paths and lock-file parsing too.
// The files live in memory (MemorySource); nothing touches the disk.
//
// Any exception other than dataops::Error thrown by a FileSource is a finding: the loader,
// resolver and validator promise to report problems of the project's content as diagnostics.
#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include <dataops/git/file_source.hpp>
#include <dataops/meltano/project.hpp>
#include <dataops/meltano/resolve.hpp>
#include <dataops/meltano/validate.hpp>
#include <dataops/report/diagnostics_report.hpp>
#include <dataops/report/env_report.hpp>

namespace {

using namespace dataops;

/// A FileSource over files held in memory; directories are implied by the files' paths.
class MemorySource final : public git::FileSource {
public:
    explicit MemorySource(std::map<std::string, std::string> files) : files_(std::move(files)) {}

    std::string describe() const override { return "the fuzz input"; }
    std::optional<std::string> commit() const override { return std::nullopt; }
    std::optional<std::string> tree() const override { return std::nullopt; }

    git::EntryKind kind(std::string_view path) const override {
        if (files_.count(std::string(path)) != 0) {
            return git::EntryKind::file;
        }
        return path.empty() || is_directory(path) ? git::EntryKind::directory : git::EntryKind::missing;
    }

    std::vector<git::DirEntry> list(std::string_view path) const override {
        std::map<std::string, git::EntryKind> entries;
        const std::string prefix = path.empty() ? std::string() : std::string(path) + "/";
        for (const auto& [name, data] : files_) {
            if (name.compare(0, prefix.size(), prefix) != 0 || name.size() == prefix.size()) {
                continue;
            }
            std::string rest = name.substr(prefix.size());
            const auto slash = rest.find('/');
            if (slash == std::string::npos) {
                entries.emplace(rest, git::EntryKind::file);
            } else {
                entries.emplace(rest.substr(0, slash), git::EntryKind::directory);
            }
        }
        std::vector<git::DirEntry> out;
        for (const auto& [name, kind] : entries) {
            out.push_back({name, kind});
        }
        return out;
    }

    git::ReadResult read(std::string_view path, std::string_view /*confine*/) const override {
        git::ReadResult result;
        auto normal = git::normalize_relative(path);
        if (!normal) {
            result.status = git::ReadResult::Status::outside;
            return result;
        }
        auto found = files_.find(*normal);
        if (found == files_.end()) {
            result.status = is_directory(*normal) ? git::ReadResult::Status::not_a_file
                                                  : git::ReadResult::Status::missing;
            return result;
        }
        result.status = git::ReadResult::Status::ok;
        result.data = found->second;
        result.resolved_path = *normal;
        return result;
    }

private:
    bool is_directory(std::string_view path) const {
        const std::string prefix = std::string(path) + "/";
        auto it = files_.lower_bound(prefix);
        return it != files_.end() && it->first.compare(0, prefix.size(), prefix) == 0;
    }

    std::map<std::string, std::string> files_;
};

/// Split the input into files at `#@file <path>` lines; the first part is meltano.yml.
std::map<std::string, std::string> split_files(std::string_view input) {
    constexpr std::string_view kMarker = "#@file ";
    std::map<std::string, std::string> files;
    std::string current = "meltano.yml";
    std::string text;
    std::size_t at = 0;
    while (at < input.size()) {
        auto end = input.find('\n', at);
        const std::size_t next = end == std::string_view::npos ? input.size() : end + 1;
        std::string_view line = input.substr(at, next - at);
        if (line.substr(0, kMarker.size()) == kMarker) {
            files[current] += text;
            text.clear();
            std::string_view path = line.substr(kMarker.size());
            while (!path.empty() && (path.back() == '\n' || path.back() == '\r')) {
                path.remove_suffix(1);
            }
            current = std::string(path);
        } else {
            text.append(line);
        }
        at = next;
    }
    files[current] += text;
    return files;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view input(reinterpret_cast<const char*>(data), size);
    MemorySource source(split_files(input));
    auto load = meltano::load_project(source, "");

    meltano::ValidateOptions validate_options;
    auto validation = meltano::validate(load, validate_options);
    for (const auto& d : validation.diagnostics) {
        (void)report::format_diagnostic(d);
        (void)report::diagnostic_json(d).dump();
        (void)report::github_annotation(d);
    }
    (void)report::summary(validation.diagnostics);
    (void)meltano::validate_structure(load);
    if (!load.project) {
        return 0;
    }

    (void)report::env_list_text({load.project.get(), std::nullopt});
    (void)report::env_list_json({load.project.get(), std::nullopt}).dump();
    // No environment, then each defined one (a bounded number: resolution is per environment).
    std::vector<std::optional<std::string>> environments = {std::nullopt};
    for (const auto& environment : load.project->environments) {
        if (environments.size() > 4) {
            break;
        }
        environments.emplace_back(environment.name);
    }
    meltano::Resolution previous;
    for (const auto& environment : environments) {
        meltano::ResolveOptions options;
        options.environment = environment;
        options.invocation_env = true;
        auto resolution = meltano::resolve(*load.project, options);
        report::ShowInput show;
        show.resolution = &resolution;
        show.all = true;
        (void)report::show_text(show);
        (void)report::show_json(show).dump();
        (void)report::show_env(show);
        if (environment) {
            auto changes = report::compare(previous, resolution);
            report::DiffSide a{"before", &previous, std::nullopt};
            report::DiffSide b{"after", &resolution, std::nullopt};
            (void)report::diff_text(a, b, changes, false);
            (void)report::diff_json(a, b, changes, true).dump();
        }
        previous = std::move(resolution);
    }
    return 0;
}
