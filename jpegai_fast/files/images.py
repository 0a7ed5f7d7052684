"""Reading and writing image files for the CLI: 8- and 16-bit PNG and TIFF, other formats via Pillow.

Pillow reads and writes PNG up to 8 bits and 16-bit PNG via pypng (Pillow truncates 16-bit colour
PNG to 8 bits); tifffile handles TIFF (Pillow where tifffile lacks a codec). Files are read from and
written to bytes, so the CLI can use stdin/stdout and write every output atomically (files/atomic.py).
``read_image_file`` also returns the file's metadata (ICC, EXIF, XMP, orientation) and its true bit
depth where the file says it (PNG sBIT, TIFF BitsPerSample / MaxSampleValue); ``encode_image`` writes
them back (PNG: iCCP, eXIf, iTXt XMP, sBIT; TIFF: ICC, XMP, Orientation, MaxSampleValue).

Hostile files cost what their header admits: the declared size is checked against
``format.limits.max_image_pixels`` before any pixel is decoded, a 16-bit PNG's data may not inflate past
that size, and compressed metadata inflates to at most the stream's limit for it (else InputRefused /
MetadataTooLarge, ValueErrors with a one-line message). A TIFF gives its first page (a warning says when
there are more, as Pillow and cwebp read only the first), samples last (planar RGB too); an Orientation
tag outside 1..8 reads as 1, as libtiff does.
"""
from __future__ import annotations

import io
import struct
import warnings
import zlib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from jpegai_fast.files.exif import exif_to_write, from_tiff
from jpegai_fast.files.exif import tiff_tags as exif_tags
from jpegai_fast.pixels import replicate_bits

