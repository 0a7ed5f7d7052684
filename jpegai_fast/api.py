"""The public API: encode / encode_iter / decode / decode_latent / info. Arguments are checked here;
the work is done by the encoder's and the decoder's pipelines (docs/architecture.md).

Pipeline (docs/format.md):
  encode: pixels -> g_a -> y -> h_a -> z_hat = round(z) -> [z substream]
          z_hat -> integer h_s -> (mu_hyper, log2 sigma) ; rate t -> per-channel steps
          C++ wavefront loop: q = round((y - mu) / step), mu = mu_hyper + context(y_hat) -> [y substream]
  decode: the same integer path from z_hat, y symbols decoded in parallel (parsing needs no mean),
          the wavefront loop rebuilds y_hat in Q12, g_s (torch, CPU or CUDA) gives pixels.
Every stage above runs per tile (format/tiling.py): the transforms with a halo, everything else on
the tile alone, so tiles code and decode independently and in parallel. Layers: format/progressive.py.
"""
from __future__ import annotations

from typing import Iterable, Iterator

import numpy as np

from jpegai_fast import pixels
from jpegai_fast.decoder.latent import ParsedStream
from jpegai_fast.decoder.lossless import LosslessStream
from jpegai_fast.decoder.scaled import decode_scaled, full_span, scaled_region
from jpegai_fast.decoder.synthesis import decode_pixels
from jpegai_fast.encoder import pipeline
from jpegai_fast.errors import DecodeError
from jpegai_fast.encoder.options import EncodeOptions, require_torch
from jpegai_fast.format import container, progressive, tiling
from jpegai_fast.format import lossless as lossless_format
from jpegai_fast.format import metadata as metadata_rules
from jpegai_fast.format.container import Header, Kind
from jpegai_fast.format.progressive import layer_chunks
from jpegai_fast.runtime.engine import Engine, get_engine
from jpegai_fast.runtime.execution import resolve_device, resolve_threads
from jpegai_fast.runtime.preview import SCALES


def encode(arr: np.ndarray, *, bpp: float | None = None, quality: float | None = None,
           psnr: float | None = None, size: int | None = None, bit_depth: int | None = None, threads: int | None = None, device=None,
           model: str | None = None, tile_size: int | None = None, layers: int = 1,
           effort: int | None = None, metadata: dict | None = None, alpha_bits: int | None = None,
           lossless: bool = False, max_error: int = 0) -> bytes:
    """Compress an image to bytes.

    Args:
      arr: HxW (grey), HxWx2 (grey + alpha), HxWx3 (RGB) or HxWx4 (RGBA) numpy array, uint8, or uint16
        with ``bit_depth`` 9..16. Alpha is coded losslessly by its own coder (core/alpha_coder.py).
      bpp: target bits per pixel; rate control picks the rate so the stream is within
        [0.9, 1.0] x target where the model's range allows (a warning says when it cannot).
      quality: 0..100 (maps linearly onto the model's continuous rate parameter); default encoder.options.DEFAULT_QUALITY (70).
      psnr: target PSNR-RGB in dB (one MSE over the colour samples at the image's bit depth): the lowest
        rate whose real decode reaches it, found by bisection and stopping within 0.1 dB above it. Costs
        2-13 quantise + code + decode passes (usually 5-8; ~1-2 s for a Kodak image on 2 cores).
      size: target size in bytes, as ``bpp`` (rate control, the stream stays at or below it).
        Give at most one of ``bpp``, ``quality``, ``psnr``, ``size``.
      bit_depth: bits per sample of a uint16 image (required for uint16).
      threads: CPU threads for the C++ stages (default: all cores). Output bytes never depend on it.
      device: torch device for the analysis transform ("cpu" default, or "cuda").
      model: weights profile or path (default: the shipped model).
      tile_size: tile side in latent positions (16 px each), a multiple of 4; default 64 (1024 px), and 128
        (2048 px) for lossless and near-lossless streams. Each tile is coded on its own; memory use is
        bounded by the tile size.
      layers: progressive layers, at most (1 .. 8; fewer at low rates): a coarse layer 0, then layers that
        each refine every latent value; every layer boundary is a decodable prefix (docs/format.md).
      effort: encoder effort 1..9 (default 1, the plain encoder). Higher levels spend encode time
        optimising the latent for the real decoder (encoder/effort.py): smaller streams at the same quality,
        slower encoding; the stream and its decoding are unchanged. Levels > 1 need torch autograd.
      metadata: {"icc": bytes, "exif": bytes, "xmp": bytes, "orientation": 1..8}, each optional; stored
        in CRC-protected fields (the orientation defaults to the EXIF's) and returned by
        ``decode(..., with_metadata=True)``.
      alpha_bits: code only the top bits of the alpha plane (lossy; default: lossless).
      lossless: code the image exactly (every plane by the project's lossless coder, no model; decode
        returns the input bit for bit). The rate knobs, effort and alpha_bits are then a ValueError,
        unless ``layers`` >= 2: progressive to lossless, the model's stream of ``layers - 1`` layers at the
        rate knob given (default quality 30, a preview) first, then the exact layer; every layer boundary
        is a decodable prefix and ``scale=`` decodes the preview's head (docs/format.md).
      max_error: near-lossless (N >= 1, at most 2^(bit depth - 1) - 1): the same coder, every colour sample
        decodes within +-N of the input (JPEG-LS's NEAR); the alpha plane stays exact. The same options
        as ``lossless`` are a ValueError with it.

    The options are checked by one table (encoder/options.py): numpy scalars work like Python numbers;
    bools, NaN, infinities and values outside an option's range are a ValueError naming the option.
    """
    opts = EncodeOptions.from_user(bpp=bpp, quality=quality, psnr=psnr, size=size, effort=effort, tile_size=tile_size, layers=layers,
                                   bit_depth=bit_depth, alpha_bits=alpha_bits, lossless=lossless, max_error=max_error)
    require_torch(opts.effort)
    arr, bit_depth = pixels.check_image(arr, opts.bit_depth)
    threads = resolve_threads(threads)
    if opts.model_free and model is not None:
        raise ValueError(f"{'max_error=' if opts.max_error else 'lossless=True'} uses no model: model= cannot "
                         "be given with it")
    eng = None if opts.model_free else get_engine(model)
    meta, orientation = metadata_rules.check(metadata)
    picture = pipeline.Picture(arr, bit_depth, meta, orientation)
    return pipeline.encode(eng, picture, opts, threads, resolve_device(device))


