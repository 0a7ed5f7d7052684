"""The model as the CPU codec runs it, built from the weights file with numpy alone (no torch).

The layer lists come from architecture.py, the weights from weights_file.py; the same fp16 values
the torch model loads give the same float32 weights here, and every derived quantity (GDN's
effective parameters, the integer h_s, the context model, the gain ladder) is computed with the
same IEEE operations the torch path uses, so both produce identical streams (tests/runtime/test_torch_free.py).
"""
from __future__ import annotations

import numpy as np

from jpegai_fast.runtime import architecture
from jpegai_fast.runtime.weights_file import WeightsFile

from jpegai_fast.runtime.architecture import GDN_BETA_BOUND, GDN_GAMMA_BOUND, GDN_PEDESTAL


def gdn_effective(beta: np.ndarray, gamma: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(beta, gamma) as GDN's forward pass uses them, in float32 like torch."""
    f = np.float32
    b = np.maximum(beta.astype(f), f(GDN_BETA_BOUND))
    g = np.maximum(gamma.astype(f), f(GDN_GAMMA_BOUND))
    return b * b - f(GDN_PEDESTAL), g * g - f(GDN_PEDESTAL)


def transform_layers(weights: WeightsFile, name: str) -> list[dict]:
    """Layer dicts (conv_engine.py's form) of transform ``name`` ("g_a", "g_s", "h_a", "h_s")."""
    layers = []
    for i, layer in enumerate(architecture.transforms(weights.config)[name]):
        kind, prefix = layer[0], f"{name}.{i}."
        if kind in ("conv", "deconv"):
            layers.append({"kind": kind, "weight": weights.f32(prefix + "weight"), "bias": weights.f32(prefix + "bias"),
                           "stride": layer[4]})
        elif kind in ("gdn", "igdn"):
            beta, gamma = gdn_effective(weights.state[prefix + "beta"], weights.state[prefix + "gamma"])
            layers.append({"kind": kind, "beta": beta, "gamma": gamma})
        else:
            layers.append({"kind": kind})
    return layers


def synthesis_gain(weights: WeightsFile) -> np.ndarray:
    """Per latent channel: squared norm of the first synthesis layer's weights that read it.

    A linear estimate of how much pixel error a unit error in that channel causes; the encoder
    uses it to rank context groups for progressive layers (only the order is stored, so float
    differences between machines cannot desynchronise a decoder).
    """
    w = weights.state["g_s.0.weight"].astype(np.float64)     # ConvTranspose2d: (M, N, k, k)
    return (w.reshape(w.shape[0], -1) ** 2).sum(axis=1)
