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
