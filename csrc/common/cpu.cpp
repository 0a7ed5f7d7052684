#include "common/cpu.h"

#include <atomic>
#include <cstdlib>
#include <cstring>

#include "common/check.h"

namespace jpegai {
namespace {

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

bool cpu_has(Isa isa) {
#if defined(__GNUC__) && defined(__x86_64__)
  __builtin_cpu_init();
  if (isa == Isa::avx512)
    return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  if (isa == Isa::avx2) return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
#endif
#if defined(__aarch64__)
  if (isa == Isa::neon) return true;  // Advanced SIMD is mandatory in AArch64
#endif
  return isa == Isa::portable;
}

Isa best_isa() {
  if (cpu_has(Isa::avx512)) return Isa::avx512;
  if (cpu_has(Isa::avx2)) return Isa::avx2;
  if (cpu_has(Isa::neon)) return Isa::neon;
  return Isa::portable;
}

Isa current_isa() { return Isa(selected().load(std::memory_order_relaxed)); }

std::string isa_name(Isa isa) {
  switch (isa) {
    case Isa::avx512: return "avx512";
    case Isa::avx2: return "avx2";
    case Isa::neon: return "neon";
    default: return "portable";
  }
}

std::string set_isa(const std::string& name) {
  Isa want = Isa::portable;
  if (name == "auto")
    want = best_isa();
  else if (name == "portable")
    want = Isa::portable;
  else if (name == "avx2")
    want = Isa::avx2;
  else if (name == "avx512")
    want = Isa::avx512;
  else if (name == "neon")
    want = Isa::neon;
  else
    fail("unknown ISA '" + name + "' (auto, portable, avx2, avx512, neon)");
  JPEGAI_CHECK(cpu_has(want), "this CPU does not support " + name);
  return isa_name(Isa(selected().exchange(int(want))));
}

}  // namespace jpegai
