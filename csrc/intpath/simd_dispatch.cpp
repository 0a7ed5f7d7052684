#include "intpath/simd_dispatch.h"

#include <atomic>
#include <cstdlib>
#include <cstring>

namespace jpegai {
namespace {

bool cpu_has_avx2() {
#if JPEGAI_HAVE_AVX2_CLONE
  __builtin_cpu_init();
  return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
#else
  return false;
#endif
}

bool initial_setting() {
  const char* env = std::getenv("JPEGAI_NO_SIMD");
  bool disabled = env && *env && std::strcmp(env, "0") != 0;
  return !disabled && cpu_has_avx2();
}

std::atomic<bool>& flag() {
  static std::atomic<bool> enabled{initial_setting()};
  return enabled;
}

}  // namespace

bool simd_enabled() { return flag().load(std::memory_order_relaxed); }

bool set_simd_enabled(bool enabled) {
  return flag().exchange(enabled && cpu_has_avx2());
}

}  // namespace jpegai
