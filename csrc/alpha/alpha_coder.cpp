// Alpha-plane coder (see alpha_coder.h for the model).
//
// Payload layout (all little-endian):
//   u8  bits (must equal the caller's)
//   varint n_used   residual contexts in use (0 .. kContexts), then for each, in increasing order:
//     varint context gap (first: index + 1; then index - previous index), and its table:
//   table:
//     varint n_c        symbols with a non-zero frequency (>= 1 for a listed context)
//     n_c x (varint symbol gap from the previous symbol of this context + 1 ... first: symbol + 1,
//            varint freq - 1)   frequencies sum to 2^16
//   the block-mode table (a table over the kModes predictors)
//   u32 x_lo, u32 x_hi  the rANS state after encoding (the decoder's initial state)
//   u32 words ...       renormalisation words in decoding order
// The rANS stream holds first the predictor mode of every kBlock x kBlock block (raster order, the
// mode table), then every pixel's residual (raster order, its context's table).
// The decoder checks the final state equals the encoder's initial one (2^31) and that every word was
// consumed, so a damaged payload is an error rather than a plausible wrong plane.
// With a copy map (lossless/copy_map.h) the pixels its copies cover are not in the rANS stream: the
// decoder fills them from their source and they serve as neighbours like any other.
#include "alpha/alpha_coder.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <stdexcept>
#include <string>
#include <type_traits>

#include "common/check.h"
#include "common/portable.h"
#include "common/varint.h"
#include "entropy/rans.h"
#include "lossless/static_table.h"

