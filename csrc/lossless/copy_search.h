// The encoder's search for the copies of a copy map (lossless/copy_map.h): greedy, in raster order, over
// whole pixels (every channel), with a hash chain of the last kMinCopy pixels' values. A copy is kept
// when the literal cost of the pixels it covers (the plane coder's estimate, summed over the planes)
// is above an estimate of its own fields' bits. The decoder does not depend on how copies are found.
#pragma once
#include <cstddef>
#include <cstdint>
#include <vector>

#include "lossless/copy_map.h"

namespace jpegai::lossless {

// pixels: h * w * channels samples (raster order, channels interleaved, 1..4 channels of <= 16 bits);
// cost: h * w estimated bits of coding each pixel without a copy. Returns the chosen copies (maybe none).
std::vector<Copy> find_copies(const uint16_t* pixels, int h, int w, int channels, const float* cost);

}  // namespace jpegai::lossless
