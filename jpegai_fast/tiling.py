"""Tiles: the latent grid, and the analysis / synthesis transforms run tile by tile with a halo.

Geometry is in latent units (1 latent position = 16x16 pixels). A tile is ``size`` x ``size``
latent positions (the last row/column of tiles may be smaller); ``size`` is a multiple of 4 so
every tile owns whole hyper-latent positions. Each tile is coded on its own (its own z, integer
hyper-synthesis and context loop, docs/format.md), so only the float transforms need neighbours:
they run on the tile plus a halo wider than their receptive field, and the halo's output is
dropped. That makes the stitched result equal to the whole-image transform up to float summation
order, while memory depends on the tile size, not on the image size.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

from . import pixels
from .architecture import LATENT_PX

DEFAULT_TILE_SIZE = 64    # latent positions (1024 px): Kodak is one tile, 8K is 8 x 5 tiles


@dataclass(frozen=True)
class TileGrid:
    """Raster grid of ``size`` x ``size`` tiles over a (lh, lw) latent; size 0 = a single tile."""

    lh: int
    lw: int
    size: int

    @property
    def step_h(self) -> int:
        return self.size if self.size else self.lh

    @property
    def step_w(self) -> int:
        return self.size if self.size else self.lw

    @property
    def rows(self) -> int:
        return -(-self.lh // self.step_h)

    @property
    def cols(self) -> int:
        return -(-self.lw // self.step_w)

    @property
    def count(self) -> int:
        return self.rows * self.cols

    def rect(self, i: int) -> tuple[int, int, int, int]:
        """Latent rectangle (y0, y1, x0, x1) of tile ``i`` (raster order)."""
        r, c = divmod(i, self.cols)
        y0, x0 = r * self.step_h, c * self.step_w
        return y0, min(y0 + self.step_h, self.lh), x0, min(x0 + self.step_w, self.lw)

    def covering(self, y0: int, y1: int, x0: int, x1: int) -> list[int]:
        """Indices of the tiles that intersect the latent rectangle [y0, y1) x [x0, x1)."""
        r0, r1 = y0 // self.step_h, (y1 - 1) // self.step_h
        c0, c1 = x0 // self.step_w, (x1 - 1) // self.step_w
        return [r * self.cols + c for r in range(r0, r1 + 1) for c in range(c0, c1 + 1)]


def make_grid(lh: int, lw: int, size: int) -> TileGrid:
    """Grid for a latent of (lh, lw); a size that covers the whole latent is stored as 0 (one tile)."""
    if size >= lh and size >= lw:
        size = 0
    return TileGrid(lh, lw, size)


def check_tile_size(tile_size) -> int:
    """Validate a user tile size (latent positions, multiple of 4, >= 4; None = default)."""
    if tile_size is None:
        return DEFAULT_TILE_SIZE
    from .bitstream import MAX_TILE
    if isinstance(tile_size, bool) or not isinstance(tile_size, int) or not 4 <= tile_size <= MAX_TILE or tile_size % 4:
        raise ValueError(f"tile_size must be a multiple of 4 latent positions in 4 .. {MAX_TILE}, got {tile_size!r}")
    return tile_size


def _expand(rect, halo, lh, lw):
    y0, y1, x0, x1 = rect
    return max(0, y0 - halo), min(lh, y1 + halo), max(0, x0 - halo), min(lw, x1 + halo)


def crop_pixels(arr: np.ndarray, rect: tuple[int, int, int, int]) -> np.ndarray:
    """The pixels of latent rectangle ``rect``, edge-replicated beyond the image (as pixels.pad_to_multiple)."""
    y0, y1, x0, x1 = rect
    rows = np.minimum(np.arange(y0 * LATENT_PX, y1 * LATENT_PX), arr.shape[0] - 1)
    cols = np.minimum(np.arange(x0 * LATENT_PX, x1 * LATENT_PX), arr.shape[1] - 1)
    return arr[np.ix_(rows, cols)]


def analyse_rect(g_a: Callable, arr: np.ndarray, bit_depth: int, rect: tuple[int, int, int, int],
                 lh: int, lw: int, halo: int) -> np.ndarray:
    """y of the latent rectangle ``rect`` (M, h, w) float32, from its pixels plus ``halo`` latent positions.

    ``g_a`` maps planar float32 arrays (3, H, W) -> (M, H/16, W/16) (engine.Engine.transform).
    Pixels beyond the image are edge-replicated, exactly as pixels.pad_to_multiple pads the
    whole image, so stitched rectangles equal the whole-image analysis.
    """
    ey0, ey1, ex0, ex1 = _expand(rect, halo, lh, lw)
    crop = crop_pixels(arr, (ey0, ey1, ex0, ex1))
    y = g_a(pixels.to_model_input(crop, bit_depth))
    y0, y1, x0, x1 = rect
    return np.ascontiguousarray(y[:, y0 - ey0:y1 - ey0, x0 - ex0:x1 - ex0])


def analyse_tile(g_a: Callable, arr: np.ndarray, bit_depth: int, grid: TileGrid, i: int, halo: int) -> np.ndarray:
    """y of tile ``i`` (M, th, tw) float32 (analyse_rect of the tile's rectangle)."""
    return analyse_rect(g_a, arr, bit_depth, grid.rect(i), grid.lh, grid.lw, halo)


def synthesise_into(g_s: Callable, y_hat: np.ndarray, core: tuple[int, int, int, int], halo: int,
                    out: np.ndarray, region: tuple[int, int, int, int], channels: int, bit_depth: int) -> None:
    """Run g_s on the latent rectangle ``core`` plus ``halo`` and write its pixels into ``out``.

    ``g_s`` maps planar float32 arrays (M, h, w) -> (3, 16h, 16w). ``y_hat`` is the whole latent (M, lh, lw) (only the rectangle and halo are read), ``region``
    = (x, y, w, h) the pixel rectangle ``out`` holds; only the part of ``core`` inside it is written.
    """
    lh, lw = y_hat.shape[1:]
    ey0, ey1, ex0, ex1 = _expand(core, halo, lh, lw)
    x = g_s(np.ascontiguousarray(y_hat[:, ey0:ey1, ex0:ex1]))
    rx, ry, rw, rh = region
    # pixel rectangle of the core, clipped to the region
    py0, py1 = max(core[0] * LATENT_PX, ry), min(core[1] * LATENT_PX, ry + rh)
    px0, px1 = max(core[2] * LATENT_PX, rx), min(core[3] * LATENT_PX, rx + rw)
    if py0 >= py1 or px0 >= px1:
        return
    oy, ox = ey0 * LATENT_PX, ex0 * LATENT_PX
    part = x[:, py0 - oy:py1 - oy, px0 - ox:px1 - ox]
    out[py0 - ry:py1 - ry, px0 - rx:px1 - rx] = pixels.from_model_output(part, channels, bit_depth)


def synthesis_cores(grid: TileGrid, latent_rect: tuple[int, int, int, int]) -> list[tuple[int, int, int, int]]:
    """The pieces g_s runs on: every tile's rectangle clipped to ``latent_rect``."""
    y0, y1, x0, x1 = latent_rect
    cores = []
    for i in grid.covering(y0, y1, x0, x1):
        ty0, ty1, tx0, tx1 = grid.rect(i)
        cores.append((max(ty0, y0), min(ty1, y1), max(tx0, x0), min(tx1, x1)))
    return cores


def expand(rect, halo: int, lh: int, lw: int) -> tuple[int, int, int, int]:
    """``rect`` grown by ``halo`` on every side, clipped to the latent."""
    return _expand(rect, halo, lh, lw)
