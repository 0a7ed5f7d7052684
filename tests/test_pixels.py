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


@pytest.mark.parametrize("shape", [(1, 1), (17, 33, 3), (64, 48, 3), (65, 3), (1100, 21)])     # the last: several bands
@pytest.mark.parametrize("scale", [2, 4, 8])
def test_area_downscale_is_pillows_reduce(shape, scale):
    """Box means (edge boxes average what they hold); Pillow's reduce rounds its edge boxes within 1."""
    from PIL import Image
    from jpegai_fast.pixels import area_downscale
    a = np.random.default_rng(scale).integers(0, 256, shape, dtype=np.uint8)
    out = area_downscale(a, scale)
    ref = np.asarray(Image.fromarray(a).reduce(scale))
    assert out.shape == ref.shape and out.dtype == np.uint8
    assert np.abs(out.astype(int) - ref).max() <= 1
    full = (shape[0] // scale, shape[1] // scale)
    assert np.array_equal(out[:full[0], :full[1]], ref[:full[0], :full[1]])
    deep = np.full((3, 5), 65535, np.uint16)
    deep[2, 4] = 1
    assert area_downscale(deep, 4).tolist() == [[65535, 43690]]      # (2 x 65535 + 1) / 3: edge boxes hold fewer
