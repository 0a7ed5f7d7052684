"""decode(scale=s): shapes, regions, alpha, bit depths, the head's accuracy, and the fallback without a head."""
from pathlib import Path

import numpy as np
import pytest

import jpegai_fast
from jpegai_fast.decoder import scaled
from jpegai_fast.errors import PreviewFallbackWarning
from jpegai_fast.pixels import area_downscale
from jpegai_fast.runtime import preview, preview_file
from jpegai_fast.runtime.engine import Engine

from jpegai_fast.files.images import read_image

from helpers import natural_like, psnr

SCALES = (2, 4, 8)


def _ceil(a, b):
    return -(-a // b)


def _no_g_s(real):
    def transform(self, name, device, threads):
        assert name != "g_s", "the full synthesis ran"
        return real(self, name, device, threads)
    return transform


@pytest.fixture
def no_full_synthesis(monkeypatch):
    """Fail if anything asks the engine for g_s: the head path must never make full-resolution pixels."""
    monkeypatch.setattr(Engine, "transform", _no_g_s(Engine.transform))


PHOTO = read_image(Path(jpegai_fast.__file__).parent / "data" / "chelsea.png")      # 300 x 451, a photograph


@pytest.fixture(scope="module")
def photo_stream():
    """The head is distilled on photographs: its accuracy is checked on one (docs/preview.md: synthetic
    colour fields far from any photo decode less well)."""
    return PHOTO, jpegai_fast.encode(PHOTO, quality=75)


@pytest.mark.parametrize("h, w", [(1, 1), (17, 33), (65, 3), (40, 130)])
def test_shapes_for_odd_sizes(h, w, no_full_synthesis):
    img = natural_like(max(h, 16), max(w, 16), seed=h + w)[:h, :w]
    data = jpegai_fast.encode(np.ascontiguousarray(img), quality=50)
    for s in SCALES:
        out = jpegai_fast.decode(data, scale=s)
        assert out.shape == (_ceil(h, s), _ceil(w, s), 3) and out.dtype == np.uint8


def test_head_is_close_to_the_area_downscaled_full_decode(photo_stream, monkeypatch):
    """What the head was distilled to give; bounds: the PSNR measured here less ~2 dB margin."""
    _, data = photo_stream
    goal = {s: area_downscale(jpegai_fast.decode(data), s) for s in SCALES}
    monkeypatch.setattr(Engine, "transform", _no_g_s(Engine.transform))
    bound = {2: 30.0, 4: 34.0, 8: 38.0}         # measured 32.26, 36.62, 40.90 dB
    for s in SCALES:
        assert psnr(jpegai_fast.decode(data, scale=s), goal[s]) > bound[s], s


def test_region_is_the_same_crop_of_the_scaled_decode(photo_stream):
    _, data = photo_stream
    for s in SCALES:
        whole = jpegai_fast.decode(data, scale=s)
        for region in [(0, 0, 451, 300), (37, 21, 101, 77), (450, 299, 1, 1), (16, 32, 8, 8), (100, 250, 351, 50)]:
            x, y, w, h = region
            part = jpegai_fast.decode(data, scale=s, region=region)
            x0, y0 = x // s, y // s
            assert np.array_equal(part, whole[y0:_ceil(y + h, s), x0:_ceil(x + w, s)]), (s, region)


def test_scale_one_is_the_full_decode_and_bad_scales_are_refused(photo_stream):
    _, data = photo_stream
    assert np.array_equal(jpegai_fast.decode(data, scale=1), jpegai_fast.decode(data))
    for bad in (0, 3, 16, -2, 2.0, True, "4", None):
        with pytest.raises(ValueError, match="scale"):
            jpegai_fast.decode(data, scale=bad)
    assert jpegai_fast.decode(data, scale=np.int64(4)).shape == (75, 113, 3)


def test_alpha_is_the_exact_box_mean(no_full_synthesis):
    rgb = natural_like(50, 70, seed=9)
    a = np.zeros((50, 70), np.uint8)
    a[5:40, 9:61] = 255
    a[20:23] = 77
    data = jpegai_fast.encode(np.dstack([rgb, a]), quality=60)
    la = jpegai_fast.encode(np.stack([rgb[..., 0], a], -1), quality=60)
    for s in SCALES:
        out = jpegai_fast.decode(data, scale=s)
        assert out.shape == (_ceil(50, s), _ceil(70, s), 4)
        assert np.array_equal(out[..., 3], area_downscale(a, s))
        grey = jpegai_fast.decode(la, scale=s, region=(3, 4, 30, 20))
        x0, y0 = 3 // s, 4 // s
        assert np.array_equal(grey[..., 1], area_downscale(a, s)[y0:_ceil(24, s), x0:_ceil(33, s)])


def test_grey_and_16_bit(monkeypatch):
    grey = PHOTO.mean(axis=2).round().astype(np.uint8)[:120, 100:260]
    deep = (PHOTO[100:220, 150:310].astype(np.uint16) << 2) | 3           # 10-bit colour
    g = jpegai_fast.encode(grey, quality=70)
    d = jpegai_fast.encode(deep, quality=70, bit_depth=10)
    goal = {s: (area_downscale(jpegai_fast.decode(g), s), area_downscale(jpegai_fast.decode(d), s)) for s in SCALES}
    monkeypatch.setattr(Engine, "transform", _no_g_s(Engine.transform))
    bound = {2: (27.0, 28.0), 4: (33.0, 32.0), 8: (40.0, 35.0)}    # measured 29.26/35.85/43.61, 30.55/34.40/38.09 dB
    for s in SCALES:
        out = jpegai_fast.decode(g, scale=s)
        assert out.shape == (_ceil(120, s), _ceil(160, s)) and out.dtype == np.uint8
        assert psnr(out, goal[s][0]) > bound[s][0]
        out = jpegai_fast.decode(d, scale=s)
        assert out.shape == (_ceil(120, s), _ceil(160, s), 3) and out.dtype == np.uint16 and out.max() < 1024
        assert psnr(out, goal[s][1], peak=1023) > bound[s][1]


def test_lossless_scale_is_the_exact_box_mean():
    img = natural_like(30, 41, seed=4)
    data = jpegai_fast.encode(img, lossless=True)
    for s in SCALES:
        assert np.array_equal(jpegai_fast.decode(data, scale=s), area_downscale(img, s))
        assert np.array_equal(jpegai_fast.decode(data, scale=s, region=(5, 6, 20, 10)),
                              area_downscale(img, s)[6 // s:_ceil(16, s), 5 // s:_ceil(25, s)])


def test_a_model_without_its_head_falls_back_with_a_warning(photo_stream, tmp_path, monkeypatch):
    """A head distilled for another model is never used: full synthesis, box means, one warning."""
    img, data = photo_stream
    shipped = preview_file.read(preview_file.find(jpegai_fast.info(data)["model_id"]))
    foreign = tmp_path / "preview"
    preview_file.write(foreign / "other.npz", shipped.state, shipped.config, "0123456789abcdef")
    monkeypatch.setattr(preview_file, "PREVIEW_DIR", foreign)
    monkeypatch.setattr(preview_file, "search_dirs", lambda: [foreign])
    preview.head_for.cache_clear()
    try:
        full = jpegai_fast.decode(data)
        for s in SCALES:
            with pytest.warns(PreviewFallbackWarning, match="no preview head"):
                out = jpegai_fast.decode(data, scale=s, region=(30, 10, 400, 150))
            sx, sy, sw, sh = scaled.scaled_region((30, 10, 400, 150), s)
            assert np.array_equal(out, area_downscale(full, s)[sy:sy + sh, sx:sx + sw])
    finally:
        preview.head_for.cache_clear()


def test_tiles_and_pieces_stitch_to_the_whole_latent_run(monkeypatch):
    """Many tiles and head pieces (decoder/scaled.HEAD_PIECE_*, narrowed here) give the head's output on the
    whole latent."""
    monkeypatch.setattr(scaled, "HEAD_PIECE_COLS", 1)
    from jpegai_fast.api import decode_latent
    from jpegai_fast.pixels import from_model_output
    img = natural_like(1100, 40, seed=11)
    data = jpegai_fast.encode(img, quality=60, tile_size=4)
    _, eng, y_hat = decode_latent(data)
    head = preview.head_for(eng.model_id.hex())
    for s in SCALES:
        whole = from_model_output(head.run(y_hat, s, threads=1), 3, 8)[:_ceil(1100, s), :_ceil(40, s)]
        assert np.array_equal(jpegai_fast.decode(data, scale=s), whole), s
