"""The constants the C++ core owns, read from it: one source for both sides of the boundary.

Python never restates these numbers; a format or integer-path rule that needs one imports it here.
"""
from jpegai_fast import _core

#: rANS: probabilities are counts out of 2^PRECISION; the Gaussian coder has NUM_SCALES tables.
PRECISION: int = _core.PRECISION
NUM_SCALES: int = _core.NUM_SCALES
CHUNK_MAX_SYMBOLS: int = _core.CHUNK_MAX_SYMBOLS

#: Context model: channels per context group, causal taps, weight format.
GROUP: int = _core.GROUP
CONTEXT_TAPS: int = _core.CONTEXT_TAPS
CONTEXT_WEIGHT_FRAC_BITS: int = _core.CONTEXT_WEIGHT_FRAC_BITS
CONTEXT_VALUE_LIMIT: int = _core.CONTEXT_VALUE_LIMIT
CONTEXT_WEIGHT_LIMIT: int = _core.CONTEXT_WEIGHT_LIMIT
MAX_CHANNELS: int = _core.MAX_CHANNELS

#: Integer path: Q formats and bounds (docs/integer_path.md).
ACT_FRAC_BITS: int = _core.ACT_FRAC_BITS            # activations, mu, y_hat, steps: Q12
LOG2_FRAC_BITS: int = _core.LOG2SIGMA_FRAC_BITS     # log2 sigma, log2 step: Q8
ACT_LIMIT: int = _core.ACT_LIMIT
WEIGHT_LIMIT: int = _core.WEIGHT_LIMIT
MAX_SHIFT: int = _core.MAX_SHIFT
Z_LIMIT: int = _core.Z_LIMIT
#: The int16 hyper-synthesis (format version 6): |activation|, |weight| and partial-sum bounds, formats.
INT16_LIMIT: int = _core.INT16_LIMIT
INT16_ACC_LIMIT: int = _core.INT16_ACC_LIMIT
INT16_Z_FRAC_BITS: int = _core.INT16_Z_FRAC_BITS
INT16_HIDDEN_FRAC_BITS: int = _core.INT16_HIDDEN_FRAC_BITS
#: The scale-index rule: idx = clamp((L + SCALE_INDEX_OFFSET) >> SCALE_INDEX_SHIFT, 0, NUM_SCALES - 1).
SCALE_INDEX_OFFSET: int = _core.SCALE_INDEX_OFFSET
SCALE_INDEX_SHIFT: int = _core.SCALE_INDEX_SHIFT

#: The scale ladder of the coding tables: sigma_k = 2^((k - SCALE_LADDER_OFFSET) / SCALES_PER_OCTAVE) steps.
SCALE_LADDER_OFFSET: int = _core.SCALE_LADDER_OFFSET
SCALES_PER_OCTAVE: int = _core.SCALES_PER_OCTAVE
LOG2_SIGMA_MIN: float = -SCALE_LADDER_OFFSET / SCALES_PER_OCTAVE                    # table 0
LOG2_SIGMA_MAX: float = (NUM_SCALES - 1 - SCALE_LADDER_OFFSET) / SCALES_PER_OCTAVE  # the last table

#: The context loop's schedule: causal taps (dy, dx) in the weights' tap order, and position (i, j)'s
#: wavefront step j + CONTEXT_ROW_SLOPE * i (every tap lies at an earlier step).
CONTEXT_TAP_OFFSETS: tuple[tuple[int, int], ...] = tuple(tuple(t) for t in _core.CONTEXT_TAP_OFFSETS)
CONTEXT_ROW_SLOPE: int = _core.CONTEXT_ROW_SLOPE
#: Progressive layers: each refinement layer splits every bin of the layer below into REFINE_RATIO.
REFINE_RATIO: int = _core.REFINE_RATIO

#: A Q12 latent value times LATENT_SCALE is its float value.
LATENT_SCALE: float = 1.0 / (1 << ACT_FRAC_BITS)

#: Largest thread count the core accepts (csrc/common/parallel.h).
MAX_THREADS: int = _core.MAX_THREADS
#: The integer synthesis (format version 7): the IGDN root's largest exponent, r = isqrt(n 2^e) exact.
ROOT_EXP_MAX: int = _core.ROOT_EXP_MAX
