#include "intpath/picture_out.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>

#include "common/cpu.h"
#include "common/parallel.h"
#include "common/portable.h"

namespace jpegai {
namespace intpath {
namespace {

// One channel of one row (the header's rule). Without SSE4.1 nearbyint is a libm call per value, so an AVX2
// clone (vroundps; the same IEEE operations, and no addition for FMA contraction to fuse) serves AVX2 machines.
template <class T>
JPEGAI_ALWAYS_INLINE void convert_row(const int32_t* src, int w, double unit, float peak, T* out, int64_t px_stride) {
  for (int x = 0; x < w; ++x) {
    const float p = float(double(src[x]) * unit) * peak;
    out[x * px_stride] = T(std::min(std::max(std::nearbyint(p), 0.0f), peak));
  }
}

template <class T>
void convert_row_portable(const int32_t* src, int w, double unit, float peak, T* out, int64_t px_stride) {
  convert_row(src, w, unit, peak, out, px_stride);
}
#if JPEGAI_HAVE_AVX2_CLONE
template <class T>
JPEGAI_TARGET_AVX2 void convert_row_avx2(const int32_t* src, int w, double unit, float peak, T* out,
                                         int64_t px_stride) {
  convert_row(src, w, unit, peak, out, px_stride);
}
#endif

}  // namespace

template <class T>
void q_to_pixels(const int32_t* planar, int h, int w, int frac_bits, int bit_depth, T* dst, int64_t row_stride,
                 int64_t px_stride, int64_t ch_stride, int threads) {
  if (h < 0 || w < 0 || frac_bits < 0 || frac_bits > 30 || bit_depth < 1 || bit_depth > 8 * int(sizeof(T)))
    throw std::invalid_argument("q_to_pixels: bad size, fraction bits or bit depth");
  const double unit = std::ldexp(1.0, -frac_bits);  // dividing by 2^f is multiplying by 2^-f, exactly
  const float peak = float((1 << bit_depth) - 1);
  const int64_t plane = int64_t(h) * w;
  auto row = convert_row_portable<T>;
#if JPEGAI_HAVE_AVX2_CLONE
  if (avx2_enabled()) row = convert_row_avx2<T>;
#endif
  parallel_for(h, threads, [&](int64_t y) {
    for (int c = 0; c < 3; ++c)
      row(planar + c * plane + y * w, w, unit, peak, dst + y * row_stride + c * ch_stride, px_stride);
  });
}

template void q_to_pixels<uint8_t>(const int32_t*, int, int, int, int, uint8_t*, int64_t, int64_t, int64_t, int);
template void q_to_pixels<uint16_t>(const int32_t*, int, int, int, int, uint16_t*, int64_t, int64_t, int64_t, int);

}  // namespace intpath
}  // namespace jpegai
