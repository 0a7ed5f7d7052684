#include "intpath/pair_kernel.h"

#include <cstring>

#if defined(__GNUC__) && defined(__x86_64__)
#include <immintrin.h>
#define JPEGAI_PAIR_X86 1
#else
#define JPEGAI_PAIR_X86 0
#endif
#if defined(__aarch64__)
#include <arm_neon.h>
#endif

namespace jpegai {
namespace intpath {
namespace {

// Each output is a dot product of int16 vectors over the input channels (the weights by lane): the form a
// compiler vectorises from plain C++ (SSE2's pmaddwd, NEON's widening multiply-add). Three pixels share
// each weight load (measured: 0.8x the time of one pixel at a time with SSE2).
constexpr int kRowsPerLoad = 3;
static_assert(kPairTileR % kRowsPerLoad == 0, "the tile's rows go in whole blocks");

void pair_tile_portable(const PairTileArgs& a, int32_t* out) {
  int32_t acc[kPairTileR][kPairLanes] = {};
  const int c = 2 * a.npairs;
  for (int t = 0; t < a.ntaps; ++t) {
    const int16_t* s = a.src + a.tap_off[t];
    const int16_t* w = a.w_by_lane + int64_t(t) * kPairLanes * c;
    for (int l = 0; l < kPairLanes; ++l) {
      const int16_t* __restrict wl = w + l * c;
      for (int r = 0; r < kPairTileR; r += kRowsPerLoad) {
        int32_t sum[kRowsPerLoad] = {};
        for (int i = 0; i < c; ++i)
          for (int k = 0; k < kRowsPerLoad; ++k) sum[k] += int32_t(wl[i]) * int32_t(s[(r + k) * a.px_stride + i]);
        for (int k = 0; k < kRowsPerLoad; ++k) acc[r + k][l] += sum[k];
      }
    }
  }
  std::memcpy(out, acc, sizeof(acc));
}

#if JPEGAI_PAIR_X86
static_assert(kPairTileR == 6, "the AVX2 kernel names its 6 rows explicitly");
#define JPEGAI_ROWS(X) X(0) X(1) X(2) X(3) X(4) X(5)

// 6 pixels x 2 ymm = 12 accumulators + 2 weight registers + 1 broadcast.
__attribute__((target("avx2"))) void pair_tile_avx2(const PairTileArgs& a, int32_t* out) {
#define INIT(r) __m256i lo##r = _mm256_setzero_si256(), hi##r = _mm256_setzero_si256();
  JPEGAI_ROWS(INIT)
#undef INIT
  const int64_t ps = a.px_stride;
  for (int t = 0; t < a.ntaps; ++t) {
    const int16_t* s = a.src + a.tap_off[t];
    const int16_t* w = a.w + int64_t(t) * a.npairs * kPairLanes * 2;
    for (int p = 0; p < a.npairs; ++p, w += kPairLanes * 2, s += 2) {
      const __m256i w0 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(w));
      const __m256i w1 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(w + 16));
#define STEP(r)                                                \
  {                                                            \
    int32_t pair;                                              \
    std::memcpy(&pair, s + r * ps, sizeof(pair));              \
    const __m256i x = _mm256_set1_epi32(pair);                 \
    lo##r = _mm256_add_epi32(lo##r, _mm256_madd_epi16(x, w0)); \
    hi##r = _mm256_add_epi32(hi##r, _mm256_madd_epi16(x, w1)); \
  }
      JPEGAI_ROWS(STEP)
#undef STEP
    }
  }
#define STORE(r)                                                                \
  _mm256_storeu_si256(reinterpret_cast<__m256i*>(out + r * kPairLanes), lo##r); \
  _mm256_storeu_si256(reinterpret_cast<__m256i*>(out + r * kPairLanes + 8), hi##r);
  JPEGAI_ROWS(STORE)
#undef STORE
}
#undef JPEGAI_ROWS
#endif

#if defined(__aarch64__)
// NEON: vld2q splits 8 lanes' interleaved weight pairs into the two channels' rows, so each pixel's channel
// value times a row is one widening multiply-add (smlal / smlal2) into 4 int32 lanes. 6 pixels x 16 lanes
// = 24 accumulators + 4 weight rows of the 32 vector registers.
void pair_tile_neon(const PairTileArgs& a, int32_t* out) {
  int32x4_t acc[kPairTileR][4];
  for (int r = 0; r < kPairTileR; ++r)
    for (int v = 0; v < 4; ++v) acc[r][v] = vdupq_n_s32(0);
  const int64_t ps = a.px_stride;
  for (int t = 0; t < a.ntaps; ++t) {
    const int16_t* s = a.src + a.tap_off[t];
    const int16_t* w = a.w + int64_t(t) * a.npairs * kPairLanes * 2;
    for (int p = 0; p < a.npairs; ++p, w += kPairLanes * 2, s += 2) {
      const int16x8x2_t lo = vld2q_s16(w), hi = vld2q_s16(w + 16);  // lanes 0-7 and 8-15
      for (int r = 0; r < kPairTileR; ++r) {
        const int16_t x0 = s[r * ps], x1 = s[r * ps + 1];
        acc[r][0] = vmlal_n_s16(vmlal_n_s16(acc[r][0], vget_low_s16(lo.val[0]), x0), vget_low_s16(lo.val[1]), x1);
        acc[r][1] = vmlal_high_n_s16(vmlal_high_n_s16(acc[r][1], lo.val[0], x0), lo.val[1], x1);
        acc[r][2] = vmlal_n_s16(vmlal_n_s16(acc[r][2], vget_low_s16(hi.val[0]), x0), vget_low_s16(hi.val[1]), x1);
        acc[r][3] = vmlal_high_n_s16(vmlal_high_n_s16(acc[r][3], hi.val[0], x0), hi.val[1], x1);
      }
    }
  }
  for (int r = 0; r < kPairTileR; ++r)
    for (int v = 0; v < 4; ++v) vst1q_s32(out + r * kPairLanes + 4 * v, acc[r][v]);
}
#endif

}  // namespace

PairTileFn pair_tile_kernel(Isa isa) {
#if JPEGAI_PAIR_X86
  if (uses_avx2(isa)) return pair_tile_avx2;
#endif
#if defined(__aarch64__)
  if (isa == Isa::neon) return pair_tile_neon;
#endif
  (void)isa;
  return pair_tile_portable;
}

}  // namespace intpath
}  // namespace jpegai
