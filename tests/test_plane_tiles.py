"""Plane tiles (docs/format.md "Plane tiles"): a learned stream whose drawn tiles the plane coder codes
(encoder/tile_choice.py chooses by the model's own rate-distortion cost; decoder/plane_tiles.py decodes them),
full, by region, scaled, and every malformed variant refused before anything is decoded."""
import dataclasses
from pathlib import Path

import numpy as np
import pytest

import jpegai_fast
from jpegai_fast import pixels
from jpegai_fast.encoder import mode_choice, tile_choice
from jpegai_fast.errors import DecodeError
from jpegai_fast.format import container, stream, tiling
from jpegai_fast.format.container import Kind
from jpegai_fast.runtime import weights_file
from jpegai_fast.runtime.engine import Engine

from helpers import drawn_image, natural_like, psnr

H, W = 768, 1024        # 2 x 2 tiles of 512 px (the last row 256 px): tile 0 mostly a photograph, the rest drawn
PHOTO = (slice(0, 512), slice(0, 384))


@pytest.fixture(scope="module")
def image() -> np.ndarray:
    img = drawn_image(H, W, seed=3)
    img[PHOTO] = natural_like(512, 384, seed=1)
    return img


def _mixed_encode(image, **kw) -> bytes:
    """encode() without the whole-image model-free alternatives (mode_choice.better_stream), which on this
    smooth synthetic photograph can beat the mixed stream (near-lossless, bound 8, at quality 90)."""
    with pytest.MonkeyPatch.context() as m:
        m.setattr(mode_choice, "better_stream", lambda picture, learned, *a, **k: learned)
        return jpegai_fast.encode(image, threads=2, **kw)


@pytest.fixture(scope="module")
def streams(image) -> dict:
    return {q: _mixed_encode(image, quality=q) for q in (10, 90)}


def _plane_tiles(data: bytes) -> dict[int, tuple[int, int]]:
    h = container.read(data)
    return {s.tile: (data[s.offset], data[s.offset + 1]) for s in h.substreams if s.kind == Kind.PLANE_TILE}


def _rect(data: bytes, i: int) -> tuple[int, int, int, int]:
    h = container.read(data)
    return tiling.pixel_rect(tiling.TileGrid(*tiling.latent_shape(h.height, h.width), h.tile_size), i, h.height, h.width)


def test_drawn_tiles_go_to_the_planes_and_the_photograph_stays_learned(image, streams):
    data = streams[90]
    h = container.read(data)
    assert h.colour_transform == container.ColourTransform.RGB and h.tile_size == tile_choice.TILE_SIZE
    chosen = _plane_tiles(data)
    assert set(chosen) == {1, 2, 3}
    assert container.read(data).substreams[0].kind == Kind.Z           # tile 0: the model's
    out = jpegai_fast.decode(data)
    for i, (_transform, near) in chosen.items():
        y0, y1, x0, x1 = _rect(data, i)
        err = np.abs(out[y0:y1, x0:x1].astype(int) - image[y0:y1, x0:x1])
        assert err.max() <= near                                        # exact, or within the tile's bound
    assert psnr(out[PHOTO], image[PHOTO]) > 30


def test_the_choice_follows_the_rate(streams):
    assert len(_plane_tiles(streams[10])) <= len(_plane_tiles(streams[90]))
    assert len(streams[10]) < len(streams[90])


def test_the_learned_tiles_beside_plane_tiles_keep_their_quality(image, streams, monkeypatch):
    # the photograph's tile in the same grid without plane tiles beside it: within 1 dB (a zero latent
    # where g_s's halo meets the plane tiles cost 1.5 .. 10 dB on artificial.png; decoder/plane_tiles.py)
    monkeypatch.setattr(mode_choice, "DRAWN_SHARE", 2.0)           # the model alone
    alone = jpegai_fast.encode(image, quality=90, tile_size=tile_choice.TILE_SIZE, threads=2)
    assert not _plane_tiles(alone)
    photo = image[PHOTO]
    assert psnr(jpegai_fast.decode(streams[90])[PHOTO], photo) > psnr(jpegai_fast.decode(alone)[PHOTO], photo) - 1


