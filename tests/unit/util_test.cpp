#include <catch2/catch.hpp>

#include <atomic>
#include <vector>

#include <dataops/util/parallel.hpp>
#include <dataops/util/strings.hpp>

using namespace dataops::util;

TEST_CASE("strings are split, trimmed and compared as the commands need", "[util]") {
    SECTION("lines lose their LF and a final LF adds no empty line") {
        CHECK(split_lines("a\nb\n") == std::vector<std::string>{"a", "b"});
        CHECK(split_lines("a\n\nb") == std::vector<std::string>{"a", "", "b"});
        CHECK(split_lines("").empty());
    }
    SECTION("split keeps empty fields") {
        CHECK(split("a,,b", ',') == std::vector<std::string>{"a", "", "b"});
        CHECK(split("", ',') == std::vector<std::string>{""});
    }
    SECTION("trim removes surrounding whitespace only") {
        CHECK(trim("  a b \n") == "a b");
        CHECK(trim(" \t\n").empty());
    }
    SECTION("prefixes and suffixes") {
        CHECK(starts_with("fatal: x", "fatal: "));
        CHECK_FALSE(starts_with("fat", "fatal"));
        CHECK(ends_with("plugin.lock", ".lock"));
        CHECK_FALSE(ends_with("lock", "x.lock"));
    }
}

TEST_CASE("the nearest word is suggested only for plausible typos", "[util]") {
    CHECK(edit_distance("kitten", "sitting") == 3);
    CHECK(edit_distance("tap-auth0", "tap-authzero") == 4);
    CHECK(edit_distance("ab", "ba") == 1);  // a transposition is one edit
    const std::vector<std::string> verbs = {"env", "promote", "validate", "status"};
    CHECK(nearest("promot", verbs) == "promote");
    CHECK(nearest("evn", verbs) == "env");
    CHECK(nearest("validaet", verbs) == "validate");
    CHECK(nearest("frobnicate", verbs).empty());
    CHECK(nearest("x", std::vector<std::string>{}).empty());
    // Views of strings stored elsewhere (setting names of a project) give the same answers.
    const std::vector<std::string_view> views(verbs.begin(), verbs.end());
    CHECK(nearest("promot", views) == "promote");
    CHECK(nearest("frobnicate", views).empty());
    CHECK(nearest("x", std::vector<std::string_view>{}).empty());
}

TEST_CASE("text is wrapped at spaces within the width, prefix included", "[util]") {
    using dataops::util::wrap;
    CHECK(wrap("one two three four", 9, "# ") == "# one two\n# three\n# four\n");
    CHECK(wrap("a  b", 80) == "a b\n");
    CHECK(wrap("", 80, "# ").empty());
    // A word longer than the width is not broken.
    CHECK(wrap("short averyveryverylongword x", 10) == "short\naveryveryverylongword\nx\n");
}

TEST_CASE("parallel_for runs every index once, on any number of threads", "[util]") {
    for (const std::size_t threads : {std::size_t{0}, std::size_t{1}, std::size_t{2}, std::size_t{7}}) {
        for (const std::size_t n : {std::size_t{0}, std::size_t{1}, std::size_t{3}, std::size_t{1000}}) {
            std::vector<std::atomic<int>> calls(n);
            dataops::util::parallel_for(n, threads, [&](std::size_t i) { calls[i].fetch_add(1); });
            for (std::size_t i = 0; i < n; ++i) {
                INFO("threads " << threads << ", n " << n << ", index " << i);
                CHECK(calls[i].load() == 1);
            }
        }
    }
    CHECK(dataops::util::hardware_threads() >= 1);
}
