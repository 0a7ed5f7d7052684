#include "entropy/quantise.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "common/check.h"
#include "entropy/rans.h"

namespace jpegai::entropy {

std::vector<uint32_t> quantise_masses(const std::vector<u128>& masses) {
  const size_t n = masses.size();
  JPEGAI_CHECK(n >= 1 && n <= kProbTotal, "quantise_masses: 1 .. 65536 symbols");
  u128 total = 0;
  for (u128 m : masses) total += m;
  std::vector<u128> m = masses;
  if (total == 0) {
    std::fill(m.begin(), m.end(), u128(1));
    total = n;
  }
  // Proportional floors, raised to 1 where they are 0.
  std::vector<uint32_t> freq(n);
  std::vector<u128> rem(n);
  int64_t used = 0;
  for (size_t i = 0; i < n; ++i) {
    u128 scaled = u128(kProbTotal) * m[i];
    freq[i] = uint32_t(scaled / total);
    rem[i] = scaled % total;
    if (freq[i] == 0) {
      freq[i] = 1;
      rem[i] = 0;  // already rounded up
    }
    used += freq[i];
  }
  std::vector<uint32_t> order(n);
  std::iota(order.begin(), order.end(), 0u);
  if (used < int64_t(kProbTotal)) {
    // Floors lost less than one each: one pass over the largest remainders fills the gap.
    std::stable_sort(order.begin(), order.end(), [&](uint32_t a, uint32_t b) { return rem[a] > rem[b]; });
    for (size_t k = 0; used < int64_t(kProbTotal); ++k, ++used) freq[order[k]] += 1;
  } else if (used > int64_t(kProbTotal)) {
    // The raised zeros overshoot: take one at a time from the largest frequencies (the
    // relative change is smallest there), never going below 1.
    std::stable_sort(order.begin(), order.end(), [&](uint32_t a, uint32_t b) { return freq[a] > freq[b]; });
    while (used > int64_t(kProbTotal)) {
      for (size_t k = 0; k < n && used > int64_t(kProbTotal); ++k) {
        if (freq[order[k]] > 1) {
          freq[order[k]] -= 1;
          --used;
        }
      }
    }
  }
  return freq;
}

void pmf_to_cdf(const double* pmf, size_t C, size_t L, const double* tail, int32_t* cdfs, int32_t* lengths) {
  JPEGAI_CHECK(L >= 1 && L + 1 <= kProbTotal, "pmf_to_cdf: need 1 <= L <= 65535 symbols per row");
  const size_t stride = L + 2;
  std::vector<u128> masses(L + 1);
  for (size_t c = 0; c < C; ++c) {
    const double* row = pmf + c * L;
    double row_max = 0.0;
    for (size_t i = 0; i <= L; ++i) {
      double p = i < L ? row[i] : (tail ? tail[c] : 0.0);
      JPEGAI_CHECK(std::isfinite(p) && p >= 0.0, "pmf_to_cdf: probabilities must be finite and >= 0");
      row_max = std::max(row_max, p);
    }
    for (size_t i = 0; i <= L; ++i) {
      double p = i < L ? row[i] : (tail ? tail[c] : 0.0);
      masses[i] = row_max > 0.0 ? u128(uint64_t(std::floor(std::ldexp(p / row_max, 52)))) : u128(0);
    }
    std::vector<uint32_t> freq = quantise_masses(masses);
    int32_t* out = cdfs + c * stride;
    out[0] = 0;
    for (size_t i = 0; i <= L; ++i) out[i + 1] = out[i] + int32_t(freq[i]);
    lengths[c] = int32_t(stride);
  }
}

}  // namespace jpegai::entropy