namespace jpegai::alpha {
namespace {

using entropy::EncSymbol;
using entropy::kProbTotal;
using entropy::kStateLow;
using lossless::Copy;

// A caller's mistake (InvalidArgument -> ValueError) vs bytes no encoder writes (CorruptStream -> DecodeError).
[[noreturn]] void bad_arg(const std::string& what) { jpegai::fail("alpha: " + what); }
[[noreturn]] void corrupt(const std::string& what) { lossless::corrupt("alpha", what); }

// Activity bucket (0 .. 7) of |W - NW| + |N - NW| + |N - NE| on the 8-bit scale: 0, <= 2, <= 6, <= 14,
// <= 30, <= 62, <= 126, above. A table over the sums (below 3 x 2^bits, so below 3 x 256 after the
// scaling), as the bucket is needed per pixel.
constexpr int kMaxActivitySum = 3 * 256;
struct ActivityBuckets {
  uint8_t of[kMaxActivitySum + 1];
  constexpr ActivityBuckets() : of() {
    for (int d = 1; d <= kMaxActivitySum; ++d) {
      int b = 1;
      while (b < 7 && d > (2 << b) - 2) ++b;  // bucket b >= 1 ends at 2^(b+1) - 2: 2, 6, 14, ..., 126
      of[d] = uint8_t(b);
    }
  }
};
constexpr ActivityBuckets kActivity;

inline int activity_of(int w_, int n_, int nw, int ne, int down) {
  return kActivity.of[(std::abs(w_ - nw) + std::abs(n_ - nw) + std::abs(n_ - ne)) >> down];
}

// 0: fully transparent, 1: fully opaque, 2: in between. Alpha is mostly 0 or max: a prediction at
// an extreme can only err one way, and an edge pixel next to a transparent/opaque NW behaves apart.
inline int level_of(int v, int maxv) { return v == 0 ? 0 : (v == maxv ? 1 : 2); }

// The median of W, N and W + N - NW, which is the edge detector's rule (NW above both: the smaller,
// below both: the larger, else the gradient), written with min/max: no data-dependent branch to mispredict.
inline int predict_med(int w_, int n_, int nw) {
  const int mx = std::max(w_, n_), mn = std::min(w_, n_);
  return std::max(mn, std::min(mx, w_ + n_ - nw));
}

// Neighbours of (y, x) in `p` (already known samples), with the border rule: row 0 sees its west
// neighbour everywhere above it, column 0 sees the north neighbour on its left, the last column
// its north neighbour on the right.
struct Neighbours {
  int w_, n_, nw, ne;
};
inline Neighbours neighbours(const uint16_t* p, int w, int y, int x) {
  Neighbours nb;
  if (y == 0) {
    nb.w_ = x ? p[x - 1] : 0;
    nb.n_ = nb.nw = nb.ne = nb.w_;
    return nb;
  }
  const uint16_t* up = p + size_t(y - 1) * w;
  const uint16_t* row = p + size_t(y) * w;
  nb.n_ = up[x];
  nb.w_ = x ? row[x - 1] : nb.n_;
  nb.nw = x ? up[x - 1] : nb.n_;
  nb.ne = x + 1 < w ? up[x + 1] : nb.n_;
  return nb;
}

// The residual's context: activity x level of the prediction x sign of NE - N (which way an edge
// runs) x level of NW (kContexts = 8 * 3 * 3 * 3).
inline int context_of(const Neighbours& nb, int pred, int maxv, int down) {
  const int edge = nb.ne > nb.n_ ? 2 : (nb.ne < nb.n_ ? 0 : 1);
  return ((activity_of(nb.w_, nb.n_, nb.nw, nb.ne, down) * 3 + level_of(pred, maxv)) * 3 + edge) * 3 +
         level_of(nb.nw, maxv);
}

// Predictor `mode` (0 .. kModes-1) of a pixel from its neighbours; maxv = 2^bits - 1.
inline int predict(int mode, const Neighbours& nb, int maxv) {
  switch (mode) {
    case 0: return predict_med(nb.w_, nb.n_, nb.nw);
    case 1: return nb.w_;
    case 2: return nb.n_;
    case 3: return (nb.w_ + nb.n_) >> 1;
    case 4: return std::min(std::max(nb.w_ + nb.n_ - nb.nw, 0), maxv);
    case 5: return nb.ne;
    case 6: return (nb.n_ + nb.ne) >> 1;
    default: return nb.nw;
  }
}

inline int bit_length(uint32_t v) { return v ? floor_log2_u64(v) + 1 : 0; }

inline uint32_t zigzag(int v, int bits) {
  const int mod = 1 << bits, half = mod >> 1;
  int r = v & (mod - 1);
  if (r >= half) r -= mod;
  return r >= 0 ? uint32_t(2 * r) : uint32_t(-2 * r - 1);
}

inline int unzigzag(uint32_t z) { return (z & 1) ? -int((z + 1) >> 1) : int(z >> 1); }

// Near-lossless (alpha_coder.h): the quantised residual of e, and the sample it reconstructs.
inline int quantise_near(int e, int near) {
  return e >= 0 ? (e + near) / (2 * near + 1) : -((near - e) / (2 * near + 1));
}
inline int reconstruct_near(int pred, int q, int near, int maxv) {
  const int64_t v = pred + int64_t(q) * (2 * near + 1);  // |q| (2N + 1) reaches 2^31 at 16 bits: int64
  return int(std::min<int64_t>(std::max<int64_t>(v, 0), maxv));
}

void check_args(int h, int w, int bits, int near = 0) {
  if (h < 1 || w < 1) bad_arg("plane must be at least 1x1");
  if (bits < 1 || bits > 16) bad_arg("bits must be 1..16");
  if (int64_t(h) * w > (int64_t(1) << 32)) bad_arg("plane too large");
  if (near < 0 || (near > 0 && (bits < 2 || near > max_near(bits))))
    bad_arg("near-lossless bound must be 0 or 1.." + std::to_string(bits < 2 ? 0 : max_near(bits)) + " for " +
            std::to_string(bits) + "-bit samples");
}

// -log2 of each symbol's frequency in its context (an unseen symbol: 24 bits), from the counts.
std::vector<float> code_lengths(const std::vector<uint64_t>& count) {
  std::vector<float> cost_of(size_t(kContexts) * kSymbols, 24.0f);
  for (int c = 0; c < kContexts; ++c) {
    uint64_t total = 0;
    for (int s = 0; s < kSymbols; ++s) total += count[size_t(c) * kSymbols + s];
    for (int s = 0; s < kSymbols && total; ++s) {
      const uint64_t k = count[size_t(c) * kSymbols + s];
      if (k) cost_of[size_t(c) * kSymbols + s] = float(std::log2(double(total) / double(k)));
    }
  }
  return cost_of;
}

// The encoder's model of one plane: the block modes, and per coded pixel its context and residual
// symbol, with the counts of both (pixels a copy covers are left out: mask[i] = 1).
struct Fit {
  int bw = 0;
  std::vector<uint8_t> modes, ctx;
  std::vector<uint32_t> z;
  std::vector<uint64_t> count = std::vector<uint64_t>(size_t(kContexts) * kSymbols, 0);
};

// Per block, the predictor with the smallest total bit length of its residuals (quantised when near >= 1):
// a rate proxy. Pixels with mask[i] = 1 (copies) are left out; mask may be null (none).
std::vector<uint8_t> modes_by_bit_length(const uint16_t* plane, int h, int w, int bits, const uint8_t* mask, int near) {
  const int maxv = (1 << bits) - 1;
  const int bh = (h + kBlock - 1) / kBlock, bw = (w + kBlock - 1) / kBlock;
  std::vector<uint64_t> cost(size_t(bh) * bw * kModes, 0);
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x) {
      if (mask && mask[size_t(y) * w + x]) continue;
      const Neighbours nb = neighbours(plane, w, y, x);
      uint64_t* c = cost.data() + (size_t(y / kBlock) * bw + x / kBlock) * kModes;
      for (int m = 0; m < kModes; ++m) {
        const int e = int(plane[size_t(y) * w + x]) - predict(m, nb, maxv);
        c[m] += uint64_t(bit_length(zigzag(near ? quantise_near(e, near) : e, bits)));
      }
    }
  std::vector<uint8_t> modes(size_t(bh) * bw);
  for (size_t b = 0; b < modes.size(); ++b) {
    const uint64_t* c = cost.data() + b * kModes;
    modes[b] = uint8_t(std::min_element(c, c + kModes) - c);  // ties: the lowest mode
  }
  return modes;
}

// Near-lossless (near >= 1): the block modes chosen on the source, then every pixel in raster order from
// the reconstructed samples `recon` it fills: context, symbol, count. A pixel a copy covers (mask[i] = 1)
// takes the reconstructed sample `distance` earlier, as the decoder will, and is not coded: the copy
// search found equal source pixels there, and the source one is within N of its reconstruction, so the
// copied sample is too.
Fit fit_near(const uint16_t* plane, int h, int w, int bits, int near, const uint8_t* mask,
             const std::vector<Copy>& copies, std::vector<uint16_t>& recon) {
  const size_t n = size_t(h) * w;
  const int down = bits > 8 ? bits - 8 : 0;
  const int maxv = (1 << bits) - 1;
  Fit f;
  f.bw = (w + kBlock - 1) / kBlock;
  f.modes = modes_by_bit_length(plane, h, w, bits, mask, near);
  recon.assign(n, 0);
  f.ctx.assign(n, 0);
  f.z.assign(n, 0);
  size_t next_copy = 0;
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x) {
      const size_t i = size_t(y) * w + x;
      if (mask[i]) {
        while (size_t(copies[next_copy].start) + copies[next_copy].length <= i) ++next_copy;
        recon[i] = recon[i - copies[next_copy].distance];
        continue;
      }
      const Neighbours nb = neighbours(recon.data(), w, y, x);
      const int pred = predict(f.modes[size_t(y / kBlock) * f.bw + x / kBlock], nb, maxv);
      const int q = quantise_near(int(plane[i]) - pred, near);
      recon[i] = uint16_t(reconstruct_near(pred, q, near, maxv));
      f.ctx[i] = uint8_t(context_of(nb, pred, maxv, down));
      f.z[i] = zigzag(q, bits);
      ++f.count[size_t(f.ctx[i]) * kSymbols + std::min<uint32_t>(f.z[i], kDirect)];
    }
  return f;
}

