// Integer synthesis g_s (issue 33; docs/integer_path.md, "Integer synthesis"): the int16 convolutions of
// IntConvLayer (Arith::int16: int16 activations and weights, int32 sums that cannot overflow) chained with
// an integer IGDN, y = x * sqrt(beta + gamma @ x^2), in three steps:
//   s_j  = min((x_j^2 + 2^(k-1)) >> k, 32767)                      squares as int16 (k = square_shift)
//   n_i  = IntConvLayer 1x1 over s (weights gamma_q, bias beta_q)   int16 x int16 -> int32, no overflow
//   r_i  = isqrt(n_i * 2^e_i)                                         Q16 root (e_i <= 21: exact in doubles)
//   y_i  = clamp((x_i * r_i + 2^(t-1)) >> t, +-32767)                t = out_shift, int64 product
// Every step is exact integer arithmetic, so the output is the same on every machine, SIMD level and
// thread count. The float64 simulation that chose this design and its
// RD cost: docs/integer_path.md.
#pragma once
#include <cstdint>
#include <vector>

#include "intpath/int_conv.h"

namespace jpegai {
namespace intpath {

constexpr int kRootFracBits = 16;  // r_i is Q16

struct IntIgdn {
  IntConvLayer norm;              // 1x1, cin = cout = C, Arith::int16
  int square_shift = 0;           // k
  std::vector<int32_t> root_exp;  // e_i per channel (may be negative)
  int out_shift = 0;              // t
};

class IntSynthesis {
 public:
  // A convolution (Arith::int16; the caller quantised it: intpath.quantise_conv_int16) ...
  void add_conv(const ConvSpec& spec, std::vector<int32_t> weight_q, std::vector<int64_t> bias_q,
                std::vector<int32_t> shift);
  // ... or an IGDN over the last convolution's channels: gamma_q (C, C) int16-range with the int16 bound,
  // beta_q (C,), norm_shift (C,) the norm's requantisation, square_shift k, root_exp e (C,), out_shift t.
  void add_igdn(std::vector<int32_t> gamma_q, std::vector<int64_t> beta_q, std::vector<int32_t> norm_shift,
                int square_shift, std::vector<int32_t> root_exp, int out_shift);

  int in_channels() const;
  int out_channels() const;
  int num_steps() const { return int(steps_.size()); }
  std::pair<int, int> output_size(int h, int w) const;

  // y_q: (cin, h, w) int16-range integers (the first layer's input format). Returns (cout, H, W): the last
  // layer's requantised output, saturated to +-out_limit.
  std::vector<int32_t> run(const int32_t* y_q, int h, int w, int32_t out_limit, int threads) const;

 private:
  struct Step {
    bool igdn = false;
    std::vector<IntConvLayer> conv;  // one element when !igdn (IntConvLayer has no default constructor)
    std::vector<IntIgdn> norm;       // one element when igdn
  };
  std::vector<Step> steps_;
  int channels_ = 0;  // the last convolution's cout
};

// The IGDN's element steps (exposed for tests): squares of x (n values) and the root-scaled product of x
// and the norm n (C planes of `plane` values each).
void igdn_squares(const int32_t* x, int64_t n, int square_shift, int32_t* out, int threads);
void igdn_scale(const int32_t* x, const int32_t* norm, int C, int64_t plane, const int32_t* root_exp, int out_shift,
                int32_t* out, int threads);

}  // namespace intpath
}  // namespace jpegai
