"""The encoder's integer side, the mirror of decoder/latent.py: z_hat coded, the integer hyper-synthesis
(means and table indexes), y quantised through the C++ context loop, the symbols coded per layer.

A tile passes through three explicit states: ``HyperTile`` (rate-independent: what rate control keeps,
so each rate probe only re-quantises), ``QuantisedTile`` (symbols at one rate: what layer ordering
needs from every tile) and ``CodedTile`` (bytes). All of it is integer arithmetic but the one float
rounding in the context loop's quantiser, so the decoder rebuilds the same y_hat on every machine.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from jpegai_fast.core import rans
from jpegai_fast.core.intpath import scale_indexes
from jpegai_fast.runtime.engine import Engine


@dataclass(frozen=True)
class HyperTile:
    """One tile before the rate is known: its coded z, y and the hyper-synthesis' outputs."""

    z_bytes: bytes
    y: np.ndarray               # (M, th, tw) float32
    mu_q: np.ndarray            # hyper mean, Q12
    log2sigma_q: np.ndarray     # log2 sigma, Q8


@dataclass(frozen=True)
class QuantisedTile:
    """One tile at one rate: its coded z, the mean-removed symbols and their table indexes."""

    z_bytes: bytes
    q: np.ndarray               # (M, th, tw) int32
    idx: np.ndarray             # (M, th, tw) table indexes


@dataclass(frozen=True)
class CodedTile:
    """One tile's substreams: z, and y per layer."""

    z_bytes: bytes
    y_bytes: list[bytes]


Tile = HyperTile | QuantisedTile | CodedTile


def hyper_tile(eng: Engine, y: np.ndarray, z_hat: np.ndarray, threads: int) -> HyperTile:
    """Code z_hat and run the integer hyper-synthesis on it (identical on every machine)."""
    mu_q, log2sigma_q = eng.hyper(z_hat, threads)
    return HyperTile(eng.encode_z(z_hat, threads), y, mu_q, log2sigma_q)


def quantise(eng: Engine, t: Tile, rate_q: int, threads: int) -> Tile:
    """``t`` at rate ``rate_q``: symbols through the context loop and the scale-index rule
    (a tile already quantised or coded, at the fixed rate, is returned as it is)."""
    if not isinstance(t, HyperTile):
        return t
    log2_step, step = eng.steps(rate_q)
    idx = scale_indexes(t.log2sigma_q, log2_step)
    q, _ = eng.ctx.quantise(t.y, t.mu_q, step, threads=threads)
    return QuantisedTile(t.z_bytes, q, idx)


def code(t: Tile, chans: list[np.ndarray] | None, threads: int) -> CodedTile:
    """``t``'s y symbols coded, one substream per layer (``chans``: each layer's channels; None: one layer)."""
    if isinstance(t, CodedTile):
        return t
    if not isinstance(t, QuantisedTile):
        raise TypeError("a tile is coded after it is quantised")
    if chans is None:
        return CodedTile(t.z_bytes, [rans.encode_gaussian(t.q, t.idx, threads=threads)])
    return CodedTile(t.z_bytes, [rans.encode_gaussian(t.q[c], t.idx[c], threads=threads) for c in chans])
