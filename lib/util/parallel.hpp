#pragma once
/// Independent work on several cores. Knows nothing of git-dataops.

#include <cstddef>
#include <functional>

namespace dataops::util {

/// The number of threads worth running at once: the cores this process may use, at least 1.
std::size_t hardware_threads();

/// Runs body(i) for every i in [0, n), on up to `threads` threads, the caller's included, and
/// returns when every call has returned. Calls run in no particular order and must not throw
/// (catch inside, keep the std::exception_ptr). When the system refuses a thread, the threads
/// already running share the work: it never fails for lack of threads.
void parallel_for(std::size_t n, std::size_t threads, const std::function<void(std::size_t)>& body);

}  // namespace dataops::util