_PNG = b"\x89PNG\r\n\x1a\n"
_TIFF = (b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+")
WRITABLE = (".png", ".tif", ".tiff", ".jpg", ".jpeg", ".webp", ".bmp", ".ppm", ".pgm")


@dataclass
class ImageFile:
    """Pixels, the bit depth the file declares (None: no hint), where that came from, and metadata."""

    pixels: np.ndarray
    bit_depth: int | None = None
    bit_depth_source: str = ""
    metadata: dict = field(default_factory=dict)
    has_alpha: bool = False


def _png_chunks(data: bytes):
    pos = 8
    while pos + 12 <= len(data):
        (n,) = struct.unpack_from(">I", data, pos)
        kind = data[pos + 4:pos + 8]
        yield kind, data[pos + 8:pos + 8 + n]
        pos += 12 + n
        if kind == b"IEND":
            return


class InputRefused(ValueError):
    """A file that is readable but past one of the codec's limits; the message is the one line to show."""


class MetadataTooLarge(InputRefused):
    """A compressed metadata chunk inflates past what a stream may carry: refused, never inflated whole."""


def _inflate(z: bytes, what: str) -> bytes:
    """zlib data of metadata field ``what`` ("icc", "xmp"), inflated to at most the container's limit for it.

    A zip bomb stops at limit + 1 bytes (MetadataTooLarge); a broken stream is zlib.error, as before.
    """
    from jpegai_fast.format.container import METADATA_LIMITS, Kind
    limit = METADATA_LIMITS[next(k for k, n in Kind.NAMES.items() if n == what)]
    d = zlib.decompressobj()
    out = d.decompress(z, limit + 1)
    if len(out) > limit:
        raise MetadataTooLarge(f"its {what.upper()} inflates to more than {limit} bytes, the most a stream carries")
    if not d.eof:
        raise zlib.error("incomplete or truncated zlib stream")
    return out


def _png_metadata(data: bytes) -> tuple[dict, list[int] | None]:
    meta, sbit = {}, None
    for kind, body in _png_chunks(data):
        try:
            if kind == b"iCCP":
                name_end = body.index(b"\0")
                meta["icc"] = _inflate(body[name_end + 2:], "icc")
            elif kind == b"eXIf":
                meta["exif"] = bytes(body)
            elif kind == b"iTXt" and body.startswith(b"XML:com.adobe.xmp\0"):
                rest = body[len(b"XML:com.adobe.xmp\0"):]
                compressed = rest[0] == 1
                rest = rest[2:]
                rest = rest[rest.index(b"\0") + 1:]           # language tag
                rest = rest[rest.index(b"\0") + 1:]           # translated keyword
                meta["xmp"] = _inflate(rest, "xmp") if compressed else bytes(rest)
            elif kind == b"sBIT":
                sbit = list(body)
        except MetadataTooLarge:
            raise
        except (ValueError, IndexError, zlib.error):
            continue        # a malformed ancillary chunk is ignored, as PNG decoders do
    return meta, sbit


def _chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def _png_with_chunks(png: bytes, chunks: list[bytes]) -> bytes:
    """Insert ancillary chunks right after IHDR (before PLTE/IDAT, where iCCP and sBIT must be)."""
    (n,) = struct.unpack_from(">I", png, 8)
    end = 8 + 12 + n
    return png[:end] + b"".join(chunks) + png[end:]


def _tiff_info(data: bytes) -> tuple[dict, int | None, str]:
    import tifffile
    meta, depth, source = {}, None, ""
    with tifffile.TiffFile(io.BytesIO(data)) as t:
        tags = t.pages[0].tags
        if 34675 in tags:
            meta["icc"] = bytes(tags[34675].value)
        if 700 in tags:
            v = tags[700].value
            meta["xmp"] = v.encode() if isinstance(v, str) else bytes(v)
        if 274 in tags:                 # 0, 9, ...: not an orientation; read as 1, as libtiff does
            orientation = int(tags[274].value)
            meta["orientation"] = orientation if 1 <= orientation <= 8 else 1
        bits = tags[258].value if 258 in tags else None
        bits = max(bits) if isinstance(bits, tuple) else bits
        if 281 in tags:
            mx = tags[281].value
            mx = max(mx) if isinstance(mx, tuple) else mx
            if 0 < int(mx) < 65535:
                depth, source = max(9, int(mx).bit_length()), "TIFF MaxSampleValue"
        if depth is None and bits is not None and 8 < int(bits) < 16:
            depth, source = int(bits), "TIFF BitsPerSample"
    return meta, depth, source


def read_image_file(data: bytes, name: str = "input") -> ImageFile:
    """Image file bytes -> ImageFile: pixels (decode_image), declared bit depth and metadata."""
    arr, had_alpha = _decode(data, name)
    meta, depth, source = {}, None, ""
    try:
        if data[:8] == _PNG:
            meta, sbit = _png_metadata(data)
            if arr.dtype == np.uint16 and sbit and 8 < max(sbit) < 16:
                depth, source = max(sbit), "PNG sBIT"
                arr = np.ascontiguousarray(arr >> (16 - depth))      # PNG stores the samples scaled up
        elif data[:4] in _TIFF:
            meta, depth, source = _tiff_info(data)
            exif = from_tiff(data)
            if exif:
                meta["exif"] = exif
            if depth is not None and arr.dtype == np.uint16 and int(arr.max(initial=0)) >= 1 << depth:
                depth, source = None, ""        # the tag is wrong about the samples: trust the samples
        else:
            from PIL import Image
            with Image.open(io.BytesIO(data)) as im:
                if im.info.get("icc_profile"):
                    meta["icc"] = bytes(im.info["icc_profile"])
                if im.info.get("exif"):
                    meta["exif"] = bytes(im.info["exif"])
                xmp = im.info.get("xmp") or im.info.get("XML:com.adobe.xmp")
                if xmp:
                    meta["xmp"] = xmp.encode() if isinstance(xmp, str) else bytes(xmp)
    except MetadataTooLarge as e:      # dropping it would lose metadata without a word
        raise MetadataTooLarge(f"{name}: {e}") from None
    except Exception:       # unreadable metadata never blocks the pixels
        meta = {}
    if "exif" in meta:
        from jpegai_fast.format.metadata import exif_orientation, normalise_exif
        try:
            meta["exif"] = normalise_exif(meta["exif"])
            meta.setdefault("orientation", exif_orientation(meta["exif"]))
        except ValueError:
            meta.pop("exif")
    if arr.dtype == np.uint8:
        depth, source = 8, "8-bit samples"
    return ImageFile(arr, depth, source, meta, had_alpha)


def decode_image(data: bytes, name: str = "input") -> np.ndarray:
    """Image file bytes -> HxW, HxWx2, HxWx3 or HxWx4 uint8/uint16 (alpha kept, palettes expanded).

    Raises ValueError for data that is not a readable image or has an unsupported sample type.
    """
    return _decode(data, name)[0]


def _decode(data: bytes, name: str) -> tuple[np.ndarray, bool]:
    try:
        if data[:8] == _PNG and len(data) > 25 and data[24] == 16:
            arr = _png16_decode(data)
        elif data[:4] in _TIFF:
            arr = _tiff_decode(data, name)
        else:
            arr = _pillow_decode(data)
    except InputRefused as e:       # readable, but past a limit: its own one line
        raise InputRefused(f"{name}: {e}") from None
    except Exception as e:          # every decoder's own error type: one clear message
        raise ValueError(f"{name}: not a readable image ({type(e).__name__}: {e})") from None
    had_alpha = arr.ndim == 3 and arr.shape[2] in (2, 4)
    if arr.ndim == 3 and arr.shape[2] == 1:
        arr = arr[..., 0]
    if arr.ndim not in (2, 3) or (arr.ndim == 3 and arr.shape[2] not in (2, 3, 4)):
        raise ValueError(f"{name}: unsupported image shape {arr.shape} (grey, grey+alpha, RGB or RGBA expected)")
    if arr.dtype not in (np.uint8, np.uint16):
        raise ValueError(f"{name}: unsupported sample type {arr.dtype} (8- or 16-bit integers expected)")
    return np.ascontiguousarray(arr), had_alpha


def _check_declared(width: int, height: int) -> None:
    """The size a file declares, against the codec's pixel limit, before any pixel is decoded."""
    from jpegai_fast.format import limits
    # a damaged TIFF tag can hold several values: a tuple here would make width * height a repeated
    # tuple of billions of items (fuzz_image_files found that: 8 s and growing memory)
    if not all(isinstance(v, (int, np.integer)) and not isinstance(v, bool) for v in (width, height)):
        raise InputRefused(f"declares a size that is not two integers: {width!r:.40} x {height!r:.40}")
    width, height = int(width), int(height)
    if width * height > limits.max_image_pixels:
        raise InputRefused(f"declares {width}x{height} = {width * height} pixels, above the limit of "
                           f"{limits.max_image_pixels} (jpegai_fast.format.limits.set_max_image_pixels)")


def _pillow_decode(data: bytes) -> np.ndarray:
    from PIL import Image
    with Image.open(io.BytesIO(data)) as im:          # reads the header only; Pillow's own bomb check runs here
        _check_declared(*im.size)
        if im.mode in ("L", "RGB", "I;16", "RGBA", "LA"):
            return np.asarray(im)
        if "transparency" in im.info or im.mode in ("PA", "RGBa", "La"):
            return np.asarray(im.convert("RGBA"))
        if im.mode == "1":
            return np.asarray(im.convert("L"))
        return np.asarray(im.convert("RGB"))


#: Adam7 passes: (x0, y0, dx, dy)
_ADAM7 = ((0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2), (0, 1, 1, 2))
_PNG_SAMPLES = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}       # samples per pixel of each PNG colour type


