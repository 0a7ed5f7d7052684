// rANS primitives: 64-bit state, 32-bit renormalisation words, 16-bit probability precision.
// State invariant between symbols: 2^31 <= x < 2^63 (L / M = 2^15 makes the rANS coding loss
// negligible). Encoding runs backwards over the
// symbols and writes words backwards; decoding runs forwards and reads them forwards.
#pragma once
#include <cstddef>
#include <cstdint>
#include <cstring>

#include "common/portable.h"

namespace jpegai::entropy {

using jpegai::u128;

constexpr int kPrecision = 16;  // probabilities are freq / 2^16
constexpr uint32_t kProbTotal = 1u << kPrecision;
constexpr uint64_t kStateLow = uint64_t(1) << 31;  // L: normalised state is in [2^31, 2^63)
constexpr int kLanes = 4;                          // interleaved rANS states per large chunk
// Chunks of fewer symbols use one state: each state costs 8 bytes to flush (about 4 of them
// pure overhead), which matters for the small z stream and progressive layers at low rates,
// while the speed of the extra lanes only matters for large chunks.
constexpr size_t kManyLanesFrom = size_t(1) << 16;
constexpr size_t kChunkMaxSymbols = size_t(1) << 18;  // format constant (see coder.h)
constexpr int kEscapeLengthBits = 6;                  // bypass field: bit length - 1 of (magnitude + 1)
constexpr size_t kMaxWordsPerSymbol = 5;              // symbol, length, two 16-bit chunks, sign

static_assert((kLanes & (kLanes - 1)) == 0, "lane count must be a power of two");

// Lane count of a chunk: a function of its symbol count only (a format rule).
constexpr int lanes_for(size_t count) { return count >= kManyLanesFrom ? kLanes : 1; }

// Encoder view of one symbol. Division x / freq is replaced by a reciprocal multiply:
// rcp = ceil(2^(63 + shift) / freq) with 2^shift >= freq gives floor(x / freq) exactly for
// every x < 2^63 (the error x * (rcp - 2^(63+shift)/freq) / 2^(63+shift) stays below 1/freq).
// freq == 1 uses rcp = 2^64 - 1, shift 0 (quotient x - 1) and folds the missing x into bias.
struct EncSymbol {
  uint64_t rcp;
  uint32_t bias;
  uint16_t cmpl_freq;  // 2^16 - freq
  uint8_t rcp_shift;
  uint8_t unused;
};
static_assert(sizeof(EncSymbol) == 16, "EncSymbol should stay 16 bytes");

inline EncSymbol make_enc_symbol(uint32_t start, uint32_t freq) {
  EncSymbol s{};
  s.cmpl_freq = uint16_t(kProbTotal - freq);
  if (freq == 1) {
    s.rcp = ~uint64_t(0);
    s.rcp_shift = 0;
    s.bias = start + kProbTotal - 1;
  } else {
    uint32_t shift = 0;
    while ((uint32_t(1) << shift) < freq) ++shift;
    const u128 num = (u128(uint64_t(1)) << int(63 + shift)) + u128(uint64_t(freq - 1));
    s.rcp = uint64_t(num / u128(uint64_t(freq)));
    s.rcp_shift = uint8_t(shift - 1);
    s.bias = start;
  }
  return s;
}

using jpegai::mulhi64;

// Pushes one symbol; may emit one 32-bit word at *--ptr. Branch-free renormalisation: the
// word is always written one slot below ptr and ptr only moves when it was really emitted,
// so the buffer needs one spare slot below the lowest word.
inline void enc_put(uint64_t& x, uint32_t*& ptr, const EncSymbol& s) {
  uint64_t x_max = uint64_t(kProbTotal - s.cmpl_freq) << 47;  // ((L >> 16) << 32) * freq
  uint64_t flush = x >= x_max;
  ptr[-1] = uint32_t(x);
  ptr -= flush;
  x >>= (flush << 5);
  x = x + s.bias + (mulhi64(x, s.rcp) >> s.rcp_shift) * s.cmpl_freq;
}

// Pushes n (1..16) raw bits v (uniform distribution, scale n).
inline void enc_put_bits(uint64_t& x, uint32_t*& ptr, uint32_t v, int n) {
  if (x >= (uint64_t(1) << (63 - n))) {
    *--ptr = uint32_t(x);
    x >>= 32;
  }
  x = (x << n) | v;
}

// Decoder-side word reader over one chunk: reads are clamped to the buffer and an
// overrun only sets a flag, so hostile streams can never make it read out of bounds.
struct WordReader {
  const uint8_t* data;
  size_t pos;
  size_t last;  // last valid word position (len - 4); len >= 4 is guaranteed by the caller
  uint32_t overrun;

  // Next word; past the end it re-reads the last word and flags the overrun.
  inline uint32_t read() {
    size_t at = pos <= last ? pos : last;
    uint32_t w;
    std::memcpy(&w, data + at, 4);  // little-endian hosts only (checked in coder.cpp)
    overrun |= uint32_t(pos > last);
    pos += 4;
    return w;
  }
};

// A branch here measured ~20% faster than a branch-free select: a word is needed only every
// few symbols, so the branch predicts well and the common path is shorter.
inline void dec_renorm(uint64_t& x, WordReader& in) {
  if (x < kStateLow) x = (x << 32) | in.read();
}

inline uint32_t dec_get_bits(uint64_t& x, WordReader& in, int n) {
  uint32_t v = uint32_t(x & ((uint64_t(1) << n) - 1));
  x >>= n;
  dec_renorm(x, in);
  return v;
}

}  // namespace jpegai::entropy
