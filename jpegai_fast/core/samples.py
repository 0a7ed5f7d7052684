"""Sample bit depth: the one bit-replication rule, shared by the alpha coder (its lossy mode) and the
pixel conversions above it (pixels.py re-exports it for files/, pillow.py and the tests)."""
from __future__ import annotations

import numpy as np


def replicate_bits(a: np.ndarray, bits: int, to_bits: int) -> np.ndarray:
    """``bits``-bit samples -> ``to_bits``-bit ones by bit replication (the top value maps to the top value,
    as PNG's sBIT expects a writer to scale); uint8 for 8 bits out, else uint16."""
    a = np.asarray(a).astype(np.uint32)
    out = np.zeros_like(a)
    shift = to_bits - bits
    while shift > -bits:
        out |= (a << shift) if shift >= 0 else (a >> -shift)
        shift -= bits
    out &= (1 << to_bits) - 1
    return out.astype(np.uint8 if to_bits == 8 else np.uint16)
