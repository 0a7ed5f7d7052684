"""Near-lossless (issue 32 item 2): encode(arr, max_error=N) bounds every colour sample's error by N at
every bit depth and channel layout, keeps alpha exact, spends fewer bytes as N grows, and refuses what
it cannot do with a ValueError naming the option."""
import numpy as np
import pytest

import jpegai_fast
from jpegai_fast import _core
from jpegai_fast.core import alpha_coder, copy_map
from jpegai_fast.decoder.lossless import LosslessStream
from jpegai_fast.encoder import lossless as lossless_encoder
from jpegai_fast.format import container
from jpegai_fast.format.container import ColourTransform

from helpers import drawn_image, natural_like


def _err(a, b) -> int:
    return int(np.abs(a.astype(np.int64) - b.astype(np.int64)).max())


@pytest.mark.parametrize("near", [1, 2, 7])
def test_every_layout_and_depth_stays_within_the_bound(near):
    rgb = natural_like(41, 57)
    grey = natural_like(33, 20, 1, seed=2)
    alpha = (np.arange(41 * 57).reshape(41, 57) * 7 % 256).astype(np.uint8)
    ten = (natural_like(24, 31, seed=3).astype(np.uint16) << 2) | 1
    cases = [(rgb, {}), (grey, {}), (np.dstack([rgb, alpha]), {}), (np.stack([grey, grey[::-1]], -1), {}),
             (ten, {"bit_depth": 10})]
    for img, kw in cases:
        data = jpegai_fast.encode(img, max_error=near, **kw)
        out = jpegai_fast.decode(data)
        assert out.shape == img.shape and out.dtype == img.dtype
        colour = img if img.ndim == 2 or img.shape[2] == 3 else img[..., :-1]
        out_colour = out if out.ndim == 2 or out.shape[2] == 3 else out[..., :-1]
        assert _err(out_colour, colour) <= near
        if img.ndim == 3 and img.shape[2] in (2, 4):
            np.testing.assert_array_equal(out[..., -1], img[..., -1])   # alpha exact
        info = jpegai_fast.info(data)
        assert info["max_error"] == near and not info["lossless"] and info["rate"] == 0.0
        assert container.read(data).colour_transform in ColourTransform.NEAR
        assert jpegai_fast.encode(img, max_error=near, threads=1, **kw) == data   # threads change nothing


def test_the_bound_is_reached_and_bytes_fall_as_it_grows():
    img = natural_like(96, 128)
    sizes, errors = [], []
    for near in (0, 1, 2, 4, 8):
        data = jpegai_fast.encode(img, lossless=True) if near == 0 else jpegai_fast.encode(img, max_error=near)
        sizes.append(len(data))
        errors.append(_err(jpegai_fast.decode(data), img))
    assert errors == [0, 1, 2, 4, 8]            # a natural image meets every bound exactly somewhere
    assert all(a > b for a, b in zip(sizes, sizes[1:]))
    assert sizes[1] < 0.75 * sizes[0]            # measured 0.52 (natural_like) and 0.51 on Kodak 1-6


def test_largest_bound_and_16_bits():
    img = (natural_like(20, 24, 1, seed=4).astype(np.uint16) * 257) ^ 0x55
    for near in (1, 1000, container.max_near(16)):
        out = jpegai_fast.decode(jpegai_fast.encode(img, bit_depth=16, max_error=near))
        assert _err(out, img) <= near
    eight = natural_like(9, 9)
    assert _err(jpegai_fast.decode(jpegai_fast.encode(eight, max_error=127)), eight) <= 127


def test_the_largest_bound_is_the_documented_one_and_the_coder_keeps_to_it():
    plane = np.zeros((2, 3), np.uint16)
    assert [container.max_near(b) for b in (2, 8, 15, 16)] == [1, 127, 16383, 32767]   # 2^(b-1) - 1
    for bits in range(2, 17):
        alpha_coder.encode(plane, bits, bits, near=container.max_near(bits))
        with pytest.raises(ValueError, match="near-lossless bound"):
            alpha_coder.encode(plane, bits, bits, near=container.max_near(bits) + 1)
    with pytest.raises(ValueError, match="near-lossless bound"):
        _core.alpha_encode(np.zeros((2, 2), np.uint16), 1, b"", 1)       # 1-bit planes have no bound above 0


def test_copies_repeat_the_reconstruction_and_pay_on_drawn_content(monkeypatch):
    # drawn content beside a noisy band: the copy map codes the repeats once
    img = drawn_image(64, 120)
    img[:, :7] = natural_like(64, 7)
    for near in (1, 3, 9):
        data = jpegai_fast.encode(img, max_error=near)
        h = container.read(data)
        assert container.Kind.COPY_MAP in {s.kind for s in h.substreams}
        out = jpegai_fast.decode(data)
        assert _err(out, img) <= near
        # every copied pixel holds exactly what its source decoded to (the coder's rule, docs/format.md)
        flat = out.reshape(-1, 3)
        for start, dist, length in LosslessStream(data).copies[0].astype(np.int64):   # one tile
            for k in range(start, start + length):      # one by one: a copy may overlap its source
                np.testing.assert_array_equal(flat[k], flat[k - dist])
    plane = np.ascontiguousarray(img[..., 1])
    found = copy_map.find(img, np.full(img.shape[:2], 8.0, np.float32))
    with_copies, recon = alpha_coder.encode_near(plane, 8, 2, found)
    without, recon0 = alpha_coder.encode_near(plane, 8, 2)
    assert len(with_copies) < len(without)
    assert _err(recon, plane) <= 2 and _err(recon0, plane) <= 2
    np.testing.assert_array_equal(alpha_coder.decode(with_copies, *plane.shape, 8, copy_map.decode(found, *plane.shape), 2),
                                  recon)
    # a photo (few exact repeats) is not searched for copies at all
    monkeypatch.setattr(lossless_encoder, "near_copies", lambda *a: pytest.fail("copy search on a photo"))
    assert _err(jpegai_fast.decode(jpegai_fast.encode(natural_like(40, 50), max_error=2)), natural_like(40, 50)) <= 2


@pytest.mark.parametrize("kw,match", [
    ({"max_error": 128}, "max_error must be an int in 0..127 for 8-bit"),
    ({"max_error": -1}, "max_error must be"),
    ({"max_error": 1.5}, "max_error must be"),
    ({"max_error": True}, "max_error must be"),
    ({"max_error": 2, "quality": 50}, "max_error=2 bounds every sample's error: quality="),
    ({"max_error": 2, "layers": 2}, "layers="),
    ({"max_error": 2, "lossless": True}, "lossless=True codes the image exactly: max_error=2"),
    ({"max_error": 2, "model": "light"}, "max_error= uses no model"),
])
def test_refusals_name_the_option(kw, match):
    with pytest.raises(ValueError, match=match):
        jpegai_fast.encode(natural_like(8, 8), **kw)
