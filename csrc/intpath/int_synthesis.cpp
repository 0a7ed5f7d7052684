#include "intpath/int_synthesis.h"

#include <algorithm>
#include <cmath>
#include <memory>
#include <stdexcept>
#include <string>

#include "common/cpu.h"
#include "common/parallel.h"
#include "common/portable.h"
#include "conv/pass_geometry.h"
#include "intpath/pair_kernel.h"

#if JPEGAI_HAVE_AVX2_CLONE
#include <immintrin.h>
#endif

namespace jpegai {
namespace intpath {
namespace {

void require(bool ok, const std::string& msg) {
  if (!ok) throw std::invalid_argument("IntSynthesis: " + msg);
}

constexpr int kL = kPairLanes, kR = kPairTileR;
constexpr int kColBlock = 8 * kR;  // grid columns per cache block
constexpr int kMaxSquareShift = 30;
constexpr int kMaxOutShift = 52;

int even(int c) { return c + (c & 1); }
int64_t slack_for(int c) { return int64_t(2 * kR + 8) * c + 64; }

// NHWC int16 activation, channels padded to even, a zero border and slack after the last row, so a tile
// running past the right edge reads (and discards) in-bounds values. Its storage is its own or a lent
// vector (SynthesisScratch), zeroed either way.
struct Act {
  int h = 0, w = 0, c = 0, border = 0;
  int64_t row_stride = 0;
  std::vector<int16_t> own;
  std::vector<int16_t>& data;
  Act(int h_, int w_, int c_, int border_, std::vector<int16_t>* storage)
      : h(h_), w(w_), c(even(c_)), border(border_), data(storage ? *storage : own) {
    row_stride = int64_t(w + 2 * border) * c;
    data.assign(size_t(row_stride) * (h + 2 * border) + size_t(slack_for(c)), 0);
  }
  Act(const Act&) = delete;
  Act& operator=(const Act&) = delete;
  int16_t* at(int y, int x) { return data.data() + (int64_t(y) + border) * row_stride + (int64_t(x) + border) * c; }
  const int16_t* at(int y, int x) const {
    return data.data() + (int64_t(y) + border) * row_stride + (int64_t(x) + border) * c;
  }
};

// Where a layer writes: the next layer's input, or the caller's planar int32 output. Grid position (i, j) of the
// source's array (lane offset (oy, ox)) lands at (mul i + oy + y_off, mul j + ox + x_off) of the sink: the offsets
// carry the source's and the sink's origins in the layer's coordinates (a cropped run, IntSynthesis::run).
struct Sink {
  Act* act = nullptr;
  int32_t* planar = nullptr;
  int ho = 0, wo = 0;
  int y_off = 0, x_off = 0;
  int32_t limit = kInt16Limit;
};

using Pass = IntSynthesis::Pass;

Pass empty_pass(size_t ntaps, int cin) {
  Pass p;
  p.w.assign(ntaps * size_t(even(cin) / 2) * kL * 2, 0);
  p.w_by_lane.assign(p.w.size(), 0);
  std::fill(p.chan, p.chan + kL, -1);
  return p;
}

void set_weight(Pass& p, size_t t, int cin, int ic, int lane, int32_t v) {
  p.w[((t * size_t(even(cin) / 2) + size_t(ic / 2)) * kL + lane) * 2 + ic % 2] = int16_t(v);
  p.w_by_lane[(t * kL + size_t(lane)) * size_t(even(cin)) + size_t(ic)] = int16_t(v);
}

void set_lane(Pass& p, int lane, int chan, int64_t bias, int shift) {
  p.chan[lane] = chan;
  p.bias[lane] = int32_t(bias);  // |bias| <= 2^31 - 1: the int16 bound (IntConvLayer) was checked first
  p.shift[lane] = shift;
  p.shift1[lane] = shift > 0 ? shift - 1 : 0;
  p.round_bit[lane] = shift > 0;
}

void finish_pass(Pass& p) {
  p.n_used = 0;
  for (int l = 0; l < kL; ++l) p.n_used += p.chan[l] >= 0;
  p.contiguous = true;
  for (int l = 0; l < kL; ++l)
    p.contiguous =
        p.contiguous &&
        (l < p.n_used ? p.chan[l] == p.chan[0] + l && p.oy[l] == p.oy[0] && p.ox[l] == p.ox[0] : p.chan[l] < 0);
}

// The passes of `geometry` (conv/pass_geometry.h) with their int16 weights (weight(ic, oc, ky, kx)), biases and
// shifts per output channel.
template <class Weight>
std::vector<Pass> make_passes(const std::vector<conv::PassGeometry>& geometry, int cin, int k, Weight weight,
                              const std::vector<int64_t>& bias, const std::vector<int32_t>& shift) {
  std::vector<Pass> out;
  for (const conv::PassGeometry& g : geometry) {
    Pass ps = empty_pass(g.taps.size(), cin);
    for (const conv::PassTap& t : g.taps) {
      ps.dy.push_back(t.dy);
      ps.dx.push_back(t.dx);
    }
    for (int l = 0; l < kL; ++l) {
      const conv::PassLane& lane = g.lanes[size_t(l)];
      if (lane.chan < 0) continue;
      set_lane(ps, l, lane.chan, bias[lane.chan], shift[lane.chan]);
      ps.oy[l] = lane.oy;
      ps.ox[l] = lane.ox;
      for (size_t t = 0; t < g.taps.size(); ++t) {
        int ky, kx;
        if (!conv::kernel_entry(k, g.taps[t], lane, &ky, &kx)) continue;
        for (int ic = 0; ic < cin; ++ic) set_weight(ps, t, cin, ic, l, weight(ic, lane.chan, ky, kx));
      }
    }
    finish_pass(ps);
    out.push_back(std::move(ps));
  }
  return out;
}

// floor((v + 2^(s-1)) / 2^s) as (v >> s) + bit s-1 of v, v = sum + bias: no wider type and no overflow
// (int_conv.cpp's rule), then saturation to +-limit; all 16 lanes, branch-free.
JPEGAI_ALWAYS_INLINE void requantise_lanes(const int32_t* acc, const Pass& p, int32_t limit, int32_t* v) {
  for (int l = 0; l < kL; ++l) {
    const int32_t x = acc[l] + p.bias[l];
    v[l] = std::min(std::max((x >> p.shift[l]) + ((x >> p.shift1[l]) & p.round_bit[l]), -limit), limit);
  }
}

// A contiguous pass's n rows into an int16 activation: lanes 0 .. n_used-1 at dst[r], side by side.
JPEGAI_ALWAYS_INLINE void store_rows(const Pass& p, const int32_t* tile, int n, int16_t* const* dst) {
  for (int r = 0; r < n; ++r) {
    int32_t v[kL];
    requantise_lanes(tile + r * kL, p, kInt16Limit, v);
    for (int l = 0; l < p.n_used; ++l) dst[r][l] = int16_t(v[l]);
  }
}

// The IGDN's product for a contiguous norm pass's n rows: x[r][l] *= isqrt(norm 2^e) / 2^t, rounded (t =
// shift <= kMaxOutShift). In doubles every value is an exact
// integer (m = n 2^e < 2^52 whose correctly rounded root floors to the integer root, kMaxRootExp;
// x r + 2^(t-1) < 2^42; power-of-two scaling and floor exact), so the AVX2 clone (which may contract into
// FMA) and this portable form, int64 past the root, agree.
JPEGAI_ALWAYS_INLINE void igdn_rows(const Pass& p, const int32_t* tile, int n, const double* scale, int shift,
                                    int16_t* const* x) {
  const int64_t half = shift > 0 ? int64_t(1) << (shift - 1) : 0;
  for (int r = 0; r < n; ++r) {
    int32_t v[kL];
    requantise_lanes(tile + r * kL, p, kActLimit, v);
    for (int l = 0; l < kL; ++l) {
      // The same integers in int64 past the root: truncation is the floor of the non-negative root, and
      // floor((x r + 2^(t-1)) 2^-t) is an arithmetic shift (x r + 2^(t-1) < 2^42); libm's floor and the
      // errno path of sqrt kept the double form scalar and slow (16 % of a portable decode).
      const int64_t root = int64_t(std::sqrt(double(std::max(v[l], 0)) * scale[l]));
      const int64_t y = ((l < p.n_used ? x[r][l] : 0) * root + half) >> shift;
      v[l] = int32_t(std::min<int64_t>(std::max<int64_t>(y, -kInt16Limit), kInt16Limit));
    }
    for (int l = 0; l < p.n_used; ++l) x[r][l] = int16_t(v[l]);
  }
}

void store_rows_portable(const Pass& p, const int32_t* tile, int n, int16_t* const* dst) {
  store_rows(p, tile, n, dst);
}
void igdn_rows_portable(const Pass& p, const int32_t* tile, int n, const double* scale, int shift, int16_t* const* x) {
  igdn_rows(p, tile, n, scale, shift, x);
}
#if JPEGAI_HAVE_AVX2_CLONE
JPEGAI_TARGET_AVX2 void store_rows_avx2(const Pass& p, const int32_t* tile, int n, int16_t* const* dst) {
  store_rows(p, tile, n, dst);
}
// igdn_rows in intrinsics (the compiler keeps libm's errno path for the square root, which stops it from
// vectorising the loop): the same operations, 4 lanes at a time.
JPEGAI_TARGET_AVX2 void igdn_rows_avx2(const Pass& p, const int32_t* tile, int n, const double* scale, int shift,
                                       int16_t* const* x) {
  // 2^(t-1) and 2^-t exactly (t <= kMaxOutShift = 52), without a libm call per tile
  const double half = shift > 0 ? double(int64_t(1) << (shift - 1)) : 0.0, inv = 1.0 / double(int64_t(1) << shift);
  const __m256d half_v = _mm256_set1_pd(half), inv_v = _mm256_set1_pd(inv);
  const __m256d lo = _mm256_set1_pd(-double(kInt16Limit)), hi = _mm256_set1_pd(double(kInt16Limit));
  for (int r = 0; r < n; ++r) {
    int32_t v[kL], xs[kL] = {}, out[kL];
    requantise_lanes(tile + r * kL, p, kActLimit, v);
    for (int l = 0; l < p.n_used; ++l) xs[l] = x[r][l];
    for (int q = 0; q < kL; q += 4) {
      const __m128i norm = _mm_max_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(v + q)), _mm_setzero_si128());
      const __m256d root =
          _mm256_floor_pd(_mm256_sqrt_pd(_mm256_mul_pd(_mm256_cvtepi32_pd(norm), _mm256_loadu_pd(scale + q))));
      const __m256d xv = _mm256_cvtepi32_pd(_mm_loadu_si128(reinterpret_cast<const __m128i*>(xs + q)));
      __m256d y = _mm256_floor_pd(_mm256_mul_pd(_mm256_add_pd(_mm256_mul_pd(xv, root), half_v), inv_v));
      y = _mm256_min_pd(_mm256_max_pd(y, lo), hi);
      _mm_storeu_si128(reinterpret_cast<__m128i*>(out + q), _mm256_cvttpd_epi32(y));
    }
    for (int l = 0; l < p.n_used; ++l) x[r][l] = int16_t(out[l]);
  }
}
#endif

// The epilogues of the ISA in use (the same integers in every build).
struct Epilogues {
  void (*store)(const Pass&, const int32_t*, int, int16_t* const*) = store_rows_portable;
  void (*igdn)(const Pass&, const int32_t*, int, const double*, int, int16_t* const*) = igdn_rows_portable;
};

Epilogues epilogues(Isa isa) {
  Epilogues e;
#if JPEGAI_HAVE_AVX2_CLONE
  if (uses_avx2(isa)) {
    e.store = store_rows_avx2;
    e.igdn = igdn_rows_avx2;
  }
#endif
  (void)isa;
  return e;
}

// Stores one register tile (kR grid positions from column j0 of grid row i; n valid), requantised.
void store_tile(const Pass& p, const Epilogues& ep, const int32_t* tile, int i, int j0, int n, int mul,
                const Sink& sink) {
  const int y0 = mul * i + sink.y_off, x0 = mul * j0 + sink.x_off;
  if (sink.act && p.contiguous) {  // an activation sink is exactly the positions its layer's grid writes
    int16_t* dst[kR];
    for (int r = 0; r < n; ++r) dst[r] = sink.act->at(y0 + p.oy[0], x0 + mul * r + p.ox[0]) + p.chan[0];
    ep.store(p, tile, n, dst);
    return;
  }
  const int64_t plane = int64_t(sink.ho) * sink.wo;
  for (int r = 0; r < n; ++r) {
    int32_t v[kL];
    requantise_lanes(tile + r * kL, p, sink.limit, v);
    for (int l = 0; l < kL; ++l) {
      if (p.chan[l] < 0) continue;
      const int y = y0 + p.oy[l], x = x0 + mul * r + p.ox[l];
      if (sink.act)
        sink.act->at(y, x)[p.chan[l]] = int16_t(v[l]);
      else if (y >= 0 && y < sink.ho && x >= 0 && x < sink.wo)  // a crop may end inside a stride-2 pair
        sink.planar[p.chan[l] * plane + int64_t(y) * sink.wo + x] = v[l];
    }
  }
}

// Every pass of a layer on grid row i, columns [j_begin, j_end): tiles of kR grid columns reading the input at
// (in_mul i, in_mul j) plus the taps, storing at (out_mul i, out_mul j) plus the lanes' offsets (Sink).
void run_row(const std::vector<Pass>& passes, PairTileFn kernel, const Epilogues& ep, const Act& src, int in_mul,
             int j_begin, int j_end, int i, int out_mul, const Sink& sink) {
  int32_t tile[kR * kL];
  std::vector<int64_t> off;
  std::vector<PairTileArgs> args(passes.size());
  for (size_t k = 0; k < passes.size(); ++k) {
    const Pass& p = passes[k];
    for (size_t t = 0; t < p.dy.size(); ++t) off.push_back(p.dy[t] * src.row_stride + int64_t(p.dx[t]) * src.c);
    args[k].ntaps = int(p.dy.size());
    args[k].npairs = src.c / 2;
    args[k].px_stride = int64_t(in_mul) * src.c;
    args[k].w = p.w.data();
    args[k].w_by_lane = p.w_by_lane.data();
  }
  for (size_t k = 0, t0 = 0; k < passes.size(); t0 += passes[k].dy.size(), ++k) args[k].tap_off = off.data() + t0;
  const int16_t* row_base = src.at(in_mul * i, 0);
  for (int jb = j_begin; jb < j_end; jb += kColBlock) {
    const int je = std::min(j_end, jb + kColBlock);
    for (size_t k = 0; k < passes.size(); ++k) {
      PairTileArgs a = args[k];
      for (int j0 = jb; j0 < je; j0 += kR) {
        a.src = row_base + j0 * a.px_stride;
        kernel(a, tile);
        store_tile(passes[k], ep, tile, i, j0, std::min(kR, je - j0), out_mul, sink);
      }
    }
  }
}

// The integer IGDN in place on row y of `a` (see the header): squares into a scratch row, the norm by the
// same tile kernel (one tap), then the root-scaled product (igdn_rows; the norm passes are contiguous).
void igdn_row(const IntSynthesis::Igdn& g, PairTileFn kernel, const Epilogues& ep, Act& a, int y) {
  thread_local std::vector<int16_t> sq;  // grown, never cleared: its slack is read only by discarded lanes
  const int c = a.c;
  if (sq.size() < size_t(a.w) * c + size_t(slack_for(c))) sq.resize(size_t(a.w) * c + size_t(slack_for(c)));
  int16_t* row = a.at(y, 0);
  // In int32: x^2 <= 32767^2 < 2^30 and the half <= 2^29 (square_shift <= kMaxSquareShift = 30), so the sum
  // stays below 2^31 and the loop vectorises (it ran in scalar int64 before: 4 % of kodim23's decode).
  static_assert(kMaxSquareShift <= 30, "x^2 + 2^(k-1) must fit int32");
  const int32_t half_sq = g.square_shift > 0 ? int32_t(1) << (g.square_shift - 1) : 0;
  const int shift_sq = g.square_shift;
  const int64_t n_sq = int64_t(a.w) * c;
  const int16_t* __restrict in = row;
  int16_t* __restrict out = sq.data();
  for (int64_t k = 0; k < n_sq; ++k) {
    const int32_t v = in[k];
    out[k] = int16_t(std::min((v * v + half_sq) >> shift_sq, kInt16Limit));
  }
  const int64_t off0 = 0;
  int32_t tile[kR * kL];
  for (const Pass& p : g.norm) {
    PairTileArgs args;
    args.tap_off = &off0;
    args.ntaps = 1;
    args.npairs = c / 2;
    args.px_stride = c;
    args.w = p.w.data();
    args.w_by_lane = p.w_by_lane.data();
    double scale[kL];
    for (int l = 0; l < kL; ++l) scale[l] = p.chan[l] < 0 ? 0.0 : std::ldexp(1.0, g.root_exp[p.chan[l]]);
    for (int j0 = 0; j0 < a.w; j0 += kR) {
      args.src = sq.data() + int64_t(j0) * c;
      kernel(args, tile);
      const int n = std::min(kR, a.w - j0);
      int16_t* x[kR];
      for (int r = 0; r < n; ++r) x[r] = row + int64_t(j0 + r) * c + p.chan[0];
      ep.igdn(p, tile, n, scale, g.out_shift, x);
    }
  }
}

}  // namespace

