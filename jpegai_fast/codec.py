"""encode / decode / info: the model, the integer path, the context loop and the coder put together.

Pipeline (docs/format.md):
  encode: pixels -> g_a -> y -> h_a -> z_hat = round(z) -> [z substream]
          z_hat -> integer h_s -> (mu_hyper, log2 sigma) ; rate t -> per-channel steps
          C++ wavefront loop: q = round((y - mu) / step), mu = mu_hyper + context(y_hat) -> [y substream]
  decode: the same integer path from z_hat, y symbols decoded in parallel (parsing needs no mean),
          the wavefront loop rebuilds y_hat in Q12, g_s (torch, CPU or CUDA) gives pixels.
Every stage above runs per tile (tiling.py): the transforms with a halo, everything else on the
tile alone, so tiles code and decode independently and in parallel. Layers: progressive.py.
"""
from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from typing import Callable, Iterable, Iterator

import numpy as np
import torch

from . import bitstream, coder, pixels, progressive, tiling
from .bitstream import Header, Kind, Substream
from .context import GROUP
from .engine import LATENT_SCALE, Engine, get_engine
from .errors import DecodeError
from .intpath import scale_indexes
from .rate import quality_to_rate_q, search_rate

DEFAULT_QUALITY = 50.0


def _threads(threads: int | None) -> int:
    if threads is None:
        return max(1, os.cpu_count() or 1)
    if not isinstance(threads, int) or threads < 1:
        raise ValueError(f"threads must be a positive int, got {threads!r}")
    return threads


def _device(device) -> torch.device:
    dev = torch.device(device) if device is not None else torch.device("cpu")
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise ValueError("device='cuda' requested but CUDA is not available")
    return dev


def _map(fn: Callable, items: list, threads: int) -> list:
    """fn(item, inner_threads) for every item: tiles in parallel when there are several.

    The C++ stages release the GIL; results never depend on how the work was split.
    """
    if threads > 1 and len(items) > 1:
        with ThreadPoolExecutor(max_workers=min(threads, len(items))) as pool:
            return list(pool.map(lambda it: fn(it, 1), items))
    return [fn(it, threads) for it in items]


class _TileAnalysis:
    """One tile's encoder state.

    With rate control: what does not depend on the rate (y, z bytes, hyper outputs), so each
    rate probe only re-quantises. At a fixed rate the tile is quantised (and, with one layer,
    entropy-coded) as soon as it is analysed and only the symbols (or bytes) are kept.
    """

    def __init__(self, z_bytes: bytes, y=None, mu_q=None, log2sigma_q=None, q=None, idx=None, y_bytes=None):
        self.z_bytes, self.y, self.mu_q, self.log2sigma_q = z_bytes, y, mu_q, log2sigma_q
        self.q, self.idx, self.y_bytes = q, idx, y_bytes