def encode_iter(arr: np.ndarray, **kwargs) -> Iterator[bytes]:
    """Like :func:`encode` (same arguments) but yields the stream layer by layer.

    The first chunk holds the header, the substream table and layer 0; each further chunk one
    layer. Every concatenation of the first k chunks is a decodable prefix. The table at the front
    lists every substream's length, so all layers are coded before the first chunk is yielded;
    the chunks then go out as the consumer asks for them.
    """
    return iter(layer_chunks(encode(arr, **kwargs)))


def decode_latent(data: bytes, *, threads: int | None = None) -> tuple[Header, Engine, np.ndarray]:
    """Parse a stream down to the reconstructed latent y_hat (float32 (M, h, w), exact Q12 values).

    Everything up to here is integer arithmetic: the result is identical on every machine, thread
    count and torch device. Only :func:`decode`'s synthesis step works in floating point. A plane tile's
    positions are 0 here (its pixels come from its planes; docs/format.md, "Plane tiles").
    """
    threads = resolve_threads(threads)
    header = container.read(data)
    if container.is_model_free(header):
        raise ValueError("a lossless stream has no latent: decode it with decode()")
    p = ParsedStream(data, header)
    return p.header, p.eng, p.latent(p.learned_tiles, threads)


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


def check_scale(scale) -> int:
    """``scale`` as an int in 1, 2, 4, 8 (decode's option; ValueError naming it otherwise)."""
    if isinstance(scale, bool) or not isinstance(scale, (int, np.integer)) or int(scale) not in (1,) + SCALES:
        raise ValueError(f"scale must be one of 1, {', '.join(map(str, SCALES))}, got {scale!r}")
    return int(scale)


