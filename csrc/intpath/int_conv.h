// Integer Conv2d / ConvTranspose2d layer of the deterministic hyper-synthesis (see docs/integer_path.md).
// Activations: int32, Q12 (kActFracBits), saturated to +-kActLimit. Weights: int16-range int32 per
// output channel oc with a power-of-two scale 2^shift[oc]. Accumulation: exact (int64, or float64 when
// a run-time bound proves every partial sum an integer below 2^53). Requantisation:
// round-half-up arithmetic shift by shift[oc] (+ an optional extra shift for the output format).
#pragma once
#include <cstdint>
#include <vector>

namespace jpegai {
namespace intpath {

constexpr int kActFracBits = 12;
constexpr int32_t kActLimit = int32_t(1) << 30;      // activations saturate to [-2^30, 2^30]
constexpr int32_t kWeightLimit = 32767;              // |w_q| <= 2^15 - 1 (int16 range)
constexpr int64_t kMaxReduction = int64_t(1) << 16;  // Cin*kh*kw bound: |acc| < 2^61, no int64 overflow
constexpr int64_t kBiasLimit = int64_t(1) << 61;
constexpr int kMaxShift = 48;
constexpr int kOcBlock = 6;  // output channels per register tile

struct ConvSpec {
  bool transposed = false;
  int cin = 0, cout = 0, kh = 0, kw = 0;
  int sh = 1, sw = 1, ph = 0, pw = 0, oph = 0, opw = 0;
  bool relu = false;
};

class IntConvLayer {
 public:
  // weight_q: gather layout [cout][cin][kh][kw] (a ConvTranspose2d's torch weight must be transposed
  // to this layout by the caller); bias_q: Q(12 + shift[oc]); shift: per output channel.
  IntConvLayer(const ConvSpec& spec, std::vector<int32_t> weight_q, std::vector<int64_t> bias_q,
               std::vector<int32_t> shift);

  const ConvSpec& spec() const { return spec_; }
  int out_height(int h) const;
  int out_width(int w) const;

  // in: (cin, h, w) Q12. extra_shift: per output channel additional right shift (or empty).
  // Returns (cout, out_height(h), out_width(w)).
  std::vector<int32_t> forward(const std::vector<int32_t>& in, int h, int w, const std::vector<int32_t>& extra_shift,
                               int threads) const;

 private:
  template <class T>
  std::vector<int32_t> forward_typed(const std::vector<int32_t>& in, int h, int w, int ho, int wo,
                                     const std::vector<int32_t>& extra_shift, int threads) const;
  template <class T>
  const T* packed_weights() const;

  ConvSpec spec_;
  std::vector<int32_t> packed_;        // [oc_block][kh][kw][cin][kOcBlock]
  std::vector<double> packed_double_;  // the same integers as float64 (exact-sum kernel)
  int64_t max_l1_ = 0;                 // max over output channels of sum |w_q|
  std::vector<int64_t> bias_;
  std::vector<int32_t> shift_;
};

}  // namespace intpath
}  // namespace jpegai