class _Analysed:
    """Everything the encoder computes once, before (or, at a fixed rate, with) the rate parameter."""

    def __init__(self, eng: Engine, arr: np.ndarray, bit_depth: int, tile_size: int, threads: int, device,
                 fixed_rate: int | None = None, layers: int = 1):
        self.height, self.width = arr.shape[:2]
        self.channels = 1 if arr.ndim == 2 else 3
        self.bit_depth = bit_depth
        self.fixed_rate = fixed_rate
        self.grid = tiling.make_grid(*eng.latent_shape(self.height, self.width), tile_size)
        g_a = eng.transform("g_a", device, threads)
        self.tiles = []
        for i in range(self.grid.count):   # one tile at a time: memory is bounded by the tile size
            y = tiling.analyse_tile(g_a, arr, bit_depth, self.grid, i, eng.analysis_halo, device)
            z_hat = eng.hyper_analyse(y, device)
            mu_q, log2sigma_q = eng.hyper(z_hat, threads)
            t = _TileAnalysis(eng.encode_z(z_hat, threads), y, mu_q, log2sigma_q)
            if fixed_rate is not None:
                t.q, t.idx = self._quantise(eng, t, fixed_rate, threads)
                if layers == 1:
                    t.y_bytes, t.q, t.idx = coder.encode_gaussian(t.q, t.idx, threads=threads), None, None
                t.y = t.mu_q = t.log2sigma_q = None
            self.tiles.append(t)

    @staticmethod
    def _quantise(eng: Engine, t: _TileAnalysis, rate_q: int, threads: int) -> tuple[np.ndarray, np.ndarray]:
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

    def stream(self, eng: Engine, rate_q: int, layers: int, threads: int) -> bytes:
        """The complete stream at rate ``rate_q`` (quantise + entropy-code every tile)."""
        if self.fixed_rate is not None and rate_q != self.fixed_rate:
            raise ValueError("this analysis was quantised at a fixed rate")
        _, step = eng.steps(rate_q)

        def quantise(t: _TileAnalysis, inner: int):
            if t.y_bytes is not None or t.q is not None:
                return t.q, t.idx
            return self._quantise(eng, t, rate_q, inner)

        coded = _map(quantise, self.tiles, threads)
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
                return [coder.encode_gaussian(q, idx, threads=inner)]
            return [coder.encode_gaussian(q[c], idx[c], threads=inner) for c in chans]

        y_bytes = _map(code, list(range(len(self.tiles))), threads)
        subs, payloads = [], []
        for i, t in enumerate(self.tiles):          # layer 0: z then y of every tile
            subs += [Substream(Kind.Z, i, 0, 0, 0), Substream(Kind.Y, i, 0, 0, 0)]
            payloads += [t.z_bytes, y_bytes[i][0]]
        for layer in range(1, layers):               # then each further layer, tile by tile
            for i in range(self.grid.count):
                subs.append(Substream(Kind.Y, i, layer, 0, 0))
                payloads.append(y_bytes[i][layer])
        header = Header(self.width, self.height, self.channels, self.bit_depth, eng.model_id, rate_q,
                        tile_size=self.grid.size, num_layers=layers, substreams=subs, group_order=order)
        return bitstream.write(header, payloads)


def encode(arr: np.ndarray, *, bpp: float | None = None, quality: float | None = None,
           bit_depth: int | None = None, threads: int | None = None, device=None,
           model: str | None = None, tile_size: int | None = None, layers: int = 1) -> bytes:
    """Compress an image to bytes.

    Args:
      arr: HxW (grey) or HxWx3 (RGB) numpy array, uint8, or uint16 with ``bit_depth`` 9..16.
      bpp: target bits per pixel; rate control picks the rate so the stream is within
        [0.9, 1.0] x target where the model's range allows (a warning says when it cannot).
      quality: 0..100 (maps linearly onto the model's continuous rate parameter); default 50.
        Give ``bpp`` or ``quality``, not both.
      bit_depth: bits per sample of a uint16 image (required for uint16).
      threads: CPU threads for the C++ stages (default: all cores). Output bytes never depend on it.
      device: torch device for the analysis transform ("cpu" default, or "cuda").
      model: weights profile or path (default: the shipped model).
      tile_size: tile side in latent positions (16 px each), a multiple of 4; default 64 (1024 px).
        Each tile is coded on its own; memory use is bounded by the tile size.
      layers: progressive layers (1 .. M/16): the latent's context groups split into that many
        layers, most important first; every layer boundary is a decodable prefix.
    """
    if bpp is not None and quality is not None:
        raise ValueError("give bpp= or quality=, not both")
    arr, bit_depth = pixels.check_image(arr, bit_depth)
    threads = _threads(threads)
    tile_size = tiling.check_tile_size(tile_size)
    eng = get_engine(model)
    layers = progressive.check_layers(layers, eng.M)
    if bpp is not None and (not isinstance(bpp, (int, float)) or not np.isfinite(bpp) or bpp <= 0):
        raise ValueError(f"bpp must be a positive number, got {bpp!r}")
    if bpp is None:
        rate_q = quality_to_rate_q(DEFAULT_QUALITY if quality is None else quality, eng.num_rate_points)
    an = _Analysed(eng, arr, bit_depth, tile_size, threads, _device(device),
                   fixed_rate=rate_q if bpp is None else None, layers=layers)

    def at_rate(rq: int) -> bytes:
        return an.stream(eng, rq, layers, threads)

    if bpp is None:
        return at_rate(rate_q)
    target_bytes = bpp * an.width * an.height / 8.0
    return search_rate(at_rate, target_bytes, eng.rate_q_max).data


