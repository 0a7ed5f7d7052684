// Integer synthesis g_s (issue 33; docs/integer_path.md, "Integer synthesis"): int16 convolutions (int16
// activations and weights, int32 sums that cannot overflow: IntConvLayer's int16 bound, checked here too)
// chained with an integer IGDN, y = x * sqrt(beta + gamma @ x^2), in three steps:
//   s_j  = min((x_j^2 + 2^(k-1)) >> k, 32767)                      squares as int16 (k = square_shift)
//   n_i  = requantise(beta_q + gamma_q @ s, norm_shift)              an int16 1x1 convolution, same bound
//   r_i  = isqrt(n_i * 2^e_i)                                         Q16 root (0 <= e_i <= 21: exact in doubles)
//   y_i  = clamp((x_i * r_i + 2^(t-1)) >> t, +-32767)                t = out_shift
// Every step is exact integer arithmetic, so the output is the same on every machine, SIMD level and
// thread count.
//
// The engine has the float engine's structure (csrc/conv/float_transform.h, docs/conv_engine.md): NHWC
// int16 activations with a zero border (channels padded to even: NHWC keeps each pair side by side), a
// transposed stride-2 convolution as four sub-pixel passes (one for a layer of <= 4 output channels),
// one register tile for every pass (pair_kernel.h), requantisation straight into the next layer's buffer,
// and the IGDN applied row by row by the task that wrote the rows.
#pragma once
#include <cstdint>
#include <utility>
#include <vector>

#include "conv/crop_plan.h"
#include "intpath/int_conv.h"

namespace jpegai {
namespace intpath {

// Root exponents: m = n 2^e (n < 2^31, 0 <= e <= 21) is an integer below 2^52, exact as a double, where the
// floor of the correctly rounded root is the exact integer root (the root of a non-square m is at least
// 1 / (2 sqrt(m) + 1) > 2^-27 from the next integer, more than half an ulp), so r = isqrt(m) < 2^26.
constexpr int kMinRootExp = 0, kMaxRootExp = 21;

// Activation storage a caller lends to successive runs (one at a time), so that a decoder's tile loop
// allocates its activations once instead of per tile and layer (fresh pages cost ~10 % of an 8K decode
// in page faults and the kernel's zeroing). Freed with the object.
struct SynthesisScratch {
  std::vector<int16_t> act[2];  // a layer's input and output, alternating
};

class IntSynthesis {
 public:
  // A convolution, quantised by the caller (intpath.quantise_conv_int16): weight_q in gather layout
  // (cout, cin, k, k), bias_q in the accumulator's units, shift per output channel. Supported: a
  // ConvTranspose2d of stride 2, padding k/2, output_padding 1, or a Conv2d of stride 1, padding k/2; k odd.
  void add_conv(const ConvSpec& spec, const std::vector<int32_t>& weight_q, const std::vector<int64_t>& bias_q,
                const std::vector<int32_t>& shift);
  // An IGDN over the last convolution's C channels: gamma_q (C, C) >= 0 and beta_q (C,) > 0 under the int16
  // bound, norm_shift (C,), square_shift k, root_exp e (C,), out_shift t.
  void add_igdn(const std::vector<int32_t>& gamma_q, const std::vector<int64_t>& beta_q,
                const std::vector<int32_t>& norm_shift, int square_shift, const std::vector<int32_t>& root_exp,
                int out_shift);

  int in_channels() const;
  int out_channels() const;
  int num_steps() const;
  std::pair<int, int> output_size(int h, int w) const;

  using Rect = conv::Rect;

  // y_q: (cin, h, w), |y_q| <= 32767. Returns (cout, H, W): the last convolution's requantised output,
  // saturated to +-out_limit (<= 2^30).
  std::vector<int32_t> run(const int32_t* y_q, int h, int w, int32_t out_limit, int threads) const;
  // The same integers for the output rectangle `crop` of (H, W) alone: (cout, crop.h(), crop.w()). Each
  // layer computes only the positions the layers after it read for `crop` (conv/crop_plan.h), so a tile
  // decoded with a halo does not pay the halo at every layer: the halo's work shrinks with depth.
  std::vector<int32_t> run(const int32_t* y_q, int h, int w, int32_t out_limit, int threads, const Rect& crop,
                           SynthesisScratch* scratch = nullptr) const;

  struct Pass {
    std::vector<int> dy, dx;
    std::vector<int16_t> w;          // [ntaps][npairs][16 lanes][2] (the SIMD tile's layout)
    std::vector<int16_t> w_by_lane;  // [ntaps][16 lanes][2 npairs] (the portable tile's: dot products)
    int32_t bias[16] = {};           // the accumulator's units
    // The rounding shift s per lane as (v >> s) + ((v >> s1) & bit): s1 = max(s - 1, 0), bit = s > 0, so one
    // branch-free expression serves s = 0 too and the lanes vectorise.
    int32_t shift[16] = {}, shift1[16] = {}, round_bit[16] = {};
    int chan[16], oy[16] = {}, ox[16] = {};  // chan < 0: lane unused
    bool contiguous = false;                 // lanes 0 .. n_used-1 are channels chan[0].. at one (oy, ox)
    int n_used = 0;
  };
  struct Igdn {
    std::vector<Pass> norm;  // one tap over the squares
    int square_shift = 0, out_shift = 0;
    std::vector<int32_t> root_exp;
  };
  struct Layer {
    ConvSpec spec;
    int border = 0;  // zero border this layer's input needs
    std::vector<Pass> passes;
    bool igdn = false;
    Igdn gdn;
  };

 private:
  std::vector<Layer> layers_;
};

}  // namespace intpath
}  // namespace jpegai
