// The greedy copy search (see copy_search.h).
#include "lossless/copy_search.h"

#include <algorithm>
#include <cmath>

#include "common/check.h"
#include "common/portable.h"

namespace jpegai::lossless {
namespace {

constexpr int kHashBits = 20;
constexpr int kChainDepth = 24;       // earlier positions tried per pixel besides the fixed candidates
constexpr uint32_t kNone = ~uint32_t(0);
constexpr size_t kSkipFrom = 64;  // pixels: a repeat this long that does not pay is stepped over whole

inline uint32_t hash_of(const uint64_t* px) {
  uint64_t x = 0;
  for (int k = 0; k < kMinCopy; ++k) x = (x ^ px[k]) * 0x9E3779B97F4A7C15ull;
  return uint32_t(x >> (64 - kHashBits));
}

inline double class_bits(uint64_t v) { return v ? double(floor_log2_u64(v)) : 0.0; }

// The bits a copy's fields are expected to cost: each field's raw bits plus a few for its symbol (a
// rough average of the measured tables; the encoder keeps the map only if the real sizes say so).
double copy_bits(uint64_t gap, uint32_t distance, const DistanceCache& cache, uint64_t length) {
  const int cached = cache.find(distance);
  const double d = cached >= 0 ? 1.0 + cached : 4.0 + class_bits(distance);
  return 3.0 + class_bits(gap) + d + 3.0 + class_bits(length - kMinCopy);
}

}  // namespace

std::vector<Copy> find_copies(const uint16_t* pixels, int h, int w, int channels, const float* cost) {
  JPEGAI_CHECK(h >= 1 && w >= 1 && channels >= 1 && channels <= 4, "copy search: bad image shape");
  const size_t n = size_t(h) * size_t(w);
  JPEGAI_CHECK(n < kNone, "copy search: image too large");
  std::vector<uint64_t> px(n);  // a whole pixel as one key: equal keys = equal samples in every channel
  for (size_t i = 0; i < n; ++i) {
    uint64_t v = 0;
    for (int c = 0; c < channels; ++c) v = (v << 16) | pixels[i * channels + c];
    px[i] = v;
  }
  std::vector<Copy> copies;
  if (n < size_t(kMinCopy)) return copies;
  std::vector<uint32_t> head(size_t(1) << kHashBits, kNone), chain(n, kNone);
  auto insert = [&](size_t i) {
    if (i + kMinCopy > n) return;
    const uint32_t hv = hash_of(&px[i]);
    chain[i] = head[hv];
    head[hv] = uint32_t(i);
  };
  size_t i = 0, end_of_last = 0;
  DistanceCache cache(w);
  while (i < n) {
    double best_gain = 0.0;
    uint32_t best_d = 0;
    size_t best_len = 0, longest = 0;
    auto consider = [&](size_t d) {
      if (d == 0 || d > i) return;
      size_t len = 0;
      double bits = 0.0;
      while (i + len < n && px[i + len] == px[i + len - d]) bits += cost[i + len++];
      longest = std::max(longest, len);
      if (len < size_t(kMinCopy)) return;
      const double gain = bits - copy_bits(i - end_of_last, uint32_t(d), cache, len);
      if (gain > best_gain) {
        best_gain = gain;
        best_d = uint32_t(d);
        best_len = len;
      }
    };
    if (i + kMinCopy <= n) {
      for (int64_t d : cache.d)
        if (d >= 1) consider(size_t(d));
      uint32_t j = head[hash_of(&px[i])];
      for (int depth = 0; depth < kChainDepth && j != kNone; ++depth, j = chain[j]) {
        const size_t d = i - j;
        if (cache.find(uint32_t(d)) < 0) consider(d);
      }
    }
    if (best_len) {
      copies.push_back({uint32_t(i), best_d, uint32_t(best_len)});
      cache.use(best_d);
      for (size_t k = 0; k < best_len; ++k) insert(i + k);
      i += best_len;
      end_of_last = i;
    } else {
      // a long repeat too cheap to copy (a flat area the planes code for almost nothing): step over it
      // as literals, or every pixel in it would scan it again (quadratic on large flat areas)
      const size_t step = longest >= kSkipFrom ? longest : 1;
      for (size_t k = 0; k < step; ++k) insert(i + k);
      i += step;
    }
  }
  return copies;
}

}  // namespace jpegai::lossless
