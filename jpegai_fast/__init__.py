"""jpegai_fast: a fast learned image codec in the spirit of JPEG AI.

Public API (kept small): ``encode``, ``decode``, ``info`` and ``DecodeError``.
"""
from . import _core

__version__ = "0.1.0"
__all__ = ["__version__"]
