#include <catch2/catch.hpp>

#include <csignal>

#include <dataops/process/process.hpp>
#include <dataops/util/error.hpp>

using namespace dataops::process;

TEST_CASE("a program runs with an argv vector and its outputs and exit code are collected",
          "[process]") {
    Options options;
    options.argv = {"sh", "-c", "printf 'out %s' \"$1\"; printf err >&2; exit 3", "sh", "a b; echo no"};
    auto result = run(options);
    CHECK(result.exit_code == 3);
    CHECK(result.out == "out a b; echo no");  // the argument reached sh as one word, not as shell
    CHECK(result.err == "err");
}

TEST_CASE("both pipes are drained together, so a chatty child cannot deadlock", "[process]") {
    // 4 MiB on each stream, interleaved: far past any pipe buffer.
    Options options;
    options.argv = {"sh", "-c",
                    "i=0; while [ $i -lt 64 ]; do head -c 65536 /dev/zero; head -c 65536 /dev/zero >&2; "
                    "i=$((i+1)); done"};
    auto result = run(options);
    CHECK(result.exit_code == 0);
    CHECK(result.out.size() == 64u * 65536u);
    CHECK(result.err.size() == 64u * 65536u);
}

TEST_CASE("stdin bytes reach the child exactly", "[process]") {
    Options options;
    options.argv = {"cat"};
    std::string input(300000, 'x');
    input += "\n\0end";
    options.input = input;
    auto result = run(options);
    CHECK(result.out == input);
}

TEST_CASE("children that nobody can answer run with LC_ALL=C and no terminal prompt", "[process]") {
    Options options;
    options.argv = {"sh", "-c", "echo \"$LC_ALL:$GIT_TERMINAL_PROMPT:${KEEP-unset}:${GONE-unset}\""};
    options.env["KEEP"] = "kept";
    options.env["GONE"] = std::nullopt;
    CHECK(run(options).out == "C:0:kept:unset\n");
}

TEST_CASE("the variables git exports for a repository can be cleared", "[process]") {
    Options options;
    options.argv = {"sh", "-c", "echo \"${GIT_DIR-unset}:${GIT_INDEX_FILE-unset}:${GIT_CONFIG_KEY_0-unset}\""};
    options.env["GIT_DIR"] = "/somewhere";
    options.env["GIT_INDEX_FILE"] = "/somewhere/index";
    options.env["GIT_CONFIG_KEY_0"] = "a.b";
    CHECK(run(options).out == "/somewhere:/somewhere/index:a.b\n");
    options.clear_repository_env = true;
    options.env.clear();
    // Set them in our own environment: clearing must remove what the child would inherit.
    ::setenv("GIT_DIR", "/elsewhere", 1);
    ::setenv("GIT_CONFIG_KEY_0", "x.y", 1);
    auto result = run(options);
    ::unsetenv("GIT_DIR");
    ::unsetenv("GIT_CONFIG_KEY_0");
    CHECK(result.out == "unset:unset:unset\n");
}

TEST_CASE("a program that does not exist is an error naming it", "[process]") {
    Options options;
    options.argv = {"dataops-no-such-program"};
    CHECK_THROWS_WITH(run(options), Catch::Contains("cannot run 'dataops-no-such-program'"));
}

TEST_CASE("a killed child reports 128 + the signal's number, as a shell does", "[process]") {
    Options options;
    options.argv = {"sh", "-c", "kill -9 $$"};
    CHECK(run(options).exit_code == 128 + 9);
}

TEST_CASE("several programs can run at once and each result is its own", "[process]") {
    Options a;
    a.argv = {"sh", "-c", "sleep 0.2; echo a"};
    Options b;
    b.argv = {"sh", "-c", "echo b; exit 2"};
    Running first(a);
    Running second(b);
    auto rb = second.wait();
    auto ra = first.wait();
    CHECK(ra.out == "a\n");
    CHECK(ra.exit_code == 0);
    CHECK(rb.out == "b\n");
    CHECK(rb.exit_code == 2);
}

