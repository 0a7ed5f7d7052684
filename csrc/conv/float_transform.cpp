#include "conv/float_transform.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <memory>
#include <stdexcept>
#include <string>
#include <utility>

#include "common/cpu.h"
#include "common/parallel.h"
#include "conv/pass_geometry.h"

namespace jpegai {
namespace conv {
namespace {

void require(bool ok, const std::string& msg) {
  if (!ok) throw std::invalid_argument("conv engine: " + msg);
}

// NHWC activation with a zero border of `border` pixels and slack after the last row, so a
// register tile that runs past the right edge reads (and discards) in-bounds values.
struct Activation {
  int h = 0, w = 0, c = 0, border = 0;
  int64_t row_stride = 0;  // floats per padded row
  std::vector<float> own;
  std::vector<float>& data;  // its own storage or a lent vector (TransformScratch), zeroed either way

  Activation(int h_, int w_, int c_, int border_, int64_t slack, std::vector<float>* storage)
      : h(h_), w(w_), c(c_), border(border_), data(storage ? *storage : own) {
    row_stride = int64_t(w + 2 * border) * c;
    data.assign(size_t(row_stride) * (h + 2 * border) + size_t(slack), 0.0f);
  }
  Activation(const Activation&) = delete;
  Activation& operator=(const Activation&) = delete;
  float* at(int y, int x) { return data.data() + (int64_t(y) + border) * row_stride + (int64_t(x) + border) * c; }
  const float* at(int y, int x) const {
    return data.data() + (int64_t(y) + border) * row_stride + (int64_t(x) + border) * c;
  }
};

constexpr int kColBlock = 8 * kTileR;  // grid columns per cache block

// A layer's output size along one axis for an input of n: a transposed stride-2 conv doubles it, a conv of
// stride s with padding k/2 gives ceil(n / s).
int64_t layer_out(const LayerSpec& s, int64_t n) { return s.transposed ? 2 * n : (n - 1) / s.stride + 1; }

int64_t slack_for(int c) { return int64_t(2 * kTileR + 8) * c + 64; }

// Where a layer writes: the next layer's NHWC input, or the caller's planar output.
// Grid position (i, j) of the source (lane offset (oy, ox)) lands at (mul i + oy + y_off, mul j + ox + x_off):
// the offsets carry the source's and the sink's origins (a cropped run, crop_plan.h).
struct Sink {
  Activation* act = nullptr;
  float* planar = nullptr;
  int ho = 0, wo = 0;
  int y_off = 0, x_off = 0;
};

void finish_pass(Pass& p) {
  p.n_used = 0;
  for (int l = 0; l < kLanes; ++l) p.n_used += p.chan[l] >= 0;
  p.contiguous = true;
  for (int l = 0; l < p.n_used; ++l)
    p.contiguous = p.contiguous && p.chan[l] == p.chan[0] + l && p.oy[l] == p.oy[0] && p.ox[l] == p.ox[0];
  for (int l = p.n_used; l < kLanes; ++l) p.contiguous = p.contiguous && p.chan[l] < 0;
}

Pass empty_pass(size_t ntaps, int cin) {
  Pass p;
  p.w.assign(ntaps * cin * kLanes, 0.0f);
  p.bias.assign(kLanes, 0.0f);
  p.chan.assign(kLanes, -1);
  p.oy.assign(kLanes, 0);
  p.ox.assign(kLanes, 0);
  return p;
}

// The passes of `geometry` (pass_geometry.h) with their weights (weight(ic, oc, ky, kx)) and biases.
template <class Weight>
std::vector<Pass> make_passes(const std::vector<PassGeometry>& geometry, int cin, int k, Weight weight,
                              const float* bias) {
  std::vector<Pass> out;
  for (const PassGeometry& g : geometry) {
    Pass ps = empty_pass(g.taps.size(), cin);
    for (const PassTap& t : g.taps) {
      ps.dy.push_back(t.dy);
      ps.dx.push_back(t.dx);
    }
    for (int l = 0; l < kLanes; ++l) {
      const PassLane& lane = g.lanes[size_t(l)];
      if (lane.chan < 0) continue;
      ps.chan[l] = lane.chan;
      ps.oy[l] = lane.oy;
      ps.ox[l] = lane.ox;
      ps.bias[l] = bias[lane.chan];
      for (size_t t = 0; t < g.taps.size(); ++t) {
        int ky, kx;
        if (!kernel_entry(k, g.taps[t], lane, &ky, &kx)) continue;
        for (int ic = 0; ic < cin; ++ic) ps.w[(t * cin + ic) * kLanes + l] = weight(ic, lane.chan, ky, kx);
      }
    }
    finish_pass(ps);
    out.push_back(std::move(ps));
  }
  return out;
}

// Stores one register tile (kTileR grid positions starting at column j0 of grid row i; n valid).
void store_tile(const Pass& p, const float* tile, int i, int j0, int n, int mul, const Sink& sink) {
  const int y0 = mul * i + sink.y_off;
  if (sink.act) {  // an activation sink is exactly the positions its layer's grid writes
    Activation& a = *sink.act;
    for (int r = 0; r < n; ++r) {
      const int x0 = mul * (j0 + r) + sink.x_off;
      if (p.contiguous) {
        std::memcpy(a.at(y0 + p.oy[0], x0 + p.ox[0]) + p.chan[0], tile + r * kLanes, sizeof(float) * p.n_used);
      } else {
        for (int l = 0; l < kLanes; ++l)
          if (p.chan[l] >= 0) a.at(y0 + p.oy[l], x0 + p.ox[l])[p.chan[l]] = tile[r * kLanes + l];
      }
    }
    return;
  }
  const int64_t plane = int64_t(sink.ho) * sink.wo;
  for (int r = 0; r < n; ++r) {
    const int x0 = mul * (j0 + r) + sink.x_off;
    for (int l = 0; l < kLanes; ++l) {
      const int y = y0 + p.oy[l], x = x0 + p.ox[l];
      if (p.chan[l] >= 0 && y >= 0 && y < sink.ho && x >= 0 && x < sink.wo)  // a crop may end inside a pair
        sink.planar[p.chan[l] * plane + int64_t(y) * sink.wo + x] = tile[r * kLanes + l];
    }
  }
}

// Runs every pass of a layer on grid row i: tiles of kTileR grid columns, reading the input at
// (in_mul * i, in_mul * j) + tap offsets and storing at (out_mul * i, out_mul * j) + lane offsets.
// The source pixel of grid column j is row_base + j px_stride + col_off (col_off <= 0 when the source array
// starts right of column 0: a cropped run; the sum is never negative, so no pointer leaves the array).
void run_row(const std::vector<Pass>& passes, TileFn kernel, const float* row_base, int64_t px_stride, int64_t col_off,
             int64_t row_stride, int cin_stride, int cin, int j_begin, int j_end, int i, int out_mul,
             const Sink& sink) {
  float tile[kTileR * kLanes];
  std::vector<int64_t> off;
  std::vector<TileArgs> args(passes.size());
  for (size_t k = 0; k < passes.size(); ++k) {
    const Pass& p = passes[k];
    for (size_t t = 0; t < p.dy.size(); ++t) off.push_back(p.dy[t] * row_stride + int64_t(p.dx[t]) * cin_stride);
    args[k].ntaps = int(p.dy.size());
    args[k].cin = cin;
    args[k].px_stride = px_stride;
    args[k].w = p.w.data();
    args[k].bias = p.bias.data();
  }
  for (size_t k = 0, t0 = 0; k < passes.size(); t0 += passes[k].dy.size(), ++k) args[k].tap_off = off.data() + t0;
  // Column blocks: the block's input rows stay in L1/L2 while every pass (phase x 16 channels)
  // sweeps it, and each pass's weights are reused by all the block's tiles.
  for (int jb = j_begin; jb < j_end; jb += kColBlock) {
    const int je = std::min(j_end, jb + kColBlock);
    for (size_t k = 0; k < passes.size(); ++k) {
      TileArgs a = args[k];
      for (int j0 = jb; j0 < je; j0 += kTileR) {
        a.src = row_base + (j0 * px_stride + col_off);
        kernel(a, tile);
        store_tile(passes[k], tile, i, j0, std::min(kTileR, je - j0), out_mul, sink);
      }
    }
  }
}

// (I)GDN in place on output row y of `a`: x2 = x*x, norm = beta + gamma @ x2 (the same tile kernel,
// one tap), x = x * sqrt(norm) or x / sqrt(norm).
void gdn_row(const Gdn& g, TileFn kernel, GdnFn epilogue, Activation& a, int y) {
  thread_local std::vector<float> x2;
  const int c = a.c;
  x2.assign(size_t(a.w) * c + size_t(slack_for(c)), 0.0f);
  float* row = a.at(y, 0);
  for (int64_t k = 0; k < int64_t(a.w) * c; ++k) x2[k] = row[k] * row[k];
  int64_t off0 = 0;
  float tile[kTileR * kLanes];
  for (const Pass& p : g.passes) {
    TileArgs args;
    args.tap_off = &off0;
    args.ntaps = 1;
    args.cin = c;
    args.px_stride = c;
    args.w = p.w.data();
    args.bias = p.bias.data();
    for (int j0 = 0; j0 < a.w; j0 += kTileR) {
      args.src = x2.data() + int64_t(j0) * c;
      kernel(args, tile);
      const int n = std::min(kTileR, a.w - j0);
      for (int r = 0; r < n; ++r)
        epilogue(tile + r * kLanes, row + int64_t(j0 + r) * c + p.chan[0], p.n_used, g.inverse);
    }
  }
}

}  // namespace

void FloatTransform::add_conv(const LayerSpec& s, const float* weight, const float* bias) {
  require(s.cin > 0 && s.cout > 0 && s.cin <= 4096 && s.cout <= 4096, "channels must be in [1, 4096]");
  require(s.k >= 1 && s.k <= 15 && s.k % 2 == 1, "kernel size must be odd and <= 15");
  require(layers_.empty() || layers_.back().spec.cout == s.cin, "cin does not match the previous layer's cout");
  const int k = s.k;
  if (s.transposed)
    require(s.stride == 2, "ConvTranspose2d stride must be 2");
  else
    require(s.stride == 1 || s.stride == 2, "Conv2d stride must be 1 or 2");
  Layer L;
  L.spec = s;
  L.border = s.transposed ? subpixel_border(k) : k / 2;
  // weight: (cout, cin, k, k) for Conv2d, (cin, cout, k, k) for ConvTranspose2d
  L.passes = make_passes(
      s.transposed ? transposed_passes(k, s.cout, kLanes) : conv_passes(k, s.cout, kLanes), s.cin, k,
      [&](int ic, int oc, int ky, int kx) {
        return s.transposed ? weight[((size_t(ic) * s.cout + oc) * k + ky) * k + kx]
                            : weight[((size_t(oc) * s.cin + ic) * k + ky) * k + kx];
      },
      bias);
  layers_.push_back(std::move(L));
}

void FloatTransform::add_gdn(bool inverse, const float* beta, const float* gamma, int channels) {
  require(!layers_.empty(), "GDN needs a preceding convolution");
  Layer& L = layers_.back();
  require(!L.gdn.present, "the last layer already has a GDN");
  require(channels == L.spec.cout, "GDN channels must equal the last layer's cout");
  for (int c = 0; c < channels; ++c) require(std::isfinite(beta[c]) && beta[c] > 0.0f, "GDN beta must be positive");
  L.gdn.present = true;
  L.gdn.inverse = inverse;
  // the norm is a 1x1 convolution of x^2: weight (j, i) = gamma[i][j], bias beta
  L.gdn.passes = make_passes(
      conv_passes(1, channels, kLanes), channels, 1,
      [&](int j, int i, int, int) { return gamma[size_t(i) * channels + j]; }, beta);
}

void FloatTransform::add_relu() {
  require(!layers_.empty(), "ReLU needs a preceding convolution");
  Layer& L = layers_.back();
  require(!L.gdn.present && !L.relu, "the last layer already has an activation");
  L.relu = true;
}

int FloatTransform::in_channels() const { return layers_.empty() ? 0 : layers_.front().spec.cin; }
int FloatTransform::out_channels() const { return layers_.empty() ? 0 : layers_.back().spec.cout; }

std::pair<int, int> FloatTransform::output_size(int h, int w) const {
  require(!layers_.empty(), "empty transform");
  require(h > 0 && w > 0, "input height and width must be positive");
  int64_t hh = h, ww = w;
  for (const Layer& L : layers_) {
    hh = layer_out(L.spec, hh);
    ww = layer_out(L.spec, ww);
    require(hh <= (1 << 20) && ww <= (1 << 20), "image too large");
  }
  return {int(hh), int(ww)};
}

void FloatTransform::run(const float* in, int h, int w, float* out, int threads) const {
  const auto [ho, wo] = output_size(h, w);
  Rect all;
  all.y1 = ho;
  all.x1 = wo;
  run(in, h, w, out, threads, all);
}

void FloatTransform::run(const float* in, int h, int w, float* out, int threads, const Rect& crop,
                         TransformScratch* scratch) const {
  require(threads >= 1, "threads must be >= 1");
  const auto [out_h, out_w] = output_size(h, w);
  require(inside(crop, out_h, out_w), "crop must be a non-empty rectangle inside the output");
  require(!layers_.back().gdn.present && !layers_.back().relu, "an activation after the last layer is not supported");
  const size_t n = layers_.size();
  std::vector<LayerReach> reach(n);
  for (size_t li = 0; li < n; ++li) {
    const LayerSpec& s = layers_[li].spec;
    LayerReach& r = reach[li];
    r.in_mul = s.transposed ? 1 : s.stride;
    r.out_mul = s.transposed ? 2 : 1;
    // sizes within output_size's bound (checked above), so they fit int
    r.in_h = li == 0 ? h : int(layer_out(layers_[li - 1].spec, reach[li - 1].in_h));
    r.in_w = li == 0 ? w : int(layer_out(layers_[li - 1].spec, reach[li - 1].in_w));
    set_taps(r, layers_[li].passes);
  }
  const CropPlan plan = plan_crop(reach, crop);
  const TileFn kernel = tile_kernel(current_isa());
  const GdnFn epilogue = gdn_kernel(current_isa());
  // Planar input -> NHWC with the first layer's border.
  // layer li reads slot li % 2 and writes slot (li + 1) % 2 of the scratch
  auto slot = [&](size_t k) { return scratch ? &scratch->act[k % 2] : nullptr; };
  auto cur = std::make_unique<Activation>(h, w, layers_[0].spec.cin, layers_[0].border, slack_for(layers_[0].spec.cin),
                                          slot(0));
  {
    Activation& a = *cur;
    parallel_for(h, threads, [&](int64_t y) {
      for (int x = 0; x < w; ++x) {
        float* px = a.at(int(y), x);
        for (int c = 0; c < a.c; ++c) px[c] = in[(int64_t(c) * h + y) * w + x];
      }
    });
  }
  Rect src_rect;  // the positions `cur` holds, in its layer's input coordinates
  src_rect.y1 = h;
  src_rect.x1 = w;
  for (size_t li = 0; li < n; ++li) {
    const Layer& L = layers_[li];
    const bool last = li + 1 == n;
    const int in_mul = reach[li].in_mul, out_mul = reach[li].out_mul;
    const Rect& grid = plan.grid[li];
    const Rect& dst_rect = last ? crop : plan.written[li];
    std::unique_ptr<Activation> next;
    Sink sink;
    sink.ho = dst_rect.h();
    sink.wo = dst_rect.w();
    // grid row i (of the whole layer) reads source row in_mul i - src_rect.y0 and writes out_mul i + oy
    sink.y_off = -dst_rect.y0;
    sink.x_off = -dst_rect.x0;
    if (last) {
      sink.planar = out;
    } else {
      next = std::make_unique<Activation>(sink.ho, sink.wo, L.spec.cout, layers_[li + 1].border, slack_for(L.spec.cout),
                                          slot(li + 1));
      sink.act = next.get();
    }
    const Activation& src = *cur;
    parallel_for(grid.h(), threads, [&](int64_t k) {
      const int i = grid.y0 + int(k);
      // the source array starts at src_rect: grid (i, j) reads source (in_mul i - y0, in_mul j - x0) + taps
      const float* row_base = src.at(in_mul * i - src_rect.y0, 0);
      run_row(L.passes, kernel, row_base, int64_t(in_mul) * src.c, -int64_t(src_rect.x0) * src.c, src.row_stride, src.c,
              src.c, grid.x0, grid.x1, i, out_mul, sink);
      if (L.gdn.present && sink.act)
        for (int r = 0; r < out_mul; ++r) gdn_row(L.gdn, kernel, epilogue, *sink.act, out_mul * i + r + sink.y_off);
      if (L.relu && sink.act)
        for (int r = 0; r < out_mul; ++r) {
          float* row = sink.act->at(out_mul * i + r + sink.y_off, 0);
          for (int64_t k2 = 0; k2 < int64_t(sink.act->w) * sink.act->c; ++k2) row[k2] = std::max(row[k2], 0.0f);
        }
    });
    cur = std::move(next);
    src_rect = plan.written[li];
  }
}

}  // namespace conv
}  // namespace jpegai
