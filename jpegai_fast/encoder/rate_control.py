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


#: The smallest step of a one-sided walk (1/8 of a ladder point); it doubles with every step on one side.
MIN_STEP = 32

#: A PSNR target is met once a probe lands in [target, target + PSNR_TOLERANCE] dB.
PSNR_TOLERANCE = 0.1


def _find(probe: Callable[[int], tuple[float, int]], aim: float, start: int, curve: TypicalCurve | None,
          rate_q_max: int, keep_low: bool) -> tuple[int, str]:
    """A rate whose probe lands in the target's window. ``probe(rq)`` -> (value, side): a value that grows with the
    rate (ln size, PSNR), side -1 / 0 / +1 below / in / above the window; ``aim`` is the value aimed at.

    From ``start``, until probes lie on both sides of the window, each next probe steps from the last towards
    ``aim`` along ``curve``'s slope (at least MIN_STEP, doubling while the probes stay on one side, so a wrong
    curve costs probes, not the answer); without a curve the walk jumps to the far end. Inside the bracket:
    linear interpolation of the value (regula falsi, Illinois variant) to where it meets ``aim``. Returns
    (rate, how): how = "window"; "bracket" when none lands in it (the highest rate below the window with
    ``keep_low``, else the lowest above it); "end" when the range ends on the window's wrong side.
    """
    lo = hi = None                   # the highest probe below the window, the lowest above it
    rq, least, last = start, MIN_STEP, None
    while lo is None or hi is None:
        value, side = probe(rq)
        if side == 0:
            return rq, "window"
        if side < 0:
            lo = rq
        else:
            hi = rq
        if lo is not None and hi is not None:
            break
        if rq == (rate_q_max if hi is None else 0):
            return rq, "end"
        if curve is None:
            rq = rate_q_max if hi is None else 0
            continue
        # the secant of the walk's last two probes where it rises, else the curve's slope; at least half the
        # curve's mean slope (a flat stretch, e.g. PSNR near its ceiling, would step too far)
        slope = curve.slope(rq)
        if last is not None and (value - last[1]) * (rq - last[0]) > 0:
            slope = (value - last[1]) / (rq - last[0])
        slope = max(slope, curve.mean_slope() / 2)
        last = rq, value
        step = max(int(round(abs(aim - value) / max(slope, 1e-9))), least)
        least *= 2
        rq = min(rq + step, rate_q_max) if hi is None else max(rq - step, 0)
    f_lo, f_hi = probe(lo)[0] - aim, probe(hi)[0] - aim     # < 0 and > 0
    moved = 0                        # which end the last probe replaced (-1 low, +1 high)
    while hi - lo > 1:
        mid = min(max(lo + int(round((hi - lo) * -f_lo / (f_hi - f_lo))), lo + 1), hi - 1)
        value, side = probe(mid)
        if side == 0:
            return mid, "window"
        # Illinois: an end kept twice in a row has its value halved, so a curved function cannot pin the
        # interpolation to one side (a PSNR that flattens towards its ceiling: tests/encoder/test_rate_control.py)
        if side < 0:
            lo, f_lo = mid, min(value - aim, -1e-9)
            f_hi = f_hi / 2 if moved < 0 else f_hi
            moved = -1
        else:
            hi, f_hi = mid, max(value - aim, 1e-9)
            f_lo = f_lo / 2 if moved > 0 else f_lo
            moved = 1
    return (lo if keep_low else hi), "bracket"


def search_rate(encode_at: Callable[[int], bytes], target_bytes: float, rate_q_max: int,
                tolerance: float = 0.9, curve: TypicalCurve | None = None) -> RateSearch:
    """Largest rate with size <= target, accepting the first probe in [tolerance, 1] x target.

    Size grows roughly exponentially with t, so the probes aim at ln(target (1 + tolerance) / 2) (``_find``).
    ``curve``: the model's typical ln(size) per rate (runtime/ladder.typical_size_curve), the first probe its
    rate for that size; without one the search starts at the lowest rate. Kodak at 0.03-2 bpp: 2.0-2.6 probes
    on average with the curve (at most 4), 4.7-7.0 from the ends (at most 7).
    """
    cache: dict[int, bytes] = {}

    def probe(rq: int) -> tuple[float, int]:
        if rq not in cache:
            cache[rq] = encode_at(rq)
        n = len(cache[rq])
        return math.log(max(n, 1)), (1 if n > target_bytes else -1 if n < tolerance * target_bytes else 0)

    aim = math.log(target_bytes * (1 + tolerance) / 2)
    start = 0 if curve is None else min(curve.rate_q(aim), rate_q_max)
    rq, how = _find(probe, aim, start, curve, rate_q_max, keep_low=True)
    size = len(cache[rq])
    if how == "end" and rq == 0:
        warnings.warn(f"target of {target_bytes:.0f} bytes is below the lowest rate ({size} bytes): "
                      "returning the lowest rate", RuntimeWarning, stacklevel=3)
    elif how == "end":
        warnings.warn(f"target of {target_bytes:.0f} bytes is above the highest rate ({size} bytes): "
                      "returning the highest rate", RuntimeWarning, stacklevel=3)
    return RateSearch(rq, cache[rq], len(cache))


def search_psnr(encode_at: Callable[[int], bytes], psnr_of: Callable[[bytes], float], target: float,
                rate_q_max: int, curve: TypicalCurve | None = None) -> RateSearch:
    """Lowest rate whose decode reaches ``target`` dB, measured with the real decoder, accepting the first probe
    in [target, target + PSNR_TOLERANCE] (else the rate just above the target once the bracket is one step).

    ``curve``: the model's typical PSNR per rate (runtime/ladder.typical_psnr_curve), the first probe its rate
    for the target; without one the search starts at the lowest rate. Each probe is a quantise + code + full
    decode (~0.1 s for a Kodak image on 2 cores). Kodak (8 images) at 26-37 dB: 2.3-4.4 probes on average with
    the curve (at most 6), 3.4-9.0 by bisection from the ends (at most 11).
    """
    cache: dict[int, tuple[bytes, float]] = {}

    def probe(rq: int) -> tuple[float, int]:
        if rq not in cache:
            data = encode_at(rq)
            cache[rq] = data, psnr_of(data)
        v = cache[rq][1]
        return v, (-1 if v < target else 1 if v > target + PSNR_TOLERANCE else 0)

    aim = target + PSNR_TOLERANCE / 2
    start = 0 if curve is None else min(curve.rate_q(aim), rate_q_max)
    rq, how = _find(probe, aim, start, curve, rate_q_max, keep_low=False)
    if how == "end" and rq == rate_q_max:
        warnings.warn(f"PSNR target {target:g} dB is above what the model reaches ({cache[rq][1]:.2f} dB): "
                      "returning the highest rate", RuntimeWarning, stacklevel=3)
    return RateSearch(rq, cache[rq][0], len(cache))
