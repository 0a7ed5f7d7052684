#include "intpath/hyper_synthesis.h"

#include <algorithm>
#include <stdexcept>
#include <string>

#include "common/parallel.h"

namespace jpegai {
namespace intpath {
namespace {
// Hot validation loops call this per element: no std::string unless the check fails.
inline void require(bool ok, const char* msg) {
  if (!ok) throw std::invalid_argument(std::string("IntHyperSynthesis: ") + msg);
}
inline void require(bool ok, const std::string& msg) {
  if (!ok) throw std::invalid_argument("IntHyperSynthesis: " + msg);
}
}  // namespace

void IntHyperSynthesis::add_layer(const ConvSpec& spec, std::vector<int32_t> weight_q, std::vector<int64_t> bias_q,
                                  std::vector<int32_t> shift) {
  if (!layers_.empty())
    require(spec.cin == layers_.back().spec().cout, "layer input channels " + std::to_string(spec.cin) +
                                                        " != previous output channels " +
                                                        std::to_string(layers_.back().spec().cout));
  layers_.emplace_back(spec, std::move(weight_q), std::move(bias_q), std::move(shift), arith_);
}

int IntHyperSynthesis::in_channels() const { return layers_.empty() ? 0 : layers_.front().spec().cin; }
int IntHyperSynthesis::out_channels() const { return layers_.empty() ? 0 : layers_.back().spec().cout; }

std::pair<int, int> IntHyperSynthesis::output_size(int h, int w) const {
  for (const auto& layer : layers_) {
    const ConvSpec& s = layer.spec();
    if (!s.transposed) require(h + 2 * s.ph >= s.kh && w + 2 * s.pw >= s.kw, "input smaller than a kernel");
    const int64_t nh = layer.out_height(h), nw = layer.out_width(w);
    require(nh > 0 && nw > 0 && nh <= (1 << 20) && nw <= (1 << 20), "a layer output would be empty or huge");
    h = int(nh);
    w = int(nw);
  }
  return {h, w};
}

HyperOutput IntHyperSynthesis::run(const int32_t* z, int cz, int h, int w, int M, int threads) const {
  require(!layers_.empty(), "no layers");
  require(cz == in_channels(),
          "z_hat has " + std::to_string(cz) + " channels, expected " + std::to_string(in_channels()));
  require(h > 0 && w > 0, "z_hat height and width must be positive");
  require(M > 0 && out_channels() == 2 * M, "last layer must have 2*M output channels");
  output_size(h, w);  // validates every intermediate shape before any large allocation

  const bool int16 = arith_ == Arith::int16;
  std::vector<int32_t> act(size_t(cz) * h * w);
  for (size_t i = 0; i < act.size(); ++i) {
    require(z[i] >= -kZLimit && z[i] <= kZLimit, "z_hat value outside +-2^18");
    act[i] = int16 ? std::min(std::max(z[i] * (int32_t(1) << kInt16ZFracBits), -kInt16Limit), kInt16Limit)
                   : z[i] * (int32_t(1) << kActFracBits);
  }
  for (size_t l = 0; l < layers_.size(); ++l) {
    const IntConvLayer& layer = layers_[l];
    std::vector<int32_t> extra;
    if (l + 1 == layers_.size()) {
      // Last layer: mu stays Q12; log2sigma goes to Q8 in the same (single) rounding.
      extra.assign(size_t(2 * M), 0);
      for (int c = M; c < 2 * M; ++c) extra[c] = kActFracBits - kLog2SigmaFracBits;
    }
    const int32_t limit = int16 && l + 1 < layers_.size() ? kInt16Limit : kActLimit;
    std::vector<int32_t> next = layer.forward(act, h, w, extra, limit, threads);
    h = layer.out_height(h);
    w = layer.out_width(w);
    act.swap(next);
  }
  HyperOutput out;
  out.channels = M;
  out.height = h;
  out.width = w;
  const size_t half = size_t(M) * h * w;
  out.mu_q.assign(act.begin(), act.begin() + half);
  out.log2sigma_q.assign(act.begin() + half, act.end());
  return out;
}

void scale_indexes(const int32_t* log2sigma_q, const int32_t* log2step_q, int M, int64_t plane, uint8_t* out,
                   int threads) {
  parallel_for(M, threads, [&](int64_t c) {
    const int64_t step = log2step_q[c];
    const int32_t* src = log2sigma_q + c * plane;
    uint8_t* dst = out + c * plane;
    for (int64_t i = 0; i < plane; ++i) {
      int64_t idx = (int64_t(src[i]) - step + kScaleIndexOffset) >> kScaleIndexShift;  // arithmetic shift: floor
      idx = idx < 0 ? 0 : (idx > 75 ? 75 : idx);
      dst[i] = uint8_t(idx);
    }
  });
}

}  // namespace intpath
}  // namespace jpegai
