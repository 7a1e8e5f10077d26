// The documentation a git user expects, checked against the built binaries: each docs/commands
// page is the -h text of its binary and renders as a man page that documents every option; git's
// `--help` finds the page; the bash and zsh completions offer verbs, options, stages,
// environments and plugins; `cpack -G DEB` packages what `cmake --install` installs.
#include <algorithm>
#include <catch2/catch.hpp>
#include <dataops_version.hpp>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "support/fixtures.hpp"
#include "support/temp_repo.hpp"

namespace fs = std::filesystem;
using dataops::testing::describe;
using dataops::testing::RunOptions;
using dataops::testing::TempRepo;

namespace {

const std::string kSourceDir = DATAOPS_SOURCE_DIR;
const std::string kManDir = DATAOPS_MAN_DIR;

/// A docs/commands page, read as the build reads it: the NAME summary and the USAGE block.
struct Page {
    std::string name;  ///< git-dataops-promote, or git-dataops for the dispatcher
    std::string summary;
    std::string usage;
};

std::string read_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
}

std::vector<std::string> lines_of(const std::string& text) {
    std::vector<std::string> lines;
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);) {
        lines.push_back(line);
    }
    return lines;
}

bool starts_with(const std::string& text, const std::string& prefix) {
    return text.compare(0, prefix.size(), prefix) == 0;
}

std::string trimmed(const std::string& text) {
    auto begin = text.find_first_not_of(' ');
    return begin == std::string::npos ? ""
                                      : text.substr(begin, text.find_last_not_of(' ') - begin + 1);
}

Page read_page(const fs::path& path) {
    Page page;
    page.name = path.stem().string();
    std::string section;
    bool in_block = false;
    bool block_done = false;
    for (const auto& line : lines_of(read_file(path.string()))) {
        if (!in_block && starts_with(line, "## ")) {
            section = line.substr(3);
        } else if (section == "NAME" && starts_with(line, page.name + " - ")) {
            page.summary = line.substr(page.name.size() + 3);
        } else if (section == "USAGE" && starts_with(line, "```") && !block_done) {
            block_done = in_block;
            in_block = !in_block;
        } else if (in_block) {
            page.usage += line + "\n";
        }
    }
    return page;
}

std::vector<Page> pages() {
    std::vector<Page> out;
    for (const auto& entry : fs::directory_iterator(kSourceDir + "/docs/commands")) {
        if (entry.path().extension() == ".md") {
            out.push_back(read_page(entry.path()));
        }
    }
    std::sort(out.begin(), out.end(), [](const Page& a, const Page& b) { return a.name < b.name; });
    return out;
}

std::string verb_of(const Page& page) {
    return page.name.substr(std::string("git-dataops-").size());
}

/// The option entries of a -h text ("    --from <stage>   the stage ..."), as their terms:
/// "--from <stage>", "-m, --message <text>".
std::vector<std::string> option_terms(const std::string& help) {
    std::vector<std::string> terms;
    for (const auto& line : lines_of(help)) {
        if (!starts_with(line, "    -")) {
            continue;
        }
        std::string text = trimmed(line);
        auto gap = text.find("  ");
        if (gap == std::string::npos) {
            // "--environment <env> the environment ...": the term is the '-' and '<' words.
            std::istringstream words(text);
            std::string term;
            for (std::string word; words >> word && (word.front() == '-' || word.front() == '<');) {
                term += (term.empty() ? "" : " ") + word;
            }
            terms.push_back(term);
        } else {
            terms.push_back(text.substr(0, gap));
        }
    }
    return terms;
}

/// Every "--long" option a text mentions.
std::set<std::string> long_options(const std::string& text) {
    std::set<std::string> out;
    for (std::size_t at = text.find("--"); at != std::string::npos; at = text.find("--", at + 2)) {
        auto end = text.find_first_not_of("abcdefghijklmnopqrstuvwxyz-", at + 2);
        std::string option =
            text.substr(at, end == std::string::npos ? std::string::npos : end - at);
        if (option.size() > 2 &&
            (at == 0 || text[at - 1] == ' ' || text[at - 1] == '[' || text[at - 1] == '(')) {
            out.insert(option);
        }
    }
    return out;
}

