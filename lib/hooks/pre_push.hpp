#pragma once
/// The pre-push check: validate the meltano.yml of the commits being pushed, for the environment
/// of the stage they are pushed to. The protocol is git's (githooks(5)); what is judged is the
/// pushed commit's tree, never the working tree.

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <dataops/git/repository.hpp>
#include <dataops/git/revision_source.hpp>
#include <dataops/meltano/diagnostic.hpp>
#include <dataops/meltano/project.hpp>
#include <dataops/meltano/validate.hpp>

#include <dataops/report/style.hpp>

namespace dataops::hooks {

/// One line of the pre-push hook's stdin.
struct PushUpdate {
    std::string local_ref;   ///< as typed (may contain spaces), or "(delete)"
    std::string local_oid;
    std::string remote_ref;
    std::string remote_oid;  ///< all zeros for a new remote ref
    bool is_delete() const;
};

/// Parse the hook's stdin, splitting each line from the right (the local side is whatever the
/// user typed). Throws dataops::Error on a line that is not `<ref> <oid> <ref> <oid>`.
std::vector<PushUpdate> parse_pre_push_input(std::string_view text);

/// What the hook found: lines for stderr (already formatted) and the verdict.
struct HookReport {
    std::vector<std::string> lines;
    bool blocked = false;
};

/// Add `diagnostics` to `report` as stderr lines. With an `environment`, errors that belong to
/// another environment are demoted to warnings (they block at their own stage). Returns the
/// number of errors left.
int add_findings(HookReport& report, meltano::Diagnostics diagnostics, const std::optional<std::string>& environment,
                 const report::Style& style);

/// The pushed commits and their projects, read and validated for every environment, kept by
/// commit, tree and project directory. What the hook judges in a commit does not depend on the
/// stage it goes to, so it can be worked out before the configuration (which names the stage and
/// the project directory) has arrived; and a tree id names the same files in every repository.
class Judgements {
public:
    /// The tree of commit-ish `oid` (a tag peels to its commit), read once through `objects`.
    /// Throws dataops::Error when it names no commit.
    std::shared_ptr<const git::FileSource> commit(const std::string& oid,
                                                  const std::shared_ptr<git::ObjectReader>& objects);

    struct Judged {
        bool missing = false;  ///< no meltano.yml there: not a Meltano project at this commit
        meltano::LoadResult load;
        /// meltano::validate(load, {}): every environment, hermetic.
        std::optional<meltano::ValidationResult> every_environment;
    };
    /// The project of `source` (a commit's tree) at `project_dir`, read on first use; with
    /// `validated`, also its validation for every environment.
    Judged& get(const git::FileSource& source, const std::string& project_dir, bool validated);

private:
    std::map<std::string, std::shared_ptr<const git::FileSource>> commits_;
    std::map<std::pair<std::string, std::string>, Judged> judged_;
};

/// Meant to run while `git config` is still answering: read the project at the root of each
/// pushed commit (where it is unless `dataops.project` says otherwise), and validate it for every
/// environment when the push goes to a stage of the default pipeline (remotes dev, staging and
/// prod, branch main: the configuration may say otherwise, but a guess that full validation is
/// needed costs nothing when right and is not made for a branch outside it). Never throws:
/// whatever fails here is done again, and reported, by run_pre_push.
void prejudge(Judgements& judgements, const std::shared_ptr<git::ObjectReader>& objects,
              const std::vector<PushUpdate>& updates, std::string_view remote_name,
              std::string_view remote_url) noexcept;

struct PrePushRequest {
    std::string remote_name;  ///< $1
    std::string remote_url;   ///< $2
    std::string input;        ///< stdin, byte for byte
    report::Style style;      ///< colour for the findings (stderr)
    /// A `git cat-file` the caller started for the repository (beside discovery); null: one is
    /// started when a pushed commit is to be read.
    std::shared_ptr<git::ObjectReader> objects;
    /// Judgements made before the configuration arrived (prejudge); null: none.
    std::shared_ptr<Judgements> judgements;
};

/// Validate every pushed commit, once per tree and destination (refs with the same files are
/// named together). Errors for the target stage's environment (and errors that
/// break every environment) block; errors in other environments' blocks are warnings (they block
/// at their own stage). Pushes outside the pipeline follow `dataops.hook.unmapped`
/// (ignore | warn | block, default block), checking only what breaks every environment.
HookReport run_pre_push(const git::Repository& repository, const PrePushRequest& request);

}  // namespace dataops::hooks
