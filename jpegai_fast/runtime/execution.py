"""Run-time knobs shared by the encoder and decoder: thread count, device, tile parallelism."""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Callable

from jpegai_fast.core.threads import resolve_threads  # noqa: F401  (the one thread rule, re-used here)


class _Cpu:
    """The CPU as a device: the conv engine and the C++ core, no torch needed."""

    type = "cpu"

    def __str__(self) -> str:
        return "cpu"

    __repr__ = __str__


CPU = _Cpu()


def resolve_device(device):
    """None or "cpu" -> CPU (no torch import); anything else -> a torch.device that is available."""
    if device is None or (isinstance(device, str) and device == "cpu") or getattr(device, "type", None) == "cpu":
        return CPU
    if not isinstance(device, str) and type(device).__name__ != "device":
        raise ValueError(f"device must be a string such as 'cpu' or 'cuda', got {device!r}")
    try:
        import torch
    except ImportError:
        raise ValueError(f"device={device!r} needs torch (pip install torch); the CPU codec does not") from None
    try:
        dev = torch.device(device)
    except (RuntimeError, ValueError):
        raise ValueError(f"unknown device {device!r} (use 'cpu' or 'cuda')") from None
    if dev.type == "cpu":
        return CPU
    if dev.type != "cuda":
        raise ValueError(f"device {device!r} is not supported (use 'cpu' or 'cuda')")
    if not torch.cuda.is_available():
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
