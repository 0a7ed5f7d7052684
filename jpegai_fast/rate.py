"""The rate parameter: from user knobs (quality, bpp) to per-channel quantisation steps, exactly.

The stream stores the rate parameter t as ``rate_q`` = round(256 t). Everything derived from it
(log2 steps by linear interpolation between the gain ladder's points; the steps themselves come from
``intpath.step_q_from_log2``) is computed in integer arithmetic, so encoder and decoder agree bit for bit on every machine.
"""
from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from typing import Callable

import numpy as np

RATE_FRAC_BITS = 8          # rate_q = t * 256
LOG2_FRAC_BITS = 8          # log2 quantities in Q8

def log2_steps_q(ladder_q: np.ndarray, rate_q: int) -> np.ndarray:
    """Per-channel log2 step (Q8) at rate ``rate_q`` from the ladder's log2 steps ``ladder_q`` (K, M) Q8."""
    k_max = ladder_q.shape[0] - 1
    if not 0 <= rate_q <= k_max << RATE_FRAC_BITS:
        raise ValueError(f"rate parameter {rate_q / 256:.3f} outside [0, {k_max}]")
    k, frac = divmod(rate_q, 1 << RATE_FRAC_BITS)
    lo = ladder_q[k].astype(np.int64)
    if frac == 0:
        return lo
    hi = ladder_q[k + 1].astype(np.int64)
    return lo + (((hi - lo) * frac) >> RATE_FRAC_BITS)


def training_lambda(lambdas, t: float) -> float:
    """The lambda of rate parameter t: geometric interpolation between the ladder's lambdas."""
    k_max = len(lambdas) - 1
    t = float(t)
    if not math.isfinite(t) or not 0 <= t <= k_max:
        raise ValueError(f"rate parameter t must be in [0, {k_max}], got {t}")
    lo = min(int(math.floor(t)), k_max - 1)
    frac = t - lo
    return math.exp((1 - frac) * math.log(lambdas[lo]) + frac * math.log(lambdas[lo + 1]))


def quality_to_rate_q(quality: float, num_points: int) -> int:
    """Map quality in [0, 100] linearly onto the rate parameter t in [0, K-1]."""
    if not isinstance(quality, (int, float)) or not math.isfinite(quality) or not 0 <= quality <= 100:
        raise ValueError(f"quality must be a number in [0, 100], got {quality!r}")
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
