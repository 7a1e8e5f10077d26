// git dataops demo: a throwaway dev → staging → prod pipeline and a team's day with it, told by
// running the real commands.
#include <chrono>
#include <iostream>

#include <dataops/cli/main.hpp>
#include <dataops/demo/demo.hpp>
#include <dataops/process/process.hpp>
#include <dataops/util/strings.hpp>
#include <dataops_docs/git-dataops-demo.hpp>
#include <fmt/format.h>

namespace {

constexpr const char* kUsage = dataops::docs::demo::usage;

using namespace dataops;

struct Options {
    std::string dir;
    bool keep = false;
};

int run(const Options& options) {
    const auto start = std::chrono::steady_clock::now();
    demo::Options demo;
    demo.dir = options.dir;
    demo.keep = options.keep;
    demo.bin_dir = process::self_directory();
    demo.on_world = [](const std::string& root, const std::string& clone) {
        std::cout << fmt::format("git-dataops demo: a dev → staging → prod pipeline in {}\n", root);
        std::cout << "  dev.git staging.git prod.git  three workspaces, each created by its own first commit\n";
        std::cout << fmt::format("  {}  a clone of dev with a remote per stage; every command runs here\n",
                                 clone.substr(root.size() + 1));
    };
    demo.on_step = [](const demo::Step& step) {
        std::cout << '\n';
        if (!step.narration.empty()) {
            std::cout << util::wrap(step.narration, 100, "# ");
        }
        std::cout << (step.argv.empty() ? "# (" + step.display + ")" : "$ " + step.display) << '\n';
        std::cout.flush();
    };
    demo.on_outcome = [](const demo::Step& step, const demo::Outcome& outcome) {
        std::cout << outcome.output;
        std::cout.flush();
        if (!outcome.as_expected) {
            std::cerr << fmt::format("error: demo step '{}' did not behave as expected: {}\n", step.display,
                                     outcome.problem);
        }
    };
    auto result = demo::run(demo);
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    std::cout << '\n';
    if (!result.ok) {
        std::cerr << "the demo stopped: this installation of git-dataops does not work as it should\n";
        if (result.kept) {
            std::cerr << fmt::format("hint: the pipeline is kept in '{}'\n", result.root);
        }
        return cli::exit_no;
    }
    std::cout << fmt::format("demo: all {} steps behaved as expected ({:.1f} s); ", result.steps, seconds);
    std::cout << (result.kept ? fmt::format("the pipeline is kept in {}\n", result.root)
                              : std::string("the pipeline was removed (--keep keeps it)\n"));
    return cli::exit_ok;
}

int parse_and_run(const std::vector<std::string>& args) {
    Options options;
    CLI::App app;
    app.add_option("dir", options.dir);
    app.add_flag("--keep", options.keep);
    cli::parse(app, args);
    return run(options);
}

}  // namespace

int main(int argc, char** argv) {
    return dataops::cli::run_main(argc, argv, kUsage, parse_and_run);
}
