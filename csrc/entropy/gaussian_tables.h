// Gaussian-conditional coding tables for the fixed scale ladder (docs/entropy_coding.md):
// sigma_k = 2^((k - 27) / 8), k = 0..75. Table k codes q in [-R_k, R_k] plus an escape,
// R_k = max(1, ceil(4.5 * sigma_k - 0.5)). Built once, with integer arithmetic only.
#pragma once
#include <cstdint>
#include <vector>

#include "entropy/table_set.h"

namespace jpegai::entropy {

constexpr int kNumScales = 76;
// The scale ladder: sigma_k = 2^((k - kLadderOffset) / kScalesPerOctave) quantisation steps.
constexpr int kLadderOffset = 27;  // table 27 is sigma = step
constexpr int kScalesPerOctave = 8;

// The tables (built on first use, thread-safe).
const TableSet& gaussian_tables();

// sigma_k as doubles, for Python and documentation (not used by the coder).
std::vector<double> gaussian_scale_ladder();

}  // namespace jpegai::entropy
