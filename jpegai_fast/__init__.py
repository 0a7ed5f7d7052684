"""jpegai_fast: a fast learned image codec in the spirit of JPEG AI.

Public API (kept small):

- ``encode(arr, *, bpp=None, quality=None, bit_depth=None, threads=None, device=None, model=None,
  tile_size=None, layers=1, effort=1) -> bytes``
- ``encode_iter(arr, **encode_kwargs) -> Iterator[bytes]`` (progressive layer chunks)
- ``decode(data, *, device=None, threads=None, region=None) -> numpy.ndarray``
- ``info(data) -> dict``
- ``DecodeError`` (malformed streams), ``ImageTooLargeError`` (pixel limit), ``limits``

``encode``/``decode``/``info`` are imported on first use. The CPU codec needs numpy and the compiled
core only; torch is imported only by what needs it (training, ``device="cuda"``, ``effort`` > 1).
"""
import importlib.util as _util
from pathlib import Path as _Path

if _util.find_spec(f"{__name__}._core") is None:
    raise ImportError(
        f"jpegai_fast's compiled core (_core) is missing: Python is importing the source tree at "
        f"{_Path(__file__).resolve().parent}, which is not built. Install the package with `pip install .` "
        "and run it from another folder or through the `jpegai-fast` command (e.g. `jpegai-fast demo`), "
        "or build in place with `bash scripts/dev_build.sh` for development.")

from jpegai_fast.format import limits  # noqa: E402
from jpegai_fast.errors import DecodeError, ImageTooLargeError  # noqa: E402

__version__ = "0.4.0"
__all__ = ["encode", "encode_iter", "decode", "info", "DecodeError", "ImageTooLargeError", "limits", "__version__"]


def __getattr__(name):
    if name in ("encode", "encode_iter", "decode", "info"):
        from jpegai_fast import api
        return getattr(api, name)
    raise AttributeError(f"module 'jpegai_fast' has no attribute {name!r}")
