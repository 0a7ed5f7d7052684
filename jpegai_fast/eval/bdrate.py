"""Bjontegaard deltas (BD-rate, BD-PSNR) with piecewise cubic Hermite (pchip) interpolation in log-rate.

This is the interpolation JVET and the JPEG AI CTTC use instead of Bjontegaard's original cubic polynomial fit:
monotone, no overshoot between points. Both curves are interpolated over the overlap of their ranges only.
"""
from __future__ import annotations

import math

import numpy as np
from scipy.interpolate import PchipInterpolator


def _curve(rate, quality, label: str) -> tuple[np.ndarray, np.ndarray]:
    """Validated (log-rate, quality) arrays of one RD curve."""
    r = np.asarray(rate, dtype=np.float64).ravel()
    q = np.asarray(quality, dtype=np.float64).ravel()
    if r.shape != q.shape:
        raise ValueError(f"{label}: {r.size} rates but {q.size} quality values")
    if r.size < 2:
        raise ValueError(f"{label}: a curve needs at least 2 points, got {r.size}")
    if not (np.all(np.isfinite(r)) and np.all(np.isfinite(q))):
        raise ValueError(f"{label}: rates and quality values must be finite")
    if np.any(r <= 0):
        raise ValueError(f"{label}: rates must be positive")
    return np.log(r), q


def _strictly_increasing(x: np.ndarray, y: np.ndarray, label: str) -> tuple[np.ndarray, np.ndarray]:
    """Sort by x and keep the first of repeated x values (pchip needs strictly increasing abscissae)."""
    order = np.argsort(x, kind="stable")
    x, y = x[order], y[order]
    keep = np.concatenate(([True], np.diff(x) > 0))
    x, y = x[keep], y[keep]
    if x.size < 2:
        raise ValueError(f"{label}: needs at least 2 distinct points")
    return x, y


def _mean_gap(xa, ya, xb, yb, what: str) -> float:
    """Mean of (yb - ya) over the overlap of the two x ranges, both pchip-interpolated."""
    lo, hi = max(xa[0], xb[0]), min(xa[-1], xb[-1])
    if not hi > lo:
        raise ValueError(f"the two curves' {what} ranges do not overlap: no Bjontegaard delta")
    ia = PchipInterpolator(xa, ya).integrate(lo, hi)
    ib = PchipInterpolator(xb, yb).integrate(lo, hi)
    return float((ib - ia) / (hi - lo))


def bd_rate(rate_anchor, quality_anchor, rate_test, quality_test) -> float:
    """BD-rate in percent of the test curve against the anchor: the average rate difference at equal quality
    (negative = the test codec needs fewer bits). Rates in any positive unit (bpp), quality e.g. PSNR in dB.
    """
    la, qa = _curve(rate_anchor, quality_anchor, "anchor")
    lt, qt = _curve(rate_test, quality_test, "test")
    qa, la = _strictly_increasing(qa, la, "anchor")
    qt, lt = _strictly_increasing(qt, lt, "test")
    return (math.exp(_mean_gap(qa, la, qt, lt, "quality")) - 1.0) * 100.0


def bd_quality(rate_anchor, quality_anchor, rate_test, quality_test) -> float:
    """BD-PSNR (or BD of any quality metric): the average quality difference at equal rate, test minus
    anchor, in the metric's unit (positive = the test codec is better)."""
    la, qa = _curve(rate_anchor, quality_anchor, "anchor")
    lt, qt = _curve(rate_test, quality_test, "test")
    la, qa = _strictly_increasing(la, qa, "anchor")
    lt, qt = _strictly_increasing(lt, qt, "test")
    return _mean_gap(la, qa, lt, qt, "rate")


bd_psnr = bd_quality
