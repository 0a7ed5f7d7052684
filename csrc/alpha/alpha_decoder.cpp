// The plane coder's decoder (alpha_coder.h for the model, alpha_encoder.cpp for the payload layout).
#include "alpha/alpha_coder.h"

#include <algorithm>
#include <cstring>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "alpha/plane_model.h"
#include "entropy/rans.h"
#include "lossless/static_table.h"

namespace jpegai::alpha {

using entropy::kStateLow;
using lossless::Copy;
using namespace model;

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

// One plane of a decode: its tables, block modes, rANS state and word reader (the modes already read:
// they come first in the stream), and where its samples go.
struct PlaneDecoder {
  lossless::PackedTables tables;
  std::vector<uint8_t> modes;
  uint64_t xs;
  entropy::WordReader in;
  size_t n_words;
  uint16_t* out;

  PlaneDecoder(Parsed&& p, int h, int w, uint16_t* out_)
      : tables(p.tables), xs(p.rans.xs), n_words(p.rans.n_words), out(out_) {
    // the word reader clamps at the end; an empty word list re-reads four zero bytes
    static constexpr uint8_t kNoWords[4] = {0, 0, 0, 0};
    in = entropy::WordReader{n_words ? p.rans.words : kNoWords, 0, n_words ? 4 * (n_words - 1) : 0, 0};
    modes.resize(size_t((h + kBlock - 1) / kBlock) * size_t((w + kBlock - 1) / kBlock));
    for (auto& m : modes) m = uint8_t(lossless::dec_symbol(xs, in, p.mode_table));
  }
  // every word consumed and the encoder's initial state reached, or the payload was damaged
  void finish() const {
    if (in.overrun || xs != kStateLow || in.pos != 4 * n_words) corrupt("corrupt payload (state or length mismatch)");
  }
};

void check_copies(const std::vector<Copy>& copies, size_t n) {
  size_t end_of_last = 0;  // copies from a caller (decode_copies' are valid): in order, apart, inside
  for (const Copy& c : copies) {
    if (c.distance < 1 || c.distance > c.start || size_t(c.start) + c.length > n) bad_arg("copy outside the plane");
    if (c.start < end_of_last || c.length == 0) bad_arg("copies not in raster order, overlapping or empty");
    end_of_last = size_t(c.start) + c.length;
  }
}

// One residual's zig-zag value from the table of its context ctx (and escape bits): what the lossless and
// the near-lossless loops read per coded pixel. mod = 2^bits.
inline uint32_t read_residual(const lossless::PackedTables& tables, uint64_t& xs, entropy::WordReader& in, int ctx,
                              int bits, int mod) {
  if (!tables.present(ctx)) corrupt("context without a table");
  const uint32_t s = tables.decode(xs, in, ctx);
  const uint32_t zz = s == uint32_t(kDirect) ? kDirect + entropy::dec_get_bits(xs, in, bits) : s;
  if (zz >= uint32_t(mod)) corrupt("residual out of range");
  return zz;
}

// f(integral_constant<int, c>) for c = 0 .. K-1, unrolled: each plane's state indexed by a constant stays
// in registers (a loop over c kept the K rANS states in memory, and the lockstep was slower than one plane)
template <int... C, class F>
inline void unrolled(std::integer_sequence<int, C...>, F&& f) {
  (f(std::integral_constant<int, C>()), ...);
}
template <int K, class F>
inline void each_plane(F&& f) {
  unrolled(std::make_integer_sequence<int, K>(), f);
}

// The lossless pixel loop over K planes of one size that share the copy map (a tile's colour planes and
// alpha), in lockstep: each pixel of plane 0, then of plane 1, ... Each plane's symbols are read in its
// own raster order, so the payloads are those of single-plane decodes; what the lockstep buys is K
// independent chains in flight. One plane's loop is latency-bound (a pixel's context needs its west
// neighbour, so the next table lookup waits for the sample before it); K chains fill each other's stalls.
// kBits8 = the planes have 8 bits (then the bit depth's quantities are constants, each shift and mask
// off the chain counts).
template <int K, bool kBits8>
void decode_lossless(PlaneDecoder* const* planes, int h, int w, int bits_arg, const std::vector<Copy>& copies) {
  const int bits = kBits8 ? 8 : bits_arg;
  const size_t n = size_t(h) * w;
  const int bw = (w + kBlock - 1) / kBlock;
  const int down = bits > 8 ? bits - 8 : 0;
  const int mod = 1 << bits;
  const int maxv = mod - 1;
  // the chains' state in locals (registers once the loops over c unroll), written back at the end
  uint64_t xs[K];
  entropy::WordReader in[K];
  uint16_t* out[K];
  const lossless::PackedTables* tables[K];
  const uint8_t* modes[K];
  for (int c = 0; c < K; ++c) {
    xs[c] = planes[c]->xs;
    in[c] = planes[c]->in;
    out[c] = planes[c]->out;
    tables[c] = &planes[c]->tables;
    modes[c] = planes[c]->modes.data();
  }
  // plane c's sample from its neighbours under predictor `mode`: the residual's symbol (and escape bits)
  auto sample = [&](int c, const Neighbours& nb, int mode) {
    const int pred = predict(mode, nb, maxv);
    const uint32_t zz = read_residual(*tables[c], xs[c], in[c], context_of(nb, pred, maxv, down), bits, mod);
    return (pred + unzigzag(zz)) & maxv;
  };
  size_t next_copy = 0;
  size_t i = 0;
  int y = 0, x = 0;
  while (i < n) {
    const size_t copy_at = next_copy < copies.size() ? copies[next_copy].start : n;
    if (copy_at == i) {
      // copied samples: one by one, so a copy may read what it has just written (distance < length)
      const Copy& cp = copies[next_copy++];
      for (int c = 0; c < K; ++c)
        for (size_t k = i; k < i + cp.length; ++k) out[c][k] = out[c][k - cp.distance];
      i += cp.length;
      y = int(i / size_t(w));
      x = int(i % size_t(w));
      continue;
    }
    // inside a row below the first, away from both ends and up to the next copy, the neighbours slide
    // along in registers (the border rule needs no test there): the common case, kept short
    const size_t run_end = std::min(copy_at, size_t(y) * w + w - 1);
    if (y > 0 && x > 0 && i < run_end) {
      Neighbours nb[K];
      for (int c = 0; c < K; ++c)
        nb[c] = Neighbours{out[c][i - 1], out[c][i - w], out[c][i - w - 1], out[c][i - w + 1]};
      const size_t row_blocks = size_t(y / kBlock) * bw;
      while (i < run_end) {
        const size_t end = std::min(run_end, i + size_t(kBlock - x % kBlock));
        if constexpr (K == 1) {
          // one plane: per block's stretch of the row, its predictor fixed at compile time (no switch per pixel)
          auto stretch = [&](auto mode) {
            for (; i < end; ++i, ++x) {
              const int v = sample(0, nb[0], decltype(mode)::value);
              out[0][i] = uint16_t(v);
              nb[0] = Neighbours{v, nb[0].ne, nb[0].n_, out[0][i - w + 2]};
            }
          };
          switch (modes[0][row_blocks + x / kBlock]) {
            case 0: stretch(std::integral_constant<int, 0>()); break;
            case 1: stretch(std::integral_constant<int, 1>()); break;
            case 2: stretch(std::integral_constant<int, 2>()); break;
            case 3: stretch(std::integral_constant<int, 3>()); break;
            case 4: stretch(std::integral_constant<int, 4>()); break;
            case 5: stretch(std::integral_constant<int, 5>()); break;
            case 6: stretch(std::integral_constant<int, 6>()); break;
            default: stretch(std::integral_constant<int, 7>()); break;
          }
        } else {
          // several planes: each its own block's predictor (a switch whose branch stays put for the stretch)
          int m[K];
          for (int c = 0; c < K; ++c) m[c] = modes[c][row_blocks + x / kBlock];
          for (; i < end; ++i, ++x)
            each_plane<K>([&](auto c) {
              const int v = sample(c, nb[c], m[c]);
              out[c][i] = uint16_t(v);
              nb[c] = Neighbours{v, nb[c].ne, nb[c].n_, out[c][i - w + 2]};
            });
        }
      }
      continue;
    }
    for (int c = 0; c < K; ++c)
      out[c][i] = uint16_t(sample(c, neighbours(out[c], w, y, x), modes[c][size_t(y / kBlock) * bw + x / kBlock]));
    ++i;
    if (++x == w) {
      x = 0;
      ++y;
    }
  }
  for (int c = 0; c < K; ++c) {
    planes[c]->xs = xs[c];
    planes[c]->in = in[c];
  }
}

// Near-lossless (one plane): the same symbols, dequantised (alpha_coder.h); a copied pixel repeats its source.
void decode_near(PlaneDecoder& p, int h, int w, int bits, const std::vector<Copy>& copies, int near) {
  const int bw = (w + kBlock - 1) / kBlock;
  const int down = bits > 8 ? bits - 8 : 0;
  const int mod = 1 << bits;
  const int maxv = mod - 1;
  uint16_t* out = p.out;
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
      const int pred = predict(p.modes[size_t(y / kBlock) * bw + x / kBlock], nb, maxv);
      const uint32_t zz = read_residual(p.tables, p.xs, p.in, context_of(nb, pred, maxv, down), bits, mod);
      out[i] = uint16_t(reconstruct_near(pred, unzigzag(zz), near, maxv));
    }
}

