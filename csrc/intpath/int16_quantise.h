// The int16 arithmetic's per-output-channel weight quantisation (docs/integer_path.md, "Int16
// hyper-synthesis"): the rule that turns a convolution's float weights into the integers that the
// hyper-synthesis (format version 6) and the synthesis (version 7) run, so it fixes decoded pixels. Python's
// jpegai_fast.core.intpath.quantise_conv_int16 calls it (a decoder quantises its model once per process: in
// numpy this was ~0.05 s of every command-line decode).
#pragma once
#include <cstdint>
#include <vector>

namespace jpegai {
namespace intpath {

// The largest weight exponent tried (weights are bounded by the sums below long before).
constexpr int kInt16ShiftMax = 30;

struct Int16Weights {
  std::vector<int32_t> weight_q;  // (cout, cin, kh, kw), |w_q| <= kInt16Limit
  std::vector<int64_t> bias_q;    // (cout,) in the accumulator's units
  std::vector<int32_t> shift;     // (cout,) s + frac_in - frac_out
};

// weight: gather layout (cout, cin, kh, kw) float64 (a ConvTranspose2d's transposed, not flipped); bias:
// (cout,) or null. Per output channel the exponent s is the largest in [max(0, frac_out - frac_in),
// kInt16ShiftMax] with, for w_q = floor(w 2^s + 1/2) and b_q = floor(b 2^(s + frac_in) + 1/2) (in doubles, as
// the rule was written in numpy), max |w_q| <= kInt16Limit and phase_l1(w_q) kInt16Limit + |b_q| <=
// kInt16AccLimit, where phase_l1 is the sum of |w_q| over all taps for a convolution and, for a transposed
// one of stride (sy, sx), the largest such sum over the taps of one output phase (ky = py mod sy, kx = px mod
// sx). Both conditions only tighten as s grows, so stepping down from any start at or above the answer finds
// it; the start is a proven upper bound (see the .cpp). Throws std::invalid_argument when no s fits.
Int16Weights quantise_conv_int16(const double* weight, int cout, int cin, int kh, int kw, const double* bias,
                                 bool transposed, int sy, int sx, int frac_in, int frac_out);

}  // namespace intpath
}  // namespace jpegai
