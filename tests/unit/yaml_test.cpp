#include <catch2/catch.hpp>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <dataops/yaml/document.hpp>
#include <filesystem>
#include <fstream>
#include <limits>
#include <random>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

namespace yaml = dataops::yaml;
using yaml::Kind;

namespace Catch {
template <>
struct StringMaker<Kind> {
    static std::string convert(Kind kind) {
        static const char* const names[] = {"null", "boolean",   "integer",  "floating", "string",
                                            "date", "timestamp", "sequence", "mapping"};
        return names[static_cast<int>(kind)];
    }
};
}  // namespace Catch

namespace {

yaml::Document parse(std::string_view text, const yaml::ParseOptions& options = {}) {
    return yaml::parse(text, "meltano.yml", options);
}

/// What the value of `v: <scalar>` is.
struct Scalar {
    Kind kind;
    std::string text;
};

Scalar scalar(const std::string& text) {
    const auto doc = parse("v: " + text + "\n");
    const auto node = doc.root().value(0);
    return Scalar{node.kind(), std::string(node.text())};
}

Kind kind_of(const std::string& text) {
    return scalar(text).kind;
}

std::int64_t int_of(const std::string& text) {
    return parse("v: " + text).root().value(0).as_int();
}

double double_of(const std::string& text) {
    return parse("v: " + text).root().value(0).as_double();
}

std::string iso_of(const std::string& text) {
    return parse("v: " + text).root().value(0).iso_string();
}

yaml::ParseError parse_error(std::string_view text, const yaml::ParseOptions& options = {}) {
    try {
        parse(text, options);
    } catch (const yaml::ParseError& e) {
        return e;
    }
    FAIL("expected a parse error for: " << text);
    throw std::logic_error("unreachable");
}

std::string first_hint(const yaml::ParseError& e) {
    return e.hints().empty() ? std::string() : e.hints().front();
}

/// Depth of the deepest node, walked with an explicit stack.
std::size_t depth_of(yaml::NodeRef root) {
    std::vector<std::pair<yaml::NodeRef, std::size_t>> stack{{root, 1}};
    std::size_t deepest = 0;
    while (!stack.empty()) {
        auto [node, depth] = stack.back();
        stack.pop_back();
        deepest = std::max(deepest, depth);
        if (node.is_sequence()) {
            for (std::size_t i = 0; i < node.size(); ++i) {
                stack.emplace_back(node.at(i), depth + 1);
            }
        } else if (node.is_mapping()) {
            for (std::size_t i = 0; i < node.size(); ++i) {
                stack.emplace_back(node.key(i), depth + 1);
                stack.emplace_back(node.value(i), depth + 1);
            }
        }
    }
    return deepest;
}

std::string repeat(std::string_view piece, std::size_t times) {
    std::string out;
    out.reserve(piece.size() * times);
    for (std::size_t i = 0; i < times; ++i) {
        out += piece;
    }
    return out;
}

}  // namespace

