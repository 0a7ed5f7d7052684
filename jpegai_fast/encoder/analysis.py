"""The encoder's per-tile work: analysis (g_a with a halo), hyper path, quantisation, layers, and
the stream's payloads (written by format/stream.py in the canonical order).

Tiles are analysed one at a time (memory bounded by the tile size); with rate control the
rate-independent results are kept so each rate probe only re-quantises (encoder/pipeline.py).
"""
from __future__ import annotations

import numpy as np

from typing import Callable

from jpegai_fast import pixels
from jpegai_fast.core import rans
from jpegai_fast.core.constants import GROUP
from jpegai_fast.core.intpath import scale_indexes
from jpegai_fast.format import progressive, stream, tiling
from jpegai_fast.format.container import Header, Kind
from jpegai_fast.format.tiling import LATENT_PX, TileGrid
from jpegai_fast.runtime.engine import Engine
from jpegai_fast.runtime.execution import map_tiles


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
    ey0, ey1, ex0, ex1 = tiling.expand(rect, halo, lh, lw)
    crop = crop_pixels(arr, (ey0, ey1, ex0, ex1))
    y = g_a(pixels.to_model_input(crop, bit_depth))
    y0, y1, x0, x1 = rect
    return np.ascontiguousarray(y[:, y0 - ey0:y1 - ey0, x0 - ex0:x1 - ex0])




def analyse_tile(g_a: Callable, arr: np.ndarray, bit_depth: int, grid: TileGrid, i: int, halo: int) -> np.ndarray:
    """y of tile ``i`` (M, th, tw) float32 (analyse_rect of the tile's rectangle)."""
    return analyse_rect(g_a, arr, bit_depth, grid.rect(i), grid.lh, grid.lw, halo)


class TileAnalysis:
    """One tile's encoder state.

    With rate control: what does not depend on the rate (y, z bytes, hyper outputs), so each
    rate probe only re-quantises. At a fixed rate the tile is quantised (and, with one layer,
    entropy-coded) as soon as it is analysed and only the symbols (or bytes) are kept.
    """

    def __init__(self, z_bytes: bytes, y=None, mu_q=None, log2sigma_q=None, q=None, idx=None, y_bytes=None):
        self.z_bytes, self.y, self.mu_q, self.log2sigma_q = z_bytes, y, mu_q, log2sigma_q
        self.q, self.idx, self.y_bytes = q, idx, y_bytes


class AnalysedImage:
    """Everything the encoder computes once, before (or, at a fixed rate, with) the rate parameter."""

    def __init__(self, eng: Engine, arr: np.ndarray, bit_depth: int, tile_size: int, threads: int, device,
                 fixed_rate: int | None = None, layers: int = 1, effort: int = 1, effort_rate: int | None = None):
        """``effort`` > 1 refines every tile's latent for rate ``effort_rate`` (effort.py; default: fixed_rate)."""
        self.height, self.width = arr.shape[:2]
        self.channels = 1 if arr.ndim == 2 else 3
        self.bit_depth = bit_depth
        self.fixed_rate = fixed_rate
        self.grid = tiling.make_grid(*eng.latent_shape(self.height, self.width), tile_size)
        g_a = eng.transform("g_a", device, threads)
        refine = None
        if effort > 1:
            from jpegai_fast.encoder.effort_search import LatentOptimiser   # needs torch autograd; effort 1 does not
            rate = fixed_rate if effort_rate is None else effort_rate
            refine = LatentOptimiser(eng, arr, bit_depth, self.grid, rate, effort, device, threads)
        self.tiles = []
        for i in range(self.grid.count):   # one tile at a time: memory is bounded by the tile size
            y = analyse_tile(g_a, arr, bit_depth, self.grid, i, eng.analysis_halo)
            if refine is not None:
                y, z_hat = refine.tile(i, y)
            else:
                z_hat = eng.hyper_analyse(y, device, threads)
            mu_q, log2sigma_q = eng.hyper(z_hat, threads)
            t = TileAnalysis(eng.encode_z(z_hat, threads), y, mu_q, log2sigma_q)
            if fixed_rate is not None:
                t.q, t.idx = self._quantise(eng, t, fixed_rate, threads)
                if layers == 1:
                    t.y_bytes, t.q, t.idx = rans.encode_gaussian(t.q, t.idx, threads=threads), None, None
                t.y = t.mu_q = t.log2sigma_q = None
            self.tiles.append(t)

    @staticmethod
    def _quantise(eng: Engine, t: TileAnalysis, rate_q: int, threads: int) -> tuple[np.ndarray, np.ndarray]:
        log2_step, step = eng.steps(rate_q)
        idx = scale_indexes(t.log2sigma_q, log2_step)
        q, _ = eng.ctx.quantize(t.y, t.mu_q, step, threads=threads)
        return q, idx

    @staticmethod
    def _group_importance(eng: Engine, coded: list, step: np.ndarray) -> np.ndarray:
        """Per context group: the pixel error (linear estimate) of dropping it, i.e. of q -> 0.

        sum over its channels of gain_c * step_c^2 * sum(q_c^2): what the coded residual adds.
        """
        energy = np.zeros(eng.M)
        for q, _ in coded:
            energy += np.einsum("chw,chw->c", q, q, dtype=np.float64)
        per_channel = energy * eng.synthesis_gain * (step.astype(np.float64) / 4096.0) ** 2
        return per_channel.reshape(-1, GROUP).sum(axis=1)

    def stream(self, eng: Engine, rate_q: int, layers: int, threads: int, metadata: dict | None = None,
               orientation: int = 1, alpha: bytes | None = None) -> bytes:
        """The complete stream at rate ``rate_q`` (quantise + entropy-code every tile).

        ``metadata``: {"icc", "exif", "xmp"} -> bytes, stored in their own substreams first;
        ``alpha``: the coded alpha plane (core/alpha_coder.py), next.
        """
        if self.fixed_rate is not None and rate_q != self.fixed_rate:
            raise ValueError("this analysis was quantised at a fixed rate")
        _, step = eng.steps(rate_q)

        def quantise(t: TileAnalysis, inner: int):
            if t.y_bytes is not None or t.q is not None:
                return t.q, t.idx
            return self._quantise(eng, t, rate_q, inner)

        coded = map_tiles(quantise, self.tiles, threads)
        order: list[int] = []
        chans = [np.arange(eng.M)]
        if layers > 1:
            order = progressive.order_groups(self._group_importance(eng, coded, step))
            chans = progressive.layer_channels(order, layers)

        def code(i: int, inner: int) -> list[bytes]:
            if self.tiles[i].y_bytes is not None:
                return [self.tiles[i].y_bytes]
            q, idx = coded[i]
            if layers == 1:
                return [rans.encode_gaussian(q, idx, threads=inner)]
            return [rans.encode_gaussian(q[c], idx[c], threads=inner) for c in chans]

        y_bytes = map_tiles(code, list(range(len(self.tiles))), threads)
        side = {kind: bytes(metadata[name]) for kind, name in Kind.NAMES.items()
                if metadata and metadata.get(name) is not None}
        if alpha is not None:
            side[Kind.ALPHA] = alpha
        header = Header(self.width, self.height, self.channels + (alpha is not None), self.bit_depth, eng.model_id, rate_q,
                        orientation=orientation, tile_size=self.grid.size, num_layers=layers, group_order=order)
        return stream.assemble(header, side, [t.z_bytes for t in self.tiles], y_bytes)
