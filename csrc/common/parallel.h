// The one parallel-for of the C++ core: independent tasks on std::threads (no pool: calls are
// coarse, a few thread spawns cost microseconds against milliseconds of work). Tasks write
// disjoint outputs, so results never depend on which thread ran which task, or in what order.
#pragma once
#include <algorithm>
#include <atomic>
#include <cstdint>
#include <exception>
#include <mutex>
#include <thread>
#include <vector>

namespace jpegai {

// The thread rule (Python's jpegai_fast.core.threads applies the same one to user arguments):
// <= 0 means every hardware thread; requests are bounded by kMaxThreads.
constexpr int kMaxThreads = 1024;

// Number of hardware threads (1 .. kMaxThreads).
int hardware_threads();

// Resolves a thread request: <= 0 -> hardware_threads(), else min(requested, kMaxThreads).
int resolve_threads(int requested);

// The first exception thrown by any task is rethrown here after all threads have joined;
// remaining tasks are skipped once one has failed. If no extra thread can be started, the
// caller runs every task itself.
// Runs fn(task) for task in [0, n_tasks) on up to `threads` std::threads (the caller is one of them).
template <class Fn>
void parallel_for(int64_t n_tasks, int threads, Fn&& fn) {
  if (n_tasks <= 0) return;
  const int t = (int)std::max<int64_t>(1, std::min<int64_t>(threads, n_tasks));
  if (t == 1) {
    for (int64_t i = 0; i < n_tasks; ++i) fn(i);
    return;
  }
  std::atomic<int64_t> next{0};
  std::exception_ptr error;
  std::mutex error_mutex;
  auto worker = [&]() {
    try {
      for (int64_t i = next.fetch_add(1); i < n_tasks; i = next.fetch_add(1)) fn(i);
    } catch (...) {
      std::lock_guard<std::mutex> lock(error_mutex);
      if (!error) error = std::current_exception();
      next.store(n_tasks);
    }
  };
  std::vector<std::thread> pool;
  pool.reserve(t - 1);
  try {
    for (int k = 1; k < t; ++k) pool.emplace_back(worker);
  } catch (...) {
    // Could not start more threads: the threads we have (and this one) still run every task.
  }
  worker();
  for (auto& th : pool) th.join();
  if (error) std::rethrow_exception(error);
}

}  // namespace jpegai
