"""Search a codec's knob so that the real file size hits a target rate (JPEG AI common test conditions).

Rule: the chosen point's rate must be at most ``target * (1 + tolerance)`` (10% by default) and as close to
the target as possible; on a tie the point below the target wins. Rates are measured on the complete file
bytes the codec returns, never estimated.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from jpegai_fast.eval.codecs import CodecAdapter, check_image

#: JPEG AI target rates in bits per pixel.
JPEG_AI_RATES = (0.03, 0.06, 0.12, 0.25, 0.5, 0.75, 1.0, 1.5, 2.0)

#: Stop refining a continuous knob once the rate is this close below the target (relative).
_CLOSE_ENOUGH = 0.01
_MAX_FLOAT_STEPS = 30


@dataclass
class RatePoint:
    """Outcome of one search: the chosen knob, its bitstream and rate, and how the target was met.

    ``status``: "ok" (within the tolerance of the target), "below" (best reachable point is more than the
    tolerance under the target: the codec saturates or its knob steps are coarse), "unreachable" (even the
    lowest rate is above ``target * (1 + tolerance)``; ``data`` is then None).
    """

    target_bpp: float
    knob: float | None
    bpp: float | None
    data: bytes | None
    status: str
    encodes: int = 0
    tried: dict = field(default_factory=dict, repr=False)


class _SizeCache:
    """Encodes each knob value once; remembers bpp and bytes."""

    def __init__(self, codec: CodecAdapter, img: np.ndarray):
        self.codec, self.img = codec, img
        self.pixels = img.shape[0] * img.shape[1]
        self.data: dict[float, bytes] = {}
        self.t_of: dict[float, float] = {}  # knob -> its position t in [0, 1] on the rate-increasing scale

    def bpp(self, knob: float) -> float:
        if knob not in self.data:
            data = self.codec.encode(self.img, knob)
            if not isinstance(data, (bytes, bytearray)) or len(data) == 0:
                raise ValueError(f"{self.codec.name}: encode returned no bytes at knob {knob}")
            self.data[knob] = bytes(data)
        return len(self.data[knob]) * 8 / self.pixels


def _check_target(target: float, tolerance: float) -> None:
    if isinstance(target, bool) or not isinstance(target, (int, float)) or not math.isfinite(target) or target <= 0:
        raise ValueError(f"target rate must be a positive finite number of bpp, got {target!r}")
    if not 0 <= tolerance < 1:
        raise ValueError(f"tolerance must be in [0, 1), got {tolerance!r}")


def _choose(cache: _SizeCache, target: float, tolerance: float):
    """Best tried knob: within the ceiling, closest to target, ties to the lower rate."""
    ceiling = target * (1 + tolerance)
    ok = [(abs(cache.bpp(k) - target), cache.bpp(k), k) for k in cache.data if cache.bpp(k) <= ceiling]
    if not ok:
        return None
    return min(ok)[2]


def search_knobs(codec: CodecAdapter, img: np.ndarray, targets=JPEG_AI_RATES, tolerance: float = 0.10) -> list[RatePoint]:
    """:func:`search_knob` for several targets on one image, sharing the encodes (fewer encoder calls)."""
    img = check_image(img)
    cache = _SizeCache(codec, img)
    return [search_knob(codec, img, t, tolerance, _cache=cache) for t in targets]


def search_knob(codec: CodecAdapter, img: np.ndarray, target_bpp: float, tolerance: float = 0.10,
                _cache: _SizeCache | None = None) -> RatePoint:
    """Find the knob of ``codec`` whose real file rate is closest to ``target_bpp`` without exceeding it by
    more than ``tolerance`` (relative).

    Assumes the rate is (nearly) monotone in the knob: bisection brackets the target, then every tried knob
    competes under the rule above, so small non-monotonic wiggles cost closeness, never correctness.
    ``RatePoint.encodes`` counts the encoder calls this search added.
    """
    img = check_image(img)
    _check_target(target_bpp, tolerance)
    kn = codec.knob
    cache = _cache if _cache is not None else _SizeCache(codec, img)
    start = len(cache.data)

    # Work on t in [0, 1] where rate increases with t; map to the knob (linear or log, flipped if needed).
    def knob_of(t: float) -> float:
        if not kn.rate_increases:
            t = 1.0 - t
        if kn.log:
            k = math.exp(math.log(kn.low) + t * (math.log(kn.high) - math.log(kn.low)))
        else:
            k = kn.low + t * (kn.high - kn.low)
        k = min(max(k, kn.low), kn.high)
        return float(round(k)) if kn.integer else k

    def rate_at(t: float) -> float:
        k = knob_of(t)
        cache.t_of.setdefault(k, t)
        return cache.bpp(k)

    lo_t, hi_t = 0.0, 1.0
    if rate_at(lo_t) > target_bpp * (1 + tolerance):
        return RatePoint(target_bpp, None, None, None, "unreachable", len(cache.data) - start,
                         {k: cache.bpp(k) for k in cache.data})
    if rate_at(hi_t) > target_bpp:
        # Start from the tightest bracket earlier searches on this image already measured.
        for k, t in cache.t_of.items():
            if cache.bpp(k) <= target_bpp and t > lo_t:
                lo_t = t
            elif cache.bpp(k) > target_bpp and t < hi_t:
                hi_t = t
        if lo_t >= hi_t:  # non-monotone measurements: fall back to the full range
            lo_t, hi_t = 0.0, 1.0
        # Invariant: rate(lo_t) <= target < rate(hi_t).
        for _ in range(_MAX_FLOAT_STEPS + 8):
            k_lo, k_hi = knob_of(lo_t), knob_of(hi_t)
            if kn.integer and abs(k_hi - k_lo) <= 1:
                break
            r_lo = cache.bpp(k_lo)
            if not kn.integer and target_bpp * (1 - _CLOSE_ENOUGH) <= r_lo:
                break
            mid = 0.5 * (lo_t + hi_t)
            if kn.integer and knob_of(mid) in (k_lo, k_hi):
                # Rounding stalls the midpoint: step one integer inward instead.
                step = 1.0 / (kn.high - kn.low)
                mid = lo_t + step if knob_of(mid) == k_lo else hi_t - step
            if rate_at(mid) <= target_bpp:
                lo_t = mid
            else:
                hi_t = mid
            if not kn.integer and len(cache.data) - start >= _MAX_FLOAT_STEPS:
                break

    best = _choose(cache, target_bpp, tolerance)
    bpp = cache.bpp(best)
    status = "ok" if bpp >= target_bpp * (1 - tolerance) else "below"
    return RatePoint(target_bpp, best, bpp, cache.data[best], status, len(cache.data) - start,
                     {k: cache.bpp(k) for k in cache.data})
