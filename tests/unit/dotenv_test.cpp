#include <catch2/catch.hpp>

#include <map>
#include <string>

#include <dataops/workspace/workspace.hpp>

// `.env` as Meltano reads it: python-dotenv's dotenv_values. Every expected map below is what
// python-dotenv 1.2.2 returns for the same text and process environment (its None values, keys
// without `=`, left out).

using dataops::workspace::parse_dotenv;
using Vars = std::map<std::string, std::string>;

TEST_CASE(".env: export, quotes over lines, and ${VAR} against the lines before", "[dotenv]") {
    const std::string text =
        "export TAP_V_A=exported\n"
        "TAP_V_B=\"quoted value\" # trailing\n"
        "TAP_V_C='single ${X}'\n"
        "X=xx\n"
        "TAP_V_D=${X}-interp\n"
        "TAP_V_E=\"multi\nline\"\n";
    CHECK(parse_dotenv(text) == Vars{{"TAP_V_A", "exported"},
                                     {"TAP_V_B", "quoted value"},
                                     {"TAP_V_C", "single "},  // X comes later: empty, even in single quotes
                                     {"X", "xx"},
                                     {"TAP_V_D", "xx-interp"},
                                     {"TAP_V_E", "multi\nline"}});
}

TEST_CASE(".env: comments, blanks and empty values", "[dotenv]") {
    CHECK(parse_dotenv("# a comment\nA=1 # note\nB=a#b\nC='x # y'\nD=  spaced  \nE=\n") ==
          Vars{{"A", "1"}, {"B", "a#b"}, {"C", "x # y"}, {"D", "spaced"}, {"E", ""}});
}

TEST_CASE(".env: escapes in double quotes, fewer in single quotes, none unquoted", "[dotenv]") {
    CHECK(parse_dotenv("A=\"tab\\there\\nnext\\\\done\\\"q\"\nB='it\\'s \\\\ \\n'\nC=plain\\nkept\n") ==
          Vars{{"A", "tab\there\nnext\\done\"q"}, {"B", "it's \\ \\n"}, {"C", "plain\\nkept"}});
}

TEST_CASE(".env: interpolation from the process environment, .env winning, defaults", "[dotenv]") {
    const Vars environment{{"HOME_DIR", "/home/u"}, {"SHADOWED", "from the process"}};
    const std::string text =
        "SHADOWED=from .env\n"
        "A=${HOME_DIR}/x\n"
        "B=${SHADOWED}\n"
        "C=${MISSING:-fallback}\n"
        "D=${MISSING}|$HOME_DIR|${A}\n"  // only ${...} is interpolated
        "E=${NOVALUE}\n"
        "NOVALUE\n"
        "F=${NOVALUE:-d}\n";  // known, without a value: empty, not the default
    CHECK(parse_dotenv(text, environment) == Vars{{"SHADOWED", "from .env"},
                                                  {"A", "/home/u/x"},
                                                  {"B", "from .env"},
                                                  {"C", "fallback"},
                                                  {"D", "|$HOME_DIR|/home/u/x"},
                                                  {"E", ""},
                                                  {"F", ""}});
}

TEST_CASE(".env: a line python-dotenv cannot read is skipped, the others kept", "[dotenv]") {
    CHECK(parse_dotenv("GOOD=1\nBAD=\"unterminated\nAFTER='x' y\n=novalue\nLAST=2\n") ==
          Vars{{"GOOD", "1"}, {"LAST", "2"}});
    CHECK(parse_dotenv("A=1\r\nB=\"two\r\nlines\"\r\nC=3") == Vars{{"A", "1"}, {"B", "two\r\nlines"}, {"C", "3"}});
}
