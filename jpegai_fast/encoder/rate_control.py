"""Rate control: from the user's knobs (quality, a target size) to the stream's rate parameter.

The rate parameter's unit and what it means to the model are in runtime/ladder.py.
"""
from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from typing import Callable

from jpegai_fast.encoder.options import check_value
from jpegai_fast.format.container import RATE_FRAC_BITS

def quality_to_rate_q(quality: float, num_points: int) -> int:
    """Map quality in [0, 100] linearly onto the rate parameter t in [0, K-1]."""
    quality = check_value("quality", quality)
    return int(round(quality / 100.0 * (num_points - 1) * (1 << RATE_FRAC_BITS)))


@dataclass
class RateSearch:
    """Outcome of rate control: the chosen rate parameter, its stream and how it was found."""

    rate_q: int
    data: bytes
    passes: int


def search_rate(encode_at: Callable[[int], bytes], target_bytes: float, rate_q_max: int,
                tolerance: float = 0.9) -> RateSearch:
    """Largest rate with size <= target, accepting the first in [tolerance, 1] x target.

    Size grows roughly exponentially with t, so the next probe interpolates log(size) linearly
    inside the bracket (regula falsi); bisection steps keep it from stalling. Usually 3-5 passes.
    """
    passes = 0
    cache: dict[int, bytes] = {}

    def size(rq: int) -> int:
        nonlocal passes
        if rq not in cache:
            cache[rq] = encode_at(rq)
            passes += 1
        return len(cache[rq])

    lo, hi = 0, rate_q_max
    s_lo, s_hi = size(lo), size(hi)
    if s_lo > target_bytes:
        warnings.warn(f"target of {target_bytes:.0f} bytes is below the lowest rate ({s_lo} bytes): "
                      "returning the lowest rate", RuntimeWarning, stacklevel=3)
        return RateSearch(lo, cache[lo], passes)
    if s_hi < tolerance * target_bytes:
        warnings.warn(f"target of {target_bytes:.0f} bytes is above the highest rate ({s_hi} bytes): "
                      "returning the highest rate", RuntimeWarning, stacklevel=3)
    if s_hi <= target_bytes:
        return RateSearch(hi, cache[hi], passes)
    use_bisection = False
    while hi - lo > 1:
        if s_lo >= tolerance * target_bytes:
            break
        if use_bisection:
            mid = (lo + hi) // 2
        else:
            a, b = math.log(max(s_lo, 1)), math.log(s_hi)
            frac = (math.log(target_bytes * (1 + tolerance) / 2) - a) / max(b - a, 1e-9)
            mid = lo + int(round(frac * (hi - lo)))
            mid = min(max(mid, lo + 1), hi - 1)
        use_bisection = not use_bisection
        s = size(mid)
        if s <= target_bytes:
            lo, s_lo = mid, s
        else:
            hi, s_hi = mid, s
    return RateSearch(lo, cache[lo], passes)
