// The int16 micro-kernel of the version-6 hyper-synthesis (Arith::int16, int_conv.h): a register tile
// of kOcBlock output channels x kInt16Chunk positions accumulates, over the taps of one output row and
// a block of input-channel pairs,
//   acc[o][j] += w[p][o][0] * x[p][j][0] + w[p][o][1] * x[p][j][1]        (int32)
// which is exactly one vpmaddwd (two int16 products summed into an int32 lane) per 8 positions, so
// the activations are stored with each channel pair interleaved: x[p][j][0..1] = channels 2p, 2p+1 at
// position j. No sum can overflow (the layer's weight bound, int_conv.h), so the portable, AVX2 and
// NEON builds return the same integers although they add in different orders.
#pragma once
#include <cstdint>

#include "common/cpu.h"
#include "intpath/int_conv.h"

namespace jpegai {
namespace intpath {

// One input row segment and the weights (for the first channel of the block) that multiply it.
template <class T>
struct Tap {
  const T* src;
  const T* w;
};

constexpr int kInt16Chunk = 16;  // output positions per register tile: two 8-lane int32 vectors

// taps[t].src: the tap's first pair at position 0 (the tile starts at position m0); consecutive
// pairs are pair_stride int16 apart. taps[t].w: [npairs][kOcBlock][2].
using Int16TileFn = void (*)(int32_t (&acc)[kOcBlock][kInt16Chunk], const Tap<int16_t>* taps, int ntaps, int npairs,
                             int64_t pair_stride, int64_t m0);

// The kernel of an ISA: AVX2 for avx2 and avx512, NEON for neon, else the portable one.
Int16TileFn int16_tile_kernel(Isa isa);

}  // namespace intpath
}  // namespace jpegai
