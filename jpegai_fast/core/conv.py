"""Float32 CPU convolution engine for the big transforms (C++ core, csrc/conv; docs/conv_engine.md).

A transform is packed once from a list of layers with weights (runtime_model.py builds them from
the weights file without torch; ``from_module`` from a torch nn.Sequential) and ``.run`` then
evaluates it with cache-blocked, multi-threaded SIMD kernels. Results equal torch's within float32
rounding (a different summation order) and are bit-identical across thread counts and SIMD paths
(AVX-512 / AVX2 / portable).

A layer is a dict: {"kind": "conv" | "deconv", "weight" (torch layout), "bias", "stride"},
{"kind": "gdn" | "igdn", "beta", "gamma"} (effective parameters) or {"kind": "relu"}.
"""
from __future__ import annotations

import numpy as np

from jpegai_fast import _core
from jpegai_fast.core.threads import resolve_threads

__all__ = ["CpuSynthesis", "CpuAnalysis", "CpuHyperAnalysis", "CpuPreviewHead", "build_transform", "layers_of_module"]


def _f32(arr) -> np.ndarray:
    arr = np.ascontiguousarray(arr, dtype=np.float32)
    if not np.all(np.isfinite(arr)):
        raise ValueError("weights contain NaN or infinity")
    return arr


def _check_conv(layer, transposed: bool) -> None:
    k = layer.kernel_size
    if k[0] != k[1] or k[0] % 2 == 0:
        raise ValueError(f"{layer}: only square odd kernels are supported")
    if layer.groups != 1 or tuple(layer.dilation) != (1, 1):
        raise ValueError(f"{layer}: groups and dilation must be 1")
    if tuple(layer.padding) != (k[0] // 2,) * 2 or layer.stride[0] != layer.stride[1]:
        raise ValueError(f"{layer}: padding must be kernel//2 and strides equal")
    if getattr(layer, "padding_mode", "zeros") != "zeros":
        raise ValueError(f"{layer}: only zero padding is supported")
    if transposed:
        if layer.stride[0] != 2 or tuple(layer.output_padding) != (1, 1):
            raise ValueError(f"{layer}: ConvTranspose2d needs stride 2 and output_padding 1")
    elif layer.stride[0] not in (1, 2):
        raise ValueError(f"{layer}: Conv2d stride must be 1 or 2")


def layers_of_module(seq) -> list[dict]:
    """The layer dicts of a torch ``nn.Sequential`` of Conv2d / ConvTranspose2d / GDN / ReLU (needs torch)."""
    import torch.nn as nn

    from jpegai_fast.model.layers import GDN
    if not isinstance(seq, nn.Sequential) or len(seq) == 0:
        raise TypeError("expected a non-empty nn.Sequential")
    layers = []
    for layer in seq:
        if isinstance(layer, (nn.Conv2d, nn.ConvTranspose2d)):
            transposed = isinstance(layer, nn.ConvTranspose2d)
            _check_conv(layer, transposed)
            bias = layer.bias.detach().cpu().float().numpy() if layer.bias is not None else \
                np.zeros(layer.out_channels, np.float32)
            layers.append({"kind": "deconv" if transposed else "conv", "weight": layer.weight.detach().cpu().float().numpy(),
                           "bias": bias, "stride": int(layer.stride[0])})
        elif isinstance(layer, GDN):
            beta, gamma = layer.effective_params()
            layers.append({"kind": "igdn" if layer.inverse else "gdn", "beta": beta.detach().cpu().numpy(),
                           "gamma": gamma.detach().cpu().numpy()})
        elif isinstance(layer, nn.ReLU):
            layers.append({"kind": "relu"})
        else:
            raise TypeError(f"unsupported layer {type(layer).__name__} (Conv2d, ConvTranspose2d, GDN, ReLU only)")
    return layers


def build_transform(layers: list[dict]) -> "_core.FloatTransform":
    """Pack a list of layer dicts (module docstring) into a C++ FloatTransform."""
    if not layers:
        raise TypeError("expected a non-empty list of layers")
    tf = _core.FloatTransform()
    for layer in layers:
        kind = layer["kind"]
        if kind in ("conv", "deconv"):
            tf.add_conv(kind == "deconv", _f32(layer["weight"]), _f32(layer["bias"]), int(layer["stride"]))
        elif kind in ("gdn", "igdn"):
            tf.add_gdn(kind == "igdn", _f32(layer["beta"]), _f32(layer["gamma"]))
        elif kind == "relu":
            tf.add_relu()
        else:
            raise TypeError(f"unsupported layer kind {kind!r}")
    return tf


class _PackedTransform:
    """A packed transform; ``run`` maps a planar (C, h, w) float32 array to (C', h', w')."""

    def __init__(self, transform: "_core.FloatTransform"):
        self._tf = transform

    @classmethod
    def from_module(cls, seq):
        """Pack a (trained) torch nn.Sequential once; later changes to the module are not seen."""
        return cls(build_transform(layers_of_module(seq)))

    @classmethod
    def from_layers(cls, layers: list[dict]):
        """Pack a list of layer dicts (module docstring)."""
        return cls(build_transform(layers))

    @property
    def in_channels(self) -> int:
        return self._tf.in_channels

    @property
    def out_channels(self) -> int:
        return self._tf.out_channels

    def output_size(self, h: int, w: int) -> tuple[int, int]:
        """(height, width) of the output for an (h, w) input."""
        return tuple(self._tf.output_size(int(h), int(w)))

    def run(self, x: np.ndarray, threads: int | None = None,
            crop: tuple[int, int, int, int] | None = None, scratch=None) -> np.ndarray:
        """Evaluate the transform on x (C, h, w) float32; threads None -> every core. ``crop`` (y0, y1, x0, x1):
        that rectangle of the output alone, the same values for less work (csrc/conv/crop_plan.h).
        ``scratch`` (``_core.TransformScratch()``): storage lent to successive runs, one at a time."""
        threads = resolve_threads(threads)
        if not isinstance(x, np.ndarray):
            raise TypeError(f"expected a numpy array, got {type(x).__name__}")
        if x.dtype != np.float32:
            raise TypeError(f"expected float32, got {x.dtype}")
        if x.ndim != 3 or x.shape[0] != self.in_channels or x.shape[1] < 1 or x.shape[2] < 1:
            raise ValueError(f"expected shape ({self.in_channels}, h, w), got {x.shape}")
        if not np.all(np.isfinite(x)):
            raise ValueError("input contains NaN or infinity")
        return self._tf.run(np.ascontiguousarray(x), threads, crop, scratch)


class CpuSynthesis(_PackedTransform):
    """g_s on CPU: ``run(y (M, h, w)) -> x_hat (3, 16h, 16w)`` float32, unclamped."""


class CpuAnalysis(_PackedTransform):
    """g_a on CPU: ``run(x (3, H, W)) -> y (M, H/16, W/16)`` float32 (H, W multiples of 16)."""


class CpuHyperAnalysis(_PackedTransform):
    """h_a on CPU: ``run(y (M, h, w)) -> z (Cz, h/4, w/4)`` float32, unrounded."""


class CpuPreviewHead(_PackedTransform):
    """A preview head on CPU (runtime/preview.py): ``run(y (M, h, w)) -> (3 r^2, h, w)`` float32, unshuffled."""
