"""Tiles: the latent grid a stream is cut into (docs/format.md, "Tiles"), and its geometry.

Geometry is in latent units (1 latent position = LATENT_PX x LATENT_PX pixels, 4 x 4 of them one
hyper-latent position). A tile is ``size`` x ``size`` latent positions (the last row/column of tiles
may be smaller); ``size`` is a multiple of 4 so every tile owns whole hyper-latent positions. Each
tile is coded on its own (its own z, integer hyper-synthesis and context loop), so only the float
transforms need neighbours: the encoder and decoder run them on a tile plus a halo wider than their
receptive field and drop the halo's output (encoder/analysis.py, decoder/synthesis.py), which makes
the stitched result equal to the whole-image transform up to float summation order while memory
depends on the tile size, not on the image size.
"""
from __future__ import annotations

from dataclasses import dataclass

LATENT_PX = 16            # pixels per latent position (g_a downsamples x16)
HYPER_PX = 64             # pixels per hyper-latent position (h_a another x4)
#: Largest tile side (latent positions, 4096 px): bounds the decoder's work and memory per tile whatever a
#: stream declares. A single tile (tile size 0) is allowed only for a latent whose sides both fit in it.
MAX_TILE = 256
DEFAULT_TILE_SIZE = 64    # latent positions (1024 px): Kodak is one tile, 8K is 8 x 5 tiles


def latent_shape(height: int, width: int) -> tuple[int, int]:
    """(lh, lw) latent positions of an image: whole hyper-latent positions (the image is padded)."""
    per = HYPER_PX // LATENT_PX
    return -(-height // HYPER_PX) * per, -(-width // HYPER_PX) * per


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


def synthesis_cores(grid: TileGrid, latent_rect: tuple[int, int, int, int]) -> list[tuple[int, int, int, int]]:
    """The pieces g_s runs on: every tile's rectangle clipped to ``latent_rect``."""
    y0, y1, x0, x1 = latent_rect
    cores = []
    for i in grid.covering(y0, y1, x0, x1):
        ty0, ty1, tx0, tx1 = grid.rect(i)
        cores.append((max(ty0, y0), min(ty1, y1), max(tx0, x0), min(tx1, x1)))
    return cores


def expand(rect, halo: int, lh: int, lw: int) -> tuple[int, int, int, int]:
    """``rect`` (y0, y1, x0, x1) grown by ``halo`` on every side, clipped to the (lh, lw) latent."""
    y0, y1, x0, x1 = rect
    return max(0, y0 - halo), min(lh, y1 + halo), max(0, x0 - halo), min(lw, x1 + halo)


def pixel_rect(grid: TileGrid, i: int, height: int, width: int) -> tuple[int, int, int, int]:
    """Pixel rectangle (y0, y1, x0, x1) of tile ``i`` clipped to the image: what a model-free stream's tile
    codes. Never empty: a tile starts at most 64 px before the padded latent's end, inside the image."""
    y0, y1, x0, x1 = grid.rect(i)
    return y0 * LATENT_PX, min(y1 * LATENT_PX, height), x0 * LATENT_PX, min(x1 * LATENT_PX, width)
