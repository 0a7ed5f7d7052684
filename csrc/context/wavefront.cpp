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

#include "common/cpu.h"
#include "common/parallel.h"
#include "context/causal_sum.h"

namespace jpegai {
namespace context {
namespace {

using namespace detail;  // NOLINT: this file is the shared state's main user

// The wavefront's own arrays beside the shared state: symbols in (reconstruct) or out (quantise), and y.
struct Loop : State {
  std::vector<int32_t> q_g;
  std::vector<float> y_g;
};

// One group at one position: the means, then each channel's symbol (quantise: from y) and y_hat.
template <bool Quantise, class Acc>
JPEGAI_ALWAYS_INLINE void position_body(Loop& s, int g, int i, int j) {
  const Model& m = *s.m;
  const int64_t base = (int64_t(g) * m.H * m.W + int64_t(i) * m.W + j) * kGroup;
  int64_t mu[kGroup];
  int32_t* here = group_means<Acc>(s, g, i, j, mu);
  for (int k = 0; k < kGroup; ++k) {
    const int c = g * kGroup + k;
    int64_t q;
    if (Quantise) {
      // y * 4096 is exact in double, so fused or not, this is the same IEEE result everywhere.
      const double r = std::floor((double(s.y_g[base + k]) * 4096.0 - double(mu[k])) / double(m.step[c]) + 0.5);
      q = int64_t(std::min(std::max(r, -double(kValueLimit)), double(kValueLimit)));
      s.q_g[base + k] = int32_t(q);
    } else {
      q = s.q_g[base + k];
    }
    here[k] = int32_t(clamp_value(q * m.step[c] + mu[k]));
  }
}

// A whole group in raster order (raster order is causal too).
template <bool Quantise, class Acc>
JPEGAI_ALWAYS_INLINE void group_body(Loop& s, int g) {
  for (int i = 0; i < s.m->H; ++i)
    for (int j = 0; j < s.m->W; ++j) position_body<Quantise, Acc>(s, g, i, j);
}

// All groups at one position (wavefront schedule).
template <bool Quantise, class Acc>
JPEGAI_ALWAYS_INLINE void all_groups_body(Loop& s, int i, int j) {
  for (int g = 0; g < s.m->M / kGroup; ++g) position_body<Quantise, Acc>(s, g, i, j);
}

template <bool Quantise, class Acc>
void group_portable(Loop& s, int g) {
  group_body<Quantise, Acc>(s, g);
}
template <bool Quantise, class Acc>
void position_portable(Loop& s, int i, int j) {
  all_groups_body<Quantise, Acc>(s, i, j);
}

#if JPEGAI_HAVE_AVX2_CLONE
template <bool Quantise, class Acc>
JPEGAI_TARGET_AVX2 void group_avx2(Loop& s, int g) {
  group_body<Quantise, Acc>(s, g);
}
template <bool Quantise, class Acc>
JPEGAI_TARGET_AVX2 void position_avx2(Loop& s, int i, int j) {
  all_groups_body<Quantise, Acc>(s, i, j);
}
#endif

// Groups are independent: with enough of them, each thread runs whole groups (no synchronisation,
// each group's weights stay in L1).
template <bool Quantise>
void run_groups(Loop& s, int threads) {
  auto group = s.exact_double ? &group_portable<Quantise, double> : &group_portable<Quantise, int64_t>;
#if JPEGAI_HAVE_AVX2_CLONE
  if (avx2_enabled()) group = s.exact_double ? &group_avx2<Quantise, double> : &group_avx2<Quantise, int64_t>;
#endif
  jpegai::parallel_for(s.m->M / kGroup, threads, [&](int64_t g) { group(s, int(g)); });
}

template <bool Quantise>
void run_wavefront(Loop& s, int threads) {
  const Model& m = *s.m;
  const int n_threads = std::max(1, std::min(threads, m.H));
  auto position = s.exact_double ? &position_portable<Quantise, double> : &position_portable<Quantise, int64_t>;
#if JPEGAI_HAVE_AVX2_CLONE
  if (avx2_enabled()) position = s.exact_double ? &position_avx2<Quantise, double> : &position_avx2<Quantise, int64_t>;
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

template <bool Quantise>
void run(const Model& m, Loop& s, int threads) {
  require(threads >= 1, "threads must be >= 1");
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
  const int64_t plane = int64_t(m.H) * m.W;
  Loop s;
  prepare(s, m, threads);
  s.q_g.resize(size_t(plane) * m.M);
  to_group_major(q, s.q_g.data(), m.M, plane, threads);
  run<false>(m, s, threads);
  padded_to_planar(s, y_hat, threads);
}

void quantise(const Model& m, const float* y, int32_t* q, int32_t* y_hat, int threads) {
  require(y && q && y_hat, "missing array");
  require(threads >= 1, "threads must be >= 1");
  validate(m);
  const int64_t plane = int64_t(m.H) * m.W, n = plane * m.M;
  for (int64_t k = 0; k < n; ++k) require(std::isfinite(y[k]), "y contains NaN or infinity");
  Loop s;
  prepare(s, m, threads);
  s.y_g.resize(n);
  s.q_g.resize(n);
  to_group_major(y, s.y_g.data(), m.M, plane, threads);
  run<true>(m, s, threads);
  padded_to_planar(s, y_hat, threads);
  to_planar(s.q_g.data(), q, m.M, plane, threads);
}

}  // namespace context
}  // namespace jpegai