/// The lines of one section of a rendered man page (from its heading to the next one).
std::vector<std::string> rendered_section(const std::string& rendered, const std::string& title) {
    std::vector<std::string> out;
    bool inside = false;
    for (const auto& line : lines_of(rendered)) {
        if (!line.empty() && line.front() != ' ') {
            inside = line == title;
            continue;
        }
        if (inside) {
            out.push_back(trimmed(line));
        }
    }
    return out;
}

/// What `man` prints for a page file, as a person reads it (80 columns, no pager).
RunOptions man_options() {
    RunOptions options;
    options.env["LC_ALL"] = "C.UTF-8";  // as a person's terminal: groff renders for UTF-8
    options.env["MANWIDTH"] = "80";
    options.env["MANPAGER"] = "cat";
    options.env["PAGER"] = "cat";
    options.env["MAN_KEEP_FORMATTING"] = std::nullopt;
    return options;
}

bool have_program(const TempRepo& repo, const std::string& name) {
    return repo.run({"sh", "-c", "command -v " + name}).code == 0;
}

}  // namespace

TEST_CASE("every binary's -h is the USAGE block of its docs page, byte for byte", "[e2e][docs]") {
    TempRepo repo;
    auto all = pages();
    REQUIRE(all.size() >= 9);
    std::set<std::string> binaries;
    for (const auto& entry : fs::directory_iterator(DATAOPS_TEST_BIN_DIR)) {
        binaries.insert(entry.path().filename().string());
    }
    for (const auto& page : all) {
        INFO("page: docs/commands/" << page.name << ".md");
        CHECK(binaries.count(page.name) == 1);
        CHECK_FALSE(page.summary.empty());
        REQUIRE_THAT(page.usage, Catch::StartsWith("usage: git dataops"));
        if (page.name == "git-dataops") {
            continue;
        }
        auto direct = repo.run({page.name, "-h"});
        INFO(describe(direct));
        CHECK(direct.code == 0);
        CHECK(direct.err.empty());
        CHECK(direct.out == page.usage);
        auto through_git = repo.dataops({verb_of(page), "-h"});
        CHECK(through_git.code == 0);
        CHECK(through_git.out == page.usage);
    }
    for (const auto& binary : binaries) {
        INFO("binary: " << binary);
        CHECK(std::any_of(all.begin(), all.end(), [&](const Page& p) { return p.name == binary; }));
    }
}

TEST_CASE(
    "git dataops -h is its page's USAGE block and lists every command with its page's summary",
    "[e2e][docs]") {
    TempRepo repo;
    auto help = repo.dataops({"-h"});
    INFO(describe(help));
    REQUIRE(help.code == 0);
    std::string head;
    for (const auto& page : pages()) {
        if (page.name == "git-dataops") {
            head = page.usage;
            continue;
        }
        const std::string verb = verb_of(page);
        INFO("command: " << verb);
        auto lines = lines_of(help.out);
        auto line = std::find_if(lines.begin(), lines.end(), [&](const std::string& l) {
            return starts_with(l, "   " + verb + " ");
        });
        REQUIRE(line != lines.end());
        CHECK(trimmed(line->substr(3 + verb.size())) == page.summary);
    }
    CHECK_THAT(help.out, Catch::StartsWith(head + "\ncommands:\n"));
}

