#include "intpath/int_conv.h"

#include "common/portable.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <type_traits>
#include <stdexcept>
#include <string>

#include "common/parallel.h"
#include "common/cpu.h"
#include "intpath/int16_kernel.h"

namespace jpegai {
namespace intpath {
namespace {

constexpr int kExactChunk = 8;  // output positions per register tile
constexpr int kIcBlock = 8;     // input-channel groups (channels, or int16 pairs) per cache block
constexpr int kTileChunks = 8;  // register tiles per column tile (L1 blocking)
constexpr int kObGroup = 8;     // output-channel blocks sharing one pass over the input

// Exactness bound of the float64 path: every partial sum of integer products stays below 2^53.
constexpr double kExactDoubleLimit = 9007199254740992.0;  // 2^53

// The integer core, shared by the portable and the AVX2 builds: acc[o][j] += w[ic][o] * src[ic][j].
// T = int32_t accumulates in int64; T = double is used only when all sums are exact integers
// below 2^53 (checked per layer call), so both give the same integers whatever the order or ISA.
template <class T, class Acc>
JPEGAI_ALWAYS_INLINE void accumulate_fixed(Acc (&acc)[kOcBlock][kExactChunk], const Tap<T>* taps, int ntaps, int cin,
                                           int64_t chan_stride, int64_t m0) {
  // Local copy: the inputs may be double too, and the compiler must see that they never alias acc.
  Acc local[kOcBlock][kExactChunk];
  for (int o = 0; o < kOcBlock; ++o)
    for (int j = 0; j < kExactChunk; ++j) local[o][j] = acc[o][j];
  for (int t = 0; t < ntaps; ++t) {
    const T* __restrict src = taps[t].src + m0;
    const T* __restrict wp = taps[t].w;
    for (int ic = 0; ic < cin; ++ic) {
      for (int o = 0; o < kOcBlock; ++o) {
        const Acc wv = wp[o];
        for (int j = 0; j < kExactChunk; ++j) local[o][j] += wv * Acc(src[j]);
      }
      src += chan_stride;
      wp += kOcBlock;
    }
  }
  for (int o = 0; o < kOcBlock; ++o)
    for (int j = 0; j < kExactChunk; ++j) acc[o][j] = local[o][j];
}

// float64 specialisation with explicit 4-lane vectors (GCC vector extension: AVX2/FMA in the AVX2
// build, SSE2 pairs in the portable one) so the kOcBlock x kExactChunk tile stays in registers, each weight
// broadcast straight from memory. All values are exact integers, so lowering never changes results.
// Other compilers (MSVC) use the generic template above: the same exact integer sums.
#if defined(__GNUC__) || defined(__clang__)
typedef double double4 __attribute__((vector_size(32)));
static_assert(kExactChunk % 4 == 0, "CHUNK must be a multiple of the vector width");

template <>
JPEGAI_ALWAYS_INLINE void accumulate_fixed<double, double>(double (&acc)[kOcBlock][kExactChunk],
                                                           const Tap<double>* taps, int ntaps, int cin,
                                                           int64_t chan_stride, int64_t m0) {
  constexpr int kNv = kExactChunk / 4;
  double4 a[kOcBlock][kNv];
#pragma GCC unroll 8
  for (int o = 0; o < kOcBlock; ++o)
#pragma GCC unroll 8
    for (int v = 0; v < kNv; ++v) std::memcpy(&a[o][v], &acc[o][4 * v], sizeof(double4));
  for (int t = 0; t < ntaps; ++t) {
    const double* __restrict src = taps[t].src + m0;
    const double* __restrict wp = taps[t].w;
    for (int ic = 0; ic < cin; ++ic) {
      double4 x[kNv];
#pragma GCC unroll 8
      for (int v = 0; v < kNv; ++v) std::memcpy(&x[v], src + 4 * v, sizeof(double4));
#pragma GCC unroll 8
      for (int o = 0; o < kOcBlock; ++o) {
        const double wv = wp[o];
#pragma GCC unroll 8
        for (int v = 0; v < kNv; ++v) a[o][v] += x[v] * wv;
      }
      src += chan_stride;
      wp += kOcBlock;
    }
  }
#pragma GCC unroll 8
  for (int o = 0; o < kOcBlock; ++o)
#pragma GCC unroll 8
    for (int v = 0; v < kNv; ++v) std::memcpy(&acc[o][4 * v], &a[o][v], sizeof(double4));
}
#endif  // GCC vector extension

template <class T, class Acc>
void accumulate_portable(Acc (&acc)[kOcBlock][kExactChunk], const Tap<T>* taps, int ntaps, int cin, int64_t chan_stride,
                         int64_t m0) {
  accumulate_fixed<T, Acc>(acc, taps, ntaps, cin, chan_stride, m0);
}

#if JPEGAI_HAVE_AVX2_CLONE
template <class T, class Acc>
JPEGAI_TARGET_AVX2 void accumulate_avx2(Acc (&acc)[kOcBlock][kExactChunk], const Tap<T>* taps, int ntaps, int cin,
                                        int64_t chan_stride, int64_t m0) {
  accumulate_fixed<T, Acc>(acc, taps, ntaps, cin, chan_stride, m0);
}
#endif

// Round half up (towards +inf) division by 2^s, then ReLU and saturation to +-limit.
inline int32_t requantise(int64_t acc, int s, bool relu, int32_t limit) {
  int64_t v = s > 0 ? (acc + (int64_t(1) << (s - 1))) >> s : acc;
  if (relu && v < 0) v = 0;
  v = std::min<int64_t>(std::max<int64_t>(v, -int64_t(limit)), limit);
  return int32_t(v);
}

// requantise over one register tile's row of n <= kChunk sums. The int16 arithmetic's sums and bias fit int32
// together (its weight bound), and floor((v + 2^(s-1)) / 2^s) = (v >> s) + bit s-1 of v (v = q 2^s + r: the
// half is carried exactly when r >= 2^(s-1)) needs no wider type and cannot overflow, so that row is plain
// int32 work the compiler vectorises; the same integers as requantise.
template <class Acc, int kChunk>
inline void requantise_chunk(const Acc* acc, int n, int64_t bias, int s, bool relu, int32_t limit, int32_t* out) {
  for (int j = 0; j < n; ++j) out[j] = requantise(int64_t(acc[j]) + bias, s, relu, limit);
}
template <>
inline void requantise_chunk<int32_t, kInt16Chunk>(const int32_t* acc, int n, int64_t bias, int s, bool relu,
                                                   int32_t limit, int32_t* out) {
  if (s > 31) {  // an extra output shift (the hyper-synthesis's last layer) can pass int32's shifts
    for (int j = 0; j < n; ++j) out[j] = requantise(int64_t(acc[j]) + bias, s, relu, limit);
    return;
  }
  const int32_t b = int32_t(bias), lo = relu ? 0 : -limit;
  int32_t v[kInt16Chunk];
  for (int j = 0; j < kInt16Chunk; ++j) {  // full width (the tile's spare lanes hold bounded sums too)
    int32_t x = acc[j] + b;
    x = s > 0 ? (x >> s) + ((x >> (s - 1)) & 1) : x;
    v[j] = std::min(std::max(x, lo), limit);
  }
  std::memcpy(out, v, sizeof(int32_t) * size_t(n));
}

// Per tile, the kernels of one arithmetic: T the stored activation/weight type, Acc the accumulator,
// kLanes input channels per stored element group (2 for the int16 pairs), kChunk positions per tile.
template <class T>
struct Kernel {
  using Acc = typename std::conditional<std::is_same<T, double>::value, double, int64_t>::type;
  static constexpr int kLanes = 1;
  static constexpr int kChunk = kExactChunk;
  static void run(Isa isa, Acc (&acc)[kOcBlock][kChunk], const Tap<T>* taps, int ntaps, int n, int64_t stride,
                  int64_t m0) {
#if JPEGAI_HAVE_AVX2_CLONE
    if (uses_avx2(isa)) return accumulate_avx2<T, Acc>(acc, taps, ntaps, n, stride, m0);
#endif
    (void)isa;
    accumulate_portable<T, Acc>(acc, taps, ntaps, n, stride, m0);
  }
};
template <>
struct Kernel<int16_t> {
  using Acc = int32_t;
  static constexpr int kLanes = 2;
  static constexpr int kChunk = kInt16Chunk;
  static void run(Isa isa, Acc (&acc)[kOcBlock][kChunk], const Tap<int16_t>* taps, int ntaps, int n, int64_t stride,
                  int64_t m0) {
    int16_tile_kernel(isa)(acc, taps, ntaps, n, stride, m0);
  }
};

// Hot validation loops call this per element: no std::string unless the check fails.
inline void require(bool ok, const char* msg) {
  if (!ok) throw std::invalid_argument(std::string("IntConvLayer: ") + msg);
}
inline void require(bool ok, const std::string& msg) {
  if (!ok) throw std::invalid_argument("IntConvLayer: " + msg);
}

inline int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }

}  // namespace

IntConvLayer::IntConvLayer(const ConvSpec& spec, std::vector<int32_t> weight_q, std::vector<int64_t> bias_q,
                           std::vector<int32_t> shift, Arith arith)
    : spec_(spec), arith_(arith), bias_(std::move(bias_q)), shift_(std::move(shift)) {
  const ConvSpec& s = spec_;
  require(s.cin > 0 && s.cout > 0 && s.kh > 0 && s.kw > 0, "channels and kernel size must be positive");
  require(s.cin <= 65536 && s.cout <= 65536 && s.kh <= 64 && s.kw <= 64, "layer too large");
  require(s.sh >= 1 && s.sw >= 1 && s.sh <= 16 && s.sw <= 16, "stride must be in [1, 16]");
  require(s.ph >= 0 && s.pw >= 0 && s.ph <= 64 && s.pw <= 64, "padding must be in [0, 64]");
  require(s.oph >= 0 && s.opw >= 0, "output_padding must be >= 0");
  if (s.transposed) {
    require(s.oph < s.sh && s.opw < s.sw, "output_padding must be smaller than the stride");
  } else {
    require(s.oph == 0 && s.opw == 0, "output_padding only applies to transposed convolutions");
  }
  require(int64_t(s.cin) * s.kh * s.kw <= kMaxReduction, "cin*kh*kw exceeds 2^16: int64 accumulation could overflow");
  const size_t kk = size_t(s.kh) * s.kw;
  require(weight_q.size() == size_t(s.cout) * s.cin * kk, "weight size mismatch");
  require(bias_.size() == size_t(s.cout) && shift_.size() == size_t(s.cout), "bias/shift size mismatch");
  for (int32_t v : weight_q) require(v >= -kWeightLimit && v <= kWeightLimit, "weight outside int16 range");
  for (int64_t v : bias_) require(v >= -kBiasLimit && v <= kBiasLimit, "bias outside +-2^61");
  for (int32_t v : shift_) require(v >= 0 && v <= kMaxShift, "shift outside [0, 48]");

  if (arith_ == Arith::int16) {
    check_int16_bound(weight_q);
    pack(weight_q, 2, packed_pairs_);
    return;
  }
  pack(weight_q, 1, packed_);
  packed_double_.assign(packed_.begin(), packed_.end());
  max_l1_ = 0;
  for (int oc = 0; oc < s.cout; ++oc) {
    int64_t l1 = 0;
    for (size_t k = 0; k < size_t(s.cin) * kk; ++k) l1 += std::abs(int64_t(weight_q[size_t(oc) * s.cin * kk + k]));
    max_l1_ = std::max(max_l1_, l1);
  }
}

// The kernels' weight layout: [oc block][kh][kw][cin / lanes][kOcBlock][lanes], the input channels in
// groups of `lanes` side by side (1, or 2 for the int16 pairs; a missing last channel is a zero weight).
template <class T>
void IntConvLayer::pack(const std::vector<int32_t>& weight_q, int lanes, std::vector<T>& out) const {
  const ConvSpec& s = spec_;
  const size_t kk = size_t(s.kh) * s.kw;
  const int n_blocks = (s.cout + kOcBlock - 1) / kOcBlock, n_in = (s.cin + lanes - 1) / lanes;
  out.assign(size_t(n_blocks) * kk * n_in * kOcBlock * lanes, T(0));
  for (int oc = 0; oc < s.cout; ++oc)
    for (int ic = 0; ic < s.cin; ++ic)
      for (size_t k = 0; k < kk; ++k)
        out[(((size_t(oc / kOcBlock) * kk + k) * n_in + ic / lanes) * kOcBlock + oc % kOcBlock) * lanes + ic % lanes] =
            T(weight_q[(size_t(oc) * s.cin + ic) * kk + k]);
}

// Arith::int16's guarantee: for each output channel, the taps one output position can meet (all of
// them, or for a transposed convolution those of one output phase: ky = r mod sh, kx = q mod sw) give
// sum|w| * kInt16Limit + |bias| <= 2^31 - 1, so every partial sum fits int32 whatever the order.
void IntConvLayer::check_int16_bound(const std::vector<int32_t>& weight_q) const {
  const ConvSpec& s = spec_;
  const int ry = s.transposed ? s.sh : 1, rx = s.transposed ? s.sw : 1;
  for (int oc = 0; oc < s.cout; ++oc) {
    require(bias_[oc] >= -kInt16AccLimit && bias_[oc] <= kInt16AccLimit, "int16 arithmetic: bias outside int32");
    require(shift_[oc] <= 31, "int16 arithmetic: shift above 31");
    const int64_t l1 =
        max_phase_l1<int64_t>(weight_q.data() + size_t(oc) * s.cin * s.kh * s.kw, s.cin, s.kh, s.kw, ry, rx);
    require(l1 * kInt16Limit + std::abs(bias_[oc]) <= kInt16AccLimit,
            "int16 arithmetic: output channel " + std::to_string(oc) +
                " could overflow int32 (sum|w| * 32767 + |bias| > 2^31 - 1)");
  }
}

template <>
const int32_t* IntConvLayer::packed_weights<int32_t>() const {
  return packed_.data();
}
template <>
const double* IntConvLayer::packed_weights<double>() const {
  return packed_double_.data();
}
template <>
const int16_t* IntConvLayer::packed_weights<int16_t>() const {
  return packed_pairs_.data();
}

int IntConvLayer::out_height(int h) const {
  const ConvSpec& s = spec_;
  return s.transposed ? (h - 1) * s.sh - 2 * s.ph + s.kh + s.oph : (h + 2 * s.ph - s.kh) / s.sh + 1;
}

int IntConvLayer::out_width(int w) const {
  const ConvSpec& s = spec_;
  return s.transposed ? (w - 1) * s.sw - 2 * s.pw + s.kw + s.opw : (w + 2 * s.pw - s.kw) / s.sw + 1;
}

std::vector<int32_t> IntConvLayer::forward(const std::vector<int32_t>& in, int h, int w,
                                           const std::vector<int32_t>& extra_shift, int32_t out_limit,
                                           int threads) const {
  const ConvSpec& s = spec_;
  require(h > 0 && w > 0, "input height and width must be positive");
  require(in.size() == size_t(s.cin) * h * w, "input size mismatch");
  require(extra_shift.empty() || extra_shift.size() == size_t(s.cout), "extra_shift size mismatch");
  if (!s.transposed) require(h + 2 * s.ph >= s.kh && w + 2 * s.pw >= s.kw, "input smaller than the kernel");
  const int ho = out_height(h), wo = out_width(w);
  require(ho > 0 && wo > 0, "output would be empty");
  require(int64_t(ho) * wo * s.cout <= (int64_t(1) << 31), "output too large");

  require(out_limit >= 0 && out_limit <= kActLimit, "output limit outside [0, 2^30]");

  int64_t max_abs = 0;
  for (int32_t v : in) max_abs = std::max<int64_t>(max_abs, std::abs(int64_t(v)));
  if (arith_ == Arith::int16) {
    require(max_abs <= kInt16Limit, "int16 arithmetic: input outside +-32767");
    return forward_typed<int16_t>(in, h, w, ho, wo, extra_shift, out_limit, threads);
  }
  // |partial sum| <= max_l1 * max|x|: below 2^53 the float64 kernel computes the exact integers.
  if (double(max_l1_) * double(max_abs) < kExactDoubleLimit)
    return forward_typed<double>(in, h, w, ho, wo, extra_shift, out_limit, threads);
  return forward_typed<int32_t>(in, h, w, ho, wo, extra_shift, out_limit, threads);
}

template <class T>
std::vector<int32_t> IntConvLayer::forward_typed(const std::vector<int32_t>& in, int h, int w, int ho, int wo,
                                                 const std::vector<int32_t>& extra_shift, int32_t out_limit,
                                                 int threads) const {
  using K = Kernel<T>;
  using Acc = typename K::Acc;
  constexpr int kLanes = K::kLanes, kChunk = K::kChunk;
  const ConvSpec& s = spec_;
  // Input channels as stored: kLanes channels side by side per position (int16 pairs), cin padded.
  const int n_in = (s.cin + kLanes - 1) / kLanes;
  const T* packed = packed_weights<T>();
  // Re-lay each input row so every tap reads a contiguous run: zero padding on both sides, and for
  // strided convolutions the columns split into stride phases.
  const int n_phases = s.transposed ? s.sw : 1;
  std::vector<int64_t> phase_count(n_phases);
  for (int px = 0; px < n_phases; ++px) phase_count[px] = s.transposed ? (px < wo ? ceil_div(wo - px, s.sw) : 0) : wo;
  int64_t row_len = 0, phase_len = 0, left = 0;
  if (s.transposed) {
    int64_t min_d = 0, max_end = w - 1;
    for (int px = 0; px < s.sw; ++px)
      for (int kx = 0; kx < s.kw; ++kx) {
        const int num = px + s.pw - kx;
        if (((num % s.sw) + s.sw) % s.sw != 0 || phase_count[px] == 0) continue;
        const int d = num / s.sw;  // exact: num is a multiple of the stride
        min_d = std::min<int64_t>(min_d, d);
        max_end = std::max<int64_t>(max_end, phase_count[px] - 1 + d);
      }
    left = -min_d;
    row_len = left + max_end + 1;
  } else {
    phase_len = ceil_div(int64_t(w) + 2 * s.pw, s.sw);
    row_len = phase_len * s.sw;
  }
  const int64_t chan_stride = int64_t(h) * row_len;
  // kChunk positions of slack at the end: a last partial tile reads (bounded, valid) values past its
  // row and discards those lanes, so every tile runs the full-width kernel.
  std::vector<T> buf((size_t(n_in) * chan_stride + kChunk) * kLanes, T(0));
  parallel_for(n_in, threads, [&](int64_t g) {
    for (int lane = 0; lane < kLanes && g * kLanes + lane < s.cin; ++lane) {
      const int64_t ic = g * kLanes + lane;
      for (int y = 0; y < h; ++y) {
        const int32_t* src = in.data() + (size_t(ic) * h + y) * w;
        T* dst = buf.data() + (size_t(g) * chan_stride + size_t(y) * row_len) * kLanes + lane;
        for (int x = 0; x < w; ++x) {
          if (s.transposed) {
            dst[(left + x) * kLanes] = T(src[x]);
          } else {
            const int pc = x + s.pw;
            dst[((pc % s.sw) * phase_len + pc / s.sw) * kLanes] = T(src[x]);
          }
        }
      }
    }
  });

  std::vector<int32_t> out(size_t(s.cout) * ho * wo);
  const int n_blocks = (s.cout + kOcBlock - 1) / kOcBlock;
  const size_t kk = size_t(s.kh) * s.kw;
  const Isa isa = current_isa();
  const int n_groups = (n_blocks + kObGroup - 1) / kObGroup;
  const size_t block_stride = kk * n_in * kOcBlock * kLanes;
  parallel_for(int64_t(n_groups) * ho, threads, [&](int64_t task) {
    const int group = int(task / ho), oy = int(task % ho);
    const int ob_begin = group * kObGroup, n_ob = std::min(kObGroup, n_blocks - ob_begin);
    std::vector<const T*> tap_src;
    std::vector<size_t> tap_w;  // weight offset of the tap inside a block
    std::vector<Tap<T>> block_taps;
    std::vector<Acc> tile_acc;
    for (int px = 0; px < n_phases; ++px) {
      const int64_t count = phase_count[px];
      if (count == 0) continue;
      tap_src.clear();
      tap_w.clear();
      for (int ky = 0; ky < s.kh; ++ky) {
        int iy;
        if (s.transposed) {
          const int num = oy + s.ph - ky;
          if (((num % s.sh) + s.sh) % s.sh != 0) continue;
          iy = num / s.sh;
        } else {
          iy = oy * s.sh + ky - s.ph;
        }
        if (iy < 0 || iy >= h) continue;  // zero padding rows contribute nothing
        const T* row = buf.data() + size_t(iy) * row_len * kLanes;
        for (int kx = 0; kx < s.kw; ++kx) {
          int64_t base;
          if (s.transposed) {
            const int num = px + s.pw - kx;
            if (((num % s.sw) + s.sw) % s.sw != 0) continue;
            base = left + num / s.sw;
          } else {
            base = (kx % s.sw) * phase_len + kx / s.sw;
          }
          tap_src.push_back(row + base * kLanes);
          tap_w.push_back((size_t(ky) * s.kw + kx) * n_in * kOcBlock * kLanes);
        }
      }
      const int ntaps = int(tap_src.size());
      block_taps.resize(tap_src.size());
      // Column tiles x input-channel blocks x the group's output-channel blocks: a block's input
      // rows stay in L1 while every output block and register tile of the column tile uses them;
      // partial sums live in tile_acc between input-channel blocks.
      const int64_t n_chunks_all = (count + kChunk - 1) / kChunk;
      for (int64_t c_begin = 0; c_begin < n_chunks_all; c_begin += kTileChunks) {
        const int64_t n_chunks = std::min<int64_t>(kTileChunks, n_chunks_all - c_begin);
        const size_t ob_acc = size_t(n_chunks) * kOcBlock * kChunk;
        tile_acc.assign(ob_acc * n_ob, Acc(0));
        for (int g0 = 0; g0 < n_in; g0 += kIcBlock) {
          const int gn = std::min(kIcBlock, n_in - g0);
          for (int b = 0; b < n_ob; ++b) {
            const T* wblock = packed + size_t(ob_begin + b) * block_stride + size_t(g0) * kOcBlock * kLanes;
            for (int t = 0; t < ntaps; ++t) block_taps[t] = {tap_src[t] + g0 * chan_stride * kLanes, wblock + tap_w[t]};
            for (int64_t c = 0; c < n_chunks; ++c) {
              const int64_t m0 = (c_begin + c) * kChunk;
              auto& acc =
                  *reinterpret_cast<Acc(*)[kOcBlock][kChunk]>(tile_acc.data() + b * ob_acc + c * kOcBlock * kChunk);
              K::run(isa, acc, block_taps.data(), ntaps, gn, chan_stride * kLanes, m0);
            }
          }
        }
        for (int b = 0; b < n_ob; ++b)
          for (int64_t c = 0; c < n_chunks; ++c) {
            const int64_t m0 = (c_begin + c) * kChunk;
            const int n = int(std::min<int64_t>(kChunk, count - m0));
            const Acc* acc = tile_acc.data() + b * ob_acc + c * kOcBlock * kChunk;
            for (int o = 0; o < kOcBlock; ++o) {
              const int oc = (ob_begin + b) * kOcBlock + o;
              if (oc >= s.cout) break;
              const int sh = shift_[oc] + (extra_shift.empty() ? 0 : extra_shift[oc]);
              int32_t* dst = out.data() + (size_t(oc) * ho + oy) * wo;
              int32_t row[kChunk];
              requantise_chunk<Acc, kChunk>(acc + o * kChunk, n, bias_[oc], sh, s.relu, out_limit, row);
              if (s.transposed) {
                for (int j = 0; j < n; ++j) dst[px + (m0 + j) * s.sw] = row[j];
              } else {
                std::memcpy(dst + m0, row, sizeof(int32_t) * size_t(n));
              }
            }
          }
      }
    }
  });
  return out;
}

}  // namespace intpath
}  // namespace jpegai
