"""atheris fuzz harness for the image file readers (files/images.py: read_image_file, and so the PNG,
16-bit PNG, TIFF and Pillow paths and the PNG/TIFF metadata readers).

Every input must end in pixels or in ValueError (the CLI's one-line "not a readable image"), within
-timeout and -rss_limit_mb: a crash, a hang, a memory blow-up (decompression bombs: huge declared
sizes, zlib bombs in iCCP/zTXt/iTXt) or any other exception is a finding. Seeds: small files of every
kind the CLI reads (8/16-bit PNG with sBIT and metadata chunks, palette and grey+alpha PNG, 8/16-bit
and planar TIFF with ICC, JPEG with EXIF, WebP, BMP), written by --make-seeds DIR.
"""
import io
import os
from pathlib import Path

import atheris
import numpy as np

with atheris.instrument_imports(include=["jpegai_fast"]):
    from jpegai_fast.files.images import encode_image, read_image_file

_EXIF = bytes.fromhex("4d4d002a00000008000101120003000000010006000000000000")
_META = {"icc": b"\0" * 16 + b"icc", "exif": _EXIF, "xmp": b"<x:xmpmeta/>"}


def _seeds() -> dict[str, bytes]:
    from PIL import Image
    import tifffile
    rng = np.random.default_rng(0)
    rgb = rng.integers(0, 256, (6, 7, 3), dtype=np.uint8)
    deep = (rng.integers(0, 1024, (5, 4, 3))).astype(np.uint16)
    out = {
        "rgb.png": encode_image(rgb, ".png", None, _META),
        "deep10.png": encode_image(deep, ".png", 10, _META),
        "grey16.png": encode_image(deep[..., 0] * 64, ".png"),
        "ga.png": encode_image(rgb[..., :2], ".png"),
        "rgba.png": encode_image(np.dstack([rgb, rgb[..., :1]]), ".png"),
        "rgb.tif": encode_image(rgb, ".tif", None, _META),
        "deep10.tif": encode_image(deep, ".tif", 10, _META),
        "rgb.jpg": encode_image(rgb, ".jpg", None, _META),
        "rgb.webp": encode_image(rgb, ".webp"),
        "rgb.bmp": encode_image(rgb, ".bmp"),
    }
    buf = io.BytesIO()
    Image.fromarray(rgb).convert("P").save(buf, format="PNG")
    out["palette.png"] = buf.getvalue()
    buf = io.BytesIO()
    tifffile.imwrite(buf, np.moveaxis(rgb, 2, 0), photometric="rgb", planarconfig="separate")
    out["planar.tif"] = buf.getvalue()
    buf = io.BytesIO()
    tifffile.imwrite(buf, np.stack([rgb, rgb]), photometric="rgb")
    out["pages.tif"] = buf.getvalue()
    return out


def make_seeds(directory):
    os.makedirs(directory, exist_ok=True)
    for name, data in _seeds().items():
        Path(directory, name).write_bytes(data)


def TestOneInput(data: bytes):
    try:
        f = read_image_file(data, "fuzz")
    except ValueError:
        return
    a = f.pixels
    if a.dtype not in (np.uint8, np.uint16) or a.ndim not in (2, 3) or (a.ndim == 3 and a.shape[2] not in (2, 3, 4)):
        raise AssertionError(f"read_image_file gave {a.shape} {a.dtype}")


if __name__ == "__main__":
    from harness import main        # tests/fuzz/ is the script's folder, first on sys.path
    main(TestOneInput, make_seeds)