TEST_CASE("every man page renders without warnings and documents every option of its -h",
          "[e2e][docs]") {
    TempRepo repo;
    // Debian: the man-db package (it brings groff-base, and lexgrog, man-db's NAME parser).
    REQUIRE(have_program(repo, "man"));
    REQUIRE(have_program(repo, "groff"));
    const bool have_lexgrog = have_program(repo, "lexgrog");
    const bool have_mandoc = have_program(repo, "mandoc");  // a stricter linter, when installed
    if (!have_lexgrog) {
        WARN("lexgrog is not installed: the NAME sections were not checked as man-db indexes them");
    }
    for (const auto& page : pages()) {
        const std::string file = kManDir + "/man1/" + page.name + ".1";
        INFO("man page: " << file);
        REQUIRE(fs::exists(file));

        auto lint = repo.run({"groff", "-man", "-Tutf8", "-ww", "-z", file});
        INFO(describe(lint));
        CHECK(lint.code == 0);
        CHECK(lint.err.empty());

        // What man-db's indexer (whatis, apropos) reads from the NAME section.
        if (have_mandoc) {
            auto mandoc = repo.run({"mandoc", "-Tlint", "-W", "warning", file});
            CHECK(mandoc.out + mandoc.err == "");
        }
        if (have_lexgrog) {
            auto whatis = repo.run({"lexgrog", file});
            CHECK(whatis.out == file + ": \"" + page.name + " - " + page.summary + "\"\n");
        }

        auto rendered = repo.run({"man", "-l", file}, man_options());
        INFO(describe(rendered));
        REQUIRE(rendered.code == 0);
        for (const std::string title :
             {"NAME", "SYNOPSIS", "DESCRIPTION", "EXIT STATUS", "EXAMPLES", "SEE ALSO"}) {
            CHECK_FALSE(rendered_section(rendered.out, title).empty());
        }

        // The options as the binary's real -h text lists them, each a heading in OPTIONS.
        std::string help = page.usage;
        if (page.name != "git-dataops") {
            auto result = repo.run({page.name, "-h"});
            REQUIRE(result.code == 0);
            help = result.out;
        }
        auto options = rendered_section(rendered.out, "OPTIONS");
        for (const auto& term : option_terms(help)) {
            INFO("option: " << term);
            CHECK(std::any_of(options.begin(), options.end(),
                              [&](const std::string& line) { return starts_with(line, term); }));
        }
        for (const auto& option : long_options(help)) {
            INFO("option: " << option);
            CHECK(long_options(rendered.out).count(option) == 1);
        }
    }
}

TEST_CASE("git's --help opens the man page of a command and of the dispatcher", "[e2e][docs]") {
    TempRepo repo;
    REQUIRE(have_program(repo, "man"));
    auto options = man_options();
    options.env["MANPATH"] = kManDir;
    // git turns `git <cmd> --help` into `git help <cmd>`, which runs man git-<cmd>.
    auto promote = repo.run({"git", "dataops-promote", "--help"}, options);
    INFO(describe(promote));
    CHECK(promote.code == 0);
    CHECK_THAT(promote.out, Catch::Contains("git-dataops-promote - merge a stage"));
    auto dispatcher = repo.run({"git", "dataops", "--help"}, options);
    CHECK(dispatcher.code == 0);
    CHECK_THAT(dispatcher.out, Catch::Contains("COMMANDS"));
    CHECK_THAT(dispatcher.out, Catch::Contains("git-dataops-validate(1)"));
    auto help = repo.run({"git", "help", "dataops-env"}, options);
    CHECK_THAT(help.out, Catch::Contains("git-dataops-env - list, show and compare"));
    // Through the dispatcher too: `git dataops <verb> --help` is the page, `-h` the usage.
    auto verb_help = repo.run({"git", "dataops", "status", "--help"}, options);
    INFO(describe(verb_help));
    CHECK(verb_help.code == 0);
    CHECK_THAT(verb_help.out, Catch::Contains("git-dataops-status - "));
    CHECK_THAT(verb_help.out, Catch::Contains("EXIT STATUS"));
    auto verb_usage = repo.run({"git", "dataops", "status", "-h"}, options);
    CHECK_THAT(verb_usage.out, Catch::StartsWith("usage: git dataops status"));
}

