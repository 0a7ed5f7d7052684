"""EXIF between image files and streams, as cjxl/djxl keep it: the orientation travels everywhere.

The stream stores EXIF as a bare TIFF structure and the orientation as a header byte
(format/metadata.py). Image files want EXIF in their own places: JPEG's APP1 and WebP's EXIF chunk
("Exif\\0\\0" + TIFF; Pillow writes both), PNG's eXIf, TIFF's own IFD0 tags. Pillow's ``Image.Exif``
builds and edits the structure (sub-IFDs included), so nothing here parses EXIF by hand.
"""
from __future__ import annotations

import io

_ORIENTATION = 0x0112
_EXIF_IFD, _GPS_IFD = 0x8769, 0x8825
#: IFD0 tags that describe the picture (not how a TIFF file lays out its strips): what EXIF keeps of a TIFF
DESCRIPTIVE_TAGS = {270: "ImageDescription", 271: "Make", 272: "Model", 305: "Software", 306: "DateTime",
                    315: "Artist", 33432: "Copyright"}


def with_orientation(exif: bytes | None, orientation: int) -> bytes | None:
    """EXIF (bare TIFF structure) that says ``orientation``: ``exif``'s other tags kept; None when there is
    nothing to say (no EXIF and orientation 1)."""
    if not exif and orientation == 1:
        return None
    from PIL import Image
    try:
        e = Image.Exif()
        if exif:
            e.load(b"Exif\x00\x00" + bytes(exif))
        e[_ORIENTATION] = int(orientation)
        return _bare(e.tobytes())
    except Exception:   # EXIF Pillow cannot read or write again (Pillow raises struct.error, ValueError, ...)
        e = Image.Exif()        # then the orientation alone, which is what a viewer needs of it
        e[_ORIENTATION] = int(orientation)
        return _bare(e.tobytes())


def from_tiff(data: bytes) -> bytes | None:
    """The EXIF of a TIFF file: its descriptive IFD0 tags, orientation, and EXIF and GPS sub-IFDs."""
    from PIL import Image
    with Image.open(io.BytesIO(data)) as im:
        src = im.getexif()
        out = Image.Exif()
        for tag in (*DESCRIPTIVE_TAGS, _ORIENTATION):
            if tag in src:
                out[tag] = src[tag]
        for ifd in (_EXIF_IFD, _GPS_IFD):
            sub = src.get_ifd(ifd)
            if sub:
                out[ifd] = dict(sub)
    return _bare(out.tobytes()) if len(out) else None


def tiff_tags(exif: bytes | None) -> dict[int, str]:
    """The descriptive IFD0 tags of ``exif`` a TIFF writer puts in its own IFD0 (strings only)."""
    if not exif:
        return {}
    from PIL import Image
    e = Image.Exif()
    try:
        e.load(b"Exif\x00\x00" + bytes(exif))
    except Exception:
        return {}
    return {tag: e[tag] for tag in DESCRIPTIVE_TAGS if isinstance(e.get(tag), str) and e[tag].isascii()}


def _bare(blob: bytes) -> bytes:
    return blob[6:] if blob.startswith(b"Exif\x00\x00") else blob


def exif_to_write(meta: dict) -> bytes | None:
    """The EXIF an image file should carry for ``meta`` {"exif", "orientation"}: the given bytes when they
    already say the orientation (nothing re-serialised), else EXIF saying it."""
    from jpegai_fast.format.metadata import exif_orientation
    exif = meta.get("exif")
    orientation = int(meta.get("orientation") or exif_orientation(exif))    # none given: the EXIF's own
    if exif and exif_orientation(exif) == orientation:
        return bytes(exif)
    return with_orientation(exif, orientation)
