// Which tile kernel the float convolution engine runs. Default: the widest the CPU supports
// (AVX-512F, else AVX2+FMA, else portable); JPEGAI_NO_SIMD=1 forces the portable one. Results are
// identical on every path (see tile_kernel.h); the switch exists for speed and for tests.
#pragma once
#include <string>

#include "conv/tile_kernel.h"

namespace jpegai {
namespace conv {

Isa current_isa();
// Best ISA this CPU supports (ignores JPEGAI_NO_SIMD).
Isa best_isa();
// Selects "auto", "portable", "avx2" or "avx512"; raises std::invalid_argument for an unknown name or
// one the CPU lacks. Returns the previous selection's name.
std::string set_isa(const std::string& name);
std::string isa_name(Isa isa);

}  // namespace conv
}  // namespace jpegai
