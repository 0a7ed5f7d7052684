"""The copy map of a lossless stream (docs/format.md, "Lossless streams", kind 7; csrc/lossless/copy_map.h):
runs of pixels that repeat earlier ones, coded once for every plane, which the plane coder then skips.
"""
from __future__ import annotations

import numpy as np

from jpegai_fast import _core


def find(pixels: np.ndarray, cost: np.ndarray) -> bytes:
    """The copy map payload of (h, w[, c]) samples, given each pixel's estimated bits without a copy
    (summed over the planes: core/alpha_coder.pixel_costs); b"" when no copy pays."""
    return _core.copy_map_find(np.ascontiguousarray(pixels, dtype=np.uint16), np.ascontiguousarray(cost, np.float32))


def decode(payload: bytes, h: int, w: int) -> np.ndarray:
    """The copies of a copy map for an h x w image, (n, 3) uint32 rows of (start, distance, length), as
    core/alpha_coder.decode takes them; DecodeError if the map is damaged. Costs one pass over the copies,
    no pixel, so the decoder runs it with the cheap checks (and once: every plane reuses the result)."""
    return _core.copy_map_decode(payload, h, w)
