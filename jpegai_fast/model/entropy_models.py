"""Entropy models: Gaussian conditional for y (the scale ladder of docs/entropy_coding.md) and a factorised
non-parametric prior for the hyper-latent z."""
from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from jpegai_fast.core.constants import LOG2_SIGMA_MAX, LOG2_SIGMA_MIN, NUM_SCALES, SCALES_PER_OCTAVE  # the C++ core's
from jpegai_fast.model.layers import lower_bound, upper_bound

#: Scale ladder of the coding tables (core/constants.py): sigma_k = 2 ** (LOG2_SIGMA_MIN + k / 8), k = 0..NUM_SCALES - 1.
SIGMA_MIN = 2.0 ** LOG2_SIGMA_MIN
SIGMA_MAX = 2.0 ** LOG2_SIGMA_MAX
LIKELIHOOD_FLOOR = 1e-9


def scale_index(log2_sigma_over_step: torch.Tensor) -> torch.Tensor:
    """The scale-index rule in float for training (docs/integer_path.md, "Scale index"): idx = clamp(round((log2(sigma/step) + 3.375) * 8), 0, 75)."""
    idx = torch.round((log2_sigma_over_step - LOG2_SIGMA_MIN) * SCALES_PER_OCTAVE)
    return idx.clamp(0, NUM_SCALES - 1).to(torch.int64)


def _std_normal_cdf(x: torch.Tensor) -> torch.Tensor:
    return 0.5 * torch.erfc(-x * (2 ** -0.5))


def gaussian_likelihood(u: torch.Tensor, log2_sigma_over_step: torch.Tensor) -> torch.Tensor:
    """Probability mass of the unit bin around u under N(0, s), s = 2**log2_sigma_over_step.

    u is the mean-removed latent in units of the quantisation step ((y - mu) / step, rounded or
    with uniform noise). s is clamped to the ladder range [sigma_0, sigma_75] so the estimate
    matches what the coder can express. Computed on the left tail (|u|) for precision.
    """
    s = torch.exp2(log2_sigma_over_step)
    s = upper_bound(lower_bound(s, SIGMA_MIN), SIGMA_MAX)
    a = torch.abs(u)
    upper = _std_normal_cdf((0.5 - a) / s)
    lower = _std_normal_cdf((-0.5 - a) / s)
    return lower_bound(upper - lower, LIKELIHOOD_FLOOR)


class FactorizedPrior(nn.Module):
    """Per-channel non-parametric density (Balle et al. 2018, appendix 6.1) for z_hat = round(z).

    The cumulative is a small monotone per-channel MLP; likelihood of an integer bin is
    c(v + 0.5) - c(v - 0.5). No median offset: z is coded around 0, as the conventions fix.
    """

    def __init__(self, channels: int, filters: tuple[int, ...] = (3, 3, 3), init_scale: float = 10.0):
        super().__init__()
        self.channels = channels
        dims = (1,) + tuple(filters) + (1,)
        scale = init_scale ** (1.0 / (len(dims) - 1))
        self.matrices = nn.ParameterList()
        self.biases = nn.ParameterList()
        self.factors = nn.ParameterList()
        for i in range(len(dims) - 1):
            init = math.log(math.expm1(1.0 / scale / dims[i + 1]))
            self.matrices.append(nn.Parameter(torch.full((channels, dims[i + 1], dims[i]), init)))
            self.biases.append(nn.Parameter(torch.rand(channels, dims[i + 1], 1) - 0.5))
            if i < len(dims) - 2:
                self.factors.append(nn.Parameter(torch.zeros(channels, dims[i + 1], 1)))

    def _logits_cumulative(self, v: torch.Tensor) -> torch.Tensor:
        """v: (C, 1, N) -> logit of the cumulative at v, (C, 1, N)."""
        for i, (matrix, bias) in enumerate(zip(self.matrices, self.biases)):
            v = torch.matmul(F.softplus(matrix), v) + bias
            if i < len(self.factors):
                v = v + torch.tanh(self.factors[i]) * torch.tanh(v)
        return v

    def likelihood(self, z: torch.Tensor) -> torch.Tensor:
        """Mass of the unit bin around each value of z (B, C, H, W) (rounded or noisy)."""
        b, c, h, w = z.shape
        if c != self.channels:
            raise ValueError(f"expected {self.channels} channels, got {c}")
        v = z.permute(1, 0, 2, 3).reshape(c, 1, -1)
        lo = self._logits_cumulative(v - 0.5)
        hi = self._logits_cumulative(v + 0.5)
        # Evaluate on the side where both sigmoids are small, for precision.
        sign = -torch.sign(lo + hi).detach()
        lik = torch.abs(torch.sigmoid(sign * hi) - torch.sigmoid(sign * lo))
        lik = lik.reshape(c, b, h, w).permute(1, 0, 2, 3)
        return lower_bound(lik, LIKELIHOOD_FLOOR)

    @torch.no_grad()
    def pmf_table(self, tail_mass: float = 1e-9, max_radius: int = 4096) -> tuple[np.ndarray, np.ndarray]:
        """Integer pmfs of z_hat per channel for the entropy coder.

        Returns (pmf float64 (C, L), offsets int32 (C,)): pmf[c, i] is P(z_hat = offsets[c] + i).
        The support of each channel covers all but ``tail_mass`` of each tail; the tail mass is
        folded into the first/last bin and rows are zero-padded to the common length L, so every
        row sums to 1. The encoder must clamp z_hat into [offsets[c], offsets[c] + len_c - 1].
        """
        radius = 64
        while True:
            v = torch.arange(-radius, radius + 1, dtype=torch.float64)
            cdf = self._cdf_at(v + 0.5)  # (C, N): P(z <= v + 0.5)
            left_tail = self._cdf_at(v - 0.5)  # P(z <= v - 0.5)
            covered = (left_tail[:, 0] < tail_mass) & (cdf[:, -1] > 1 - tail_mass)
            if bool(covered.all()) or radius >= max_radius:
                break
            radius *= 2
        pmf_full = (cdf - left_tail).clamp_min(0.0)
        rows, offsets, lengths = [], [], []
        for ch in range(self.channels):
            keep = ((cdf[ch] > tail_mass) & (left_tail[ch] < 1 - tail_mass)).nonzero().flatten()
            first = int(keep[0]) if keep.numel() else radius
            last = int(keep[-1]) if keep.numel() else radius
            row = pmf_full[ch, first:last + 1].clone()
            row[0] += left_tail[ch, first]
            row[-1] += 1.0 - cdf[ch, last]
            row = row / row.sum()
            rows.append(row.numpy())
            offsets.append(first - radius)
            lengths.append(last - first + 1)
        table = np.zeros((self.channels, max(lengths)), dtype=np.float64)
        for ch, row in enumerate(rows):
            table[ch, :len(row)] = row
        return table, np.asarray(offsets, dtype=np.int32)

    def _cdf_at(self, v: torch.Tensor) -> torch.Tensor:
        """Cumulative P(z <= v) for a 1-D grid v, per channel, in float64: (C, N)."""
        grid = v.to(torch.float64).view(1, 1, -1).expand(self.channels, 1, -1)
        logits = grid
        for i, (matrix, bias) in enumerate(zip(self.matrices, self.biases)):
            logits = torch.matmul(F.softplus(matrix.double()), logits) + bias.double()
            if i < len(self.factors):
                logits = logits + torch.tanh(self.factors[i].double()) * torch.tanh(logits)
        return torch.sigmoid(logits).squeeze(1)
