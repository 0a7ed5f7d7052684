// The coding loops: one chunk = up to kChunkMaxSymbols consecutive symbols, coded with
// Lanes interleaved rANS states (symbol i of the chunk goes to lane i % Lanes) that share
// one word stream; Lanes = lanes_for(symbol count) (rans.h). A selector maps a global symbol
// position to its table.
//
// Chunk payload: Lanes little-endian uint64 initial decoder states (lane 0 first), then the
// little-endian 32-bit renormalisation words in decoding order.
#pragma once
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <vector>

#include "common/byte_io.h"
#include "common/portable.h"
#include "entropy/rans.h"
#include "entropy/table_set.h"

namespace jpegai::entropy {

// Escape payload of an out-of-range value, split as the decoder reads it.
struct EscapeCode {
  uint32_t length_minus_1;  // bit length of (magnitude + 1), minus one: 0..32
  uint64_t payload;         // the low length_minus_1 bits of magnitude + 1
  uint32_t negative;        // below the table range (1) or above it (0)
};

inline EscapeCode make_escape(int64_t local, uint32_t n_regular) {
  EscapeCode e;
  uint64_t magnitude;
  if (local < 0) {
    magnitude = uint64_t(-(local + 1));
    e.negative = 1;
  } else {
    magnitude = uint64_t(local) - n_regular;
    e.negative = 0;
  }
  uint64_t v = magnitude + 1;
  e.length_minus_1 = uint32_t(floor_log2_u64(v));
  e.payload = v & ((uint64_t(1) << e.length_minus_1) - 1);
  return e;
}

// Bits an escaped value costs beyond the escape symbol itself.
inline double escape_extra_bits(const EscapeCode& e) { return double(kEscapeLengthBits + e.length_minus_1 + 1); }

inline void enc_escape(uint64_t& x, uint32_t*& ptr, int64_t local, const TableInfo& ti, const EncSymbol* enc) {
  EscapeCode e = make_escape(local, ti.n_regular);
  // Reverse of the decoding order: sign, payload chunks (low first), length, escape symbol.
  enc_put_bits(x, ptr, e.negative, 1);
  uint32_t rest = e.length_minus_1;
  uint32_t low = rest > 16 ? rest - 16 : 0;  // decoder reads min(rest,16) high bits first
  if (low > 0) enc_put_bits(x, ptr, uint32_t(e.payload & ((uint64_t(1) << low) - 1)), int(low));
  uint32_t high = rest - low;
  if (high > 0) enc_put_bits(x, ptr, uint32_t(e.payload >> low), int(high));
  enc_put_bits(x, ptr, e.length_minus_1, kEscapeLengthBits);
  enc_put(x, ptr, enc[ti.sym_base + ti.n_regular]);
}

// One encoded chunk payload (exactly sized, uninitialised allocation).
struct EncodedPart {
  std::unique_ptr<uint8_t[]> data;
  size_t size = 0;
};

// Encodes symbols [begin, begin + count) into out, with Lanes = lanes_for(count).
template <int Lanes, class Selector>
void encode_chunk(const TableSet& tables, const int32_t* symbols, const Selector& sel, size_t begin, size_t count,
                  EncodedPart& out) {
  const size_t capacity = count * kMaxWordsPerSymbol + 2;
  thread_local std::vector<uint32_t> buf;
  if (buf.size() < capacity) buf.resize(capacity);
  uint32_t* const buf_end = buf.data() + capacity;
  uint32_t* ptr = buf_end;
  uint64_t x[Lanes];
  for (int l = 0; l < Lanes; ++l) x[l] = kStateLow;
  const TableInfo* infos = tables.infos().data();
  const EncSymbol* enc = tables.enc();

  auto put = [&](uint64_t& state, size_t i) {
    const TableInfo& ti = infos[sel(begin + i)];
    int64_t local = int64_t(symbols[begin + i]) - ti.min_value;
    if (uint64_t(local) < ti.n_regular) {
      enc_put(state, ptr, enc[ti.sym_base + size_t(local)]);
    } else {
      enc_escape(state, ptr, local, ti, enc);
    }
  };
  const size_t full = count / Lanes * Lanes;
  // Partial last round first (encoding runs backwards). Constant lane indexes only, so the
  // states stay in registers.
#pragma GCC unroll 4
  for (int l = Lanes - 1; l >= 0; --l)
    if (full + size_t(l) < count) put(x[l], full + size_t(l));
  for (size_t r = full; r > 0; r -= Lanes) {
#pragma GCC unroll 4
    for (int l = Lanes - 1; l >= 0; --l) put(x[l], r - Lanes + size_t(l));
  }

  const size_t n_words = size_t(buf_end - ptr);
  out.size = 8 * Lanes + 4 * n_words;
  out.data.reset(new uint8_t[out.size]);
  for (int l = 0; l < Lanes; ++l) {
    store_le32(out.data.get() + 8 * l, uint32_t(x[l]));
    store_le32(out.data.get() + 8 * l + 4, uint32_t(x[l] >> 32));
  }
  // Words are little-endian in the stream; the host is little-endian (checked in coder.cpp).
  if (n_words) std::memcpy(out.data.get() + 8 * Lanes, ptr, 4 * n_words);
}

// Result of reading an escape payload: the updated coder state and reader position.
struct EscapeDecode {
  uint64_t state;
  size_t pos;
  uint32_t overrun;
  int32_t value;
  bool ok;  // false on an impossible payload
};

// Reads an escape payload (after the escape symbol). Kept out of line (escapes are rare, the
// decoding loop stays small) and by value: taking the state or reader by reference would
// force them out of registers in the hot loop.
[[gnu::noinline, gnu::cold]] inline EscapeDecode dec_escape(uint64_t state, WordReader in, const TableInfo& ti) {
  EscapeDecode r{state, in.pos, in.overrun, 0, false};
  uint32_t rest = dec_get_bits(state, in, kEscapeLengthBits);
  if (rest <= 32) {
    uint64_t payload = 0;
    uint32_t high = rest > 16 ? 16 : rest;
    if (high > 0) payload = dec_get_bits(state, in, int(high));
    uint32_t low = rest - high;
    if (low > 0) payload = (payload << low) | dec_get_bits(state, in, int(low));
    uint32_t negative = dec_get_bits(state, in, 1);
    uint64_t magnitude = ((uint64_t(1) << rest) | payload) - 1;
    int64_t value =
        negative ? ti.min_value - 1 - int64_t(magnitude) : ti.min_value + int64_t(ti.n_regular) + int64_t(magnitude);
    if (value >= INT32_MIN && value <= INT32_MAX) {
      r.value = int32_t(value);
      r.ok = true;
    }
  }
  r.state = state;
  r.pos = in.pos;
  r.overrun = in.overrun;
  return r;
}

// The part of a chunk payload that can be checked without its tables: room for the Lanes initial
// states, whole words after them, and every initial state inside [2^31, 2^63). decode_chunk starts
// with it; the decoder also runs it over every chunk of a stream before any entropy decoding (coder.h).
inline bool chunk_header_ok(const uint8_t* data, size_t len, int lanes) {
  if (len < 8 * size_t(lanes) || (len & 3)) return false;
  for (int l = 0; l < lanes; ++l) {
    const uint64_t x = load_le32(data + 8 * l) | (uint64_t(load_le32(data + 8 * l + 4)) << 32);
    if (x < kStateLow || x >= (uint64_t(1) << 63)) return false;
  }
  return true;
}

// Decodes count symbols into out[begin, begin + count) from one chunk payload coded with
// Lanes = lanes_for(count) states.
// Returns false if the payload is inconsistent (short, overrun, bad escape, leftover data or
// final states that are not the encoder's initial ones); never reads outside data[0, len).
template <int Lanes, class Selector>
bool decode_chunk(const TableSet& tables, const uint8_t* data, size_t len, const Selector& sel, size_t begin,
                  size_t count, int32_t* out) {
  if (!chunk_header_ok(data, len, Lanes)) return false;
  uint64_t x[Lanes];
  for (int l = 0; l < Lanes; ++l) x[l] = load_le32(data + 8 * l) | (uint64_t(load_le32(data + 8 * l + 4)) << 32);
  WordReader in{data, 8 * Lanes, len - 4, 0};
  const TableInfo* infos = tables.infos().data();
  const uint32_t* dec = tables.dec();
  const uint64_t* bucket = tables.bucket();
  bool bad = false;

  auto get = [&](uint64_t& state, size_t i) {
    const TableInfo& ti = infos[sel(begin + i)];
    uint32_t slot = uint32_t(state) & (kProbTotal - 1);
    uint64_t b = bucket[ti.bucket_base + (slot >> ti.bucket_shift)];
    uint32_t e = uint32_t(b);
    uint32_t local = uint32_t(b >> 32);
    if (JPEGAI_UNLIKELY(slot >= (e & 0xFFFFu) + (e >> 16))) {
      // The slot lies past the bucket's first symbol: scan forward (the table's last symbol
      // ends at 2^16, so this stops inside the table).
      do {
        e = dec[ti.sym_base + ++local];
      } while (slot >= (e & 0xFFFFu) + (e >> 16));
    }
    state = uint64_t(e >> 16) * (state >> 16) + slot - (e & 0xFFFFu);
    dec_renorm(state, in);
    if (JPEGAI_LIKELY(local != ti.n_regular)) {
      out[begin + i] = int32_t(ti.min_value + int64_t(local));
      return;
    }
    EscapeDecode r = dec_escape(state, in, ti);
    state = r.state;
    in.pos = r.pos;
    in.overrun = r.overrun;
    out[begin + i] = r.value;
    bad |= !r.ok;
  };
  const size_t full = count / Lanes * Lanes;
  for (size_t r = 0; r < full; r += Lanes) {
#pragma GCC unroll 4
    for (int l = 0; l < Lanes; ++l) get(x[l], r + size_t(l));
  }
#pragma GCC unroll 4
  for (int l = 0; l < Lanes; ++l)
    if (full + size_t(l) < count) get(x[l], full + size_t(l));

  if (bad || in.overrun || in.pos != len) return false;
  for (int l = 0; l < Lanes; ++l)
    if (x[l] != kStateLow) return false;
  return true;
}

}  // namespace jpegai::entropy
