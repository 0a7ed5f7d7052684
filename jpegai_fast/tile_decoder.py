"""The decoder's side of the container: a validated stream and the per-tile latent decode.

Everything here is integer arithmetic (entropy decode, integer h_s, fixed-point context loop), so
the latent is identical on every machine; codec.decode adds the float synthesis.
"""
from __future__ import annotations

import numpy as np

from . import bitstream, coder, progressive, tiling
from .bitstream import Kind, Substream
from .context import GROUP
from .engine import LATENT_SCALE, get_engine
from .errors import DecodeError
from .execution import map_tiles
from .intpath import scale_indexes


#: Largest |symbol| a stream may carry. The model's latents stay far inside (|q| < 2^13 at the finest
#: step of the shipped ladder, |z| < 2^8); a larger one can only come from a hostile stream, whose
#: reconstruction would overflow the synthesis into a saturated image, so it is a DecodeError.
MAX_Y_SYMBOL = 1 << 20
MAX_Z_SYMBOL = 1 << 15


def _check_range(symbols: np.ndarray, limit: int, what: str, tile: int) -> None:
    if symbols.size and max(-int(symbols.min()), int(symbols.max())) > limit:   # no temporary copy
        raise DecodeError(f"corrupted stream (tile {tile}): {what} symbol beyond +-{limit}, which no encoder makes")


def canonical_order(count: int, layers: int, metadata: tuple[int, ...] = ()) -> list[tuple[int, int, int]]:
    """The (kind, tile, layer) order the substream table must follow (docs/format.md): the metadata
    substreams present (ICC, EXIF, XMP, in that order), then z and y of every tile, then later layers."""
    keys = [(kind, 0, 0) for kind in metadata]    # metadata kinds, then alpha when present
    for i in range(count):
        keys += [(Kind.Z, i, 0), (Kind.Y, i, 0)]
    for layer in range(1, layers):
        keys += [(Kind.Y, i, layer) for i in range(count)]
    return keys


class ParsedStream:
    """A validated stream: header, engine, tile grid, the substreams of each tile, usable layers."""

    def __init__(self, data: bytes):
        self.header = h = bitstream.read(data)
        self.data = bytes(data)
        self.eng = eng = get_engine(model_id=h.model_id)
        if h.rate_q > eng.rate_q_max:
            raise DecodeError(f"rate parameter {h.rate_q / 256:.2f} outside the model's range")
        lh, lw = eng.latent_shape(h.height, h.width)
        if h.tile_size and (h.tile_size % 4 or h.tile_size >= max(lh, lw) or h.tile_size > bitstream.MAX_TILE):
            raise DecodeError(f"corrupted stream: tile size {h.tile_size} for a {lh}x{lw} latent")
        if not h.tile_size and max(lh, lw) > bitstream.MAX_TILE:
            raise DecodeError(f"corrupted stream: a single tile of {lh}x{lw} latent positions (at most "
                              f"{bitstream.MAX_TILE} per side)")
        self.grid = tiling.TileGrid(lh, lw, h.tile_size)
        if h.num_layers > 1 and (len(h.group_order) != eng.M // GROUP or h.num_layers > eng.M // GROUP):
            raise DecodeError(f"corrupted stream: {len(h.group_order)} context groups / {h.num_layers} "
                              f"layers for a model with {eng.M // GROUP} groups")
        expected = self.grid.count * (1 + h.num_layers) + len(Kind.METADATA) + 1
        if len(h.substreams) > expected:
            raise DecodeError(f"corrupted stream: {len(h.substreams)} substreams for {self.grid.count} tiles "
                              f"x {h.num_layers} layers (duplicate substreams?)")
        self.subs: dict[tuple[int, int, int], Substream] = {}
        for s in h.substreams:
            if s.tile >= self.grid.count:
                raise DecodeError(f"corrupted stream: tile index {s.tile} out of range ({self.grid.count} tiles)")
            key = (s.kind, s.tile, s.layer)
            if key in self.subs:
                raise DecodeError(f"corrupted stream: duplicate substream (kind {s.kind}, tile {s.tile}, "
                                  f"layer {s.layer})")
            self.subs[key] = s
        meta = tuple(k for k in Kind.METADATA if (k, 0, 0) in self.subs)
        if bitstream.has_alpha(h.channels):
            meta += (Kind.ALPHA,)
        if [(s.kind, s.tile, s.layer) for s in h.substreams] != canonical_order(self.grid.count, h.num_layers, meta):
            raise DecodeError("corrupted stream: substreams missing or not in the canonical order "
                              "(docs/format.md)")
        self.layers = progressive.usable_layers(h, len(self.data))
        self.chans = [np.arange(eng.M)] if h.num_layers == 1 else \
            progressive.layer_channels(h.group_order, h.num_layers)

    def alpha(self) -> np.ndarray | None:
        """The alpha plane (H, W) of the image, or None when it has none."""
        if not bitstream.has_alpha(self.header.channels):
            return None
        from . import alpha
        try:
            return alpha.decode(self.payload(Kind.ALPHA, 0, 0), self.header.height, self.header.width,
                                self.header.bit_depth)
        except ValueError as e:
            raise DecodeError(f"corrupted stream: {e}") from e

    def metadata(self) -> dict:
        """{"icc", "exif", "xmp"}: the bytes of each metadata substream present (else None), and "orientation"."""
        out = {name: (self.payload(kind, 0, 0) if (kind, 0, 0) in self.subs else None)
               for kind, name in Kind.NAMES.items()}
        out["orientation"] = self.header.orientation
        return out

    def payload(self, kind: int, tile: int, layer: int) -> bytes:
        s = self.subs[(kind, tile, layer)]
        return self.data[s.offset:s.offset + s.length]

    def decode_tile(self, i: int, threads: int) -> np.ndarray:
        """y_hat of tile ``i`` (M, th, tw) float32 (exact Q12 values), from that tile's substreams only."""
        eng, h = self.eng, self.header
        y0, y1, x0, x1 = self.grid.rect(i)
        log2_step, step = eng.steps(h.rate_q)
        try:
            z_hat = eng.decode_z(self.payload(Kind.Z, i, 0), y1 - y0, x1 - x0, threads)
            mu_q, log2sigma_q = eng.hyper(z_hat, threads)
            idx = scale_indexes(log2sigma_q, log2_step)
            _check_range(z_hat, MAX_Z_SYMBOL, "hyper-latent", i)
            if h.num_layers == 1:
                q = coder.decode_gaussian(self.payload(Kind.Y, i, 0), idx, threads=threads)
            else:
                q = np.zeros(idx.shape, np.int32)    # missing layers: symbol 0, y_hat = predicted mean
                for layer in self.layers:
                    c = self.chans[layer]
                    q[c] = coder.decode_gaussian(self.payload(Kind.Y, i, layer), idx[c], threads=threads)
            _check_range(q, MAX_Y_SYMBOL, "latent", i)
            y_hat_q = eng.ctx.reconstruct(q, mu_q, step, threads=threads)
        except ValueError as e:
            if isinstance(e, DecodeError):
                raise
            raise DecodeError(f"corrupted stream (tile {i}): {e}") from e
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
