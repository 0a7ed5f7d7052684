// The one CPU-feature module of the core: what this CPU supports and the one switch that picks the
// kernels every concern runs (integer path, context loop, conv engine). All builds of a kernel give
// bit-identical results (the integer kernels compile the same source; the float micro-kernel does
// the same fused multiply-adds in the same order), so the switch exists for speed and for tests.
#pragma once
#include <string>

namespace jpegai {

// avx2 implies FMA; avx512 = AVX-512F; neon = AArch64's Advanced SIMD (part of every AArch64 CPU).
enum class Isa { portable = 0, avx2 = 1, avx512 = 2, neon = 3 };

bool cpu_has(Isa isa);
Isa best_isa();
// The kernels in use: best_isa() at start, portable when the environment sets JPEGAI_NO_SIMD=1.
Isa current_isa();
// Selects "auto", "portable", "avx2", "avx512" or "neon"; returns the previous name. InvalidArgument for an
// unknown name or one this CPU lacks.
std::string set_isa(const std::string& name);
std::string isa_name(Isa isa);
// Kernels with one x86 SIMD build, AVX2, run it for avx2 and avx512 (every AVX-512F CPU has AVX2).
inline bool uses_avx2(Isa isa) { return isa == Isa::avx2 || isa == Isa::avx512; }
inline bool avx2_enabled() { return uses_avx2(current_isa()); }

}  // namespace jpegai

// Function-level target attributes for the AVX2 clones (GCC/Clang on x86); elsewhere they vanish and
// only the portable build exists.
#if defined(__GNUC__) && (defined(__x86_64__) || defined(__i386__))
#define JPEGAI_HAVE_AVX2_CLONE 1
#define JPEGAI_TARGET_AVX2 __attribute__((target("avx2,fma")))
#else
#define JPEGAI_HAVE_AVX2_CLONE 0
#define JPEGAI_TARGET_AVX2
#endif