TEST_CASE("plain scalars are typed as ruamel.yaml's YAML 1.2 resolver types them", "[yaml]") {
    SECTION("null") {
        for (const char* text : {"~", "null", "Null", "NULL", ""}) {
            INFO(text);
            CHECK(kind_of(text) == Kind::null);
        }
        for (const char* text : {"nULL", "none", "None", "~~", "nil"}) {
            INFO(text);
            CHECK(kind_of(text) == Kind::string);
        }
    }
    SECTION("booleans are only true and false, never yes, no, on or off") {
        for (const char* text : {"true", "True", "TRUE"}) {
            INFO(text);
            REQUIRE(kind_of(text) == Kind::boolean);
            CHECK(parse(std::string("v: ") + text).root().value(0).as_bool());
        }
        for (const char* text : {"false", "False", "FALSE"}) {
            INFO(text);
            REQUIRE(kind_of(text) == Kind::boolean);
            CHECK_FALSE(parse(std::string("v: ") + text).root().value(0).as_bool());
        }
        for (const char* text : {"tRUE", "yes", "Yes", "YES", "no", "No", "on", "On", "ON", "off",
                                 "Off", "y", "n", "Y"}) {
            INFO(text);
            CHECK(kind_of(text) == Kind::string);
        }
    }
    SECTION("integers: decimal, 0o octal, 0x hex, 0b binary, underscores, no 1.1 octal") {
        const std::vector<std::pair<std::string, std::int64_t>> cases = {
            {"0", 0},
            {"-0", 0},
            {"42", 42},
            {"+12", 12},
            {"-7", -7},
            {"017", 17},
            {"08", 8},
            {"0_1", 1},
            {"0o17", 15},
            {"-0o17", -15},
            {"0x1F", 31},
            {"0x1f", 31},
            {"-0x10", -16},
            {"0b1010", 10},
            {"+0b1", 1},
            {"1_000", 1000},
            {"1_000_", 1000},
            {"9223372036854775807", std::numeric_limits<std::int64_t>::max()},
            {"-9223372036854775808", std::numeric_limits<std::int64_t>::min()},
        };
        for (const auto& [text, value] : cases) {
            INFO(text);
            REQUIRE(kind_of(text) == Kind::integer);
            CHECK(int_of(text) == value);
            CHECK(scalar(text).text == text);
        }
        for (const char* text : {"0o", "0x", "0b", "0X1F", "0O17", "0B1", "0o8", "0x1G", "12:30",
                                 "1,000", "--1", "+", "-1-", "_", "_1", "1 000"}) {
            INFO(text);
            CHECK(kind_of(text) == Kind::string);
        }
    }
    SECTION("integers beyond 64 bits keep their text and throw on as_int") {
        const auto doc = parse("v: 99999999999999999999\nw: -0x1_0000_0000_0000_0000\n");
        const auto big = doc.root().value(0);
        REQUIRE(big.kind() == Kind::integer);
        CHECK(big.text() == "99999999999999999999");
        CHECK_THROWS_AS(big.as_int(), dataops::Error);
        CHECK(big.as_double() == Approx(1e20));
        CHECK_THROWS_AS(doc.root().value(1).as_int(), dataops::Error);
        CHECK_THROWS_WITH(big.as_int(),
                          "integer '99999999999999999999' in 'meltano.yml' at line 1, "
                          "column 4 does not fit in 64 bits");
        CHECK(doc.root().value(1).as_double() == Approx(-18446744073709551616.0));
        CHECK_FALSE(big.as_big_unsigned());
        CHECK_FALSE(doc.root().value(1).as_big_unsigned());
    }
    SECTION("integers from 2^63 to 2^64 - 1 are unsigned 64-bit values") {
        const auto doc = parse("a: 18446744073709551615\nb: 0xFFFF_FFFF_FFFF_FFFF\n"
                               "c: 9223372036854775808\nd: 18446744073709551616\n"
                               "e: -9223372036854775809\nf: 9223372036854775807\n");
        const auto value = [&](std::size_t i) { return doc.root().value(i); };
        CHECK(value(0).as_big_unsigned() == std::numeric_limits<std::uint64_t>::max());
        CHECK(value(1).as_big_unsigned() == std::numeric_limits<std::uint64_t>::max());
        CHECK(value(2).as_big_unsigned() == std::uint64_t{1} << 63U);
        CHECK_FALSE(value(3).as_big_unsigned());  // 2^64: beyond
        CHECK_FALSE(value(4).as_big_unsigned());  // negative
        CHECK_FALSE(value(5).as_big_unsigned());  // within int64: as_int()
        CHECK(value(5).as_int() == std::numeric_limits<std::int64_t>::max());
    }
    SECTION("floats: 1e3 and .5 are floats, .5e3 is not") {
        const std::vector<std::pair<std::string, double>> cases = {
            {"1.5", 1.5},        {"1.", 1.0},      {"0.0", 0.0},         {"-1.5e-3", -0.0015},
            {"1e3", 1000.0},     {"1E3", 1000.0},  {"1e+3", 1000.0},     {"1_e3", 1000.0},
            {".5", 0.5},         {"-.5", -0.5},    {"+.5", 0.5},         {".5e+3", 500.0},
            {"1_000.5", 1000.5}, {"1.e3", 1000.0}, {"6.02e23", 6.02e23},
        };
        for (const auto& [text, value] : cases) {
            INFO(text);
            REQUIRE(kind_of(text) == Kind::floating);
            CHECK(double_of(text) == Approx(value));
        }
        for (const char* text : {".inf", ".Inf", ".INF", "+.inf"}) {
            INFO(text);
            REQUIRE(kind_of(text) == Kind::floating);
            CHECK(double_of(text) == std::numeric_limits<double>::infinity());
        }
        CHECK(double_of("-.Inf") == -std::numeric_limits<double>::infinity());
        for (const char* text : {".nan", ".NaN", ".NAN"}) {
            INFO(text);
            REQUIRE(kind_of(text) == Kind::floating);
            CHECK(std::isnan(double_of(text)));
        }
        for (const char* text :
             {".5e3", "-.nan", ".Nan", "inf", "nan", "1.2.3", "1e", "e3", ".", ".e3", "1e3.5"}) {
            INFO(text);
            CHECK(kind_of(text) == Kind::string);
        }
        CHECK(double_of("17") == 17.0);
    }
    SECTION("only plain scalars are resolved: quoted and block scalars are strings") {
        for (const char* text : {"'true'", "\"123\"", "'~'", "''", "\"\"", "'2021-01-01'",
                                 "\"1e3\"", "|\n  true", ">\n  42"}) {
            INFO(text);
            CHECK(kind_of(text) == Kind::string);
        }
        CHECK(scalar("''").text.empty());
        CHECK(scalar("|\n  true").text == "true\n");
    }
    SECTION("anything else is a string, with its text") {
        CHECK(scalar("tap-gitlab").kind == Kind::string);
        CHECK(scalar("$HOME/x").text == "$HOME/x");
        CHECK(scalar("=").kind == Kind::string);
        CHECK(scalar("<<").kind == Kind::string);
        CHECK(scalar("multi\n  line\n\n  plain").text == "multi line\nplain");
    }
}

