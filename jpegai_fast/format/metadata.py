"""Image metadata the container carries: ICC profile, EXIF, XMP and the EXIF orientation.

The stream stores each as raw bytes in its own CRC-protected substream (docs/format.md) and the
orientation (1..8, EXIF's values) as a header byte, so ``info`` reports it without parsing EXIF.
As cjxl does, the orientation is stored and reported, and the pixels are kept as the file held them;
viewers apply it from the EXIF (or the TIFF Orientation tag) that the CLI writes back.
"""
from __future__ import annotations

import struct

from jpegai_fast.format.container import METADATA_LIMITS, Kind

NAMES = tuple(Kind.NAMES.values())          # ("icc", "exif", "xmp")
_EXIF_PREFIX = b"Exif\x00\x00"
_ORIENTATION_TAG = 0x0112


def normalise_exif(exif: bytes) -> bytes:
    """EXIF as a bare TIFF structure: drops JPEG's "Exif\\0\\0" prefix; ValueError if it is not TIFF."""
    exif = bytes(exif)
    if exif.startswith(_EXIF_PREFIX):
        exif = exif[len(_EXIF_PREFIX):]
    if exif[:4] not in (b"II*\x00", b"MM\x00*"):
        raise ValueError("EXIF must be a TIFF structure (starting II*\\0 or MM\\0*)")
    return exif


def exif_orientation(exif: bytes | None) -> int:
    """EXIF Orientation (tag 0x0112 of IFD0), 1 when absent or unreadable."""
    if not exif:
        return 1
    try:
        tiff = normalise_exif(exif)
        order = "<" if tiff[:2] == b"II" else ">"
        (ifd,) = struct.unpack_from(order + "I", tiff, 4)
        (count,) = struct.unpack_from(order + "H", tiff, ifd)
        for i in range(min(count, 4096)):
            tag, typ, n, value = struct.unpack_from(order + "HHI4s", tiff, ifd + 2 + 12 * i)
            if tag == _ORIENTATION_TAG and typ == 3 and n >= 1:
                (v,) = struct.unpack_from(order + "H", value, 0)
                return v if 1 <= v <= 8 else 1
    except (struct.error, ValueError):
        return 1
    return 1


def check(metadata) -> tuple[dict, int]:
    """Validate ``encode(..., metadata=)``: {"icc", "exif", "xmp"} -> bytes (each optional), plus an optional
    "orientation" (1..8; default: from the EXIF). Returns (the byte fields, orientation)."""
    if metadata is None:
        return {}, 1
    if not isinstance(metadata, dict):
        raise TypeError(f"metadata must be a dict, got {type(metadata).__name__}")
    unknown = set(metadata) - set(NAMES) - {"orientation"}
    if unknown:
        raise ValueError(f"unknown metadata fields {sorted(unknown)} (known: {', '.join(NAMES)}, orientation)")
    fields = {}
    for kind, name in Kind.NAMES.items():
        value = metadata.get(name)
        if value is None:
            continue
        if not isinstance(value, (bytes, bytearray, memoryview)):
            raise TypeError(f"metadata[{name!r}] must be bytes, got {type(value).__name__}")
        value = bytes(value)
        if name == "exif":
            value = normalise_exif(value)
        if len(value) > METADATA_LIMITS[kind]:
            raise ValueError(f"metadata[{name!r}] has {len(value)} bytes, above the limit of {METADATA_LIMITS[kind]}")
        if value:
            fields[name] = value
    orientation = metadata.get("orientation")
    if orientation is None:
        orientation = exif_orientation(fields.get("exif"))
    if isinstance(orientation, bool) or not isinstance(orientation, int) or not 1 <= orientation <= 8:
        raise ValueError(f"orientation must be an int 1..8, got {orientation!r}")
    return fields, orientation
