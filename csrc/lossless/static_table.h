// Static frequency tables of the lossless coders (the alpha / plane coder and the copy map): how a
// table is written and read, and the decoder's symbol lookup. One table format for both payloads
// (docs/format.md, "alpha"): varint n (>= 1 when present), then n pairs (varint symbol gap, varint
// frequency - 1), frequencies summing to 2^16.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "entropy/rans.h"

namespace jpegai::lossless {

// A damaged payload (CorruptStream -> DecodeError), the message prefixed with the coder's name.
[[noreturn]] void corrupt(const char* coder, const std::string& what);

void put_varint(std::vector<uint8_t>& out, uint32_t v);

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

// Reads one table over n_symbols symbols (n = 0 leaves it absent).
void read_table(Cursor& cur, int n_symbols, DecTable& t);

inline uint32_t dec_symbol(uint64_t& xs, entropy::WordReader& in, const DecTable& t) {
  const uint32_t slot = uint32_t(xs & (entropy::kProbTotal - 1));
  uint32_t k = t.coarse[slot >> kCoarseShift];
  while (t.cum[k + 1] <= slot) ++k;  // cum is increasing and ends at 2^16 > slot: stays in range
  xs = uint64_t(t.cum[k + 1] - t.cum[k]) * (xs >> entropy::kPrecision) + slot - t.cum[k];
  entropy::dec_renorm(xs, in);
  return t.sym[k];
}

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
