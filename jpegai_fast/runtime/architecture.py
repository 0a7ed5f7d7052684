"""The layer lists of the four transforms, from a model config alone (no torch).

One description serves both sides: the torch model (model/codec.py) builds its nn.Sequential
modules from it, and the torch-free runtime (runtime/network.py) builds the C++ conv engine and the
integer hyper-synthesis from it and the weights file. Position ``i`` of a list is the index of the
layer in its nn.Sequential, so a weight is named ``{transform}.{i}.weight`` in both.

A layer is a tuple: ("conv", cin, cout, kernel, stride) a 'same' Conv2d; ("deconv", cin, cout,
kernel, stride) a ConvTranspose2d that multiplies H and W by stride; ("gdn", channels) and
("igdn", channels); ("relu",).
"""
from __future__ import annotations

import math

from jpegai_fast.format.tiling import HYPER_PX as HYPER_DOWNSCALE   # noqa: F401  h_a: another x4 (model/codec.py)
from jpegai_fast.format.tiling import LATENT_PX                       # noqa: E402  g_a: x16

#: The gain units' table in a state dict / weights file: per ladder point and latent channel, the
#: log2 quantisation step (K x M; model/gain.py learns it, runtime/engine.py reads it).
GAIN_TABLE = "gain.log2_step_table"

#: GDN keeps beta and gamma as lower-bounded square roots: effective = max(param, bound)^2 - PEDESTAL
#: (model/layers.py's GDN, runtime_model.gdn_effective).
GDN_PEDESTAL = 2.0 ** -18
GDN_BETA_MIN = 1e-6
GDN_BETA_BOUND = (GDN_BETA_MIN + GDN_PEDESTAL) ** 0.5
GDN_GAMMA_BOUND = GDN_PEDESTAL ** 0.5


def analysis_width(config: dict) -> int:
    """Hidden width of g_a: N_analysis, or N where it is unset (or absent: weights files and training
    states written before the field existed)."""
    return config.get("N_analysis") or config["N"]


def transforms(config: dict) -> dict[str, list[tuple]]:
    """{"g_a", "g_s", "h_a", "h_s"}: layer lists of a config dict (CodecConfig.to_dict())."""
    n, m, nh, cz = config["N"], config["M"], config["hyper_width"], config["z_channels"]
    na = analysis_width(config)
    return {
        "g_a": [("conv", 3, na, 5, 2), ("gdn", na), ("conv", na, na, 5, 2), ("gdn", na), ("conv", na, na, 5, 2),
                ("gdn", na), ("conv", na, m, 5, 2)],
        "g_s": [("deconv", m, n, 5, 2), ("igdn", n), ("deconv", n, n, 5, 2), ("igdn", n), ("deconv", n, n, 5, 2),
                ("igdn", n), ("deconv", n, 3, 5, 2)],
        "h_a": [("conv", m, nh, 3, 1), ("relu",), ("conv", nh, nh, 5, 2), ("relu",), ("conv", nh, cz, 5, 2)],
        # h_s: only conv / deconv / ReLU, so the pipeline can run it in integers (intpath.py)
        "h_s": [("deconv", cz, nh, 5, 2), ("relu",), ("deconv", nh, nh, 5, 2), ("relu",), ("conv", nh, 2 * m, 3, 1)],
    }


def receptive_radius(layers: list[tuple], upsampling: bool) -> float:
    """Half-width of a conv stack's receptive field, in units of its *latent* side.

    Analysis (down-sampling): each conv reaches kernel//2 of its own inputs, which are
    16 / (product of strides so far) latent units apart. Synthesis (up-sampling): a transposed conv
    output depends on inputs within ceil((kernel//2) / stride) of its input grid.
    """
    radius, scale = 0.0, 1.0 / LATENT_PX if not upsampling else 1.0
    for layer in layers:
        if layer[0] not in ("conv", "deconv"):
            continue
        k, s = layer[3], layer[4]
        if upsampling:
            radius += math.ceil((k // 2) / s) * scale
            scale /= s
        else:
            radius += (k // 2) * scale
            scale *= s
    return radius


def halo(layers: list[tuple], upsampling: bool) -> int:
    """Latent halo (whole positions) strictly wider than the receptive field."""
    return int(math.floor(receptive_radius(layers, upsampling))) + 2
