"""The encoder's integer side, the mirror of decoder/latent.py: z_hat coded, the integer hyper-synthesis
(means and table indexes), y quantised through the C++ context loop, the symbols coded per layer.

A tile passes through three explicit states: ``HyperTile`` (rate-independent: what rate control keeps,
so each rate probe only re-quantises), ``QuantisedTile`` (one layer's symbols at one rate) and
``CodedTile`` (bytes). A progressive tile goes from HyperTile to CodedTile at once: each refinement
layer is quantised and coded in one pass of the context loop (csrc/context/refine.h). All of it is
integer arithmetic but the float roundings of the quantisers, so the decoder rebuilds the same y_hat on
every machine.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from jpegai_fast.core import rans
from jpegai_fast.format import progressive
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


def quantise(eng: Engine, t: Tile, rate_q: int, threads: int, layers: int = 1) -> Tile:
    """``t`` at rate ``rate_q``: symbols through the context loop and the scale-index rule; with
    ``layers`` > 1 every layer coded (format/progressive.py). A tile already quantised or coded, at the
    fixed rate, is returned as it is."""
    if not isinstance(t, HyperTile):
        return t
    log2_step, step = eng.steps(rate_q)
    idx, step_0 = progressive.layer_indexes(t.log2sigma_q, log2_step, step, 0, layers)
    q, y_hat_q = eng.ctx.quantise(t.y, t.mu_q, step_0, threads=threads)
    if layers == 1:
        return QuantisedTile(t.z_bytes, q, idx)
    coded = [rans.encode_gaussian(q, idx, threads=threads)]
    for layer in range(1, layers):
        idx, step_k = progressive.layer_indexes(t.log2sigma_q, log2_step, step, layer, layers)
        data, y_hat_q = eng.ctx.refine_encode(t.y, y_hat_q, idx, t.mu_q, step_k, threads)
        coded.append(data)
    return CodedTile(t.z_bytes, coded)


def code(t: Tile, threads: int) -> CodedTile:
    """``t``'s y symbols coded (a progressive tile is coded by quantise())."""
    if isinstance(t, CodedTile):
        return t
    if not isinstance(t, QuantisedTile):
        raise TypeError("a tile is coded after it is quantised")
    return CodedTile(t.z_bytes, [rans.encode_gaussian(t.q, t.idx, threads=threads)])
