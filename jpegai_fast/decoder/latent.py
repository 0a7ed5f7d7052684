"""The decoder's latent: a stream checked by the format rules, then decoded tile by tile.

Everything here is integer arithmetic (entropy decode, integer h_s, fixed-point context loop), so
the latent is identical on every machine; decoder/synthesis.py adds the float synthesis.
Corrupt data found by the C++ core arrives as DecodeError (typed in csrc/common/check.h).
"""
from __future__ import annotations

import contextlib
import functools

import numpy as np

from jpegai_fast.core import rans
from jpegai_fast.errors import DecodeError
from jpegai_fast.core.constants import ACT_FRAC_BITS, LATENT_SCALE
from jpegai_fast.core.wavefront import check_refinement
from jpegai_fast.format import container, limits, progressive
from jpegai_fast.format.container import Kind
from jpegai_fast.format.stream import MAX_Y_SYMBOL, MAX_Z_SYMBOL, ModelShape, StreamLayout, check_symbol_range
from jpegai_fast.runtime import network
from jpegai_fast.runtime.engine import Engine, get_engine
from jpegai_fast.runtime.execution import map_tiles


@contextlib.contextmanager
def _context(where: str):
    """Say which substream a DecodeError from the C++ core came from."""
    try:
        yield
    except DecodeError as e:
        raise DecodeError(f"{e} ({where} substream)") from e


@functools.lru_cache(maxsize=8)
def analysis_bound(eng: Engine) -> np.ndarray:
    """Per latent channel, a bound on |y| = |g_a(x)| over every image x in [0, 1] (float64 (M,)).

    Interval arithmetic over the weights: a convolution's output is at most sum |w| x (its inputs'
    bounds) + |b|; GDN's y_i = x_i / sqrt(beta_i + sum_j gamma_ij x_j^2) is at most
    B_i / sqrt(beta_i + gamma_ii B_i^2) (gamma >= 0, increasing in |x_i|). Loose (the shipped model's
    latents stay hundreds of times inside) but sure, whatever the image.
    """
    bound = None
    for layer in network.transform_layers(eng.weights, "g_a"):
        if layer["kind"] == "conv":
            w = np.abs(layer["weight"].astype(np.float64)).sum(axis=(2, 3))      # (out, in)
            # (w * bound).sum, not w @ bound: a BLAS call here wakes OpenBLAS's thread pool, whose threads
            # then spin for ~0.1 s against the decode's own on a 2-core machine (the slack covers the order)
            bound = (w * (1.0 if bound is None else bound)).sum(axis=1) + np.abs(layer["bias"])
        elif layer["kind"] == "gdn":
            beta, gamma = layer["beta"].astype(np.float64), np.diag(layer["gamma"]).astype(np.float64)
            bound = bound / np.sqrt(beta + gamma * bound * bound)
        elif layer["kind"] != "relu":                                           # relu: |relu(x)| <= |x|
            raise NotImplementedError(f"no latent bound for a {layer['kind']} layer in g_a")
    return bound


def latent_bound_q(eng: Engine, step_q: np.ndarray) -> np.ndarray:
    """Largest |y_hat| (Q12, int64 (M,)) an encoder can make at quantisation steps ``step_q`` (limits.py)."""
    scale = float(1 << ACT_FRAC_BITS) * (1.0 + limits.LATENT_BOUND_SLACK)
    return np.ceil(analysis_bound(eng) * scale).astype(np.int64) + limits.LATENT_BOUND_STEPS * step_q.astype(np.int64)


def check_latent_range(y_hat_q: np.ndarray, bound_q: np.ndarray, tile: int) -> None:
    """DecodeError when a channel of y_hat (Q12, (M, h, w)) leaves +-bound_q: the synthesis input stays
    within what the model can produce (per-channel min/max: no temporary copy of the tile)."""
    if not y_hat_q.size:
        return
    top = np.maximum(y_hat_q.max(axis=(1, 2)).astype(np.int64), -y_hat_q.min(axis=(1, 2)).astype(np.int64))
    bad = np.flatnonzero(top > bound_q)
    if bad.size:
        c = int(bad[0])
        raise DecodeError(f"corrupted stream (tile {tile}): latent channel {c} reaches {top[c] * LATENT_SCALE:.6g}, "
                          f"beyond the {bound_q[c] * LATENT_SCALE:.6g} that the model's encoder can produce")


def _y_where(tile: int, layer: int, num_layers: int) -> str:
    return f"tile {tile}, y" if num_layers == 1 else f"tile {tile}, y layer {layer}"


