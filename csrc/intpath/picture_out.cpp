#include "intpath/picture_out.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>

#include "common/parallel.h"

namespace jpegai {
namespace intpath {

template <class T>
void q_to_pixels(const int32_t* planar, int h, int w, int frac_bits, int bit_depth, T* dst, int64_t row_stride,
                 int64_t px_stride, int64_t ch_stride, int threads) {
  if (h < 0 || w < 0 || frac_bits < 0 || frac_bits > 30 || bit_depth < 1 || bit_depth > 8 * int(sizeof(T)))
    throw std::invalid_argument("q_to_pixels: bad size, fraction bits or bit depth");
  const double unit = std::ldexp(1.0, -frac_bits);  // dividing by 2^f is multiplying by 2^-f, exactly
  const float peak = float((1 << bit_depth) - 1);
  const int64_t plane = int64_t(h) * w;
  parallel_for(h, threads, [&](int64_t y) {
    for (int c = 0; c < 3; ++c) {
      const int32_t* src = planar + c * plane + y * w;
      T* out = dst + y * row_stride + c * ch_stride;
      for (int x = 0; x < w; ++x) {
        const float p = float(double(src[x]) * unit) * peak;
        out[x * px_stride] = T(std::min(std::max(std::nearbyint(p), 0.0f), peak));
      }
    }
  });
}

template void q_to_pixels<uint8_t>(const int32_t*, int, int, int, int, uint8_t*, int64_t, int64_t, int64_t, int);
template void q_to_pixels<uint16_t>(const int32_t*, int, int, int, int, uint16_t*, int64_t, int64_t, int64_t, int);

}  // namespace intpath
}  // namespace jpegai
