"""The whole-stream rules (docs/format.md, "Stream layout"): which substreams a stream has, in
which order, and the cheap checks of a stream done before any expensive stage.

A stream's structure depends on the model only through three numbers (its latent channels M, its
largest rate parameter, and the latent geometry every model shares), so the rules live here,
torch-free and model-free; the decoder passes those numbers in (decoder/latent.py).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from jpegai_fast.errors import DecodeError
from jpegai_fast.format import container, plane_tiles, progressive
from jpegai_fast.format.container import Header, Kind, Substream
from jpegai_fast.format.tiling import TileGrid, latent_shape

#: Largest |symbol| a stream may carry, whatever the model: the model's latents stay far inside (|q| < 2^13
#: at the finest step of the shipped ladder, |z| < 2^8). The bound keeps the integer stages' arithmetic
#: small; the model-specific bound on the reconstructed latent, which keeps the float synthesis within
#: what the model can produce, is decoder/latent.py's check_latent_range.
MAX_Y_SYMBOL = 1 << 20
MAX_Z_SYMBOL = 1 << 15


def check_symbol_range(symbols: np.ndarray, limit: int, what: str, tile: int) -> None:
    """DecodeError when a decoded symbol lies beyond +-limit (min/max: no temporary copy)."""
    if symbols.size and max(-int(symbols.min()), int(symbols.max())) > limit:
        raise DecodeError(f"corrupted stream (tile {tile}): {what} symbol beyond +-{limit}, which no encoder makes")


def canonical_order(count: int, layers: int, metadata: tuple[int, ...] = (), plane_tiles: dict[int, bool] | None = None,
                    planes: int = 3) -> list[tuple[int, int, int]]:
    """The (kind, tile, layer) order the substream table must follow: the metadata substreams present
    (ICC, EXIF, XMP, in that order, then alpha when the image has it), then z and y of every tile (a plane
    tile i, a key of ``plane_tiles`` whose value says whether it has a copy map: its descriptor, copy map and
    ``planes`` colour planes, tile field i x planes + p), then each later layer's y, tile by tile. The writer
    emits this order and the reader insists on it."""
    keys = [(kind, 0, 0) for kind in metadata]
    plane_tiles = plane_tiles or {}
    for i in range(count):
        if i in plane_tiles:
            keys += [(Kind.PLANE_TILE, i, 0)] + [(Kind.COPY_MAP, i, 0)] * plane_tiles[i]
            keys += [(Kind.PLANE, i * planes + p, 0) for p in range(planes)]
        else:
            keys += [(Kind.Z, i, 0), (Kind.Y, i, 0)]
    for layer in range(1, layers):
        keys += [(Kind.Y, i, layer) for i in range(count)]
    return keys


def side_kinds(present, has_alpha: bool) -> tuple[int, ...]:
    """The kinds of the substreams before the tiles (``present``: the metadata kinds there), in their
    canonical order: ICC, EXIF, XMP, then alpha."""
    return tuple(k for k in Kind.METADATA if k in present) + ((Kind.ALPHA,) if has_alpha else ())


def assemble(header: Header, side: dict[int, bytes], z: list[bytes], y: list[list[bytes]],
             plane_tiles: dict | None = None) -> bytes:
    """Write a stream: ``side`` {kind: payload} for metadata/alpha, per tile its z bytes and its y
    bytes per layer, or (``plane_tiles`` {tile: format/plane_tiles.PlaneTile}, one layer only) its planes.
    The substream table follows canonical_order."""
    plane_tiles = plane_tiles or {}
    planes = container.colour_channels(header.channels)
    if plane_tiles and header.num_layers != 1:
        raise ValueError("plane tiles are for single-layer streams")
    subs, payloads = [], []
    order = canonical_order(len(z), header.num_layers, side_kinds(side, Kind.ALPHA in side),
                            {i: bool(t.copy_map) for i, t in plane_tiles.items()}, planes)
    for kind, tile, layer in order:
        subs.append(Substream(kind, tile, layer, 0, 0))
        if kind == Kind.Z:
            payloads.append(z[tile])
        elif kind == Kind.Y:
            payloads.append(y[tile][layer])
        elif kind == Kind.PLANE_TILE:
            payloads.append(plane_tiles[tile].descriptor())
        elif kind == Kind.COPY_MAP:
            payloads.append(plane_tiles[tile].copy_map)
        elif kind == Kind.PLANE:
            payloads.append(plane_tiles[tile // planes].planes[tile % planes])
        else:
            payloads.append(side[kind])
    header.substreams = subs
    return container.write(header, payloads)


@dataclass(frozen=True)
class ModelShape:
    """What the stream rules need to know of a model: latent channels and its largest rate."""

    M: int
    rate_q_max: int


class Substreams:
    """A parsed stream's substreams by (kind, tile, layer), for lossy (StreamLayout) and lossless
    (format/lossless.py) streams alike; the subclasses check the rules."""

    def __init__(self, data: bytes, header: Header):
        self.header = header
        self.data = bytes(data)
        self.subs: dict[tuple[int, int, int], Substream] = {(s.kind, s.tile, s.layer): s for s in header.substreams}

    def has(self, kind: int, tile: int = 0, layer: int = 0) -> bool:
        return (kind, tile, layer) in self.subs

    def payload(self, kind: int, tile: int = 0, layer: int = 0) -> bytes:
        s = self.subs[(kind, tile, layer)]
        return self.data[s.offset:s.offset + s.length]

    def metadata(self) -> dict:
        """{"icc", "exif", "xmp"}: the bytes of each metadata substream present (else None), and "orientation"."""
        out = {name: (self.payload(kind) if self.has(kind) else None) for kind, name in Kind.NAMES.items()}
        out["orientation"] = self.header.orientation
        return out


class StreamLayout(Substreams):
    """A stream checked against every structural rule: header, tile grid, the substreams by
    (kind, tile, layer) and the usable layers. Cheap (no entropy decoding):
    it runs before any expensive stage, so a hostile stream costs nothing beyond its parse."""

    def __init__(self, data: bytes, shape: ModelShape, header: Header | None = None):
        h = container.read(data) if header is None else header
        super().__init__(data, h)
        if h.rate_q > shape.rate_q_max:
            raise DecodeError(f"rate parameter {h.rate_q / (1 << container.RATE_FRAC_BITS):.2f} outside the model's range")
        self.grid = TileGrid(*latent_shape(h.height, h.width), h.tile_size)   # tile size checked by container.read
        # container.read bounded the table's length by the tile grid (max_substreams) before parsing it
        tiles = self.grid.count
        planes = container.colour_channels(h.channels)
        seen = set()
        for s in h.substreams:
            if s.tile >= tiles * (planes if s.kind == Kind.PLANE else 1):
                raise DecodeError(f"corrupted stream: tile index {s.tile} out of range ({tiles} tiles)")
            key = (s.kind, s.tile, s.layer)
            if key in seen:
                raise DecodeError(f"corrupted stream: duplicate substream (kind {s.kind}, tile {s.tile}, "
                                  f"layer {s.layer})")
            seen.add(key)
        meta = side_kinds({k for k, _, _ in self.subs}, container.has_alpha(h.channels))
        marked = {t: (Kind.COPY_MAP, t, 0) in self.subs for k, t, _ in self.subs if k == Kind.PLANE_TILE}
        if marked and h.num_layers != 1:
            raise DecodeError(f"corrupted stream: plane tiles in a stream of {h.num_layers} layers (one only)")
        order = canonical_order(self.grid.count, h.num_layers, meta, marked, planes)
        if [(s.kind, s.tile, s.layer) for s in h.substreams] != order:
            raise DecodeError("corrupted stream: substreams missing or not in the canonical order "
                              "(docs/format.md)")
        self.layers = progressive.usable_layers(h, len(self.data))
        #: the plane tiles (format/plane_tiles.py): {tile: (colour transform, bound)}, each descriptor checked
        self.plane_tiles = {t: plane_tiles.read_descriptor(self.payload(Kind.PLANE_TILE, t), planes, h.bit_depth, t)
                            for t in sorted(marked)}
        #: the learned tiles, in raster order
        self.learned_tiles = [i for i in range(tiles) if i not in self.plane_tiles]

