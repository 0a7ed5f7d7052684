#include "common/parallel.h"

#include <thread>

namespace jpegai {

int hardware_threads() {
  unsigned n = std::thread::hardware_concurrency();
  return n == 0 ? 1 : int(n < unsigned(kMaxThreads) ? n : unsigned(kMaxThreads));
}

int resolve_threads(int requested) {
  return requested <= 0 ? hardware_threads() : (requested < kMaxThreads ? requested : kMaxThreads);
}

}  // namespace jpegai