TEST_CASE("a conversation exchanges lines and exact byte counts with a long-lived child", "[process]") {
    Options options;
    options.argv = {"sh", "-c", "while read -r line; do printf '%s\\n%s' ${#line} \"$line\"; done; echo bye >&2"};
    Conversation child(options);
    child.write("hello\n");
    CHECK(child.read_line() == "5");
    CHECK(child.read_exact(5) == "hello");
    child.write("xy\n");
    CHECK(child.read_line() == "2");
    CHECK(child.read_exact(2) == "xy");
    auto result = child.finish();
    CHECK(result.exit_code == 0);
    CHECK(result.err == "bye\n");
}

TEST_CASE("programs are found on PATH", "[process]") {
    CHECK(find_program("sh").has_value());
    CHECK_FALSE(find_program("dataops-no-such-program").has_value());
    CHECK_FALSE(self_directory().empty());
}

TEST_CASE("a child that exits without reading its stdin is not fatal to us", "[process]") {
    Options options;
    options.argv = {"sh", "-c", "exit 4"};
    options.input = std::string(4 * 1024 * 1024, 'x');  // far more than a pipe holds
    CHECK(run(options).exit_code == 4);
}

TEST_CASE("a child runs in the working directory it is given", "[process]") {
    Options options;
    options.argv = {"pwd"};
    options.cwd = "/";
    CHECK(run(options).out == "/\n");
    options.cwd = "/dataops-no-such-directory";
    CHECK_THROWS_WITH(run(options), Catch::Contains("cannot run 'pwd'"));
}

TEST_CASE("outputs can go to /dev/null", "[process]") {
    Options options;
    options.argv = {"sh", "-c", "echo out; echo err >&2; exit 5"};
    options.out = Stream::null;
    options.err = Stream::null;
    auto result = run(options);
    CHECK(result.exit_code == 5);
    CHECK(result.out.empty());
    CHECK(result.err.empty());
}

TEST_CASE("a child starts with SIGPIPE at its default even while we ignore it", "[process]") {
    // `yes` into a closed pipe dies of SIGPIPE silently; with SIGPIPE ignored it would complain
    // "yes: standard output: Broken pipe" instead.
    auto previous = std::signal(SIGPIPE, SIG_IGN);
    Options options;
    options.argv = {"sh", "-c", "yes | head -n 1"};
    auto result = run(options);
    std::signal(SIGPIPE, previous);
    CHECK(result.out == "y\n");
    CHECK(result.err.empty());
}

TEST_CASE("a child inherits none of the pipes we hold for other children", "[process]") {
    // What a child sees open, alone and while a conversation with another child is going on.
    Options count;
    count.argv = {"sh", "-c", "ls /proc/self/fd"};
    auto alone = run(count).out;
    Options cat;
    cat.argv = {"cat"};
    Conversation other(cat);
    other.write("ping\n");
    CHECK(other.read_line() == "ping");
    CHECK(run(count).out == alone);
    CHECK(other.finish().exit_code == 0);
}

TEST_CASE("a conversation whose child dies reports that it stopped answering", "[process]") {
    Options options;
    options.argv = {"sh", "-c", "read -r line; echo half; echo gone >&2; exit 7"};
    Conversation child(options);
    child.write("question\n");
    CHECK(child.read_line() == "half");
    CHECK_THROWS_WITH(child.read_line(), Catch::Contains("'sh' stopped answering"));
    child.write("more\n");  // writing to a child that has gone away is not fatal either
    auto result = child.finish();
    CHECK(result.exit_code == 7);
    CHECK(result.err == "gone\n");
}

TEST_CASE("large answers of a conversation arrive whole", "[process]") {
    Options options;
    options.argv = {"sh", "-c", "while read -r n; do head -c \"$n\" /dev/zero; echo; done"};
    Conversation child(options);
    for (std::size_t n : {1u, 70000u, 3u, 1000000u}) {
        child.write(std::to_string(n) + "\n");
        CHECK(child.read_exact(n) == std::string(n, '\0'));
        CHECK(child.read_line().empty());
    }
    CHECK(child.finish().exit_code == 0);
}