void IntSynthesis::add_conv(const ConvSpec& s, const std::vector<int32_t>& weight_q, const std::vector<int64_t>& bias_q,
                            const std::vector<int32_t>& shift) {
  IntConvLayer(s, weight_q, bias_q, shift, Arith::int16);  // every check of the int16 arithmetic, the bound first
  require(layers_.empty() || s.cin == layers_.back().spec.cout,
          "convolution input channels " + std::to_string(s.cin) + " != previous output channels " +
              std::to_string(layers_.empty() ? 0 : layers_.back().spec.cout));
  require(s.kh == s.kw && s.kh % 2 == 1 && s.ph == s.kh / 2 && s.pw == s.kw / 2, "kernel must be odd, padding k/2");
  if (s.transposed)
    require(s.sh == 2 && s.sw == 2 && s.oph == 1 && s.opw == 1,
            "a transposed convolution must be stride 2, "
            "output_padding 1");
  else
    require(s.sh == 1 && s.sw == 1, "a convolution must be stride 1");
  const int k = s.kh;
  Layer L;
  L.spec = s;
  L.border = s.transposed ? conv::subpixel_border(k) : k / 2;
  // gather layout (cout, cin, k, k) for both kinds (a ConvTranspose2d's torch weight transposed, not flipped)
  L.passes = make_passes(
      s.transposed ? conv::transposed_passes(k, s.cout, kL) : conv::conv_passes(k, s.cout, kL), s.cin, k,
      [&](int ic, int oc, int ky, int kx) { return weight_q[((size_t(oc) * s.cin + ic) * k + ky) * k + kx]; }, bias_q,
      shift);
  layers_.push_back(std::move(L));
}

