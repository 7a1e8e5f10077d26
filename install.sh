#!/bin/sh
# install.sh: install git-dataops and everything it needs, on a fresh machine.
#
#   ./install.sh [--prefix DIR]      install the dependencies, build (Release), install, run the demo
#   ./install.sh --no-demo           the same without the demo (packaging, CI images)
#   ./install.sh --test              build with the tests and run the whole suite (ctest)
#   ./install.sh --uninstall         remove what a previous install put in PREFIX
#
# Idempotent: running it twice is harmless. PREFIX defaults to $HOME/.local.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
prefix="${HOME}/.local"
mode=install
demo=yes
build_dir=""
jobs=$(nproc 2>/dev/null || echo 2)

usage() {
    cat <<USAGE
usage: ./install.sh [--prefix <dir>] [--test | --uninstall] [--build-dir <dir>] [--no-demo]

    --prefix <dir>       where to install (default: \$HOME/.local)
    --test               build with the tests and run the whole test suite
    --uninstall          remove the files a previous install put in <dir>
    --build-dir <dir>    where to build (default: build/release or build/test)
    --no-demo            do not end the installation with 'git dataops demo'
USAGE
}

while [ $# -gt 0 ]; do
    case "$1" in
        --prefix) [ $# -ge 2 ] || { echo "error: --prefix needs a directory" >&2; exit 129; }
                  prefix=$2; shift 2 ;;
        --prefix=*) prefix=${1#--prefix=}; shift ;;
        --build-dir) [ $# -ge 2 ] || { echo "error: --build-dir needs a directory" >&2; exit 129; }
                     build_dir=$2; shift 2 ;;
        --test) mode=test; shift ;;
        --uninstall) mode=uninstall; shift ;;
        --no-demo) demo=no; shift ;;
        -h|--help) usage; exit 0 ;;
        *) echo "error: unknown option '$1'" >&2; usage >&2; exit 129 ;;
    esac
done

say() { printf '==> %s\n' "$*" >&2; }

# Debian/Ubuntu package names; the dnf and brew equivalents where they exist.
# man-db brings man (to read the pages) and groff (the tests render every page).
apt_packages="build-essential cmake pkg-config git libgit2-dev libboost-dev libboost-filesystem-dev libyaml-dev catch2 libcli11-dev libfmt-dev nlohmann-json3-dev man-db"
dnf_packages="gcc-c++ make cmake pkgconf-pkg-config git libgit2-devel boost-devel libyaml-devel catch2-devel cli11-devel fmt-devel json-devel man-db groff-base"
brew_packages="cmake pkg-config git libgit2 boost libyaml catch2 cli11 fmt nlohmann-json"
# What only the test suite uses: zsh and bash-completion to exercise the completions, dpkg-dev
# for the Debian package built by cpack.
apt_test_packages="zsh bash-completion dpkg-dev"
dnf_test_packages="zsh bash-completion"
brew_test_packages="zsh bash-completion"

# Optional: mimalloc, the allocator of validate and env (CMakeLists.txt, "Allocator"; the build
# falls back to the C library's without it). Installed where the distribution packages it.
mimalloc_installable() {
    [ ! -f /usr/include/mimalloc.h ] && command -v apt-get >/dev/null 2>&1 &&
        apt-cache show libmimalloc-dev >/dev/null 2>&1
}

have_all_dependencies() {
    command -v cmake >/dev/null 2>&1 && command -v c++ >/dev/null 2>&1 &&
    command -v pkg-config >/dev/null 2>&1 && command -v git >/dev/null 2>&1 &&
    pkg-config --exists libgit2 yaml-0.1 2>/dev/null &&
    [ -f /usr/include/boost/process.hpp ] && [ -d /usr/include/CLI ] &&
    [ -f /usr/include/catch2/catch.hpp ] && [ -d /usr/include/fmt ] &&
    [ -f /usr/include/nlohmann/json.hpp ] &&
    command -v man >/dev/null 2>&1 && command -v groff >/dev/null 2>&1 &&
    ! mimalloc_installable &&
    { [ "$mode" != test ] || have_test_dependencies; }
}

