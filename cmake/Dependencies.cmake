# Every third-party dependency of git-dataops, found once, as imported targets.
# All come from Debian's packages; install.sh installs them.
find_package(PkgConfig REQUIRED)

pkg_check_modules(LIBGIT2 REQUIRED IMPORTED_TARGET libgit2>=1.1)
add_library(dataops::libgit2 ALIAS PkgConfig::LIBGIT2)

pkg_check_modules(LIBYAML REQUIRED IMPORTED_TARGET yaml-0.1)
add_library(dataops::libyaml ALIAS PkgConfig::LIBYAML)

# Boost.Process is header-only in 1.74 but needs Boost.Filesystem.
find_package(Boost 1.74 REQUIRED COMPONENTS filesystem)
add_library(dataops_boost_process INTERFACE)
target_link_libraries(dataops_boost_process INTERFACE Boost::boost Boost::filesystem)
add_library(dataops::boost_process ALIAS dataops_boost_process)

find_package(fmt REQUIRED)
find_package(nlohmann_json 3.9 REQUIRED)
find_package(CLI11 REQUIRED)
find_package(Threads REQUIRED)

if(DATAOPS_BUILD_TESTS)
  find_package(Catch2 2 REQUIRED)
  include(Catch)
endif()
