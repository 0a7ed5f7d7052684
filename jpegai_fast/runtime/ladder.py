"""The rate parameter t and the gain ladder: per-channel quantisation steps at any rate, exactly.

The stream stores t as ``rate_q`` = round(t * 2^RATE_FRAC_BITS) (format/container.py). Everything derived
from it (log2 steps by linear interpolation between the ladder's points; the steps themselves come
from ``intpath.step_q_from_log2``) is integer arithmetic, so encoder and decoder agree bit for bit
on every machine. ``training_lambda`` is the rate-distortion weight the model was trained with at t.
"""
from __future__ import annotations

import math

import numpy as np

from jpegai_fast.format.container import RATE_FRAC_BITS


def log2_steps_q(ladder_q: np.ndarray, rate_q: int) -> np.ndarray:
    """Per-channel log2 step (Q8) at rate ``rate_q`` from the ladder's log2 steps ``ladder_q`` (K, M) Q8."""
    k_max = ladder_q.shape[0] - 1
    if not 0 <= rate_q <= k_max << RATE_FRAC_BITS:
        raise ValueError(f"rate parameter {rate_q / (1 << RATE_FRAC_BITS):.3f} outside [0, {k_max}]")
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


#: The shipped model (id 2cd002d84f6e1813) at its ladder points t = 0, 1, ..., K-1, the mean over 47 training
#: photos' 768x512 centre crops (`scripts/rate_curve.py`): ln(bits per pixel) (spread 0.16-0.51 per point)
#: and PSNR-RGB in dB (spread 2-3 dB). Rate control's first probe and step sizes only
#: (encoder/rate_control.py): another model's curve costs probes, never a wrong result.
TYPICAL_LN_BPP = (-4.267, -3.804, -3.076, -2.304, -1.557, -0.906, -0.406, -0.015, 0.303, 0.578, 0.807, 1.002)
TYPICAL_PSNR = (18.39, 19.89, 21.84, 23.98, 26.29, 28.65, 30.67, 32.07, 32.84, 33.2, 33.34, 33.4)


class TypicalCurve:
    """A quantity that grows with the rate (the ln of a stream's size, or its PSNR) given at the ladder points,
    linear in between."""

    def __init__(self, values):
        self._v = [float(v) for v in values]

    def rate_q(self, value: float) -> int:
        """The rate at which the curve reaches ``value`` (the nearest end outside the curve)."""
        v = self._v
        for k in range(len(v) - 1):
            if value < v[k + 1]:
                frac = max(0.0, (value - v[k]) / (v[k + 1] - v[k]))
                return int(round((k + frac) * (1 << RATE_FRAC_BITS)))
        return (len(v) - 1) << RATE_FRAC_BITS

    def mean_slope(self) -> float:
        """The curve's growth per unit of rate_q from its first point to its last."""
        return (self._v[-1] - self._v[0]) / ((len(self._v) - 1) << RATE_FRAC_BITS)

    def slope(self, rate_q: int) -> float:
        """The curve's growth per unit of rate_q at ``rate_q``."""
        k = min(rate_q >> RATE_FRAC_BITS, len(self._v) - 2)
        return (self._v[k + 1] - self._v[k]) / (1 << RATE_FRAC_BITS)


def typical_size_curve(num_points: int, pixels: int) -> TypicalCurve | None:
    """ln(bytes) of a typical stream of ``pixels`` pixels per rate, for a model of ``num_points`` ladder points
    (None for another count: no guess)."""
    if num_points != len(TYPICAL_LN_BPP):
        return None
    return TypicalCurve(v + math.log(pixels / 8.0) for v in TYPICAL_LN_BPP)


def typical_psnr_curve(num_points: int) -> TypicalCurve | None:
    """The typical PSNR-RGB per rate, for a model of ``num_points`` ladder points (None for another count)."""
    return TypicalCurve(TYPICAL_PSNR) if num_points == len(TYPICAL_PSNR) else None
