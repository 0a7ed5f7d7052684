"""Reading and writing image files for the CLI: 8- and 16-bit PNG and TIFF, other formats via Pillow.

imagecodecs handles 16-bit RGB PNG (Pillow cannot); tifffile handles TIFF. Files are read from and
written to bytes, so the CLI can use stdin/stdout and write every output atomically (files.py).
"""
from __future__ import annotations

import io
from pathlib import Path

import numpy as np

_PNG = b"\x89PNG\r\n\x1a\n"
_TIFF = (b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+")
WRITABLE = (".png", ".tif", ".tiff", ".jpg", ".jpeg", ".webp", ".bmp", ".ppm", ".pgm")


def decode_image(data: bytes, name: str = "input") -> np.ndarray:
    """Image file bytes -> HxW or HxWx3 uint8/uint16 (alpha dropped, palettes expanded).

    Raises ValueError for data that is not a readable image or has an unsupported sample type.
    """
    try:
        if data[:8] == _PNG:
            import imagecodecs
            arr = imagecodecs.png_decode(data)
        elif data[:4] in _TIFF:
            import tifffile
            arr = tifffile.imread(io.BytesIO(data))
        else:
            from PIL import Image
            with Image.open(io.BytesIO(data)) as im:
                arr = np.asarray(im.convert("RGB") if im.mode not in ("L", "RGB", "I;16") else im)
    except Exception as e:          # every decoder's own error type: one clear message
        raise ValueError(f"{name}: not a readable image ({type(e).__name__}: {e})") from None
    if arr.ndim == 3 and arr.shape[2] in (2, 4):          # grey+alpha or RGBA: drop alpha
        arr = arr[..., :-1] if arr.shape[2] == 4 else arr[..., 0]
    if arr.ndim == 3 and arr.shape[2] == 1:
        arr = arr[..., 0]
    if arr.ndim not in (2, 3) or (arr.ndim == 3 and arr.shape[2] != 3):
        raise ValueError(f"{name}: unsupported image shape {arr.shape} (grey or RGB expected)")
    if arr.dtype not in (np.uint8, np.uint16):
        raise ValueError(f"{name}: unsupported sample type {arr.dtype} (8- or 16-bit integers expected)")
    return np.ascontiguousarray(arr)


def read_image(path: str | Path) -> np.ndarray:
    """Load an image file as HxW or HxWx3 uint8/uint16 (see decode_image)."""
    path = Path(path)
    return decode_image(path.read_bytes(), str(path))


def encode_image(arr: np.ndarray, suffix: str) -> bytes:
    """HxW or HxWx3 uint8/uint16 -> file bytes for ``suffix`` (.png/.tif keep 16 bits; others 8-bit)."""
    suffix = suffix.lower()
    if suffix not in WRITABLE:
        raise ValueError(f"unknown image file type {suffix!r}: use one of {', '.join(WRITABLE)}")
    if suffix in (".tif", ".tiff"):
        import tifffile
        buf = io.BytesIO()
        tifffile.imwrite(buf, arr)
        return buf.getvalue()
    if suffix == ".png":
        import imagecodecs
        return imagecodecs.png_encode(arr)
    if arr.dtype != np.uint8:
        raise ValueError(f"{suffix} holds 8-bit images only: save a {arr.dtype} image as .png or .tif")
    from PIL import Image
    buf = io.BytesIO()
    fmt = {".jpg": "JPEG", ".jpeg": "JPEG", ".webp": "WEBP", ".bmp": "BMP", ".ppm": "PPM", ".pgm": "PPM"}[suffix]
    Image.fromarray(arr).save(buf, format=fmt, **({"quality": 95} if fmt in ("JPEG", "WEBP") else {}))
    return buf.getvalue()


def write_image(path: str | Path, arr: np.ndarray) -> None:
    """Save HxW or HxWx3 uint8/uint16 by suffix, atomically (a temporary file renamed into place)."""
    from .files import atomic_write
    path = Path(path)
    atomic_write(path, encode_image(arr, path.suffix))
