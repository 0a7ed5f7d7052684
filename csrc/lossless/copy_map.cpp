// The copy map's payload (see copy_map.h).
#include "lossless/copy_map.h"

#include <algorithm>

#include "common/check.h"
#include "common/portable.h"
#include "lossless/static_table.h"

namespace jpegai::lossless {
namespace {

constexpr const char* kCoder = "copy map";

inline int class_of(uint32_t v) { return v ? floor_log2_u64(v) + 1 : 0; }

// Raw bits of a class-coded value: up to 31, put as at most two fields of 16 bits (enc_put_bits' limit).
void put_raw(uint64_t& xs, uint32_t*& ptr, uint32_t v, int n) {
  if (n > 16) {
    entropy::enc_put_bits(xs, ptr, v >> 16, n - 16);  // written first = read last
    n = 16;
  }
  if (n) entropy::enc_put_bits(xs, ptr, v & ((uint32_t(1) << n) - 1), n);
}
uint32_t get_raw(uint64_t& xs, entropy::WordReader& in, int n) {
  if (n <= 16) return n ? entropy::dec_get_bits(xs, in, n) : 0;
  const uint32_t low = entropy::dec_get_bits(xs, in, 16);
  return (entropy::dec_get_bits(xs, in, n - 16) << 16) | low;
}

// What the rANS stream holds per field: a symbol and raw bits below it.
struct Coded {
  int symbol, n_raw;
  uint32_t raw;
};
Coded code_value(uint32_t v) {
  const int c = class_of(v);
  return {c, value_raw_bits(c), c >= 2 ? v - (uint32_t(1) << (c - 1)) : 0};
}
uint32_t value_of(int c, uint32_t raw) { return c < 2 ? uint32_t(c) : (uint32_t(1) << (c - 1)) + raw; }

Coded code_distance(uint32_t d, const DistanceCache& cache) {
  const int s = distance_symbol(d, cache);
  const int k = distance_raw_bits(s);
  return {s, k, s < kCachedDistances ? 0 : d - (uint32_t(1) << k)};
}

}  // namespace

int value_symbol(uint32_t v) { return class_of(v); }
int value_raw_bits(int symbol) { return symbol >= 2 ? symbol - 1 : 0; }
int distance_symbol(uint32_t distance, const DistanceCache& cache) {
  const int cached = cache.find(distance);
  return cached >= 0 ? cached : kCachedDistances + class_of(distance) - 1;  // distance >= 1
}
int distance_raw_bits(int symbol) { return symbol < kCachedDistances ? 0 : symbol - kCachedDistances; }

std::vector<uint8_t> encode_copies(const std::vector<Copy>& copies, int h, int w) {
  const uint64_t n = uint64_t(h) * uint64_t(w);
  if (copies.empty()) jpegai::fail("copy map: no copies");
  std::vector<Coded> fields;  // gap, distance, length per copy
  fields.reserve(3 * copies.size());
  uint64_t pos = 0;
  DistanceCache cache(w);
  for (const Copy& c : copies) {
    if (c.start < pos || c.length < uint32_t(kMinCopy) || c.distance < 1 || c.distance > c.start ||
        uint64_t(c.start) + c.length > n)
      jpegai::fail("copy map: copies not sorted, overlapping or outside the image");
    fields.push_back(code_value(uint32_t(c.start - pos)));
    fields.push_back(code_distance(c.distance, cache));
    fields.push_back(code_value(c.length - kMinCopy));
    pos = uint64_t(c.start) + c.length;
    cache.use(c.distance);
  }
  const int sizes[3] = {kClasses, kDistanceSymbols, kClasses};
  std::vector<uint64_t> count[3] = {std::vector<uint64_t>(kClasses), std::vector<uint64_t>(kDistanceSymbols),
                                    std::vector<uint64_t>(kClasses)};
  for (size_t i = 0; i < fields.size(); ++i) ++count[i % 3][fields[i].symbol];
  std::vector<uint8_t> out;
  put_varint(out, uint32_t(copies.size()));
  std::vector<entropy::EncSymbol> enc[3];
  for (int f = 0; f < 3; ++f) {
    enc[f].resize(sizes[f]);
    put_table(out, count[f].data(), sizes[f], enc[f].data());
  }
  // backwards: per field its raw bits first, then its symbol, so the decoder reads the symbol first
  std::vector<uint32_t> buf(3 * fields.size() + 4);
  uint32_t* const end = buf.data() + buf.size();
  uint32_t* ptr = end;
  uint64_t xs = entropy::kStateLow;
  for (size_t i = fields.size(); i-- > 0;) {
    put_raw(xs, ptr, fields[i].raw, fields[i].n_raw);
    entropy::enc_put(xs, ptr, enc[i % 3][fields[i].symbol]);
  }
  put_rans(out, xs, ptr, end);
  return out;
}

std::vector<Copy> decode_copies(const uint8_t* data, size_t size, int h, int w) {
  if (h < 1 || w < 1) jpegai::fail("copy map: image must be at least 1x1");
  const uint64_t n = uint64_t(h) * uint64_t(w);
  Cursor cur{data, size, 0, kCoder};
  const uint64_t count = cur.varint();
  if (count == 0) corrupt(kCoder, "no copies");
  if (count > n / kMinCopy) corrupt(kCoder, "more copies than the image holds");
  const int sizes[3] = {kClasses, kDistanceSymbols, kClasses};
  DecTable tables[3];
  for (int f = 0; f < 3; ++f) {
    read_table(cur, sizes[f], tables[f]);
    if (!tables[f].present) corrupt(kCoder, "missing table");
  }
  const RansStart start = read_rans_start(data, size, cur.pos, kCoder);
  uint64_t xs = start.xs;
  uint8_t dummy[4] = {0, 0, 0, 0};  // the word reader needs one word to re-read when there are none
  entropy::WordReader in{start.n_words ? start.words : dummy, 0, start.n_words ? 4 * (start.n_words - 1) : 0, 0};
  std::vector<Copy> copies(count);
  uint64_t pos = 0;
  DistanceCache cache(w);
  for (Copy& c : copies) {
    const int gc = int(dec_symbol(xs, in, tables[0]));
    const uint64_t begin = pos + value_of(gc, get_raw(xs, in, gc >= 2 ? gc - 1 : 0));
    const int ds = int(dec_symbol(xs, in, tables[1]));
    const int64_t d = ds < kCachedDistances
                          ? cache.d[ds]
                          : (int64_t(1) << (ds - kCachedDistances)) + get_raw(xs, in, ds - kCachedDistances);
    const int lc = int(dec_symbol(xs, in, tables[2]));
    const uint64_t length = uint64_t(kMinCopy) + value_of(lc, get_raw(xs, in, lc >= 2 ? lc - 1 : 0));
    if (begin + length > n || length > UINT32_MAX) corrupt(kCoder, "a copy runs past the image");
    if (d < 1 || uint64_t(d) > begin) corrupt(kCoder, "a copy reaches before the image");
    c = {uint32_t(begin), uint32_t(d), uint32_t(length)};
    pos = begin + length;
    cache.use(uint32_t(d));
  }
  if (in.overrun || xs != entropy::kStateLow || in.pos != 4 * start.n_words)
    corrupt(kCoder, "corrupt payload (state or length mismatch)");
  return copies;
}

std::vector<uint8_t> copied_mask(const std::vector<Copy>& copies, size_t n) {
  std::vector<uint8_t> mask(n, 0);
  for (const Copy& c : copies) std::fill(mask.begin() + c.start, mask.begin() + c.start + c.length, uint8_t(1));
  return mask;
}

}  // namespace jpegai::lossless
