"""Headroom of the integer synthesis's activations (issue 33): the fixed-point formats of format version 7
(core/int_synthesis.py: HIDDEN_FRAC_BITS) were chosen from one model's activations, and a larger activation of
other weights saturates at +-32767, silently. Before new weights ship, :func:`headroom` measures, per step of
g_s on real latents, the largest |activation| as a fraction of its limit and the share of values at it
(scripts/int_headroom.py runs it on Kodak streams; tests/core/test_int_synthesis.py on the shipped weights).
Needs torch (the steps run in core/int_synthesis_torch.py, the core's integers exactly).
"""
from __future__ import annotations

import numpy as np

from jpegai_fast.core.constants import INT16_LIMIT
from jpegai_fast.core.int_synthesis import OUT_LIMIT, IntSynthesis

#: The share of a hidden step's values that may clip before weights are refused: the shipped model 8f754ccc
#: clips 5.3e-8 of IGDN 3's outputs on six Kodak latents at quality 5, none at 40 / 75 / 100 (the whole
#: integer synthesis costs it 0.005 dB, bench/int_synthesis.py); twenty times that needs other formats.
MAX_CLIPPED = 1e-6


def headroom(syn: IntSynthesis, latents, device="cpu") -> list[dict]:
    """Per step of ``syn`` over ``latents`` (y_hat arrays, (M, h, w)): {"step", "kind", "peak" (max |value|
    / its limit), "saturated" (share of values at the limit)}. A peak of 1.0 means values were clipped;
    weights whose hidden steps clip more than MAX_CLIPPED of their values are not fit for the format."""
    from jpegai_fast.core.int_synthesis_torch import run_q

    n = len(syn.steps)
    peak, sat, count = np.zeros(n), np.zeros(n), np.zeros(n)

    def observe(i, x):
        limit = OUT_LIMIT if i + 1 == n else INT16_LIMIT
        a = x.abs()
        peak[i] = max(peak[i], float(a.max()) / limit)
        sat[i] += float((a >= limit).sum())
        count[i] += a.numel()

    for y_hat in latents:
        run_q(syn, y_hat, device, observe=observe)
    return [{"step": i, "kind": syn.steps[i]["kind"], "peak": float(peak[i]),
             "saturated": float(sat[i] / max(count[i], 1))} for i in range(n)]
