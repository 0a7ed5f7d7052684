// Little-endian byte IO: streams are defined as little-endian on every host.
#pragma once
#include <cstddef>
#include <cstdint>

namespace jpegai {

inline uint16_t load_le16(const uint8_t* p) { return uint16_t(p[0] | (uint32_t(p[1]) << 8)); }

inline uint32_t load_le32(const uint8_t* p) {
  return uint32_t(p[0]) | (uint32_t(p[1]) << 8) | (uint32_t(p[2]) << 16) | (uint32_t(p[3]) << 24);
}

inline void store_le16(uint8_t* p, uint16_t v) {
  p[0] = uint8_t(v);
  p[1] = uint8_t(v >> 8);
}

inline void store_le32(uint8_t* p, uint32_t v) {
  p[0] = uint8_t(v);
  p[1] = uint8_t(v >> 8);
  p[2] = uint8_t(v >> 16);
  p[3] = uint8_t(v >> 24);
}

}  // namespace jpegai
