#include "intpath/int16_kernel.h"

#include <cstring>

#include "common/cpu.h"

#if JPEGAI_HAVE_AVX2_CLONE
#include <immintrin.h>
#endif

namespace jpegai {
namespace intpath {

// Each pair is split into its two channels' rows first, so the position loop is two widening int16
// multiplies per lane, the form compilers vectorise from plain C++ (SSE2's pmullw/pmulhw pairs, NEON's
// smlal); in the interleaved form they found no vector code (measured 13x the AVX2 kernel, 4x this way).
void accumulate_int16_portable(int32_t (&acc)[kOcBlock][kInt16Chunk], const Tap<int16_t>* taps, int ntaps, int npairs,
                               int64_t pair_stride, int64_t m0) {
  int32_t a[kOcBlock][kInt16Chunk];  // local: the compiler must see that it aliases neither input
  std::memcpy(a, acc, sizeof(a));
  for (int t = 0; t < ntaps; ++t) {
    const int16_t* __restrict src = taps[t].src + 2 * m0;
    const int16_t* __restrict wp = taps[t].w;
    for (int p = 0; p < npairs; ++p) {
      int16_t x0[kInt16Chunk], x1[kInt16Chunk];
      for (int j = 0; j < kInt16Chunk; ++j) {
        x0[j] = src[2 * j];
        x1[j] = src[2 * j + 1];
      }
      for (int o = 0; o < kOcBlock; ++o) {
        const int16_t w0 = wp[2 * o], w1 = wp[2 * o + 1];
        for (int j = 0; j < kInt16Chunk; ++j) a[o][j] += int32_t(w0) * int32_t(x0[j]) + int32_t(w1) * int32_t(x1[j]);
      }
      src += pair_stride;
      wp += 2 * kOcBlock;
    }
  }
  std::memcpy(acc, a, sizeof(a));
}

#if JPEGAI_HAVE_AVX2_CLONE
JPEGAI_TARGET_AVX2 void accumulate_int16_avx2(int32_t (&acc)[kOcBlock][kInt16Chunk], const Tap<int16_t>* taps,
                                              int ntaps, int npairs, int64_t pair_stride, int64_t m0) {
  // 12 accumulators + 2 activation vectors + 1 broadcast weight pair: 15 of the 16 ymm registers.
  __m256i a[kOcBlock][2];
  for (int o = 0; o < kOcBlock; ++o)
    for (int v = 0; v < 2; ++v) a[o][v] = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(&acc[o][8 * v]));
  for (int t = 0; t < ntaps; ++t) {
    const int16_t* src = taps[t].src + 2 * m0;
    const int16_t* wp = taps[t].w;
    for (int p = 0; p < npairs; ++p) {
      const __m256i x0 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(src));
      const __m256i x1 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(src + 16));
      for (int o = 0; o < kOcBlock; ++o) {
        int32_t pair;
        std::memcpy(&pair, wp + 2 * o, sizeof(pair));
        const __m256i wv = _mm256_set1_epi32(pair);
        a[o][0] = _mm256_add_epi32(a[o][0], _mm256_madd_epi16(x0, wv));
        a[o][1] = _mm256_add_epi32(a[o][1], _mm256_madd_epi16(x1, wv));
      }
      src += pair_stride;
      wp += 2 * kOcBlock;
    }
  }
  for (int o = 0; o < kOcBlock; ++o)
    for (int v = 0; v < 2; ++v) _mm256_storeu_si256(reinterpret_cast<__m256i*>(&acc[o][8 * v]), a[o][v]);
}
#else
void accumulate_int16_avx2(int32_t (&acc)[kOcBlock][kInt16Chunk], const Tap<int16_t>* taps, int ntaps, int npairs,
                           int64_t pair_stride, int64_t m0) {
  accumulate_int16_portable(acc, taps, ntaps, npairs, pair_stride, m0);
}
#endif

}  // namespace intpath
}  // namespace jpegai
