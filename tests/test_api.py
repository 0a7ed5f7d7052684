"""End-to-end tests of the public API with the shipped weights."""
import os
import subprocess
import sys
import warnings

import numpy as np
import pytest

import jpegai_fast
from helpers import natural_like, psnr
from jpegai_fast import DecodeError

RNG = np.random.default_rng(1234)


@pytest.mark.parametrize("shape", [(1, 1, 3), (1, 1), (3, 200, 3), (65, 64), (64, 129, 3), (37, 23, 3)])
def test_any_size_round_trips_shape_and_dtype(shape):
    img = natural_like(shape[0], shape[1], 1 if len(shape) == 2 else 3)
    out = jpegai_fast.decode(jpegai_fast.encode(img, quality=80))
    assert out.shape == img.shape and out.dtype == np.uint8


def test_quality_orders_size_and_error(photo):
    sizes, errors = [], []
    for q in (0, 50, 100):
        data = jpegai_fast.encode(photo, quality=q)
        sizes.append(len(data))
        errors.append(psnr(photo, jpegai_fast.decode(data)))
    assert sizes[0] < sizes[1] < sizes[2]
    assert errors[0] < errors[2]


@pytest.mark.parametrize("bd", [10, 12, 16])
def test_high_bit_depth(photo, bd):
    img = (photo.astype(np.uint16) << (bd - 8)) | (photo.astype(np.uint16) >> (16 - bd))
    data = jpegai_fast.encode(img, bit_depth=bd, quality=90)
    out = jpegai_fast.decode(data)
    assert out.dtype == np.uint16 and out.shape == img.shape
    assert int(out.max()) < 1 << bd
    assert jpegai_fast.info(data)["bit_depth"] == bd
    # the same picture at 8 bits must come back at the same quality: scaling is right
    ref = jpegai_fast.decode(jpegai_fast.encode(photo, quality=90))
    assert abs(psnr(img, out, (1 << bd) - 1) - psnr(photo, ref)) < 0.5


@pytest.mark.parametrize("where", [0.2, 0.7])
def test_rate_control_stays_in_window(photo, where):
    # targets inside the model's range, wherever the shipped weights put it
    px = photo.shape[0] * photo.shape[1]
    lo, hi = (8 * len(jpegai_fast.encode(photo, quality=q)) / px for q in (0, 100))
    target = lo * (hi / lo) ** where
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        data = jpegai_fast.encode(photo, bpp=target)
    assert 0.9 * target <= 8 * len(data) / px <= target


def test_rate_control_out_of_range_warns(photo):
    with pytest.warns(RuntimeWarning, match="lowest rate"):
        data = jpegai_fast.encode(photo, bpp=1e-4)
    assert data == jpegai_fast.encode(photo, quality=0)


def test_same_bytes_any_thread_count(photo):
    a = jpegai_fast.encode(photo, quality=60, threads=1)
    b = jpegai_fast.encode(photo, quality=60, threads=2)
    assert a == b
    np.testing.assert_array_equal(jpegai_fast.decode(a, threads=1), jpegai_fast.decode(a, threads=3))


def test_decode_in_subprocess_with_other_thread_settings(photo, tmp_path):
    """The latent is bit-exact in another process with other thread settings; the float synthesis
    may move a pixel across a rounding boundary, never more than one code value."""
    from jpegai_fast.api import decode_latent
    data = jpegai_fast.encode(photo, quality=40)
    (tmp_path / "s.jai").write_bytes(data)
    code = ("import numpy as np, torch, jpegai_fast; from jpegai_fast.api import decode_latent;"
            "torch.set_num_threads(1); d = open(r'%s', 'rb').read();"
            "np.save(r'%s', decode_latent(d, threads=1)[2]); np.save(r'%s', jpegai_fast.decode(d, threads=1))"
            % (tmp_path / "s.jai", tmp_path / "y.npy", tmp_path / "x.npy"))
    env = dict(os.environ, OMP_NUM_THREADS="1", MKL_NUM_THREADS="1")
    subprocess.run([sys.executable, "-c", code], env=env, check=True, cwd=tmp_path)  # cwd: not the source tree
    np.testing.assert_array_equal(np.load(tmp_path / "y.npy"), decode_latent(data, threads=2)[2])
    diff = np.abs(np.load(tmp_path / "x.npy").astype(int) - jpegai_fast.decode(data, threads=2))
    assert diff.max() <= 1


def test_info(photo):
    data = jpegai_fast.encode(photo, quality=30)
    meta = jpegai_fast.info(data)
    assert (meta["width"], meta["height"], meta["channels"]) == (136, 96, 3)
    assert meta["complete"] and meta["bytes"] == len(data)


@pytest.mark.parametrize("bad,exc", [
    (np.zeros((4, 4), np.float64), TypeError),
    (np.zeros((4, 4, 5), np.uint8), ValueError),
    (np.zeros((0, 5), np.uint8), ValueError),
    (np.zeros((4, 4), np.uint16), ValueError),
    (np.full((4, 4), np.nan, np.float32), TypeError),
    ([[0, 1]], TypeError),
])
def test_bad_images_raise(bad, exc):
    with pytest.raises(exc):
        jpegai_fast.encode(bad)


def test_bad_knobs(photo):
    for kwargs in ({"bpp": -1}, {"bpp": float("nan")}, {"quality": 200}, {"bpp": 1, "quality": 5},
                   {"threads": 0}):
        with pytest.raises(ValueError):
            jpegai_fast.encode(photo, **kwargs)


def test_truncated_and_corrupted_streams_raise(photo):
    data = jpegai_fast.encode(photo, quality=50)
    for cut in sorted({0, 1, 5, 20, len(data) // 2, len(data) - 1}):
        with pytest.raises(DecodeError):
            jpegai_fast.decode(data[:cut])
    rng = np.random.default_rng(0)
    for _ in range(20):
        bad = bytearray(data)
        pos = int(rng.integers(0, len(bad)))
        bad[pos] ^= 1 << int(rng.integers(0, 8))
        with pytest.raises(DecodeError):
            jpegai_fast.decode(bytes(bad))
    for junk in (b"", b"JAI", bytes(rng.integers(0, 256, 300, dtype=np.uint8))):
        with pytest.raises(DecodeError):
            jpegai_fast.decode(junk)


def test_pixel_limit_on_decode(photo, monkeypatch):
    data = jpegai_fast.encode(photo, quality=10)
    monkeypatch.setattr(jpegai_fast.format.limits, "max_image_pixels", 100)
    with pytest.raises(jpegai_fast.ImageTooLargeError):
        jpegai_fast.decode(data)


def test_foreign_model_id_refused(photo):
    data = bytearray(jpegai_fast.encode(photo, quality=10))
    from jpegai_fast.format import container
    h = container.read(bytes(data))
    payloads = [bytes(data[s.offset:s.offset + s.length]) for s in h.substreams]
    h.model_id = b"\xff" * 8
    with pytest.raises(DecodeError, match="model"):
        jpegai_fast.decode(container.write(h, payloads))
