// The format's varint (docs/format.md): LEB128, 7 bits per byte, at most 5 bytes (35 bits), canonical
// (no final zero byte after a continuation byte). The container's reader applies the same rule in
// Python (jpegai_fast/format/container.py); every varint the core parses goes through this one.
#pragma once
#include <cstddef>
#include <cstdint>
#include <vector>

namespace jpegai {

constexpr int kVarintMaxBytes = 5;

enum class VarintStatus { kOk, kTruncated, kTooLong, kNonCanonical };

// Reads one varint at data[pos] (size bytes in all) into `value` and advances `pos` past it.
// On any status but kOk, `pos` and `value` are unspecified. A 5-byte varint yields up to 2^35 - 1, so
// the caller's range check sees the value as coded (never a wrapped one).
inline VarintStatus read_varint(const uint8_t* data, size_t size, size_t& pos, uint64_t& value) {
  value = 0;
  for (int n = 0; n < kVarintMaxBytes; ++n) {
    if (pos >= size) return VarintStatus::kTruncated;
    const uint8_t b = data[pos++];
    value |= uint64_t(b & 0x7F) << (7 * n);
    if (!(b & 0x80)) return (b == 0 && n > 0) ? VarintStatus::kNonCanonical : VarintStatus::kOk;
  }
  return VarintStatus::kTooLong;
}

// Appends v (< 2^35) in the canonical form read_varint accepts.
inline void write_varint(std::vector<uint8_t>& out, uint64_t v) {
  while (v >= 0x80) {
    out.push_back(uint8_t(v & 0x7F) | 0x80);
    v >>= 7;
  }
  out.push_back(uint8_t(v));
}

}  // namespace jpegai
