"""Rate control: from the user's knobs (quality, a target size, a target PSNR) to the stream's rate parameter.

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


#: A PSNR target is met once a probe lands in [target, target + PSNR_TOLERANCE] dB.
PSNR_TOLERANCE = 0.1


def search_psnr(encode_at: Callable[[int], bytes], psnr_of: Callable[[bytes], float], target: float,
                rate_q_max: int) -> RateSearch:
    """Lowest rate whose decode reaches ``target`` dB, by bisection over the rate, measured with the real decoder.

    Stops at the first probe within [target, target + PSNR_TOLERANCE], or when the bracket is one rate step
    wide (then the rate just above the target). Each probe is a quantise + code + full decode: 2 probes
    for the ends, then at most log2(rate_q_max) (~11 for the shipped model, ~0.1-0.2 s each for a Kodak
    image on 2 cores); usually 5-8.
    """
    passes = 0
    cache: dict[int, tuple[bytes, float]] = {}

    def psnr(rq: int) -> float:
        nonlocal passes
        if rq not in cache:
            data = encode_at(rq)
            cache[rq] = data, psnr_of(data)
            passes += 1
        return cache[rq][1]

    lo, hi = 0, rate_q_max
    if psnr(hi) < target:
        warnings.warn(f"PSNR target {target:g} dB is above what the model reaches ({cache[hi][1]:.2f} dB): "
                      "returning the highest rate", RuntimeWarning, stacklevel=3)
        return RateSearch(hi, cache[hi][0], passes)
    if psnr(lo) >= target:
        return RateSearch(lo, cache[lo][0], passes)
    while hi - lo > 1 and psnr(hi) - target > PSNR_TOLERANCE:
        mid = (lo + hi) // 2
        if psnr(mid) >= target:
            hi = mid
        else:
            lo = mid
    return RateSearch(hi, cache[hi][0], passes)
