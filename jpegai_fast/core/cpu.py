"""The one CPU switch (csrc/common/cpu.h): which kernels every concern of the core runs.

Every build of a kernel gives bit-identical results; the switch is for speed and for tests. The
environment variable JPEGAI_NO_SIMD=1 starts a process on the portable kernels.
"""
from __future__ import annotations

from jpegai_fast import _core


def isa() -> str:
    """Kernels in use: 'avx512', 'avx2', 'neon' or 'portable'."""
    return _core.cpu_isa()


def best_isa() -> str:
    """The widest kernels this CPU supports."""
    return _core.cpu_best_isa()


def set_isa(name: str) -> str:
    """Select 'auto', 'portable', 'avx2', 'avx512' or 'neon'; returns the previous name (ValueError if unsupported)."""
    if not isinstance(name, str):
        raise TypeError("ISA name must be a str")
    return _core.set_cpu_isa(name)
