"""Codec adapters for the evaluation: one small interface, classical anchors through maintained libraries.

Every adapter maps one scalar *knob* (quality, distance, rate ...) to a bitstream. The rate search only needs
to know the knob's range, whether it is an integer, whether the rate grows or shrinks with it and whether it
is best searched on a log scale. Adapters whose library is missing stay registered but report themselves
unavailable with a reason, so a run can list them instead of crashing.

``jpegai_fast`` (or any other codec) plugs in with :func:`register`.
"""
from __future__ import annotations

import importlib
import io
from dataclasses import dataclass
from typing import Callable

import numpy as np
from PIL import Image, features


@dataclass(frozen=True)
class Knob:
    """The one parameter a codec's rate is searched on.

    ``rate_increases``: True when a larger knob gives a larger file (quality); False for distance-like knobs.
    ``log``: search on a log scale (the knob spans decades); needs ``low > 0``.
    """

    name: str
    low: float
    high: float
    integer: bool
    rate_increases: bool = True
    log: bool = False

    def __post_init__(self):
        if not self.low < self.high:
            raise ValueError(f"knob {self.name}: low ({self.low}) must be below high ({self.high})")
        if self.log and self.low <= 0:
            raise ValueError(f"knob {self.name}: a log-scale knob needs low > 0")
        if self.log and self.integer:
            raise ValueError(f"knob {self.name}: an integer knob is searched on a linear scale (log=False)")


def check_image(img) -> np.ndarray:
    """Validate an RGB uint8 HxWx3 array (the anchors' common ground) and return it C-contiguous;
    raise TypeError/ValueError otherwise. The general checks are pixels.check_image's."""
    from jpegai_fast.pixels import check_image as check_any
    if isinstance(img, np.ndarray) and img.dtype != np.uint8:
        raise TypeError(f"image must be uint8, got {img.dtype}")
    if isinstance(img, np.ndarray) and (img.ndim != 3 or img.shape[2] != 3):
        raise ValueError(f"image must be HxWx3 RGB, got shape {img.shape}")
    return check_any(img, None)[0]


class CodecAdapter:
    """Base class of a codec adapter: ``encode(img, knob) -> bytes`` and ``decode(bytes) -> img``."""

    name: str = ""
    description: str = ""
    knob: Knob

    def unavailable_reason(self) -> str | None:
        """None when usable here, else a one-line reason (missing library, missing encoder ...)."""
        return None

    @property
    def available(self) -> bool:
        """True when the adapter's library (and encoder) is present."""
        return self.unavailable_reason() is None

    def encode(self, img: np.ndarray, knob: float) -> bytes:
        """Encode an RGB uint8 HxWx3 image at ``knob``; returns the complete file bytes."""
        raise NotImplementedError

    def decode(self, data: bytes) -> np.ndarray:
        """Decode file bytes into an RGB uint8 HxWx3 image."""
        raise NotImplementedError

    def _check_knob(self, knob) -> float:
        if isinstance(knob, bool) or not isinstance(knob, (int, float, np.integer, np.floating)):
            raise TypeError(f"{self.name}: knob must be a number, got {type(knob).__name__}")
        if not np.isfinite(knob) or not self.knob.low <= knob <= self.knob.high:
            raise ValueError(f"{self.name}: {self.knob.name}={knob} outside [{self.knob.low}, {self.knob.high}]")
        return int(round(knob)) if self.knob.integer else float(knob)

    def __repr__(self):
        return f"<{type(self).__name__} {self.name}>"


def _pil_encode(img: np.ndarray, fmt: str, **options) -> bytes:
    """Validated RGB uint8 image -> file bytes of Pillow format ``fmt`` with ``options``."""
    buf = io.BytesIO()
    Image.fromarray(check_image(img)).save(buf, fmt, **options)
    return buf.getvalue()


def _pil_decode(data: bytes) -> np.ndarray:
    _check_bytes(data)
    try:
        with Image.open(io.BytesIO(bytes(data))) as im:
            return np.asarray(im.convert("RGB"))
    except (OSError, SyntaxError, ValueError) as e:  # what Pillow raises on corrupt or unknown data
        raise ValueError(f"cannot decode: {e}") from e


def _check_bytes(data) -> None:
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise TypeError(f"data must be bytes, got {type(data).__name__}")


def _missing_module(module: str) -> str | None:
    try:
        importlib.import_module(module)
    except ImportError as e:
        return f"python package '{module}' is not installed ({e})"
    return None