void IntSynthesis::add_igdn(const std::vector<int32_t>& gamma_q, const std::vector<int64_t>& beta_q,
                            const std::vector<int32_t>& norm_shift, int square_shift,
                            const std::vector<int32_t>& root_exp, int out_shift) {
  require(!layers_.empty() && !layers_.back().igdn, "an IGDN must follow a convolution");
  const int C = layers_.back().spec.cout;
  require(root_exp.size() == size_t(C), "root_exp must have one exponent per channel");
  for (int32_t e : root_exp) require(e >= kMinRootExp && e <= kMaxRootExp, "root exponent outside [0, 21]");
  require(square_shift >= 0 && square_shift <= kMaxSquareShift, "square shift outside [0, 30]");
  require(out_shift >= 0 && out_shift <= kMaxOutShift, "out shift outside [0, 52]");
  for (int32_t g : gamma_q) require(g >= 0, "gamma must not be negative (the norm must not be)");
  for (int64_t b : beta_q) require(b > 0, "beta must be positive (the norm must not be 0)");
  ConvSpec spec;
  spec.cin = spec.cout = C;
  spec.kh = spec.kw = 1;
  IntConvLayer(spec, gamma_q, beta_q, norm_shift, Arith::int16);  // the int16 bound and the shapes
  Layer& L = layers_.back();
  L.igdn = true;
  L.gdn.square_shift = square_shift;
  L.gdn.out_shift = out_shift;
  L.gdn.root_exp = root_exp;
  // the norm is a 1x1 convolution of the squares: weight (j, i) = gamma_q[i][j]
  L.gdn.norm = make_passes(
      conv::conv_passes(1, C, kL), C, 1, [&](int j, int i, int, int) { return gamma_q[size_t(i) * C + j]; }, beta_q,
      norm_shift);
  for (const Pass& p : L.gdn.norm) require(p.contiguous, "internal: a norm pass must be contiguous");
}

