"""The preview head as a torch module, built from runtime/preview.py's layer lists (the one description)."""
from __future__ import annotations

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from jpegai_fast.runtime.preview import SCALES, output_layer, pixels_per_latent, trunk_layers


def _module(layer: tuple) -> nn.Module:
    if layer[0] == "relu":
        return nn.ReLU()
    _, cin, cout, k, stride = layer
    return nn.Conv2d(cin, cout, k, stride=stride, padding=k // 2)


class PreviewHead(nn.Module):
    """``forward(y_hat (B, M, h, w), scale) -> (B, 3, r h, r w)``; parameter names match the head file's."""

    def __init__(self, config: dict):
        super().__init__()
        self.config = dict(config)
        self.trunk = nn.Sequential(*[_module(layer) for layer in trunk_layers(config)])
        for s in SCALES:
            setattr(self, f"out{s}", _module(output_layer(config, s)))

    def forward(self, y_hat: torch.Tensor, scale: int) -> torch.Tensor:
        return self.outputs(self.trunk(y_hat), scale)

    def outputs(self, features: torch.Tensor, scale: int) -> torch.Tensor:
        """Scale ``scale``'s pixels from the trunk's features (one trunk pass serves every scale)."""
        return F.pixel_shuffle(getattr(self, f"out{scale}")(features), pixels_per_latent(scale))

    def fp16_state(self) -> dict[str, np.ndarray]:
        return {k: v.detach().to("cpu", torch.float16).contiguous().numpy() for k, v in self.state_dict().items()}
