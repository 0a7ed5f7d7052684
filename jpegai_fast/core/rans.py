"""Entropy coding: rANS with Gaussian-conditional tables and per-channel CDF tables.

Thin numpy layer over the C++ coder in ``csrc/entropy`` (see docs/entropy_coding.md). Arrays
that already have the right dtype and are C-contiguous are passed through without copies; the
C++ side releases the GIL and splits every stream into chunks decoded on ``threads``
threads (``None``: all cores). The bytes never depend on ``threads``.
"""
from __future__ import annotations

import hashlib
from typing import Optional, Tuple

import numpy as np

from jpegai_fast import _core
from jpegai_fast.core.constants import LOG2_SIGMA_MIN, SCALE_INDEX_OFFSET, SCALE_INDEX_SHIFT, SCALES_PER_OCTAVE
from jpegai_fast.core.threads import resolve_threads

NUM_SCALES: int = int(_core.NUM_SCALES)
"""Number of Gaussian scales in the ladder (table indexes 0 .. NUM_SCALES - 1)."""

SCALES: np.ndarray = np.asarray(_core.gaussian_scale_ladder(), dtype=np.float64)
"""The scale ladder sigma_k = 2**((k - 27) / 8) in units of the quantisation step."""
SCALES.setflags(write=False)

PRECISION: int = int(_core.PRECISION)
"""Probability precision in bits: every frequency is an integer out of 2**PRECISION."""

LANES: int = int(_core.LANES)
"""Interleaved rANS states of a chunk of at least MANY_LANES_FROM symbols (smaller ones use one)."""
MANY_LANES_FROM: int = int(_core.MANY_LANES_FROM)
CHUNK_MAX_SYMBOLS: int = int(_core.CHUNK_MAX_SYMBOLS)

_INT32 = np.iinfo(np.int32)


def _int32_array(a, name: str) -> np.ndarray:
    a = np.asarray(a)
    if a.dtype == np.int32:
        return np.ascontiguousarray(a)
    if a.dtype.kind not in "iu":
        raise TypeError(f"{name} must be an integer array, got dtype {a.dtype}")
    if a.size and (a.min() < _INT32.min or a.max() > _INT32.max):
        raise ValueError(f"{name} has values outside the int32 range")
    return np.ascontiguousarray(a, dtype=np.int32)


def _index_array(indexes) -> np.ndarray:
    a = np.asarray(indexes)
    if a.dtype.kind not in "iu":
        raise TypeError(f"indexes must be an integer array, got dtype {a.dtype}")
    if a.size and (a.min() < 0 or a.max() >= NUM_SCALES):
        raise ValueError(f"scale indexes must lie in [0, {NUM_SCALES - 1}]")
    return np.ascontiguousarray(a, dtype=np.uint8)


def _byte_view(data) -> memoryview:
    try:
        view = memoryview(data)
    except TypeError as exc:
        raise TypeError("data must be bytes, bytearray or another bytes-like object") from exc
    if not view.contiguous:
        raise ValueError("data must be a contiguous buffer")
    return view.cast("B") if (view.ndim != 1 or view.format != "B") else view