def layer_chunks(data: bytes) -> list[bytes]:
    """Split a complete stream at its layer boundaries: [header + table + layer 0, layer 1, ...]."""
    header = bitstream.read(data)
    ends = [0] * header.num_layers
    for s in header.substreams:
        ends[s.layer] = max(ends[s.layer], s.offset + s.length)
    for layer in range(1, header.num_layers):
        ends[layer] = max(ends[layer], ends[layer - 1])
    starts = [0] + ends[:-1]
    return [bytes(data[a:b]) for a, b in zip(starts, ends)]


def encode_iter(arr: np.ndarray, **kwargs) -> Iterator[bytes]:
    """Like :func:`encode` (same arguments) but yields the stream layer by layer.

    The first chunk holds the header, the substream table and layer 0; each further chunk one
    layer. Every concatenation of the first k chunks is a decodable prefix. The table at the front
    lists every substream's length, so all layers are coded before the first chunk is yielded;
    the chunks then go out as the consumer asks for them.
    """
    return iter(layer_chunks(encode(arr, **kwargs)))


# --- decoding --------------------------------------------------------------------------------------

def _canonical(count: int, layers: int) -> list[tuple[int, int, int]]:
    keys = []
    for i in range(count):
        keys += [(Kind.Z, i, 0), (Kind.Y, i, 0)]
    for layer in range(1, layers):
        keys += [(Kind.Y, i, layer) for i in range(count)]
    return keys