def test_a_region_is_the_same_crop_of_the_full_decode(streams):
    data = streams[90]
    full = jpegai_fast.decode(data)
    for region in [(0, 0, W, H), (480, 480, 100, 100), (500, 0, 30, 700), (600, 520, 400, 240), (0, 767, 1024, 1)]:
        x, y, w, h = region
        assert np.array_equal(jpegai_fast.decode(data, region=region), full[y:y + h, x:x + w]), region


@pytest.mark.parametrize("scale", [2, 4, 8])
def test_scaled_plane_tiles_are_box_means_of_their_pixels(streams, scale):
    data = streams[90]
    full = jpegai_fast.decode(data)
    small = jpegai_fast.decode(data, scale=scale)
    assert small.shape == (-(-H // scale), -(-W // scale), 3)
    for i in _plane_tiles(data):
        y0, y1, x0, x1 = _rect(data, i)
        want = pixels.area_downscale(full[y0:y1, x0:x1], scale)
        assert np.array_equal(small[y0 // scale:-(-y1 // scale), x0 // scale:-(-x1 // scale)], want)


def test_a_size_target_holds_over_the_mixed_stream(image):
    target = 1.0
    data = _mixed_encode(image, bpp=target)
    assert len(data) * 8 / (H * W) <= target
    assert _plane_tiles(data)


def test_photographs_never_get_plane_tiles():
    img = natural_like(H, W, seed=2)
    data = jpegai_fast.encode(img, quality=90, threads=2)
    h = container.read(data)
    assert not _plane_tiles(data) and h.tile_size == 0          # the default grid: one tile


def test_info_names_the_plane_tiles(streams):
    info = jpegai_fast.info(streams[90])
    assert info["plane_tiles"] == sorted(_plane_tiles(streams[90])) == [1, 2, 3]
    assert jpegai_fast.info(jpegai_fast.encode(natural_like(64, 64)))["plane_tiles"] == []


# --- malformed streams ---------------------------------------------------------------------------------

def _rewrite(data: bytes, edit) -> bytes:
    """``data`` with ``edit(header, payloads)`` applied, CRCs made anew (so only the edit is wrong)."""
    h = container.read(data)
    payloads = [data[s.offset:s.offset + s.length] for s in h.substreams]
    edit(h, payloads)
    h.substreams = [dataclasses.replace(s, length=0, crc32=0) for s in h.substreams]
    return container.write(h, payloads)


def _descriptor_index(h) -> int:
    return next(k for k, s in enumerate(h.substreams) if s.kind == Kind.PLANE_TILE)


@pytest.mark.parametrize("payload, match", [
    (b"\x00\x00", "colour transform 0"), (b"\x07\x00", "colour transform 7"), (b"\x01\x01", "with bound 1"),
    (b"\x04\x00", "with bound 0"), (b"\x04\x80", "bound is cut"), (b"\x01\x00\x00", "bytes after"),
    (b"\x01", "descriptor of 1 bytes"), (b"\x04\xff\x01", "bound is cut or out of range"),
])
def test_a_bad_descriptor_is_refused(streams, payload, match):
    def edit(h, payloads):
        payloads[_descriptor_index(h)] = payload
    with pytest.raises(DecodeError, match=match):
        jpegai_fast.decode(_rewrite(streams[90], edit))


def test_a_plane_tile_without_its_planes_is_refused(streams):
    def edit(h, payloads):
        k = next(k for k, s in enumerate(h.substreams) if s.kind == Kind.PLANE)
        del h.substreams[k], payloads[k]
    with pytest.raises(DecodeError, match="canonical order"):
        jpegai_fast.decode(_rewrite(streams[90], edit))


def test_a_plane_tile_in_a_layered_stream_is_refused(streams):
    def edit(h, payloads):
        h.num_layers = 2
    with pytest.raises(DecodeError, match="plane tiles in a stream of 2 layers"):
        jpegai_fast.decode(_rewrite(streams[90], edit))


def test_a_damaged_plane_is_named(streams):
    def edit(h, payloads):
        k = [k for k, s in enumerate(h.substreams) if s.kind == Kind.PLANE][-1]
        p = bytearray(payloads[k])
        p[len(p) // 2:] = bytes(len(p) - len(p) // 2)            # the rANS words zeroed: a broken plane
        payloads[k] = bytes(p)
    with pytest.raises(DecodeError, match="plane tile"):
        jpegai_fast.decode(_rewrite(streams[90], edit))


def test_a_plane_payload_failing_its_crc_is_refused(streams):
    data = bytearray(streams[90])
    s = [s for s in container.read(bytes(data)).substreams if s.kind == Kind.PLANE][0]
    data[s.offset + s.length // 2] ^= 0x40
    with pytest.raises(DecodeError, match="layer 0 is required"):
        jpegai_fast.decode(bytes(data))


# --- the test model's streams, plane tiles laid out by hand --------------------------------------------

GOLDEN = Path(__file__).resolve().parent / "golden"


def _tiny_learned(img: np.ndarray):
    """The test model's stream of ``img`` in 64 px tiles (call with weights_file.PATH_ENV at GOLDEN), with what
    stream.assemble takes to rebuild it: (stream, header without substreams, grid, z payloads, y payloads)."""
    learned = jpegai_fast.encode(img, model=str(GOLDEN / "tiny_model.npz"), quality=60, tile_size=4, threads=1)
    h = container.read(learned)
    grid = tiling.TileGrid(*tiling.latent_shape(*img.shape[:2]), h.tile_size)
    z = [learned[s.offset:s.offset + s.length] for s in h.substreams if s.kind == Kind.Z]
    y = [[learned[s.offset:s.offset + s.length]] for s in h.substreams if s.kind == Kind.Y]
    return learned, dataclasses.replace(h, substreams=[]), grid, z, y


@pytest.fixture(scope="module")
def checkerboard():
    """A 256 x 320 picture in 64 px tiles (4 x 5), the test model's stream with every other tile given to the
    planes (alternately exact and within 2): learned tiles beside plane tiles everywhere."""
    with pytest.MonkeyPatch.context() as m:
        m.setenv(weights_file.PATH_ENV, str(GOLDEN))
        img = natural_like(256, 320, seed=9)
        _learned, header, grid, z, y = _tiny_learned(img)
        choice = tile_choice.TileChoice(img, 8, grid, 1)
        planes = {i: choice._plane_tile(i, 2 * (i % 4 == 0))[0] for i in range(grid.count)
                  if (i // grid.cols + i % grid.cols) % 2 == 0}
        data = stream.assemble(header, {}, z, y, planes)
        yield img, data, planes


def test_a_region_reads_what_the_plane_tiles_latents_need(checkerboard):
    img, data, planes = checkerboard
    with pytest.MonkeyPatch.context() as m:
        m.setenv(weights_file.PATH_ENV, str(GOLDEN))
        full = jpegai_fast.decode(data, threads=1)
        for i, near in ((i, pt.near) for i, pt in planes.items()):
            y0, y1, x0, x1 = _rect(data, i)
            assert np.abs(full[y0:y1, x0:x1].astype(int) - img[y0:y1, x0:x1]).max() <= near
        for region in [(70, 70, 8, 8), (0, 0, 64, 64), (130, 60, 60, 70), (250, 200, 70, 56), (64, 128, 1, 1)]:
            x, y, w, h = region
            assert np.array_equal(jpegai_fast.decode(data, region=region, threads=1), full[y:y + h, x:x + w]), region
        assert np.array_equal(jpegai_fast.decode(data, threads=2), full)           # thread count: same pixels


def _soft_drawing(h: int, w: int, seed: int) -> np.ndarray:
    """A drawing with anti-aliased edges: flat rectangles whose borders blend over a few pixels, so it has a
    few hundred colours (what a palette reduces) and repeats its left neighbour inside the flats."""
    from scipy.ndimage import uniform_filter
    img = drawn_image(h, w, seed).astype(np.float64)
    return np.clip(np.round(uniform_filter(img, size=(3, 3, 1))), 0, 255).astype(np.uint8)


def test_a_palette_tile_decodes_to_its_reduced_colours():
    img = _soft_drawing(128, 192, seed=4)
    with pytest.MonkeyPatch.context() as m:      # the test model's learned stream, tile 0 given to a palette
        m.setenv(weights_file.PATH_ENV, str(GOLDEN))
        _learned, header, grid, z, y = _tiny_learned(natural_like(128, 192, seed=4))
        choice = tile_choice.TileChoice(img, 8, grid, 1)
        count = mode_choice.colours(img[:64, :64])
        sizes = choice._palette_sizes(0)
        assert sizes and all(k < count for k in sizes) and list(sizes) == sorted(sizes, reverse=True)
        pt, sse = choice._palette_tile(0, 16)
        want = mode_choice.reduced(img[:64, :64], 16)
        assert pt.near == 0 and sse == float(np.sum((want.astype(np.float64) - img[:64, :64]) ** 2)) > 0
        data = stream.assemble(header, {}, z, y, {0: pt})
        assert np.array_equal(jpegai_fast.decode(data, threads=1)[:64, :64], want)


def test_palettes_are_weighed_only_for_eight_bit_tiles_of_few_colours(monkeypatch):
    img = _soft_drawing(128, 128, seed=5)
    grid = tiling.TileGrid(*tiling.latent_shape(128, 128), 4)
    assert tile_choice.TileChoice(img, 8, grid, 1)._palette_sizes(0)
    deep = img.astype(np.uint16) * 257
    assert tile_choice.TileChoice(deep, 16, grid, 1)._palette_sizes(0) == ()
    monkeypatch.setattr(mode_choice, "PALETTE_MAX_COLOURS", 8)                # more colours than allowed
    assert tile_choice.TileChoice(img, 8, grid, 1)._palette_sizes(0) == ()


@pytest.mark.parametrize("extra, reduction_factor, palettes_coded, won", [
    (0, 1, [32, 256, 192, 128, 96, 64, 48], 64),       # down from 256; 48 costs more than 64: no 32 again
    (200, 1, [32], None),                               # no palette codes in fewer bytes than the bounds' best
    (0, 4, [32, 256, 192, 128], 128),                   # from 96 down the reductions err too much: uncoded
])
def test_the_choice_weighs_palettes_beside_the_bounds_and_stops_where_the_cost_rises(
        monkeypatch, extra, reduction_factor, palettes_coded, won):
    img = _soft_drawing(128, 128, seed=6)
    grid = tiling.TileGrid(*tiling.latent_shape(128, 128), 4)
    choice = tile_choice.TileChoice(img, 8, grid, 1)
    assert choice.candidates
    # cost = 8 (payload + 2 descriptor bytes) + SSE / 3 (the stub's lambda 1, three samples per pixel):
    # bound n: 8 (302 - n), best 2288 at 16; palette k: 8 (k + 102 + extra) + 32768 / k, least at 64 (1840)
    payload = {("near", n): 300 - n for n in (0,) + tile_choice.BOUNDS}
    payload.update({("palette", k): k + 100 + extra for k in mode_choice.PALETTE_SIZES})
    tried = []

    def coding(kind):
        def make(i, p):
            tried.append((kind, p))
            return tile_choice.PlaneTile(0, 0, b"", [bytes(payload[kind, p])]), 98304.0 / p if kind == "palette" else 0.0
        return make

    monkeypatch.setattr(tile_choice.TileChoice, "_plane_tile", lambda self, i, n: coding("near")(i, n))
    monkeypatch.setattr(tile_choice.TileChoice, "_palette_tile", lambda self, i, k: coding("palette")(i, k))
    monkeypatch.setattr(tile_choice.TileChoice, "_palette_sizes", lambda self, i: (256, 192, 128, 96, 64, 48, 32))
    monkeypatch.setattr(tile_choice.TileChoice, "_palette_sse", lambda self, i, k: reduction_factor * 98304.0 / k)
    tiles = 4 * [10 ** 6]                                  # the learned tiles cost more than any plane coding
    chosen = choice.choose(_StubEngine(), 0, tiles, np.zeros_like(img))
    assert set(chosen) == set(choice.candidates)
    want = payload["near", 16] if won is None else payload["palette", won]
    assert [len(pt.planes[0]) for pt in chosen.values()] == [want] * len(chosen)
    first = [p for kind, p in tried[:len(tried) // len(choice.candidates)] if kind == "palette"]
    assert first == palettes_coded


class _StubEngine:
    def lmbda(self, t):
        return 1.0

    rd_cost = Engine.rd_cost            # the real rule, over the stub's lambda


def test_the_fill_spends_the_spare_bytes_where_they_lower_the_error_most(monkeypatch):
    img = _soft_drawing(128, 128, seed=7)
    grid = tiling.TileGrid(*tiling.latent_shape(128, 128), 4)
    choice = tile_choice.TileChoice(img, 8, grid, 1)
    assert len(choice.candidates) >= 2
    a, b = choice.candidates[:2]
    codings = {a: [(100, 0.0), (40, 500.0)],          # tile a: a plane tile of 40 bytes; exact for 60 more
               b: [(300, 0.0), (90, 40.0)]}           # tile b: learned (50 bytes, SSE 4000); 40 bytes buy 3960
    made = {i: [(tile_choice.PlaneTile(0, 0, b"", [bytes(n - 2)]), sse) for n, sse in codings[i]] for i in codings}
    monkeypatch.setattr(tile_choice.TileChoice, "_made", lambda self, i: made.get(i, []))
    choice._learned[5] = {i: (50, 4000.0) for i in choice.candidates}
    choice._chosen[5] = {a: made[a][1][0]}
    steps = choice.fill(5, 110)
    assert [s[a] is made[a][1][0] and s[b] is made[b][1][0] for s in steps[:1]] == [True]   # b first: 99/byte
    assert steps[1][a] is made[a][0][0] and steps[1][b] is made[b][1][0]          # then a exact: 8.3/byte
    assert len(steps) == 2                                                        # b exact (210 more) won't fit
    assert choice.fill(5, 39) == []                                               # nothing fits in 39 bytes
    assert len(choice.fill(5, 1000)) == 3                                         # at last b exact too


def test_the_fill_keeps_the_last_step_whose_stream_fits(monkeypatch):
    from types import SimpleNamespace
    from jpegai_fast.encoder import pipeline
    with pytest.MonkeyPatch.context() as m:
        m.setenv(weights_file.PATH_ENV, str(GOLDEN))
        img = natural_like(256, 320, seed=9)
        learned, header, grid, z, y = _tiny_learned(img)
        choice = tile_choice.TileChoice(img, 8, grid, 1)
        steps = [{0: choice._plane_tile(0, 16)[0]}, {0: choice._plane_tile(0, 0)[0], 1: choice._plane_tile(1, 0)[0]}]
        monkeypatch.setattr(tile_choice.TileChoice, "fill", lambda self, rate_q, spare: steps)
        frame = SimpleNamespace(grid=grid, side={})
        sizes = [len(stream.assemble(header, {}, z, y, step)) for step in steps]
        assert sizes[0] < sizes[1]
        for target, want in [(sizes[1], 1), (sizes[1] - 1, 0), (sizes[0], 0), (sizes[0] - 1, None)]:
            data = pipeline._filled(frame, choice, learned, learned, target)
            if want is None:
                assert data == learned
            else:
                assert len(data) == sizes[want] and _plane_tiles(data).keys() == steps[want].keys()
