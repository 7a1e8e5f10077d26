#pragma once
/// The server-side check: a bare workspace repository rejects updates of its stage branch whose
/// meltano.yml does not validate for the environment it runs — the enforcement that
/// `git push --no-verify` cannot skip. Configured in the server repository:
/// `dataops.server.environment` and `dataops.server.branch` (default main).

#include <string>

#include <dataops/git/repository.hpp>
#include <dataops/hooks/pre_push.hpp>

namespace dataops::hooks {

/// Validate each `<old> <new> <ref>` update of the stage branch in `input`.
HookReport run_pre_receive(const git::Repository& repository, const std::string& input,
                           const report::Style& style = {});

}  // namespace dataops::hooks