def _png_raw_size(data: bytes) -> int:
    """Bytes the IHDR's image inflates to (filter bytes included), after checking its size against the limit."""
    width, height, depth, colour, _, _, interlace = struct.unpack_from(">IIBBBBB", data, 16)
    _check_declared(width, height)
    bits = depth * _PNG_SAMPLES.get(colour, 4)
    total = 0
    for x0, y0, dx, dy in (_ADAM7 if interlace else ((0, 0, 1, 1),)):
        w, h = -(-(width - x0) // dx), -(-(height - y0) // dy)
        if w > 0 and h > 0:
            total += h * (1 + -(-w * bits // 8))
    return total


def _check_idat(data: bytes) -> None:
    """Inflate the IDAT stream in bounded steps, counting: more than the IHDR's image holds is refused.

    pypng inflates each IDAT chunk whole, so a 4x4 PNG whose one IDAT inflates to gigabytes would
    exhaust memory (issue 28: 70 s and > 3.7 GB for a 577 KB file) before it noticed the excess.
    """
    raw, seen = _png_raw_size(data), 0
    d = zlib.decompressobj()
    for kind, body in _png_chunks(data):
        if kind != b"IDAT":
            continue
        while body:
            seen += len(d.decompress(body, 1 << 20))
            if seen > raw:
                raise InputRefused(f"its image data inflates to more than the {raw} bytes its header declares")
            body = d.unconsumed_tail


def _png16_decode(data: bytes) -> np.ndarray:
    """A 16-bit PNG (grey, grey+alpha, RGB, RGBA; IHDR bit depth 16) as uint16, through pypng."""
    import png
    _check_idat(data)
    w, h, rows, info = png.Reader(bytes=data).read()
    planes = info["planes"]
    arr = np.empty((h, w * planes), np.uint16)     # rows land in place: one copy of the image, not three
    for y, row in enumerate(rows):
        arr[y] = row
    arr = arr.reshape(h, w, planes)
    return arr[..., 0] if planes == 1 else arr


def _tiff_decode(data: bytes, name: str) -> np.ndarray:
    """The first page of a TIFF (as Pillow and cwebp read it), samples last (planar RGB included)."""
    import tifffile
    with tifffile.TiffFile(io.BytesIO(data)) as t:
        page = t.pages[0]
        _check_declared(page.imagewidth, page.imagelength)
        _check_segments(page, len(data))
        if _has_second_page(t):
            warnings.warn(f"{name}: a multi-page TIFF; coding its first page", RuntimeWarning, stacklevel=2)
        try:
            arr = page.asarray()
        except (ValueError, NotImplementedError, KeyError) as e:
            if "imagecodecs" not in str(e) and "codec" not in str(e).lower():
                raise
            return _pillow_decode(data)       # a compression tifffile has no codec for here (e.g. LZW)
        if "S" in page.axes and page.axes[-1] != "S":       # planar configuration 2: SYX
            arr = np.moveaxis(arr, page.axes.index("S"), -1)
        return arr


#: Most raw sample bytes a TIFF may declare per byte of file: above what deflate (~1032:1) or LZW
#: (~2700:1 on a flat image) can reach, so no file those make is refused; a declaration beyond it is a bomb.
MAX_TIFF_RATIO = 4096


def _check_segments(page, file_bytes: int) -> None:
    """Refuse a TIFF whose layout cannot be in the file, before tifffile allocates or walks it: integer
    samples per pixel and bits, every strip/tile listed and holding a byte, uncompressed samples all
    present, compressed ones within MAX_TIFF_RATIO of the file (the fuzz campaign's findings: 1.6 M
    strips declared in 414 bytes walked for seconds; 201 Mpx uncompressed declared in 221 bytes
    allocated 800 MB)."""
    import math
    spp, bits = page.samplesperpixel, page.bitspersample
    if not all(isinstance(v, (int, np.integer)) and 0 < v <= 64 for v in (spp, bits)):
        raise InputRefused(f"declares {spp!r:.40} samples per pixel of {bits!r:.40} bits: not one integer each")
    planes = spp if page.planarconfig == 2 else 1
    if page.is_tiled:
        n = math.ceil(page.imagelength / page.tilelength) * math.ceil(page.imagewidth / page.tilewidth)
    else:
        rows = page.rowsperstrip or page.imagelength
        n = math.ceil(page.imagelength / max(1, rows))
    n *= planes * max(1, page.imagedepth)
    if n > file_bytes or len(page.dataoffsets) != n:
        raise InputRefused(f"the TIFF's layout needs {n} strips or tiles; the file lists {len(page.dataoffsets)} "
                           f"in {file_bytes} bytes")
    raw = page.imagewidth * page.imagelength * max(1, page.imagedepth) * spp * bits // 8
    stored = sum(int(c) for c in page.databytecounts)
    if (page.compression == 1 and stored < raw) or raw > MAX_TIFF_RATIO * file_bytes:
        raise InputRefused(f"declares {raw} bytes of samples in a file of {file_bytes} bytes "
                           f"({stored} stored{', uncompressed' if page.compression == 1 else ''})")


def _has_second_page(t) -> bool:
    try:
        t.pages[1]
    except IndexError:
        return False
    return True


#: zlib levels of written PNGs. A decode's PNG is written fast by default: on kodim23 level 1 takes 0.09 s
#: against level 6's 0.52 s for 14 % more bytes (measured on a 2-core host under load); SMALLEST on request.
PNG_FAST, PNG_SMALLEST = 1, 9


def _png_encode(arr: np.ndarray, level: int = PNG_FAST) -> bytes:
    """uint8 through Pillow, uint16 through pypng, at zlib ``level``."""
    if arr.dtype == np.uint8:
        from PIL import Image
        buf = io.BytesIO()
        Image.fromarray(arr).save(buf, format="PNG", compress_level=level)
        return buf.getvalue()
    import png
    planes = 1 if arr.ndim == 2 else arr.shape[2]
    writer = png.Writer(arr.shape[1], arr.shape[0], greyscale=planes <= 2, alpha=planes in (2, 4), bitdepth=16,
                        compression=level)
    buf = io.BytesIO()
    writer.write_array(buf, np.ascontiguousarray(arr).reshape(-1))
    return buf.getvalue()


def read_image(path: str | Path) -> np.ndarray:
    """Load an image file as HxW or HxWx3 uint8/uint16 (see decode_image)."""
    path = Path(path)
    return decode_image(path.read_bytes(), str(path))


def encode_image(arr: np.ndarray, suffix: str, bit_depth: int | None = None, metadata: dict | None = None, *,
                 smallest: bool = False) -> bytes:
    """HxW or HxWx3 uint8/uint16 -> file bytes for ``suffix`` (.png/.tif keep 16 bits; others 8-bit).

    ``bit_depth`` (9..15) of a uint16 image: PNG scales the samples to 16 bits and adds sBIT, TIFF
    keeps them and adds MaxSampleValue. ``metadata`` {"icc", "exif", "xmp", "orientation"}: PNG
    writes all of them, JPEG and WebP the ICC profile and the EXIF, TIFF the ICC profile, XMP,
    Orientation and EXIF's descriptive tags (Make, Model, DateTime, ...; not its camera sub-IFD).
    EXIF always says the orientation (files/exif.py), also when the stream held none but the header's.
    """
    suffix = suffix.lower()
    meta = metadata or {}
    if suffix not in WRITABLE:
        raise ValueError(f"unknown image file type {suffix!r}: use one of {', '.join(WRITABLE)}")
    partial = arr.dtype == np.uint16 and bit_depth is not None and bit_depth < 16
    if suffix in (".tif", ".tiff"):
        import tifffile
        buf = io.BytesIO()
        extra = []
        if meta.get("xmp"):
            extra.append((700, "B", len(meta["xmp"]), bytes(meta["xmp"]), True))
        if meta.get("orientation", 1) != 1:
            extra.append((274, "H", 1, int(meta["orientation"]), True))
        for tag, text in exif_tags(meta.get("exif")).items():
            extra.append((tag, "s", 0, text, True))
        if partial:
            extra.append((281, "H", 1, (1 << bit_depth) - 1, True))
        channels = 1 if arr.ndim == 2 else arr.shape[2]
        tifffile.imwrite(buf, arr, iccprofile=meta.get("icc") or None, extratags=extra,
                         photometric="rgb" if channels in (3, 4) else "minisblack", metadata=None,
                         extrasamples=[2] if channels in (2, 4) else None)
        return buf.getvalue()
    if suffix == ".png":
        png = _png_encode(replicate_bits(arr, bit_depth, 16) if partial else arr,
                          PNG_SMALLEST if smallest else PNG_FAST)
        chunks = []
        if meta.get("icc"):
            chunks.append(_chunk(b"iCCP", b"ICC profile\0\0" + zlib.compress(bytes(meta["icc"]))))
        if partial:
            chunks.append(_chunk(b"sBIT", bytes([bit_depth] * (1 if arr.ndim == 2 else arr.shape[2]))))
        exif = exif_to_write(meta)
        if exif:
            chunks.append(_chunk(b"eXIf", exif))
        if meta.get("xmp"):
            chunks.append(_chunk(b"iTXt", b"XML:com.adobe.xmp\0\0\0\0\0" + bytes(meta["xmp"])))
        return _png_with_chunks(png, chunks) if chunks else png
    if arr.dtype != np.uint8:
        raise ValueError(f"{suffix} holds 8-bit images only: save a {arr.dtype} image as .png or .tif")
    if arr.ndim == 3 and arr.shape[2] in (2, 4) and suffix in (".jpg", ".jpeg", ".bmp", ".ppm", ".pgm"):
        raise ValueError(f"{suffix} has no alpha channel: save an image with alpha as .png, .tif or .webp")
    from PIL import Image
    buf = io.BytesIO()
    fmt = {".jpg": "JPEG", ".jpeg": "JPEG", ".webp": "WEBP", ".bmp": "BMP", ".ppm": "PPM", ".pgm": "PPM"}[suffix]
    opts = {"quality": 95} if fmt in ("JPEG", "WEBP") else {}
    if meta.get("icc") and fmt in ("JPEG", "WEBP"):
        opts["icc_profile"] = bytes(meta["icc"])
    exif = exif_to_write(meta) if fmt in ("JPEG", "WEBP") else None
    if exif:
        opts["exif"] = b"Exif\x00\x00" + exif          # APP1 / the EXIF chunk; Pillow strips the prefix for WebP
    Image.fromarray(arr).save(buf, format=fmt, **opts)
    return buf.getvalue()


def write_image(path: str | Path, arr: np.ndarray, bit_depth: int | None = None, metadata: dict | None = None, *,
                overwrite: bool = False) -> None:
    """Save HxW or HxWx3 uint8/uint16 by suffix, atomically (a temporary file renamed into place);
    an existing ``path`` is replaced only with ``overwrite=True`` (files/atomic.py's output policy)."""
    from jpegai_fast.files.atomic import atomic_write
    path = Path(path)
    atomic_write(path, encode_image(arr, path.suffix, bit_depth, metadata), overwrite=overwrite)
