"""Lossless streams (docs/format.md, "Lossless streams"): the colour transforms, the substream order,
the writer's assembly and the cheap whole-stream checks. The planes are coded by the alpha coder
(core/alpha_coder.py); encoder/lossless.py and decoder/lossless.py mirror each other around this file.

Differences modulo 2^b rather than YCoCg-R: every plane keeps the image's bit depth b, so 16-bit images
fit the coder's 16-bit planes (on Kodak 1-6 subtract-green alone codes 0.2 % smaller than YCoCg-R). Which
colour is best predicted from which differs per image, so the encoder codes the five planes below and
keeps the transform whose three are smallest (Kodak 1-6: -1.0 % against subtract-green alone, frymire
-2.8 %; docs/benchmarks.md, "Lossless").

Near-lossless streams (bound N in the header's rate field) cannot take differences of source samples: a
plane within +-N of R - G would not keep R within N (G's own error adds in, and mod 2^b a small error
wraps to a large one). NEAR_LOSSLESS codes R, G, B as they are; NEAR_LOSSLESS_SUBTRACT_GREEN codes G,
then R and B against G as the decoder will have it (G'), without a modulus: R - G' + 2^b - 1 in b + 1
bits, so R' = clamp(that' - (2^b - 1) + G', 0, 2^b - 1) errs by at most N (Kodak 1-6: -27..-31 % bytes
against independent planes); NEAR_LOSSLESS_B_MINUS_MEAN predicts B by floor((R' + G') / 2) instead
(another -2.5 % on those photos, worse on some graphics). The encoder keeps the smallest; 16-bit
images, whose differences would need 17 bits, always use independent planes.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from jpegai_fast.errors import DecodeError
from jpegai_fast.format import container, progressive, tiling
from jpegai_fast.format.container import ColourTransform, Header, Kind, Substream
from jpegai_fast.format.stream import Substreams, side_kinds

#: The coded planes of each lossless transform of a colour image, by name (derived() makes them).
PLANES = {
    ColourTransform.LOSSLESS_SUBTRACT_GREEN: ("G", "R-G", "B-G"),
    ColourTransform.LOSSLESS_B_MINUS_MEAN: ("G", "R-G", "B-mean(R,G)"),
    ColourTransform.LOSSLESS_R_MINUS_B: ("G", "B-G", "R-B"),
    ColourTransform.NEAR_LOSSLESS: ("R", "G", "B"),
    ColourTransform.NEAR_LOSSLESS_SUBTRACT_GREEN: ("G", "R-G'", "B-G'"),   # G', R': as decoded (near_residual)
    ColourTransform.NEAR_LOSSLESS_B_MINUS_MEAN: ("G", "R-G'", "B-mean(R',G')"),
}
#: A grey image's one plane is coded as is, under this transform value (lossless) or NEAR_LOSSLESS.
GREY_TRANSFORM = ColourTransform.LOSSLESS_SUBTRACT_GREEN


def derived(colour: np.ndarray, bit_depth: int, names=None) -> dict[str, np.ndarray]:
    """The planes ``names`` (default: every plane a source-sample transform of PLANES may code; uint16,
    mod 2^b) from HxWx3 samples; only those asked for are computed."""
    mask = np.uint16((1 << bit_depth) - 1)
    r, g, b = (colour[..., i].astype(np.uint16) for i in range(3))   # uint16 wraps mod 2^16: half the memory of int32
    make = {"R": lambda: r, "G": lambda: g, "B": lambda: b, "R-G": lambda: (r - g) & mask,
            "B-G": lambda: (b - g) & mask, "B-mean(R,G)": lambda: (b - _mean(r, g)) & mask,
            "R-B": lambda: (r - b) & mask}
    return {name: make[name]() for name in (make if names is None else names)}


def _mean(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """floor((a + b) / 2) of unsigned samples without a carry bit."""
    return (a >> 1) + (b >> 1) + (a & b & 1)


def forward(colour: np.ndarray, bit_depth: int, transform: int = GREY_TRANSFORM) -> list[np.ndarray]:
    """HxW or HxWx3 samples -> the coded planes (uint16) of ``transform`` (grey: the one plane as is)."""
    if colour.ndim == 2:
        return [np.ascontiguousarray(colour, dtype=np.uint16)]
    return list(derived(colour, bit_depth, PLANES[transform]).values())


def near_offset(bit_depth: int) -> int:
    """Planes 1 and 2 of the near-lossless difference transforms hold a channel minus its prediction plus
    this (2^b - 1), in b + 1 bits."""
    return (1 << bit_depth) - 1


def plane_bits(transform: int, index: int, bit_depth: int) -> int:
    """The bits colour plane ``index`` of ``transform`` is coded with: b, or b + 1 for the near-lossless
    differences."""
    return bit_depth + (transform in ColourTransform.NEAR_DIFFERENCES and index > 0)


def near_residual(channel: np.ndarray, prediction: np.ndarray, bit_depth: int) -> np.ndarray:
    """A near-lossless difference plane: ``channel`` - ``prediction`` (decoded samples) + 2^b - 1, uint16."""
    return (channel.astype(np.int32) - prediction.astype(np.int32) + near_offset(bit_depth)).astype(np.uint16)


def near_unresidual(plane: np.ndarray, prediction: np.ndarray, bit_depth: int) -> np.ndarray:
    """near_residual's inverse on decoded planes, clamped to the samples' range (int32)."""
    return np.clip(plane.astype(np.int32) - near_offset(bit_depth) + prediction.astype(np.int32), 0,
                   (1 << bit_depth) - 1)


def b_prediction(transform: int, r: np.ndarray, g: np.ndarray) -> np.ndarray:
    """What a near-lossless difference transform predicts B by, from the decoded R and G."""
    if transform == ColourTransform.NEAR_LOSSLESS_B_MINUS_MEAN:
        return _mean(r.astype(np.int32), g.astype(np.int32))
    return g


def inverse(planes: list[np.ndarray], bit_depth: int, transform: int = GREY_TRANSFORM) -> np.ndarray:
    """The coded planes -> HxW or HxWx3 samples (uint8 for 8 bits, else uint16): forward's inverse."""
    dtype = np.uint8 if bit_depth == 8 else np.uint16
    if len(planes) == 1:
        return planes[0].astype(dtype)
    # 8 bits: uint8 arithmetic wraps mod 2^8 by itself (a third of the decode's overhead was the casts)
    mask = dtype((1 << bit_depth) - 1)
    if transform in ColourTransform.NEAR_DIFFERENCES:
        out = np.empty(planes[0].shape + (3,), dtype)
        out[..., 1] = planes[0]
        out[..., 0] = near_unresidual(planes[1], planes[0], bit_depth)
        out[..., 2] = near_unresidual(planes[2], b_prediction(transform, out[..., 0], planes[0]), bit_depth)
        return out
    g, p1, p2 = (p.astype(dtype, copy=False) for p in planes)
    if transform == ColourTransform.NEAR_LOSSLESS:
        r, g, b = g, p1, p2     # R, G, B as they are
    elif transform == ColourTransform.LOSSLESS_R_MINUS_B:
        b = (p1 + g) & mask
        r = (p2 + b) & mask
    else:
        r = (p1 + g) & mask
        b = (p2 + (g if transform == ColourTransform.LOSSLESS_SUBTRACT_GREEN else _mean(r, g))) & mask
    out = np.empty(g.shape + (3,), dtype)
    out[..., 0], out[..., 1], out[..., 2] = r, g, b
    return out


