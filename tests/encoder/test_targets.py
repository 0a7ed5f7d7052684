"""Quality and size targets (encode(psnr=), encode(size=), CLI --psnr/--size): rate control with the real decoder."""

import numpy as np
import pytest
from click.testing import CliRunner
from PIL import Image

import jpegai_fast
from jpegai_fast.encoder.rate_control import PSNR_TOLERANCE, search_psnr
from helpers import natural_like


def _psnr(a, b, peak=255.0):
    return 10 * np.log10(peak ** 2 / np.mean((a.astype(np.float64) - b) ** 2))


@pytest.fixture(scope="module")
def img():
    return natural_like(96, 128, seed=11)


@pytest.mark.parametrize("target", [24.0, 27.0])   # natural_like tops out near 31 dB
def test_psnr_target_is_reached_within_the_tolerance(img, target):
    data = jpegai_fast.encode(img, psnr=target)
    got = _psnr(img, jpegai_fast.decode(data))
    assert target <= got <= target + PSNR_TOLERANCE + 0.3, got       # the lowest rate step above the target
    assert len(data) < len(jpegai_fast.encode(img, psnr=target + 2))  # a higher target costs bytes


def test_psnr_is_of_the_colour_and_alpha_stays_lossless(img):
    rgba = np.dstack([img, (np.arange(img.size // 3) % 256).reshape(img.shape[:2]).astype(np.uint8)])
    out = jpegai_fast.decode(jpegai_fast.encode(rgba, psnr=26.0))
    assert np.array_equal(out[..., 3], rgba[..., 3]) and _psnr(img, out[..., :3]) >= 26.0


def test_sixteen_bit_psnr_uses_the_bit_depth_peak():
    deep = natural_like(64, 64, seed=3).astype(np.uint16) << 2          # 10-bit samples
    out = jpegai_fast.decode(jpegai_fast.encode(deep, bit_depth=10, psnr=28.0))
    assert _psnr(deep, out, peak=1023.0) >= 28.0


def test_unreachable_psnr_warns_and_gives_the_highest_rate(img):
    with pytest.warns(RuntimeWarning, match="above what the model reaches"):
        data = jpegai_fast.encode(img, psnr=90.0)
    assert jpegai_fast.info(data)["rate"] == jpegai_fast.info(jpegai_fast.encode(img, quality=100))["rate"]


def test_search_psnr_bisects_to_the_lowest_rate_that_reaches_the_target():
    """A monotone stand-in for the decoder: PSNR = 20 + rate / 64 dB, so the target's rate is known."""
    calls = []

    def psnr_of(data):
        calls.append(data)
        return 20 + int(data) / 64
    found = search_psnr(lambda rq: str(rq).encode(), psnr_of, 31.0, 1280)
    assert 31.0 <= 20 + found.rate_q / 64 <= 31.0 + PSNR_TOLERANCE
    assert found.passes == len(calls) <= 2 + 11


def test_size_target_stays_at_or_below_and_near(img):
    for size in (600, 2500):
        n = len(jpegai_fast.encode(img, size=size))
        assert 0.9 * size <= n <= size


def test_one_rate_knob_at_a_time(img):
    for kwargs in ({"psnr": 30, "bpp": 1}, {"size": 100, "quality": 5}, {"psnr": 30, "size": 100}):
        with pytest.raises(ValueError, match="give one of"):
            jpegai_fast.encode(img, **kwargs)


def test_cli_psnr_and_size(tmp_path, img):
    from jpegai_fast.cli import main
    Image.fromarray(img).save(tmp_path / "in.png")
    r = CliRunner().invoke(main, ["encode", str(tmp_path / "in.png"), str(tmp_path / "p.jai"), "--psnr", "26"])
    assert r.exit_code == 0, r.output
    assert _psnr(img, jpegai_fast.decode((tmp_path / "p.jai").read_bytes())) >= 26.0
    r = CliRunner().invoke(main, ["encode", str(tmp_path / "in.png"), str(tmp_path / "s.jai"), "--size", "1500"])
    assert r.exit_code == 0, r.output
    assert (tmp_path / "s.jai").stat().st_size <= 1500
