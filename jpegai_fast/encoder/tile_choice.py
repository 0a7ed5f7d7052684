"""Learned or plane-coded, per tile (issue 32 item 3; docs/format.md "Plane tiles"): on drawn content each tile
of the learned stream is weighed against the plane coder's exact and near-lossless codings of its pixels, by
the cost the model itself was trained to minimise at the stream's rate, lambda(t) x MSE x 255^2 + bits per
pixel (runtime/ladder.py), and the cheaper kept. So the choice follows the rate: at low rates only tiles the
planes code almost for free change (flat, few colours), at high rates every tile the model blurs (text, sharp
edges, renderings) goes to the planes, exact or within a bound; and rate control searches the rate of the
mixed stream as it does a learned one.

Measured first on crops (scripts/tile_choice_probe.py, 512 px tiles of artificial.png, each coded alone):
per-tile choice by this cost took the BD-rate against WebP from +19.5 % (the model alone) to +6.2 %; the
encoder itself, rate-controlled, in docs/benchmarks.md ("Plane tiles").
"""
from __future__ import annotations

import numpy as np

from jpegai_fast.encoder import content
from jpegai_fast.format import tiling
from jpegai_fast.format.container import RATE_FRAC_BITS
from jpegai_fast.format.plane_tiles import PlaneTile
from jpegai_fast.runtime.engine import Engine

#: The tile side (latent positions of 16 px) of a stream whose tiles may be chosen: 512 px. The default
#: (1024 px) keeps a photograph's latent whole; drawn content mixes within less (artificial.png, 3072 x
#: 2048, has 24 such tiles, and at quality 70 the choice keeps 7 learned: the picture's objects).
TILE_SIZE = 32
#: A tile is weighed only when at least this share of its pixels repeat their left neighbour (encoder/
#: content.py): the 512 px tiles of the graphics images measure 0.66 .. 1.0, the photograph in bench/
#: synthetic_screens.py's web page 0.33 (weighed: learned at quality 60, the planes at 85), Kodak's at most 0.23.
#: Photographs never get here: the picture as a whole must look drawn first (mode_choice.DRAWN_SHARE).
TILE_DRAWN_SHARE = 0.25
#: The bounds tried per tile, in order, after the exact coding (0); the search stops at the first bound
#: whose cost rises (the cost falls, then rises, with the bound).
BOUNDS = (1, 2, 4, 8, 16)


class TileChoice:
    """The plane codings of a picture's drawn tiles, made once and reused by every rate a search probes."""

    def __init__(self, colour: np.ndarray, bit_depth: int, grid: tiling.TileGrid, threads: int):
        self.colour, self.bit_depth, self.grid, self.threads = colour, bit_depth, grid, threads
        h, w = colour.shape[:2]
        self.rects = [tiling.pixel_rect(grid, i, h, w) for i in range(grid.count)]
        self.candidates = [i for i, r in enumerate(self.rects)
                           if grid.count > 1 and content.repeat_share(_crop(colour, r)) >= TILE_DRAWN_SHARE]
        self._coded: dict[tuple[int, int], tuple[PlaneTile, float]] = {}     # (tile, bound) -> (tile, SSE)
        self._copies: dict[int, bytes] = {}

    def _plane_tile(self, i: int, near: int) -> tuple[PlaneTile, float]:
        """Tile ``i`` coded by the planes within ``near`` (0: exact), and its squared error over the samples."""
        key = (i, near)
        if key not in self._coded:
            from jpegai_fast.core import copy_map
            from jpegai_fast.decoder.plane_tiles import colour_of
            from jpegai_fast.encoder import lossless
            tile = np.ascontiguousarray(_crop(self.colour, self.rects[i]))
            if near == 0:
                transform, (coded,) = lossless.exact_tiles(tile, [(0, tile.shape[0], 0, tile.shape[1])],
                                                           self.bit_depth, self.threads)
                sse = 0.0
            else:
                if i not in self._copies:
                    self._copies[i] = lossless.near_search(tile, self.bit_depth, self.threads)
                transform, (coded,) = lossless.near_tiles(tile, [(0, tile.shape[0], 0, tile.shape[1])],
                                                          self.bit_depth, near, [self._copies[i]], self.threads)
            pt = PlaneTile(transform, near, coded.copy_map, coded.planes)
            if near:
                th, tw = tile.shape[:2]
                copies = copy_map.decode(pt.copy_map, th, tw) if pt.copy_map else None
                out = colour_of(transform, near, pt.planes, th, tw, self.bit_depth, copies)
                sse = float(np.sum((out.astype(np.float64) - tile) ** 2))
            self._coded[key] = pt, sse
        return self._coded[key]

    def cost(self, eng: Engine, rate_q: int, nbytes: float, sse: float) -> float:
        """The model's training cost, in bits, of a coding of ``nbytes`` whose squared error over the colour
        samples is ``sse``, at ``rate_q``: 8 nbytes + lambda(t) x 255^2 / peak^2 x SSE / samples per pixel."""
        peak = float((1 << self.bit_depth) - 1)
        samples = 1 if self.colour.ndim == 2 else self.colour.shape[2]
        return 8.0 * nbytes + eng.lmbda(rate_q / float(1 << RATE_FRAC_BITS)) * (255.0 / peak) ** 2 / samples * sse

    def choose(self, eng: Engine, rate_q: int, tile_bytes: list[int], recon: np.ndarray) -> dict[int, PlaneTile]:
        """{tile: its plane coding} for the candidate tiles whose cost beats the learned tile's at ``rate_q``:
        ``tile_bytes`` each tile's learned bytes, ``recon`` the learned stream's decoded colour."""
        def cost(nbytes: float, sse: float) -> float:
            return self.cost(eng, rate_q, nbytes, sse)

        chosen = {}
        for i in self.candidates:
            y0, y1, x0, x1 = self.rects[i]
            learned_sse = float(np.sum((recon[y0:y1, x0:x1].astype(np.float64) - self.colour[y0:y1, x0:x1]) ** 2))
            best, best_cost = None, cost(tile_bytes[i], learned_sse)
            previous = None
            for near in (0,) + BOUNDS:
                pt, sse = self._plane_tile(i, near)
                c = cost(_bytes(pt), sse)
                if c < best_cost:
                    best, best_cost = pt, c
                if previous is not None and c > previous:
                    break
                previous = c
            if best is not None:
                chosen[i] = best
        return chosen


def _bytes(pt: PlaneTile) -> int:
    return len(pt.descriptor()) + len(pt.copy_map) + sum(map(len, pt.planes))


def _crop(arr: np.ndarray, rect) -> np.ndarray:
    y0, y1, x0, x1 = rect
    return arr[y0:y1, x0:x1]

