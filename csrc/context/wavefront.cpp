#include "context/wavefront.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <atomic>
#include <cmath>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "common/parallel.h"
#include "common/cpu.h"

namespace jpegai {
namespace context {
namespace {

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
  int64_t row_stride = 0;    // elements per padded row of one group
  int64_t group_stride = 0;  // elements per group in padded
  std::vector<int32_t> mu_g;
  std::vector<int32_t> q_g;  // input (reconstruct) or output (quantise)
  std::vector<float> y_g;
};

typedef double double4 __attribute__((vector_size(32)));

// int64 path (only for unusually large weights): plain loops.
inline __attribute__((always_inline)) void accumulate_group(int64_t (&acc)[kGroup], const int64_t* nb,
                                                            const int64_t* w) {
  for (int c = 0; c < kGroup; ++c) acc[c] = 0;
  for (int k = 0; k < kSupport; ++k)
    for (int c = 0; c < kGroup; ++c) acc[c] += nb[k] * w[k * kGroup + c];
}

// float64 path: four 4-lane accumulators held in registers (GCC vector extension, lowered to SSE2
// or AVX2/FMA); every product and partial sum is an exact integer, so the lowering is irrelevant.
inline __attribute__((always_inline)) void accumulate_group(double (&acc)[kGroup], const double* nb, const double* w) {
  // Two interleaved sets of accumulators: the FMA latency chain, not throughput, limits one set.
  double4 a0 = {0, 0, 0, 0}, a1 = a0, a2 = a0, a3 = a0, b0 = a0, b1 = a0, b2 = a0, b3 = a0;
  for (int k = 0; k < kSupport; k += 2) {
    double4 w0, w1, w2, w3;
    const double v = nb[k];
    const double4 vv = {v, v, v, v};
    std::memcpy(&w0, w + k * kGroup, sizeof w0);
    std::memcpy(&w1, w + k * kGroup + 4, sizeof w1);
    std::memcpy(&w2, w + k * kGroup + 8, sizeof w2);
    std::memcpy(&w3, w + k * kGroup + 12, sizeof w3);
    a0 += vv * w0;
    a1 += vv * w1;
    a2 += vv * w2;
    a3 += vv * w3;
    const double u = nb[k + 1];
    const double4 uu = {u, u, u, u};
    std::memcpy(&w0, w + (k + 1) * kGroup, sizeof w0);
    std::memcpy(&w1, w + (k + 1) * kGroup + 4, sizeof w1);
    std::memcpy(&w2, w + (k + 1) * kGroup + 8, sizeof w2);
    std::memcpy(&w3, w + (k + 1) * kGroup + 12, sizeof w3);
    b0 += uu * w0;
    b1 += uu * w1;
    b2 += uu * w2;
    b3 += uu * w3;
  }
  a0 += b0;
  a1 += b1;
  a2 += b2;
  a3 += b3;
  std::memcpy(acc, &a0, sizeof a0);
  std::memcpy(acc + 4, &a1, sizeof a1);
  std::memcpy(acc + 8, &a2, sizeof a2);
  std::memcpy(acc + 12, &a3, sizeof a3);
}

// One group at one position: acc[c] = sum_k nb[k] * w[g][k][c] over the 160 causal inputs, with the
// channel axis innermost (vectorises without horizontal sums). Acc = double only when the run-time
// check proved every partial sum an exact integer below 2^53; else int64. Same integers either way.
template <bool Quantise, class Acc>
inline __attribute__((always_inline)) void position_body(State& s, int g, int i, int j) {
  const Model& m = *s.m;
  const int64_t base = (int64_t(g) * m.H * m.W + int64_t(i) * m.W + j) * kGroup;
  int32_t* here = s.padded.data() + g * s.group_stride + (i + kPadTop) * s.row_stride + int64_t(j + kPadLeft) * kGroup;
  alignas(32) Acc nb[kSupport];
  for (int t = 0; t < kNumTaps; ++t) {
    const int32_t* src = here + kTapDy[t] * s.row_stride + kTapDx[t] * kGroup;
    for (int ci = 0; ci < kGroup; ++ci) nb[t * kGroup + ci] = Acc(src[ci]);
  }
  alignas(32) Acc acc[kGroup];
  accumulate_group(acc, nb, s.template weights<Acc>() + int64_t(g) * kGroup * kSupport);
  for (int k = 0; k < kGroup; ++k) {
    const int c = g * kGroup + k;
    const int64_t sum = int64_t(acc[k]);
    const int64_t mu = clamp_value(int64_t(s.mu_g[base + k]) + m.bias[c] +
                                   ((sum + (int64_t(1) << (kWeightFracBits - 1))) >> kWeightFracBits));
    int64_t q;
    if (Quantise) {
      // y * 4096 is exact in double, so fused or not, this is the same IEEE result everywhere.
      const double r = std::floor((double(s.y_g[base + k]) * 4096.0 - double(mu)) / double(m.step[c]) + 0.5);
      q = int64_t(std::min(std::max(r, -double(kValueLimit)), double(kValueLimit)));
      s.q_g[base + k] = int32_t(q);
    } else {
      q = s.q_g[base + k];
    }
    here[k] = int32_t(clamp_value(q * m.step[c] + mu));
  }
}

// A whole group in raster order (raster order is causal too).
template <bool Quantise, class Acc>
inline __attribute__((always_inline)) void group_body(State& s, int g) {
  for (int i = 0; i < s.m->H; ++i)
    for (int j = 0; j < s.m->W; ++j) position_body<Quantise, Acc>(s, g, i, j);
}

// All groups at one position (wavefront schedule).
template <bool Quantise, class Acc>
inline __attribute__((always_inline)) void all_groups_body(State& s, int i, int j) {
  for (int g = 0; g < s.m->M / kGroup; ++g) position_body<Quantise, Acc>(s, g, i, j);
}

template <bool Quantise, class Acc>
void group_portable(State& s, int g) {
  group_body<Quantise, Acc>(s, g);
}
template <bool Quantise, class Acc>
void position_portable(State& s, int i, int j) {
  all_groups_body<Quantise, Acc>(s, i, j);
}

#if JPEGAI_HAVE_AVX2_CLONE
template <bool Quantise, class Acc>
JPEGAI_TARGET_AVX2 void group_avx2(State& s, int g) {
  group_body<Quantise, Acc>(s, g);
}
template <bool Quantise, class Acc>
JPEGAI_TARGET_AVX2 void position_avx2(State& s, int i, int j) {
  all_groups_body<Quantise, Acc>(s, i, j);
}
#endif

// Groups are independent: with enough of them, each thread runs whole groups (no synchronisation,
// each group's weights stay in L1).
template <bool Quantise>
void run_groups(State& s, int threads) {
  auto group = s.exact_double ? &group_portable<Quantise, double> : &group_portable<Quantise, int64_t>;
#if JPEGAI_HAVE_AVX2_CLONE
  if (simd_enabled()) group = s.exact_double ? &group_avx2<Quantise, double> : &group_avx2<Quantise, int64_t>;
#endif
  jpegai::parallel_for(s.m->M / kGroup, threads, [&](int64_t g) { group(s, int(g)); });
}

template <bool Quantise>
void run_wavefront(State& s, int threads) {
  const Model& m = *s.m;
  const int n_threads = std::max(1, std::min(threads, m.H));
  auto position = s.exact_double ? &position_portable<Quantise, double> : &position_portable<Quantise, int64_t>;
#if JPEGAI_HAVE_AVX2_CLONE
  if (simd_enabled()) position = s.exact_double ? &position_avx2<Quantise, double> : &position_avx2<Quantise, int64_t>;
#endif
  // progress[i] = number of finished columns of row i. Row i may compute column j once row i-1 has
  // finished column j + kRowSlope - 1 (that row in turn waited for row i-2), which covers all causal
  // taps (taps_are_causal, wavefront.h).
  std::unique_ptr<std::atomic<int>[]> progress(new std::atomic<int>[m.H]);
  for (int i = 0; i < m.H; ++i) progress[i].store(0, std::memory_order_relaxed);
  std::atomic<bool> aborted{false};
  auto worker = [&](int t) {
    for (int i = t; i < m.H; i += n_threads) {
      int known = i == 0 ? m.W : 0;
      for (int j = 0; j < m.W; ++j) {
        const int need = std::min(j + kRowSlope, m.W);
        int spins = 0;
        while (known < need) {
          if (aborted.load(std::memory_order_relaxed)) return;
          known = progress[i - 1].load(std::memory_order_acquire);
          if (known < need && ++spins > 64) std::this_thread::yield();
        }
        position(s, i, j);
        progress[i].store(j + 1, std::memory_order_release);
      }
    }
  };
  if (n_threads == 1) {
    worker(0);
    return;
  }
  std::vector<std::thread> pool;
  try {
    for (int t = 1; t < n_threads; ++t) pool.emplace_back(worker, t);
  } catch (...) {
    // Rows are dealt round-robin, so a missing thread would stall the wavefront: give up cleanly.
    aborted.store(true);
    for (auto& th : pool) th.join();
    throw std::runtime_error("context model: could not start worker threads");
  }
  worker(0);
  for (auto& th : pool) th.join();
}

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

// padded (M/16, H+2, W+3, 16) -> (M, H, W)
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

template <>
const int64_t* State::weights<int64_t>() const {
  return weight.data();
}
template <>
const double* State::weights<double>() const {
  return weight_double.data();
}

template <bool Quantise>
void run(const Model& m, State& s, int threads) {
  validate(m);
  require(threads >= 1, "threads must be >= 1");
  s.m = &m;
  s.weight.resize(size_t(m.M) * kSupport);
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
  // Schedule (never changes results): whole groups per thread when they divide the work evenly
  // enough, else the row wavefront across all threads.
  const int n_groups = m.M / kGroup;
  if (threads == 1 || n_groups % threads == 0 || n_groups >= 2 * threads)
    run_groups<Quantise>(s, threads);
  else
    run_wavefront<Quantise>(s, threads);
}

}  // namespace

void validate(const Model& m) {
  require(m.M > 0 && m.M % kGroup == 0 && m.M <= kMaxChannels, "M must be a positive multiple of 16 (<= 4096)");
  require(m.H > 0 && m.W > 0, "height and width must be positive");
  require(int64_t(m.M) * m.H * m.W <= (int64_t(1) << 31) - 1, "latent too large");
  require(m.mu_hyper && m.bias && m.step && m.weight, "missing array");
  for (int c = 0; c < m.M; ++c) {
    require(m.step[c] >= 1 && m.step[c] <= kValueLimit, "step_q must be in [1, 2^30]");
    require(m.bias[c] >= -kValueLimit && m.bias[c] <= kValueLimit, "bias_q must be in [-2^30, 2^30]");
  }
  for (int64_t k = 0; k < int64_t(m.M) * kSupport; ++k)
    require(m.weight[k] >= -kWeightLimit && m.weight[k] <= kWeightLimit, "w_q must be in [-2^24, 2^24]");
  const int64_t n = int64_t(m.M) * m.H * m.W;
  for (int64_t k = 0; k < n; ++k)
    require(m.mu_hyper[k] >= -kValueLimit && m.mu_hyper[k] <= kValueLimit, "mu_hyper_q must be in [-2^30, 2^30]");
}

void reconstruct(const Model& m, const int32_t* q, int32_t* y_hat, int threads) {
  require(q && y_hat, "missing array");
  require(threads >= 1, "threads must be >= 1");
  validate(m);
  const int64_t plane = int64_t(m.H) * m.W, n = plane * m.M;
  State s;
  s.mu_g.resize(n);
  s.q_g.resize(n);
  to_group_major(m.mu_hyper, s.mu_g.data(), m.M, plane, threads);
  to_group_major(q, s.q_g.data(), m.M, plane, threads);
  run<false>(m, s, threads);
  padded_to_planar(s, y_hat, threads);
}

void quantise(const Model& m, const float* y, int32_t* q, int32_t* y_hat, int threads) {
  require(y && q && y_hat, "missing array");
  validate(m);
  const int64_t n = int64_t(m.M) * m.H * m.W;
  for (int64_t k = 0; k < n; ++k) require(std::isfinite(y[k]), "y contains NaN or infinity");
  const int64_t plane = int64_t(m.H) * m.W;
  State s;
  s.mu_g.resize(n);
  s.y_g.resize(n);
  s.q_g.resize(n);
  to_group_major(m.mu_hyper, s.mu_g.data(), m.M, plane, threads);
  to_group_major(y, s.y_g.data(), m.M, plane, threads);
  run<true>(m, s, threads);
  padded_to_planar(s, y_hat, threads);
  jpegai::parallel_for(m.M, threads, [&](int64_t c) {
    const int32_t* src = s.q_g.data() + (c / kGroup) * plane * kGroup + c % kGroup;
    for (int64_t p = 0; p < plane; ++p) q[c * plane + p] = src[p * kGroup];
  });
}

}  // namespace context
}  // namespace jpegai
