"""Small building blocks shared by the transforms: GDN/IGDN, bounded ops, conv helpers."""
from __future__ import annotations

import torch
import torch.nn as nn
import torch.nn.functional as F

from jpegai_fast.runtime.architecture import GDN_BETA_BOUND, GDN_GAMMA_BOUND, GDN_PEDESTAL


class _LowerBoundFn(torch.autograd.Function):
    """max(x, bound) whose gradient still flows when it would push x back above the bound.

    A plain clamp kills the gradient of everything stuck below the bound, so a scale that
    starts too small could never recover during training.
    """

    @staticmethod
    def forward(ctx, x, bound):
        ctx.save_for_backward(x, bound)
        return torch.max(x, bound)

    @staticmethod
    def backward(ctx, grad):
        x, bound = ctx.saved_tensors
        pass_through = (x >= bound) | (grad < 0)
        return grad * pass_through.to(grad.dtype), None


def lower_bound(x: torch.Tensor, bound: float) -> torch.Tensor:
    """Differentiable max(x, bound) (see _LowerBoundFn)."""
    return _LowerBoundFn.apply(x, torch.tensor(bound, dtype=x.dtype, device=x.device))


def upper_bound(x: torch.Tensor, bound: float) -> torch.Tensor:
    """Differentiable min(x, bound), mirror image of lower_bound."""
    return -lower_bound(-x, -bound)


class GDN(nn.Module):
    """Generalised divisive normalisation (Balle et al. 2016): y_i = x_i / sqrt(beta_i + sum_j gamma_ij x_j^2).

    ``inverse=True`` gives IGDN (multiply instead of divide) for the synthesis transform.
    beta and gamma are stored reparameterised (squared, lower-bounded) so they stay positive.
    Cost: C*C MACs per pixel (a 1x1 conv on x^2), counted by complexity.py.
    """

    _PEDESTAL = GDN_PEDESTAL

    def __init__(self, channels: int, inverse: bool = False, gamma_init: float = 0.1):
        super().__init__()
        self.channels = channels
        self.inverse = inverse
        self._beta_bound = GDN_BETA_BOUND
        self._gamma_bound = GDN_GAMMA_BOUND
        self.beta = nn.Parameter(torch.sqrt(torch.ones(channels) + self._PEDESTAL))
        self.gamma = nn.Parameter(torch.sqrt(gamma_init * torch.eye(channels) + self._PEDESTAL))

    def effective_params(self) -> tuple[torch.Tensor, torch.Tensor]:
        """Return (beta (C,), gamma (C, C)) as used in the forward pass."""
        beta = lower_bound(self.beta, self._beta_bound) ** 2 - self._PEDESTAL
        gamma = lower_bound(self.gamma, self._gamma_bound) ** 2 - self._PEDESTAL
        return beta, gamma

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        beta, gamma = self.effective_params()
        norm = F.conv2d(x * x, gamma[:, :, None, None], beta)
        norm = torch.sqrt(norm)
        return x * norm if self.inverse else x / norm


def conv(cin: int, cout: int, kernel: int = 5, stride: int = 2) -> nn.Conv2d:
    """'Same' conv; with stride 2 it halves H and W exactly (H even)."""
    return nn.Conv2d(cin, cout, kernel, stride=stride, padding=kernel // 2)


def deconv(cin: int, cout: int, kernel: int = 5, stride: int = 2) -> nn.ConvTranspose2d:
    """Transposed conv that multiplies H and W by ``stride`` exactly."""
    return nn.ConvTranspose2d(cin, cout, kernel, stride=stride, padding=kernel // 2,
                              output_padding=stride - 1)


def build_sequential(layers: list[tuple]) -> nn.Sequential:
    """The nn.Sequential of a layer list from architecture.transforms (same indices, same weight names)."""
    mods: list[nn.Module] = []
    for layer in layers:
        kind = layer[0]
        if kind == "conv":
            mods.append(conv(*layer[1:]))
        elif kind == "deconv":
            mods.append(deconv(*layer[1:]))
        elif kind in ("gdn", "igdn"):
            mods.append(GDN(layer[1], inverse=kind == "igdn"))
        elif kind == "relu":
            mods.append(nn.ReLU())
        else:
            raise ValueError(f"unknown layer kind {kind!r}")
    return nn.Sequential(*mods)
