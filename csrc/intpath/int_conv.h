// Integer Conv2d / ConvTranspose2d layer of the deterministic hyper-synthesis (see docs/integer_path.md).
// Two arithmetics, one per stream format generation:
//  * Arith::exact (versions <= 5): activations int32 Q12, saturated to +-kActLimit; weights int16-range
//    int32 per output channel with a power-of-two scale 2^shift[oc]; accumulation exact (int64, or
//    float64 when a run-time bound proves every partial sum an integer below 2^53).
//  * Arith::int16 (version 6): activations and weights int16 (|v| <= kInt16Limit), accumulation int32.
//    The constructor refuses weights unless, for every output channel and every output phase of a
//    transposed convolution, sum|w| * kInt16Limit + |bias| <= 2^31 - 1: then no partial sum in any order
//    can overflow, so the int16 multiply-add kernels (vpmaddwd) give the exact integers.
// Requantisation (both): round-half-up arithmetic shift by shift[oc] (+ an optional extra shift for the
// output format), ReLU, saturation to the caller's output limit.
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
constexpr int kOcBlock = 6;                                 // output channels per register tile
constexpr int32_t kInt16Limit = 32767;                      // int16 arithmetic: |activation|, |weight| bound
constexpr int64_t kInt16AccLimit = (int64_t(1) << 31) - 1;  // and the bound of every int32 partial sum

enum class Arith { exact = 0, int16 = 1 };

// The sum the int16 bound limits: for one output channel's weights w (cin, kh, kw), the largest sum of |w|
// over the taps one output position meets: all of them, or for a transposed convolution of stride (ry, rx)
// those of one output phase (ky = r mod ry, kx = q mod rx; ry = rx = 1 otherwise), the largest over the
// phases. Acc: the sum's type (int64 for the core's check, double for the quantiser's float weights).
template <class Acc, class T>
Acc max_phase_l1(const T* w, int cin, int kh, int kw, int ry, int rx) {
  Acc best = 0;
  for (int py = 0; py < ry; ++py)
    for (int px = 0; px < rx; ++px) {
      Acc sum = 0;
      for (int ic = 0; ic < cin; ++ic)
        for (int ky = py; ky < kh; ky += ry)
          for (int kx = px; kx < kw; kx += rx) {
            const Acc v = Acc(w[(int64_t(ic) * kh + ky) * kw + kx]);
            sum += v < 0 ? -v : v;
          }
      best = sum > best ? sum : best;
    }
  return best;
}

struct ConvSpec {
  bool transposed = false;
  int cin = 0, cout = 0, kh = 0, kw = 0;
  int sh = 1, sw = 1, ph = 0, pw = 0, oph = 0, opw = 0;
  bool relu = false;
};

class IntConvLayer {
 public:
  // weight_q: gather layout [cout][cin][kh][kw] (a ConvTranspose2d's torch weight must be transposed
  // to this layout by the caller); bias_q: in the accumulator's units; shift: per output channel.
  IntConvLayer(const ConvSpec& spec, std::vector<int32_t> weight_q, std::vector<int64_t> bias_q,
               std::vector<int32_t> shift, Arith arith = Arith::exact);

  const ConvSpec& spec() const { return spec_; }
  Arith arith() const { return arith_; }
  int out_height(int h) const;
  int out_width(int w) const;

  // in: (cin, h, w), |in| <= kActLimit (exact) or kInt16Limit (int16). extra_shift: per output channel
  // additional right shift (or empty). Outputs saturate to +-out_limit.
  // Returns (cout, out_height(h), out_width(w)).
  std::vector<int32_t> forward(const std::vector<int32_t>& in, int h, int w, const std::vector<int32_t>& extra_shift,
                               int32_t out_limit, int threads) const;

 private:
  template <class T>
  std::vector<int32_t> forward_typed(const std::vector<int32_t>& in, int h, int w, int ho, int wo,
                                     const std::vector<int32_t>& extra_shift, int32_t out_limit, int threads) const;
  template <class T>
  const T* packed_weights() const;
  void check_int16_bound(const std::vector<int32_t>& weight_q) const;
  template <class T>
  void pack(const std::vector<int32_t>& weight_q, int lanes, std::vector<T>& out) const;

  ConvSpec spec_;
  Arith arith_ = Arith::exact;
  std::vector<int32_t> packed_;        // exact: [oc_block][kh][kw][cin][kOcBlock]
  std::vector<double> packed_double_;  // exact: the same integers as float64 (exact-sum kernel)
  std::vector<int16_t> packed_pairs_;  // int16: [oc_block][kh][kw][cin / 2][kOcBlock][2] (cin padded to even)
  int64_t max_l1_ = 0;                 // max over output channels of sum |w_q|
  std::vector<int64_t> bias_;
  std::vector<int32_t> shift_;
};

}  // namespace intpath
}  // namespace jpegai