Fit fit(const uint16_t* plane, int h, int w, int bits, const uint8_t* mask) {
  const size_t n = size_t(h) * w;
  const int down = bits > 8 ? bits - 8 : 0;
  const int maxv = (1 << bits) - 1;
  Fit f;
  // 1. per block, the predictor with the smallest total residual bit length (a rate proxy)
  const int bh = (h + kBlock - 1) / kBlock, bw = (w + kBlock - 1) / kBlock;
  f.bw = bw;
  f.modes = modes_by_bit_length(plane, h, w, bits, mask, 0);
  // 2. residuals, contexts, counts under the chosen modes
  f.ctx.assign(n, 0);
  f.z.assign(n, 0);
  auto tally = [&] {
    std::fill(f.count.begin(), f.count.end(), 0);
    for (int y = 0; y < h; ++y)
      for (int x = 0; x < w; ++x) {
        const size_t i = size_t(y) * w + x;
        if (mask[i]) continue;
        const Neighbours nb = neighbours(plane, w, y, x);
        const int pred = predict(f.modes[size_t(y / kBlock) * bw + x / kBlock], nb, maxv);
        const int c = context_of(nb, pred, maxv, down);
        const uint32_t zz = zigzag(int(plane[i]) - pred, bits);
        f.ctx[i] = uint8_t(c);
        f.z[i] = zz;
        ++f.count[size_t(c) * kSymbols + std::min<uint32_t>(zz, kDirect)];
      }
  };
  tally();
  // 3. re-choose every block's mode by its code length under those tables (-log2 of each residual's
  //    frequency in its context; an unseen symbol costs 24 bits), then count again. The bit-length
  //    proxy of step 1 ignores the contexts; this pass is what makes the choice fit them (encoder only).
  {
    const std::vector<float> cost_of = code_lengths(f.count);
    std::vector<double> cost(size_t(bh) * bw * kModes, 0.0);
    for (int y = 0; y < h; ++y)
      for (int x = 0; x < w; ++x) {
        if (mask[size_t(y) * w + x]) continue;
        const Neighbours nb = neighbours(plane, w, y, x);
        double* cb = cost.data() + (size_t(y / kBlock) * bw + x / kBlock) * kModes;
        for (int m = 0; m < kModes; ++m) {
          const int pred = predict(m, nb, maxv);
          const uint32_t zz = zigzag(int(plane[size_t(y) * w + x]) - pred, bits);
          cb[m] += cost_of[size_t(context_of(nb, pred, maxv, down)) * kSymbols + std::min<uint32_t>(zz, kDirect)] +
                   (zz >= uint32_t(kDirect) ? bits : 0);
        }
      }
    for (size_t b = 0; b < f.modes.size(); ++b) {
      const double* cb = cost.data() + b * kModes;
      f.modes[b] = uint8_t(std::min_element(cb, cb + kModes) - cb);
    }
  }
  tally();
  return f;
}

