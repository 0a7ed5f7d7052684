// Static frequency tables of the lossless coders (the alpha / plane coder and the copy map): how a
// table is written and read, and the decoder's symbol lookup. One table format for both payloads
// (docs/format.md, "alpha"): varint n (>= 1 when present), then n pairs (varint symbol gap, varint
// frequency - 1), frequencies summing to 2^16.
#pragma once
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "entropy/rans.h"

namespace jpegai::lossless {

// A damaged payload (CorruptStream -> DecodeError), the message prefixed with the coder's name.
[[noreturn]] void corrupt(const char* coder, const std::string& what);

// Writes the table of `count` (n_symbols entries; all zero writes n = 0) and fills the encoder's
// symbols of the used entries (enc has n_symbols entries).
void put_table(std::vector<uint8_t>& out, const uint64_t* count, int n_symbols, entropy::EncSymbol* enc);

// Reads the payload's varints; every one follows the format's rule (common/varint.h).
struct Cursor {
  const uint8_t* data;
  size_t size, pos;
  const char* coder;  // for the error messages
  uint64_t varint();
};

// Decoder view of one table: its symbols in order with their cumulative starts, and a coarse lookup
// (slot >> kCoarseShift -> the first symbol whose range reaches that bucket) so a slot is found with a
// short forward scan. 2 KB per table instead of a 128 KB slot table: with hundreds of tables the
// lookups stay in cache.
constexpr int kCoarseShift = 6;
struct DecTable {
  bool present = false;
  std::vector<uint16_t> sym;     // used symbols, ascending
  std::vector<uint32_t> cum;     // cum[k] = start of sym[k]; cum.back() = 2^16
  std::vector<uint16_t> coarse;  // per bucket of 2^kCoarseShift slots: index into sym
};

// Reads one table over n_symbols symbols (n = 0 leaves it absent); with_lookup = false leaves out the
// coarse lookup, for tables that only a PackedTables will decode with (it builds its own).
void read_table(Cursor& cur, int n_symbols, DecTable& t, bool with_lookup = true);

inline uint32_t dec_symbol(uint64_t& xs, entropy::WordReader& in, const DecTable& t) {
  const uint32_t slot = uint32_t(xs & (entropy::kProbTotal - 1));
  uint32_t k = t.coarse[slot >> kCoarseShift];
  while (t.cum[k + 1] <= slot) ++k;  // cum is increasing and ends at 2^16 > slot: stays in range
  xs = uint64_t(t.cum[k + 1] - t.cum[k]) * (xs >> entropy::kPrecision) + slot - t.cum[k];
  entropy::dec_renorm(xs, in);
  return t.sym[k];
}

// Many tables of at most 256 symbols packed for a hot decode loop (the plane coder's 216 contexts): one
// flat array of cumulative starts and symbols, and a coarse lookup of one byte per 2^kPackedShift slots
// (512 B per table), so the lookups of every context stay in L2 where the DecTables' 2 KB each did not
// (measured: the table loads were most of the plane decoder's time).
constexpr int kPackedShift = 7;
class PackedTables {
 public:
  explicit PackedTables(const std::vector<DecTable>& tables);
  bool present(int t) const { return base_[t] >= 0; }
  inline uint32_t decode(uint64_t& xs, entropy::WordReader& in, int t) const {
    const uint32_t slot = uint32_t(xs & (entropy::kProbTotal - 1));
    const uint32_t* cum = cum_.data() + base_[t];
    uint32_t k = coarse_[(size_t(t) << (entropy::kPrecision - kPackedShift)) + (slot >> kPackedShift)];
    while (cum[k + 1] <= slot) ++k;  // cum ends at 2^16 > slot: stays in the table
    xs = uint64_t(cum[k + 1] - cum[k]) * (xs >> entropy::kPrecision) + slot - cum[k];
    // branch-free renormalisation: the word is read whether needed or not (pos only moves when it is).
    // No overrun flag: pos only grows, so a read past the end leaves it beyond the payload's words for
    // good, which the caller's final check (pos == 4 x the word count) finds.
    const uint64_t need = xs < entropy::kStateLow;
    const size_t at = in.pos <= in.last ? in.pos : in.last;
    uint32_t word;
    std::memcpy(&word, in.data + at, 4);
    in.pos += 4 * need;
    xs = need ? (xs << 32) | word : xs;
    return sym_[base_[t] + k];
  }

 private:
  std::vector<int32_t> base_;    // per table: its first entry in cum_ / sym_, -1 when absent
  std::vector<uint32_t> cum_;    // per table: used + 1 starts, the last 2^16
  std::vector<uint8_t> sym_;     // per table: used symbols (+ one unused entry, to keep base_ shared)
  std::vector<uint8_t> coarse_;  // per table: 2^(16 - kPackedShift) indexes into its symbols
};

// The rANS part of a payload: u32 x_lo, u32 x_hi (the decoder's initial state), then u32 words.
struct RansStart {
  uint64_t xs = 0;
  const uint8_t* words = nullptr;
  size_t n_words = 0;
};
RansStart read_rans_start(const uint8_t* data, size_t size, size_t pos, const char* coder);

// Appends the final encoder state and the words [ptr, end) to out.
void put_rans(std::vector<uint8_t>& out, uint64_t xs, const uint32_t* ptr, const uint32_t* end);

}  // namespace jpegai::lossless
