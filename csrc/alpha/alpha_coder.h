// Lossless coder for alpha planes (and any single plane of 1..16-bit samples), on the rANS core.
//
// Model (designed for alpha: large flat areas, hard or anti-aliased edges):
//  * prediction: per kBlock x kBlock block, the best of kModes predictors (the encoder picks the one
//    with the smallest total residual bit length and codes the choice): the median edge detector of
//    LOCO-I / JPEG-LS, W, N, (W + N) / 2, clamp(W + N - NW), NE, (N + NE) / 2, NW;
//  * residual: (value - prediction) mod 2^bits, folded to the signed range and zig-zag mapped, so a
//    0 <-> max jump costs a small symbol;
//  * context: the local activity |W - NW| + |N - NW| + |N - NE| (8-bit scale) in 8 buckets, so flat
//    areas (activity 0, residual almost always 0) cost a few thousandths of a bit per pixel; times
//    whether the prediction is 0, the maximum or between, the sign of NE - N and whether NW is 0, the
//    maximum or between (anti-aliased edges of mostly 0/max planes: -15 % on graphics);
//  * coding: one static 16-bit frequency table per context (two passes: count, then code), symbols
//    0..kDirect-1 direct, kDirect escapes to `bits` raw bits; one rANS state.
//  * near-lossless (near = N >= 1; the caller stores N, the payload does not): the residual e =
//    value - prediction is quantised in the loop, q = sign(e) floor((|e| + N) / (2N + 1)), the sample
//    becomes clamp(prediction + q (2N + 1), 0, 2^bits - 1), within N of the source, and predictions and
//    contexts read these reconstructed samples, so the decoder sees what the encoder saw. q's zig-zag
//    is the symbol (no wrap: |q| < 2^(bits-1)). A copy takes the reconstructed samples of its source,
//    which are within N of the (equal) source samples it repeats.
//
// Payload layout: alpha_encoder.cpp (and docs/format.md).
#pragma once
#include <cstddef>
#include <cstdint>
#include <vector>

#include "lossless/copy_map.h"

namespace jpegai::alpha {

constexpr int kContexts = 8 * 3 * 3 * 3;  // activity x level(prediction) x sign(NE - N) x level(NW)
constexpr int kDirect = 255;              // zig-zag residuals below are symbols; kDirect = escape
constexpr int kSymbols = kDirect + 1;
constexpr int kModes = 8;   // predictors a block may choose
constexpr int kBlock = 16;  // block side, pixels

// plane: h * w samples, each < 2^bits (1 <= bits <= 16); the pixels `copies` cover (a lossless stream's
// copy map, decoded) are left out of the payload. Throws InvalidArgument on bad input (a copy whose
// samples differ from its source in this plane included).
std::vector<uint8_t> encode(const uint16_t* plane, int h, int w, int bits, const std::vector<lossless::Copy>& copies,
                            int near = 0, uint16_t* recon = nullptr);
// recon (near >= 1 only, h * w, may be null): receives the samples the decoder will reconstruct, so a
// caller can code other planes against them (format/lossless.py's near-lossless subtract-green).

// Decodes into out (h * w), filling the pixels `copies` cover from their source. Throws CorruptStream
// for a corrupt or mismatched payload; never reads outside data[0, size).
void decode(const uint8_t* data, size_t size, int h, int w, int bits, uint16_t* out,
            const std::vector<lossless::Copy>& copies, int near = 0);

// Several planes of one size and bit depth that share `copies` (a tile's colour planes and alpha), each
// payload into its out (h * w): what decode does for each, in one pass whose planes' dependency chains
// overlap (lossless only: near >= 1 takes one plane). Every payload's tables are read before any pixel.
// Throws CorruptStream naming no plane: a caller that needs to say which one decodes them one by one.
struct GroupPlane {
  const uint8_t* data;
  size_t size;
  uint16_t* out;
};
void decode_group(const std::vector<GroupPlane>& planes, int h, int w, int bits,
                  const std::vector<lossless::Copy>& copies, int near = 0);

// The largest near-lossless bound N for `bits`-bit samples: 2^(bits-1) - 1 (then |q| stays below 2^(bits-1)).
constexpr int max_near(int bits) { return (1 << (bits - 1)) - 1; }

// The encoder's estimate of each pixel's cost in bits when coded without copies (out: h * w), which the
// copy search weighs a copy against.
void pixel_costs(const uint16_t* plane, int h, int w, int bits, float* out);

// The cheap part of decode: the tables, the initial state and the word count, no pixel. Throws what
// decode would for a payload damaged there (the decoder runs it before any expensive stage).
void check(const uint8_t* data, size_t size, int h, int w, int bits);

}  // namespace jpegai::alpha
