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
        self.keys = [(Kind.PLANE, i) for i in range(self.planes)]
        if container.has_alpha(h.channels):
            self.keys.append((Kind.ALPHA, 0))
        # the copy map first: decoding it is one pass over its copies (bounded by the pixel count), no pixel
        self.copies = None
        if self.copy_map:
            try:
                self.copies = copy_map.decode(self.payload(Kind.COPY_MAP), h.height, h.width)
            except DecodeError as e:
                raise DecodeError(f"{e} (copy map substream)") from e
        for kind, i in self.keys:
            payload = self.payload(kind, i)
            # every plane codes its full bits: fewer (the lossy alpha mode) is no lossless stream
            bits = self._bits(kind, i)
            if payload[:1] != bytes([bits]):
                raise DecodeError(f"corrupted stream: {_where(kind, i)} does not code all {bits} bits")
            try:
                alpha_coder.check(payload, h.height, h.width, bits)
            except DecodeError as e:
                raise DecodeError(f"{e} ({_where(kind, i)})") from e

    def _bits(self, kind: int, index: int) -> int:
        """The bits substream (kind, index) codes: the bit depth, b + 1 for near-lossless differences."""
        h = self.header
        return lossless.plane_bits(h.colour_transform, index, h.bit_depth) if kind == Kind.PLANE else h.bit_depth

    def decode(self, threads: int) -> np.ndarray:
        """The image (H, W[, C]) as encoded (near-lossless: each colour sample within the bound): uint8 for
        8 bits, else uint16."""
        h = self.header

        def one(key, _inner):
            near = self.near if key[0] == Kind.PLANE else 0
            try:
                return alpha_coder.decode(self.payload(*key), h.height, h.width, self._bits(*key), self.copies, near)
            except DecodeError as e:
                raise DecodeError(f"{e} ({_where(*key)})") from e

        planes = map_tiles(one, self.keys, threads)
        colour = lossless.inverse(planes[:self.planes], h.bit_depth, h.colour_transform)
        if not container.has_alpha(h.channels):
            return colour
        a = planes[-1]
        return np.ascontiguousarray(np.dstack([colour, a]) if colour.ndim == 3 else np.stack([colour, a], axis=-1))


def _where(kind: int, index: int) -> str:
    return "alpha substream" if kind == Kind.ALPHA else f"lossless plane {index} substream"