TEST_CASE("dates and timestamps give Python's isoformat of what ruamel builds", "[yaml]") {
    SECTION("a date") {
        CHECK(kind_of("2021-01-01") == Kind::date);
        CHECK(iso_of("2021-01-01") == "2021-01-01");
        CHECK(iso_of("2024-02-29") == "2024-02-29");
        CHECK(scalar("2021-01-01").text == "2021-01-01");
    }
    SECTION("a date needs two-digit month and day unless a time follows") {
        CHECK(kind_of("2021-1-1") == Kind::string);
        CHECK(kind_of("2021-01-1") == Kind::string);
        CHECK(kind_of("21-01-01") == Kind::string);
        CHECK(kind_of("2021-1-1 1:02:03") == Kind::timestamp);
        CHECK(iso_of("2021-1-1 1:02:03") == "2021-01-01T01:02:03");
    }
    SECTION("an offset converts to UTC and drops the offset and the fraction") {
        CHECK(kind_of("2021-01-01T10:30:00.250+02:00") == Kind::timestamp);
        CHECK(iso_of("2021-01-01T10:30:00.250+02:00") == "2021-01-01T08:30:00");
        CHECK(iso_of("2021-01-01T10:00:00-05") == "2021-01-01T15:00:00");
        CHECK(iso_of("2021-01-01 23:30:00 -01:00") == "2021-01-02T00:30:00");
        CHECK(iso_of("2021-01-01T00:30:00+01:00") == "2020-12-31T23:30:00");
    }
    SECTION("a T separator drops the fraction; a blank separator without offset keeps it") {
        CHECK(iso_of("2021-01-01T10:30:00.25") == "2021-01-01T10:30:00");
        CHECK(iso_of("2021-01-01t10:30:00") == "2021-01-01T10:30:00");
        CHECK(iso_of("2021-01-01 10:30:00.25") == "2021-01-01T10:30:00.250000");
        CHECK(iso_of("2021-01-01   10:30:00") == "2021-01-01T10:30:00");
        CHECK(iso_of("2021-01-01 10:30:00.") == "2021-01-01T10:30:00");
    }
    SECTION("Z is dropped without conversion") {
        CHECK(iso_of("2021-01-01T10:30:00Z") == "2021-01-01T10:30:00");
        CHECK(iso_of("2021-01-01 10:30:00.5Z") == "2021-01-01T10:30:00.500000");
        CHECK(iso_of("2021-01-01 10:30:00 Z") == "2021-01-01T10:30:00");
    }
    SECTION("fractions keep six digits, rounded on the seventh") {
        CHECK(iso_of("2021-01-01 10:30:00.1234565") == "2021-01-01T10:30:00.123457");
        CHECK(iso_of("2021-01-01 10:30:00.1234564") == "2021-01-01T10:30:00.123456");
        CHECK(iso_of("2021-12-31 23:59:59.9999996") == "2022-01-01T00:00:00");
    }
    SECTION("timestamp-like text that the resolver does not match stays a string") {
        for (const char* text :
             {"2021-01-01T10:30", "2021-01-01T10:30:00+", "2021-01-01T10:30:00+5:3",
              "2021-01-01 10:30:00 PST", "20210101"}) {
            INFO(text);
            CHECK(kind_of(text) != Kind::timestamp);
            CHECK(kind_of(text) != Kind::date);
        }
    }
    SECTION("other kinds refuse iso_string") {
        CHECK_THROWS_AS(parse("v: x").root().value(0).iso_string(), std::logic_error);
    }
}

TEST_CASE("explicit tags force the type and unknown tags give strings", "[yaml]") {
    SECTION("standard tags") {
        CHECK(scalar("!!str 123").kind == Kind::string);
        CHECK(scalar("!!str 123").text == "123");
        CHECK(scalar("!!str true").kind == Kind::string);
        CHECK(int_of("!!int '42'") == 42);
        CHECK(int_of("!!int \"0x1F\"") == 31);
        CHECK(kind_of("!!float 1") == Kind::floating);
        CHECK(double_of("!!float '2'") == 2.0);
        CHECK(kind_of("!!null foo") == Kind::null);
        CHECK(kind_of("!!timestamp '2021-1-1'") == Kind::date);
        CHECK(iso_of("!!timestamp \"2021-01-01 10:00:00\"") == "2021-01-01T10:00:00");
    }
    SECTION("!!bool also takes ruamel's YAML 1.1 words") {
        CHECK(parse("v: !!bool yes").root().value(0).as_bool());
        CHECK(parse("v: !!bool On").root().value(0).as_bool());
        CHECK_FALSE(parse("v: !!bool n").root().value(0).as_bool());
    }
    SECTION("long form tags") {
        CHECK(int_of("!<tag:yaml.org,2002:int> '7'") == 7);
        CHECK(kind_of("!<tag:yaml.org,2002:str> 7") == Kind::string);
    }
    SECTION("the non-specific tag ! resolves as if plain, even when quoted") {
        CHECK(kind_of("! 123") == Kind::integer);
        CHECK(kind_of("! \"true\"") == Kind::boolean);
    }
    SECTION("unknown tags keep the node, strings for scalars") {
        CHECK(scalar("!foo 123").kind == Kind::string);
        CHECK(scalar("!foo 123").text == "123");
        CHECK(kind_of("!foo [1]") == Kind::sequence);
        CHECK(kind_of("!foo {a: 1}") == Kind::mapping);
        CHECK(kind_of("!!python/name:os.system x") == Kind::string);
    }
    SECTION("a value that does not fit its tag is an error at the node") {
        for (const char* text :
             {"!!int abc", "!!int 1.5", "!!int ''", "!!float x", "!!bool maybe", "!!timestamp nope",
              "!!timestamp 2021-02-30", "!!seq x", "!!map [1]", "!!int [1]", "!!null {a: 1}"}) {
            INFO(text);
            const auto e = parse_error(std::string("a: 1\nv: ") + text + "\n");
            CHECK(e.mark().line == 2);
            CHECK(e.mark().column == 4);
            CHECK(e.file() == "meltano.yml");
        }
        CHECK(std::string(parse_error("v: !!int abc").what()) == "invalid integer 'abc'");
    }
}

TEST_CASE("plain scalars ruamel resolves but cannot construct are errors", "[yaml]") {
    for (const char* text :
         {"-_", "+_", "._", "0b_", "0x_", "0o_", "2021-02-30", "2021-13-01", "0000-01-01",
          "2021-01-01T24:00:00", "2021-01-01 10:60:00", "0001-01-01T00:30:00+01:00"}) {
        INFO(text);
        const auto e = parse_error(std::string("v: ") + text);
        CHECK(e.mark().line == 1);
        CHECK(e.mark().column == 4);
        CHECK_THAT(first_hint(e), Catch::Contains("quote it"));
    }
    CHECK(std::string(parse_error("v: 2021-02-30").what()) == "invalid date or time '2021-02-30'");
    CHECK(kind_of("'2021-02-30'") == Kind::string);
}

