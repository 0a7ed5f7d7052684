#include "intpath/int16_kernel.h"

#include <cstring>

#include "common/cpu.h"

#if JPEGAI_HAVE_AVX2_CLONE
#include <immintrin.h>
#endif
#if defined(__aarch64__)
#include <arm_neon.h>
#endif

namespace jpegai {
namespace intpath {
namespace {

// Each pair is split into its two channels' rows first, so the position loop is two widening int16
// multiplies per lane, the form compilers vectorise from plain C++ (SSE2's pmullw/pmulhw pairs, NEON's
// smlal); in the interleaved form GCC found no vector code (a micro-benchmark: 13x the AVX2 kernel's time,
// 4x this way).
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
#endif

#if defined(__aarch64__)
// NEON: vld2q splits 8 interleaved pairs into their two channels' rows, and each row times a channel's
// weight is one widening multiply-add (smlal / smlal2) into 4 int32 lanes; 24 accumulators + 4 rows fit
// the 32 vector registers.
void accumulate_int16_neon(int32_t (&acc)[kOcBlock][kInt16Chunk], const Tap<int16_t>* taps, int ntaps, int npairs,
                           int64_t pair_stride, int64_t m0) {
  int32x4_t a[kOcBlock][4];
  for (int o = 0; o < kOcBlock; ++o)
    for (int v = 0; v < 4; ++v) a[o][v] = vld1q_s32(&acc[o][4 * v]);
  for (int t = 0; t < ntaps; ++t) {
    const int16_t* src = taps[t].src + 2 * m0;
    const int16_t* wp = taps[t].w;
    for (int p = 0; p < npairs; ++p) {
      const int16x8x2_t lo = vld2q_s16(src), hi = vld2q_s16(src + 16);  // positions 0-7 and 8-15
      for (int o = 0; o < kOcBlock; ++o) {
        const int16_t w0 = wp[2 * o], w1 = wp[2 * o + 1];
        a[o][0] = vmlal_n_s16(vmlal_n_s16(a[o][0], vget_low_s16(lo.val[0]), w0), vget_low_s16(lo.val[1]), w1);
        a[o][1] = vmlal_high_n_s16(vmlal_high_n_s16(a[o][1], lo.val[0], w0), lo.val[1], w1);
        a[o][2] = vmlal_n_s16(vmlal_n_s16(a[o][2], vget_low_s16(hi.val[0]), w0), vget_low_s16(hi.val[1]), w1);
        a[o][3] = vmlal_high_n_s16(vmlal_high_n_s16(a[o][3], hi.val[0], w0), hi.val[1], w1);
      }
      src += pair_stride;
      wp += 2 * kOcBlock;
    }
  }
  for (int o = 0; o < kOcBlock; ++o)
    for (int v = 0; v < 4; ++v) vst1q_s32(&acc[o][4 * v], a[o][v]);
}
#endif

}  // namespace

Int16TileFn int16_tile_kernel(Isa isa) {
#if JPEGAI_HAVE_AVX2_CLONE
  if (uses_avx2(isa)) return accumulate_int16_avx2;
#endif
#if defined(__aarch64__)
  if (isa == Isa::neon) return accumulate_int16_neon;
#endif
  (void)isa;
  return accumulate_int16_portable;
}

}  // namespace intpath
}  // namespace jpegai
