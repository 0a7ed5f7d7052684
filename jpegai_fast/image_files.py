"""Reading and writing image files for the CLI: 8- and 16-bit PNG and TIFF, other formats via Pillow.

imagecodecs handles 16-bit RGB PNG (Pillow cannot); tifffile handles TIFF.
"""
from __future__ import annotations

from pathlib import Path

import imagecodecs
import numpy as np
import tifffile
from PIL import Image


def read_image(path: str | Path) -> np.ndarray:
    """Load an image as HxW or HxWx3 uint8/uint16 (alpha dropped, palettes expanded)."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix in (".tif", ".tiff"):
        arr = tifffile.imread(path)
    elif suffix == ".png":
        arr = imagecodecs.png_decode(path.read_bytes())
    else:
        with Image.open(path) as im:
            arr = np.asarray(im.convert("RGB") if im.mode not in ("L", "RGB", "I;16") else im)
    if arr.ndim == 3 and arr.shape[2] in (2, 4):          # grey+alpha or RGBA: drop alpha
        arr = arr[..., :-1] if arr.shape[2] == 4 else arr[..., 0]
    if arr.ndim == 3 and arr.shape[2] == 1:
        arr = arr[..., 0]
    if arr.dtype not in (np.uint8, np.uint16):
        raise ValueError(f"{path}: unsupported sample type {arr.dtype}")
    return np.ascontiguousarray(arr)


def write_image(path: str | Path, arr: np.ndarray) -> None:
    """Save HxW or HxWx3 uint8/uint16 as PNG or TIFF (by suffix); other suffixes via Pillow (8-bit)."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix in (".tif", ".tiff"):
        tifffile.imwrite(path, arr)
    elif suffix == ".png":
        path.write_bytes(imagecodecs.png_encode(arr))
    else:
        if arr.dtype != np.uint8:
            raise ValueError(f"{suffix} holds 8-bit images only: save as .png or .tif")
        Image.fromarray(arr).save(path)
