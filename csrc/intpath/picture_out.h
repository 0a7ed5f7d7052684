// The integer synthesis's output as pixels: int32 planar (3, h, w) Q(frac_bits) values to an interleaved
// (h, w, 3) uint8 or uint16 image of `bit_depth` bits, written through the caller's strides (a window of the
// decoded image), rows in parallel.
//
// The rule is pixels.from_model_output's on the float picture the integer synthesis's float form gives
// (core/int_synthesis.py, IntSynthesis.__call__), reproduced operation for operation in IEEE arithmetic, so
// the bytes are identical (tests/core/test_int_synthesis.py compares the two):
//   x = float32(double(v) / 2^frac_bits)        exact for |v| < 2^24; rounded to nearest otherwise
//   p = x * float32(peak)                        peak = 2^bit_depth - 1, one float32 rounding
//   pixel = clamp(rint(p), 0, peak)              rint: round half to even (the default rounding mode)
// No addition follows a multiplication, so no FMA contraction can change a result. Rows in parallel; an
// AVX2 clone where the CPU has it (rounding is a libm call per value in the baseline x86-64 build: a Kodak
// image's conversion 3.0 -> 0.8 ms on 2 threads).
#pragma once
#include <cstdint>

namespace jpegai {
namespace intpath {

// dst strides are in elements; (y, x, c) lands at dst + y row_stride + x px_stride + c ch_stride.
template <class T>
void q_to_pixels(const int32_t* planar, int h, int w, int frac_bits, int bit_depth, T* dst, int64_t row_stride,
                 int64_t px_stride, int64_t ch_stride, int threads);

}  // namespace intpath
}  // namespace jpegai
