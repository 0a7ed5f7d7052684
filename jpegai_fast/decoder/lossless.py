"""The lossless decode, encoder/lossless.py's mirror: the stream's rules (format/lossless.py), the copy
map and every plane's tables checked before any plane is decoded, then the planes (a tile's together, in
one pass of the plane decoder; each fills the copied pixels itself) and the inverse colour transform. No
model is needed.
"""
from __future__ import annotations

from typing import NoReturn

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
        alpha = container.has_alpha(h.channels) and not self.base_layers    # over a base: the base's alpha
        #: per tile, its coded planes as (kind, tile field): the colour planes, then the alpha plane
        self.keys = [[(Kind.PLANE, i * self.planes + p) for p in range(self.planes)] + [(Kind.ALPHA, i)] * alpha
                     for i in range(self.grid.count)]
        self.copies = [None] * self.grid.count
        if not self.last_layer_complete:
            return          # a prefix of a stream over a base: only its base decodes (api.decode)
        if self.base_layers and container.has_alpha(h.channels):
            try:
                alpha_coder.check(self.base_alpha, h.height, h.width, h.bit_depth)
            except DecodeError as e:
                raise DecodeError(f"{e} (the base's alpha substream)") from e
        # the copy maps first: decoding one is a pass over its copies (bounded by the tile's pixels), no pixel
        for i, present in enumerate(self.copy_tiles):
            if present:
                th, tw = self._size(i)
                try:
                    self.copies[i] = copy_map.decode(self.payload(Kind.COPY_MAP, i, self.base_layers), th, tw)
                except DecodeError as e:
                    raise DecodeError(f"{e} (copy map substream{_of_tile(i, self.grid.count)})") from e
        for i, keys in enumerate(self.keys):
            th, tw = self._size(i)
            for kind, index in keys:
                check_plane(self.payload(kind, index, self.base_layers), th, tw, self._bits(kind, index),
                            self._where(kind, index))

    def _size(self, i: int) -> tuple[int, int]:
        y0, y1, x0, x1 = self.rects[i]
        return y1 - y0, x1 - x0

    def _bits(self, kind: int, index: int) -> int:
        """The bits substream (kind, index) codes: the bit depth, b + 1 for near-lossless differences."""
        h = self.header
        if kind != Kind.PLANE:
            return h.bit_depth
        return lossless.plane_bits(h.colour_transform, index % self.planes, h.bit_depth)

    def _near(self, kind: int) -> int:
        """The near-lossless bound substream ``kind`` is coded with: the colour planes', the alpha plane exact."""
        return self.near if kind == Kind.PLANE else 0

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
        # over a base, the alpha plane is the base's (one plane for the whole image, exact, no model needed)
        alpha = (alpha_coder.decode(self.base_alpha, h.height, h.width, h.bit_depth)
                 if self.base_layers and container.has_alpha(h.channels) else None)

        def planes(job, _inner):
            """One job: some of tile i's planes, decoded together (lossless) or the one plane (near-lossless)."""
            i, keys = job
            th, tw = self._size(i)
            payloads = [self.payload(kind, index, self.base_layers) for kind, index in keys]
            try:
                if self.near:
                    (kind, index), = keys
                    return [alpha_coder.decode(payloads[0], th, tw, self._bits(kind, index), self.copies[i],
                                               self._near(kind))]
                group = alpha_coder.decode_group(payloads, th, tw, h.bit_depth, self.copies[i])
            except DecodeError as e:
                self._name_the_damaged(i, keys, e)
            return [g.astype(np.uint8) for g in group] if h.bit_depth == 8 else group

        # each job decodes some planes of one tile: a lossless tile's planes together (one pass, their chains
        # overlapped), split over the threads a batch leaves; the threads over the jobs of as many tiles as
        # there are threads at a time, so only those tiles' planes are held besides the output
        per_batch = max(1, threads)
        for b in range(0, len(tiles), per_batch):
            batch = tiles[b:b + per_batch]
            jobs = [(i, keys) for i in batch for keys in self._jobs_of(i, max(1, threads // len(batch)))]
            decoded = iter(p for job_planes in map_tiles(planes, jobs, threads) for p in job_planes)
            for i in batch:
                self._place(i, [next(decoded) for _ in self.keys[i]], out, (rx, ry, rw, rh), alpha)
        return out

    def _jobs_of(self, i: int, parts: int) -> list[list[tuple[int, int]]]:
        """Tile ``i``'s planes as the jobs that decode them, in order: near-lossless one plane each (its
        planes have different bits), lossless ``parts`` runs of consecutive planes of near-equal length."""
        keys = self.keys[i]
        if self.near:
            return [[k] for k in keys]
        parts = min(parts, len(keys))
        cuts = [len(keys) * j // parts for j in range(parts + 1)]
        return [keys[a:b] for a, b in zip(cuts, cuts[1:])]

    def _name_the_damaged(self, i: int, keys: list[tuple[int, int]], error: DecodeError) -> NoReturn:
        """Raises ``error`` of decoding ``keys`` (tile ``i``) together, named: the first plane that fails
        alone, or (none does) all of them."""
        if len(keys) == 1:
            raise DecodeError(f"{error} ({self._where(*keys[0])})") from error
        th, tw = self._size(i)
        for kind, index in keys:
            try:
                alpha_coder.decode(self.payload(kind, index, self.base_layers), th, tw, self._bits(kind, index),
                                   self.copies[i], self._near(kind))
            except DecodeError as e:
                raise DecodeError(f"{e} ({self._where(kind, index)})") from error
        raise DecodeError(f"{error} ({', '.join(self._where(k, x) for k, x in keys)})") from error

    def _place(self, i: int, planes: list[np.ndarray], out: np.ndarray, region, alpha: np.ndarray | None) -> None:
        """Tile ``i``'s decoded planes, colour transform inverted and alpha appended (its own plane, or its
        part of the whole image's ``alpha``), into ``out`` (the pixels of ``region`` = (x, y, w, h))."""
        h = self.header
        rx, ry, rw, rh = region
        y0, y1, x0, x1 = self.rects[i]
        colour = lossless.inverse(planes[:self.planes], h.bit_depth, h.colour_transform)
        if container.has_alpha(h.channels):
            a = planes[-1] if alpha is None else alpha[y0:y1, x0:x1]
            colour = np.dstack([colour, a]) if colour.ndim == 3 else np.stack([colour, a], axis=-1)
        cy0, cy1, cx0, cx1 = max(y0, ry), min(y1, ry + rh), max(x0, rx), min(x1, rx + rw)
        out[cy0 - ry:cy1 - ry, cx0 - rx:cx1 - rx] = colour[cy0 - y0:cy1 - y0, cx0 - x0:cx1 - x0]


def check_plane(payload: bytes, th: int, tw: int, bits: int, where: str) -> None:
    """The cheap checks of a th x tw plane's payload (header, tables, initial rANS state); it must code all
    ``bits`` (fewer, the lossy alpha mode, is no lossless plane). A DecodeError names ``where``."""
    if payload[:1] != bytes([bits]):
        raise DecodeError(f"corrupted stream: {where} does not code all {bits} bits")
    try:
        alpha_coder.check(payload, th, tw, bits)
    except DecodeError as e:
        raise DecodeError(f"{e} ({where})") from e


def _of_tile(i: int, count: int) -> str:
    """" of tile i" where a stream has tiles, else nothing (the messages of untiled streams stay as they were)."""
    return f" of tile {i}" if count > 1 else ""