// The copies as a mask over the plane, after checking that each one copies equal samples here (the
// search compares whole pixels; a caller's list that does not fit this plane is its mistake).
std::vector<uint8_t> mask_of(const uint16_t* plane, size_t n, const std::vector<Copy>& copies) {
  for (const Copy& c : copies)
    for (size_t k = c.start; k < size_t(c.start) + c.length; ++k)
      if (plane[k] != plane[k - c.distance]) bad_arg("a copy covers samples that differ from its source");
  return lossless::copied_mask(copies, n);
}

}  // namespace

std::vector<uint8_t> encode(const uint16_t* plane, int h, int w, int bits, const std::vector<Copy>& copies, int near,
                            uint16_t* recon_out) {
  check_args(h, w, bits, near);
  const size_t n = size_t(h) * w;
  const uint32_t limit = uint32_t(1) << bits;
  for (size_t i = 0; i < n; ++i)
    if (plane[i] >= limit) bad_arg("sample does not fit in the given bits");
  const std::vector<uint8_t> mask = mask_of(plane, n, copies);
  std::vector<uint16_t> recon;
  const Fit f =
      near > 0 ? fit_near(plane, h, w, bits, near, mask.data(), copies, recon) : fit(plane, h, w, bits, mask.data());
  if (near > 0 && recon_out) std::copy(recon.begin(), recon.end(), recon_out);
  std::vector<uint64_t> mode_count(kModes, 0);
  for (uint8_t m : f.modes) ++mode_count[m];
  std::vector<uint8_t> out;
  out.push_back(uint8_t(bits));
  std::vector<EncSymbol> enc(size_t(kContexts) * kSymbols), enc_mode(kModes);
  // only the contexts in use are listed (a small or flat plane uses a handful of the kContexts)
  std::vector<int> in_use;
  for (int c = 0; c < kContexts; ++c)
    if (std::any_of(f.count.begin() + size_t(c) * kSymbols, f.count.begin() + size_t(c + 1) * kSymbols,
                    [](uint64_t k) { return k != 0; }))
      in_use.push_back(c);
  write_varint(out, uint32_t(in_use.size()));
  int prev_ctx = -1;
  for (int c : in_use) {
    write_varint(out, uint32_t(c - prev_ctx));
    lossless::put_table(out, f.count.data() + size_t(c) * kSymbols, kSymbols, enc.data() + size_t(c) * kSymbols);
    prev_ctx = c;
  }
  lossless::put_table(out, mode_count.data(), kModes, enc_mode.data());
  // 4. rANS, backwards: pixels (last first), then the modes, so the decoder reads the modes first;
  //    per pixel the decoder reads the symbol, then (escape) the raw bits.
  std::vector<uint32_t> buf(2 * n + f.modes.size() + 4);
  uint32_t* const end = buf.data() + buf.size();
  uint32_t* ptr = end;
  uint64_t xs = kStateLow;
  for (size_t i = n; i-- > 0;) {
    if (mask[i]) continue;
    const uint32_t zz = f.z[i];
    if (zz >= uint32_t(kDirect)) entropy::enc_put_bits(xs, ptr, zz - kDirect, bits);
    entropy::enc_put(xs, ptr, enc[size_t(f.ctx[i]) * kSymbols + std::min<uint32_t>(zz, kDirect)]);
  }
  for (size_t b = f.modes.size(); b-- > 0;) entropy::enc_put(xs, ptr, enc_mode[f.modes[b]]);
  lossless::put_rans(out, xs, ptr, end);
  return out;
}

