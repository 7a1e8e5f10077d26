#pragma once
/// Promotion's merge as git itself computes it.
///
/// `git pull -X theirs` merges with merge-ort, which lines up each side's edits with the
/// histogram diff, detects directory renames and reads the user's merge configuration; libgit2
/// (1.5) does none of these. `git merge-tree --write-tree` (git 2.38 and later) runs merge-ort
/// without a working tree, an index or any reference change, writing only objects: the same
/// in-memory merge, with git's exact result. It has no `-X theirs` before git 2.43, so conflicts
/// are resolved here as -X theirs resolves them: a conflicted file takes the source's side of
/// each conflict (asked for with markers no file holds, 31 characters wide), a binary file the
/// source's version; every other kind of conflict (modify/delete, file/directory, renames) is one
/// for `git merge -X theirs` too and is returned as a conflict. merge_test checks the result
/// against `git merge -X theirs --allow-unrelated-histories` on random histories.

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <dataops/git/merge.hpp>

namespace dataops::git {

/// What `git merge-tree --write-tree -z` printed.
struct MergeTreeOutput {
    /// One line of the conflicted file info: `<mode> <object> <stage>\t<path>`.
    struct Entry {
        std::string mode;
        std::string id;
        int stage = 0;
        std::string path;
    };
    /// One informational message: the paths it is about, its type ("CONFLICT (contents)",
    /// "Auto-merging", ...) and its text.
    struct Message {
        std::vector<std::string> paths;
        std::string type;
        std::string text;
    };
    std::string tree;
    std::vector<Entry> entries;
    std::vector<Message> messages;
};

/// Take apart the output of `git merge-tree --write-tree -z` (with conflicts: the tree, the
/// conflicted file info, an empty field, the messages; without: the tree). nullopt when the
/// output does not have that shape.
std::optional<MergeTreeOutput> parse_merge_tree_output(std::string_view out, bool conflicted);

/// The width of the conflict markers git is asked for.
inline constexpr std::size_t ort_marker_size = 31;

/// What -X theirs makes of a file merge-ort left with conflict markers `marker_size` wide (style
/// "merge"): the source's side of each conflict. merge-ort ends a conflict side at the end of the
/// file with a line end even when the source's file has none, and -X theirs does not:
/// `theirs_ends_with_newline` says which. nullopt when the markers are not well formed, or there
/// are none (the file was not merged with these markers).
std::optional<std::string> take_theirs(std::string_view merged, std::size_t marker_size,
                                       bool theirs_ends_with_newline);

/// What each side did to a conflicted path, in the words both merge engines use, from what each
/// side holds there ("file", "symlink", "submodule", "directory"; nullopt: nothing) and whether
/// the merge base had it: "modified by target, deleted by source", "file/directory: a file in
/// target, a directory in source", ... nullopt when neither side holds the path (a rename).
std::optional<std::string> describe_sides(std::optional<std::string_view> target,
                                          std::optional<std::string_view> source, bool in_base);

/// ObjectStore::merge_theirs with MergeEngine::git. nullopt when git cannot merge this way (older
/// than 2.38, or it failed) or its result cannot be taken apart; the caller then merges with
/// libgit2, which reports any real failure. `config`: as for merge_theirs.
std::optional<MergeOutcome> merge_theirs_with_git(const ObjectStore& store, const std::string& ours,
                                                  const std::string& theirs, const Config* config);

}  // namespace dataops::git
