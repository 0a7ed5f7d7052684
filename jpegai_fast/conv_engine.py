"""Float32 CPU convolution engine for the big transforms (C++ core, csrc/conv; docs/conv_engine.md).

``CpuSynthesis.from_module(model.g_s)`` and ``CpuAnalysis.from_module(model.g_a)`` pack the trained
torch weights once; ``.run`` then evaluates the transform with cache-blocked, multi-threaded SIMD
kernels. Results equal torch's within float32 rounding (a different summation order) and are
bit-identical across thread counts and SIMD paths (AVX-512 / AVX2 / portable).
"""
from __future__ import annotations

import numpy as np
import torch.nn as nn

from . import _core
from .intpath import check_threads
from .model.layers import GDN

__all__ = ["CpuSynthesis", "CpuAnalysis", "build_transform", "conv_isa", "set_conv_isa"]


def conv_isa() -> str:
    """Tile kernel in use: 'avx512', 'avx2' or 'portable' (the results are the same on each)."""
    return _core.conv_isa()


def set_conv_isa(name: str) -> str:
    """Select 'auto', 'portable', 'avx2' or 'avx512'; returns the previous name (ValueError if unsupported)."""
    if not isinstance(name, str):
        raise TypeError("ISA name must be a str")
    return _core.set_conv_isa(name)


def _f32(t) -> np.ndarray:
    arr = np.ascontiguousarray(t.detach().cpu().float().numpy(), dtype=np.float32)
    if not np.all(np.isfinite(arr)):
        raise ValueError("weights contain NaN or infinity")
    return arr


def _check_conv(layer: nn.Module, transposed: bool) -> None:
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


def build_transform(seq: nn.Sequential) -> "_core.FloatTransform":
    """Pack an ``nn.Sequential`` of Conv2d / ConvTranspose2d / GDN layers into a C++ FloatTransform."""
    if not isinstance(seq, nn.Sequential) or len(seq) == 0:
        raise TypeError("expected a non-empty nn.Sequential")
    tf = _core.FloatTransform()
    for layer in seq:
        if isinstance(layer, (nn.Conv2d, nn.ConvTranspose2d)):
            transposed = isinstance(layer, nn.ConvTranspose2d)
            _check_conv(layer, transposed)
            cout = layer.out_channels
            bias = _f32(layer.bias) if layer.bias is not None else np.zeros(cout, np.float32)
            tf.add_conv(transposed, _f32(layer.weight), bias, int(layer.stride[0]))
        elif isinstance(layer, GDN):
            beta, gamma = layer.effective_params()
            tf.add_gdn(bool(layer.inverse), _f32(beta), _f32(gamma))
        else:
            raise TypeError(f"unsupported layer {type(layer).__name__} (Conv2d, ConvTranspose2d, GDN only)")
    return tf


class _CpuTransform:
    """A packed transform; ``run`` maps a planar (C, h, w) float32 array to (C', h', w')."""

    def __init__(self, transform: "_core.FloatTransform"):
        self._tf = transform

    @classmethod
    def from_module(cls, seq: nn.Sequential):
        """Pack the (trained) torch module once; later changes to the module are not seen."""
        return cls(build_transform(seq))

    @property
    def in_channels(self) -> int:
        return self._tf.in_channels

    @property
    def out_channels(self) -> int:
        return self._tf.out_channels

    def output_size(self, h: int, w: int) -> tuple[int, int]:
        """(height, width) of the output for an (h, w) input."""
        return tuple(self._tf.output_size(int(h), int(w)))

    def run(self, x: np.ndarray, threads: int | None = None) -> np.ndarray:
        """Evaluate the transform on x (C, h, w) float32; threads None -> intpath.default_threads()."""
        threads = check_threads(threads)
        if not isinstance(x, np.ndarray):
            raise TypeError(f"expected a numpy array, got {type(x).__name__}")
        if x.dtype != np.float32:
            raise TypeError(f"expected float32, got {x.dtype}")
        if x.ndim != 3 or x.shape[0] != self.in_channels or x.shape[1] < 1 or x.shape[2] < 1:
            raise ValueError(f"expected shape ({self.in_channels}, h, w), got {x.shape}")
        if not np.all(np.isfinite(x)):
            raise ValueError("input contains NaN or infinity")
        return self._tf.run(np.ascontiguousarray(x), threads)


class CpuSynthesis(_CpuTransform):
    """g_s on CPU: ``run(y (M, h, w)) -> x_hat (3, 16h, 16w)`` float32, unclamped."""


class CpuAnalysis(_CpuTransform):
    """g_a on CPU: ``run(x (3, H, W)) -> y (M, H/16, W/16)`` float32 (H, W multiples of 16)."""
