#include "context/wavefront.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "intpath/simd_dispatch.h"

namespace jpegai {
namespace context {
namespace {

constexpr int PAD_TOP = 2, PAD_LEFT = 2, PAD_RIGHT = 1;
constexpr int TAP_DY[NTAPS] = {-2, -2, -2, -2, -1, -1, -1, -1, 0, 0};
constexpr int TAP_DX[NTAPS] = {-2, -1, 0, 1, -2, -1, 0, 1, -2, -1};
constexpr int SUPPORT = GROUP * NTAPS;

void require(bool ok, const std::string& msg) {
  if (!ok) throw std::invalid_argument("context model: " + msg);
}

inline int64_t clamp_value(int64_t v) {
  return std::min<int64_t>(std::max<int64_t>(v, -int64_t(VALUE_LIMIT)), VALUE_LIMIT);
}

// Everything one wavefront position needs; y_hat lives in a zero-padded (H+2, W+3, M) buffer so
// neighbours of all channels of a group are contiguous and borders need no tests.
struct State {
  const Model* m;
  std::vector<int32_t> weight;  // [c][tap][ci], Q16
  std::vector<int32_t> padded;  // [(i+2)][(j+2)][c]
  int64_t row_stride = 0;       // elements per padded row
  const int32_t* q_in = nullptr;
  const float* y_in = nullptr;
  int32_t* q_out = nullptr;
  int32_t* y_hat_out = nullptr;
};

template <bool Quantize>
inline __attribute__((always_inline)) void position_body(State& s, int i, int j) {
  const Model& m = *s.m;
  const int64_t plane = int64_t(m.H) * m.W;
  const int64_t pix = int64_t(i) * m.W + j;
  int32_t* here = s.padded.data() + (i + PAD_TOP) * s.row_stride + int64_t(j + PAD_LEFT) * m.M;
  alignas(32) int32_t nb[SUPPORT];
  for (int g = 0; g < m.M; g += GROUP) {
    for (int t = 0; t < NTAPS; ++t) {
      const int32_t* src = here + TAP_DY[t] * s.row_stride + int64_t(TAP_DX[t]) * m.M + g;
      for (int ci = 0; ci < GROUP; ++ci) nb[t * GROUP + ci] = src[ci];
    }
    for (int c = g; c < g + GROUP; ++c) {
      const int32_t* w = s.weight.data() + int64_t(c) * SUPPORT;
      int64_t acc = 0;
      for (int k = 0; k < SUPPORT; ++k) acc += int64_t(w[k]) * int64_t(nb[k]);
      const int64_t idx = int64_t(c) * plane + pix;
      const int64_t mu =
          clamp_value(int64_t(m.mu_hyper[idx]) + m.bias[c] + ((acc + (int64_t(1) << (W_FRAC_BITS - 1))) >> W_FRAC_BITS));
      int64_t q;
      if (Quantize) {
        const double r = std::floor((double(s.y_in[idx]) * 4096.0 - double(mu)) / double(m.step[c]) + 0.5);
        q = int64_t(std::min(std::max(r, -double(VALUE_LIMIT)), double(VALUE_LIMIT)));
        s.q_out[idx] = int32_t(q);
      } else {
        q = s.q_in[idx];
      }
      const int32_t y_hat = int32_t(clamp_value(q * m.step[c] + mu));
      here[c] = y_hat;
      s.y_hat_out[idx] = y_hat;
    }
  }
}

template <bool Quantize>
void position_portable(State& s, int i, int j) { position_body<Quantize>(s, i, j); }

#if JPEGAI_HAVE_AVX2_CLONE
template <bool Quantize>
JPEGAI_TARGET_AVX2 void position_avx2(State& s, int i, int j) { position_body<Quantize>(s, i, j); }
#endif

template <bool Quantize>
void run_wavefront(State& s, int threads) {
  const Model& m = *s.m;
  const int n_threads = std::max(1, std::min(threads, m.H));
  auto position = &position_portable<Quantize>;
#if JPEGAI_HAVE_AVX2_CLONE
  if (simd_enabled()) position = &position_avx2<Quantize>;
#endif
  // progress[i] = number of finished columns of row i. Row i may compute column j once row i-1 has
  // finished column j+1 (that row in turn waited for row i-2), which covers all causal taps.
  std::unique_ptr<std::atomic<int>[]> progress(new std::atomic<int>[m.H]);
  for (int i = 0; i < m.H; ++i) progress[i].store(0, std::memory_order_relaxed);
  auto worker = [&](int t) {
    for (int i = t; i < m.H; i += n_threads) {
      int known = i == 0 ? m.W : 0;
      for (int j = 0; j < m.W; ++j) {
        const int need = std::min(j + 2, m.W);
        int spins = 0;
        while (known < need) {
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
  for (int t = 1; t < n_threads; ++t) pool.emplace_back(worker, t);
  worker(0);
  for (auto& th : pool) th.join();
}

template <bool Quantize>
void run(const Model& m, State& s, int threads) {
  validate(m);
  require(threads >= 1, "threads must be >= 1");
  s.m = &m;
  s.weight.resize(size_t(m.M) * SUPPORT);
  for (int c = 0; c < m.M; ++c)
    for (int ci = 0; ci < GROUP; ++ci)
      for (int t = 0; t < NTAPS; ++t)
        s.weight[(size_t(c) * NTAPS + t) * GROUP + ci] = m.weight[(size_t(c) * GROUP + ci) * NTAPS + t];
  s.row_stride = int64_t(m.W + PAD_LEFT + PAD_RIGHT) * m.M;
  s.padded.assign(size_t(m.H + PAD_TOP) * s.row_stride, 0);
  run_wavefront<Quantize>(s, threads);
}

}  // namespace

void validate(const Model& m) {
  require(m.M > 0 && m.M % GROUP == 0 && m.M <= MAX_CHANNELS, "M must be a positive multiple of 16 (<= 4096)");
  require(m.H > 0 && m.W > 0, "height and width must be positive");
  require(int64_t(m.M) * m.H * m.W <= (int64_t(1) << 31) - 1, "latent too large");
  require(m.mu_hyper && m.bias && m.step && m.weight, "missing array");
  for (int c = 0; c < m.M; ++c) {
    require(m.step[c] >= 1 && m.step[c] <= VALUE_LIMIT, "step_q must be in [1, 2^30]");
    require(m.bias[c] >= -VALUE_LIMIT && m.bias[c] <= VALUE_LIMIT, "bias_q must be in [-2^30, 2^30]");
  }
  for (int64_t k = 0; k < int64_t(m.M) * SUPPORT; ++k)
    require(m.weight[k] >= -WEIGHT_LIMIT && m.weight[k] <= WEIGHT_LIMIT, "w_q must be in [-2^24, 2^24]");
  const int64_t n = int64_t(m.M) * m.H * m.W;
  for (int64_t k = 0; k < n; ++k)
    require(m.mu_hyper[k] >= -VALUE_LIMIT && m.mu_hyper[k] <= VALUE_LIMIT, "mu_hyper_q must be in [-2^30, 2^30]");
}

void reconstruct(const Model& m, const int32_t* q, int32_t* y_hat, int threads) {
  require(q && y_hat, "missing array");
  State s;
  s.q_in = q;
  s.y_hat_out = y_hat;
  run<false>(m, s, threads);
}

void quantize(const Model& m, const float* y, int32_t* q, int32_t* y_hat, int threads) {
  require(y && q && y_hat, "missing array");
  validate(m);
  const int64_t n = int64_t(m.M) * m.H * m.W;
  for (int64_t k = 0; k < n; ++k) require(std::isfinite(y[k]), "y contains NaN or infinity");
  State s;
  s.y_in = y;
  s.q_out = q;
  s.y_hat_out = y_hat;
  run<true>(m, s, threads);
}

}  // namespace context
}  // namespace jpegai
