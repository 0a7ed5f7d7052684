"""Pillow plugin: ``import jpegai_fast.pillow`` registers the .jai format, as ``import pillow_avif`` does.

    import jpegai_fast.pillow
    from PIL import Image
    im = Image.open("photo.jai")          # reads size and mode from the header; decodes on load()
    im.save("copy.jai", quality=70)       # or bpp=0.5, effort=5, layers=..., tile_size=...

Modes: L, LA, RGB and RGBA (8-bit), I;16 (grey 9..16 bits, scaled to 16 bits as Pillow expects). A
16-bit colour stream opens as RGB/RGBA (8-bit), since Pillow has no 16-bit RGB mode; ``jpegai_fast.decode`` gives the
full depth. ICC profile, EXIF and XMP appear in ``im.info`` ("icc_profile", "exif", "xmp") and are
written from ``im.info`` or the save() arguments of the same names. A stream that cannot be decoded makes
load() raise ``JaiDecodeError``, both a ``jpegai_fast.DecodeError`` and an OSError.

Reduced sizes come from the model's preview head (``decode(scale=s)``, docs/preview.md), without the full
synthesis: ``draft(mode, size)`` before load() picks the largest scale 2, 4 or 8 whose image is still at
least ``size`` (so ``Image.thumbnail`` is fast), and ``reduce(f)`` of an unloaded image with f = 2, 4 or 8
(the same both ways, whole image) decodes at that scale; any other reduce is Pillow's own.

Saving, as Pillow's PNG plugin does: I;16 and I (values 0..65535, else ValueError) as 16-bit grey; 1 as
L; La as LA and RGBa as RGBA (un-premultiplied); P, PA, CMYK, YCbCr, LAB and HSV converted to RGB(A);
any other mode (F, ...) is refused with OSError. save() options are checked by the encode options'
table (encoder/options.py), as for ``jpegai_fast.encode``.
"""
from __future__ import annotations

import numpy as np
from PIL import Image, ImageFile

from jpegai_fast.format import container
from jpegai_fast.errors import DecodeError, ImageTooLargeError
from jpegai_fast.pixels import replicate_bits
from jpegai_fast.runtime.preview import SCALES

FORMAT = "JAI"
MIME = "image/x-jpegai-fast"
_EXIF_PREFIX = b"Exif\x00\x00"
_OPTIONS = ("quality", "bpp", "effort", "layers", "tile_size", "alpha_bits", "lossless", "max_error")   # save() arguments for encode


class JaiDecodeError(DecodeError, OSError):
    """A stream that load() cannot decode: a ``jpegai_fast.DecodeError`` (so a ValueError) that is also the
    OSError Pillow's own loaders raise for broken files (``except OSError`` around ``Image.open``/``load``)."""


def _accept(prefix: bytes) -> bool:
    return prefix[:3] == container.MAGIC


