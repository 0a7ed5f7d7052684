"""Progressive layers, the encoder's choice: which context groups go first (format/progressive.py has the rules).

A group's importance is the pixel error (a linear estimate) of dropping it, i.e. of its symbols -> 0:
the sum over its channels of gain_c * step_c^2 * sum(q_c^2), what the coded residual adds.
"""
from __future__ import annotations

import numpy as np

from jpegai_fast.core.constants import ACT_FRAC_BITS, GROUP
from jpegai_fast.encoder.latent import QuantisedTile
from jpegai_fast.format import progressive
from jpegai_fast.runtime.engine import Engine


def group_importance(eng: Engine, tiles: list[QuantisedTile], step_q: np.ndarray) -> np.ndarray:
    """Per context group, the error of dropping it (float64 (M / GROUP,)), over all tiles."""
    energy = np.zeros(eng.M)
    for t in tiles:
        energy += np.einsum("chw,chw->c", t.q, t.q, dtype=np.float64)
    per_channel = energy * eng.synthesis_gain * (step_q.astype(np.float64) / (1 << ACT_FRAC_BITS)) ** 2
    return per_channel.reshape(-1, GROUP).sum(axis=1)


def plan(eng: Engine, tiles: list[QuantisedTile], step_q: np.ndarray, layers: int) \
        -> tuple[list[int], list[np.ndarray] | None]:
    """(group order for the header, each layer's channels); ([], None) for a single layer."""
    if layers == 1:
        return [], None
    order = progressive.order_groups(group_importance(eng, tiles, step_q))
    return order, progressive.layer_channels(order, layers)