int IntSynthesis::in_channels() const { return layers_.empty() ? 0 : layers_.front().spec.cin; }
int IntSynthesis::out_channels() const { return layers_.empty() ? 0 : layers_.back().spec.cout; }
int IntSynthesis::num_steps() const {
  int n = 0;
  for (const Layer& L : layers_) n += 1 + L.igdn;
  return n;
}

std::pair<int, int> IntSynthesis::output_size(int h, int w) const {
  int64_t hh = h, ww = w;
  for (const Layer& L : layers_) {
    if (L.spec.transposed) {
      hh *= 2;
      ww *= 2;
    }
    require(hh > 0 && ww > 0 && hh <= (1 << 20) && ww <= (1 << 20), "a layer output would be empty or huge");
  }
  return {int(hh), int(ww)};
}

std::vector<int32_t> IntSynthesis::run(const int32_t* y_q, int h, int w, int32_t out_limit, int threads) const {
  require(!layers_.empty(), "the synthesis has no layers");
  const auto [out_h, out_w] = output_size(h, w);
  Rect all;
  all.y1 = out_h;
  all.x1 = out_w;
  return run(y_q, h, w, out_limit, threads, all);
}

std::vector<int32_t> IntSynthesis::run(const int32_t* y_q, int h, int w, int32_t out_limit, int threads,
                                       const Rect& crop, SynthesisScratch* scratch) const {
  require(!layers_.empty() && !layers_.back().igdn, "the synthesis must end with a convolution");
  require(h > 0 && w > 0, "input height and width must be positive");
  require(threads >= 1, "threads must be >= 1");
  require(out_limit >= 0 && out_limit <= kActLimit, "output limit outside [0, 2^30]");
  const auto [out_h, out_w] = output_size(h, w);
  require(conv::inside(crop, out_h, out_w), "crop must be a non-empty rectangle inside the output");
  require(int64_t(crop.h()) * crop.w() * out_channels() <= (int64_t(1) << 31), "output too large");
  // Backwards from the crop: each layer's grid and the rectangle of its output that grid writes.
  const size_t n = layers_.size();
  std::vector<conv::LayerReach> reach(n);
  for (size_t li = 0; li < n; ++li) {
    conv::LayerReach& r = reach[li];
    r.out_mul = layers_[li].spec.transposed ? 2 : 1;
    r.in_h = li == 0 ? h : reach[li - 1].in_h * reach[li - 1].out_mul;
    r.in_w = li == 0 ? w : reach[li - 1].in_w * reach[li - 1].out_mul;
    conv::set_taps(r, layers_[li].passes);
  }
  const conv::CropPlan plan = conv::plan_crop(reach, crop);
  const std::vector<Rect>&grid = plan.grid, &written = plan.written;
  const PairTileFn kernel = pair_tile_kernel(current_isa());
  const Epilogues ep = epilogues(current_isa());
  // layer li reads slot li % 2 and writes slot (li + 1) % 2 of the scratch
  auto slot = [&](size_t k) { return scratch ? &scratch->act[k % 2] : nullptr; };
  auto cur = std::make_unique<Act>(h, w, in_channels(), layers_[0].border, slot(0));
  {
    Act& a = *cur;
    const int cin = in_channels();
    for (int64_t k = 0; k < int64_t(cin) * h * w; ++k)
      require(y_q[k] >= -kInt16Limit && y_q[k] <= kInt16Limit, "input outside +-32767");
    parallel_for(h, threads, [&](int64_t y) {
      for (int x = 0; x < w; ++x) {
        int16_t* px = a.at(int(y), x);
        for (int c = 0; c < cin; ++c) px[c] = int16_t(y_q[(int64_t(c) * h + y) * w + x]);
      }
    });
  }
  Rect src_rect;  // the positions `cur` holds, in its layer's input coordinates
  src_rect.y1 = h;
  src_rect.x1 = w;
  std::vector<int32_t> out(size_t(out_channels()) * crop.h() * crop.w());
  for (size_t li = 0; li < n; ++li) {
    const Layer& L = layers_[li];
    const bool last = li + 1 == n;
    const int mul = L.spec.transposed ? 2 : 1;
    const Rect& dst_rect = last ? crop : written[li];
    Sink sink;
    sink.ho = dst_rect.h();
    sink.wo = dst_rect.w();
    sink.y_off = mul * src_rect.y0 - dst_rect.y0;
    sink.x_off = mul * src_rect.x0 - dst_rect.x0;
    std::unique_ptr<Act> next;
    if (last) {
      sink.planar = out.data();
      sink.limit = out_limit;
    } else {
      next = std::make_unique<Act>(sink.ho, sink.wo, L.spec.cout, layers_[li + 1].border, slot(li + 1));
      sink.act = next.get();
    }
    const Act& src = *cur;
    const int i0 = grid[li].y0 - src_rect.y0, j0 = grid[li].x0 - src_rect.x0, j1 = grid[li].x1 - src_rect.x0;
    parallel_for(grid[li].h(), threads, [&](int64_t k) {
      const int i = i0 + int(k);
      run_row(L.passes, kernel, ep, src, 1, j0, j1, i, mul, sink);
      if (L.igdn && sink.act)
        for (int r = 0; r < mul; ++r) igdn_row(L.gdn, kernel, ep, *sink.act, mul * i + r + sink.y_off);
    });
    cur = std::move(next);
    src_rect = written[li];
  }
  return out;
}

}  // namespace intpath
}  // namespace jpegai
