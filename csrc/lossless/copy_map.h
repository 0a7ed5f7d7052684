// The copy map of a lossless stream (docs/format.md, "Lossless streams": kind 7): runs of pixels that
// repeat earlier pixels of the same image, coded once for all its planes. A copy says "the `length`
// pixels from raster index `start` on equal the pixels `distance` earlier" (sample by sample, so a
// copy may overlap its source: distance 1 repeats one pixel). Every plane's coder skips the copied
// pixels and its decoder fills them in, so flat areas and repeated patterns (text, icons, tiles) cost
// the copy's few bits instead of a prediction residual per pixel and plane.
//
// Payload (little-endian):
//   varint count        copies (>= 1; at most pixels / kMinCopy)
//   4 tables (lossless/static_table.h): gap classes (kClasses symbols), distance symbols
//     (kDistanceSymbols), length classes (kClasses), dx classes (kClasses; empty when no distance is new)
//   u32 x_lo, u32 x_hi, u32 words   one rANS stream: per copy, in raster order, its gap (pixels since the
//     end of the previous copy), its distance, its length - kMinCopy.
// A value v >= 0 (gap, length - kMinCopy, dy, zig-zag dx) is its class bit_length(v) (0 .. 32) and, for
// classes >= 2, the class - 1 bits of v below its top bit, raw. Distance symbols: 0 .. kCachedDistances - 1
// = an entry of the distance cache (below), kCachedDistances + c = a new distance dy w + dx, c the class of
// dy (its raw bits follow), then dx zig-zagged as a value of the dx table: repeats in drawings are mostly
// a row or a few up and a few pixels across, which this codes in fewer bits than the distance's own bit
// length. The cache holds the distances of the last copies, most recent first, starting as 1, w, w - 1,
// w + 1 (the pixel to the left, above, above right, above left; entries < 1 as they are, never matched by
// a valid copy); after each copy its distance moves to the front (or enters there, the last entry
// dropping out). Repeated patterns (a line of text, a tiled background) reuse a few distances, which
// then cost a symbol of about a bit.
#pragma once
#include <cstddef>
#include <cstdint>
#include <vector>

namespace jpegai::lossless {

constexpr int kMinCopy = 4;   // pixels; a shorter copy rarely pays for its fields
constexpr int kClasses = 33;  // bit lengths 0 .. 32
constexpr int kCachedDistances = 4;
constexpr int kDistanceSymbols = kCachedDistances + kClasses;  // the cache, then dy's class

struct Copy {
  uint32_t start, distance, length;  // pixel indices in raster order; start >= distance >= 1
};

// The recent distances (see above): encoder, decoder and search keep one each, updated alike.
struct DistanceCache {
  int64_t d[kCachedDistances];
  explicit DistanceCache(int w) : d{1, w, int64_t(w) - 1, int64_t(w) + 1} {}
  int find(uint32_t distance) const {  // its index, or -1
    for (int k = 0; k < kCachedDistances; ++k)
      if (d[k] == int64_t(distance)) return k;
    return -1;
  }
  void use(uint32_t distance) {
    int k = find(distance);
    if (k < 0) k = kCachedDistances - 1;
    for (; k > 0; --k) d[k] = d[k - 1];
    d[0] = distance;
  }
};

// How a field is coded: its symbol and the raw bits that follow it. value_*: a gap or length - kMinCopy
// (the symbol is the class); distance_*: a distance given the cache before its copy.
int value_symbol(uint32_t v);
int value_raw_bits(int symbol);
struct DistanceFields {
  int symbol;     // of the distance table
  int dx_symbol;  // of the dx table; -1 for a cached distance (no dx)
  int raw_bits;   // dy's and dx's together
};
DistanceFields distance_fields(uint32_t distance, const DistanceCache& cache, int w);

// The payload of `copies` (sorted, non-overlapping, each valid for an h x w image: length >= kMinCopy,
// 1 <= distance <= start, start + length <= h w). Throws InvalidArgument otherwise or when empty.
std::vector<uint8_t> encode_copies(const std::vector<Copy>& copies, int h, int w);

// The copies of a payload for an h x w image; CorruptStream (DecodeError) for any damage: a count above
// h w / kMinCopy (checked before anything is allocated), a copy past the image or reaching before its
// start, a wrong final state or unused words.
std::vector<Copy> decode_copies(const uint8_t* data, size_t size, int h, int w);

// The flag per pixel (h w entries): 1 where a copy covers it.
std::vector<uint8_t> copied_mask(const std::vector<Copy>& copies, size_t n);

}  // namespace jpegai::lossless
