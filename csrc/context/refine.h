// Refinement layers of a progressive stream (docs/format.md, "Progressive layers").
//
// Layer 0 is an ordinary latent at step 3^(L-1) s; layer k > 0 refines every value of layer k-1 to the
// step s_k = s_{k-1} / 3, so every prefix is a complete quantisation of y and the last layer has step s.
// mu_k is the context model's mean (wavefront.h) over the causal neighbours *of this layer* (refined as
// the decode goes), sigma the hyper-synthesis'. Per value, by sigma's table against the step:
//
// * nested (sigma >= s_k / 2, table of sigma / s_k at least kRecentreBelowTable): the bin of layer k-1
//   (width 3 s_k) splits into three centred ones, y_hat_k = y_hat_{k-1} + t s_k, t in {-1, 0, +1} (3 is
//   odd: the bins nest). With the unit u = s_k / 3 and the table of sigma / u, sub-bin t covers the unit
//   bins centred at e + 3t - 1 .. e + 3t + 1, e = round((y_hat_{k-1} - mu_k) / u) (half up, exact):
//   mass cdf(e + 3t + 2) - cdf(e + 3t - 1).
// * recentred (sigma < s_k / 2): the value is coded afresh on a grid centred on mu_k, as a single-layer
//   stream codes it, y_hat_k = mu_k + v s_k, among the 4 or 5 values v with |mu_k + v s_k - y_hat_{k-1}|
//   <= 2 s_k (every rounding of a y inside the bin below is one of them): mass of v in the table of
//   sigma / s_k. A narrow distribution that a nested grid would cut near its peak costs almost nothing
//   here, and its value lands on the mean as in a single-layer stream.
//
// The masses become frequencies summing to 2^16, each >= 1: 1 + floor(mass (2^16 - n) / total), the rest
// to the first largest mass; all masses zero: floor(2^16 / n) each, the rest to the first candidate.
// Symbols are coded per context group in raster order with one rANS state (rans.h's state and
// renormalisation), groups in parallel. Payload: M/16 varint chunk lengths, then the chunks, each an
// 8-byte little-endian initial decoder state followed by 32-bit little-endian words in decoding order.
#pragma once
#include <cstddef>
#include <cstdint>
#include <vector>

#include "context/wavefront.h"

namespace jpegai {
namespace context {

constexpr int kRefineRatio = 3;  // bins per bin of the layer below (odd: centred bins nest)
// Tables below this one (sigma / step < 2^((19 - 27) / 8) = 1/2) code a value recentred; the ladder of
// gaussian_tables.h puts sigma = step at table 27, 8 tables per octave.
constexpr int kRecentreBelowTable = 19;
constexpr int kMaxCandidates = 5;  // a recentred value: at most 5 values within +-2 steps

struct Refinement {
  const int32_t* prev = nullptr;      // (M, H, W) y_hat of layer k-1, Q12
  const uint8_t* idx = nullptr;       // (M, H, W) Gaussian table index of sigma / (step / 3)
  const uint8_t* idx_step = nullptr;  // (M, H, W) Gaussian table index of sigma / step
};

// Encoder: the candidate nearest y (floor((y * 4096 - centre) / step + 1/2) in IEEE double, as quantise(),
// clamped to the candidates; centre y_hat_{k-1} or mu_k), y_hat as the decoder makes it; returns the
// payload. m.step is this layer's step.
std::vector<uint8_t> refine_encode(const Model& m, const Refinement& r, const float* y, int32_t* y_hat, int threads);

// Decoder: this layer's y_hat from its payload (CorruptStream for a payload no encoder writes).
void refine_decode(const Model& m, const Refinement& r, const uint8_t* data, size_t size, int32_t* y_hat, int threads);

// The payload's layout for M channels (lengths, initial states), without decoding: CorruptStream if wrong.
void refine_check_layout(const uint8_t* data, size_t size, int M);

}  // namespace context
}  // namespace jpegai