class JaiImageFile(ImageFile.ImageFile):
    format = FORMAT
    format_description = "jpegai_fast learned image stream"

    def _open(self):
        data = self.fp.read()
        try:
            header = container.read(data)
        except ImageTooLargeError as e:      # Pillow's own error for an image above its pixel limit
            raise Image.DecompressionBombError(str(e)) from None
        except DecodeError as e:
            raise SyntaxError(f"not a readable jpegai_fast stream: {e}") from None
        if header.channels == 1:
            self._mode = "L" if header.bit_depth == 8 else "I;16"
        else:
            self._mode = {2: "LA", 3: "RGB", 4: "RGBA"}[header.channels]
        self._size = (header.width, header.height)
        self._jai_data = data
        self._jai_bit_depth = header.bit_depth
        self._jai_scale = 1             # draft() may pick a preview scale before load()
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

    def _decode(self, scale: int) -> Image.Image:
        """The stream decoded at ``scale`` as a Pillow image of this file's mode."""
        from jpegai_fast.api import decode
        try:
            arr = decode(self._jai_data, scale=scale)
        except DecodeError as e:       # Pillow callers catch OSError from load(), as for a broken PNG
            raise JaiDecodeError(str(e)) from e
        depth = self._jai_bit_depth
        if arr.dtype == np.uint16:
            if arr.ndim == 3:            # no 16-bit RGB/LA/RGBA mode in Pillow: 8 bits
                arr = np.clip(np.rint(arr * (255.0 / ((1 << depth) - 1))), 0, 255).astype(np.uint8)
            elif depth < 16:             # I;16 holds 16-bit values
                arr = replicate_bits(arr, depth, 16)
        return Image.fromarray(arr)

    def draft(self, mode, size):
        """Decode at the largest preview scale whose image is at least ``size`` (Pillow's draft contract:
        the mode is kept; the box is the whole image in the reduced pixels). None when nothing changes."""
        if getattr(self, "_jai_loaded", False) or not size or self._jai_scale != 1:
            return None
        w, h = self.size
        fits = [s for s in SCALES if -(-w // s) >= size[0] and -(-h // s) >= size[1]]
        if not fits:
            return None
        self._jai_scale = scale = max(fits)
        self._size = (-(-w // scale), -(-h // scale))
        return self.mode, (0, 0, w / scale, h / scale)

    def reduce(self, factor, box=None):
        """``reduce(f)`` for f = 2, 4, 8 on the whole unloaded image decodes from the preview head; else Pillow's."""
        f = tuple(factor) if isinstance(factor, (list, tuple)) else (factor, factor)
        whole = box is None or tuple(box) == (0, 0) + self.size
        if whole and f[0] == f[1] and f[0] in SCALES and self._jai_scale == 1 and not getattr(self, "_jai_loaded", False):
            return self._new(self._decode(int(f[0])).im)
        return super().reduce(factor, box)

    def load(self):
        if getattr(self, "_jai_loaded", False):
            return Image.Image.load(self)
        img = self._decode(self._jai_scale)
        self.im = img.im
        self._mode = img.mode
        self._jai_loaded = True
        return Image.Image.load(self)


#: Pillow mode -> the mode whose array is coded. Like Pillow's PNG plugin, modes without an exact
#: counterpart are refused (OSError) rather than converted into something that means other pixels.
_SAVE_AS = {
    "1": "L", "L": "L", "LA": "LA", "La": "LA", "RGB": "RGB", "RGBA": "RGBA", "RGBa": "RGBA",
    "P": "RGB", "PA": "RGBA", "CMYK": "RGB", "YCbCr": "RGB", "LAB": "RGB", "HSV": "RGB",
}
_SIXTEEN_BIT = ("I", "I;16", "I;16B", "I;16L", "I;16N")


def _pixels(im: Image.Image) -> tuple[np.ndarray, int | None]:
    """The array to code and its bit depth (None: 8-bit) for ``im``'s mode; OSError for a mode with no
    stream counterpart, ValueError for a mode-I image whose values do not fit 16 bits."""
    mode = im.mode
    if mode in _SIXTEEN_BIT:          # I holds 32-bit ints: like PNG, coded as 16-bit grey when they fit
        arr = np.asarray(im)
        lo, hi = int(arr.min(initial=0)), int(arr.max(initial=0))
        if lo < 0 or hi > 65535:
            raise ValueError(f"mode {mode} image has values {lo}..{hi}; JAI stores 0..65535 (16-bit grey)")
        return arr.astype(np.uint16), 16
    if mode == "P" and "transparency" in im.info:
        mode = "PA"
    if mode not in _SAVE_AS:
        raise OSError(f"cannot write mode {mode} as {FORMAT} (use L, LA, RGB, RGBA, I or I;16)")
    target = _SAVE_AS[mode]
    return np.asarray(im if im.mode == target else im.convert(target)), None


def _save(im: Image.Image, fp, filename) -> None:
    from jpegai_fast.api import encode
    from jpegai_fast.encoder.options import EncodeOptions
    opts = im.encoderinfo
    # the options table checks these as it does for encode() and the CLI, before any pixel work
    options = EncodeOptions.from_user(**{k: opts.get(k) for k in _OPTIONS})
    arr, bit_depth = _pixels(im)
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
    kwargs = dict(options.kwargs(), bit_depth=bit_depth)
    fp.write(encode(np.ascontiguousarray(arr), metadata=metadata or None, **kwargs))


Image.register_open(FORMAT, JaiImageFile, _accept)
Image.register_save(FORMAT, _save)
Image.register_extension(FORMAT, ".jai")
Image.register_mime(FORMAT, MIME)
