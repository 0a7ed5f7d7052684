// Static frequency tables of the lossless coders (see static_table.h).
#include "lossless/static_table.h"

#include <cstring>

#include "common/check.h"
#include "common/varint.h"
#include "entropy/quantise.h"

namespace jpegai::lossless {

using entropy::kProbTotal;

void corrupt(const char* coder, const std::string& what) { jpegai::fail_stream(std::string(coder) + ": " + what); }

uint64_t Cursor::varint() {
  uint64_t v = 0;
  switch (read_varint(data, size, pos, v)) {
    case VarintStatus::kOk: return v;
    case VarintStatus::kTruncated: corrupt(coder, "truncated table");
    case VarintStatus::kNonCanonical: corrupt(coder, "non-canonical varint in table");
    case VarintStatus::kTooLong: break;
  }
  corrupt(coder, "bad varint in table (over 5 bytes)");
}

void put_table(std::vector<uint8_t>& out, const uint64_t* count, int n_symbols, entropy::EncSymbol* enc) {
  std::vector<int> used;
  std::vector<entropy::u128> masses;
  for (int s = 0; s < n_symbols; ++s)
    if (count[s]) {
      used.push_back(s);
      masses.push_back(entropy::u128(count[s]));
    }
  write_varint(out, uint32_t(used.size()));
  if (used.empty()) return;
  const std::vector<uint32_t> freq = entropy::quantise_masses(masses);
  uint32_t start = 0;
  int prev = -1;
  for (size_t k = 0; k < used.size(); ++k) {
    write_varint(out, uint32_t(used[k] - prev));
    write_varint(out, freq[k] - 1);
    enc[used[k]] = entropy::make_enc_symbol(start, freq[k]);
    start += freq[k];
    prev = used[k];
  }
}

void read_table(Cursor& cur, int n_symbols, DecTable& t, bool with_lookup) {
  const uint64_t used = cur.varint();
  if (used > uint64_t(n_symbols)) corrupt(cur.coder, "corrupt table (symbol count)");
  if (!used) return;
  t.present = true;
  t.sym.resize(used);
  t.cum.resize(used + 1);
  int sym = -1;
  uint64_t total = 0;
  for (uint64_t k = 0; k < used; ++k) {
    const uint64_t gap = cur.varint(), f = cur.varint() + 1;
    if (gap == 0 || int64_t(sym) + int64_t(gap) >= n_symbols || f > kProbTotal || total + f > kProbTotal)
      corrupt(cur.coder, "corrupt table");
    sym += int(gap);
    t.sym[k] = uint16_t(sym);
    t.cum[k] = uint32_t(total);
    total += f;
  }
  if (total != kProbTotal) corrupt(cur.coder, "corrupt table (frequencies)");
  t.cum[used] = uint32_t(total);
  if (!with_lookup) return;
  t.coarse.resize(kProbTotal >> kCoarseShift);
  uint32_t k = 0;
  for (uint32_t b = 0; b < t.coarse.size(); ++b) {
    while (t.cum[k + 1] <= (b << kCoarseShift)) ++k;
    t.coarse[b] = uint16_t(k);
  }
}

PackedTables::PackedTables(const std::vector<DecTable>& tables) : base_(tables.size(), -1) {
  const size_t buckets = size_t(1) << (entropy::kPrecision - kPackedShift);
  coarse_.assign(tables.size() * buckets, 0);
  for (size_t t = 0; t < tables.size(); ++t) {
    const DecTable& d = tables[t];
    if (!d.present) continue;
    if (d.sym.size() > 256) jpegai::fail("packed tables hold at most 256 symbols");
    base_[t] = int32_t(cum_.size());
    cum_.insert(cum_.end(), d.cum.begin(), d.cum.end());
    for (uint16_t s : d.sym) {
      if (s > 255) jpegai::fail("packed tables hold symbols below 256");
      sym_.push_back(uint8_t(s));
    }
    sym_.push_back(0);
    uint32_t k = 0;
    for (size_t b = 0; b < buckets; ++b) {
      while (d.cum[k + 1] <= (b << kPackedShift)) ++k;
      coarse_[t * buckets + b] = uint8_t(k);
    }
  }
}

RansStart read_rans_start(const uint8_t* data, size_t size, size_t pos, const char* coder) {
  if (size - pos < 8 || (size - pos) % 4) corrupt(coder, "truncated payload");
  const uint8_t* q = data + pos;
  RansStart r;
  for (int k = 7; k >= 0; --k) r.xs = (r.xs << 8) | q[k];
  if (r.xs < entropy::kStateLow || r.xs >= (uint64_t(1) << 63)) corrupt(coder, "corrupt state");
  r.words = q + 8;
  r.n_words = (size - pos - 8) / 4;
  return r;
}

void put_rans(std::vector<uint8_t>& out, uint64_t xs, const uint32_t* ptr, const uint32_t* end) {
  const size_t at = out.size();
  out.resize(at + 8 + 4 * size_t(end - ptr));
  uint8_t* o = out.data() + at;
  for (int k = 0; k < 4; ++k) o[k] = uint8_t(uint32_t(xs) >> (8 * k));
  for (int k = 0; k < 4; ++k) o[4 + k] = uint8_t(uint32_t(xs >> 32) >> (8 * k));
  std::memcpy(o + 8, ptr, 4 * size_t(end - ptr));  // little-endian hosts (checked in coder.cpp)
}

}  // namespace jpegai::lossless
