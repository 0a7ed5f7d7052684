"""Learned or plane-coded, per tile (issue 32 item 3; docs/format.md "Plane tiles"): on drawn content each tile
of the learned stream is weighed against the plane coder's exact, near-lossless and palette codings of its
pixels (a palette tile is the tile reduced to a palette, coded exactly), by
the cost the model itself was trained to minimise at the stream's rate, lambda(t) x MSE x 255^2 + bits per
pixel (runtime/ladder.py), and the cheaper kept. So the choice follows the rate: at low rates only tiles the
planes code almost for free change (flat, few colours), at high rates every tile the model blurs (text, sharp
edges, renderings) goes to the planes, exact, within a bound or in a palette; and rate control searches the
rate of the mixed stream as it does a learned one, then spends what a size target leaves (``fill``).

Measured first on crops (scripts/tile_choice_probe.py, 512 px tiles of artificial.png, each coded alone):
per-tile choice by this cost took the BD-rate against WebP from +19.5 % (the model alone) to +6.2 %; the
encoder itself, rate-controlled, in docs/benchmarks.md ("Plane tiles").
"""
from __future__ import annotations

import numpy as np

from jpegai_fast.encoder import content, mode_choice
from jpegai_fast.format import tiling
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
# A tile of few colours (8-bit, at most mode_choice.PALETTE_MAX_COLOURS) is also weighed reduced to each
# palette of mode_choice.PALETTE_SIZES smaller than its own count, coded exactly, from the largest down
# until the cost rises: on flat drawings with soft edges (frymire's) a palette keeps the edges where the
# bounds of the same size smear them.


