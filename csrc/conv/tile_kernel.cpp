#include "conv/tile_kernel.h"

#include <cmath>

#if defined(__GNUC__) && defined(__x86_64__)
#include <immintrin.h>
#define JPEGAI_CONV_X86 1
#else
#define JPEGAI_CONV_X86 0
#endif

namespace jpegai {
namespace conv {
namespace {

// Portable build: std::fma is correctly rounded, exactly what vfmadd computes per lane.
void tile_portable(const TileArgs& a, float* out) {
  float acc[TILE_R][LANES];
  for (int r = 0; r < TILE_R; ++r)
    for (int l = 0; l < LANES; ++l) acc[r][l] = a.bias[l];
  for (int t = 0; t < a.ntaps; ++t) {
    const float* s = a.src + a.tap_off[t];
    const float* w = a.w + int64_t(t) * a.cin * LANES;
    for (int ic = 0; ic < a.cin; ++ic, w += LANES)
      for (int r = 0; r < TILE_R; ++r) {
        const float x = s[r * a.px_stride + ic];
        for (int l = 0; l < LANES; ++l) acc[r][l] = std::fma(x, w[l], acc[r][l]);
      }
  }
  for (int r = 0; r < TILE_R; ++r)
    for (int l = 0; l < LANES; ++l) out[r * LANES + l] = acc[r][l];
}

#if JPEGAI_CONV_X86
// 6 pixels x 2 ymm = 12 accumulators + 2 weight registers + 1 broadcast (the 6x16 sgemm shape).
__attribute__((target("avx2,fma"))) void tile_avx2(const TileArgs& a, float* out) {
  __m256 acc[TILE_R][2];
  const __m256 b0 = _mm256_loadu_ps(a.bias), b1 = _mm256_loadu_ps(a.bias + 8);
  for (int r = 0; r < TILE_R; ++r) {
    acc[r][0] = b0;
    acc[r][1] = b1;
  }
  const int64_t ps = a.px_stride;
  for (int t = 0; t < a.ntaps; ++t) {
    const float* s = a.src + a.tap_off[t];
    const float* w = a.w + int64_t(t) * a.cin * LANES;
    for (int ic = 0; ic < a.cin; ++ic, w += LANES, ++s) {
      const __m256 w0 = _mm256_loadu_ps(w), w1 = _mm256_loadu_ps(w + 8);
#pragma GCC unroll 6
      for (int r = 0; r < TILE_R; ++r) {
        const __m256 x = _mm256_broadcast_ss(s + r * ps);
        acc[r][0] = _mm256_fmadd_ps(x, w0, acc[r][0]);
        acc[r][1] = _mm256_fmadd_ps(x, w1, acc[r][1]);
      }
    }
  }
  for (int r = 0; r < TILE_R; ++r) {
    _mm256_storeu_ps(out + r * LANES, acc[r][0]);
    _mm256_storeu_ps(out + r * LANES + 8, acc[r][1]);
  }
}

// One zmm holds the 16 lanes: 6 accumulators, 1 weight load per 6 fmas.
__attribute__((target("avx512f"))) void tile_avx512(const TileArgs& a, float* out) {
  __m512 acc[TILE_R];
  const __m512 b = _mm512_loadu_ps(a.bias);
  for (int r = 0; r < TILE_R; ++r) acc[r] = b;
  const int64_t ps = a.px_stride;
  for (int t = 0; t < a.ntaps; ++t) {
    const float* s = a.src + a.tap_off[t];
    const float* w = a.w + int64_t(t) * a.cin * LANES;
    for (int ic = 0; ic < a.cin; ++ic, w += LANES, ++s) {
      const __m512 wv = _mm512_loadu_ps(w);
#pragma GCC unroll 6
      for (int r = 0; r < TILE_R; ++r) acc[r] = _mm512_fmadd_ps(_mm512_set1_ps(s[r * ps]), wv, acc[r]);
    }
  }
  for (int r = 0; r < TILE_R; ++r) _mm512_storeu_ps(out + r * LANES, acc[r]);
}
#endif

}  // namespace

TileFn tile_kernel(Isa isa) {
#if JPEGAI_CONV_X86
  if (isa == Isa::avx512) return tile_avx512;
  if (isa == Isa::avx2) return tile_avx2;
#endif
  (void)isa;
  return tile_portable;
}

}  // namespace conv
}  // namespace jpegai
