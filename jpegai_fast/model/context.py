"""Wavefront-parallel spatial context model (predicts the mean of y only).

Support (docs/integer_path.md, context model): taps (dy, dx) in {-2,-1} x {-2,-1,0,+1} plus (0,-2), (0,-1) -> 10 taps,
kernel index (ky, kx) = (dy + 2, dx + 2). Every tap reads a position whose wavefront index
j + 2*i is strictly smaller, so all positions with the same j + 2*i decode in parallel.
"""
from __future__ import annotations

import torch
import torch.nn as nn
import torch.nn.functional as F

from jpegai_fast.core.constants import CONTEXT_ROW_SLOPE, CONTEXT_TAP_OFFSETS, GROUP

GROUP_SIZE = GROUP                   # the C++ core's: channels per context group
KERNEL = 5

#: 5x5 causal mask, 1 = tap used: the C++ core's taps (dy, dx) at (dy + 2, dx + 2), i.e. rows 0-1
#: cols 0-3, row 2 cols 0-1.
MASK = torch.zeros(KERNEL, KERNEL)
for _dy, _dx in CONTEXT_TAP_OFFSETS:
    MASK[_dy + KERNEL // 2, _dx + KERNEL // 2] = 1.0
MASK.requires_grad_(False)

#: Wavefront slope (the C++ core's): position (i, j) is decodable at step t = j + WAVEFRONT_ROW_SLOPE * i.
WAVEFRONT_ROW_SLOPE = CONTEXT_ROW_SLOPE


def wavefront_index(height: int, width: int) -> torch.Tensor:
    """(H, W) int tensor with the wavefront step j + 2*i of every latent position."""
    i = torch.arange(height).view(-1, 1)
    j = torch.arange(width).view(1, -1)
    return j + WAVEFRONT_ROW_SLOPE * i


class MaskedGroupedConv5x5(nn.Module):
    """Masked grouped 5x5 conv over y_hat: weight (M, 16, 5, 5) * MASK, bias (M,), padding 2.

    Output channel c reads input channels 16*(c//16) .. 16*(c//16)+15. The mask is applied in
    forward so masked weights never matter, whatever the stored values are.
    """

    def __init__(self, channels: int):
        super().__init__()
        if channels % GROUP_SIZE:
            raise ValueError(f"context channels must be a multiple of {GROUP_SIZE}, got {channels}")
        self.channels = channels
        self.groups = channels // GROUP_SIZE
        self.weight = nn.Parameter(torch.empty(channels, GROUP_SIZE, KERNEL, KERNEL))
        self.bias = nn.Parameter(torch.zeros(channels))
        self.register_buffer("mask", MASK.clone(), persistent=False)
        # Small init: at the start the hyperprior mean alone should drive the prediction.
        nn.init.normal_(self.weight, std=0.01)

    def masked_weight(self) -> torch.Tensor:
        """The weight with non-causal taps zeroed (what the C++ context loop must use)."""
        return self.weight * self.mask

    def forward(self, y_hat: torch.Tensor) -> torch.Tensor:
        """Mean correction (B, M, H, W) from the causal neighbourhood of y_hat."""
        return F.conv2d(y_hat, self.masked_weight(), self.bias, padding=KERNEL // 2, groups=self.groups)
