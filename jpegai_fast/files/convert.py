"""File <-> stream conversion, one rule for every front end (the CLI's encode/decode and batch).

What the source file says about its pixels travels with them: the bit depth it declares (PNG sBIT,
TIFF MaxSampleValue/BitsPerSample) is the depth coded, and the ICC profile, EXIF (orientation
included) and XMP are stored in the stream; decoding writes the stream's bit depth (sBIT /
MaxSampleValue) and metadata back into the image file. Stripping metadata keeps the orientation,
and decoding can apply it to the pixels (``auto_orient``), as djxl does. Before this module the batch path restated
the CLI's steps and lost both (a 10-bit stream became a 16-bit PNG without sBIT: 64x too dark).
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass
class FileEncode:
    """A coded file: the stream, the pixels and depth coded, and what to tell the user."""

    data: bytes
    pixels: np.ndarray
    bit_depth: int
    notes: list[str] = field(default_factory=list)


def coded_bit_depth(f, bit_depth: int | None, name: str) -> tuple[int, str | None]:
    """The bit depth to code ImageFile ``f`` at, and a note for the user (None: nothing to say).

    ``bit_depth`` is the user's override; a PNG sBIT it contradicts is an error (the samples were
    already scaled down by sBIT, coding them at another depth would change what they mean).
    """
    if f.pixels.dtype != np.uint16:
        return 8, None
    if bit_depth is None:
        if f.bit_depth is None:
            return 16, (f"{name}: 16-bit samples and no bit-depth hint in the file: coded as 16-bit "
                        "(--bit-depth N if it holds fewer)")
        return f.bit_depth, f"{name}: {f.bit_depth}-bit samples ({f.bit_depth_source})"
    if f.bit_depth_source == "PNG sBIT" and bit_depth != f.bit_depth:
        raise ValueError(f"{name} declares {f.bit_depth} bits (PNG sBIT); --bit-depth {bit_depth} contradicts it")
    return bit_depth, None


def encode_file(data: bytes, name: str, *, bit_depth: int | None = None, keep_metadata: bool = True,
                **options) -> FileEncode:
    """Image file bytes -> stream, keeping the file's bit depth and (unless told not to) its metadata.

    ``options``: api.encode's keyword arguments (bpp, quality, effort, threads, ...).
    Raises ValueError for an unreadable file or bad options.
    """
    from jpegai_fast import api
    from jpegai_fast.files.images import read_image_file
    f = read_image_file(data, name)
    depth, note = coded_bit_depth(f, bit_depth, name)
    out = api.encode(f.pixels, bit_depth=depth if f.pixels.dtype == np.uint16 else bit_depth,
                     metadata=f.metadata if keep_metadata else _only_orientation(f.metadata), **options)
    return FileEncode(out, f.pixels, depth, [note] if note else [])


def decode_to_file(data: bytes, suffix: str, *, keep_metadata: bool = True, auto_orient: bool = False,
                   smallest: bool = False, **options) -> tuple[bytes, np.ndarray]:
    """Stream -> image file bytes of type ``suffix`` (and the pixels), with the stream's bit depth and metadata.

    ``auto_orient``: turn the pixels as the orientation says (djxl's default), which is then 1.
    ``smallest``: the smallest PNG (zlib level 9) instead of the fast one (files/images.PNG_FAST).
    ``options``: api.decode's keyword arguments (threads, device, region).
    """
    from jpegai_fast import api
    from jpegai_fast.files.images import encode_image
    from jpegai_fast.pixels import apply_orientation
    check_suffix(suffix)          # before any decoding work
    img, meta = api.decode(data, with_metadata=True, **options)
    if auto_orient:
        img, meta = apply_orientation(img, meta["orientation"]), dict(meta, orientation=1)
    meta = meta if keep_metadata else _only_orientation(meta)
    return encode_image(img, suffix, api.info(data)["bit_depth"], meta, smallest=smallest), img


def _only_orientation(meta: dict) -> dict:
    """What --strip keeps: how the picture is meant to be shown (cjxl and djxl keep it too)."""
    return {"orientation": meta.get("orientation") or 1}


def check_suffix(suffix: str) -> None:
    """Refuse an output image type that encode_image cannot write, before any decoding work."""
    from jpegai_fast.files.images import WRITABLE
    if suffix.lower() not in WRITABLE:
        raise ValueError(f"unknown image file type {suffix!r}: use one of {', '.join(WRITABLE)}")