class ParsedStream(StreamLayout):
    """A stream laid out and checked (format/stream.py) with the engine of its model.

    Construction runs every cheap check of the whole stream (container, layout, and the coded layout of
    every substream: chunk tables, rANS states, the alpha payload's tables), so no expensive stage runs
    on a stream that a cheap look would refuse.
    """

    def __init__(self, data: bytes, header: container.Header | None = None):
        header = container.read(data) if header is None else header
        self.eng = eng = get_engine(model_id=header.model_id)
        super().__init__(data, ModelShape(eng.M, eng.rate_q_max), header)
        self._check_coded_layouts()
        from jpegai_fast.decoder.plane_tiles import PlaneTiles
        #: the plane tiles' decoder (None: every tile is the model's), their payloads checked
        self.plane = PlaneTiles(self) if self.plane_tiles else None

    def _view(self, kind: int, tile: int = 0, layer: int = 0) -> memoryview:
        s = self.subs[(kind, tile, layer)]
        return memoryview(self.data)[s.offset:s.offset + s.length]

    def _check_coded_layouts(self) -> None:
        """O(substreams + chunks): every learned tile's z and usable y substreams, and the alpha payload."""
        h = self.header
        try:
            progressive.layer_steps(*self.eng.steps(h.rate_q), 0, h.num_layers)
        except ValueError as e:
            raise DecodeError(f"corrupted stream: {e}") from e
        if container.has_alpha(h.channels):
            from jpegai_fast.core import alpha_coder
            alpha_coder.check(self._view(Kind.ALPHA), h.height, h.width, h.bit_depth)
        for i in self.learned_tiles:
            y0, y1, x0, x1 = self.grid.rect(i)
            positions = (y1 - y0) * (x1 - x0)
            with _context(f"tile {i}, z"):
                rans.check_layout(self._view(Kind.Z, i), self.eng.Cz * (positions // 16))
            with _context(_y_where(i, 0, h.num_layers)):
                rans.check_layout(self._view(Kind.Y, i, 0), self.eng.M * positions)
            for layer in self.layers[1:]:
                with _context(_y_where(i, layer, h.num_layers)):
                    check_refinement(self._view(Kind.Y, i, layer), self.eng.M)

    def alpha(self) -> np.ndarray | None:
        """The alpha plane (H, W) of the image, or None when it has none."""
        h = self.header
        if not container.has_alpha(h.channels):
            return None
        from jpegai_fast.core import alpha_coder
        return alpha_coder.decode(self.payload(Kind.ALPHA), h.height, h.width, h.bit_depth)

    def decode_tile(self, i: int, threads: int) -> np.ndarray:
        """y_hat of tile ``i`` (M, th, tw) float32 (exact Q12 values), from that tile's substreams only."""
        eng, h = self.eng, self.header
        y0, y1, x0, x1 = self.grid.rect(i)
        log2_step, step = eng.steps(h.rate_q)
        with _context(f"tile {i}, z"):
            z_hat = eng.decode_z(self.payload(Kind.Z, i), y1 - y0, x1 - x0, threads)
        check_symbol_range(z_hat, MAX_Z_SYMBOL, "hyper-latent", i)
        mu_q, log2sigma_q = eng.hyper(z_hat, threads, h.version)
        idx, step_k = progressive.layer_indexes(log2sigma_q, log2_step, step, 0, h.num_layers)
        with _context(_y_where(i, 0, h.num_layers)):
            q = rans.decode_gaussian(self.payload(Kind.Y, i, 0), idx, threads=threads)
        check_symbol_range(q, MAX_Y_SYMBOL, "latent", i)
        y_hat_q = eng.ctx.reconstruct(q, mu_q, step_k, threads=threads)
        for layer in self.layers[1:]:         # each refines the one below (format/progressive.py)
            idx, step_k = progressive.layer_indexes(log2sigma_q, log2_step, step, layer, h.num_layers)
            idx_step = progressive.step_indexes(log2sigma_q, log2_step, layer, h.num_layers)
            with _context(_y_where(i, layer, h.num_layers)):
                y_hat_q = eng.ctx.refine_decode(self.payload(Kind.Y, i, layer), y_hat_q, idx, idx_step, mu_q, step_k,
                                                threads)
        check_latent_range(y_hat_q, latent_bound_q(eng, step_k), i)
        return y_hat_q.astype(np.float32) * np.float32(LATENT_SCALE)

    def latent(self, tiles: list[int], threads: int) -> np.ndarray:
        """The whole latent (M, lh, lw) float32 with ``tiles`` decoded (the others stay 0); a plane tile among
        them next to a learned one holds the analysis of its decoded pixels (decoder/plane_tiles.py)."""
        g = self.grid
        y_hat = np.zeros((self.eng.M, g.lh, g.lw), np.float32)   # pages of untouched tiles stay unmapped

        def one(i: int, inner: int) -> None:
            y0, y1, x0, x1 = g.rect(i)
            y_hat[:, y0:y1, x0:x1] = self.decode_tile(i, inner)

        plane = [i for i in tiles if i in self.plane_tiles]
        learned = {i for i in tiles if i not in self.plane_tiles}
        if self.plane is not None:       # the learned tiles the plane tiles' analysis synthesises
            learned |= {i for i in self.plane.reach(plane) if i not in self.plane_tiles}
        map_tiles(one, sorted(learned), threads)
        if self.plane is not None:
            self.plane.analyse_into(y_hat, plane, threads)
        return y_hat