void pixel_costs(const uint16_t* plane, int h, int w, int bits, float* out) {
  check_args(h, w, bits);
  const size_t n = size_t(h) * w;
  const uint32_t limit = uint32_t(1) << bits;
  for (size_t i = 0; i < n; ++i)
    if (plane[i] >= limit) bad_arg("sample does not fit in the given bits");
  const std::vector<uint8_t> none(n, 0);
  const Fit f = fit(plane, h, w, bits, none.data());
  const std::vector<float> cost_of = code_lengths(f.count);
  for (size_t i = 0; i < n; ++i)
    out[i] = cost_of[size_t(f.ctx[i]) * kSymbols + std::min<uint32_t>(f.z[i], kDirect)] +
             (f.z[i] >= uint32_t(kDirect) ? float(bits) : 0.0f);
}

namespace {

// The payload up to its rANS words (tables, initial state, word count): everything a cheap check
// can look at without decoding a pixel.
struct Parsed {
  std::vector<lossless::DecTable> tables = std::vector<lossless::DecTable>(kContexts);
  lossless::DecTable mode_table;
  lossless::RansStart rans;
};

Parsed parse(const uint8_t* data, size_t size, int h, int w, int bits) {
  check_args(h, w, bits);
  if (size < 1 || data[0] != bits) corrupt("bit depth does not match the header");
  lossless::Cursor cur{data, size, 1, "alpha"};
  Parsed p;
  const uint64_t n_in_use = cur.varint();
  if (n_in_use > uint64_t(kContexts)) corrupt("corrupt table list (context count)");
  int ctx_index = -1;
  for (uint64_t k = 0; k < n_in_use; ++k) {
    const uint64_t gap = cur.varint();
    if (gap == 0 || int64_t(ctx_index) + int64_t(gap) >= kContexts) corrupt("corrupt table list (context index)");
    ctx_index += int(gap);
    lossless::read_table(cur, kSymbols, p.tables[ctx_index], false);  // decoded through PackedTables
    if (!p.tables[ctx_index].present) corrupt("corrupt table list (empty table)");
  }
  lossless::read_table(cur, kModes, p.mode_table);
  if (!p.mode_table.present) corrupt("no block-mode table");
  p.rans = lossless::read_rans_start(data, size, cur.pos, "alpha");
  return p;
}

}  // namespace

