"""The encoder's float side: g_a on a tile plus a halo gives y, h_a and rounding give z_hat.

The mirror of decoder/synthesis.py. Tiles are analysed one at a time, so memory is bounded by the
tile size; what happens to y and z_hat next is integer arithmetic (encoder/latent.py).
"""
from __future__ import annotations

from typing import Callable, Iterator

import numpy as np

from jpegai_fast import pixels
from jpegai_fast.format import tiling
from jpegai_fast.format.tiling import LATENT_PX, TileGrid
from jpegai_fast.runtime.engine import Engine

#: An effort refinement (effort_search.LatentOptimiser.tile): (tile index, y) -> (refined y, z_hat).
Refine = Callable[[int, np.ndarray], "tuple[np.ndarray, np.ndarray]"]


def crop_pixels(arr: np.ndarray, rect: tuple[int, int, int, int]) -> np.ndarray:
    """The pixels of latent rectangle ``rect``, edge-replicated beyond the image (as pixels.pad_to_multiple).

    A view where the rectangle lies inside the image; rectangles start inside it (tiling), so only the bottom
    and right can need padding.
    """
    y0, y1, x0, x1 = (v * LATENT_PX for v in rect)
    h, w = arr.shape[:2]
    if not (0 <= y0 < h and 0 <= x0 < w):
        raise ValueError(f"latent rectangle {rect} starts outside the {h}x{w} image")
    inside = arr[y0:min(y1, h), x0:min(x1, w)]
    if y1 <= h and x1 <= w:
        return inside
    return np.pad(inside, ((0, max(0, y1 - h)), (0, max(0, x1 - w))) + ((0, 0),) * (arr.ndim - 2), mode="edge")


def analyse_rect(g_a: Callable, arr: np.ndarray, bit_depth: int, rect: tuple[int, int, int, int],
                 lh: int, lw: int, halo: int) -> np.ndarray:
    """y of the latent rectangle ``rect`` (M, h, w) float32, from its pixels plus ``halo`` latent positions.

    ``g_a(x, crop)`` maps a planar float32 array (3, H, W) to the rectangle ``crop`` of its (M, H/16, W/16)
    output (engine.Engine.transform: the engine computes only what the rectangle needs). Pixels beyond the
    image are edge-replicated, exactly as pixels.pad_to_multiple pads the whole image, so stitched
    rectangles equal the whole-image analysis.
    """
    ey0, ey1, ex0, ex1 = tiling.expand(rect, halo, lh, lw)
    y0, y1, x0, x1 = rect
    x = pixels.to_model_input(crop_pixels(arr, (ey0, ey1, ex0, ex1)), bit_depth)
    return np.ascontiguousarray(g_a(x, (y0 - ey0, y1 - ey0, x0 - ex0, x1 - ex0)))


def analyse_tile(g_a: Callable, arr: np.ndarray, bit_depth: int, grid: TileGrid, i: int, halo: int) -> np.ndarray:
    """y of tile ``i`` (M, th, tw) float32 (analyse_rect of the tile's rectangle)."""
    return analyse_rect(g_a, arr, bit_depth, grid.rect(i), grid.lh, grid.lw, halo)


def analyse_tiles(eng: Engine, arr: np.ndarray, bit_depth: int, grid: TileGrid, device, threads: int,
                  refine: Refine | None = None) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """(y (M, th, tw) float32, z_hat (Cz, th/4, tw/4) int32) of every tile, in tile order, one at a time.

    ``refine`` (effort > 1) replaces the amortised y and z_hat = round(h_a(y)) by its own.
    """
    g_a = eng.transform("g_a", device, threads)
    for i in range(grid.count):
        y = analyse_tile(g_a, arr, bit_depth, grid, i, eng.analysis_halo)
        yield refine(i, y) if refine is not None else (y, eng.hyper_analyse(y, device, threads))
