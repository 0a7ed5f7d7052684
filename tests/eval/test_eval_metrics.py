import math

import numpy as np
import pytest

from helpers import smooth_image
from jpegai_fast.eval import metrics


def test_identical_images():
    img = smooth_image()
    assert metrics.psnr_rgb(img, img) == math.inf
    assert metrics.psnr_y(img, img) == math.inf


def test_constant_offset_gives_known_psnr():
    img = np.full((32, 40, 3), 100, np.uint8)
    expected = 10 * math.log10(255**2 / 16)  # every sample off by 4: MSE 16
    assert metrics.psnr_rgb(img, img + 4) == pytest.approx(expected, abs=1e-12)
    # BT.709 weights sum to 1, so an offset of 4 on R, G and B is an offset of 4 in Y'.
    assert metrics.psnr_y(img, img + 4) == pytest.approx(expected, abs=1e-9)


def test_psnr_y_uses_bt709_weights():
    img = np.full((16, 16, 3), 100, np.uint8)
    dist = img.copy()
    dist[..., 2] += 10  # blue only: luma moves by 0.0722 * 10
    assert metrics.psnr_y(img, dist) == pytest.approx(10 * math.log10(255**2 / 0.722**2), abs=1e-9)
    assert metrics.psnr_rgb(img, dist) == pytest.approx(10 * math.log10(255**2 / (100 / 3)), abs=1e-9)


def test_uniform_noise_gives_expected_psnr():
    # Integer noise uniform on [-5, 5]: E[n^2] = 5 * 6 / 3 = 10, so PSNR -> 10 log10(255^2 / 10) = 38.13 dB.
    rng = np.random.default_rng(1)
    img = np.full((512, 512, 3), 128, np.uint8)
    dist = (img.astype(np.int16) + rng.integers(-5, 6, img.shape)).astype(np.uint8)
    assert metrics.psnr_rgb(img, dist) == pytest.approx(10 * math.log10(255**2 / 10), abs=0.03)


def test_ms_ssim_identity_and_ordering():
    pytest.importorskip("pytorch_msssim")
    img = smooth_image()
    assert metrics.ms_ssim_rgb(img, img) == pytest.approx(1.0, abs=1e-6)
    rng = np.random.default_rng(2)
    light = np.clip(img + rng.normal(0, 3, img.shape), 0, 255).astype(np.uint8)
    heavy = np.clip(img + rng.normal(0, 20, img.shape), 0, 255).astype(np.uint8)
    assert 1.0 > metrics.ms_ssim_rgb(img, light) > metrics.ms_ssim_rgb(img, heavy) > 0


def test_ms_ssim_small_image_is_nan_in_compute_metrics():
    pytest.importorskip("pytorch_msssim")
    img = np.zeros((64, 64, 3), np.uint8)
    with pytest.raises(ValueError, match="161"):
        metrics.ms_ssim_rgb(img, img)
    assert math.isnan(metrics.compute_metrics(img, img, ["ms_ssim"])["ms_ssim"])


@pytest.mark.parametrize("name", ["iw_ssim", "vif_p", "fsim"])
def test_optional_piq_metrics_identity_and_ordering(name):
    if metrics.metric_availability()[name] is not None:
        pytest.skip(f"{name} unavailable: {metrics.metric_availability()[name]}")
    img = smooth_image()
    rng = np.random.default_rng(3)
    noisy = np.clip(img + rng.normal(0, 15, img.shape), 0, 255).astype(np.uint8)
    f = metrics.METRICS[name]
    assert f(img, img) == pytest.approx(1.0, abs=1e-4)
    assert f(img, noisy) < f(img, img)


def test_availability_lists_every_cttc_metric():
    avail = metrics.metric_availability()
    for name in ("psnr_rgb", "psnr_y", "ms_ssim", "iw_ssim", "vif_p", "fsim", "nlpd", "psnr_hvs_m", "vmaf"):
        assert name in avail
    assert avail["psnr_rgb"] is None and avail["psnr_y"] is None


@pytest.mark.parametrize("ref, dist, exc", [
    (np.zeros((8, 8, 3), np.uint8), np.zeros((8, 9, 3), np.uint8), ValueError),
    (np.zeros((8, 8, 3), np.float32), np.zeros((8, 8, 3), np.float32), TypeError),
    (np.zeros((8, 8), np.uint8), np.zeros((8, 8), np.uint8), ValueError),
    ([[0]], [[0]], TypeError),
])
def test_bad_inputs_raise(ref, dist, exc):
    with pytest.raises(exc):
        metrics.psnr_rgb(ref, dist)


def test_unknown_metric_name_raises():
    img = np.zeros((8, 8, 3), np.uint8)
    with pytest.raises(ValueError, match="unknown"):
        metrics.compute_metrics(img, img, ["nope"])
