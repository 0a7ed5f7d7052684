#include "conv/isa.h"

#include <atomic>
#include <cstdlib>
#include <cstring>
#include <stdexcept>

namespace jpegai {
namespace conv {
namespace {

bool cpu_has(Isa isa) {
#if defined(__GNUC__) && defined(__x86_64__)
  __builtin_cpu_init();
  if (isa == Isa::avx512) return __builtin_cpu_supports("avx512f");
  if (isa == Isa::avx2) return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
#endif
  return isa == Isa::portable;
}

Isa initial_isa() {
  const char* env = std::getenv("JPEGAI_NO_SIMD");
  if (env && *env && std::strcmp(env, "0") != 0) return Isa::portable;
  return best_isa();
}

std::atomic<int>& selected() {
  static std::atomic<int> isa{int(initial_isa())};
  return isa;
}

}  // namespace

Isa best_isa() {
  if (cpu_has(Isa::avx512)) return Isa::avx512;
  if (cpu_has(Isa::avx2)) return Isa::avx2;
  return Isa::portable;
}

Isa current_isa() { return Isa(selected().load(std::memory_order_relaxed)); }

std::string isa_name(Isa isa) {
  switch (isa) {
    case Isa::avx512: return "avx512";
    case Isa::avx2: return "avx2";
    default: return "portable";
  }
}

std::string set_isa(const std::string& name) {
  Isa want;
  if (name == "auto") want = best_isa();
  else if (name == "portable") want = Isa::portable;
  else if (name == "avx2") want = Isa::avx2;
  else if (name == "avx512") want = Isa::avx512;
  else throw std::invalid_argument("unknown ISA '" + name + "' (auto, portable, avx2, avx512)");
  if (!cpu_has(want)) throw std::invalid_argument("this CPU does not support " + name);
  return isa_name(Isa(selected().exchange(int(want))));
}

}  // namespace conv
}  // namespace jpegai
