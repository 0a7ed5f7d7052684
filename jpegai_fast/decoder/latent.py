"""The decoder's latent: a stream checked by the format rules, then decoded tile by tile.

Everything here is integer arithmetic (entropy decode, integer h_s, fixed-point context loop), so
the latent is identical on every machine; decoder/synthesis.py adds the float synthesis.
Corrupt data found by the C++ core arrives as DecodeError (typed in csrc/common/check.h).
"""
from __future__ import annotations

import contextlib

import numpy as np

from jpegai_fast.core import rans
from jpegai_fast.errors import DecodeError
from jpegai_fast.core.constants import LATENT_SCALE
from jpegai_fast.core.intpath import scale_indexes
from jpegai_fast.format import container
from jpegai_fast.format.container import Kind
from jpegai_fast.format.stream import MAX_Y_SYMBOL, MAX_Z_SYMBOL, ModelShape, StreamLayout, check_symbol_range
from jpegai_fast.runtime.engine import get_engine
from jpegai_fast.runtime.execution import map_tiles


@contextlib.contextmanager
def _context(where: str):
    """Say which substream a DecodeError from the C++ core came from."""
    try:
        yield
    except DecodeError as e:
        raise DecodeError(f"{e} ({where} substream)") from e


class ParsedStream(StreamLayout):
    """A stream laid out and checked (format/stream.py) with the engine of its model."""

    def __init__(self, data: bytes):
        header = container.read(data)
        self.eng = eng = get_engine(model_id=header.model_id)
        super().__init__(data, ModelShape(eng.M, eng.rate_q_max), header)

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
        mu_q, log2sigma_q = eng.hyper(z_hat, threads)
        idx = scale_indexes(log2sigma_q, log2_step)
        if h.num_layers == 1:
            with _context(f"tile {i}, y"):
                q = rans.decode_gaussian(self.payload(Kind.Y, i), idx, threads=threads)
        else:
            q = np.zeros(idx.shape, np.int32)    # missing layers: symbol 0, y_hat = predicted mean
            for layer in self.layers:
                c = self.chans[layer]
                with _context(f"tile {i}, y layer {layer}"):
                    q[c] = rans.decode_gaussian(self.payload(Kind.Y, i, layer), idx[c], threads=threads)
        check_symbol_range(q, MAX_Y_SYMBOL, "latent", i)
        y_hat_q = eng.ctx.reconstruct(q, mu_q, step, threads=threads)
        return y_hat_q.astype(np.float32) * np.float32(LATENT_SCALE)

    def latent(self, tiles: list[int], threads: int) -> np.ndarray:
        """The whole latent (M, lh, lw) float32 with ``tiles`` decoded (the others stay 0)."""
        g = self.grid
        y_hat = np.zeros((self.eng.M, g.lh, g.lw), np.float32)   # pages of untouched tiles stay unmapped

        def one(i: int, inner: int) -> None:
            y0, y1, x0, x1 = g.rect(i)
            y_hat[:, y0:y1, x0:x1] = self.decode_tile(i, inner)

        map_tiles(one, tiles, threads)
        return y_hat
