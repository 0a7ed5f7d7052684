// Register-tile micro-kernel of the float convolution engine: R output pixels x 16 output channels.
// Every build (portable, AVX2, AVX-512, NEON) performs, per output element, the same sequence of
// correctly rounded fused multiply-adds in the same order (bias, then tap by tap, input channel by
// input channel), so results are bit-identical whichever path runs; the ISA only changes how many
// lanes one instruction covers.
#pragma once
#include <cstdint>

#include "common/cpu.h"

namespace jpegai {
namespace conv {

constexpr int kLanes = 16;  // output channels per packed weight block (canonical, ISA independent)
constexpr int kTileR = 6;   // output pixels per register tile

using jpegai::Isa;  // common/cpu.h: the one switch

struct TileArgs {
  const float* src;        // input element (pixel 0 of the tile, channel 0) at tap offset 0
  const int64_t* tap_off;  // ntaps offsets (floats) added to src
  int ntaps = 0;
  int cin = 0;
  int64_t px_stride = 0;  // floats between consecutive output pixels' inputs
  const float* w;         // packed [ntaps][cin][kLanes]
  const float* bias;      // [kLanes]
};

// out[r][l] = bias[l] + sum_t sum_ic src[tap_off[t] + r*px_stride + ic] * w[t][ic][l], r < kTileR,
// accumulated with fma in (t, ic) order.
using TileFn = void (*)(const TileArgs& a, float* out);

// The kernel of an ISA (common/cpu.h); the portable one where the build has no kernel for it.
TileFn tile_kernel(Isa isa);

// (I)GDN epilogue on n values: x[l] = inverse ? x[l] * sqrt(norm[l]) : x[l] / sqrt(norm[l]).
// sqrt, * and / are correctly rounded in every build, so all ISAs agree bit for bit.
using GdnFn = void (*)(const float* norm, float* x, int n, bool inverse);
GdnFn gdn_kernel(Isa isa);

}  // namespace conv
}  // namespace jpegai
