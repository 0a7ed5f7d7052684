// Deterministic integer hyper-synthesis: a chain of IntConvLayer (ReLU fused) mapping integer z_hat
// symbols to the entropy parameters of y: mu_q (Q12) and log2sigma_q (Q8). Encoder and decoder run
// this same code, so scale indices agree bit for bit on any machine and thread count.
#pragma once
#include <cstdint>
#include <vector>

#include "intpath/int_conv.h"

namespace jpegai {
namespace intpath {

constexpr int32_t kZLimit = int32_t(1) << 18;  // |z_hat| bound so that z_hat * 2^12 fits the activations
constexpr int kLog2SigmaFracBits = 8;
// Arith::int16 (format version 6): z_hat enters as Q4 (z_hat * 16, saturated to +-32767, so |z_hat| up
// to 2047 is exact), the hidden activations are Q11 (|value| < 16; the shipped model's stay below 5),
// the last layer gives mu Q12 and log2sigma Q8 as in Arith::exact.
constexpr int kInt16ZFracBits = 4;
constexpr int kInt16HiddenFracBits = 11;

struct HyperOutput {
  int channels = 0, height = 0, width = 0;  // channels = M
  std::vector<int32_t> mu_q;                // (M, H, W), Q12
  std::vector<int32_t> log2sigma_q;         // (M, H, W), Q8
};

class IntHyperSynthesis {
 public:
  explicit IntHyperSynthesis(Arith arith = Arith::exact) : arith_(arith) {}
  Arith arith() const { return arith_; }
  void add_layer(const ConvSpec& spec, std::vector<int32_t> weight_q, std::vector<int64_t> bias_q,
                 std::vector<int32_t> shift);
  int num_layers() const { return int(layers_.size()); }
  int in_channels() const;
  int out_channels() const;
  // Output (H, W) for a (h, w) input; throws std::invalid_argument if some layer would be empty.
  std::pair<int, int> output_size(int h, int w) const;

  // z: (cz, h, w) integer symbols. The last layer must have 2*M output channels.
  HyperOutput run(const int32_t* z, int cz, int h, int w, int M, int threads) const;

 private:
  Arith arith_;
  std::vector<IntConvLayer> layers_;
};

// The scale-index rule (docs/integer_path.md, "Scale index"): with L = log2sigma_q - log2step_q[c] (Q8),
// idx = clamp(floor((L + kScaleIndexOffset) / 2^kScaleIndexShift), 0, 75), i.e. round half up of
// 8 log2(sigma/step) + 27: table 27 is sigma = step, 8 tables per octave (L / 32 = 8 log2), and
// 880 = 27.5 * 32 puts the half-up rounding into the floor.
constexpr int kScaleIndexOffset = 880;
constexpr int kScaleIndexShift = 5;
// log2sigma_q: (M, plane) with plane = H*W; out: (M, plane).
void scale_indexes(const int32_t* log2sigma_q, const int32_t* log2step_q, int M, int64_t plane, uint8_t* out,
                   int threads);

}  // namespace intpath
}  // namespace jpegai
