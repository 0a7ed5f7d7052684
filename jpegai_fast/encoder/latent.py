"""The encoder's integer side, the mirror of decoder/latent.py: z_hat coded, the integer hyper-synthesis
(means and table indexes), y quantised through the C++ context loop and coded, layer by layer.

A tile has two explicit states: ``HyperTile`` (rate-independent: what rate control keeps, so each rate
probe only re-quantises and codes) and ``CodedTile`` (bytes at one rate and layer count: what a
fixed-rate encode keeps). All of it is integer arithmetic but the float roundings of the quantisers,
so the decoder rebuilds the same y_hat on every machine.
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
class CodedTile:
    """One tile's substreams: z, and y per layer, at ``rate_q`` with ``len(y_bytes)`` layers."""

    z_bytes: bytes
    y_bytes: list[bytes]
    rate_q: int


Tile = HyperTile | CodedTile


def hyper_tile(eng: Engine, y: np.ndarray, z_hat: np.ndarray, threads: int) -> HyperTile:
    """Code z_hat and run the integer hyper-synthesis on it (identical on every machine)."""
    mu_q, log2sigma_q = eng.hyper(z_hat, threads)
    return HyperTile(eng.encode_z(z_hat, threads), y, mu_q, log2sigma_q)


def code(eng: Engine, t: Tile, rate_q: int, layers: int, threads: int) -> CodedTile:
    """``t`` coded at rate ``rate_q`` in ``layers`` layers: layer 0's symbols through the context loop
    and the scale-index rule, each later layer by the refinement coder (format/progressive.py). A tile
    coded already (a fixed-rate encode) is returned as it is, and must be at that rate and layer count."""
    if isinstance(t, CodedTile):
        if (t.rate_q, len(t.y_bytes)) != (rate_q, layers):
            raise ValueError(f"tile coded at rate {t.rate_q} in {len(t.y_bytes)} layer(s), asked for {rate_q} in {layers}")
        return t
    log2_step, step = eng.steps(rate_q)
    idx, step_0 = progressive.layer_indexes(t.log2sigma_q, log2_step, step, 0, layers)
    q, y_hat_q = eng.ctx.quantise(t.y, t.mu_q, step_0, threads=threads)
    coded = [rans.encode_gaussian(q, idx, threads=threads)]
    for layer in range(1, layers):
        idx, step_k = progressive.layer_indexes(t.log2sigma_q, log2_step, step, layer, layers)
        data, y_hat_q = eng.ctx.refine_encode(t.y, y_hat_q, idx, t.mu_q, step_k, threads)
        coded.append(data)
    return CodedTile(t.z_bytes, coded, rate_q)
