"""The lossless decode, encoder/lossless.py's mirror: the stream's rules (format/lossless.py), the copy
map and every plane's tables checked before any plane is decoded, then the planes in parallel (each
fills the copied pixels itself) and the inverse colour transform. No model is needed.
"""
from __future__ import annotations

import numpy as np

from jpegai_fast.core import alpha_coder, copy_map
from jpegai_fast.errors import DecodeError
from jpegai_fast.format import container
from jpegai_fast.format import lossless
from jpegai_fast.format.container import Header, Kind
from jpegai_fast.format.lossless import LosslessLayout
from jpegai_fast.runtime.execution import map_tiles


class LosslessStream(LosslessLayout):
    """A lossless stream whose every substream passed the cheap checks (layout, CRCs, each payload's
    header, tables and initial rANS state), so decode() runs only on a stream a cheap look accepts."""

    def __init__(self, data: bytes, header: Header | None = None):
        super().__init__(data, header)
        h = self.header
        alpha = container.has_alpha(h.channels)
        #: per tile, its coded planes as (kind, tile field): the colour planes, then the alpha plane
        self.keys = [[(Kind.PLANE, i * self.planes + p) for p in range(self.planes)] + [(Kind.ALPHA, i)] * alpha
                     for i in range(self.grid.count)]
        # the copy maps first: decoding one is a pass over its copies (bounded by the tile's pixels), no pixel
        self.copies = [None] * self.grid.count
        for i, present in enumerate(self.copy_tiles):
            if present:
                th, tw = self._size(i)
                try:
                    self.copies[i] = copy_map.decode(self.payload(Kind.COPY_MAP, i), th, tw)
                except DecodeError as e:
                    raise DecodeError(f"{e} (copy map substream{_of_tile(i, self.grid.count)})") from e
        for i, keys in enumerate(self.keys):
            th, tw = self._size(i)
            for kind, index in keys:
                payload = self.payload(kind, index)
                # every plane codes its full bits: fewer (the lossy alpha mode) is no lossless stream
                bits = self._bits(kind, index)
                if payload[:1] != bytes([bits]):
                    raise DecodeError(f"corrupted stream: {self._where(kind, index)} does not code all {bits} bits")
                try:
                    alpha_coder.check(payload, th, tw, bits)
                except DecodeError as e:
                    raise DecodeError(f"{e} ({self._where(kind, index)})") from e

    def _size(self, i: int) -> tuple[int, int]:
        y0, y1, x0, x1 = self.rects[i]
        return y1 - y0, x1 - x0

    def _bits(self, kind: int, index: int) -> int:
        """The bits substream (kind, index) codes: the bit depth, b + 1 for near-lossless differences."""
        h = self.header
        if kind != Kind.PLANE:
            return h.bit_depth
        return lossless.plane_bits(h.colour_transform, index % self.planes, h.bit_depth)

    def _where(self, kind: int, index: int) -> str:
        if kind == Kind.ALPHA:
            return f"alpha substream{_of_tile(index, self.grid.count)}"
        return f"lossless plane {index % self.planes} substream{_of_tile(index // self.planes, self.grid.count)}"

    def decode(self, threads: int, region: tuple[int, int, int, int] | None = None) -> np.ndarray:
        """The image (H, W[, C]) as encoded (near-lossless: each colour sample within the bound), or the part
        ``region`` = (x, y, w, h) covers, decoding only the tiles it meets: uint8 for 8 bits, else uint16."""
        h = self.header
        rx, ry, rw, rh = (0, 0, h.width, h.height) if region is None else region
        tiles = [i for i, (y0, y1, x0, x1) in enumerate(self.rects)
                 if y0 < ry + rh and ry < y1 and x0 < rx + rw and rx < x1]
        out = np.empty((rh, rw) if h.channels == 1 else (rh, rw, h.channels), np.uint8 if h.bit_depth == 8 else np.uint16)

        def plane(job, _inner):
            i, (kind, index) = job
            th, tw = self._size(i)
            near = self.near if kind == Kind.PLANE else 0
            try:
                return alpha_coder.decode(self.payload(kind, index), th, tw, self._bits(kind, index), self.copies[i],
                                          near)
            except DecodeError as e:
                raise DecodeError(f"{e} ({self._where(kind, index)})") from e

        # every plane of every tile is independent: one job each, the threads over the planes of as many tiles
        # as there are threads at a time, so only those tiles' planes are held besides the output
        per_batch = max(1, threads)
        for b in range(0, len(tiles), per_batch):
            batch = tiles[b:b + per_batch]
            decoded = iter(map_tiles(plane, [(i, key) for i in batch for key in self.keys[i]], threads))
            for i in batch:
                self._place(i, [next(decoded) for _ in self.keys[i]], out, (rx, ry, rw, rh))
        return out

    def _place(self, i: int, planes: list[np.ndarray], out: np.ndarray, region) -> None:
        """Tile ``i``'s decoded planes, colour transform inverted and alpha appended, into ``out`` (the
        pixels of ``region`` = (x, y, w, h))."""
        h = self.header
        rx, ry, rw, rh = region
        colour = lossless.inverse(planes[:self.planes], h.bit_depth, h.colour_transform)
        if container.has_alpha(h.channels):
            a = planes[-1]
            colour = np.dstack([colour, a]) if colour.ndim == 3 else np.stack([colour, a], axis=-1)
        y0, y1, x0, x1 = self.rects[i]
        cy0, cy1, cx0, cx1 = max(y0, ry), min(y1, ry + rh), max(x0, rx), min(x1, rx + rw)
        out[cy0 - ry:cy1 - ry, cx0 - rx:cx1 - rx] = colour[cy0 - y0:cy1 - y0, cx0 - x0:cx1 - x0]


def _of_tile(i: int, count: int) -> str:
    """" of tile i" where a stream has tiles, else nothing (the messages of untiled streams stay as they were)."""
    return f" of tile {i}" if count > 1 else ""