def gaussian_tables() -> Tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The quantised Gaussian tables as ``(cdfs, lengths, offsets)``.

    Row k of ``cdfs`` (int32) is the CDF of table k over ``lengths[k] - 1`` symbols (values
    ``offsets[k] .. -offsets[k]`` then the escape), padded with 2**PRECISION; the same layout
    :func:`encode_cdf` takes.
    """
    cdfs, lengths, offsets = _core.gaussian_tables()
    for k in range(NUM_SCALES):
        cdfs[k, lengths[k]:] = 1 << PRECISION
    return cdfs, lengths, offsets


def table_hash() -> str:
    """SHA-256 (hex) of the built Gaussian tables; equal on every platform by construction."""
    cdfs, lengths, offsets = _core.gaussian_tables()
    h = hashlib.sha256()
    for k in range(NUM_SCALES):
        h.update(np.asarray([lengths[k], offsets[k]], dtype="<i4").tobytes())
        h.update(np.asarray(cdfs[k, : lengths[k]], dtype="<i4").tobytes())
    return h.hexdigest()


def scale_index(sigma) -> np.ndarray:
    """Float mapping sigma (in quantisation steps) -> table index (uint8).

    ``idx = clamp(floor((log2(sigma) + 3.375) * 8 + 1/2), 0, 75)``: round half up, as the
    integer mapping :func:`scale_index_from_log2_q8` does. sigma <= 0 maps to 0; NaN raises.
    """
    s = np.asarray(sigma, dtype=np.float64)
    if np.isnan(s).any():
        raise ValueError("sigma contains NaN")
    with np.errstate(divide="ignore", invalid="ignore"):
        x = np.floor((np.log2(np.maximum(s, 0.0)) - LOG2_SIGMA_MIN) * SCALES_PER_OCTAVE + 0.5)
    return np.clip(np.nan_to_num(x, nan=0.0, neginf=0.0), 0, NUM_SCALES - 1).astype(np.uint8)


def scale_index_from_log2_q8(log2_sigma_q8) -> np.ndarray:
    """The scale-index rule in numpy (the codec runs it in C++: core.intpath.scale_indexes):
    log2(sigma/step) in Q8 (int) -> clamp(floor((L + 880) / 32), 0, 75)."""
    L = np.asarray(log2_sigma_q8)
    if L.dtype.kind not in "iu":
        raise TypeError("log2_sigma_q8 must be an integer array")
    idx = (L.astype(np.int64) + SCALE_INDEX_OFFSET) >> SCALE_INDEX_SHIFT
    return np.clip(idx, 0, NUM_SCALES - 1).astype(np.uint8)


def encode_gaussian(symbols, indexes, *, threads: Optional[int] = None) -> bytes:
    """Encode int32 ``symbols`` (any shape) with the Gaussian table ``indexes`` (same shape).

    Every int32 value round-trips; values outside a table's range take the escape path.
    """
    sym = _int32_array(symbols, "symbols")
    idx = _index_array(indexes)
    if sym.shape != idx.shape:
        raise ValueError(f"symbols shape {sym.shape} != indexes shape {idx.shape}")
    return _core.encode_gaussian(sym, idx, resolve_threads(threads))


def decode_gaussian(data, indexes, *, threads: Optional[int] = None,
                    out: Optional[np.ndarray] = None) -> np.ndarray:
    """Decode a stream of :func:`encode_gaussian`; returns int32 of ``indexes``' shape.

    ``out`` (optional): a C-contiguous writeable int32 array of that shape to decode into,
    e.g. reused across calls to skip the page faults of a fresh allocation. Corrupt,
    truncated or mismatched data raises ValueError (``out`` then holds partial garbage).
    """
    idx = _index_array(indexes)
    if out is not None:
        if not (isinstance(out, np.ndarray) and out.dtype == np.int32 and out.flags.c_contiguous
                and out.flags.writeable and out.shape == idx.shape):
            raise ValueError("out must be a writeable C-contiguous int32 array shaped like indexes")
    return _core.decode_gaussian(_byte_view(data), idx, resolve_threads(threads), out)


def check_layout(data, n: int) -> None:
    """DecodeError unless ``data`` can be a stream of ``n`` symbols (either coder) as far as its chunk
    table, lane states and word alignment tell; O(chunks), no table needed. A decoder runs it on every
    substream before decoding any, so a damaged one is found before the expensive stages."""
    _core.check_coded_layout(_byte_view(data), int(n))


def gaussian_bits(symbols, indexes) -> float:
    """Ideal information content (bits) of ``symbols`` under the quantised tables, escapes included."""
    sym = _int32_array(symbols, "symbols")
    idx = _index_array(indexes)
    if sym.shape != idx.shape:
        raise ValueError(f"symbols shape {sym.shape} != indexes shape {idx.shape}")
    return float(_core.gaussian_bits(sym, idx))


def pmf_to_cdf(pmf, tail_mass=None) -> Tuple[np.ndarray, np.ndarray]:
    """Quantise per-channel pmfs (C, L) to integer CDFs ``(cdfs (C, L + 2), lengths (C,))``.

    Symbol i of row c gets frequency >= 1 proportional to ``pmf[c, i]``; symbol L is the
    escape (mass ``tail_mass[c]`` if given, else the minimum). Deterministic: integer
    apportioning of exactly rounded masses.
    """
    p = np.ascontiguousarray(pmf, dtype=np.float64)
    if p.ndim != 2 or p.shape[1] < 1:
        raise ValueError(f"pmf must have shape (channels, symbols >= 1), got {p.shape}")
    tail = None
    if tail_mass is not None:
        tail = np.ascontiguousarray(tail_mass, dtype=np.float64).reshape(-1)
        if tail.shape[0] != p.shape[0]:
            raise ValueError("tail_mass needs one entry per pmf row")
    return _core.pmf_to_cdf(p, tail)


def _cdf_args(cdfs, lengths, offsets):
    c = _int32_array(cdfs, "cdfs")
    if c.ndim != 2:
        raise ValueError(f"cdfs must be 2-D (channels, max_length), got shape {c.shape}")
    ln = _int32_array(lengths, "lengths").reshape(-1)
    off = _int32_array(offsets, "offsets").reshape(-1)
    if ln.shape[0] != c.shape[0] or off.shape[0] != c.shape[0]:
        raise ValueError("lengths and offsets need one entry per cdf row")
    return c, ln, off


def encode_cdf(symbols, cdfs, lengths, offsets, *, threads: Optional[int] = None) -> bytes:
    """Encode int32 ``symbols`` (C, N); row c uses CDF row c with value offset ``offsets[c]``.

    Values outside ``[offsets[c], offsets[c] + lengths[c] - 3]`` take the escape path.
    """
    c, ln, off = _cdf_args(cdfs, lengths, offsets)
    sym = _int32_array(symbols, "symbols")
    if sym.ndim != 2 or sym.shape[0] != c.shape[0]:
        raise ValueError(f"symbols must have shape ({c.shape[0]}, N), got {sym.shape}")
    return _core.encode_cdf(sym, c, ln, off, resolve_threads(threads))


def decode_cdf(data, cdfs, lengths, offsets, n: int, *, threads: Optional[int] = None) -> np.ndarray:
    """Decode a stream of :func:`encode_cdf` into int32 (C, n); corrupt data raises ValueError."""
    c, ln, off = _cdf_args(cdfs, lengths, offsets)
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 0:
        raise ValueError(f"n must be a non-negative int, got {n!r}")
    return _core.decode_cdf(_byte_view(data), c, ln, off, int(n), resolve_threads(threads))