void check(const uint8_t* data, size_t size, int h, int w, int bits) { parse(data, size, h, w, bits); }

namespace {

// The decoder's pixel loop; kBits8 = the plane has 8 bits (then the bit depth's quantities are constants:
// the usual case, and the loop is latency-bound, so each shift and mask off its chain counts).
template <bool kBits8>
void decode_plane(const uint8_t* data, size_t size, int h, int w, int bits_arg, uint16_t* out,
                  const std::vector<Copy>& copies, int near) {
  const int bits = kBits8 ? 8 : bits_arg;
  Parsed p = parse(data, size, h, w, bits);
  check_args(h, w, bits, near);
  const size_t n = size_t(h) * w;
  size_t end_of_last = 0;  // copies from a caller (decode_copies' are valid): in order, apart, inside
  for (const Copy& c : copies) {
    if (c.distance < 1 || c.distance > c.start || size_t(c.start) + c.length > n) bad_arg("copy outside the plane");
    if (c.start < end_of_last || c.length == 0) bad_arg("copies not in raster order, overlapping or empty");
    end_of_last = size_t(c.start) + c.length;
  }
  const lossless::PackedTables tables(p.tables);
  uint64_t xs = p.rans.xs;
  const size_t n_words = p.rans.n_words;
  // the word reader clamps at the end; an empty word list gets a dummy to re-read
  uint8_t dummy[4] = {0, 0, 0, 0};
  entropy::WordReader in{n_words ? p.rans.words : dummy, 0, n_words ? 4 * (n_words - 1) : 0, 0};
  const int bh = (h + kBlock - 1) / kBlock, bw = (w + kBlock - 1) / kBlock;
  std::vector<uint8_t> modes(size_t(bh) * bw);
  for (auto& m : modes) m = uint8_t(lossless::dec_symbol(xs, in, p.mode_table));
  const int down = bits > 8 ? bits - 8 : 0;
  const int mod = 1 << bits;
  const int maxv = mod - 1;
  // one pixel from its neighbours: the residual's symbol (and escape bits), back to the sample
  // one pixel's residual from its neighbours and prediction: the symbol (and escape bits), unzigzagged
  auto residual = [&](const Neighbours& nb, int pred) {
    const int c = context_of(nb, pred, maxv, down);
    if (!tables.present(c)) corrupt("context without a table");
    const uint32_t s = tables.decode(xs, in, c);
    uint32_t zz = s;
    if (s == uint32_t(kDirect)) zz = kDirect + entropy::dec_get_bits(xs, in, bits);
    if (zz >= uint32_t(mod)) corrupt("residual out of range");
    return unzigzag(zz);
  };
  auto sample = [&](const Neighbours& nb, int mode) {
    const int pred = predict(mode, nb, maxv);
    return (pred + residual(nb, pred)) & maxv;
  };
  if (near > 0) {
    // near-lossless: the same symbols, dequantised (alpha_coder.h); copied pixels as below, the plain loop
    size_t next = 0;
    for (int y = 0; y < h; ++y)
      for (int x = 0; x < w; ++x) {
        const size_t i = size_t(y) * w + x;
        while (next < copies.size() && size_t(copies[next].start) + copies[next].length <= i) ++next;
        if (next < copies.size() && copies[next].start <= i) {
          out[i] = out[i - copies[next].distance];
          continue;
        }
        const Neighbours nb = neighbours(out, w, y, x);
        const int pred = predict(modes[size_t(y / kBlock) * bw + x / kBlock], nb, maxv);
        out[i] = uint16_t(reconstruct_near(pred, residual(nb, pred), near, maxv));
      }
  }
  size_t next_copy = 0;
  size_t i = near > 0 ? n : 0;  // the near-lossless loop above did every pixel
  int y = 0, x = 0;
  while (i < n) {
    const size_t copy_at = next_copy < copies.size() ? copies[next_copy].start : n;
    if (copy_at == i) {
      // copied samples: one by one, so a copy may read what it has just written (distance < length)
      const Copy& c = copies[next_copy++];
      for (size_t k = i; k < i + c.length; ++k) out[k] = out[k - c.distance];
      i += c.length;
      y = int(i / size_t(w));
      x = int(i % size_t(w));
      continue;
    }
    // inside a row below the first, away from both ends and up to the next copy, the neighbours slide
    // along in registers (the border rule needs no test there): the common case, kept short
    const size_t run_end = std::min(copy_at, size_t(y) * w + w - 1);
    if (y > 0 && x > 0 && i < run_end) {
      const uint16_t* up = out + (i - w);
      const uint8_t* mode_row = modes.data() + size_t(y / kBlock) * bw;
      Neighbours nb{out[i - 1], up[0], up[-1], up[1]};
      // per block's stretch of the row, its predictor fixed at compile time (no switch per pixel)
      auto stretch = [&](auto mode, size_t end) {
        for (; i < end; ++i, ++x, ++up) {
          const int v = sample(nb, decltype(mode)::value);
          out[i] = uint16_t(v);
          nb = Neighbours{v, nb.ne, nb.n_, up[2]};
        }
      };
      while (i < run_end) {
        const size_t end = std::min(run_end, i + size_t(kBlock - x % kBlock));
        switch (mode_row[x / kBlock]) {
          case 0: stretch(std::integral_constant<int, 0>(), end); break;
          case 1: stretch(std::integral_constant<int, 1>(), end); break;
          case 2: stretch(std::integral_constant<int, 2>(), end); break;
          case 3: stretch(std::integral_constant<int, 3>(), end); break;
          case 4: stretch(std::integral_constant<int, 4>(), end); break;
          case 5: stretch(std::integral_constant<int, 5>(), end); break;
          case 6: stretch(std::integral_constant<int, 6>(), end); break;
          default: stretch(std::integral_constant<int, 7>(), end); break;
        }
      }
      continue;
    }
    out[i] = uint16_t(sample(neighbours(out, w, y, x), modes[size_t(y / kBlock) * bw + x / kBlock]));
    ++i;
    if (++x == w) {
      x = 0;
      ++y;
    }
  }
  if (in.overrun || xs != kStateLow || in.pos != 4 * n_words) corrupt("corrupt payload (state or length mismatch)");
}

}  // namespace

void decode(const uint8_t* data, size_t size, int h, int w, int bits, uint16_t* out, const std::vector<Copy>& copies,
            int near) {
  if (bits == 8) return decode_plane<true>(data, size, h, w, bits, out, copies, near);
  decode_plane<false>(data, size, h, w, bits, out, copies, near);
}

}  // namespace jpegai::alpha
