#include "conv/tile_kernel.h"

#include <cmath>

#if defined(__GNUC__) && defined(__x86_64__)
#include <immintrin.h>
#define JPEGAI_CONV_X86 1
#else
#define JPEGAI_CONV_X86 0
#endif
#if defined(__aarch64__)
#include <arm_neon.h>
#endif

namespace jpegai {
namespace conv {
namespace {

// Portable build: std::fma is correctly rounded, exactly what vfmadd computes per lane.
void tile_portable(const TileArgs& a, float* out) {
  float acc[kTileR][kLanes];
  for (int r = 0; r < kTileR; ++r)
    for (int l = 0; l < kLanes; ++l) acc[r][l] = a.bias[l];
  for (int t = 0; t < a.ntaps; ++t) {
    const float* s = a.src + a.tap_off[t];
    const float* w = a.w + int64_t(t) * a.cin * kLanes;
    for (int ic = 0; ic < a.cin; ++ic, w += kLanes)
      for (int r = 0; r < kTileR; ++r) {
        const float x = s[r * a.px_stride + ic];
        for (int l = 0; l < kLanes; ++l) acc[r][l] = std::fma(x, w[l], acc[r][l]);
      }
  }
  for (int r = 0; r < kTileR; ++r)
    for (int l = 0; l < kLanes; ++l) out[r * kLanes + l] = acc[r][l];
}

void gdn_portable(const float* norm, float* x, int n, bool inverse) {
  for (int l = 0; l < n; ++l) {
    const float s = std::sqrt(norm[l]);
    x[l] = inverse ? x[l] * s : x[l] / s;
  }
}

#if JPEGAI_CONV_X86
// Also serves the AVX-512 build (every AVX-512F CPU has AVX2); 8 lanes per step, scalar tail.
__attribute__((target("avx2,fma"))) void gdn_avx2(const float* norm, float* x, int n, bool inverse) {
  int l = 0;
  for (; l + 8 <= n; l += 8) {
    const __m256 s = _mm256_sqrt_ps(_mm256_loadu_ps(norm + l)), v = _mm256_loadu_ps(x + l);
    _mm256_storeu_ps(x + l, inverse ? _mm256_mul_ps(v, s) : _mm256_div_ps(v, s));
  }
  gdn_portable(norm + l, x + l, n - l, inverse);
}

static_assert(kTileR == 6, "the SIMD kernels name their 6 accumulators explicitly");
// Named accumulators (not arrays): GCC otherwise spills the array to the stack every iteration.
#define JPEGAI_ROWS(X) X(0) X(1) X(2) X(3) X(4) X(5)

// 6 pixels x 2 ymm = 12 accumulators + 2 weight registers + 1 broadcast (the 6x16 sgemm shape).
__attribute__((target("avx2,fma"))) void tile_avx2(const TileArgs& a, float* out) {
  const __m256 b0 = _mm256_loadu_ps(a.bias), b1 = _mm256_loadu_ps(a.bias + 8);
#define INIT(r) __m256 lo##r = b0, hi##r = b1;
  JPEGAI_ROWS(INIT)
#undef INIT
  const int64_t ps = a.px_stride;
  const int cin = a.cin;
  for (int t = 0; t < a.ntaps; ++t) {
    const float* s = a.src + a.tap_off[t];
    const float* w = a.w + int64_t(t) * cin * kLanes;
    for (int ic = 0; ic < cin; ++ic, w += kLanes, ++s) {
      const __m256 w0 = _mm256_loadu_ps(w), w1 = _mm256_loadu_ps(w + 8);
#define STEP(r)                                       \
  {                                                   \
    const __m256 x = _mm256_broadcast_ss(s + r * ps); \
    lo##r = _mm256_fmadd_ps(x, w0, lo##r);            \
    hi##r = _mm256_fmadd_ps(x, w1, hi##r);            \
  }
      JPEGAI_ROWS(STEP)
#undef STEP
    }
  }
#define STORE(r)                             \
  _mm256_storeu_ps(out + r * kLanes, lo##r); \
  _mm256_storeu_ps(out + r * kLanes + 8, hi##r);
  JPEGAI_ROWS(STORE)
#undef STORE
}

// One zmm holds the 16 lanes: 6 accumulators, 1 weight load per 6 fmas.
__attribute__((target("avx512f"))) void tile_avx512(const TileArgs& a, float* out) {
  const __m512 b = _mm512_loadu_ps(a.bias);
#define INIT(r) __m512 acc##r = b;
  JPEGAI_ROWS(INIT)
#undef INIT
  const int64_t ps = a.px_stride;
  const int cin = a.cin;
  for (int t = 0; t < a.ntaps; ++t) {
    const float* s = a.src + a.tap_off[t];
    const float* w = a.w + int64_t(t) * cin * kLanes;
    for (int ic = 0; ic < cin; ++ic, w += kLanes, ++s) {
      const __m512 wv = _mm512_loadu_ps(w);
#define STEP(r) acc##r = _mm512_fmadd_ps(_mm512_set1_ps(s[r * ps]), wv, acc##r);
      JPEGAI_ROWS(STEP)
#undef STEP
    }
  }
#define STORE(r) _mm512_storeu_ps(out + r * kLanes, acc##r);
  JPEGAI_ROWS(STORE)
#undef STORE
}
#undef JPEGAI_ROWS
#endif

#if defined(__aarch64__)
// NEON: 6 pixels x 4 q-registers = 24 accumulators + 4 weight registers of the 32; vfmaq is the same
// correctly rounded fused multiply-add per lane as vfmadd and std::fma.
void tile_neon(const TileArgs& a, float* out) {
  float32x4_t acc[kTileR][4];
  for (int r = 0; r < kTileR; ++r)
    for (int v = 0; v < 4; ++v) acc[r][v] = vld1q_f32(a.bias + 4 * v);
  const int64_t ps = a.px_stride;
  for (int t = 0; t < a.ntaps; ++t) {
    const float* s = a.src + a.tap_off[t];
    const float* w = a.w + int64_t(t) * a.cin * kLanes;
    for (int ic = 0; ic < a.cin; ++ic, w += kLanes, ++s) {
      const float32x4_t w0 = vld1q_f32(w), w1 = vld1q_f32(w + 4), w2 = vld1q_f32(w + 8), w3 = vld1q_f32(w + 12);
      for (int r = 0; r < kTileR; ++r) {
        const float x = s[r * ps];
        acc[r][0] = vfmaq_n_f32(acc[r][0], w0, x);
        acc[r][1] = vfmaq_n_f32(acc[r][1], w1, x);
        acc[r][2] = vfmaq_n_f32(acc[r][2], w2, x);
        acc[r][3] = vfmaq_n_f32(acc[r][3], w3, x);
      }
    }
  }
  for (int r = 0; r < kTileR; ++r)
    for (int v = 0; v < 4; ++v) vst1q_f32(out + r * kLanes + 4 * v, acc[r][v]);
}

void gdn_neon(const float* norm, float* x, int n, bool inverse) {
  int l = 0;
  for (; l + 4 <= n; l += 4) {
    const float32x4_t s = vsqrtq_f32(vld1q_f32(norm + l)), v = vld1q_f32(x + l);
    vst1q_f32(x + l, inverse ? vmulq_f32(v, s) : vdivq_f32(v, s));
  }
  gdn_portable(norm + l, x + l, n - l, inverse);
}
#endif

}  // namespace

TileFn tile_kernel(Isa isa) {
#if JPEGAI_CONV_X86
  if (isa == Isa::avx512) return tile_avx512;
  if (isa == Isa::avx2) return tile_avx2;
#endif
#if defined(__aarch64__)
  if (isa == Isa::neon) return tile_neon;
#endif
  (void)isa;
  return tile_portable;
}

GdnFn gdn_kernel(Isa isa) {
#if JPEGAI_CONV_X86
  if (uses_avx2(isa)) return gdn_avx2;
#endif
#if defined(__aarch64__)
  if (isa == Isa::neon) return gdn_neon;
#endif
  (void)isa;
  return gdn_portable;
}

}  // namespace conv
}  // namespace jpegai
