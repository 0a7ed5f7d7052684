import numpy as np
import pytest

from jpegai_fast import pixels
from jpegai_fast.format import limits


def test_uint8_rgb_round_trip():
    img = np.random.default_rng(0).integers(0, 256, (5, 7, 3), dtype=np.uint8)
    arr, bd = pixels.check_image(img, None)
    x = pixels.to_model_input(arr, bd)
    assert x.shape == (3, 5, 7) and x.dtype == np.float32
    out = pixels.from_model_output(x, 3, bd)
    assert out.flags.c_contiguous
    np.testing.assert_array_equal(out, img)


@pytest.mark.parametrize("bd", [9, 10, 12, 16])
def test_high_bit_depth_grey_round_trip(bd):
    img = np.random.default_rng(bd).integers(0, 1 << bd, (4, 6), dtype=np.uint16)
    arr, got = pixels.check_image(img, bd)
    assert got == bd
    out = pixels.from_model_output(pixels.to_model_input(arr, bd), 1, bd)
    assert out.dtype == np.uint16 and out.shape == img.shape
    np.testing.assert_array_equal(out, img)


@pytest.mark.parametrize("img,bd,exc", [
    ([[1, 2]], None, TypeError),
    (np.zeros((4, 4), np.float32), None, TypeError),
    (np.zeros((4, 4, 5), np.uint8), None, ValueError),
    (np.zeros((4,), np.uint8), None, ValueError),
    (np.zeros((0, 4, 3), np.uint8), None, ValueError),
    (np.zeros((4, 4), np.uint16), None, ValueError),
    (np.full((4, 4), 1024, np.uint16), 10, ValueError),
    (np.zeros((4, 4), np.uint16), 8, ValueError),
    (np.zeros((4, 4), np.uint8), 10, ValueError),
])
def test_bad_inputs(img, bd, exc):
    with pytest.raises(exc):
        pixels.check_image(img, bd)


def test_pixel_limit(monkeypatch):
    monkeypatch.setattr(limits, "max_image_pixels", 10)
    with pytest.raises(ValueError, match="limit"):
        pixels.check_image(np.zeros((4, 4), np.uint8), None)


def test_pad_edge():
    x = np.arange(6, dtype=np.float32).reshape(1, 2, 3)
    p = pixels.pad_to_multiple(x, 4)
    assert p.shape == (1, 4, 4)
    assert p[0, 3, 3] == x[0, 1, 2]