def max_error(header: Header) -> int:
    """The colour planes' error bound of a model-free stream: the rate field of a near-lossless one, else 0."""
    return header.rate_q if header.colour_transform in ColourTransform.NEAR else 0


def canonical_order(planes: int, metadata: tuple[int, ...], alpha: bool,
                    copy_tiles: list[bool], base_layers: int = 0) -> list[tuple[int, int, int]]:
    """(kind, tile, layer) of every substream: the ``metadata`` kinds (canonical order), the learned base's
    ``base_layers`` layers (a progressive-to-lossless stream: kind BASE, tile 0, layer k), then per tile i
    (``copy_tiles[i]``: whether it has a copy map) its alpha plane, its copy map, its colour planes (tile
    field i * planes + plane), in the last layer. One tile (tile size 0) is the order of a stream from
    before tiles; a stream over a base has no alpha plane of its own (the base's is exact)."""
    order = [(kind, 0, 0) for kind in metadata] + [(Kind.BASE, 0, k) for k in range(base_layers)]
    last = base_layers
    for i, copies in enumerate(copy_tiles):
        order += [(Kind.ALPHA, i, last)] * alpha + [(Kind.COPY_MAP, i, last)] * copies
        order += [(Kind.PLANE, i * planes + p, last) for p in range(planes)]
    return order


