#pragma once
/// A Meltano project written into a fresh TempDir and read back through the working-tree
/// FileSource, as the commands read it (no mock of the file system).

#include <filesystem>
#include <fstream>
#include <string>

#include <dataops/git/file_source.hpp>
#include <dataops/meltano/project.hpp>

#include "support/temp_repo.hpp"

namespace dataops::testing {

class ProjectDir {
public:
    /// Write a file relative to the project root (directories created).
    void write(const std::string& path, const std::string& text) const {
        const std::filesystem::path full = std::filesystem::path(dir_.path()) / path;
        std::filesystem::create_directories(full.parent_path());
        std::ofstream(full, std::ios::binary) << text;
    }

    /// Load the project whose meltano.yml is in `project_dir` (relative; "" = the root).
    meltano::LoadResult load_result(const std::string& project_dir = "") const {
        auto source = git::make_worktree_source(dir_.path());
        return meltano::load_project(*source, project_dir);
    }

    const std::string& path() const { return dir_.path(); }

private:
    TempDir dir_;
};

}  // namespace dataops::testing
