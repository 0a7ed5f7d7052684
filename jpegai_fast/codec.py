"""encode / decode / info: the model, the integer path, the context loop and the coder put together.

Pipeline (docs/format.md):
  encode: pixels -> g_a -> y -> h_a -> z_hat = round(z) -> [z substream]
          z_hat -> integer h_s -> (mu_hyper, log2 sigma) ; rate t -> per-channel steps
          C++ wavefront loop: q = round((y - mu) / step), mu = mu_hyper + context(y_hat) -> [y substream]
  decode: the same integer path from z_hat, y symbols decoded in parallel (parsing needs no mean),
          the wavefront loop rebuilds y_hat in Q12, g_s (torch, CPU or CUDA) gives pixels.
"""
from __future__ import annotations

import os
from typing import Iterable

import numpy as np
import torch

from . import bitstream, pixels
from .bitstream import Header, Kind, Substream
from .engine import Engine, get_engine
from .errors import DecodeError
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


class _Analysed:
    """Everything the encoder computes once, before the rate parameter is chosen."""

    def __init__(self, eng: Engine, arr: np.ndarray, bit_depth: int, threads: int, device):
        self.height, self.width = arr.shape[:2]
        self.channels = 1 if arr.ndim == 2 else 3
        self.bit_depth = bit_depth
        x = pixels.pad_to_multiple(pixels.to_model_input(arr, bit_depth), eng.downsampling)
        self.y, z = eng.analyse(x, device)
        self.z_hat = np.rint(z).astype(np.int32)
        self.z_bytes = eng.encode_z(self.z_hat, threads)
        self.mu_q, self.log2sigma_q = eng.hyper(self.z_hat, threads)

    def header(self, eng: Engine, rate_q: int) -> Header:
        return Header(self.width, self.height, self.channels, self.bit_depth, eng.model_id, rate_q,
                      substreams=[Substream(Kind.Z, 0, 0, 0, 0), Substream(Kind.Y, 0, 0, 0, 0)])


def encode(arr: np.ndarray, *, bpp: float | None = None, quality: float | None = None,
           bit_depth: int | None = None, threads: int | None = None, device=None,
           model: str | None = None) -> bytes:
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
    """
    if bpp is not None and quality is not None:
        raise ValueError("give bpp= or quality=, not both")
    arr, bit_depth = pixels.check_image(arr, bit_depth)
    threads = _threads(threads)
    eng = get_engine(model)
    an = _Analysed(eng, arr, bit_depth, threads, _device(device))

    def at_rate(rate_q: int) -> bytes:
        y_bytes = eng.encode_y(an.y, an.mu_q, an.log2sigma_q, rate_q, threads)
        return bitstream.write(an.header(eng, rate_q), [an.z_bytes, y_bytes])

    if bpp is None:
        q = DEFAULT_QUALITY if quality is None else quality
        return at_rate(quality_to_rate_q(q, eng.num_rate_points))
    if not isinstance(bpp, (int, float)) or not np.isfinite(bpp) or bpp <= 0:
        raise ValueError(f"bpp must be a positive number, got {bpp!r}")
    target_bytes = bpp * an.width * an.height / 8.0
    return search_rate(at_rate, target_bytes, eng.rate_q_max).data


def _substream(header: Header, data: bytes, kind: int) -> bytes:
    found = [s for s in header.substreams if s.kind == kind]
    if len(found) != 1:
        raise DecodeError(f"stream has {len(found)} substreams of kind {kind}, expected 1")
    s = found[0]
    if not s.complete:
        raise DecodeError(f"substream of kind {kind} is truncated or corrupted (CRC mismatch)")
    return data[s.offset:s.offset + s.length]


def decode_latent(data: bytes, *, threads: int | None = None) -> tuple[Header, Engine, np.ndarray]:
    """Parse a stream down to the reconstructed latent y_hat (float32 (M, h, w), exact Q12 values).

    Everything up to here is integer arithmetic: the result is identical on every machine, thread
    count and torch device. Only :func:`decode`'s synthesis step works in floating point.
    """
    threads = _threads(threads)
    header = bitstream.read(data)
    data = bytes(data)
    eng = get_engine(model_id=header.model_id)
    if header.rate_q > eng.rate_q_max:
        raise DecodeError(f"rate parameter {header.rate_q / 256:.2f} outside the model's range")
    lh, lw = eng.latent_shape(header.height, header.width)
    try:
        z_hat = eng.decode_z(_substream(header, data, Kind.Z), lh, lw, threads)
        mu_q, log2sigma_q = eng.hyper(z_hat, threads)
        y_hat = eng.decode_y(_substream(header, data, Kind.Y), mu_q, log2sigma_q, header.rate_q, threads)
    except ValueError as e:
        if isinstance(e, DecodeError):
            raise
        raise DecodeError(f"corrupted stream: {e}") from e
    return header, eng, y_hat


def decode(data: bytes, *, device=None, threads: int | None = None) -> np.ndarray:
    """Decompress bytes from :func:`encode` to an array of the original shape, dtype and bit depth.

    Raises ``jpegai_fast.DecodeError`` for any malformed, truncated or foreign stream.
    ``device="cuda"`` runs the synthesis transform on the GPU; the latent is bit-exact either way,
    the pixels may differ by a rounding step where float results straddle one.
    """
    header, eng, y_hat = decode_latent(data, threads=threads)
    x = eng.synthesise(y_hat, _device(device))
    x = x[:, :header.height, :header.width]
    return pixels.from_model_output(x, header.channels, header.bit_depth)


def info(data: bytes) -> dict:
    """Describe a stream without decoding it: size, channels, bit depth, model, rate, substreams."""
    header = bitstream.read(data)
    return {
        "width": header.width,
        "height": header.height,
        "channels": header.channels,
        "bit_depth": header.bit_depth,
        "model_id": header.model_id.hex(),
        "rate": header.rate_q / 256.0,
        "layers": header.num_layers,
        "tile_size": header.tile_size,
        "bytes": len(data),
        "bpp": 8.0 * len(data) / (header.width * header.height),
        "complete": all(s.complete for s in header.substreams),
        "substreams": [{"kind": s.kind, "tile": s.tile, "layer": s.layer, "bytes": s.length,
                        "complete": s.complete} for s in header.substreams],
    }


__all__: Iterable[str] = ["encode", "decode", "decode_latent", "info"]
