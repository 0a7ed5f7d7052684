// rANS primitives: 32-bit state, 16-bit renormalisation words, 16-bit probability precision.
// State invariant between symbols: kStateLow <= x < 2^32. Encoding runs backwards over the
// symbols and writes words backwards; decoding runs forwards and reads them forwards.
#pragma once
#include <cstddef>
#include <cstdint>

namespace jpegai::entropy {

constexpr int kPrecision = 16;                       // probabilities are freq / 2^16
constexpr uint32_t kProbTotal = 1u << kPrecision;
constexpr uint32_t kStateLow = 1u << 16;             // L: lower bound of the normalised state
constexpr int kLanes = 8;                            // interleaved rANS states per substream
constexpr size_t kSubstreamSymbols = size_t(1) << 16;  // symbols per substream (format constant)
constexpr int kEscapeLengthBits = 6;                 // bypass field: bit length - 1 of (magnitude + 1)
constexpr size_t kMaxWordsPerSymbol = 5;             // symbol, length, two 16-bit chunks, sign

static_assert((kLanes & (kLanes - 1)) == 0, "lane count must be a power of two");

// Encoder view of one symbol. Division x / freq is replaced by a 64-bit reciprocal multiply:
// rcp = ceil(2^64 / freq) gives floor(x / freq) exactly for every 32-bit x and freq < 2^32.
// freq == 1 uses rcp = 2^64 - 1 (quotient x - 1) and folds the missing term into bias.
struct EncSymbol {
  uint64_t rcp;
  uint32_t bias;
  uint16_t cmpl_freq;  // 2^16 - freq
  uint16_t freq;
};

inline EncSymbol make_enc_symbol(uint32_t start, uint32_t freq) {
  EncSymbol s;
  s.freq = uint16_t(freq);
  s.cmpl_freq = uint16_t(kProbTotal - freq);
  if (freq == 1) {
    s.rcp = ~uint64_t(0);
    s.bias = start + kProbTotal - 1;
  } else {
    s.rcp = (~uint64_t(0)) / freq + 1;
    s.bias = start;
  }
  return s;
}

inline uint32_t mulhi64(uint32_t x, uint64_t rcp) {
  return uint32_t((static_cast<unsigned __int128>(x) * rcp) >> 64);
}

// Pushes one symbol; may emit one word at *--ptr. Branch-free renormalisation: the word is
// always written one slot below ptr and ptr only moves when it was really emitted, so the
// buffer needs one spare slot below the lowest word.
inline void enc_put(uint32_t& x, uint16_t*& ptr, const EncSymbol& s) {
  uint32_t x_max = uint32_t(s.freq) << 16;
  uint32_t flush = x >= x_max;
  ptr[-1] = uint16_t(x);
  ptr -= flush;
  x >>= (flush << 4);
  x = x + s.bias + mulhi64(x, s.rcp) * s.cmpl_freq;
}

// Pushes n (1..16) raw bits v (uniform distribution, scale n).
inline void enc_put_bits(uint32_t& x, uint16_t*& ptr, uint32_t v, int n) {
  if (x >= (uint32_t(1) << (32 - n))) {
    *--ptr = uint16_t(x);
    x >>= 16;
  }
  x = (x << n) | v;
}

// Decoder-side word reader over one substream: reads are clamped to the buffer and an
// overrun only sets a flag, so hostile streams can never make it read out of bounds.
struct WordReader {
  const uint8_t* data;
  size_t pos;
  size_t last;  // last valid word position (len - 2); len >= 2 is guaranteed by the caller
  uint32_t overrun;

  inline uint32_t next_if(uint32_t need) {
    size_t at = pos <= last ? pos : last;
    uint32_t w = uint32_t(data[at]) | (uint32_t(data[at + 1]) << 8);
    overrun |= need & uint32_t(pos > last);
    pos += size_t(need) << 1;
    return w;
  }
};

inline void dec_renorm(uint32_t& x, WordReader& in) {
  uint32_t need = x < kStateLow;
  uint32_t w = in.next_if(need);
  x = need ? (x << 16) | w : x;
}

inline uint32_t dec_get_bits(uint32_t& x, WordReader& in, int n) {
  uint32_t v = x & ((uint32_t(1) << n) - 1);
  x >>= n;
  dec_renorm(x, in);
  return v;
}

}  // namespace jpegai::entropy
