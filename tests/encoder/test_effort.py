"""Encoder effort levels (effort.py): ordinary streams, deterministic, smaller at the same quality."""
import math
import warnings

import numpy as np
import pytest
import torch

import jpegai_fast
from jpegai_fast.encoder import effort_search as effort_mod
from jpegai_fast.runtime.engine import get_engine
from jpegai_fast.encoder.rate_control import quality_to_rate_q
from helpers import natural_like, psnr


@pytest.fixture(scope="module")
def img():
    return natural_like(64, 128, seed=3)


@pytest.mark.parametrize("bad", [0, 10, -1, 2.5, True, "3", None.__class__])
def test_invalid_effort_raises_value_error(img, bad):
    with pytest.raises(ValueError, match="effort"):
        jpegai_fast.encode(img, quality=50, effort=bad)


def test_default_effort_is_todays_encoder(img):
    assert jpegai_fast.encode(img, quality=50) == jpegai_fast.encode(img, quality=50, effort=1)


def test_effort_stream_decodes_with_the_normal_decoder_and_is_deterministic(img):
    a = jpegai_fast.encode(img, quality=60, effort=3, threads=1)
    b = jpegai_fast.encode(img, quality=60, effort=3, threads=2)
    assert a == b                                   # same bytes for any thread count
    assert a != jpegai_fast.encode(img, quality=60)  # the search changed the latent
    out = jpegai_fast.decode(a)
    assert out.shape == img.shape and psnr(out, img) > 25
    assert jpegai_fast.decode(a, threads=1).tobytes() == out.tobytes()


def test_effort_lowers_the_rd_cost(img):
    """bits + lambda * 255^2 * MSE (the loss the search minimises, with the real stream) goes down."""
    eng = get_engine()
    quality = 60
    t = quality_to_rate_q(quality, eng.num_rate_points) / 256.0
    lmbda = eng.lmbda(t)

    def cost(e):
        data = jpegai_fast.encode(img, quality=quality, effort=e)
        mse = np.mean((jpegai_fast.decode(data).astype(np.float64) / 255 - img / 255.0) ** 2)
        return 8 * len(data) / (img.shape[0] * img.shape[1]) + lmbda * 255 ** 2 * mse
    assert cost(5) < cost(1)


@pytest.mark.parametrize("mode", [{"quality": 60}, {"bpp": 1.0}, {"psnr": 28.0}])
def test_no_effort_level_codes_worse_than_effort_1(img, monkeypatch, mode):
    """A search whose latent is worse (here: all zeros) loses to the plain encoder's stream, by the measure
    the request fixes (training cost at a quality, error at a size, bytes at a PSNR)."""
    from jpegai_fast.encoder import pipeline
    from jpegai_fast.runtime.execution import resolve_device
    eng, cpu = get_engine(), resolve_device("cpu")

    def zero_refiner(*_args):
        return lambda i, y: (np.zeros_like(y), np.zeros_like(eng.hyper_analyse(y, cpu, 1)))
    plain = jpegai_fast.encode(img, effort=1, **mode)
    monkeypatch.setattr(pipeline, "_refiner", zero_refiner)
    with warnings.catch_warnings():
        warnings.simplefilter("error")          # the losing search's warnings (a PSNR it cannot reach) stay silent
        assert jpegai_fast.encode(img, effort=3, **mode) == plain


def test_rate_control_holds_with_effort(img):
    target = 1.0
    data = jpegai_fast.encode(img, bpp=target, effort=3)
    bpp = 8 * len(data) / (img.shape[0] * img.shape[1])
    assert 0.9 * target <= bpp <= target
    assert jpegai_fast.decode(data).shape == img.shape


@pytest.mark.parametrize("shape", [(1, 1, 3), (5, 7)])
def test_tiny_and_grey_images(shape):
    im = natural_like(shape[0], shape[1], 1 if len(shape) == 2 else 3)
    out = jpegai_fast.decode(jpegai_fast.encode(im, quality=70, effort=2))
    assert out.shape == im.shape and out.dtype == np.uint8


def test_two_tiles_and_layers_and_16_bit():
    im = natural_like(64, 128, seed=5)
    data = jpegai_fast.encode(im, quality=60, effort=2, tile_size=4, layers=2)
    info = jpegai_fast.info(data)
    assert info["tiles"] == 2 and info["layers"] == 2
    assert psnr(jpegai_fast.decode(data), im) > 25
    im16 = (natural_like(64, 64, seed=6).astype(np.uint16) << 2)
    out = jpegai_fast.decode(jpegai_fast.encode(im16, quality=60, effort=2, bit_depth=10))
    assert out.dtype == np.uint16 and psnr(out, im16, peak=1023) > 25


def test_tau_schedule_and_soft_rounding():
    n = 100
    taus = [effort_mod.tau_at(i, n) for i in range(n)]
    assert taus[0] == effort_mod.TAU_MAX and taus == sorted(taus, reverse=True)
    assert math.isclose(effort_mod.tau_at(n, n), 0.5 * math.exp(-1.3), rel_tol=1e-9)
    gen = torch.Generator().manual_seed(0)
    v = torch.tensor([0.001, 0.999, 2.5, -1.2])
    soft = effort_mod.sga_round(v, 0.05, gen)
    assert torch.all(soft >= torch.floor(v)) and torch.all(soft <= torch.floor(v) + 1)
    assert abs(float(soft[0])) < 1e-3 and abs(float(soft[1]) - 1) < 1e-3   # near a grid point: that point


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_effort_on_cuda_gives_a_stream_the_cpu_decodes(img):
    data = jpegai_fast.encode(img, quality=60, effort=3, device="cuda")
    assert psnr(jpegai_fast.decode(data), img) > 25
