// The copy map's payload (see copy_map.h).
#include "lossless/copy_map.h"

#include <algorithm>

#include "common/check.h"
#include "common/portable.h"
#include "common/varint.h"
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

// What the rANS stream holds per field: a symbol of one of the tables and raw bits after it.
enum Table { kGapTable, kDistanceTable, kLengthTable, kDxTable, kTables };
constexpr int kTableSizes[kTables] = {kClasses, kDistanceSymbols, kClasses, kClasses};
struct Coded {
  int table, symbol, n_raw;
  uint32_t raw;
};
Coded code_value(Table t, uint32_t v) {
  const int c = class_of(v);
  return {t, c, value_raw_bits(c), c >= 2 ? v - (uint32_t(1) << (c - 1)) : 0};
}
uint32_t value_of(int c, uint32_t raw) { return c < 2 ? uint32_t(c) : (uint32_t(1) << (c - 1)) + raw; }

inline uint32_t zigzag(int64_t v) { return v >= 0 ? uint32_t(2 * v) : uint32_t(-2 * v - 1); }
inline int64_t unzigzag(uint32_t z) { return (z & 1) ? -int64_t((uint64_t(z) + 1) >> 1) : int64_t(z >> 1); }

// A distance not in the cache as rows up and columns across: dy = (d + floor(w / 2)) / w, dx = d - dy w.
struct Split {
  uint32_t dy, dx_zigzag;
};
Split split(uint32_t d, int w) {
  const uint64_t dy = (uint64_t(d) + uint64_t(w / 2)) / uint64_t(w);
  return {uint32_t(dy), zigzag(int64_t(d) - int64_t(dy) * w)};
}

}  // namespace

int value_symbol(uint32_t v) { return class_of(v); }
int value_raw_bits(int symbol) { return symbol >= 2 ? symbol - 1 : 0; }

DistanceFields distance_fields(uint32_t distance, const DistanceCache& cache, int w) {
  const int cached = cache.find(distance);
  if (cached >= 0) return {cached, -1, 0};
  const Split sp = split(distance, w);
  const int dy_class = class_of(sp.dy), dx_class = class_of(sp.dx_zigzag);
  return {kCachedDistances + dy_class, dx_class, value_raw_bits(dy_class) + value_raw_bits(dx_class)};
}

std::vector<uint8_t> encode_copies(const std::vector<Copy>& copies, int h, int w) {
  const uint64_t n = uint64_t(h) * uint64_t(w);
  if (copies.empty()) jpegai::fail("copy map: no copies");
  std::vector<Coded> fields;  // per copy: gap, distance (and, when new, dy's raw bits then dx), length
  fields.reserve(4 * copies.size());
  uint64_t pos = 0;
  DistanceCache cache(w);
  for (const Copy& c : copies) {
    if (c.start < pos || c.length < uint32_t(kMinCopy) || c.distance < 1 || c.distance > c.start ||
        uint64_t(c.start) + c.length > n)
      jpegai::fail("copy map: copies not sorted, overlapping or outside the image");
    fields.push_back(code_value(kGapTable, uint32_t(c.start - pos)));
    const int cached = cache.find(c.distance);
    if (cached >= 0) {
      fields.push_back({kDistanceTable, cached, 0, 0});
    } else {
      const Split sp = split(c.distance, w);
      Coded dy = code_value(kDistanceTable, sp.dy);
      dy.symbol += kCachedDistances;
      fields.push_back(dy);
      fields.push_back(code_value(kDxTable, sp.dx_zigzag));
    }
    fields.push_back(code_value(kLengthTable, c.length - kMinCopy));
    pos = uint64_t(c.start) + c.length;
    cache.use(c.distance);
  }
  std::vector<uint64_t> count[kTables];
  std::vector<entropy::EncSymbol> enc[kTables];
  for (int t = 0; t < kTables; ++t) count[t].assign(kTableSizes[t], 0);
  for (const Coded& f : fields) ++count[f.table][f.symbol];
  std::vector<uint8_t> out;
  write_varint(out, uint32_t(copies.size()));
  for (int t = 0; t < kTables; ++t) {
    enc[t].resize(kTableSizes[t]);
    put_table(out, count[t].data(), kTableSizes[t], enc[t].data());  // the dx table may be empty (n = 0)
  }
  // backwards: per field its raw bits first, then its symbol, so the decoder reads the symbol first
  std::vector<uint32_t> buf(3 * fields.size() + 4);
  uint32_t* const end = buf.data() + buf.size();
  uint32_t* ptr = end;
  uint64_t xs = entropy::kStateLow;
  for (size_t i = fields.size(); i-- > 0;) {
    put_raw(xs, ptr, fields[i].raw, fields[i].n_raw);
    entropy::enc_put(xs, ptr, enc[fields[i].table][fields[i].symbol]);
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
  DecTable tables[kTables];
  for (int t = 0; t < kTables; ++t) {
    read_table(cur, kTableSizes[t], tables[t]);
    if (!tables[t].present && t != kDxTable) corrupt(kCoder, "missing table");
  }
  const RansStart start = read_rans_start(data, size, cur.pos, kCoder);
  uint64_t xs = start.xs;
  uint8_t dummy[4] = {0, 0, 0, 0};  // the word reader needs one word to re-read when there are none
  entropy::WordReader in{start.n_words ? start.words : dummy, 0, start.n_words ? 4 * (start.n_words - 1) : 0, 0};
  auto value = [&](const DecTable& t) {  // a class symbol and its raw bits
    const int c = int(dec_symbol(xs, in, t));
    return uint64_t(value_of(c, get_raw(xs, in, value_raw_bits(c))));
  };
  std::vector<Copy> copies(count);
  uint64_t pos = 0;
  DistanceCache cache(w);
  for (Copy& c : copies) {
    const uint64_t begin = pos + value(tables[kGapTable]);
    const int ds = int(dec_symbol(xs, in, tables[kDistanceTable]));
    int64_t d;
    if (ds < kCachedDistances) {
      d = cache.d[ds];
    } else {
      const int dy_class = ds - kCachedDistances;
      const uint64_t dy = value_of(dy_class, get_raw(xs, in, value_raw_bits(dy_class)));
      if (!tables[kDxTable].present) corrupt(kCoder, "a new distance without the dx table");
      const uint64_t dx = value(tables[kDxTable]);
      d = int64_t(dy) * w + unzigzag(uint32_t(dx));
    }
    const uint64_t length = uint64_t(kMinCopy) + value(tables[kLengthTable]);
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
