// The plane coder's encoder (alpha_coder.h for the model).
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
#include <string>
#include <vector>

#include "alpha/plane_model.h"
#include "common/varint.h"
#include "entropy/rans.h"
#include "lossless/static_table.h"

namespace jpegai::alpha {
namespace {

using entropy::EncSymbol;
using entropy::kStateLow;
using lossless::Copy;
using namespace model;

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

}  // namespace jpegai::alpha
