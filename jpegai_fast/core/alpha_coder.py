"""Alpha planes: coded losslessly by the C++ alpha coder (csrc/alpha), in their own substream.

The model codes colour only; an RGBA or grey+alpha image's alpha plane goes to a predictor +
context-model coder on the rANS core (median edge predictor, activity contexts; alpha_coder.h).
Lossless by default; ``alpha_bits=k`` keeps only the top k bits (a lossy mode: the decoder scales the
plane back to the image's bit depth by bit replication, so 255 stays 255).
"""
from __future__ import annotations

import numpy as np

from jpegai_fast import _core
from jpegai_fast.errors import DecodeError
from jpegai_fast.core.samples import replicate_bits


def encode(plane: np.ndarray, bit_depth: int, bits: int, copy_map: bytes = b"", near: int = 0) -> bytes:
    """(h, w) uint8/uint16 samples of ``bit_depth`` bits -> payload, keeping the top ``bits`` bits; the
    pixels a lossless stream's ``copy_map`` (core/copy_map.py) covers are left out. ``near`` >= 1: every
    decoded sample within +-near of the source (near-lossless; the caller stores ``near``; a copy repeats
    its source's reconstruction)."""
    a = np.ascontiguousarray(plane, dtype=np.uint16)
    if bits < bit_depth:
        a = a >> (bit_depth - bits)
    return _core.alpha_encode(a, bits, copy_map, near)


def encode_near(plane: np.ndarray, bits: int, near: int, copy_map: bytes = b"") -> tuple[bytes, np.ndarray]:
    """Near-lossless (``near`` >= 1) payload of (h, w) samples of ``bits`` bits, and the (h, w) uint16 samples
    its decoder will reconstruct (what other planes may be coded against); the pixels ``copy_map`` covers
    repeat their source's reconstruction."""
    return _core.alpha_encode_near(np.ascontiguousarray(plane, dtype=np.uint16), bits, near, copy_map)


def pixel_costs(plane: np.ndarray, bits: int) -> np.ndarray:
    """(h, w) float32: the coder's estimate of each pixel's bits, coded without copies (all ``bits``)."""
    return _core.alpha_costs(np.ascontiguousarray(plane, dtype=np.uint16), bits)


def _payload_bits(payload: bytes, bit_depth: int) -> int:
    """The bits the payload codes (its first byte), 1 .. the image's bit depth; DecodeError otherwise."""
    if len(payload) < 1:
        raise DecodeError("corrupted stream: empty alpha payload")
    bits = payload[0]
    if not 1 <= bits <= bit_depth:
        raise DecodeError(f"corrupted stream: the alpha payload codes {bits} bits for a {bit_depth}-bit image")
    return bits


def check(payload: bytes, h: int, w: int, bit_depth: int) -> None:
    """DecodeError if the payload's header, tables or initial state are damaged: what decode() would find
    there, at the cost of the tables alone (no pixel), so the decoder can look before any expensive stage."""
    _core.alpha_check(payload, h, w, _payload_bits(payload, bit_depth))


def decode(payload: bytes, h: int, w: int, bit_depth: int, copies: np.ndarray | None = None,
           near: int = 0) -> np.ndarray:
    """Payload -> (h, w) samples of ``bit_depth`` bits (uint8 for 8, else uint16); DecodeError if damaged.
    The pixels ``copies`` (core/copy_map.decode of the stream's copy map) cover are filled from their source;
    ``near``: the near-lossless bound the payload was coded with (0: lossless).

    The plane is the largest array of an RGBA decode after the pixels: it stays in 16 bits (the lossy
    mode maps samples through a 2^bits-entry table of samples.replicate_bits, no 32-bit copy of the plane).
    """
    bits = _payload_bits(payload, bit_depth)
    a = _core.alpha_decode(payload, h, w, bits, copies, near)
    if bits < bit_depth:
        a = replicate_bits(np.arange(1 << bits, dtype=np.uint16), bits, bit_depth)[a]
    return a.astype(np.uint8) if bit_depth == 8 else a


def decode_group(payloads: list[bytes], h: int, w: int, bits: int, copies: np.ndarray | None = None) -> list[np.ndarray]:
    """Lossless payloads of planes that share a size, ``bits`` (each payload's own) and ``copies`` (a tile's
    colour planes and alpha) -> their (h, w) uint16 planes, as decode() would give each, decoded in one pass
    whose planes' dependency chains overlap (one plane's loop waits on its last sample). A DecodeError
    names no plane: decode them one by one to find the damaged one."""
    return _core.alpha_decode_group(payloads, h, w, bits, copies)
