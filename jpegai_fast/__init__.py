"""jpegai_fast: a fast learned image codec in the spirit of JPEG AI.

Public API (kept small):

- ``encode(arr, *, bpp=None, quality=None, bit_depth=None, threads=None, device=None) -> bytes``
- ``decode(data, *, device=None, threads=None) -> numpy.ndarray``
- ``info(data) -> dict``
- ``DecodeError`` (malformed streams), ``ImageTooLargeError`` (pixel limit), ``limits``
"""
from . import _core, limits
from .codec import decode, encode, info
from .errors import DecodeError, ImageTooLargeError

__version__ = "0.1.0"
__all__ = ["encode", "decode", "info", "DecodeError", "ImageTooLargeError", "limits", "__version__"]