TEST_CASE("a %YAML 1.1 directive switches to ruamel's 1.1 resolvers", "[yaml]") {
    const auto doc = parse(
        "%YAML 1.1\n---\n[yes, No, 017, 0o17, '017', 1:30, 190:20:30, 1:30.5, -.5, 09, on]\n");
    const auto seq = doc.root();
    CHECK(seq.at(0).as_bool());
    CHECK_FALSE(seq.at(1).as_bool());
    CHECK(seq.at(2).as_int() == 15);
    CHECK(seq.at(3).kind() == Kind::string);
    CHECK(seq.at(4).kind() == Kind::string);
    CHECK(seq.at(5).as_int() == 90);
    CHECK(seq.at(6).as_int() == 685230);
    CHECK(seq.at(7).as_double() == Approx(90.5));
    CHECK(seq.at(8).kind() == Kind::string);
    CHECK(seq.at(9).kind() == Kind::string);
    CHECK(seq.at(10).as_bool());
    CHECK(parse("%YAML 1.2\n---\n[yes, 017]").root().at(1).as_int() == 17);
}

TEST_CASE("nodes remember where they start, line and column in characters", "[yaml]") {
    const auto doc =
        parse("name: meltano\nplugins:\n  extractors:\n    - name: tap-é\n      ré: [ü, 'x']\n");
    const auto root = doc.root();
    CHECK(root.mark().line == 1);
    CHECK(root.mark().column == 1);
    CHECK(root.file() == "meltano.yml");
    CHECK(root.key(0).mark().column == 1);
    CHECK(root.value(0).mark().line == 1);
    CHECK(root.value(0).mark().column == 7);
    const auto extractors = root.find("plugins")->find("extractors");
    REQUIRE(extractors);
    CHECK(extractors->mark().line == 4);
    CHECK(extractors->mark().column == 5);
    const auto item = extractors->at(0);
    CHECK(item.mark().line == 4);
    CHECK(item.mark().column == 7);
    CHECK(item.key(1).text() == "ré");
    CHECK(item.key(1).mark().line == 5);
    CHECK(item.key(1).mark().column == 7);
    const auto flow = item.value(1);
    CHECK(flow.mark().column == 11);
    CHECK(flow.at(0).mark().column == 12);
    CHECK(flow.at(1).mark().column == 15);
    CHECK(flow.at(1).style() == yaml::ScalarStyle::single_quoted);
    CHECK(flow.style() == yaml::ScalarStyle::none);
}

TEST_CASE("line endings and a byte order mark do not shift positions", "[yaml]") {
    SECTION("CRLF") {
        const auto doc = parse("a: 1\r\nb: [x, y]\r\n");
        CHECK(doc.root().value(1).mark().line == 2);
        CHECK(doc.root().value(1).at(1).mark().column == 8);
        const auto e = parse_error("a: 1\r\nb: c: d\r\n");
        CHECK(e.mark().line == 2);
        CHECK(e.mark().column == 5);
    }
    SECTION("UTF-8 byte order mark") {
        const auto doc = parse(
            "\xEF\xBB\xBF"
            "a: 1\nb: 2\n");
        CHECK(doc.root().key(0).text() == "a");
        CHECK(doc.root().key(0).mark().column == 1);
        const auto e = parse_error(
            "\xEF\xBB\xBF"
            "a: 1\nb: \xC3\xA9x\ty\n");
        CHECK(e.mark().line == 2);
        CHECK(e.mark().column == 6);
    }
}

TEST_CASE("scalar styles and text after unescaping and folding", "[yaml]") {
    const auto doc = parse(
        "a: |\n  text\nb: >-\n  folded\n  lines\nc: \"esc\\tape\\u00e9\"\nd: plain\ne: 'it''s'\n");
    const auto root = doc.root();
    CHECK(root.value(0).style() == yaml::ScalarStyle::literal);
    CHECK(root.value(0).text() == "text\n");
    CHECK(root.value(1).style() == yaml::ScalarStyle::folded);
    CHECK(root.value(1).text() == "folded lines");
    CHECK(root.value(2).style() == yaml::ScalarStyle::double_quoted);
    CHECK(root.value(2).text() == "esc\tape\xC3\xA9");
    CHECK(root.value(3).style() == yaml::ScalarStyle::plain);
    CHECK(root.value(4).text() == "it's");
    CHECK(parse("v: ~").root().value(0).text().empty());
}

TEST_CASE("accessors check what they are used on", "[yaml]") {
    const auto doc = parse("m: {a: 1}\ns: [x]\nv: text\n");
    const auto root = doc.root();
    CHECK(root.size() == 3);
    CHECK(root.find("s")->size() == 1);
    CHECK(root.find("v")->size() == 0);
    CHECK_FALSE(root.find("missing"));
    CHECK_FALSE(root.find("v")->find("x"));
    CHECK_THROWS_AS(root.at(0), std::out_of_range);
    CHECK_THROWS_AS(root.find("s")->at(1), std::out_of_range);
    CHECK_THROWS_AS(root.key(3), std::out_of_range);
    CHECK_THROWS_AS(root.find("v")->as_bool(), std::logic_error);
    CHECK_THROWS_AS(root.find("v")->as_int(), std::logic_error);
    CHECK_THROWS_AS(root.find("v")->as_double(), std::logic_error);
    CHECK(root.find("m")->is_mapping());
    CHECK(root.find("s")->is_sequence());
    CHECK(root.find("v")->is_scalar());
}