namespace {

/// A repository with a pipeline of its own (not the default stage names) and the seed project.
void sample_pipeline(TempRepo& repo) {
    repo.commit("project", {{"meltano.yml", dataops::testing::kSeedProject}});
    repo.git({"config", "dataops.stages", "dev,qa prod"});
}

/// The completions bash offers for `line` (the cursor at its end), through git's own completion.
std::vector<std::string> bash_complete(const TempRepo& repo, const std::string& line) {
    const std::string script = R"(
source /usr/share/bash-completion/completions/git || exit 99
source "$1" || exit 98
COMP_LINE=$2
COMP_POINT=${#COMP_LINE}
read -r -a COMP_WORDS <<< "$COMP_LINE"
[[ "$COMP_LINE" == *" " ]] && COMP_WORDS+=("")
COMP_CWORD=$(( ${#COMP_WORDS[@]} - 1 ))
COMPREPLY=()
__git_wrap__git_main
printf '%s\n' "${COMPREPLY[@]}" | sed 's/ $//' | sort
)";
    auto result =
        repo.run({"bash", "-c", script, "bash", kSourceDir + "/completion/git-dataops.bash", line});
    INFO(describe(result));
    REQUIRE(result.code == 0);
    auto lines = lines_of(result.out);
    lines.erase(std::remove(lines.begin(), lines.end(), ""), lines.end());
    return lines;
}

using Words = std::vector<std::string>;

}  // namespace

TEST_CASE("bash completes verbs, options, stages, environments and plugins of git dataops",
          "[e2e][docs]") {
    TempRepo repo;
    sample_pipeline(repo);
    SECTION("verbs, from git dataops -h") {
        auto verbs = bash_complete(repo, "git dataops ");
        for (const std::string verb :
             {"env", "validate", "promote", "status", "log", "rollback", "init", "hooks"}) {
            CHECK(std::count(verbs.begin(), verbs.end(), verb) == 1);
        }
        CHECK(bash_complete(repo, "git dataops pro") == Words{"promote"});
    }
    SECTION("stage names, from the pipeline in git config") {
        CHECK(bash_complete(repo, "git dataops promote ") == Words{"dev", "prod", "qa"});
        CHECK(bash_complete(repo, "git dataops promote q") == Words{"qa"});
        CHECK(bash_complete(repo, "git dataops log ") == Words{"dev", "prod", "qa"});
        CHECK(bash_complete(repo, "git dataops promote prod --from ") ==
              Words{"dev", "prod", "qa"});
        CHECK(bash_complete(repo, "git dataops promote prod ").empty());
    }
    SECTION("options and their values, from the verb's -h") {
        auto options = bash_complete(repo, "git dataops promote --");
        for (const std::string option :
             {"--from", "--dry-run", "--mode", "--yes", "--format", "--detailed-exitcode"}) {
            CHECK(std::count(options.begin(), options.end(), option) == 1);
        }
        CHECK(bash_complete(repo, "git dataops promote prod --mode ") == Words{"merge", "mirror"});
        CHECK(bash_complete(repo, "git dataops env show --format ") ==
              Words{"env", "json", "text"});
        CHECK(bash_complete(repo, "git dataops env list --format ") == Words{"json", "text"});
        CHECK(bash_complete(repo, "git dataops validate --env ") ==
              Words{"dev", "prod", "staging"});
    }
    SECTION("subcommands, environments from meltano.yml and plugins for env show") {
        CHECK(bash_complete(repo, "git dataops env ") == Words{"diff", "list", "show"});
        CHECK(bash_complete(repo, "git dataops env show ") == Words{"dev", "prod", "staging"});
        CHECK(bash_complete(repo, "git dataops env show prod ") == Words{"tap-auth0"});
        CHECK(bash_complete(repo, "git dataops env diff dev ") == Words{"dev", "prod", "staging"});
        CHECK(bash_complete(repo, "git dataops hooks ") ==
              Words{"install", "run", "status", "uninstall"});
    }
}

TEST_CASE("zsh completes git dataops the same way", "[e2e][docs]") {
    TempRepo repo;
    if (!have_program(repo, "zsh")) {
        WARN("zsh is not installed: the zsh completion was not exercised");
        return;
    }
    sample_pipeline(repo);
    // zsh's completion builtins exist only inside a completion widget: stand-ins print what the
    // function offers, and sourcing the file runs _git-dataops for `words` as _git calls it.
    const std::string script = R"(
compadd () {
  while [[ $1 == -* && $1 != -- ]]; do
    case $1 in
      (-a) print -l -- ${(P)2}; return 0 ;;
      (-S|-P|-J|-X|-t) shift 2 ;;
      (*) shift ;;
    esac
  done
  [[ $1 == -- ]] && shift
  print -l -- "$@"
}
_describe () { local -a entries; entries=(${(P)${@[-1]}}); print -l -- ${entries%%:*} }
compset () { [[ $1 == -P && $PREFIX == *=* ]] || return 1; PREFIX=${PREFIX#*=} }
words=(${(s: :)1})
[[ $1 == *' ' ]] && words+=('')
CURRENT=$#words
PREFIX=$words[-1]
source $2
)";
    auto complete = [&](const std::string& line) {
        auto result = repo.run(
            {"zsh", "-f", "-c", script, "zsh", line, kSourceDir + "/completion/git-dataops.zsh"});
        INFO(describe(result));
        CHECK(result.err.empty());
        auto lines = lines_of(result.out);
        std::sort(lines.begin(), lines.end());
        return lines;
    };
    auto verbs = complete("dataops ");
    CHECK(std::count(verbs.begin(), verbs.end(), "promote") == 1);
    CHECK(std::count(verbs.begin(), verbs.end(), "hooks") == 1);
    CHECK(complete("dataops promote ") == Words{"dev", "prod", "qa"});
    CHECK(complete("dataops env show ") == Words{"dev", "prod", "staging"});
    CHECK(complete("dataops env show prod ") == Words{"tap-auth0"});
    CHECK(complete("dataops promote prod --mode ") == Words{"merge", "mirror"});
    CHECK(complete("dataops validate --format=") == Words{"github", "json", "text"});
    auto options = complete("dataops rollback --");
    CHECK(std::count(options.begin(), options.end(), "--steps") == 1);
}

TEST_CASE("cpack -G DEB packages exactly the files cmake --install installs",
          "[e2e][docs][package]") {
    TempRepo repo;
    if (!have_program(repo, "dpkg-deb")) {
        WARN("dpkg-deb is not installed: the Debian package was not built");
        return;
    }
    const std::string build = DATAOPS_BUILD_DIR;
    const std::string prefix = repo.root() + "/prefix";
    auto install = repo.run({DATAOPS_CMAKE, "--install", build, "--prefix", prefix});
    INFO(describe(install));
    REQUIRE(install.code == 0);
    std::set<std::string> installed;
    for (const auto& entry : fs::recursive_directory_iterator(prefix)) {
        if (!entry.is_directory()) {
            installed.insert(fs::relative(entry.path(), prefix).string());
        }
    }
    // The man pages, the completions, the hook and every binary are there.
    CHECK(installed.count("share/man/man1/git-dataops-promote.1") == 1);
    CHECK(installed.count("share/bash-completion/completions/git-dataops") == 1);
    CHECK(installed.count("share/zsh/site-functions/_git-dataops") == 1);
    CHECK(installed.count("share/git-dataops/hooks/pre-push") == 1);
    CHECK(installed.count("bin/git-dataops") == 1);

    const std::string packages = repo.root() + "/deb";
    auto cpack = repo.run(
        {DATAOPS_CPACK, "-G", "DEB", "-B", packages, "--config", build + "/CPackConfig.cmake"});
    INFO(describe(cpack));
    REQUIRE(cpack.code == 0);
    std::string deb;
    for (const auto& entry : fs::directory_iterator(packages)) {
        if (entry.path().extension() == ".deb") {
            deb = entry.path().string();
        }
    }
    REQUIRE_FALSE(deb.empty());
    auto contents = repo.run({"dpkg-deb", "-c", deb});
    REQUIRE(contents.code == 0);
    std::set<std::string> packaged;
    for (const auto& line : lines_of(contents.out)) {
        // "-rwxr-xr-x root/root 1234 2026-01-01 00:00 ./usr/bin/git-dataops"
        auto at = line.find(" ./usr/");
        if (at != std::string::npos && line.front() != 'd') {
            packaged.insert(line.substr(at + 7));
        }
    }
    // The package is for /usr, where Debian's zsh looks in vendor-completions; the rest is the
    // same.
    CHECK(packaged.erase("share/zsh/vendor-completions/_git-dataops") == 1);
    installed.erase("share/zsh/site-functions/_git-dataops");
    CHECK(packaged == installed);

    auto fields = repo.run({"dpkg-deb", "-f", deb, "Package", "Version", "Depends"});
    INFO(fields.out);
    CHECK_THAT(fields.out, Catch::Contains("Package: git-dataops"));
    CHECK_THAT(fields.out, Catch::Contains(std::string("Version: ") + DATAOPS_VERSION));
    CHECK_THAT(fields.out, Catch::Contains("git"));
    CHECK_THAT(fields.out, Catch::Contains("libgit2"));
    CHECK_THAT(fields.out, Catch::Contains("libyaml"));
}
