"""jpegai_fast: a fast learned image codec in the spirit of JPEG AI.

Public API (kept small):

- ``encode(arr, *, bpp=None, quality=None, bit_depth=None, threads=None, device=None, model=None,
  tile_size=None, layers=1) -> bytes``
- ``encode_iter(arr, **encode_kwargs) -> Iterator[bytes]`` (progressive layer chunks)
- ``decode(data, *, device=None, threads=None, region=None) -> numpy.ndarray``
- ``info(data) -> dict``
- ``DecodeError`` (malformed streams), ``ImageTooLargeError`` (pixel limit), ``limits``

``encode``/``decode``/``info`` are imported on first use, so that ``import jpegai_fast.coder`` (or the
CLI's ``info``) does not pay for importing torch.
"""
from . import limits
from .errors import DecodeError, ImageTooLargeError

__version__ = "0.1.0"
__all__ = ["encode", "encode_iter", "decode", "info", "DecodeError", "ImageTooLargeError", "limits", "__version__"]


def __getattr__(name):
    if name in ("encode", "encode_iter", "decode", "info"):
        from . import codec
        return getattr(codec, name)
    raise AttributeError(f"module 'jpegai_fast' has no attribute {name!r}")