TEST_CASE("syntax errors carry the line and column libyaml reports", "[yaml]") {
    SECTION("mapping values where they are not allowed") {
        const auto e = parse_error("a: b: c\n");
        CHECK(std::string(e.what()) == "mapping values are not allowed in this context");
        CHECK(e.mark().line == 1);
        CHECK(e.mark().column == 5);
        CHECK(e.file() == "meltano.yml");
    }
    SECTION("a character that cannot start a token, columns in characters") {
        const auto e = parse_error("é: @x\n");
        CHECK(std::string(e.what()) == "found character that cannot start any token");
        CHECK(e.mark().line == 1);
        CHECK(e.mark().column == 4);
    }
    SECTION("an unclosed flow sequence, with its start as a hint") {
        const auto e = parse_error("k: [1, 2\n");
        CHECK(e.mark().line == 2);
        CHECK(e.mark().column == 1);
        CHECK(first_hint(e) == "while parsing a flow sequence at line 1, column 4");
    }
    SECTION("bad indentation") {
        const auto e = parse_error("a:\n  b: 1\n c: 2\n");
        CHECK(std::string(e.what()) == "did not find expected key");
        CHECK(e.mark().line == 3);
        CHECK(e.mark().column == 2);
    }
    SECTION("tabs for indentation") {
        auto e = parse_error("a:\n\tb: 1\n");
        CHECK(e.mark().line == 2);
        CHECK(e.mark().column == 1);
        CHECK_THAT(e.hints().back(), Catch::Contains("tabs"));
        e = parse_error("a:\n  b: 1\n\tc: 2\n");
        CHECK(e.mark().line == 3);
        CHECK(e.mark().column == 1);
        CHECK_THAT(e.hints().back(), Catch::Contains("tabs"));
    }
    SECTION("tabs where ruamel's scanner rejects them, though libyaml accepts them") {
        for (const char* text :
             {"v: a\tb\n", "v: x\t\n", "v: x\t# comment\n", "a:\t1\n", "key\t: v\n", "v: [a\tb]\n",
              "v: [a, b]\t\n", "a: 1\n\t\nb: 2\n", "- \tx\n"}) {
            INFO(text);
            const auto e = parse_error(text);
            const std::string told = e.what() + std::string(" ") + e.hints().back();
            CHECK_THAT(told, Catch::Contains("tab"));
        }
        const auto e = parse_error("name: x\nplugins: \xC3\xA9\tb\n");
        CHECK(e.mark().line == 2);
        CHECK(e.mark().column == 11);
    }
    SECTION("tabs inside quoted and block scalars, comments and flow collections are fine") {
        CHECK(parse("v: \"a\tb\"\n").root().value(0).text() == "a\tb");
        CHECK(parse("v: 'a\tb'\n").root().value(0).text() == "a\tb");
        CHECK(parse("v: |\n  a\tb\n").root().value(0).text() == "a\tb\n");
        CHECK_NOTHROW(parse("v: x # a\tcomment\n# \there\n"));
        CHECK(parse("v: [a,\tb]\n").root().value(0).size() == 2);
        CHECK(parse("v: {a:\t1}\n").root().value(0).find("a")->as_int() == 1);
    }
    SECTION(
        "syntax errors win over later-detected problems, as ruamel composes before constructing") {
        const auto e = parse_error("a: 1\na: 2\nb: [\n");
        CHECK(std::string(e.what()) != "found duplicate key 'a'");
        CHECK(e.mark().line == 4);
    }
}

TEST_CASE("duplicate mapping keys are rejected at the second key", "[yaml]") {
    SECTION("plain keys") {
        const auto e = parse_error("name: a\nplugins: {}\nname: b\n");
        CHECK(std::string(e.what()) == "found duplicate key 'name'");
        CHECK(e.mark().line == 3);
        CHECK(e.mark().column == 1);
        CHECK(first_hint(e) == "first defined at line 1");
    }
    SECTION("nested and flow mappings") {
        auto e = parse_error("top:\n  inner:\n    x: 1\n    y: 2\n    x: 3\n");
        CHECK(e.mark().line == 5);
        CHECK(e.mark().column == 5);
        e = parse_error("- {a: 1, b: 2, a: 3}\n");
        CHECK(e.mark().line == 1);
        CHECK(e.mark().column == 16);
    }
    SECTION("keys compare as Python compares the constructed values") {
        CHECK_THROWS_AS(parse("\"a\": 1\na: 2\n"), yaml::ParseError);
        CHECK_THROWS_AS(parse("1: a\n1.0: b\n"), yaml::ParseError);
        CHECK_THROWS_AS(parse("1: a\n0x1: b\n"), yaml::ParseError);
        CHECK_THROWS_AS(parse("true: a\n1: b\n"), yaml::ParseError);
        CHECK_THROWS_AS(parse("~: a\nnull: b\n"), yaml::ParseError);
        CHECK_THROWS_AS(parse("2021-01-01: a\n2021-01-01: b\n"), yaml::ParseError);
        CHECK_NOTHROW(parse("'1': a\n1: b\n"));
        CHECK_NOTHROW(parse("'true': a\ntrue: b\n"));
        CHECK_NOTHROW(parse("2021-01-01: a\n2021-01-01 00:00:00: b\n"));
        CHECK_NOTHROW(parse("1: a\n1.5: b\n"));
    }
    SECTION("many keys, one repeated late") {
        std::string text;
        for (int i = 0; i < 1000; ++i) {
            text += "key" + std::to_string(i) + ": " + std::to_string(i) + "\n";
        }
        CHECK(parse(text).root().size() == 1000);
        const auto e = parse_error(text + "key500: again\n");
        CHECK(e.mark().line == 1001);
        CHECK(first_hint(e) == "first defined at line 501");
    }
    SECTION("keys ruamel keeps as TaggedScalars equal only themselves") {
        CHECK(parse("!!str a: 1\n!!str a: 2\n").root().size() == 2);
        CHECK(parse("a: 1\n!foo a: 2\n").root().size() == 2);
        CHECK_THROWS_AS(parse("k: &k !foo a\n*k : 1\n*k : 2\n"), yaml::ParseError);
    }
    SECTION("collection keys are allowed and never duplicates of one another") {
        const auto doc = parse("? [a]\n: 1\n? [a]\n: 2\n");
        CHECK(doc.root().size() == 2);
        CHECK(doc.root().key(0).is_sequence());
    }
    SECTION("the earliest of several problems is reported") {
        const auto e = parse_error("a:\n  x: 1\n  x: 2\nb: 1\nb: 2\n");
        CHECK(e.mark().line == 3);
    }
}

