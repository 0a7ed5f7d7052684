"""Run-time knobs shared by the encoder and decoder: thread count, torch device, tile parallelism."""
from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from typing import Callable

import torch


def resolve_threads(threads: int | None) -> int:
    if threads is None:
        return max(1, os.cpu_count() or 1)
    if not isinstance(threads, int) or threads < 1:
        raise ValueError(f"threads must be a positive int, got {threads!r}")
    return threads


def resolve_device(device) -> torch.device:
    dev = torch.device(device) if device is not None else torch.device("cpu")
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise ValueError("device='cuda' requested but CUDA is not available")
    return dev


def map_tiles(fn: Callable, items: list, threads: int) -> list:
    """fn(item, inner_threads) for every item: tiles in parallel when there are several.

    The C++ stages release the GIL; results never depend on how the work was split.
    """
    if threads > 1 and len(items) > 1:
        with ThreadPoolExecutor(max_workers=min(threads, len(items))) as pool:
            return list(pool.map(lambda it: fn(it, 1), items))
    return [fn(it, threads) for it in items]
