// Fixed-point wavefront context model (docs/integer_path.md): a masked grouped 5x5 conv over y_hat that
// predicts the mean. Position (i, j) depends only on positions decoded at earlier wavefront steps
// t = j + 2i, so rows run on several threads with per-row progress counters.
//
// Formats: y_hat, mu, mu_hyper, bias, step in Q12 (int32); weights in Q16 (kWeightFracBits), layout
// (M, 16, 10) with taps ordered (dy, dx) = (-2,-2..+1), (-1,-2..+1), (0,-2), (0,-1).
//   acc   = sum_{ci, tap} w[c][ci][tap] * y_hat[16*(c/16)+ci](i+dy, j+dx)      (exact int64)
//   mu    = clamp(mu_hyper + bias + ((acc + 2^15) >> 16), +-2^30)            (round half up)
//   y_hat = clamp(q * step + mu, +-2^30)
#pragma once
#include <cstdint>

namespace jpegai {
namespace context {

constexpr int kGroup = 16;
constexpr int kNumTaps = 10;
// Causal taps (dy, dx) in the order of the weights' tap axis: rows -2 and -1 at dx = -2..+1, then row 0
// at dx = -2, -1 (kernel index (dy + 2, dx + 2) of the 5x5 conv the model trains).
inline constexpr int kTapDy[kNumTaps] = {-2, -2, -2, -2, -1, -1, -1, -1, 0, 0};
inline constexpr int kTapDx[kNumTaps] = {-2, -1, 0, 1, -2, -1, 0, 1, -2, -1};
// Position (i, j) runs at wavefront step j + kRowSlope * i: every tap lies at an earlier step.
constexpr int kRowSlope = 2;
constexpr bool taps_are_causal() {
  for (int t = 0; t < kNumTaps; ++t)
    if (kTapDx[t] + kRowSlope * kTapDy[t] >= 0) return false;
  return true;
}
static_assert(taps_are_causal(), "a context tap would read a position of the same or a later wavefront step");
constexpr int kWeightFracBits = 16;
constexpr int32_t kValueLimit = int32_t(1) << 30;   // bound of mu, y_hat, bias, mu_hyper, step
constexpr int32_t kWeightLimit = int32_t(1) << 24;  // |w_q| bound: 160 products stay below 2^62
constexpr int kMaxChannels = 4096;

struct Model {
  int M = 0, H = 0, W = 0;
  const int32_t* mu_hyper = nullptr;  // (M, H, W) Q12
  const int32_t* bias = nullptr;      // (M,) Q12
  const int32_t* step = nullptr;      // (M,) Q12, >= 1
  const int32_t* weight = nullptr;    // (M, 16, 10) Q16
};

// Throws std::invalid_argument on any shape or value outside the documented ranges.
void validate(const Model& m);

// Decoder: y_hat (M, H, W) from the symbols q (M, H, W).
void reconstruct(const Model& m, const int32_t* q, int32_t* y_hat, int threads);

// Encoder: q = clamp(floor((y * 4096 - mu) / step + 0.5), +-2^30) in IEEE double, then the same
// y_hat as reconstruct() gives for that q. y must be finite.
void quantise(const Model& m, const float* y, int32_t* q, int32_t* y_hat, int threads);

}  // namespace context
}  // namespace jpegai
