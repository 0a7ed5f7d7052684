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
from jpegai_fast.runtime.ladder import TypicalCurve

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
                tolerance: float = 0.9, curve: TypicalCurve | None = None) -> RateSearch:
    """Largest rate with size <= target, accepting the first in [tolerance, 1] x target.

    Size grows roughly exponentially with t, so probes aim at ln(size) = ln(target (1 + tolerance) / 2).
    With ``curve`` (the model's typical size per rate, runtime/ladder.py) the first probe is the curve's rate
    for that size, and until probes lie on both sides of the target each next one steps along the curve's
    local slope from the last (at least MIN_STEP, doubling while the probes stay on one side, so a wrong
    curve costs probes, not a wrong answer); without a curve the bracket starts at the two ends. Inside the
    bracket: linear interpolation of ln(size) (regula falsi), alternating with bisection so it cannot stall.
    Kodak at 0.12-2 bpp: 2-3 probes with the curve, 5-7 from the ends.
    """
    passes = 0
    cache: dict[int, bytes] = {}

    def size(rq: int) -> int:
        nonlocal passes
        if rq not in cache:
            cache[rq] = encode_at(rq)
            passes += 1
        return len(cache[rq])

    def fits(rq: int) -> bool:
        return size(rq) <= target_bytes

    aim = math.log(target_bytes * (1 + tolerance) / 2)
    lo = hi = None                       # the highest probe that fits, the lowest that does not
    rq = 0 if curve is None else min(max(curve.rate_q(target_bytes * (1 + tolerance) / 2), 0), rate_q_max)
    least = MIN_STEP
    while lo is None or hi is None:      # one side only: walk towards the target
        if fits(rq):
            if size(rq) >= tolerance * target_bytes:
                return RateSearch(rq, cache[rq], passes)
            lo = rq
        else:
            hi = rq
        if lo is not None and hi is not None:
            break
        if rq == (rate_q_max if hi is None else 0):     # the end of the range, on the target's wrong side
            return _end_of_range(rq, cache, passes, target_bytes, tolerance)
        if curve is None:
            rq = rate_q_max if hi is None else 0
            continue
        step = int(round(abs(aim - math.log(max(size(rq), 1))) / max(curve.slope(rq), 1e-6)))
        step = max(step, least)
        least *= 2
        rq = min(rq + step, rate_q_max) if hi is None else max(rq - step, 0)
    s_lo, s_hi = size(lo), size(hi)
    use_bisection = False
    while hi - lo > 1:
        if s_lo >= tolerance * target_bytes:
            break
        if use_bisection:
            mid = (lo + hi) // 2
        else:
            a, b = math.log(max(s_lo, 1)), math.log(s_hi)
            frac = (aim - a) / max(b - a, 1e-9)
            mid = lo + int(round(frac * (hi - lo)))
            mid = min(max(mid, lo + 1), hi - 1)
        use_bisection = not use_bisection
        s = size(mid)
        if s <= target_bytes:
            lo, s_lo = mid, s
        else:
            hi, s_hi = mid, s
    return RateSearch(lo, cache[lo], passes)


#: The smallest step of a one-sided walk (1/8 of a ladder point); it doubles with every step on one side.
MIN_STEP = 32


def _end_of_range(rq: int, cache: dict[int, bytes], passes: int, target_bytes: float,
                  tolerance: float) -> RateSearch:
    """The lowest rate when even it exceeds the target, the highest when even it falls short (warned)."""
    size = len(cache[rq])
    if rq == 0:
        warnings.warn(f"target of {target_bytes:.0f} bytes is below the lowest rate ({size} bytes): "
                      "returning the lowest rate", RuntimeWarning, stacklevel=4)
    elif size < tolerance * target_bytes:
        warnings.warn(f"target of {target_bytes:.0f} bytes is above the highest rate ({size} bytes): "
                      "returning the highest rate", RuntimeWarning, stacklevel=4)
    return RateSearch(rq, cache[rq], passes)


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
