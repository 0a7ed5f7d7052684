// The causal context sum shared by the context loop (wavefront.cpp) and the refinement layers
// (refine.cpp): per group and position, the 16 means mu = mu_hyper + bias + round(sum w * y_hat) over the
// causal taps (wavefront.h has the formula). Internal to csrc/context: nothing here is a public API.
#pragma once
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <stdexcept>
#include <string>
#include <vector>

#include "common/parallel.h"
#include "common/portable.h"
#include "context/wavefront.h"

namespace jpegai {
namespace context {
namespace detail {

constexpr int kPadTop = 2, kPadLeft = 2, kPadRight = 1;
constexpr int kSupport = kGroup * kNumTaps;

// Hot validation loops call this per element: no std::string unless the check fails.
inline void require(bool ok, const char* msg) {
  if (!ok) throw std::invalid_argument(std::string("context model: ") + msg);
}
inline void require(bool ok, const std::string& msg) {
  if (!ok) throw std::invalid_argument("context model: " + msg);
}

inline int64_t clamp_value(int64_t v) {
  return std::min<int64_t>(std::max<int64_t>(v, -int64_t(kValueLimit)), kValueLimit);
}

// Everything a position needs. Groups never read each other, so every array is group-major:
// y_hat lives in a zero-bordered (M/16, H+2, W+3, 16) buffer (a group's 16 channels at one position
// are one cache line, borders need no tests) and the inputs are (M/16, H, W, 16) copies.
struct State {
  const Model* m;
  std::vector<int64_t> weight;        // [group][tap][ci][c in group], Q16
  std::vector<double> weight_double;  // the same integers as float64
  bool exact_double = false;          // all sums provably exact integers below 2^53 in float64
  template <class Acc>
  const Acc* weights() const;
  std::vector<int32_t> padded;
  int64_t row_stride = 0;     // elements per padded row of one group
  int64_t group_stride = 0;   // elements per group in padded
  std::vector<int32_t> mu_g;  // mu_hyper, group-major
};

// int64 path (only for unusually large weights): plain loops.
JPEGAI_ALWAYS_INLINE void accumulate_group(int64_t (&acc)[kGroup], const int64_t* nb, const int64_t* w) {
  for (int c = 0; c < kGroup; ++c) acc[c] = 0;
  for (int k = 0; k < kSupport; ++k)
    for (int c = 0; c < kGroup; ++c) acc[c] += nb[k] * w[k * kGroup + c];
}

// float64 path: eight 2-lane accumulators (GCC vector extension: SSE2 in the portable build, FMA in the
// AVX2 clone, NEON on AArch64); every product and partial sum is an exact integer, so the lowering is
// irrelevant. 2 lanes, not 4: wider vectors than the portable build's registers were lowered through
// memory (kodim23's context loop 44 ms portable against 8 ms now; the AVX2 clone's 5 ms is unchanged).
typedef double double2 __attribute__((vector_size(16)));
JPEGAI_ALWAYS_INLINE void accumulate_group(double (&acc)[kGroup], const double* nb, const double* w) {
  double2 a[8] = {};
  for (int k = 0; k < kSupport; ++k) {
    const double v = nb[k];
    const double2 vv = {v, v};
    for (int q = 0; q < 8; ++q) {
      double2 wq;
      std::memcpy(&wq, w + k * kGroup + 2 * q, sizeof wq);
      a[q] += vv * wq;
    }
  }
  std::memcpy(acc, a, sizeof a);
}

template <>
inline const int64_t* State::weights<int64_t>() const {
  return weight.data();
}
template <>
inline const double* State::weights<double>() const {
  return weight_double.data();
}

// The 16 means of group g at (i, j) into mu[] (clamped to +-2^30); returns where that position's
// y_hat values go in s.padded. Acc = double only when prepare() proved every partial sum an exact
// integer below 2^53; else int64. Same integers either way.
template <class Acc>
JPEGAI_ALWAYS_INLINE int32_t* group_means(const State& s, int g, int i, int j, int64_t (&mu)[kGroup]) {
  const Model& m = *s.m;
  const int64_t base = (int64_t(g) * m.H * m.W + int64_t(i) * m.W + j) * kGroup;
  int32_t* here = const_cast<int32_t*>(s.padded.data()) + g * s.group_stride + (i + kPadTop) * s.row_stride +
                  int64_t(j + kPadLeft) * kGroup;
  alignas(32) Acc nb[kSupport];
  for (int t = 0; t < kNumTaps; ++t) {
    const int32_t* src = here + kTapDy[t] * s.row_stride + kTapDx[t] * kGroup;
    for (int ci = 0; ci < kGroup; ++ci) nb[t * kGroup + ci] = Acc(src[ci]);
  }
  alignas(32) Acc acc[kGroup];
  accumulate_group(acc, nb, s.template weights<Acc>() + int64_t(g) * kGroup * kSupport);
  for (int k = 0; k < kGroup; ++k) {
    const int64_t sum = int64_t(acc[k]);
    mu[k] = clamp_value(int64_t(s.mu_g[base + k]) + m.bias[g * kGroup + k] +
                        ((sum + (int64_t(1) << (kWeightFracBits - 1))) >> kWeightFracBits));
  }
  return here;
}

// Packs m's weights (both precisions), proves or refutes the float64 path, zeroes the padded y_hat
// and copies mu_hyper group-major. m must be validated.
void prepare(State& s, const Model& m, int threads);

// (M, P) planar -> (M/16, P, 16) group-major, in blocks of positions.
template <class T>
void to_group_major(const T* src, T* dst, int M, int64_t P, int threads) {
  constexpr int64_t B = 256;
  const int64_t blocks = (P + B - 1) / B;
  jpegai::parallel_for(int64_t(M / kGroup) * blocks, threads, [&](int64_t task) {
    const int64_t g = task / blocks, p0 = (task % blocks) * B, p1 = std::min(P, p0 + B);
    for (int ci = 0; ci < kGroup; ++ci) {
      const T* in = src + (g * kGroup + ci) * P;
      T* out = dst + g * P * kGroup + ci;
      for (int64_t p = p0; p < p1; ++p) out[p * kGroup] = in[p];
    }
  });
}

// (M/16, P, 16) group-major -> (M, P) planar.
template <class T>
void to_planar(const T* src, T* dst, int M, int64_t P, int threads) {
  jpegai::parallel_for(M, threads, [&](int64_t c) {
    const T* in = src + (c / kGroup) * P * kGroup + c % kGroup;
    for (int64_t p = 0; p < P; ++p) dst[c * P + p] = in[p * kGroup];
  });
}

// padded (M/16, H+2, W+3, 16) -> (M, H, W)
void padded_to_planar(const State& s, int32_t* dst, int threads);

}  // namespace detail
}  // namespace context
}  // namespace jpegai
