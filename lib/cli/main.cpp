#include <dataops/cli/main.hpp>

#include <cctype>
#include <cstdio>
#include <iostream>

#if defined(__GLIBC__)
#include <malloc.h>
#endif

#include <dataops/util/error.hpp>
#include <fmt/format.h>

namespace dataops::cli {
namespace {

/// CLI11 says "The following argument was not expected: --x"; git says "unknown option 'x'".
std::string usage_message(const CLI::ParseError& e) {
    std::string message = e.what();
    const std::string extras = "The following argument was not expected: ";
    const std::string extras_many = "The following arguments were not expected: ";
    if (message.rfind(extras, 0) == 0) {
        return fmt::format("unknown argument '{}'", message.substr(extras.size()));
    }
    if (message.rfind(extras_many, 0) == 0) {
        return fmt::format("unknown arguments '{}'", message.substr(extras_many.size()));
    }
    if (!message.empty()) {
        message[0] = static_cast<char>(std::tolower(static_cast<unsigned char>(message[0])));
    }
    while (!message.empty() && (message.back() == '.' || message.back() == '\n')) {
        message.pop_back();
    }
    return message;
}

/// glibc's defaults suit a long-lived server, not a process that builds a few tens of MiB in
/// well under a second and exits. A helper thread's heap grows by the page, one mprotect() each,
/// and the main heap is given back to the kernel and faulted in again between phases: in
/// `validate --all` on the 2,000-plugin benchmark project, about 4,000 system calls and 16,250
/// page faults, against 12 and 13,970 with 32 MiB of padding. The padding is address space, not
/// memory: a page is only allocated when first written (BENCHMARKS.md, *What changed*, 18).
void tune_allocator() {
#if defined(__GLIBC__)
    mallopt(M_TOP_PAD, 32 << 20);
#endif
}

}  // namespace

void parse(CLI::App& app, const std::vector<std::string>& args) {
    for (const auto& arg : args) {
        if (arg == "--") {
            break;
        }
        if (arg == "-h" || arg == "--help") {
            throw HelpRequested{};
        }
    }
    app.set_help_flag();
    app.allow_windows_style_options(false);
    std::vector<std::string> reversed(args.rbegin(), args.rend());
    try {
        app.parse(reversed);
    } catch (const CLI::ParseError& e) {
        throw UsageError(usage_message(e));
    }
}

bool confirm(std::string_view question) {
    std::cerr << question << " [y/N] ";
    std::cerr.flush();
    std::string answer;
    if (!std::getline(std::cin, answer)) {
        return false;
    }
    return answer == "y" || answer == "Y" || answer == "yes";
}

int report(std::string_view usage) {
    try {
        throw;
    } catch (const HelpRequested&) {
        std::cout << usage;
        std::cout.flush();
        return exit_ok;
    } catch (const UsageError& e) {
        std::cerr << "error: " << e.what() << "\n\n" << usage;
        return exit_usage;
    } catch (const Error& e) {
        std::cerr << "fatal: " << e.what() << '\n';
        for (const auto& hint : e.hints()) {
            std::cerr << "hint: " << hint << '\n';
        }
        return exit_fatal;
    } catch (const std::bad_alloc&) {
        std::cerr << "fatal: out of memory\n";
        return exit_fatal;
    } catch (const std::exception& e) {
        std::cerr << "fatal: " << e.what() << '\n';
        return exit_fatal;
    }
}

void keep_until_exit(std::shared_ptr<const void> object) {
    // Allocated once and never deleted: no destructor runs at exit.
    static auto* kept = new std::vector<std::shared_ptr<const void>>();
    kept->push_back(std::move(object));
}

int run_main(int argc, char** argv, std::string_view usage,
             const std::function<int(const std::vector<std::string>& args)>& body) {
    tune_allocator();
    std::vector<std::string> args(argv + (argc > 0 ? 1 : 0), argv + argc);
    int code = exit_fatal;
    try {
        code = body(args);
    } catch (...) {
        code = report(usage);
    }
    std::cout.flush();
    if (std::ferror(stdout) != 0 || !std::cout) {
        // Output that did not arrive is a failure, as in git ("write failure on standard output").
        std::cerr << "fatal: unable to write to standard output\n";
        return exit_fatal;
    }
    return code;
}

}  // namespace dataops::cli