TEST_CASE("an alias is its anchor's node", "[yaml]") {
    SECTION("same node id, the anchor's position") {
        const auto doc = parse("base: &cfg {user: me}\ncopy: *cfg\nlist: [&s 1, *s]\n");
        const auto root = doc.root();
        CHECK(root.value(0).id() == root.value(1).id());
        CHECK(root.value(1).mark().line == 1);
        CHECK(root.value(1).find("user")->text() == "me");
        CHECK(root.value(2).at(0).id() == root.value(2).at(1).id());
    }
    SECTION("a redefined anchor applies to later aliases") {
        const auto doc = parse("a: &x 1\nb: *x\nc: &x 2\nd: *x\n");
        CHECK(doc.root().value(1).as_int() == 1);
        CHECK(doc.root().value(3).as_int() == 2);
    }
    SECTION("an undefined alias") {
        const auto e = parse_error("a: 1\nb: *nope\n");
        CHECK(std::string(e.what()) == "found undefined alias 'nope'");
        CHECK(e.mark().line == 2);
        CHECK(e.mark().column == 4);
    }
    SECTION("an alias to a collection that is still open") {
        auto e = parse_error("a: &a [ *a ]\n");
        CHECK(std::string(e.what()) == "found recursive alias 'a'");
        CHECK(e.mark().column == 9);
        e = parse_error("a: &a\n  b:\n    c: *a\n");
        CHECK(e.mark().line == 3);
    }
}

TEST_CASE("merge keys merge the entries that are not explicit", "[yaml]") {
    const std::string anchors = "a: &a {x: 1, y: 1}\nb: &b {y: 2, z: 2}\n";
    auto entries = [](yaml::NodeRef map) {
        std::string out;
        for (std::size_t i = 0; i < map.size(); ++i) {
            out += std::string(map.key(i).text()) + "=" + std::string(map.value(i).text()) + " ";
        }
        return out;
    };
    SECTION("explicit keys win wherever they appear, merged entries come last") {
        auto doc = parse(anchors + "c:\n  y: 9\n  <<: *a\n  w: 0\n");
        CHECK(entries(doc.root().find("c").value()) == "y=9 w=0 x=1 ");
        doc = parse(anchors + "c:\n  <<: *a\n  y: 9\n");
        CHECK(entries(doc.root().find("c").value()) == "y=9 x=1 ");
        CHECK(doc.root().find("c")->find("x")->as_int() == 1);
    }
    SECTION("in a list, earlier mappings win") {
        auto doc = parse(anchors + "c:\n  <<: [*a, *b]\n");
        CHECK(entries(doc.root().find("c").value()) == "x=1 y=1 z=2 ");
        doc = parse(anchors + "c:\n  <<: [*b, *a]\n");
        CHECK(entries(doc.root().find("c").value()) == "y=2 z=2 x=1 ");
    }
    SECTION("merges chain and take inline mappings") {
        const auto doc = parse(anchors + "c: &c\n  <<: *a\n  q: 3\nd:\n  <<: [*c, {r: 4}]\n");
        CHECK(entries(doc.root().find("d").value()) == "q=3 x=1 y=1 r=4 ");
    }
    SECTION("a merged key repeating an explicit one is no duplicate; a quoted << is a plain key") {
        CHECK_NOTHROW(parse(anchors + "c: {x: 5, <<: *a}\n"));
        const auto doc = parse(anchors + "c: {\"<<\": *a}\n");
        CHECK(doc.root().find("c")->find("<<")->is_mapping());
    }
    SECTION("merge values must be mappings") {
        auto e = parse_error("c:\n  <<: 5\n");
        CHECK(e.mark().line == 2);
        CHECK(e.mark().column == 7);
        CHECK_THAT(e.what(), Catch::Contains("'<<'"));
        e = parse_error("s: &s [1]\nc:\n  <<: [*s]\n");
        CHECK(e.mark().line == 1);
        CHECK_THROWS_AS(parse("c:\n  <<: [{a: 1}, x]\n"), yaml::ParseError);
        CHECK_THROWS_AS(parse("c:\n  <<: ~\n"), yaml::ParseError);
    }
    SECTION("a second << in one mapping") {
        const auto e = parse_error(anchors + "c:\n  <<: *a\n  <<: *b\n");
        CHECK(std::string(e.what()) == "found duplicate merge key '<<'");
        CHECK(e.mark().line == 5);
    }
}