have_test_dependencies() {
    command -v zsh >/dev/null 2>&1 && [ -f /usr/share/bash-completion/bash_completion ] &&
    { ! command -v apt-get >/dev/null 2>&1 || command -v dpkg-shlibdeps >/dev/null 2>&1; }
}

as_root() {
    if [ "$(id -u)" -eq 0 ]; then
        "$@"
    elif command -v sudo >/dev/null 2>&1; then
        sudo "$@"
    else
        echo "error: installing packages needs root; run as root or install sudo" >&2
        exit 1
    fi
}

install_dependencies() {
    if have_all_dependencies; then
        return
    fi
    if [ "$mode" = test ]; then
        apt_packages="$apt_packages $apt_test_packages"
        dnf_packages="$dnf_packages $dnf_test_packages"
        brew_packages="$brew_packages $brew_test_packages"
    fi
    if command -v apt-get >/dev/null 2>&1; then
        say "installing build dependencies with apt-get"
        as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq
        if mimalloc_installable; then
            apt_packages="$apt_packages libmimalloc-dev"
        fi
        # shellcheck disable=SC2086
        as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $apt_packages >/dev/null
    elif command -v dnf >/dev/null 2>&1; then
        say "installing build dependencies with dnf"
        # shellcheck disable=SC2086
        as_root dnf install -y $dnf_packages
        as_root dnf install -y mimalloc-devel || say "mimalloc is not available: validate and env use the C library's allocator"
    elif command -v brew >/dev/null 2>&1; then
        say "installing build dependencies with brew"
        # shellcheck disable=SC2086
        brew install $brew_packages
        brew install mimalloc || say "mimalloc is not available: validate and env use the C library's allocator"
    else
        echo "error: no supported package manager found; install these packages by hand:" >&2
        echo "  $apt_packages" >&2
        exit 1
    fi
}

manifest="$prefix/share/git-dataops/install_manifest.txt"

uninstall() {
    if [ ! -f "$manifest" ]; then
        say "nothing to uninstall in $prefix"
        return
    fi
    while IFS= read -r file; do
        rm -f "$file"
    done < "$manifest"
    rm -f "$manifest"
    rmdir "$prefix/share/git-dataops/hooks" "$prefix/share/git-dataops/examples/auth0" \
        "$prefix/share/git-dataops/examples" "$prefix/share/git-dataops" 2>/dev/null || true
    say "removed git-dataops from $prefix"
}

case "$mode" in
    uninstall)
        uninstall
        exit 0 ;;
    test)
        install_dependencies
        build_dir=${build_dir:-"$here/build/test"}
        say "building with tests in $build_dir"
        cmake -S "$here" -B "$build_dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DDATAOPS_BUILD_TESTS=ON \
            ${DATAOPS_CMAKE_ARGS:-} >/dev/null
        cmake --build "$build_dir" -j "$jobs"
        say "running the test suite"
        ctest --test-dir "$build_dir" --output-on-failure -j "$jobs"
        exit 0 ;;
esac

install_dependencies
build_dir=${build_dir:-"$here/build/release"}
say "building (Release) in $build_dir"
cmake -S "$here" -B "$build_dir" -DCMAKE_BUILD_TYPE=Release -DCMAKE_INSTALL_PREFIX="$prefix" >/dev/null
cmake --build "$build_dir" -j "$jobs"
say "installing into $prefix"
cmake --install "$build_dir" >/dev/null
mkdir -p "$(dirname "$manifest")"
cp "$build_dir/install_manifest.txt" "$manifest"

say "installed: $("$prefix/bin/git-dataops" --version)"

# The demo proves the installation: a throwaway dev -> staging -> prod pipeline, every command
# checked (it exits non-zero when one does not behave).
if [ "$demo" = yes ]; then
    say "running the demo: git dataops demo"
    "$prefix/bin/git-dataops" demo
fi

case ":$PATH:" in
    *":$prefix/bin:"*) ;;
    *)
        say "$prefix/bin is not on your PATH; add it with:"
        printf '    echo '\''export PATH="%s/bin:$PATH"'\'' >> ~/.profile && . ~/.profile\n' "$prefix" >&2 ;;
esac
