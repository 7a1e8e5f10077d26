#pragma once
/// FileSource over the tree of a commit, read through one `git cat-file --batch` process.
///
/// One long-lived git process answers every read of a command (meltano.yml, included files,
/// lock files, directory listings), so a revision costs one git start-up whatever the project's
/// size, and no libgit2 initialisation. Trees are fetched raw and parsed here; after the first
/// request only object ids travel over the pipe, so no path can be misread by the protocol.

#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include <dataops/git/file_source.hpp>

namespace dataops::git {

/// The tree of the commit `rev` names (any commit-ish, or a tree id) in the repository whose
/// git directory is `git_dir` (empty: the one git finds from the current directory). Throws
/// dataops::Error ("bad revision 'x'") when it names no commit or tree.
std::unique_ptr<FileSource> make_revision_source(std::string_view rev, const std::string& git_dir = {});

/// The same source, started but not waited for: `git cat-file` peels `rev` while the caller does
/// other work, and the first use of the source (commit(), describe(), a read) throws
/// dataops::Error when `rev` names no commit or tree. Throws at once only for a revision that
/// cannot be asked about at all (empty, multi-line, or looking like an option).
std::unique_ptr<FileSource> start_revision_source(std::string_view rev, const std::string& git_dir = {});

/// One `git cat-file --batch` process that any number of revision sources of one repository can
/// share: a caller that reads many revisions (a hook judging every pushed ref) starts git once,
/// not once per revision. Thread-safe; it ends when its last source is gone.
class ObjectReader;
std::shared_ptr<ObjectReader> make_object_reader(const std::string& git_dir = {});

/// What `rev` (an object id, a reference, `<ref>^{commit}`, ...) names, asked through `reader`:
/// the object's full id and type ("commit", "tree", "blob", "tag"); nullopt when it names
/// nothing. Objects and references written after the reader started are found. Throws
/// dataops::Error when git cannot read the object (a corrupt one).
struct ObjectInfo {
    std::string id;
    std::string type;
};
std::optional<ObjectInfo> object_info(ObjectReader& reader, std::string_view rev);

/// The tree of `rev` read through `reader`, peeled at once: throws dataops::Error ("bad revision
/// 'x'") when it names no commit or tree.
std::unique_ptr<FileSource> make_revision_source(std::string_view rev, std::shared_ptr<ObjectReader> reader);

}  // namespace dataops::git