TEST_CASE("alias bombs are rejected quickly", "[yaml]") {
    SECTION("billion laughs") {
        std::string text = "a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]\n";
        for (int i = 1; i < 10; ++i) {
            const std::string prev = "*a" + std::to_string(i - 1);
            text += "a" + std::to_string(i) + ": &a" + std::to_string(i) + " [" + prev;
            for (int j = 1; j < 10; ++j) {
                text += ", " + prev;
            }
            text += "]\n";
        }
        const auto start = std::chrono::steady_clock::now();
        const auto e = parse_error(text);
        const auto elapsed = std::chrono::steady_clock::now() - start;
        CHECK(std::string(e.what()) == "document expands to too many nodes through aliases");
        CHECK_FALSE(e.hints().empty());
        CHECK(elapsed < std::chrono::milliseconds(500));
    }
    SECTION("a quadratic blow-up through merges") {
        std::string text = "base: &b {";
        for (int i = 0; i < 2000; ++i) {
            text += (i == 0 ? "" : ", ") + std::string("k") + std::to_string(i) + ": v";
        }
        text += "}\nlist:\n";
        for (int i = 0; i < 5000; ++i) {
            text += "- <<: *b\n";
        }
        const auto start = std::chrono::steady_clock::now();
        CHECK_THROWS_AS(parse(text), yaml::ParseError);
        CHECK(std::chrono::steady_clock::now() - start < std::chrono::milliseconds(1000));
    }
    SECTION("the bound is configurable and ordinary aliases pass") {
        const std::string text = "a: &a [1, 2, 3]\nb: [*a, *a, *a]\n";
        CHECK(parse(text).root().size() == 2);
        yaml::ParseOptions tight;
        tight.max_expanded_nodes = 10;
        CHECK_THROWS_AS(parse(text, tight), yaml::ParseError);
        tight.max_expanded_nodes = 30;
        CHECK_NOTHROW(parse(text, tight));
    }
}

TEST_CASE("200,000 levels of nesting fail cleanly, never recursing", "[yaml]") {
    constexpr std::size_t depth = 200'000;
    // Meltano's loader (ruamel's recursive composer) fails far below 1,000 levels; deeper input
    // is refused at the level that crosses the limit, so nothing downstream sees it.
    const std::string too_deep = "collections are nested too deeply";
    SECTION("block sequences on one line") {
        const auto e = parse_error(repeat("- ", depth) + "x\n");
        CHECK(std::string(e.what()) == too_deep);
        CHECK(e.mark().line == 1);
        CHECK(e.mark().column == 2001);
        CHECK_THAT(first_hint(e), Catch::Contains("more than 1000 levels") && Catch::Contains("RecursionError"));
    }
    SECTION("block mappings with explicit keys") {
        const auto e = parse_error(repeat("? ", depth) + "x\n");
        CHECK(std::string(e.what()) == too_deep);
        CHECK(e.mark().column == 2001);
    }
    SECTION("indented block mappings") {
        std::string text;
        for (std::size_t i = 0; i < 2000; ++i) {
            text += std::string(i, ' ') + "a:\n";
        }
        const auto e = parse_error(text);
        CHECK(std::string(e.what()) == too_deep);
        CHECK(e.mark().line == 1001);
        CHECK(e.mark().column == 1001);
    }
    SECTION("1,000 levels are fine, block or flow") {
        auto doc = std::make_unique<yaml::Document>(parse(repeat("- ", 999) + "[x]\n"));
        CHECK(depth_of(doc->root()) == 1001);
        doc.reset();
        CHECK(depth_of(parse(repeat("[", 1000) + repeat("]", 1000)).root()) == 1000);
    }
    SECTION("aliases count with the levels they bring in") {
        const std::string anchor = "a: &a " + repeat("[", 999) + repeat("]", 999) + "\n";
        CHECK_NOTHROW(parse(anchor + "b: *a\n"));
        const auto e = parse_error(anchor + "b: [*a]\n");
        CHECK(std::string(e.what()) == too_deep);
        CHECK(e.mark().line == 2);
        CHECK(e.mark().column == 5);
        CHECK_THAT(first_hint(e), Catch::Contains("through the alias '*a'"));
        // A chain of aliases, each one level deeper, cannot build depth either.
        std::string chain = "l0: &l0 [x]\n";
        for (int i = 1; i < 1100; ++i) {
            chain += "l" + std::to_string(i) + ": &l" + std::to_string(i) + " [*l" + std::to_string(i - 1) + "]\n";
        }
        const auto c = parse_error(chain);
        CHECK(std::string(c.what()) == too_deep);
        CHECK(c.mark().line == 1000);
    }
    SECTION("flow collections fail cleanly past 1,000 levels") {
        for (const auto& [open, close] : {std::pair{"[", "]"}, std::pair{"{", "}"}}) {
            const auto e = parse_error(repeat(open, depth) + repeat(close, depth));
            CHECK(std::string(e.what()) == "flow collections are nested too deeply");
            CHECK(e.mark().line == 1);
            CHECK(e.mark().column == 1001);
        }
    }
}

