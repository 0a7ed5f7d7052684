"""Pillow plugin: ``import jpegai_fast.pillow`` registers the .jai format, as ``import pillow_avif`` does.

    import jpegai_fast.pillow
    from PIL import Image
    im = Image.open("photo.jai")          # reads size and mode from the header; decodes on load()
    im.save("copy.jai", quality=70)       # or bpp=0.5, effort=5, layers=..., tile_size=...

Modes: L, LA, RGB and RGBA (8-bit), I;16 (grey 9..16 bits, scaled to 16 bits as Pillow expects). A
16-bit colour stream opens as RGB/RGBA (8-bit), since Pillow has no 16-bit RGB mode; ``jpegai_fast.decode`` gives the
full depth. ICC profile, EXIF and XMP appear in ``im.info`` ("icc_profile", "exif", "xmp") and are
written from ``im.info`` or the save() arguments of the same names. ``draft`` / ``reduce`` decode the
whole stream (the codec has no reduced-resolution decode).
"""
from __future__ import annotations

import numpy as np
from PIL import Image, ImageFile

from jpegai_fast.format import container
from jpegai_fast.errors import DecodeError
from jpegai_fast.pixels import replicate_bits

FORMAT = "JAI"
MIME = "image/x-jpegai-fast"
_EXIF_PREFIX = b"Exif\x00\x00"


def _accept(prefix: bytes) -> bool:
    return prefix[:3] == container.MAGIC


class JaiImageFile(ImageFile.ImageFile):
    format = FORMAT
    format_description = "jpegai_fast learned image stream"

    def _open(self):
        data = self.fp.read()
        try:
            header = container.read(data)
        except DecodeError as e:
            raise SyntaxError(f"not a readable jpegai_fast stream: {e}") from None
        if header.channels == 1:
            self._mode = "L" if header.bit_depth == 8 else "I;16"
        else:
            self._mode = {2: "LA", 3: "RGB", 4: "RGBA"}[header.channels]
        self._size = (header.width, header.height)
        self._jai_data = data
        self._jai_bit_depth = header.bit_depth
        for s in header.substreams:
            if s.kind in container.Kind.METADATA and s.complete:
                payload = data[s.offset:s.offset + s.length]
                if s.kind == container.Kind.ICC:
                    self.info["icc_profile"] = payload
                elif s.kind == container.Kind.EXIF:
                    self.info["exif"] = _EXIF_PREFIX + payload     # Pillow's convention (as for JPEG)
                else:
                    self.info["xmp"] = payload
        self.info["orientation"] = header.orientation
        self.tile = []

    def load(self):
        if getattr(self, "_jai_loaded", False):
            return Image.Image.load(self)
        from jpegai_fast.api import decode
        arr = decode(self._jai_data)
        depth = self._jai_bit_depth
        if arr.dtype == np.uint16:
            if arr.ndim == 3:            # no 16-bit RGB/LA/RGBA mode in Pillow: 8 bits
                arr = np.clip(np.rint(arr * (255.0 / ((1 << depth) - 1))), 0, 255).astype(np.uint8)
            elif depth < 16:             # I;16 holds 16-bit values
                arr = replicate_bits(arr, depth, 16)
        img = Image.fromarray(arr)
        self.im = img.im
        self._mode = img.mode
        self._jai_loaded = True
        return Image.Image.load(self)


def _save(im: Image.Image, fp, filename) -> None:
    from jpegai_fast.api import encode
    opts = im.encoderinfo
    mode = im.mode
    if mode in ("I;16", "I;16B", "I;16L"):
        arr, bit_depth = np.asarray(im, dtype=np.uint16), 16
    elif mode in ("L", "LA", "RGBA", "RGB"):
        arr, bit_depth = np.asarray(im), None
    elif mode in ("PA", "RGBa", "La") or (mode == "P" and "transparency" in im.info):
        arr, bit_depth = np.asarray(im.convert("RGBA")), None
    else:
        arr, bit_depth = np.asarray(im.convert("RGB")), None
    metadata = {}
    icc = opts.get("icc_profile", im.info.get("icc_profile"))
    if icc:
        metadata["icc"] = icc
    exif = opts.get("exif", im.info.get("exif"))
    if isinstance(exif, Image.Exif):
        exif = exif.tobytes()
    if exif:
        metadata["exif"] = exif
    xmp = opts.get("xmp", im.info.get("xmp"))
    if xmp:
        metadata["xmp"] = xmp.encode() if isinstance(xmp, str) else xmp
    data = encode(np.ascontiguousarray(arr), bit_depth=bit_depth, quality=opts.get("quality"), bpp=opts.get("bpp"),
                  effort=opts.get("effort"), layers=opts.get("layers", 1), tile_size=opts.get("tile_size"),
                  metadata=metadata or None, alpha_bits=opts.get("alpha_bits"))
    fp.write(data)


Image.register_open(FORMAT, JaiImageFile, _accept)
Image.register_save(FORMAT, _save)
Image.register_extension(FORMAT, ".jai")
Image.register_mime(FORMAT, MIME)