class TileChoice:
    """The plane codings of a picture's drawn tiles, made once and reused by every rate a search probes."""

    def __init__(self, colour: np.ndarray, bit_depth: int, grid: tiling.TileGrid, threads: int):
        self.colour, self.bit_depth, self.grid, self.threads = colour, bit_depth, grid, threads
        h, w = colour.shape[:2]
        self.rects = [tiling.pixel_rect(grid, i, h, w) for i in range(grid.count)]
        self.candidates = [i for i, r in enumerate(self.rects)
                           if grid.count > 1 and content.repeat_share(_crop(colour, r)) >= TILE_DRAWN_SHARE]
        self._coded: dict[tuple[int, int], tuple[PlaneTile, float]] = {}     # (tile, bound) -> (tile, SSE)
        self._palettes: dict[tuple[int, int], tuple[PlaneTile, float]] = {}  # (tile, size) -> (tile, SSE)
        self._reduction_sse: dict[tuple[int, int], float] = {}              # (tile, size) -> SSE, uncoded
        self._copies: dict[int, bytes] = {}
        self._sizes: dict[int, tuple[int, ...]] = {}
        self._learned: dict[int, dict[int, tuple[int, float]]] = {}   # rate_q -> {tile: learned (bytes, SSE)}
        self._chosen: dict[int, dict[int, PlaneTile]] = {}              # rate_q -> what choose() returned

    def _palette_sizes(self, i: int) -> tuple[int, ...]:
        """The palettes tile ``i`` is weighed at, largest first: those smaller than its count of colours
        (none for a tile of more than PALETTE_MAX_COLOURS or of more than 8 bits)."""
        if i not in self._sizes:
            sizes: tuple[int, ...] = ()
            if self.bit_depth == 8:
                count = mode_choice.colours(_crop(self.colour, self.rects[i]))
                if count <= mode_choice.PALETTE_MAX_COLOURS:
                    sizes = tuple(k for k in reversed(mode_choice.PALETTE_SIZES) if k < count)
            self._sizes[i] = sizes
        return self._sizes[i]

    def _palette_tile(self, i: int, size: int) -> tuple[PlaneTile, float]:
        """Tile ``i`` reduced to a palette of ``size`` colours and coded exactly, and its squared error."""
        key = (i, size)
        if key not in self._palettes:
            from jpegai_fast.encoder import lossless
            flat = self._reduction(i, size)
            transform, (coded,) = lossless.exact_tiles(flat, [(0, flat.shape[0], 0, flat.shape[1])],
                                                       self.bit_depth, self.threads)
            self._palettes[key] = PlaneTile(transform, 0, coded.copy_map, coded.planes), self._palette_sse(i, size)
        return self._palettes[key]

    def _palette_sse(self, i: int, size: int) -> float:
        """The squared error of tile ``i`` reduced to ``size`` colours (no coding)."""
        key = (i, size)
        if key not in self._reduction_sse:
            tile = _crop(self.colour, self.rects[i])
            self._reduction_sse[key] = float(np.sum((self._reduction(i, size).astype(np.float64) - tile) ** 2))
        return self._reduction_sse[key]

    def _reduction(self, i: int, size: int) -> np.ndarray:
        return mode_choice.reduced(_crop(self.colour, self.rects[i]), size)

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
        """The model's training cost (Engine.rd_cost), in bits, of a coding of ``nbytes`` whose squared error
        over this picture's colour samples is ``sse``, at ``rate_q``."""
        return eng.rd_cost(rate_q, nbytes, sse, self.bit_depth, 1 if self.colour.ndim == 2 else self.colour.shape[2])

    def choose(self, eng: Engine, rate_q: int, tile_bytes: list[int], recon: np.ndarray) -> dict[int, PlaneTile]:
        """{tile: its plane coding} for the candidate tiles whose cost beats the learned tile's at ``rate_q``:
        ``tile_bytes`` each tile's learned bytes, ``recon`` the learned stream's decoded colour."""
        def cost(nbytes: float, sse: float) -> float:
            return self.cost(eng, rate_q, nbytes, sse)

        chosen = {}
        learned = self._learned.setdefault(rate_q, {})
        for i in self.candidates:
            y0, y1, x0, x1 = self.rects[i]
            learned_sse = float(np.sum((recon[y0:y1, x0:x1].astype(np.float64) - self.colour[y0:y1, x0:x1]) ** 2))
            learned[i] = tile_bytes[i], learned_sse
            best, best_cost = _cheapest(lambda near, i=i: self._plane_tile(i, near), (0,) + BOUNDS, cost,
                                        cost(tile_bytes[i], learned_sse))
            found, found_cost = self._cheapest_palette(i, cost, best_cost)
            if found is not None:
                best, best_cost = found, found_cost
            if best is not None:
                chosen[i] = best
        self._chosen[rate_q] = chosen
        return chosen

    def _cheapest_palette(self, i: int, cost, to_beat: float) -> tuple[PlaneTile | None, float]:
        """The cheapest palette coding of tile ``i`` if one costs less than ``to_beat``, and its cost. The
        codings are what costs time (unbounded, they doubled frymire's encode), so two bounds skip them: no
        palette codes in fewer bytes than the smallest one (bytes grow with the palette) and none errs less
        than its reduction, measured before coding (the error grows as the palette shrinks)."""
        sizes = self._palette_sizes(i)
        if not sizes:
            return None, to_beat
        fewest = _bytes(self._palette_tile(i, sizes[-1])[0])
        return _cheapest(lambda size: self._palette_tile(i, size), sizes, cost, to_beat,
                         hopeless=lambda size, best: cost(fewest, self._palette_sse(i, size)) >= best)


    def fill(self, rate_q: int, spare: int) -> list[dict[int, PlaneTile]]:
        """Ways to spend up to ``spare`` more bytes on the stream that ``choose`` made at ``rate_q``: where a
        size target falls between two rates at which tiles change coding, the search lands below it (artificial
        at 0.5 bpp: 0.467). Greedily, the candidate tile's coding already made (exact, a bound or a palette)
        that lowers the squared error most per added byte, while the bytes last; returns the choices in that
        order, each the one before plus one change (the caller keeps the last whose stream fits)."""
        learned, chosen = self._learned[rate_q], self._chosen[rate_q]
        current = {i: (_bytes(chosen[i]), self._sse_of(i, chosen[i])) if i in chosen else learned[i]
                   for i in self.candidates}
        steps, now = [], dict(chosen)
        while True:
            best = None
            for i in self.candidates:
                nbytes, sse = current[i]
                for pt, s in self._made(i):
                    extra = _bytes(pt) - nbytes
                    if s < sse and 0 < extra <= spare and (best is None or (sse - s) / extra > best[0]):
                        best = (sse - s) / extra, i, pt, s, extra
            if best is None:
                return steps
            _gain, i, pt, s, extra = best
            now = {**now, i: pt}
            current[i] = _bytes(pt), s
            spare -= extra
            steps.append(now)

    def _made(self, i: int) -> list[tuple[PlaneTile, float]]:
        """Every plane coding of tile ``i`` made so far, with its squared error."""
        return [v for k, v in self._coded.items() if k[0] == i] + [v for k, v in self._palettes.items() if k[0] == i]

    def _sse_of(self, i: int, pt: PlaneTile) -> float:
        return next(s for made, s in self._made(i) if made is pt)


def _cheapest(coding, params, cost, to_beat: float = float("inf"),
              hopeless=None) -> tuple[PlaneTile | None, float]:
    """The cheapest of ``coding(p)`` over ``params`` in order if one costs less than ``to_beat``, and its cost
    (else None, ``to_beat``): stopping at the first whose cost rises (the cost falls, then rises, along a bound
    or a palette size), or before coding a ``p`` for which ``hopeless(p, best cost so far)`` holds (then no
    later one can win either)."""
    best, best_cost, previous = None, to_beat, None
    for p in params:
        if hopeless is not None and hopeless(p, best_cost):
            break
        pt, sse = coding(p)
        c = cost(_bytes(pt), sse)
        if c < best_cost:
            best, best_cost = pt, c
        if previous is not None and c > previous:
            break
        previous = c
    return best, best_cost


def _bytes(pt: PlaneTile) -> int:
    return len(pt.descriptor()) + len(pt.copy_map) + sum(map(len, pt.planes))


def _crop(arr: np.ndarray, rect) -> np.ndarray:
    y0, y1, x0, x1 = rect
    return arr[y0:y1, x0:x1]

