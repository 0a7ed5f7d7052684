"""The per-image choice between the model and the plane coder (encoder/mode_choice.py): on drawn content a
lossy encode returns a model-free stream exactly when it is no larger and no worse than the learned one,
spends the learned stream's bytes (or the size target) on quality, and photos never try."""
import warnings

import numpy as np
import pytest

import jpegai_fast
from jpegai_fast.encoder import mode_choice
from jpegai_fast.encoder.pipeline import Picture
from jpegai_fast.format import container

from helpers import drawn_image, natural_like, psnr


def _model_free(data: bytes) -> bool:
    return container.is_model_free(container.read(data))


@pytest.fixture
def learned_only(monkeypatch):
    """encode() as it is without the choice: nothing looks drawn."""
    def encode(img, **kw):
        with monkeypatch.context() as m, warnings.catch_warnings():
            m.setattr(mode_choice, "DRAWN_SHARE", 2.0)
            warnings.simplefilter("ignore", RuntimeWarning)     # a target beyond the model's range
            return jpegai_fast.encode(img, **kw)
    return encode


def test_what_looks_drawn():
    assert mode_choice.looks_drawn(drawn_image())
    assert mode_choice.looks_drawn(drawn_image()[..., 0])
    assert not mode_choice.looks_drawn(natural_like(96, 128))
    assert not mode_choice.looks_drawn(np.zeros((5, 1, 3), np.uint8))     # no left neighbours


def test_the_bound_is_the_largest_whose_worst_case_fits():
    for mse in [0.0, 0.5, 0.66, 0.67, 2.0, 3.9, 4.0, 100.0, 468.7, 1e6]:
        n = mode_choice.bound_for_mse(mse, 8)
        assert n <= 127
        assert n == 0 or n * (n + 1) / 3 <= mse
        assert n == 127 or (n + 1) * (n + 2) / 3 > mse


@pytest.mark.parametrize("kw", [{"quality": 100}, {"quality": 70}, {"bpp": 2.0}, {"psnr": 30.0}])
def test_drawn_content_gets_the_better_stream(kw, learned_only):
    img = drawn_image()
    learned = learned_only(img, **kw)
    assert not _model_free(learned)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        data = jpegai_fast.encode(img, **kw)
    out = jpegai_fast.decode(data)
    assert out.shape == img.shape and out.dtype == img.dtype
    if _model_free(data):
        assert not caught      # the model's "target out of range" does not hold for the stream returned
        limit = len(learned) if "bpp" not in kw else max(len(learned), kw["bpp"] * img.shape[0] * img.shape[1] / 8)
        assert len(data) <= limit
        assert psnr(out, img) >= min(psnr(jpegai_fast.decode(learned), img), kw.get("psnr", 99))
    else:
        assert data == learned


def test_a_drawing_at_full_quality_is_exact_when_that_costs_no_more():
    img = drawn_image()
    data = jpegai_fast.encode(img, quality=100)
    assert _model_free(data)
    np.testing.assert_array_equal(jpegai_fast.decode(data), img)


def test_photos_and_layered_or_lossy_alpha_streams_never_try(monkeypatch):
    def fail(*a, **k):
        raise AssertionError("the model-free coder was tried")
    monkeypatch.setattr(mode_choice, "better_stream", fail)
    assert not _model_free(jpegai_fast.encode(natural_like(64, 64), quality=90))
    assert not _model_free(jpegai_fast.encode(drawn_image(), quality=90, layers=2))
    rgba = np.dstack([drawn_image(), np.full(drawn_image().shape[:2], 255, np.uint8)])
    assert not _model_free(jpegai_fast.encode(rgba, quality=90, alpha_bits=4))


def test_palettes_keep_alpha_and_the_largest_that_fits_is_taken():
    rng = np.random.default_rng(3)
    img = drawn_image(64, 96)
    img[40:, :] = np.clip(img[40:, :].astype(int) + rng.integers(-20, 21, (24, 96, 3)), 0, 255).astype(np.uint8)
    rgba = np.dstack([img, np.where(np.arange(96) < 30, 0, 255)[None, :].repeat(64, 0).astype(np.uint8)])
    for k in (16, 64, 256):
        out = mode_choice.reduced(rgba, k)
        assert out.shape == rgba.shape and len(np.unique(out[..., :3].reshape(-1, 3), axis=0)) <= k
        np.testing.assert_array_equal(out[..., 3], rgba[..., 3])
    grey = mode_choice.reduced(img[..., 1], 16)
    assert grey.shape == img.shape[:2] and len(np.unique(grey)) <= 16
    picture = Picture(img, 8, {})
    sizes = {k: len(jpegai_fast.encode(mode_choice.reduced(img, k), lossless=True)) for k in mode_choice.PALETTE_SIZES}
    budget = (sizes[48] + sizes[64]) // 2 if sizes[48] < sizes[64] else sizes[64]
    found = mode_choice._palette(picture, 1, budget)
    assert found is not None and len(found) <= budget
    fitting = [k for k in mode_choice.PALETTE_SIZES if sizes[k] <= budget]
    assert len(np.unique(jpegai_fast.decode(found).reshape(-1, 3), axis=0)) <= max(fitting)
    assert mode_choice._palette(picture, 1, min(sizes.values()) - 1) is None
    assert mode_choice._palette(Picture(img.astype(np.uint16) * 4, 10, {}), 1, 10 ** 9) is None   # 8-bit only


def test_palettes_are_not_tried_for_pictures_of_many_colours(monkeypatch):
    many = np.random.default_rng(1).integers(0, 256, (160, 160, 3), dtype=np.uint8)     # ~25,600 colours
    monkeypatch.setattr(mode_choice, "reduced", lambda *a: pytest.fail("a palette was tried"))
    assert mode_choice._palette(Picture(many, 8, {}), 1, 10 ** 9) is None


@pytest.mark.parametrize("layout", ["rgba", "grey+alpha"])
@pytest.mark.parametrize("kw", [{"quality": 70}, {"bpp": 1.0}, {"psnr": 30.0}])
def test_drawn_content_with_alpha_is_weighed_on_its_colour(layout, kw, learned_only):
    # the choice measured the learned stream's error with its alpha plane appended: a ValueError (shapes) for
    # every drawn picture with alpha, until session 14
    colour = drawn_image()
    alpha = (np.arange(96 * 128).reshape(96, 128) % 256).astype(np.uint8)
    img = np.dstack([colour, alpha]) if layout == "rgba" else np.stack([colour[..., 0], alpha], axis=-1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        data = jpegai_fast.encode(img, **kw)
    out, alone = jpegai_fast.decode(data), jpegai_fast.decode(learned_only(img, **kw))
    assert out.shape == img.shape and np.array_equal(out[..., -1], alpha)
    floor = psnr(alone[..., :-1], img[..., :-1])                # no worse than the model alone
    floor = min(floor, kw["psnr"]) if "psnr" in kw else floor    # (psnr=: any stream that meets the target)
    assert psnr(out[..., :-1], img[..., :-1]) >= floor - 0.01
