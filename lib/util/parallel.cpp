#include <dataops/util/parallel.hpp>

#include <algorithm>
#include <atomic>
#include <system_error>
#include <thread>
#include <vector>

#ifdef __linux__
#include <sched.h>
#endif

namespace dataops::util {

std::size_t hardware_threads() {
#ifdef __linux__
    // The affinity mask, not the machine: a container or `taskset` may allow fewer cores.
    cpu_set_t set;
    CPU_ZERO(&set);
    if (sched_getaffinity(0, sizeof(set), &set) == 0) {
        const int count = CPU_COUNT(&set);
        if (count > 0) {
            return static_cast<std::size_t>(count);
        }
    }
#endif
    return std::max<std::size_t>(1, std::thread::hardware_concurrency());
}

void parallel_for(std::size_t n, std::size_t threads, const std::function<void(std::size_t)>& body) {
    std::atomic<std::size_t> next{0};
    auto work = [&] {
        for (std::size_t i = next.fetch_add(1); i < n; i = next.fetch_add(1)) {
            body(i);
        }
    };
    std::vector<std::thread> helpers;
    const std::size_t wanted = std::min(threads, n);
    for (std::size_t t = 1; t < wanted; ++t) {
        try {
            helpers.emplace_back(work);
        } catch (const std::system_error&) {
            break;  // the ones running (the caller at least) take the rest
        }
    }
    work();
    for (auto& helper : helpers) {
        helper.join();
    }
}

}  // namespace dataops::util
