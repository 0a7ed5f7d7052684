"""Gain units: one learned log2 quantisation step per channel for each point of a lambda ladder.

step_c(t) = 2 ** L_c(t), with L(t) linearly interpolated between ladder points for a continuous
rate parameter t in [0, K-1]; t = 0 is the lowest rate. The training lambda for t is interpolated
geometrically (log-linear) between the same ladder points.
"""
from __future__ import annotations

import math
from typing import Sequence

import torch
import torch.nn as nn

from jpegai_fast.runtime.ladder import training_lambda

#: Ladder of lambdas (loss = lambda * 255^2 * MSE + bpp), lowest rate first. Spaced ~x3 apart to
#: span the JPEG AI target rates 0.03 .. 2 bpp. (The first shipped model used the six points from
#: 0.0004 to 0.1 and reached only 0.10 .. 1.0 bpp on Kodak; 0.00013 and 0.3 were added for the ends,
#: 0.00004 once 0.00013 still left 14 of the 24 Kodak images above 0.03 bpp, 0.9 once 0.3 reached
#: 2.0 bpp on only 6 of them, 0.000013 once 0.00004 still left kodim05 and kodim08 above 0.03, and
#: 2.7 once a better-trained entropy model spent fewer bits at 0.9 and reached 2.0 bpp on only 19.)
DEFAULT_LAMBDAS: tuple[float, ...] = (0.000013, 0.00004, 0.00013, 0.0004, 0.0012, 0.0036, 0.011, 0.033, 0.1, 0.3,
                                      0.9, 2.7)


class GainUnits(nn.Module):
    """Per-channel log2 quantisation steps L[k, c] for a ladder of K lambdas."""

    def __init__(self, channels: int, lambdas: Sequence[float] = DEFAULT_LAMBDAS):
        super().__init__()
        lambdas = tuple(float(v) for v in lambdas)
        if len(lambdas) < 2 or any(v <= 0 for v in lambdas) or list(lambdas) != sorted(lambdas):
            raise ValueError("lambdas must be >= 2 increasing positive values")
        self.lambdas = lambdas
        k = len(lambdas)
        # Lower rate -> coarser step. Half an octave per ladder point is a rough start; training
        # moves every channel on its own.
        init = torch.tensor([0.5 * (k - 1 - i) - 1.0 for i in range(k)]).view(k, 1)
        self.log2_step_table = nn.Parameter(init.repeat(1, channels))

    @property
    def num_points(self) -> int:
        """K, the number of ladder points."""
        return len(self.lambdas)

    def _check_t(self, t: float) -> float:
        t = float(t)
        if not math.isfinite(t) or t < 0 or t > self.num_points - 1:
            raise ValueError(f"rate parameter t must be in [0, {self.num_points - 1}], got {t}")
        return t

    def log2_steps(self, t: float) -> torch.Tensor:
        """L(t) (M,): per-channel log2 step, linear interpolation between ladder points."""
        t = self._check_t(t)
        lo = min(int(math.floor(t)), self.num_points - 2)
        frac = t - lo
        table = self.log2_step_table
        return (1.0 - frac) * table[lo] + frac * table[lo + 1]

    def steps(self, t: float) -> torch.Tensor:
        """Per-channel quantisation steps 2 ** L(t) (M,)."""
        return torch.exp2(self.log2_steps(t))

    def lmbda(self, t: float) -> float:
        """Training lambda for rate t (geometric interpolation of the ladder, rate.training_lambda)."""
        return training_lambda(self.lambdas, self._check_t(t))


def remap_ladder(table: torch.Tensor, old_lambdas: Sequence[float], new_lambdas: Sequence[float],
                 extrapolate: bool = True) -> torch.Tensor:
    """Gain table (K, M) for a new ladder, piecewise linear in log(lambda), extrapolated at the ends.

    Used to start a model with a wider ladder from trained weights: the per-channel log2 steps of the
    new points continue the trend of the nearest old segment, so training begins close to sensible.
    ``extrapolate=False`` holds the end rows instead (for tables that must stay within their old
    range, such as Adam's second moment, which must stay positive).
    """
    old = [math.log(v) for v in old_lambdas]
    rows = []
    for lam in new_lambdas:
        x = math.log(lam)
        seg = 0
        while seg < len(old) - 2 and x > old[seg + 1]:
            seg += 1
        w = (x - old[seg]) / (old[seg + 1] - old[seg])
        if not extrapolate:
            w = min(max(w, 0.0), 1.0)
        rows.append((1 - w) * table[seg] + w * table[seg + 1])
    return torch.stack(rows)
