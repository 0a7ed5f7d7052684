#include "context/causal_sum.h"

#include <algorithm>

namespace jpegai {
namespace context {
namespace detail {

void prepare(State& s, const Model& m, int threads) {
  s.m = &m;
  s.weight.assign(size_t(m.M) * kSupport, 0);
  int64_t max_l1 = 0;
  for (int c = 0; c < m.M; ++c) {
    int64_t l1 = 0;
    const int g = c - c % kGroup;
    for (int ci = 0; ci < kGroup; ++ci)
      for (int t = 0; t < kNumTaps; ++t) {
        const int32_t w = m.weight[(size_t(c) * kGroup + ci) * kNumTaps + t];
        s.weight[size_t(g) * kSupport + size_t(t * kGroup + ci) * kGroup + (c - g)] = w;
        l1 += std::abs(int64_t(w));
      }
    max_l1 = std::max(max_l1, l1);
  }
  // |y_hat| <= 2^30, so every partial sum is below max_l1 * 2^30.
  s.exact_double = double(max_l1) * double(kValueLimit) < 9007199254740992.0;  // 2^53
  if (s.exact_double) s.weight_double.assign(s.weight.begin(), s.weight.end());
  s.row_stride = int64_t(m.W + kPadLeft + kPadRight) * kGroup;
  s.group_stride = int64_t(m.H + kPadTop) * s.row_stride;
  s.padded.assign(size_t(m.M / kGroup) * s.group_stride, 0);
  const int64_t plane = int64_t(m.H) * m.W;
  s.mu_g.resize(size_t(plane) * m.M);
  to_group_major(m.mu_hyper, s.mu_g.data(), m.M, plane, threads);
}

void padded_to_planar(const State& s, int32_t* dst, int threads) {
  const Model& m = *s.m;
  const int64_t plane = int64_t(m.H) * m.W;
  jpegai::parallel_for(int64_t(m.M / kGroup) * m.H, threads, [&](int64_t task) {
    const int64_t g = task / m.H, i = task % m.H;
    const int32_t* row = s.padded.data() + g * s.group_stride + (i + kPadTop) * s.row_stride + kPadLeft * kGroup;
    for (int ci = 0; ci < kGroup; ++ci) {
      int32_t* out = dst + (g * kGroup + ci) * plane + i * m.W;
      for (int j = 0; j < m.W; ++j) out[j] = row[int64_t(j) * kGroup + ci];
    }
  });
}

}  // namespace detail
}  // namespace context
}  // namespace jpegai
