// Register tile of the integer synthesis (int_synthesis.h): kPairTileR output pixels x kPairLanes output
// channels, the float engine's 6 x 16 shape (csrc/conv/tile_kernel.h) on int16 channel pairs:
//   out[r][l] = sum_t sum_p w[t][p][l][0] * src[off_t + r*px_stride + 2p] + w[t][p][l][1] * src[... + 2p + 1]
// in int32. One broadcast 32-bit pair times one 256-bit load of 8 lanes' weight pairs is one vpmaddwd. The
// caller's weights obey the int16 bound (int_conv.h), so no partial sum overflows and every build (portable,
// AVX2, NEON) returns the same integers whatever its order.
#pragma once
#include <cstdint>

#include "common/cpu.h"

namespace jpegai {
namespace intpath {

constexpr int kPairLanes = 16;  // output channels per packed weight block
constexpr int kPairTileR = 6;   // output pixels per register tile

struct PairTileArgs {
  const int16_t* src;      // input pixel 0 of the tile, channel 0, at tap offset 0 (NHWC int16)
  const int64_t* tap_off;  // ntaps offsets (int16 elements) added to src
  int ntaps = 0;
  int npairs = 0;            // input channel pairs (channels padded to even)
  int64_t px_stride = 0;     // int16 elements between consecutive output pixels' inputs
  const int16_t* w;          // packed [ntaps][npairs][kPairLanes][2] (the SIMD kernels)
  const int16_t* w_by_lane;  // the same weights as [ntaps][kPairLanes][2 npairs] (the portable kernel)
};

using PairTileFn = void (*)(const PairTileArgs& a, int32_t* out);  // out: [kPairTileR][kPairLanes]

// The kernel of an ISA: AVX2 for avx2 and avx512, NEON for neon, else the portable one.
PairTileFn pair_tile_kernel(Isa isa);

}  // namespace intpath
}  // namespace jpegai