TEST_CASE("a stream holds at most one document", "[yaml]") {
    SECTION("a second document is an error at its start") {
        auto e = parse_error("a: 1\n---\nb: 2\n");
        CHECK(std::string(e.what()) == "found another document in the stream");
        CHECK(e.mark().line == 2);
        CHECK(first_hint(e) ==
              "ruamel.yaml, and so Meltano, loads a single document per file; the first one "
              "starts at line 1");
        CHECK_THROWS_AS(parse("---\na: 1\n---\n"), yaml::ParseError);
        CHECK_THROWS_AS(parse("a: 1\n...\n---\nb: 1\n"), yaml::ParseError);
    }
    SECTION("explicit markers around one document are fine") {
        CHECK(parse("---\na: 1\n...\n").root().find("a")->as_int() == 1);
        CHECK(parse("# head\n---\na: 1\n# tail\n").root().size() == 1);
    }
    SECTION("an empty or comment-only stream is empty, with a null root") {
        for (const char* text : {"", "\n\n", "# just a comment\n# and another\n", "   "}) {
            INFO(text);
            const auto doc = parse(text);
            CHECK(doc.empty());
            CHECK(doc.root().is_null());
            CHECK(doc.root().size() == 0);
        }
        const auto explicit_empty = parse("---\n");
        CHECK_FALSE(explicit_empty.empty());
        CHECK(explicit_empty.root().is_null());
        const yaml::Document defaulted;
        CHECK(defaulted.empty());
        CHECK(defaulted.root().is_null());
    }
    SECTION("documents move") {
        auto doc = parse("a: [1, 2]\n");
        yaml::Document moved(std::move(doc));
        CHECK(moved.root().find("a")->size() == 2);
        yaml::Document assigned;
        assigned = std::move(moved);
        CHECK(assigned.root().find("a")->at(1).as_int() == 2);
        CHECK(assigned.file() == "meltano.yml");
    }
}

TEST_CASE("binary garbage is a parse error, never a crash", "[yaml]") {
    SECTION("a NUL byte") {
        const auto e = parse_error(std::string_view("a: 1\nb: \0\n", 10));
        CHECK_THAT(e.what(), Catch::Contains("control characters are not allowed"));
        CHECK(e.mark().line == 2);
        CHECK(e.mark().column == 4);
    }
    SECTION("invalid UTF-8") {
        auto e = parse_error("a: 1\nb: caf\xE9\n");
        CHECK_THAT(e.what(), Catch::Contains("UTF-8"));
        CHECK(e.mark().line == 2);
        CHECK(e.mark().column == 7);
        CHECK_THROWS_AS(parse("a: \xC3\n"), yaml::ParseError);
        CHECK_THROWS_AS(parse("\xFF\xFE\xFD"), yaml::ParseError);
    }
    SECTION("random bytes") {
        std::mt19937 random(12345);
        for (int round = 0; round < 200; ++round) {
            std::string bytes(1 + random() % 300, '\0');
            for (char& c : bytes) {
                c = static_cast<char>(random() % 256);
            }
            try {
                parse(bytes);
            } catch (const yaml::ParseError&) {
            }
        }
        SUCCEED();
    }
    SECTION("random YAML-ish text") {
        std::mt19937 random(777);
        const std::string alphabet = "ab:-[]{},&*!|>'\"#?\n \t~<0.1e";
        for (int round = 0; round < 2000; ++round) {
            std::string text(random() % 60, ' ');
            for (char& c : text) {
                c = alphabet[random() % alphabet.size()];
            }
            try {
                const auto doc = parse(text);
                depth_of(doc.root());
            } catch (const yaml::ParseError& e) {
                CHECK(e.mark().line >= 1);
            }
        }
    }
}

TEST_CASE("a 20 MB scalar is parsed without quadratic copies", "[yaml]") {
    const std::string payload(20 * 1024 * 1024, 'x');
    SECTION("plain") {
        const auto start = std::chrono::steady_clock::now();
        const auto doc = parse("big: " + payload + "\n");
        CHECK(doc.root().find("big")->text().size() == payload.size());
        CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(5));
    }
    SECTION("literal block") {
        const auto doc = parse("big: |\n  " + payload + "\n  " + payload.substr(0, 10) + "\n");
        CHECK(doc.root().find("big")->text().size() == payload.size() + 12);
    }
}

TEST_CASE("a meltano.yml parses into the tree Meltano sees", "[yaml]") {
    const auto doc = parse(R"(version: 1
default_environment: dev
project_id: 8c07f654-6908-4b51-acef-8de3d37aecac
environments:
- name: dev
  config:
    plugins:
      extractors:
      - name: tap-auth0
        config:
          client_id: 39Pu9tTomnTv594VAFYnmRvkEpSlI7a6
          start_date: 2021-01-01
          enabled: yes
plugins:
  extractors:
  - name: tap-auth0
    variant: matatika
    config:
      port: 0o17
      ratio: 1e3
)");
    const auto root = doc.root();
    CHECK(root.find("version")->as_int() == 1);
    const auto env = root.find("environments")->at(0);
    CHECK(env.find("name")->text() == "dev");
    const auto config =
        env.find("config")->find("plugins")->find("extractors")->at(0).find("config");
    REQUIRE(config);
    CHECK(config->find("start_date")->iso_string() == "2021-01-01");
    CHECK(config->find("enabled")->kind() == Kind::string);
    const auto base = root.find("plugins")->find("extractors")->at(0).find("config");
    CHECK(base->find("port")->as_int() == 15);
    CHECK(base->find("ratio")->kind() == Kind::floating);
}

#ifdef DATAOPS_SHARED_DIR
TEST_CASE("every meltano.yml of the real-world corpus parses", "[yaml]") {
    const std::filesystem::path corpus = std::filesystem::path(DATAOPS_SHARED_DIR) / "corpus";
    if (!std::filesystem::is_directory(corpus)) {
        SUCCEED("no corpus at " << corpus);
        return;
    }
    std::size_t files = 0;
    for (const auto& entry : std::filesystem::recursive_directory_iterator(corpus)) {
        const auto ext = entry.path().extension();
        if (!entry.is_regular_file() || (ext != ".yml" && ext != ".yaml")) {
            continue;
        }
        std::ifstream in(entry.path(), std::ios::binary);
        std::stringstream buffer;
        buffer << in.rdbuf();
        INFO(entry.path().string());
        CHECK_NOTHROW(yaml::parse(buffer.str(), entry.path().string()));
        ++files;
    }
    CHECK(files > 0);
}
#endif
