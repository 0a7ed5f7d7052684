// Integer-exact construction of the Gaussian tables. Everything below is fixed-point integer
// arithmetic (u128 from common/portable.h where products need it): the bin masses are Simpson sums of
// exp(-t^2 / 2) with a Taylor-series exp, so no libm call can make two platforms disagree.
#include "entropy/gaussian_tables.h"

#include <cmath>
#include <mutex>

#include "entropy/quantise.h"

namespace jpegai::entropy {
namespace {

constexpr int kFrac = 56;  // fixed point: Q56 for t, u, sigma
constexpr uint64_t kOne = uint64_t(1) << kFrac;
constexpr uint64_t kLn2Q56 = 49946518145322874ull;  // round(ln 2 * 2^56)
constexpr int kSimpsonSteps = 32;                   // sub-intervals per unit-width bin (even)
constexpr uint64_t kTailNum = 9, kTailDen = 2;      // coded range: 4.5 sigma

u128 isqrt(u128 n) {
  u128 root = 0, bit = u128(1) << 126;
  while (bit > n) bit >>= 2;
  while (bit != 0) {
    if (n >= root + bit) {
      n -= root + bit;
      root = (root >> 1) + bit;
    } else {
      root >>= 1;
    }
    bit >>= 2;
  }
  return root;
}

// 2^(b/8) in Q60 for b = 0..7, from three nested integer square roots of 2.
struct EighthRoots {
  uint64_t v[8];
  EighthRoots() {
    u128 r2 = isqrt(u128(2) << 120);
    u128 r4 = isqrt(r2 << 60);
    u128 r8 = isqrt(r4 << 60);
    v[0] = uint64_t(1) << 60;
    for (int b = 1; b < 8; ++b) v[b] = uint64_t((u128(v[b - 1]) * r8) >> 60);
  }
};

// 2^(e/8) in Q56 for -48 <= e <= 48: the ladder's steps, in eighths of an octave.
static_assert(kScalesPerOctave == 8, "pow2_eighths_q56 builds the ladder in eighths of an octave");
uint64_t pow2_eighths_q56(int e) {
  static const EighthRoots roots;
  int a = (e >= 0) ? e / 8 : -((-e + 7) / 8);
  int b = e - 8 * a;
  int shift = a - 4;  // Q60 -> Q56 and the 2^a factor
  return shift >= 0 ? roots.v[b] << shift : roots.v[b] >> (-shift);
}

// exp(-u) in Q60 for u >= 0 in Q56.
uint64_t exp_neg_q60(uint64_t u) {
  if (u >= 44 * kOne) return 0;  // e^-44 < 2^-63
  uint64_t n = u / kLn2Q56;
  uint64_t r = (u - n * kLn2Q56) << 4;  // Q60, r < ln 2
  // Taylor series of e^-r; terms shrink fast since r < 0.7.
  uint64_t term = uint64_t(1) << 60;
  int64_t sum = int64_t(term);
  for (int j = 1; j <= 24 && term != 0; ++j) {
    term = uint64_t((u128(term) * r) >> 60) / uint64_t(j);
    sum += (j & 1) ? -int64_t(term) : int64_t(term);
  }
  return n >= 64 ? 0 : uint64_t(sum) >> n;
}

// Unnormalised mass of bin [q - 1/2, q + 1/2] (q >= 0, symbol units) under exp(-(x/sigma)^2/2),
// in units of the common Simpson factor h / 3 (h is the same for every bin of one scale).
u128 bin_mass(int64_t q, uint64_t inv_sigma_q56) {
  u128 sum = 0;
  for (int j = 0; j <= kSimpsonSteps; ++j) {
    // x = X / (2 * steps) with X = (2q - 1) * steps + 2j; the density is even, so |X|.
    int64_t X = (2 * q - 1) * kSimpsonSteps + 2 * j;
    uint64_t ax = uint64_t(X < 0 ? -X : X);
    u128 t = (u128(ax) * inv_sigma_q56) / (2 * kSimpsonSteps);  // Q56
    u128 u = (t * t) >> (kFrac + 1);                            // t^2 / 2, Q56
    uint64_t f = u >= (u128(44) << kFrac) ? 0 : exp_neg_q60(uint64_t(u));
    int w = (j == 0 || j == kSimpsonSteps) ? 1 : ((j & 1) ? 4 : 2);
    sum += u128(f) * w;
  }
  return sum;
}

TableSet build_tables() {
  TableSet set;
  for (int k = 0; k < kNumScales; ++k) {
    uint64_t sigma = pow2_eighths_q56(k - kLadderOffset);
    uint64_t inv_sigma = pow2_eighths_q56(kLadderOffset - k);
    // R = max(1, ceil(4.5 sigma - 1/2)), in Q56 integer arithmetic.
    u128 reach = u128(sigma) * kTailNum / kTailDen;
    int64_t R = 1;
    if (reach > kOne / 2) {
      u128 r = reach - kOne / 2;
      R = std::max<int64_t>(1, int64_t((r + kOne - 1) >> kFrac));
    }
    std::vector<u128> masses(size_t(2 * R + 2));
    for (int64_t q = 0; q <= R; ++q) {
      u128 m = bin_mass(q, inv_sigma);
      masses[size_t(R + q)] = m;
      masses[size_t(R - q)] = m;
    }
    // Escape: both tails, summed bin by bin until the density underflows.
    u128 tail = 0;
    for (int64_t q = R + 1;; ++q) {
      u128 m = bin_mass(q, inv_sigma);
      if (m == 0) break;
      tail += m;
    }
    masses.back() = 2 * tail;
    std::vector<uint32_t> freq = quantise_masses(masses);
    set.add_table(freq.data(), freq.size(), -R);
  }
  return set;
}

}  // namespace

const TableSet& gaussian_tables() {
  static const TableSet tables = build_tables();  // C++11 magic static: thread-safe init
  return tables;
}

std::vector<double> gaussian_scale_ladder() {
  std::vector<double> s(kNumScales);
  for (int k = 0; k < kNumScales; ++k) s[k] = std::exp2((k - kLadderOffset) / double(kScalesPerOctave));
  return s;
}

}  // namespace jpegai::entropy