template <int K>
void decode_lossless_k(PlaneDecoder* const* planes, int h, int w, int bits, const std::vector<Copy>& copies) {
  if (bits == 8) return decode_lossless<K, true>(planes, h, w, bits, copies);
  decode_lossless<K, false>(planes, h, w, bits, copies);
}

}  // namespace

void decode_group(const std::vector<GroupPlane>& group, int h, int w, int bits, const std::vector<Copy>& copies,
                  int near) {
  check_args(h, w, bits, near);
  if (group.empty()) return;
  if (near > 0 && group.size() > 1) bad_arg("a near-lossless decode takes one plane at a time");
  check_copies(copies, size_t(h) * w);
  // every payload's tables and modes first, so a damaged table fails before any pixel is decoded
  std::vector<PlaneDecoder> planes;
  planes.reserve(group.size());
  for (const GroupPlane& g : group) planes.emplace_back(parse(g.data, g.size, h, w, bits), h, w, g.out);
  if (near > 0) {
    decode_near(planes[0], h, w, bits, copies, near);
  } else {
    // lockstep groups of up to four planes (a tile's RGBA); more take turns
    for (size_t at = 0; at < planes.size(); at += 4) {
      PlaneDecoder* chunk[4];
      const size_t k = std::min<size_t>(4, planes.size() - at);
      for (size_t c = 0; c < k; ++c) chunk[c] = &planes[at + c];
      switch (k) {
        case 1: decode_lossless_k<1>(chunk, h, w, bits, copies); break;
        case 2: decode_lossless_k<2>(chunk, h, w, bits, copies); break;
        case 3: decode_lossless_k<3>(chunk, h, w, bits, copies); break;
        default: decode_lossless_k<4>(chunk, h, w, bits, copies); break;
      }
    }
  }
  for (const PlaneDecoder& p : planes) p.finish();
}

void decode(const uint8_t* data, size_t size, int h, int w, int bits, uint16_t* out, const std::vector<Copy>& copies,
            int near) {
  decode_group({GroupPlane{data, size, out}}, h, w, bits, copies, near);
}

}  // namespace jpegai::alpha
