// Refinement layers of a progressive stream (docs/format.md, "Progressive layers").
//
// Layer 0 is an ordinary latent at step 3^(L-1) s; layer k > 0 splits every quantisation bin of layer
// k-1 (width 3 s_k) into three of width s_k centred on the old reconstruction:
//   y_hat_k = y_hat_{k-1} + t * s_k,   t in {-1, 0, +1}.
// 3 is odd, so the bins nest exactly: every prefix is a complete quantisation of y, and the last layer
// is layer 0's grid refined to step s.
//
// t is coded with the model's own N(mu_k, sigma): mu_k is the context model's mean (wavefront.h) over
// the causal neighbours *of this layer* (refined as the decode goes), sigma the hyper-synthesis'. With
// the unit u = s_k / 3 and the Gaussian table of sigma / u (index `idx`), sub-bin t covers the unit bins
// centred at e + 3t - 1 .. e + 3t + 1, where e = round((y_hat_{k-1} - mu_k) / u) (half up, exact); its
// mass is cdf(e + 3t + 2) - cdf(e + 3t - 1). The three masses are scaled to sum to 2^16, each >= 1
// (1 + floor(mass (2^16 - 3) / total), the rest to the largest; all three zero: 21845, 21846, 21845).
//
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

struct Refinement {
  const int32_t* prev = nullptr;  // (M, H, W) y_hat of layer k-1, Q12
  const uint8_t* idx = nullptr;   // (M, H, W) Gaussian table index of sigma / (step / 3)
};

// Encoder: t = clamp(floor((y * 4096 - prev) / step + 1/2), -1, 1) in IEEE double (as quantise()), y_hat as
// the decoder makes it; returns the payload. m.step is this layer's step.
std::vector<uint8_t> refine_encode(const Model& m, const Refinement& r, const float* y, int32_t* y_hat, int threads);

// Decoder: this layer's y_hat from its payload (CorruptStream for a payload no encoder writes).
void refine_decode(const Model& m, const Refinement& r, const uint8_t* data, size_t size, int32_t* y_hat, int threads);

// The payload's layout for M channels (lengths, initial states), without decoding: CorruptStream if wrong.
void refine_check_layout(const uint8_t* data, size_t size, int M);

}  // namespace context
}  // namespace jpegai