class _PillowCodec(CodecAdapter):
    """A codec whose files Pillow reads back: the decoder is shared, each subclass sets its encoder."""

    def decode(self, data):
        return _pil_decode(data)


class PillowJpeg(_PillowCodec):
    """Baseline JPEG through Pillow (libjpeg-turbo), optimised Huffman tables; 4:2:0 or 4:4:4 chroma."""

    def __init__(self, subsampling: str = "4:2:0"):
        if subsampling not in ("4:2:0", "4:4:4"):
            raise ValueError(f"subsampling must be '4:2:0' or '4:4:4', got {subsampling!r}")
        self.subsampling = subsampling
        self.name = "jpeg" if subsampling == "4:2:0" else "jpeg444"
        self.description = f"JPEG (Pillow/libjpeg-turbo, {subsampling}, optimize)"
        self.knob = Knob("quality", 1, 100, integer=True)

    def encode(self, img, knob):
        q = self._check_knob(knob)
        return _pil_encode(img, "JPEG", quality=q, subsampling=self.subsampling, optimize=True)


class PillowWebP(_PillowCodec):
    """Lossy WebP through Pillow (libwebp), slowest/best method 6."""

    name = "webp"
    description = "WebP (Pillow/libwebp, method 6)"
    knob = Knob("quality", 0, 100, integer=True)

    def unavailable_reason(self):
        return None if features.check("webp") else "Pillow was built without WebP"

    def encode(self, img, knob):
        q = self._check_knob(knob)
        return _pil_encode(img, "WEBP", quality=q, method=6)


class PillowJpeg2000(_PillowCodec):
    """JPEG 2000 through Pillow (OpenJPEG): 9/7 irreversible wavelet, colour transform, rate-controlled.

    The knob is the requested rate in bits per pixel (OpenJPEG's compression ratio is 24/knob); the real file
    is a bit larger (headers), so the rate search still measures the bytes.
    """

    name = "jpeg2000"
    description = "JPEG 2000 (Pillow/OpenJPEG, 9/7 irreversible, MCT, codestream .j2k)"
    knob = Knob("requested_bpp", 0.002, 12.0, integer=False, log=True)

    def unavailable_reason(self):
        return None if features.check("jpg_2000") else "Pillow was built without OpenJPEG"

    def encode(self, img, knob):
        bpp = self._check_knob(knob)
        return _pil_encode(img, "JPEG2000", no_jp2=True, irreversible=True, mct=1,
                           quality_mode="rates", quality_layers=[24.0 / bpp])


class PillowAvif(_PillowCodec):
    """AVIF through Pillow's own plugin (Pillow >= 11.2) or pillow-avif-plugin (libavif + its AV1 encoder),
    4:4:4 by default, speed 6."""

    def __init__(self, subsampling: str = "4:4:4", speed: int = 6):
        if subsampling not in ("4:2:0", "4:4:4"):
            raise ValueError(f"subsampling must be '4:2:0' or '4:4:4', got {subsampling!r}")
        self.subsampling, self.speed = subsampling, speed
        self.name = "avif" if subsampling == "4:4:4" else "avif420"
        self.description = f"AVIF (Pillow/libavif, {subsampling}, speed {speed})"
        self.knob = Knob("quality", 0, 100, integer=True)

    def unavailable_reason(self):
        if features.check("avif"):
            return None
        try:  # older Pillow: the pillow-avif-plugin package registers the same "AVIF" format and options
            import pillow_avif  # noqa: F401
        except ImportError:
            return "Pillow was built without AVIF and pillow-avif-plugin is not installed"
        return None

    def encode(self, img, knob):
        q = self._check_knob(knob)
        return _pil_encode(img, "AVIF", quality=q, subsampling=self.subsampling, speed=self.speed,
                           max_threads=1)


