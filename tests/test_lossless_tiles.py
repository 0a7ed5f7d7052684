"""Tiled model-free streams (issue 32 item 1, "tiled and threaded like the rest"): every layout and depth
round trips at any tile size, the substreams follow the per-tile canonical order, region decodes read only
the tiles they meet, and a damaged or misplaced tile substream is a DecodeError naming the tile."""
import numpy as np
import pytest

import jpegai_fast
from jpegai_fast import DecodeError
from jpegai_fast.core import alpha_coder
from jpegai_fast.encoder import lossless as lossless_encoder
from jpegai_fast.format import container, tiling
from jpegai_fast.format.container import Kind

from helpers import drawn_image, natural_like


def _layouts():
    rgb = natural_like(150, 230)
    grey = natural_like(150, 230, 1, seed=2)
    alpha = (np.arange(150 * 230).reshape(150, 230) * 7 % 256).astype(np.uint8)
    twelve = (natural_like(150, 230, seed=3).astype(np.uint16) << 4) | 5
    return [(rgb, {}), (grey, {}), (np.dstack([rgb, alpha]), {}), (np.stack([grey, alpha], -1), {}),
            (twelve, {"bit_depth": 12}), ((rgb.astype(np.uint16) * 257), {"bit_depth": 16})]


@pytest.mark.parametrize("near", [0, 3])
def test_every_layout_round_trips_in_tiles(near):
    for img, kw in _layouts():
        data = jpegai_fast.encode(img, tile_size=4, threads=2, **kw, **({"max_error": near} if near else
                                                                        {"lossless": True}))
        h = container.read(data)
        grid = tiling.TileGrid(*tiling.latent_shape(150, 230), 4)
        assert h.tile_size == 4 and grid.count == 12          # 64 px tiles: 3 x 4, the last row and column partial
        out = jpegai_fast.decode(data, threads=1)
        assert out.dtype == img.dtype and out.shape == img.shape
        if near:
            colour = slice(0, 3) if img.ndim == 3 and img.shape[2] >= 3 else slice(0, 1)
            err = np.abs(out.astype(np.int64) - img.astype(np.int64))
            assert (err if img.ndim == 2 else err[..., colour]).max() <= near
            if img.ndim == 3 and img.shape[2] in (2, 4):
                np.testing.assert_array_equal(out[..., -1], img[..., -1])
        else:
            np.testing.assert_array_equal(out, img)
        np.testing.assert_array_equal(jpegai_fast.decode(data, threads=2), out)
        assert jpegai_fast.encode(img, tile_size=4, threads=1, **kw,
                                  **({"max_error": near} if near else {"lossless": True})) == data


def test_the_substreams_follow_the_per_tile_order():
    img = np.dstack([drawn_image(150, 230), np.full((150, 230), 200, np.uint8)])
    h = container.read(jpegai_fast.encode(img, lossless=True, tile_size=4))
    order = [(s.kind, s.tile) for s in h.substreams]
    i = 0
    for tile in range(12):
        assert order[i] == (Kind.ALPHA, tile)
        i += 1
        if order[i][0] == Kind.COPY_MAP:
            assert order[i] == (Kind.COPY_MAP, tile)
            i += 1
        assert order[i:i + 3] == [(Kind.PLANE, 3 * tile + p) for p in range(3)]
        i += 3
    assert i == len(order)
    assert any(k == Kind.COPY_MAP for k, _ in order)                 # drawn content: some tile copies


def test_the_default_tile_is_2048_px_and_small_images_stay_whole():
    assert lossless_encoder.TILE_SIZE * tiling.LATENT_PX == 2048
    wide = np.tile(np.arange(2100, dtype=np.uint16)[None, :] % 251, (3, 1)).astype(np.uint8)
    h = container.read(jpegai_fast.encode(wide, lossless=True))
    assert h.tile_size == lossless_encoder.TILE_SIZE and sum(s.kind == Kind.PLANE for s in h.substreams) == 2
    assert container.read(jpegai_fast.encode(natural_like(64, 80), lossless=True)).tile_size == 0


def test_a_region_decodes_only_the_tiles_it_meets(monkeypatch):
    img = natural_like(150, 230)
    data = jpegai_fast.encode(img, lossless=True, tile_size=4)
    calls = []
    real = alpha_coder.decode_group
    monkeypatch.setattr(alpha_coder, "decode_group", lambda payloads, h, w, *a, **k:
                        calls.extend([(h, w)] * len(payloads)) or real(payloads, h, w, *a, **k))
    np.testing.assert_array_equal(jpegai_fast.decode(data, region=(50, 10, 40, 30)), img[10:40, 50:90])
    assert len(calls) == 2 * 3                                        # tiles 0 and 1, three planes each
    calls.clear()
    np.testing.assert_array_equal(jpegai_fast.decode(data, region=(200, 140, 30, 10)), img[140:150, 200:230])
    assert calls == [(22, 38)] * 3                                    # the partial corner tile alone


def _payloads(data):
    h = container.read(data)
    return h, [data[s.offset:s.offset + s.length] for s in h.substreams]


def test_misplaced_or_damaged_tile_substreams_are_refused():
    img = natural_like(150, 230)
    data = jpegai_fast.encode(img, lossless=True, tile_size=4)
    h, p = _payloads(data)
    # two tiles' planes swapped (payload and entry together): the sizes do not fit, or the order is wrong
    subs = list(h.substreams)
    subs[0], subs[3] = subs[3], subs[0]
    with pytest.raises(DecodeError, match="canonical order"):
        jpegai_fast.decode(_with(h, subs, [p[3], p[1], p[2], p[0], *p[4:]]))
    # a tile's plane replaced by another tile's payload: that payload's pixels do not add up
    h, p = _payloads(data)
    q = list(p)
    q[3] = p[30]
    with pytest.raises(DecodeError, match="tile 1"):
        jpegai_fast.decode(_with(h, list(h.substreams), q))
    # a plane of a tile missing
    h, p = _payloads(data)
    with pytest.raises(DecodeError, match="canonical order"):
        jpegai_fast.decode(_with(h, h.substreams[:5] + h.substreams[6:], p[:5] + p[6:]))


def _with(h, subs, payloads):
    h.substreams = [container.Substream(s.kind, s.tile, s.layer, 0, 0) for s in subs]
    return container.write(h, payloads)