@dataclass
class CodedTile:
    """One tile of a model-free stream as the encoder made it: its copy map (b"": none), colour plane
    payloads and alpha payload (b"": no alpha)."""

    copy_map: bytes
    planes: list[bytes]
    alpha: bytes = b""


def assemble(header: Header, metadata: dict[int, bytes], tiles: list[CodedTile],
             base_chunks: list[bytes] | None = None) -> bytes:
    """Write a model-free stream: ``metadata`` {kind: payload}, the learned base's layers (``base_chunks``:
    progressive.layer_chunks of its stream; the header's layer count must be one more), every tile's
    substreams."""
    planes = len(tiles[0].planes)
    base_chunks = base_chunks or []
    order = canonical_order(planes, side_kinds(metadata, False), bool(tiles[0].alpha), [bool(t.copy_map) for t in tiles],
                            len(base_chunks))
    payloads = []
    for kind, index, layer in order:
        if kind == Kind.BASE:
            payloads.append(base_chunks[layer])
        elif kind == Kind.PLANE:
            payloads.append(tiles[index // planes].planes[index % planes])
        elif kind == Kind.COPY_MAP:
            payloads.append(tiles[index].copy_map)
        elif kind == Kind.ALPHA:
            payloads.append(tiles[index].alpha)
        else:
            payloads.append(metadata[kind])
    header.substreams = [Substream(kind, tile, layer, 0, 0) for kind, tile, layer in order]
    return container.write(header, payloads)


class LosslessLayout(Substreams):
    """A lossless stream checked against its rules (container.read did the header's fields): every
    substream present, intact and in the canonical order. Cheap: nothing is decoded."""

    def __init__(self, data: bytes, header: Header | None = None):
        h = container.read(data) if header is None else header
        if h.colour_transform not in ColourTransform.MODEL_FREE:
            raise DecodeError(f"not a lossless stream (colour transform {h.colour_transform})")
        super().__init__(data, h)
        planes = container.colour_channels(h.channels)
        #: the colour planes' near-lossless bound (0: exact); the alpha plane is always exact
        self.near = max_error(h)
        if planes == 1 and h.colour_transform not in (GREY_TRANSFORM, ColourTransform.NEAR_LOSSLESS):
            raise DecodeError(f"corrupted stream: a grey lossless stream with colour transform {h.colour_transform} "
                              f"(grey uses {GREY_TRANSFORM} or {ColourTransform.NEAR_LOSSLESS})")
        if h.colour_transform in ColourTransform.NEAR_DIFFERENCES and h.bit_depth > 15:
            raise DecodeError(f"corrupted stream: colour transform {h.colour_transform} at {h.bit_depth} bits "
                              "(its differences take b + 1 <= 16 bits)")
        #: the tile grid (tile size 0: one tile, the whole planes) and each tile's pixel rectangle
        self.grid = tiling.TileGrid(*tiling.latent_shape(h.height, h.width), h.tile_size)
        self.rects = [tiling.pixel_rect(self.grid, i, h.height, h.width) for i in range(self.grid.count)]
        kinds = {s.kind for s in h.substreams}
        #: the learned base's layers (a progressive-to-lossless stream; 0: none), before the exact layer
        self.base_layers = h.num_layers - 1
        #: per tile, whether it has a copy map (the canonical order below checks the rest)
        last = self.base_layers
        self.copy_tiles = [(Kind.COPY_MAP, i, last) in self.subs for i in range(self.grid.count)]
        alpha = container.has_alpha(h.channels) and not self.base_layers
        order = canonical_order(planes, side_kinds(kinds, False), alpha, self.copy_tiles, self.base_layers)
        if [(s.kind, s.tile, s.layer) for s in h.substreams] != order:
            raise DecodeError("corrupted stream: substreams of the lossless stream missing or not in the "
                              "canonical order (docs/format.md)")
        #: the last layer (over a base: the exact layer) is all there; else a stream over a base decodes its base
        #: (a prefix), and one without a base is refused below (it has no droppable part)
        self.last_layer_complete = all(s.complete for s in h.substreams if s.kind != Kind.BASE)
        for s in h.substreams:
            if not s.complete and not (self.base_layers and s.layer > 0):
                what = "the base's layer 0 is required" if s.kind == Kind.BASE else "a lossless stream has no droppable part"
                raise DecodeError(f"corrupted stream: substream kind {s.kind}, tile {s.tile} truncated or "
                                  f"its CRC fails ({what})")
        self.planes = planes
        #: the learned base's stream as far as its layers are complete (layer 0 always is): a prefix of it
        #: that its decoder reads as such (b"": no base)
        self.base = b"".join(self.payload(Kind.BASE, 0, k) for k in range(self._complete_base_layers()))
        if self.base_layers:
            self._check_base()

    def _complete_base_layers(self) -> int:
        """How many of the base's layers, from layer 0, are all there."""
        k = 0
        while k < self.base_layers and self.subs[(Kind.BASE, 0, k)].complete:
            k += 1
        return k

    def _check_base(self) -> None:
        """The base is the model's stream of this image (its size, channels and bit depth; orientation 1, no
        metadata; alpha coded exactly), in as many layers as the stream has base substreams, split exactly at
        its layer ends: else no encoder wrote it. Cheap: its header and table."""
        h = self.header
        base = container.read(self.base)
        if container.is_model_free(base):
            raise DecodeError("corrupted stream: the base of a progressive-to-lossless stream is not a learned stream")
        own = (base.width, base.height, base.channels, base.bit_depth, base.orientation, base.num_layers)
        want = (h.width, h.height, h.channels, h.bit_depth, 1, self.base_layers)
        kinds = {s.kind for s in base.substreams}
        if own != want or kinds & set(Kind.METADATA):
            raise DecodeError(f"corrupted stream: the base (size, channels, bit depth, orientation, layers) {own} "
                              f"does not fit its stream's {want}{', or carries metadata' if own == want else ''}")
        lengths = [self.subs[(Kind.BASE, 0, k)].length for k in range(self.base_layers)]
        if progressive.layer_ends(base) != [sum(lengths[:k + 1]) for k in range(self.base_layers)]:
            raise DecodeError("corrupted stream: the base substreams are not its layers")
        if container.has_alpha(h.channels):
            a = next((s for s in base.substreams if s.kind == Kind.ALPHA), None)
            if a is None or not a.complete:
                raise DecodeError("corrupted stream: the base has no intact alpha plane")
            #: the alpha plane's payload (the base's, coded exactly: an exact decode needs no model for it)
            self.base_alpha = self.base[a.offset:a.offset + a.length]
            if self.base_alpha[:1] != bytes([h.bit_depth]):
                raise DecodeError(f"corrupted stream: the base's alpha plane does not code all {h.bit_depth} bits")
