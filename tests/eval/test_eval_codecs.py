import numpy as np
import pytest

from helpers import smooth_image
from jpegai_fast.eval import codecs
from jpegai_fast.eval.metrics import psnr_rgb

IMG = smooth_image(48, 64)


def _high_quality_knob(c):
    kn = c.knob
    t = 0.9 if kn.rate_increases else 0.1
    if kn.log:
        return float(np.exp(np.log(kn.low) + t * (np.log(kn.high) - np.log(kn.low))))
    k = kn.low + t * (kn.high - kn.low)
    return round(k) if kn.integer else k


@pytest.mark.parametrize("name", codecs.codec_names())
def test_adapter_round_trips(name):
    c = codecs.get_codec(name)
    if not c.available:
        pytest.skip(f"{name}: {c.unavailable_reason()}")
    data = c.encode(IMG, _high_quality_knob(c))
    assert isinstance(data, bytes) and len(data) > 0
    out = c.decode(data)
    assert out.shape == IMG.shape and out.dtype == np.uint8
    assert psnr_rgb(IMG, out) > 28


@pytest.mark.parametrize("name", codecs.codec_names())
def test_adapter_rejects_bad_input(name):
    c = codecs.get_codec(name)
    if not c.available:
        pytest.skip(f"{name}: {c.unavailable_reason()}")
    with pytest.raises(TypeError):
        c.encode(IMG.astype(np.float32), _high_quality_knob(c))
    with pytest.raises(ValueError):
        c.encode(IMG, c.knob.high + 1)
    with pytest.raises(TypeError):
        c.encode(IMG, "50")
    with pytest.raises(ValueError):  # garbage must raise a clear error, not crash or return garbage
        c.decode(b"not an image at all")
    good = c.encode(IMG, _high_quality_knob(c))
    with pytest.raises(ValueError):
        c.decode(good[: len(good) // 3])
    with pytest.raises(TypeError):
        c.decode("a string")


def test_registry():
    assert {"jpeg", "jpeg444", "webp", "jpeg2000", "avif", "heic", "jxl"} <= set(codecs.codec_names())
    with pytest.raises(ValueError, match="unknown codec"):
        codecs.get_codec("nope")
    with pytest.raises(ValueError, match="already registered"):
        codecs.register("jpeg", codecs.PillowWebP)
    with pytest.raises(TypeError):
        codecs.register("fresh-name-for-test", "not callable")
    avail = codecs.availability()
    assert avail["jpeg"] is None  # Pillow always has JPEG


def test_unavailable_adapter_reports_reason(monkeypatch):
    monkeypatch.setattr(codecs, "_missing_module", lambda m: f"python package '{m}' is not installed")
    assert "not installed" in codecs.HeifHeic().unavailable_reason()
    assert not codecs.ImagecodecsJxl().available
