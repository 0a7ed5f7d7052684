"""Lossless streams (docs/format.md, "Lossless streams"): the colour transform, the substream order,
the writer's assembly and the cheap whole-stream checks. The planes are coded by the alpha coder
(core/alpha_coder.py); encoder/lossless.py and decoder/lossless.py mirror each other around this file.

Subtract-green (as WebP lossless does) rather than YCoCg-R: it keeps every plane at the image's bit
depth, so 16-bit images fit the coder's 16-bit planes, and on Kodak 1-6 it codes 0.2 % smaller than
YCoCg-R in total (2,833,355 against 2,838,977 bytes; docs/benchmarks.md, "Lossless").
"""
from __future__ import annotations

import numpy as np

from jpegai_fast.errors import DecodeError
from jpegai_fast.format import container
from jpegai_fast.format.container import ColourTransform, Header, Kind, Substream
from jpegai_fast.format.stream import Substreams, side_kinds


def forward(colour: np.ndarray, bit_depth: int) -> list[np.ndarray]:
    """HxW or HxWx3 samples -> the coded planes (uint16): grey as is; G, (R - G) mod 2^b, (B - G) mod 2^b."""
    if colour.ndim == 2:
        return [np.ascontiguousarray(colour, dtype=np.uint16)]
    mask = np.uint16((1 << bit_depth) - 1)
    g = colour[..., 1].astype(np.uint16)
    return [g, (colour[..., 0].astype(np.uint16) - g) & mask, (colour[..., 2].astype(np.uint16) - g) & mask]


def inverse(planes: list[np.ndarray], bit_depth: int) -> np.ndarray:
    """The coded planes -> HxW or HxWx3 samples (uint8 for 8 bits, else uint16): forward's inverse."""
    dtype = np.uint8 if bit_depth == 8 else np.uint16
    if len(planes) == 1:
        return planes[0].astype(dtype)
    mask = np.uint16((1 << bit_depth) - 1)
    g, rg, bg = planes
    out = np.empty(g.shape + (3,), dtype)
    out[..., 0] = (rg + g) & mask      # uint16 wraps modulo 2^16, then the mask takes it modulo 2^b
    out[..., 1] = g
    out[..., 2] = (bg + g) & mask
    return out


def canonical_order(planes: int, side: tuple[int, ...]) -> list[tuple[int, int, int]]:
    """(kind, tile, layer) of every substream: the metadata and alpha (``side``, canonical order), then
    the colour planes, their index in the tile field."""
    return [(kind, 0, 0) for kind in side] + [(Kind.PLANE, i, 0) for i in range(planes)]


def assemble(header: Header, side: dict[int, bytes], planes: list[bytes]) -> bytes:
    """Write a lossless stream: ``side`` {kind: payload} for metadata/alpha, then the coded planes."""
    payloads, subs = [], []
    for kind, tile, layer in canonical_order(len(planes), side_kinds(side, Kind.ALPHA in side)):
        subs.append(Substream(kind, tile, layer, 0, 0))
        payloads.append(planes[tile] if kind == Kind.PLANE else side[kind])
    header.substreams = subs
    return container.write(header, payloads)


class LosslessLayout(Substreams):
    """A lossless stream checked against its rules (container.read did the header's fields): every
    substream present, intact and in the canonical order. Cheap: nothing is decoded."""

    def __init__(self, data: bytes, header: Header | None = None):
        h = container.read(data) if header is None else header
        if h.colour_transform != ColourTransform.LOSSLESS_SUBTRACT_GREEN:
            raise DecodeError(f"not a lossless stream (colour transform {h.colour_transform})")
        super().__init__(data, h)
        planes = container.colour_channels(h.channels)
        meta = side_kinds({s.kind for s in h.substreams}, container.has_alpha(h.channels))
        if [(s.kind, s.tile, s.layer) for s in h.substreams] != canonical_order(planes, meta):
            raise DecodeError("corrupted stream: substreams of the lossless stream missing or not in the "
                              "canonical order (docs/format.md)")
        for s in h.substreams:
            if not s.complete:
                raise DecodeError(f"corrupted stream: substream kind {s.kind}, tile {s.tile} truncated or "
                                  "its CRC fails (a lossless stream has no droppable part)")
        self.planes = planes
