// Integer-exact probability quantisation: non-negative integer masses -> frequencies that are
// all >= 1 and sum to exactly 2^16. Pure integer arithmetic, so every platform agrees.
#pragma once
#include <cstddef>
#include <cstdint>
#include <vector>

#include "common/portable.h"

namespace jpegai::entropy {

using jpegai::u128;

// freq_i = max(1, floor(2^16 m_i / sum m)); a shortfall goes one each to the largest
// remainders, an excess (from raised zeros) is taken one each from the largest frequencies
// (ties: lower index first). All-zero masses give a uniform split. Requires 1 <= n <= 2^16.
std::vector<uint32_t> quantise_masses(const std::vector<u128>& masses);

// pmf (C x L, doubles, finite, >= 0; rows need not be normalised) -> CDFs with L regular
// symbols and one escape (C x (L + 2) int32: 0 = cdf[0] < ... < cdf[L + 1] = 2^16) and
// lengths (all L + 2). tail (C doubles, may be null) is the escape mass in pmf units; null
// gives the escape the minimum frequency. Masses are taken as floor(p / row_max * 2^52), an
// exactly rounded IEEE operation, so the result is the same on every IEEE-754 platform.
void pmf_to_cdf(const double* pmf, size_t C, size_t L, const double* tail, int32_t* cdfs, int32_t* lengths);

}  // namespace jpegai::entropy
