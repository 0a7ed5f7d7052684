// Run-time choice between the AVX2 build of a kernel and the portable one. Both compile the same
// integer source, so they give bit-identical results; the switch exists for speed and for tests.
#pragma once

namespace jpegai {

// True when the CPU supports AVX2 and FMA and SIMD was not disabled (env JPEGAI_NO_SIMD=1 or set_simd_enabled).
bool simd_enabled();
// Enables/disables the SIMD kernels (disabling always works; enabling only where the CPU has AVX2 + FMA).
// Returns the previous setting.
bool set_simd_enabled(bool enabled);

}  // namespace jpegai

#if defined(__GNUC__) && (defined(__x86_64__) || defined(__i386__))
#define JPEGAI_HAVE_AVX2_CLONE 1
#define JPEGAI_TARGET_AVX2 __attribute__((target("avx2,fma")))
#else
#define JPEGAI_HAVE_AVX2_CLONE 0
#define JPEGAI_TARGET_AVX2
#endif
