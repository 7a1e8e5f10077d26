#include <dataops/git/merge_ort.hpp>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <set>
#include <unistd.h>

#include <dataops/git/config.hpp>
#include <dataops/process/process.hpp>
#include <dataops/util/error.hpp>
#include <dataops/util/files.hpp>
#include <fmt/format.h>

namespace dataops::git {
namespace {

/// The next NUL-terminated field of `out` from `at`; nullopt when there is no NUL left.
std::optional<std::string_view> field(std::string_view out, std::size_t& at) {
    const auto end = out.find('\0', at);
    if (end == std::string_view::npos) {
        return std::nullopt;
    }
    std::string_view f = out.substr(at, end - at);
    at = end + 1;
    return f;
}

bool is_hex_id(std::string_view text) {
    return text.size() >= 40 && std::all_of(text.begin(), text.end(), [](char c) {
        return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
    });
}

/// A marker line: `marker_size` times `c`, then the end of the line or a space and a label.
bool is_marker(std::string_view line, char c, std::size_t marker_size, bool labelled) {
    if (line.size() < marker_size || line.find_first_not_of(c) < marker_size) {
        return false;
    }
    std::string_view rest = line.substr(marker_size);
    if (rest.empty()) {
        return true;
    }
    return labelled && rest.front() == ' ';
}

/// A temporary file of attributes that asks merge-ort for wide conflict markers, removed with
/// this object: nothing is left in the repository.
class MarkerAttributes {
public:
    /// `user`: the attributes the user's own core.attributesFile holds, kept ahead of ours.
    explicit MarkerAttributes(const std::string& user) {
        const char* tmpdir = std::getenv("TMPDIR");
        std::string pattern = std::string(tmpdir != nullptr && *tmpdir != '\0' ? tmpdir : "/tmp") +
                              "/git-dataops-attributes-XXXXXX";
        const int fd = mkstemp(pattern.data());
        if (fd < 0) {
            throw Error(fmt::format("cannot create a temporary file in '{}': {}",
                                    pattern.substr(0, pattern.rfind('/')), std::strerror(errno)));
        }
        path_ = pattern;
        // Handing git this file replaces the user's core.attributesFile: its attributes (merge
        // drivers, binary, eol) come first so they still apply; the last line wins only the
        // marker size.
        std::string content = user;
        if (!content.empty() && content.back() != '\n') {
            content += '\n';
        }
        content += fmt::format("* conflict-marker-size={}\n", ort_marker_size);
        const bool written = write(fd, content.data(), content.size()) == static_cast<ssize_t>(content.size());
        close(fd);
        if (!written) {
            std::remove(path_.c_str());
            throw Error(fmt::format("cannot write '{}'", path_));
        }
    }
    ~MarkerAttributes() { std::remove(path_.c_str()); }
    MarkerAttributes(const MarkerAttributes&) = delete;
    MarkerAttributes& operator=(const MarkerAttributes&) = delete;
    const std::string& path() const { return path_; }

private:
    std::string path_;
};

/// Types of merge-ort's messages that -X theirs resolves: a content conflict takes the source's
/// side of each conflicting hunk, a binary file the source's version.
bool resolved_by_theirs(const MergeTreeOutput::Message& message) {
    return message.paths.size() == 1 &&
           (message.type == "CONFLICT (contents)" || message.type == "CONFLICT (binary)");
}

bool is_conflict(const MergeTreeOutput::Message& message) {
    return message.type.rfind("CONFLICT", 0) == 0;
}

/// Conflicts that what each side holds at the path explains; for the others (renames, directory
/// renames) git's own message says more.
bool described_by_sides(const MergeTreeOutput::Message& message) {
    static const std::set<std::string, std::less<>> types = {
        "CONFLICT (modify/delete)", "CONFLICT (file/directory)", "CONFLICT (distinct modes)",
        "CONFLICT (distinct types)", "CONFLICT (contents)",      "CONFLICT (binary)"};
    return types.count(message.type) != 0 || message.type.rfind("CONFLICT (submodule", 0) == 0;
}

/// git's message without its `CONFLICT (type): ` prefix, the commits it names as target/source.
std::string git_reason(const MergeTreeOutput::Message& message, const std::string& ours, const std::string& theirs) {
    std::string text = message.text;
    if (auto colon = text.find("): "); text.rfind("CONFLICT (", 0) == 0 && colon != std::string::npos) {
        text = text.substr(colon + 3);
    }
    for (const auto& [id, name] : {std::pair{ours, "target"}, std::pair{theirs, "source"}}) {
        for (auto at = text.find(id); at != std::string::npos; at = text.find(id, at)) {
            text.replace(at, id.size(), name);
        }
    }
    // git wraps its messages: one line, for "conflict in 'path': <reason>".
    std::replace(text.begin(), text.end(), '\n', ' ');
    while (!text.empty() && (text.back() == ' ' || text.back() == '.')) {
        text.pop_back();
    }
    auto type = message.type;
    if (auto open = type.find('('); open != std::string::npos && type.back() == ')') {
        type = type.substr(open + 1, type.size() - open - 2);
    }
    return fmt::format("{}: {}", type, text);
}

}  // namespace

std::optional<std::string> describe_sides(std::optional<std::string_view> target,
                                          std::optional<std::string_view> source, bool in_base) {
    if (target && source) {
        if (*target == "directory" && *source != "directory") {
            return fmt::format("file/directory: a directory in target, a {} in source", *source);
        }
        if (*source == "directory" && *target != "directory") {
            return fmt::format("file/directory: a {} in target, a directory in source", *target);
        }
        std::string_view verb = in_base ? "modified" : "added";
        if (*target != *source) {
            return fmt::format("{} as a {} by target, as a {} by source", verb, *target, *source);
        }
        return fmt::format("{} by both", verb);
    }
    if (target) {
        return std::string(in_base ? "modified by target, deleted by source" : "added by target");
    }
    if (source) {
        return std::string(in_base ? "deleted by target, modified by source" : "added by source");
    }
    return std::nullopt;
}

std::optional<MergeTreeOutput> parse_merge_tree_output(std::string_view out, bool conflicted) {
    MergeTreeOutput parsed;
    std::size_t at = 0;
    auto tree = field(out, at);
    if (!tree) {
        // Without conflicts (and messages) the tree may end with a newline instead of a NUL.
        tree = out.substr(0, out.find('\n'));
        at = out.size();
    }
    if (!is_hex_id(*tree)) {
        return std::nullopt;
    }
    parsed.tree = std::string(*tree);
    if (!conflicted) {
        return parsed;
    }
    // Conflicted file info up to an empty field: `<mode> <object> <stage>\t<path>`.
    for (;;) {
        auto line = field(out, at);
        if (!line) {
            return std::nullopt;
        }
        if (line->empty()) {
            break;
        }
        const auto tab = line->find('\t');
        const auto first_space = line->find(' ');
        const auto second_space = first_space == std::string_view::npos ? first_space : line->find(' ', first_space + 1);
        if (tab == std::string_view::npos || second_space == std::string_view::npos || second_space > tab) {
            return std::nullopt;
        }
        MergeTreeOutput::Entry entry;
        entry.mode = std::string(line->substr(0, first_space));
        entry.id = std::string(line->substr(first_space + 1, second_space - first_space - 1));
        const auto stage = line->substr(second_space + 1, tab - second_space - 1);
        if (stage.size() != 1 || stage[0] < '1' || stage[0] > '3' || !is_hex_id(entry.id)) {
            return std::nullopt;
        }
        entry.stage = stage[0] - '0';
        entry.path = std::string(line->substr(tab + 1));
        parsed.entries.push_back(std::move(entry));
    }
    // Messages: `<number of paths>`, the paths, the type, the text.
    while (at < out.size()) {
        auto count = field(out, at);
        if (!count || count->empty() || count->size() > 3 ||
            count->find_first_not_of("0123456789") != std::string_view::npos) {
            return std::nullopt;
        }
        MergeTreeOutput::Message message;
        for (int n = std::stoi(std::string(*count)); n > 0; --n) {
            auto path = field(out, at);
            if (!path) {
                return std::nullopt;
            }
            message.paths.emplace_back(*path);
        }
        auto type = field(out, at);
        auto text = field(out, at);
        if (!type || !text) {
            return std::nullopt;
        }
        message.type = std::string(*type);
        message.text = std::string(*text);
        parsed.messages.push_back(std::move(message));
    }
    return parsed;
}

std::optional<std::string> take_theirs(std::string_view merged, std::size_t marker_size,
                                       bool theirs_ends_with_newline) {
    enum class In { common, ours, theirs } in = In::common;
    std::string result;
    result.reserve(merged.size());
    std::size_t theirs_start = 0;
    std::size_t conflicts = 0;
    std::size_t at = 0;
    while (at < merged.size()) {
        auto end = merged.find('\n', at);
        const std::size_t next = end == std::string_view::npos ? merged.size() : end + 1;
        std::string_view line = merged.substr(at, next - at);
        std::string_view body = line;
        if (!body.empty() && body.back() == '\n') {
            body.remove_suffix(1);
        }
        if (!body.empty() && body.back() == '\r') {
            body.remove_suffix(1);
        }
        switch (in) {
        case In::common:
            if (is_marker(body, '<', marker_size, true)) {
                in = In::ours;
            } else {
                result.append(line);
            }
            break;
        case In::ours:
            if (is_marker(body, '=', marker_size, false)) {
                in = In::theirs;
                theirs_start = result.size();
            } else if (is_marker(body, '<', marker_size, true) || is_marker(body, '>', marker_size, true)) {
                return std::nullopt;
            }
            break;
        case In::theirs:
            if (is_marker(body, '>', marker_size, true)) {
                in = In::common;
                ++conflicts;
                if (next == merged.size() && !theirs_ends_with_newline && result.size() > theirs_start) {
                    // The conflict ends the file: merge-ort gave the source's last line the line
                    // end the source's file does not have.
                    if (result.back() == '\n') {
                        result.pop_back();
                        if (result.size() > theirs_start && result.back() == '\r') {
                            result.pop_back();
                        }
                    }
                }
            } else if (is_marker(body, '<', marker_size, true) || is_marker(body, '=', marker_size, false)) {
                return std::nullopt;
            } else {
                result.append(line);
            }
            break;
        }
        at = next;
    }
    if (in != In::common || conflicts == 0) {
        return std::nullopt;
    }
    return result;
}

/// A path-valued setting as `git config --path` expands it, for the forms that need nothing but
/// HOME: as it is, `~` or `~/...`. nullopt for git to expand (`~user/...`, `%(prefix)/...`, no HOME).
std::optional<std::string> expand_path(const std::string& value) {
    if (value.rfind("%(prefix)/", 0) == 0) {
        return std::nullopt;
    }
    if (value.empty() || value.front() != '~') {
        return value;
    }
    const char* home = std::getenv("HOME");
    if ((value != "~" && value.rfind("~/", 0) != 0) || home == nullptr) {
        return std::nullopt;
    }
    return std::string(home) + value.substr(1);
}

/// `git config --path --get core.attributesFile`; nullopt when it is unset (or git fails).
std::optional<std::string> ask_git_for_attributes_file(const std::string& git_dir) {
    process::Options options;
    options.argv = {"git", "--git-dir=" + git_dir, "config", "--path", "--get", "core.attributesFile"};
    options.cwd = git_dir;
    options.clear_repository_env = true;
    const process::Result run = process::run(options);
    if (!run.ok()) {
        return std::nullopt;
    }
    std::string path = run.out;
    while (!path.empty() && (path.back() == '\n' || path.back() == '\r')) {
        path.pop_back();
    }
    return path;
}

/// What the repository's core.attributesFile holds, as git finds it (any configuration level,
/// `~` expanded; unset: $XDG_CONFIG_HOME/git/attributes or ~/.config/git/attributes); empty when
/// there is no such file. The setting comes from `config` when given, else from git.
std::string user_attributes(const std::string& git_dir, const Config* config) {
    const std::optional<std::string> value = config != nullptr ? config->get("core.attributesFile") : std::nullopt;
    std::optional<std::string> path = value ? expand_path(*value) : std::nullopt;
    if (!path && (config == nullptr || value)) {
        path = ask_git_for_attributes_file(git_dir);
    }
    if (!path) {
        if (const char* xdg = std::getenv("XDG_CONFIG_HOME"); xdg != nullptr && *xdg != '\0') {
            path = std::string(xdg) + "/git/attributes";
        } else if (const char* home = std::getenv("HOME"); home != nullptr && *home != '\0') {
            path = std::string(home) + "/.config/git/attributes";
        }
    }
    return !path || path->empty() ? std::string() : util::read_file(*path).value_or("");
}

std::optional<MergeOutcome> merge_theirs_with_git(const ObjectStore& store, const std::string& ours,
                                                  const std::string& theirs, const Config* config) {
    const std::string& git_dir = store.git_dir();
    const MarkerAttributes attributes(user_attributes(git_dir, config));
    process::Options options;
    options.argv = {"git",
                    "--git-dir=" + git_dir,
                    "-c",
                    "core.attributesFile=" + attributes.path(),
                    "-c",
                    "merge.conflictStyle=merge",
                    "merge-tree",
                    "--write-tree",
                    "-z",
                    "--allow-unrelated-histories",
                    ours,
                    theirs};
    options.cwd = git_dir;
    options.clear_repository_env = true;
    const process::Result run = process::run(options);
    if (run.exit_code != 0 && run.exit_code != 1) {
        return std::nullopt;  // no merge-tree --write-tree (git < 2.38), or git failed: libgit2 says why
    }
    const bool conflicted = run.exit_code == 1;
    auto parsed = parse_merge_tree_output(run.out, conflicted);
    if (!parsed) {
        return std::nullopt;
    }
    MergeOutcome outcome;
    if (!conflicted) {
        outcome.tree = parsed->tree;
        return outcome;
    }

    // Paths -X theirs resolves, and every other conflict by the path both sides had.
    std::set<std::string> resolvable;
    std::set<std::string> unresolved;
    std::map<std::string, std::string> git_reasons;  // path -> git's words, for renames
    auto original = [&](const std::string& path) {
        for (const auto* side : {&ours, &theirs}) {
            const std::string suffix = "~" + *side;
            if (path.size() > suffix.size() && path.compare(path.size() - suffix.size(), suffix.size(), suffix) == 0) {
                return path.substr(0, path.size() - suffix.size());
            }
        }
        return path;
    };
    for (const auto& message : parsed->messages) {
        if (!is_conflict(message)) {
            continue;
        }
        if (resolved_by_theirs(message)) {
            resolvable.insert(message.paths.front());
            continue;
        }
        for (const auto& path : message.paths) {
            const std::string p = original(path);
            unresolved.insert(p);
            if (!described_by_sides(message)) {
                git_reasons.emplace(p, git_reason(message, ours, theirs));
            }
        }
    }
    std::map<std::string, std::map<int, const MergeTreeOutput::Entry*>> stages;
    std::set<std::string> in_base;  // original paths the merge base had
    for (const auto& entry : parsed->entries) {
        stages[entry.path][entry.stage] = &entry;
        if (entry.stage == 1) {
            in_base.insert(original(entry.path));
        }
        if (resolvable.count(entry.path) == 0) {
            unresolved.insert(original(entry.path));  // conflicted, and no message says -X theirs settles it
        }
    }

    if (!unresolved.empty()) {
        const std::string our_tree = store.tree_of(ours);
        const std::string their_tree = store.tree_of(theirs);
        auto kind_at = [&](const std::string& tree, const std::string& path) -> std::optional<std::string_view> {
            auto entry = store.entry_at(tree, path);
            return entry ? std::optional<std::string_view>(entry->kind) : std::nullopt;
        };
        for (const auto& path : unresolved) {
            std::optional<std::string> reason;
            if (auto found = git_reasons.find(path); found != git_reasons.end()) {
                reason = found->second;
            } else {
                reason = describe_sides(kind_at(our_tree, path), kind_at(their_tree, path), in_base.count(path) != 0);
            }
            outcome.conflicts.push_back({path, reason.value_or("conflict")});
        }
        return outcome;  // a std::set: sorted by path already
    }

    std::vector<std::pair<std::string, std::string>> replacements;
    std::set<std::string> replaced;
    for (const auto& message : parsed->messages) {
        if (!is_conflict(message) || !replaced.insert(message.paths.front()).second) {
            continue;
        }
        const std::string& path = message.paths.front();
        auto found = stages.find(path);
        if (found == stages.end() || found->second.count(3) == 0) {
            return std::nullopt;
        }
        const std::string& their_blob = found->second.at(3)->id;
        if (message.type == "CONFLICT (binary)") {
            replacements.emplace_back(path, their_blob);
            continue;
        }
        auto merged = store.entry_at(parsed->tree, path);
        if (!merged || merged->kind != "file") {
            return std::nullopt;
        }
        const std::string their_content = store.read_blob(their_blob);
        auto resolved = take_theirs(store.read_blob(merged->id), ort_marker_size,
                                    their_content.empty() || their_content.back() == '\n');
        if (!resolved) {
            return std::nullopt;  // a .gitattributes of the project asks for other markers
        }
        replacements.emplace_back(path, store.write_blob(*resolved));
    }
    outcome.tree = store.replace_blobs(parsed->tree, replacements);
    return outcome;
}

}  // namespace dataops::git
