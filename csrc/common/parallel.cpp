#include "common/parallel.h"

#include <algorithm>
#include <atomic>
#include <exception>
#include <mutex>
#include <thread>
#include <vector>

namespace jpegai {

int hardware_threads() {
  unsigned n = std::thread::hardware_concurrency();
  return n == 0 ? 1 : int(n);
}

int resolve_threads(int requested) { return requested <= 0 ? hardware_threads() : requested; }

void parallel_for(size_t n_tasks, int threads, const std::function<void(size_t)>& fn) {
  if (n_tasks == 0) return;
  size_t n_threads = std::min<size_t>(size_t(std::max(threads, 1)), n_tasks);
  if (n_threads == 1) {
    for (size_t t = 0; t < n_tasks; ++t) fn(t);
    return;
  }
  std::atomic<size_t> next{0};
  std::atomic<bool> failed{false};
  std::exception_ptr error;
  std::mutex error_mutex;
  auto worker = [&]() {
    for (;;) {
      size_t t = next.fetch_add(1);
      if (t >= n_tasks || failed.load()) return;
      try {
        fn(t);
      } catch (...) {
        std::lock_guard<std::mutex> lock(error_mutex);
        if (!error) error = std::current_exception();
        failed.store(true);
      }
    }
  };
  std::vector<std::thread> pool;
  pool.reserve(n_threads - 1);
  for (size_t i = 1; i < n_threads; ++i) pool.emplace_back(worker);
  worker();
  for (auto& th : pool) th.join();
  if (error) std::rethrow_exception(error);
}

}  // namespace jpegai
