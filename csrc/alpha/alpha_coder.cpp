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
#include "alpha/alpha_coder.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <stdexcept>
#include <string>

#include "common/check.h"
#include "common/portable.h"
#include "common/varint.h"
#include "entropy/quantise.h"
#include "entropy/rans.h"

namespace jpegai::alpha {
namespace {

using entropy::EncSymbol;
using entropy::kProbTotal;
using entropy::kStateLow;

// A caller's mistake (InvalidArgument -> ValueError) vs bytes no encoder writes (CorruptStream -> DecodeError).
[[noreturn]] void bad_arg(const std::string& what) { jpegai::fail("alpha: " + what); }
[[noreturn]] void corrupt(const std::string& what) { jpegai::fail_stream("alpha: " + what); }

// Activity bucket (0 .. kActivity-1) of |W - NW| + |N - NW| + |N - NE| on the 8-bit scale.
inline int activity_of(int w_, int n_, int nw, int ne, int down) {
  const int d = (std::abs(w_ - nw) + std::abs(n_ - nw) + std::abs(n_ - ne)) >> down;
  if (d == 0) return 0;
  if (d <= 2) return 1;
  if (d <= 6) return 2;
  if (d <= 14) return 3;
  if (d <= 30) return 4;
  if (d <= 62) return 5;
  if (d <= 126) return 6;
  return 7;
}

// 0: fully transparent, 1: fully opaque, 2: in between. Alpha is mostly 0 or max: a prediction at
// an extreme can only err one way, and an edge pixel next to a transparent/opaque NW behaves apart.
inline int level_of(int v, int maxv) { return v == 0 ? 0 : (v == maxv ? 1 : 2); }

inline int predict_med(int w_, int n_, int nw) {
  const int mx = std::max(w_, n_), mn = std::min(w_, n_);
  if (nw >= mx) return mn;
  if (nw <= mn) return mx;
  return w_ + n_ - nw;
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

void put_varint(std::vector<uint8_t>& out, uint32_t v) {
  while (v >= 0x80) {
    out.push_back(uint8_t(v | 0x80));
    v >>= 7;
  }
  out.push_back(uint8_t(v));
}

// Reads the payload's tables; every varint follows the format's one rule (common/varint.h).
struct Cursor {
  const uint8_t* data;
  size_t size, pos = 0;
  uint64_t varint() {
    uint64_t v = 0;
    switch (read_varint(data, size, pos, v)) {
      case VarintStatus::kOk: return v;
      case VarintStatus::kTruncated: corrupt("truncated table");
      case VarintStatus::kNonCanonical: corrupt("non-canonical varint in table");
      case VarintStatus::kTooLong: break;
    }
    corrupt("bad varint in table (over 5 bytes)");
  }
};

void check_args(int h, int w, int bits) {
  if (h < 1 || w < 1) bad_arg("plane must be at least 1x1");
  if (bits < 1 || bits > 16) bad_arg("bits must be 1..16");
  if (int64_t(h) * w > (int64_t(1) << 32)) bad_arg("plane too large");
}

}  // namespace

namespace {

// Writes one table (symbol counts -> quantised frequencies) and fills its encoder symbols.
void put_table(std::vector<uint8_t>& out, const uint64_t* count, int n_symbols, EncSymbol* enc) {
  std::vector<int> used;
  std::vector<entropy::u128> masses;
  for (int s = 0; s < n_symbols; ++s)
    if (count[s]) {
      used.push_back(s);
      masses.push_back(entropy::u128(count[s]));
    }
  put_varint(out, uint32_t(used.size()));
  if (used.empty()) return;
  const std::vector<uint32_t> freq = entropy::quantise_masses(masses);
  uint32_t start = 0;
  int prev = -1;
  for (size_t k = 0; k < used.size(); ++k) {
    put_varint(out, uint32_t(used[k] - prev));
    put_varint(out, freq[k] - 1);
    enc[used[k]] = entropy::make_enc_symbol(start, freq[k]);
    start += freq[k];
    prev = used[k];
  }
}

}  // namespace

std::vector<uint8_t> encode(const uint16_t* plane, int h, int w, int bits) {
  check_args(h, w, bits);
  const size_t n = size_t(h) * w;
  const int down = bits > 8 ? bits - 8 : 0;
  const int maxv = (1 << bits) - 1;
  const uint32_t limit = uint32_t(1) << bits;
  for (size_t i = 0; i < n; ++i)
    if (plane[i] >= limit) bad_arg("sample does not fit in the given bits");
  // 1. per block, the predictor with the smallest total residual bit length (a rate proxy)
  const int bh = (h + kBlock - 1) / kBlock, bw = (w + kBlock - 1) / kBlock;
  std::vector<uint8_t> modes(size_t(bh) * bw, 0);
  {
    std::vector<uint64_t> cost(size_t(bh) * bw * kModes, 0);
    for (int y = 0; y < h; ++y)
      for (int x = 0; x < w; ++x) {
        const Neighbours nb = neighbours(plane, w, y, x);
        uint64_t* c = cost.data() + (size_t(y / kBlock) * bw + x / kBlock) * kModes;
        for (int m = 0; m < kModes; ++m)
          c[m] += uint64_t(bit_length(zigzag(int(plane[size_t(y) * w + x]) - predict(m, nb, maxv), bits)));
      }
    for (size_t b = 0; b < modes.size(); ++b) {
      const uint64_t* c = cost.data() + b * kModes;
      modes[b] = uint8_t(std::min_element(c, c + kModes) - c);  // ties: the lowest mode
    }
  }
  // 2. residuals, contexts, counts under the chosen modes
  std::vector<uint8_t> ctx(n);
  std::vector<uint32_t> z(n);
  std::vector<uint64_t> count(size_t(kContexts) * kSymbols, 0), mode_count(kModes, 0);
  auto tally = [&] {
    std::fill(count.begin(), count.end(), 0);
    for (int y = 0; y < h; ++y)
      for (int x = 0; x < w; ++x) {
        const size_t i = size_t(y) * w + x;
        const Neighbours nb = neighbours(plane, w, y, x);
        const int m = modes[size_t(y / kBlock) * bw + x / kBlock];
        const int pred = predict(m, nb, maxv);
        const int c = context_of(nb, pred, maxv, down);
        const uint32_t zz = zigzag(int(plane[i]) - pred, bits);
        ctx[i] = uint8_t(c);
        z[i] = zz;
        ++count[size_t(c) * kSymbols + std::min<uint32_t>(zz, kDirect)];
      }
  };
  tally();
  // 3. re-choose every block's mode by its code length under those tables (-log2 of each residual's
  //    frequency in its context; an unseen symbol costs 24 bits), then count again. The bit-length
  //    proxy of step 1 ignores the contexts; this pass is what makes the choice fit them (encoder only).
  {
    std::vector<float> cost_of(size_t(kContexts) * kSymbols, 24.0f);
    for (int c = 0; c < kContexts; ++c) {
      uint64_t total = 0;
      for (int s = 0; s < kSymbols; ++s) total += count[size_t(c) * kSymbols + s];
      for (int s = 0; s < kSymbols && total; ++s) {
        const uint64_t k = count[size_t(c) * kSymbols + s];
        if (k) cost_of[size_t(c) * kSymbols + s] = float(std::log2(double(total) / double(k)));
      }
    }
    std::vector<double> cost(size_t(bh) * bw * kModes, 0.0);
    for (int y = 0; y < h; ++y)
      for (int x = 0; x < w; ++x) {
        const Neighbours nb = neighbours(plane, w, y, x);
        double* cb = cost.data() + (size_t(y / kBlock) * bw + x / kBlock) * kModes;
        for (int m = 0; m < kModes; ++m) {
          const int pred = predict(m, nb, maxv);
          const uint32_t zz = zigzag(int(plane[size_t(y) * w + x]) - pred, bits);
          cb[m] += cost_of[size_t(context_of(nb, pred, maxv, down)) * kSymbols + std::min<uint32_t>(zz, kDirect)] +
                   (zz >= uint32_t(kDirect) ? bits : 0);
        }
      }
    for (size_t b = 0; b < modes.size(); ++b) {
      const double* cb = cost.data() + b * kModes;
      modes[b] = uint8_t(std::min_element(cb, cb + kModes) - cb);
    }
  }
  tally();
  for (uint8_t m : modes) ++mode_count[m];
  std::vector<uint8_t> out;
  out.push_back(uint8_t(bits));
  std::vector<EncSymbol> enc(size_t(kContexts) * kSymbols), enc_mode(kModes);
  // only the contexts in use are listed (a small or flat plane uses a handful of the kContexts)
  std::vector<int> in_use;
  for (int c = 0; c < kContexts; ++c)
    if (std::any_of(count.begin() + size_t(c) * kSymbols, count.begin() + size_t(c + 1) * kSymbols,
                    [](uint64_t k) { return k != 0; }))
      in_use.push_back(c);
  put_varint(out, uint32_t(in_use.size()));
  int prev_ctx = -1;
  for (int c : in_use) {
    put_varint(out, uint32_t(c - prev_ctx));
    put_table(out, count.data() + size_t(c) * kSymbols, kSymbols, enc.data() + size_t(c) * kSymbols);
    prev_ctx = c;
  }
  put_table(out, mode_count.data(), kModes, enc_mode.data());
  // 4. rANS, backwards: pixels (last first), then the modes, so the decoder reads the modes first;
  //    per pixel the decoder reads the symbol, then (escape) the raw bits.
  std::vector<uint32_t> buf(2 * n + modes.size() + 4);
  uint32_t* const end = buf.data() + buf.size();
  uint32_t* ptr = end;
  uint64_t xs = kStateLow;
  for (size_t i = n; i-- > 0;) {
    if (z[i] >= uint32_t(kDirect)) entropy::enc_put_bits(xs, ptr, z[i] - kDirect, bits);
    entropy::enc_put(xs, ptr, enc[size_t(ctx[i]) * kSymbols + std::min<uint32_t>(z[i], kDirect)]);
  }
  for (size_t b = modes.size(); b-- > 0;) entropy::enc_put(xs, ptr, enc_mode[modes[b]]);
  const size_t table_end = out.size();
  out.resize(table_end + 8 + 4 * size_t(end - ptr));
  uint8_t* o = out.data() + table_end;
  for (int k = 0; k < 4; ++k) o[k] = uint8_t(uint32_t(xs) >> (8 * k));
  for (int k = 0; k < 4; ++k) o[4 + k] = uint8_t(uint32_t(xs >> 32) >> (8 * k));
  std::memcpy(o + 8, ptr, 4 * size_t(end - ptr));  // little-endian hosts (checked in coder.cpp)
  return out;
}

namespace {

// Decoder view of one table: its symbols in order with their cumulative starts, and a coarse lookup
// (slot >> kCoarseShift -> the first symbol whose range reaches that bucket) so a slot is found with a
// short forward scan. 2 KB per table instead of a 128 KB slot table: with kContexts tables the
// lookups stay in cache.
constexpr int kCoarseShift = 6;
struct DecTable {
  bool present = false;
  std::vector<uint16_t> sym;     // used symbols, ascending
  std::vector<uint32_t> cum;     // cum[k] = start of sym[k]; cum.back() = 2^16
  std::vector<uint16_t> coarse;  // per bucket of 2^kCoarseShift slots: index into sym
};

void read_table(Cursor& cur, int n_symbols, DecTable& t) {
  const uint64_t used = cur.varint();
  if (used > uint64_t(n_symbols)) corrupt("corrupt table (symbol count)");
  if (!used) return;
  t.present = true;
  t.sym.resize(used);
  t.cum.resize(used + 1);
  int sym = -1;
  uint64_t total = 0;
  for (uint64_t k = 0; k < used; ++k) {
    const uint64_t gap = cur.varint(), f = cur.varint() + 1;
    if (gap == 0 || int64_t(sym) + int64_t(gap) >= n_symbols || f > kProbTotal || total + f > kProbTotal)
      corrupt("corrupt table");
    sym += int(gap);
    t.sym[k] = uint16_t(sym);
    t.cum[k] = uint32_t(total);
    total += f;
  }
  if (total != kProbTotal) corrupt("corrupt table (frequencies)");
  t.cum[used] = uint32_t(total);
  t.coarse.resize(kProbTotal >> kCoarseShift);
  uint32_t k = 0;
  for (uint32_t b = 0; b < t.coarse.size(); ++b) {
    while (t.cum[k + 1] <= (b << kCoarseShift)) ++k;
    t.coarse[b] = uint16_t(k);
  }
}

inline uint32_t dec_symbol(uint64_t& xs, entropy::WordReader& in, const DecTable& t) {
  const uint32_t slot = uint32_t(xs & (kProbTotal - 1));
  uint32_t k = t.coarse[slot >> kCoarseShift];
  while (t.cum[k + 1] <= slot) ++k;  // cum is increasing and ends at 2^16 > slot: stays in range
  xs = uint64_t(t.cum[k + 1] - t.cum[k]) * (xs >> entropy::kPrecision) + slot - t.cum[k];
  entropy::dec_renorm(xs, in);
  return t.sym[k];
}

// The payload up to its rANS words (tables, initial state, word count): everything a cheap check
// can look at without decoding a pixel.
struct Parsed {
  std::vector<DecTable> tables = std::vector<DecTable>(kContexts);
  DecTable mode_table;
  uint64_t xs = 0;  // the decoder's initial state
  const uint8_t* words = nullptr;
  size_t n_words = 0;
};

Parsed parse(const uint8_t* data, size_t size, int h, int w, int bits) {
  check_args(h, w, bits);
  Cursor cur{data, size};
  if (size < 1 || data[0] != bits) corrupt("bit depth does not match the header");
  cur.pos = 1;
  Parsed p;
  const uint64_t n_in_use = cur.varint();
  if (n_in_use > uint64_t(kContexts)) corrupt("corrupt table list (context count)");
  int ctx_index = -1;
  for (uint64_t k = 0; k < n_in_use; ++k) {
    const uint64_t gap = cur.varint();
    if (gap == 0 || int64_t(ctx_index) + int64_t(gap) >= kContexts) corrupt("corrupt table list (context index)");
    ctx_index += int(gap);
    read_table(cur, kSymbols, p.tables[ctx_index]);
    if (!p.tables[ctx_index].present) corrupt("corrupt table list (empty table)");
  }
  read_table(cur, kModes, p.mode_table);
  if (!p.mode_table.present) corrupt("no block-mode table");
  if (size - cur.pos < 8 || (size - cur.pos) % 4) corrupt("truncated payload");
  const uint8_t* q = data + cur.pos;
  for (int k = 7; k >= 0; --k) p.xs = (p.xs << 8) | q[k];
  if (p.xs < kStateLow || p.xs >= (uint64_t(1) << 63)) corrupt("corrupt state");
  p.words = q + 8;
  p.n_words = (size - cur.pos - 8) / 4;
  return p;
}

}  // namespace

void check(const uint8_t* data, size_t size, int h, int w, int bits) { parse(data, size, h, w, bits); }

void decode(const uint8_t* data, size_t size, int h, int w, int bits, uint16_t* out) {
  Parsed p = parse(data, size, h, w, bits);
  const std::vector<DecTable>& tables = p.tables;
  uint64_t xs = p.xs;
  const size_t n_words = p.n_words;
  // the word reader clamps at the end; an empty word list gets a dummy to re-read
  uint8_t dummy[4] = {0, 0, 0, 0};
  entropy::WordReader in{n_words ? p.words : dummy, 0, n_words ? 4 * (n_words - 1) : 0, 0};
  const int bh = (h + kBlock - 1) / kBlock, bw = (w + kBlock - 1) / kBlock;
  std::vector<uint8_t> modes(size_t(bh) * bw);
  for (auto& m : modes) m = uint8_t(dec_symbol(xs, in, p.mode_table));
  const int down = bits > 8 ? bits - 8 : 0;
  const int mod = 1 << bits;
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x) {
      const Neighbours nb = neighbours(out, w, y, x);
      const int m = modes[size_t(y / kBlock) * bw + x / kBlock];
      const int pred = predict(m, nb, mod - 1);
      const int c = context_of(nb, pred, mod - 1, down);
      if (!tables[c].present) corrupt("context without a table");
      const uint32_t s = dec_symbol(xs, in, tables[c]);
      uint32_t zz = s;
      if (s == uint32_t(kDirect)) zz = kDirect + entropy::dec_get_bits(xs, in, bits);
      if (zz >= uint32_t(mod)) corrupt("residual out of range");
      out[size_t(y) * w + x] = uint16_t((pred + unzigzag(zz)) & (mod - 1));
    }
  if (in.overrun || xs != kStateLow || in.pos != 4 * n_words) corrupt("corrupt payload (state or length mismatch)");
}

}  // namespace jpegai::alpha
