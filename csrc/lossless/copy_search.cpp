// The greedy copy search (see copy_search.h).
#include "lossless/copy_search.h"

#include <algorithm>
#include <cmath>

#include "common/check.h"
#include "common/portable.h"

namespace jpegai::lossless {
namespace {

constexpr int kHashBits = 20;
constexpr int kChainDepth = 64;  // earlier positions tried per pixel besides the fixed candidates
constexpr uint32_t kNone = ~uint32_t(0);
constexpr size_t kLazyBelow = 64;  // a copy this short is weighed against the one from the next pixel
constexpr size_t kSkipFrom = 64;   // pixels: a repeat this long that does not pay is stepped over whole

inline uint32_t hash_of(const uint64_t* px) {
  uint64_t x = 0;
  for (int k = 0; k < kMinCopy; ++k) x = (x ^ px[k]) * 0x9E3779B97F4A7C15ull;
  return uint32_t(x >> (64 - kHashBits));
}

// The bits a copy's fields are expected to cost: per field, its symbol's code length (first a guess,
// then what the previous pass's copies measured) and its raw bits. The encoder keeps the map only if the
// real sizes say so.
struct FieldCosts {
  double gap[kClasses], distance[kDistanceSymbols], length[kClasses], dx[kClasses];
  FieldCosts() {  // the first guess: a few bits per symbol, a cached distance cheaper the more recent
    std::fill(gap, gap + kClasses, 3.0);
    std::fill(length, length + kClasses, 3.0);
    std::fill(dx, dx + kClasses, 3.0);
    for (int s = 0; s < kDistanceSymbols; ++s) distance[s] = s < kCachedDistances ? 1.0 + s : 4.0;
  }
  // -log2 of each symbol's share among the copies (an unseen one: as if seen half a time)
  FieldCosts(const std::vector<Copy>& copies, int w) {
    double g[kClasses] = {}, d[kDistanceSymbols] = {}, l[kClasses] = {}, x[kClasses] = {};
    DistanceCache cache(w);
    uint64_t pos = 0;
    for (const Copy& c : copies) {
      g[value_symbol(uint32_t(c.start - pos))] += 1;
      const DistanceFields df = distance_fields(c.distance, cache, w);
      d[df.symbol] += 1;
      if (df.dx_symbol >= 0) x[df.dx_symbol] += 1;
      l[value_symbol(c.length - kMinCopy)] += 1;
      cache.use(c.distance);
      pos = uint64_t(c.start) + c.length;
    }
    const double total = double(copies.size()) + 0.5;
    double new_distances = 0.5;
    for (int s = 0; s < kClasses; ++s) new_distances += x[s];
    for (int s = 0; s < kClasses; ++s) gap[s] = std::log2(total / std::max(g[s], 0.5));
    for (int s = 0; s < kClasses; ++s) length[s] = std::log2(total / std::max(l[s], 0.5));
    for (int s = 0; s < kClasses; ++s) dx[s] = std::log2(new_distances / std::max(x[s], 0.5));
    for (int s = 0; s < kDistanceSymbols; ++s) distance[s] = std::log2(total / std::max(d[s], 0.5));
  }
  double bits(uint64_t gap_pixels, uint32_t d, const DistanceCache& cache, int w, uint64_t len) const {
    const int gs = value_symbol(uint32_t(gap_pixels)), ls = value_symbol(uint32_t(len - kMinCopy));
    const DistanceFields df = distance_fields(d, cache, w);
    return gap[gs] + value_raw_bits(gs) + distance[df.symbol] + (df.dx_symbol >= 0 ? dx[df.dx_symbol] : 0.0) +
           df.raw_bits + length[ls] + value_raw_bits(ls);
  }
};

std::vector<Copy> search(const std::vector<uint64_t>& px, int w, const float* cost, const FieldCosts& fields);

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
  if (n < size_t(kMinCopy)) return {};
  // two passes: the second weighs each copy with the field costs the first one's copies measured
  const std::vector<Copy> first = search(px, w, cost, FieldCosts());
  if (first.empty()) return first;
  return search(px, w, cost, FieldCosts(first, w));
}

namespace {

std::vector<Copy> search(const std::vector<uint64_t>& px, int w, const float* cost, const FieldCosts& fields) {
  const size_t n = px.size();
  std::vector<Copy> copies;
  std::vector<uint32_t> head(size_t(1) << kHashBits, kNone), chain(n, kNone);
  size_t inserted = 0;  // positions below this are in the hash chains (each once)
  auto insert_until = [&](size_t end) {
    for (; inserted < end && inserted + kMinCopy <= n; ++inserted) {
      const uint32_t hv = hash_of(&px[inserted]);
      chain[inserted] = head[hv];
      head[hv] = uint32_t(inserted);
    }
    inserted = std::max(inserted, end);
  };
  struct Best {
    double gain = 0.0;
    uint32_t d = 0;
    size_t len = 0, longest = 0;
  };
  // the most profitable copy starting at i (len 0: none pays), the earlier positions in the chains
  auto best_at = [&](size_t i, size_t end_of_last, const DistanceCache& cache) {
    Best b;
    if (i + kMinCopy > n) return b;
    insert_until(i);
    auto consider = [&](size_t d) {
      if (d == 0 || d > i) return;
      size_t len = 0;
      double bits = 0.0;
      while (i + len < n && px[i + len] == px[i + len - d]) bits += cost[i + len++];
      b.longest = std::max(b.longest, len);
      if (len < size_t(kMinCopy)) return;
      const double gain = bits - fields.bits(i - end_of_last, uint32_t(d), cache, w, len);
      if (gain > b.gain) b = {gain, uint32_t(d), len, b.longest};
    };
    for (int64_t d : cache.d)
      if (d >= 1) consider(size_t(d));
    uint32_t j = head[hash_of(&px[i])];
    for (int depth = 0; depth < kChainDepth && j != kNone; ++depth, j = chain[j]) {
      const size_t d = i - j;
      if (cache.find(uint32_t(d)) < 0) consider(d);
    }
    return b;
  };
  size_t i = 0, end_of_last = 0;
  DistanceCache cache(w);
  while (i < n) {
    const Best b = best_at(i, end_of_last, cache);
    // lazy: when the copy from the next pixel on saves more, this pixel stays a literal
    if (b.len && b.len < kLazyBelow && best_at(i + 1, end_of_last, cache).gain > b.gain) {
      ++i;
      continue;
    }
    if (b.len) {
      copies.push_back({uint32_t(i), b.d, uint32_t(b.len)});
      cache.use(b.d);
      i += b.len;
      end_of_last = i;
    } else {
      // a long repeat too cheap to copy (a flat area the planes code for almost nothing): step over it
      // as literals, or every pixel in it would scan it again (quadratic on large flat areas)
      i += b.longest >= kSkipFrom ? b.longest : 1;
    }
  }
  return copies;
}

}  // namespace
}  // namespace jpegai::lossless
