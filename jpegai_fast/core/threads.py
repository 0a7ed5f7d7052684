"""The one thread rule, for every layer: None = every core; else an int 1 .. MAX_THREADS.

Results never depend on the thread count (the C++ tasks write disjoint outputs).
"""
from __future__ import annotations

import os

import numpy as np

from jpegai_fast.core.constants import MAX_THREADS


def resolve_threads(threads) -> int:
    """``threads`` checked (TypeError / ValueError), ``None`` -> the CPU count (at most MAX_THREADS)."""
    if threads is None:
        return max(1, min(MAX_THREADS, os.cpu_count() or 1))
    if isinstance(threads, bool) or not isinstance(threads, (int, np.integer)):
        raise TypeError(f"threads must be an int or None, got {type(threads).__name__}")
    if not 1 <= int(threads) <= MAX_THREADS:
        raise ValueError(f"threads must be in 1 .. {MAX_THREADS}, got {threads}")
    return int(threads)