class HeifHeic(CodecAdapter):
    """HEIC (HEVC intra, x265) through pillow-heif / libheif, 4:4:4 chroma."""

    name = "heic"
    description = "HEIC (pillow-heif/libheif, x265, 4:4:4)"
    knob = Knob("quality", 0, 100, integer=True)

    def unavailable_reason(self):
        missing = _missing_module("pillow_heif")
        if missing:
            return missing
        import pillow_heif

        encoders = pillow_heif.libheif_info().get("encoders", {})
        return None if "x265" in encoders else "libheif in pillow-heif has no x265 encoder"

    def encode(self, img, knob):
        import pillow_heif

        q = self._check_knob(knob)
        img = check_image(img)
        buf = io.BytesIO()
        pillow_heif.encode("RGB", (img.shape[1], img.shape[0]), img.tobytes(), buf, quality=q, chroma=444)
        return buf.getvalue()

    def decode(self, data):
        import pillow_heif

        _check_bytes(data)
        try:
            heif = pillow_heif.open_heif(io.BytesIO(bytes(data)), convert_hdr_to_8bit=True)
            return np.asarray(heif.to_pillow().convert("RGB"))
        except (OSError, ValueError, RuntimeError) as e:
            raise ValueError(f"cannot decode HEIC: {e}") from e


class ImagecodecsJxl(CodecAdapter):
    """JPEG XL through imagecodecs (libjxl), knob = Butteraugli distance (smaller = better), effort 7."""

    name = "jxl"
    description = "JPEG XL (imagecodecs/libjxl, distance, effort 7)"
    knob = Knob("distance", 0.05, 25.0, integer=False, rate_increases=False, log=True)

    def unavailable_reason(self):
        missing = _missing_module("imagecodecs")
        if missing:
            return missing
        import imagecodecs

        return None if imagecodecs.JPEGXL.available else "imagecodecs was built without JPEG XL"

    def encode(self, img, knob):
        import imagecodecs

        d = self._check_knob(knob)
        return bytes(imagecodecs.jpegxl_encode(check_image(img), distance=d, effort=7, numthreads=1))

    def decode(self, data):
        import imagecodecs

        _check_bytes(data)
        try:
            out = np.asarray(imagecodecs.jpegxl_decode(bytes(data), numthreads=1))
        except (RuntimeError, ValueError) as e:  # imagecodecs.JpegxlError is a RuntimeError
            raise ValueError(f"cannot decode JPEG XL: {e}") from e
        if out.dtype != np.uint8 or out.ndim != 3 or out.shape[2] != 3:
            raise ValueError(f"JPEG XL decoded to {out.dtype} {out.shape}, expected uint8 HxWx3")
        return out


_REGISTRY: dict[str, Callable[[], CodecAdapter]] = {}


def register(name: str, factory: Callable[[], CodecAdapter], replace: bool = False) -> None:
    """Register a codec under ``name``; ``factory()`` must return a :class:`CodecAdapter` (a class works).

    Registering in the parent process is enough for the process pool: the runner pickles the codec objects,
    so adapters must be importable top-level classes.
    """
    if not isinstance(name, str) or not name or "," in name:
        raise ValueError(f"codec name must be a non-empty string without commas, got {name!r}")
    if not callable(factory):
        raise TypeError("factory must be callable and return a CodecAdapter")
    if name in _REGISTRY and not replace:
        raise ValueError(f"codec {name!r} is already registered (pass replace=True)")
    _REGISTRY[name] = factory


def get_codec(name: str) -> CodecAdapter:
    """Return a new adapter for a registered codec name; ValueError lists the known names."""
    if name not in _REGISTRY:
        raise ValueError(f"unknown codec {name!r}; known: {', '.join(sorted(_REGISTRY))}")
    codec = _REGISTRY[name]()
    if not isinstance(codec, CodecAdapter):
        raise TypeError(f"factory of {name!r} returned {type(codec).__name__}, not a CodecAdapter")
    return codec


def codec_names() -> list[str]:
    """All registered codec names, available here or not."""
    return list(_REGISTRY)


def availability() -> dict[str, str | None]:
    """Map each registered codec name to None (usable) or the reason it is not."""
    return {name: get_codec(name).unavailable_reason() for name in _REGISTRY}


register("jpeg", lambda: PillowJpeg("4:2:0"))
register("jpeg444", lambda: PillowJpeg("4:4:4"))
register("webp", PillowWebP)
register("jpeg2000", PillowJpeg2000)
register("avif", lambda: PillowAvif("4:4:4"))
register("avif420", lambda: PillowAvif("4:2:0"))
register("heic", HeifHeic)
register("jxl", ImagecodecsJxl)


def _jpegai_fast() -> CodecAdapter:
    from jpegai_fast.eval.jpegai_codec import JpegAIFast   # imported lazily: it loads torch and the model
    return JpegAIFast()


register("jpegai_fast", _jpegai_fast)