class _Parsed:
    """A validated stream: header, engine, tile grid, the substreams of each tile, usable layers."""

    def __init__(self, data: bytes):
        self.header = h = bitstream.read(data)
        self.data = bytes(data)
        self.eng = eng = get_engine(model_id=h.model_id)
        if h.rate_q > eng.rate_q_max:
            raise DecodeError(f"rate parameter {h.rate_q / 256:.2f} outside the model's range")
        lh, lw = eng.latent_shape(h.height, h.width)
        if h.tile_size and (h.tile_size % 4 or h.tile_size >= max(lh, lw)):
            raise DecodeError(f"corrupted stream: tile size {h.tile_size} for a {lh}x{lw} latent")
        self.grid = tiling.TileGrid(lh, lw, h.tile_size)
        if h.num_layers > 1 and (len(h.group_order) != eng.M // GROUP or h.num_layers > eng.M // GROUP):
            raise DecodeError(f"corrupted stream: {len(h.group_order)} context groups / {h.num_layers} "
                              f"layers for a model with {eng.M // GROUP} groups")
        expected = self.grid.count * (1 + h.num_layers)
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
        if [(s.kind, s.tile, s.layer) for s in h.substreams] != _canonical(self.grid.count, h.num_layers):
            raise DecodeError("corrupted stream: substreams missing or not in the canonical order "
                              "(docs/format.md)")
        self.layers = progressive.usable_layers(h, len(self.data))
        self.chans = [np.arange(eng.M)] if h.num_layers == 1 else \
            progressive.layer_channels(h.group_order, h.num_layers)

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
            if h.num_layers == 1:
                q = coder.decode_gaussian(self.payload(Kind.Y, i, 0), idx, threads=threads)
            else:
                q = np.zeros(idx.shape, np.int32)    # missing layers: symbol 0, y_hat = predicted mean
                for layer in self.layers:
                    c = self.chans[layer]
                    q[c] = coder.decode_gaussian(self.payload(Kind.Y, i, layer), idx[c], threads=threads)
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

        _map(one, tiles, threads)
        return y_hat


def decode_latent(data: bytes, *, threads: int | None = None) -> tuple[Header, Engine, np.ndarray]:
    """Parse a stream down to the reconstructed latent y_hat (float32 (M, h, w), exact Q12 values).

    Everything up to here is integer arithmetic: the result is identical on every machine, thread
    count and torch device. Only :func:`decode`'s synthesis step works in floating point.
    """
    threads = _threads(threads)
    p = _Parsed(data)
    return p.header, p.eng, p.latent(list(range(p.grid.count)), threads)


def _check_region(region, width: int, height: int) -> tuple[int, int, int, int]:
    if region is None:
        return 0, 0, width, height
    if not isinstance(region, (tuple, list)) or len(region) != 4 or \
            not all(isinstance(v, (int, np.integer)) and not isinstance(v, bool) for v in region):
        raise ValueError(f"region must be a tuple of 4 ints (x, y, w, h), got {region!r}")
    x, y, w, h = (int(v) for v in region)
    if w < 1 or h < 1 or x < 0 or y < 0 or x + w > width or y + h > height:
        raise ValueError(f"region {region} is empty or outside the {width}x{height} image")
    return x, y, w, h


def decode(data: bytes, *, device=None, threads: int | None = None, region=None) -> np.ndarray:
    """Decompress bytes from :func:`encode` to an array of the original shape, dtype and bit depth.

    ``region=(x, y, w, h)`` decodes only the tiles that region needs (plus the synthesis halo's
    neighbours) and returns that crop, equal to the same crop of the full decode.
    A prefix of a layered stream decodes from its complete layers (see :func:`info`); one cut
    inside a layer also warns. Raises ``jpegai_fast.DecodeError`` for any malformed, truncated
    (inside layer 0) or foreign stream.
    ``device="cuda"`` runs the synthesis transform on the GPU; the latent is bit-exact either way,
    the pixels may differ by a rounding step where float results straddle one.
    """
    threads = _threads(threads)
    dev = _device(device)
    p = _Parsed(data)
    h, g, halo = p.header, p.grid, p.eng.synthesis_halo
    rx, ry, rw, rh = _check_region(region, h.width, h.height)
    px = tiling.LATENT_PX
    latent_rect = (ry // px, -(-(ry + rh) // px), rx // px, -(-(rx + rw) // px))
    cores = tiling.synthesis_cores(g, latent_rect)
    needed = sorted({i for c in cores for i in g.covering(*tiling.expand(c, halo, g.lh, g.lw))})
    y_hat = p.latent(needed, threads)
    out = np.empty((rh, rw) if h.channels == 1 else (rh, rw, 3), np.uint8 if h.bit_depth == 8 else np.uint16)
    g_s = p.eng.transform("g_s", dev, threads)
    for core in cores:
        tiling.synthesise_into(g_s, y_hat, core, halo, out, (rx, ry, rw, rh), h.channels, h.bit_depth, dev)
    return out


def info(data: bytes) -> dict:
    """Describe a stream without decoding it: size, channels, bit depth, model, rate, tiles, layers, substreams.

    ``layers_complete`` lists, per layer, whether all its substreams are present and intact.
    """
    header = bitstream.read(data)
    lh, lw = -(-header.height // 64) * 4, -(-header.width // 64) * 4
    grid = tiling.TileGrid(lh, lw, header.tile_size) if header.tile_size % 4 == 0 else None
    return {
        "width": header.width,
        "height": header.height,
        "channels": header.channels,
        "bit_depth": header.bit_depth,
        "model_id": header.model_id.hex(),
        "rate": header.rate_q / 256.0,
        "layers": header.num_layers,
        "layers_complete": progressive.complete_layers(header),
        "tile_size": header.tile_size,
        "tiles": grid.count if grid else None,
        "bytes": len(data),
        "bpp": 8.0 * len(data) / (header.width * header.height),
        "complete": all(s.complete for s in header.substreams),
        "substreams": [{"kind": s.kind, "tile": s.tile, "layer": s.layer, "bytes": s.length,
                        "complete": s.complete} for s in header.substreams],
    }


__all__: Iterable[str] = ["encode", "encode_iter", "decode", "decode_latent", "info", "layer_chunks"]