def decode(data: bytes, *, device=None, threads: int | None = None, region=None, scale: int = 1,
           with_metadata: bool = False):
    """Decompress bytes from :func:`encode` to an array of the original shape, dtype and bit depth.

    ``region=(x, y, w, h)`` decodes only the tiles that region needs (plus the synthesis halo's
    neighbours) and returns that crop, equal to the same crop of the full decode.
    ``scale=2, 4 or 8`` returns a ceil(H/s) x ceil(W/s) image made from the latent by the model's small
    preview head, far cheaper than the full synthesis (docs/preview.md); its pixels approximate the
    full decode's box means (alpha: exact box means). With ``region``, the result is the scaled image's
    pixels that the full-resolution region touches (columns x // s to ceil((x + w) / s)): the same
    crop of the whole scaled decode. A model with no head decodes fully, then downscales (a warning).
    A prefix of a layered stream decodes from its complete layers (see :func:`info`); one cut
    inside a layer also warns. Raises ``jpegai_fast.DecodeError`` for any malformed, truncated
    (inside layer 0) or foreign stream.
    ``device="cuda"`` runs the synthesis transform on the GPU; the latent is bit-exact either way,
    the pixels may differ by a rounding step where float results straddle one.
    ``with_metadata=True`` returns ``(pixels, {"icc", "exif", "xmp": bytes or None, "orientation": 1..8})``.
    """
    if not isinstance(with_metadata, bool):
        raise TypeError(f"with_metadata must be a bool, got {type(with_metadata).__name__}")
    scale = check_scale(scale)
    threads = resolve_threads(threads)
    dev = resolve_device(device)
    header = container.read(data)
    rect = _check_region(region, header.width, header.height)
    if container.is_model_free(header):
        s = LosslessStream(data, header)
        if s.base_layers and (scale != 1 or not s.last_layer_complete):
            # a progressive-to-lossless stream's preview, or a prefix of one: its learned base decodes
            progressive.usable_layers(header, len(data))       # warns when the cut is inside a layer
            out = decode(s.base, device=device, threads=threads, region=region, scale=scale)
            return (out, s.metadata()) if with_metadata else out
        x, y, w, h = rect if scale == 1 else full_span(scaled_region(rect, scale), scale, header.width, header.height)
        out = s.decode(threads, (x, y, w, h))           # only the tiles the region meets
        out = out if scale == 1 else pixels.area_downscale(out, scale)
        return (out, s.metadata()) if with_metadata else out
    p = ParsedStream(data, header)
    out = decode_pixels(p, rect, dev, threads) if scale == 1 else decode_scaled(p, rect, scale, dev, threads)
    return (out, p.metadata()) if with_metadata else out


def info(data: bytes) -> dict:
    """Describe a stream without decoding it: size, channels, bit depth, model, rate, tiles, layers, substreams.

    ``layers_complete`` lists, per layer, whether all its substreams are present and intact;
    ``layer_ends`` the byte length of each decodable prefix (``decode(data[:layer_ends[k]])`` decodes
    layers 0..k without a warning). ``preview``: for a progressive-to-lossless stream, its learned base's
    ``model_id``, ``rate``, ``layers`` and ``bytes`` (None for other streams, or when its header is not there).
    ``plane_tiles``: the tiles of a learned stream that the plane coder codes (docs/format.md, "Plane tiles").
    """
    header = container.read(data)
    lh, lw = tiling.latent_shape(header.height, header.width)
    grid = tiling.TileGrid(lh, lw, header.tile_size)     # container.read checked the tile size (lossless: 0)
    return {
        "width": header.width,
        "height": header.height,
        "channels": header.channels,
        "alpha": container.has_alpha(header.channels),
        "lossless": container.is_lossless(header),
        "max_error": lossless_format.max_error(header),     # near-lossless bound (0: exact or the model's stream)
        "bit_depth": header.bit_depth,
        "model_id": header.model_id.hex(),
        "orientation": header.orientation,
        "metadata": {name: next((sub.length for sub in header.substreams if sub.kind == kind), None)
                     for kind, name in Kind.NAMES.items()},
        "rate": 0.0 if container.is_model_free(header) else header.rate_q / float(1 << container.RATE_FRAC_BITS),
        "layers": header.num_layers,
        "preview": _preview_info(data, header),
        "layers_complete": progressive.complete_layers(header),
        "layer_ends": progressive.layer_ends(header),
        "tile_size": header.tile_size,
        "tiles": grid.count,
        "plane_tiles": sorted(s.tile for s in header.substreams if s.kind == Kind.PLANE_TILE),
        "bytes": len(data),
        "bpp": 8.0 * len(data) / (header.width * header.height),
        "complete": all(s.complete for s in header.substreams),
        "substreams": [{"kind": s.kind, "tile": s.tile, "layer": s.layer, "bytes": s.length,
                        "complete": s.complete} for s in header.substreams],
    }


def _preview_info(data: bytes, header: Header) -> dict | None:
    """info()'s ``preview``: the learned base of a progressive-to-lossless stream, read from its header."""
    if not container.is_model_free(header) or header.num_layers == 1:
        return None
    base = [s for s in header.substreams if s.kind == Kind.BASE]
    if not base or not base[0].complete:
        return None
    try:
        h = container.read(data[base[0].offset:base[0].offset + sum(s.length for s in base)])
    except DecodeError:
        return None
    return {"model_id": h.model_id.hex(), "rate": h.rate_q / float(1 << container.RATE_FRAC_BITS),
            "layers": h.num_layers, "bytes": sum(s.length for s in base)}


__all__: Iterable[str] = ["encode", "encode_iter", "decode", "decode_latent", "info", "layer_chunks"]
