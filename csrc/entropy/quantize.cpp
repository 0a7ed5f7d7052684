#include "entropy/quantize.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "common/check.h"
#include "entropy/rans.h"

namespace jpegai::entropy {

std::vector<uint32_t> quantize_masses(const std::vector<u128>& masses) {
  const size_t n = masses.size();
  JPEGAI_CHECK(n >= 1 && n <= kProbTotal, "quantize_masses: 1 .. 65536 symbols");
  u128 total = 0;
  for (u128 m : masses) total += m;
  std::vector<u128> m = masses;
  if (total == 0) {
    std::fill(m.begin(), m.end(), u128(1));
    total = n;
  }
  const u128 budget = kProbTotal - n;
  std::vector<uint32_t> freq(n);
  std::vector<u128> rem(n);
  uint64_t used = 0;
  for (size_t i = 0; i < n; ++i) {
    u128 scaled = budget * m[i];
    freq[i] = 1 + uint32_t(scaled / total);
    rem[i] = scaled % total;
    used += freq[i];
  }
  size_t left = size_t(kProbTotal - used);  // < n: each floor lost less than one
  if (left > 0) {
    std::vector<uint32_t> order(n);
    std::iota(order.begin(), order.end(), 0u);
    std::stable_sort(order.begin(), order.end(),
                     [&](uint32_t a, uint32_t b) { return rem[a] > rem[b]; });
    for (size_t k = 0; k < left; ++k) freq[order[k]] += 1;
  }
  return freq;
}

void pmf_to_cdf(const double* pmf, size_t C, size_t L, const double* tail, int32_t* cdfs,
                int32_t* lengths) {
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
    std::vector<uint32_t> freq = quantize_masses(masses);
    int32_t* out = cdfs + c * stride;
    out[0] = 0;
    for (size_t i = 0; i <= L; ++i) out[i + 1] = out[i] + int32_t(freq[i]);
    lengths[c] = int32_t(stride);
  }
}

}  // namespace jpegai::entropy
