#include "intpath/int_synthesis.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>

#include "common/cpu.h"
#include "common/parallel.h"
#include "common/portable.h"

namespace jpegai {
namespace intpath {
namespace {

inline void require(bool ok, const std::string& msg) {
  if (!ok) throw std::invalid_argument("IntSynthesis: " + msg);
}

// Element steps run in blocks of this many values per task: coarse enough that a task costs far more
// than its spawn, fine enough that two threads share a Kodak-sized plane evenly.
constexpr int64_t kBlock = int64_t(1) << 16;

// Root exponents: m = n 2^e (n < 2^31, 0 <= e <= 21) is an integer below 2^52, exact as a double, where the
// floor of the correctly rounded root is the exact integer root (the root of a non-square m is at least
// 1 / (2 sqrt(m) + 1) > 2^-27 from the next integer, more than half an ulp), so r = isqrt(m) < 2^26.
constexpr int kMinRootExp = 0, kMaxRootExp = 21;
constexpr int kMaxSquareShift = 30;
constexpr int kMaxOutShift = 52;

}  // namespace

void igdn_squares(const int32_t* x, int64_t n, int square_shift, int32_t* out, int threads) {
  const int64_t half = square_shift > 0 ? int64_t(1) << (square_shift - 1) : 0;
  parallel_for((n + kBlock - 1) / kBlock, threads, [&](int64_t b) {
    const int64_t end = std::min(n, (b + 1) * kBlock);
    for (int64_t i = b * kBlock; i < end; ++i) {
      const int64_t v = (int64_t(x[i]) * x[i] + half) >> square_shift;
      out[i] = int32_t(std::min<int64_t>(v, kInt16Limit));
    }
  });
}

namespace {

// The root-scaled product on doubles, every step exact (so the same on every ISA, with or without FMA
// contraction): r = floor(sqrt(n 2^e)) is the integer root (kMaxRootExp); |x r| < 2^41 and half <= 2^51
// keep x r + half an exact integer; the power-of-two scaling and the floor are exact.
JPEGAI_ALWAYS_INLINE void scale_values(const int32_t* x, const int32_t* norm, int64_t n, double root_scale, double half,
                                       double inv_out, int32_t* out) {
  for (int64_t i = 0; i < n; ++i) {
    const double r = std::floor(std::sqrt(double(std::max(norm[i], 0)) * root_scale));
    const double v = std::floor((double(x[i]) * r + half) * inv_out);
    out[i] = int32_t(std::min(std::max(v, -double(kInt16Limit)), double(kInt16Limit)));
  }
}

void scale_values_portable(const int32_t* x, const int32_t* norm, int64_t n, double root_scale, double half,
                           double inv_out, int32_t* out) {
  scale_values(x, norm, n, root_scale, half, inv_out, out);
}

#if JPEGAI_HAVE_AVX2_CLONE
JPEGAI_TARGET_AVX2 void scale_values_avx2(const int32_t* x, const int32_t* norm, int64_t n, double root_scale,
                                          double half, double inv_out, int32_t* out) {
  scale_values(x, norm, n, root_scale, half, inv_out, out);
}
#endif

}  // namespace

void igdn_scale(const int32_t* x, const int32_t* norm, int C, int64_t plane, const int32_t* root_exp, int out_shift,
                int32_t* out, int threads) {
  const double half = out_shift > 0 ? std::ldexp(1.0, out_shift - 1) : 0.0, inv_out = std::ldexp(1.0, -out_shift);
  const int64_t blocks = (plane + kBlock - 1) / kBlock;
  const bool simd = simd_enabled();
  parallel_for(int64_t(C) * blocks, threads, [&](int64_t task) {
    const int64_t c = task / blocks, b = task % blocks;
    const int64_t begin = c * plane + b * kBlock, n = std::min(plane, (b + 1) * kBlock) - b * kBlock;
    const double root_scale = std::ldexp(1.0, root_exp[c]);
#if JPEGAI_HAVE_AVX2_CLONE
    if (simd) return scale_values_avx2(x + begin, norm + begin, n, root_scale, half, inv_out, out + begin);
#endif
    (void)simd;
    scale_values_portable(x + begin, norm + begin, n, root_scale, half, inv_out, out + begin);
  });
}

void IntSynthesis::add_conv(const ConvSpec& spec, std::vector<int32_t> weight_q, std::vector<int64_t> bias_q,
                            std::vector<int32_t> shift) {
  if (!steps_.empty())
    require(spec.cin == channels_, "convolution input channels " + std::to_string(spec.cin) +
                                       " != previous output channels " + std::to_string(channels_));
  Step s;
  s.conv.emplace_back(spec, std::move(weight_q), std::move(bias_q), std::move(shift), Arith::int16);
  steps_.push_back(std::move(s));
  channels_ = spec.cout;
}

void IntSynthesis::add_igdn(std::vector<int32_t> gamma_q, std::vector<int64_t> beta_q, std::vector<int32_t> norm_shift,
                            int square_shift, std::vector<int32_t> root_exp, int out_shift) {
  require(!steps_.empty() && !steps_.back().igdn, "an IGDN must follow a convolution");
  const int C = channels_;
  require(root_exp.size() == size_t(C), "root_exp must have one exponent per channel");
  for (int32_t e : root_exp) require(e >= kMinRootExp && e <= kMaxRootExp, "root exponent outside [0, 21]");
  require(square_shift >= 0 && square_shift <= kMaxSquareShift, "square shift outside [0, 30]");
  require(out_shift >= 0 && out_shift <= kMaxOutShift, "out shift outside [0, 52]");
  for (int32_t g : gamma_q) require(g >= 0, "gamma must not be negative (the norm must not be)");
  for (int64_t b : beta_q) require(b > 0, "beta must be positive (the norm must not be 0)");
  ConvSpec spec;
  spec.cin = spec.cout = C;
  spec.kh = spec.kw = 1;
  Step s;
  s.igdn = true;
  s.norm.push_back(
      IntIgdn{IntConvLayer(spec, std::move(gamma_q), std::move(beta_q), std::move(norm_shift), Arith::int16),
              square_shift, std::move(root_exp), out_shift});
  steps_.push_back(std::move(s));
}

int IntSynthesis::in_channels() const { return steps_.empty() ? 0 : steps_.front().conv.front().spec().cin; }
int IntSynthesis::out_channels() const { return channels_; }

std::pair<int, int> IntSynthesis::output_size(int h, int w) const {
  for (const Step& s : steps_) {
    if (s.igdn) continue;
    const IntConvLayer& layer = s.conv.front();
    const int64_t nh = layer.out_height(h), nw = layer.out_width(w);
    require(nh > 0 && nw > 0 && nh <= (1 << 20) && nw <= (1 << 20), "a layer output would be empty or huge");
    h = int(nh);
    w = int(nw);
  }
  return {h, w};
}

std::vector<int32_t> IntSynthesis::run(const int32_t* y_q, int h, int w, int32_t out_limit, int threads) const {
  require(!steps_.empty() && !steps_.back().igdn, "the synthesis must end with a convolution");
  require(h > 0 && w > 0, "input height and width must be positive");
  output_size(h, w);  // every intermediate shape checked before any large allocation
  std::vector<int32_t> act(y_q, y_q + size_t(in_channels()) * h * w);
  for (size_t i = 0; i < steps_.size(); ++i) {
    const Step& s = steps_[i];
    if (!s.igdn) {
      const IntConvLayer& layer = s.conv.front();
      const int32_t limit = i + 1 == steps_.size() ? out_limit : kInt16Limit;
      std::vector<int32_t> next = layer.forward(act, h, w, {}, limit, threads);
      h = layer.out_height(h);
      w = layer.out_width(w);
      act.swap(next);
      continue;
    }
    const IntIgdn& g = s.norm.front();
    const int64_t plane = int64_t(h) * w;
    std::vector<int32_t> squares(act.size());
    igdn_squares(act.data(), int64_t(act.size()), g.square_shift, squares.data(), threads);
    const std::vector<int32_t> norm = g.norm.forward(squares, h, w, {}, kActLimit, threads);
    igdn_scale(act.data(), norm.data(), g.norm.spec().cout, plane, g.root_exp.data(), g.out_shift, act.data(), threads);
  }
  return act;
}

}  // namespace intpath
}  // namespace jpegai
