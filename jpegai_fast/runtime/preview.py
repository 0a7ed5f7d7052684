"""Reduced-resolution decode heads: the latent straight to 1/2, 1/4 or 1/8 size pixels (docs/preview.md).

A head is a shared trunk of 3x3 convs at the latent's resolution and, per scale s, one 3x3 conv to
3 r^2 channels (r = 16 / s pixels per latent position) that a pixel shuffle lays out as r x r blocks,
as torch's ``pixel_shuffle`` does. Everything runs at the latent's resolution, so the cost per image
pixel is the trunk's cost / 256, far below g_s's. The layer lists below are the one description: the
torch model that distils a head (training/preview_head.py) builds its modules from them, and the
torch-free runtime packs the same layers into the C++ conv engine.
"""
from __future__ import annotations

import functools

import numpy as np

from jpegai_fast.format.tiling import LATENT_PX
from jpegai_fast.runtime import preview_file

#: The reduced scales a head serves (decode(scale=1) is the full synthesis).
SCALES = (2, 4, 8)
KERNEL = 3


def pixels_per_latent(scale: int) -> int:
    """Output pixels per latent position along a side at ``scale``."""
    return LATENT_PX // scale


def trunk_layers(config: dict) -> list[tuple]:
    """The shared trunk: ("conv", cin, cout, k, 1) and ("relu",) tuples (runtime/architecture.py's form)."""
    m, width, depth = config["M"], config["width"], config["depth"]
    layers: list[tuple] = []
    for i in range(depth):
        layers += [("conv", m if i == 0 else width, width, KERNEL, 1), ("relu",)]
    return layers


def output_layer(config: dict, scale: int) -> tuple:
    """Scale ``scale``'s output conv: 3 r^2 channels, r x r pixels per latent position after the shuffle."""
    return ("conv", config["width"], 3 * pixels_per_latent(scale) ** 2, KERNEL, 1)


def halo(config: dict) -> int:
    """Latent positions a tile needs around it: strictly wider than the head's receptive field."""
    return (config["depth"] + 1) * (KERNEL // 2) + 1


def pixel_shuffle(x: np.ndarray, r: int) -> np.ndarray:
    """(3 r^2, h, w) -> (3, r h, r w), channel c r^2 + i r + j to pixel (r y + i, r x + j) (torch's order)."""
    c, h, w = x.shape
    return x.reshape(c // (r * r), r, r, h, w).transpose(0, 3, 1, 4, 2).reshape(c // (r * r), h * r, w * r)


def _dicts(head: preview_file.PreviewFile, layers: list[tuple], names: list[str | None]) -> list[dict]:
    out = []
    for layer, name in zip(layers, names):
        if layer[0] == "conv":
            out.append({"kind": "conv", "weight": head.f32(name + ".weight"), "bias": head.f32(name + ".bias"),
                        "stride": layer[4]})
        else:
            out.append({"kind": layer[0]})
    return out


class PreviewHead:
    """A loaded head: ``run(y_hat (M, h, w), scale, threads) -> (3, r h, r w)`` float32, unclamped."""

    def __init__(self, head: preview_file.PreviewFile):
        self.file, self.config = head, head.config
        self.halo = halo(self.config)
        self._packed: dict = {}

    def _transform(self, scale: int):
        if scale not in self._packed:
            from jpegai_fast.core.conv import CpuPreviewHead    # lazily: the CLI reads SCALES without the core
            trunk = trunk_layers(self.config)
            layers = trunk + [output_layer(self.config, scale)]
            names = [f"trunk.{i}" if layer[0] == "conv" else None for i, layer in enumerate(trunk)] + [f"out{scale}"]
            self._packed[scale] = CpuPreviewHead.from_layers(_dicts(self.file, layers, names))
        return self._packed[scale]

    def run(self, y_hat: np.ndarray, scale: int, threads: int, crop: tuple[int, int, int, int] | None = None,
            scratch=None) -> np.ndarray:
        """``crop`` (y0, y1, x0, x1): that rectangle of the pixels alone; the engine computes the latent
        positions whose r x r blocks cover it (each layer only where the next reads), the same values.
        ``scratch`` (``_core.TransformScratch()``): storage lent to successive runs, one at a time."""
        r = pixels_per_latent(scale)
        h, w = y_hat.shape[1:]
        y0, y1, x0, x1 = crop if crop is not None else (0, r * h, 0, r * w)
        blocks = (y0 // r, -(-y1 // r), x0 // r, -(-x1 // r))
        x = self._transform(scale).run(np.ascontiguousarray(y_hat, dtype=np.float32), threads=threads, crop=blocks,
                                       scratch=scratch)
        oy, ox = blocks[0] * r, blocks[2] * r
        return pixel_shuffle(x, r)[:, y0 - oy:y1 - oy, x0 - ox:x1 - ox]


@functools.lru_cache(maxsize=4)
def head_for(model_id_hex: str) -> PreviewHead | None:
    """The head distilled for main model ``model_id_hex``, or None when none is installed."""
    path = preview_file.find(model_id_hex)
    return None if path is None else PreviewHead(preview_file.read(path))


def complexity(config: dict, scale: int) -> float:
    """Multiply-accumulates per full-resolution image pixel of a decode at ``scale`` (head only)."""
    layers = trunk_layers(config) + [output_layer(config, scale)]
    macs = sum(layer[1] * layer[2] * layer[3] ** 2 for layer in layers if layer[0] == "conv")
    return macs / LATENT_PX ** 2


__all__ = ["SCALES", "PreviewHead", "head_for", "trunk_layers", "output_layer", "halo", "pixel_shuffle",
           "complexity"]
