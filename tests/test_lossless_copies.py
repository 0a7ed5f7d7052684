"""Lossless graphics tools (issue 32, phase 2): the copy map (kind 7, docs/format.md "Lossless streams").
Exact round trips of images with repeats and few colours in every layout and depth, the encoder's choice
(a map only when it pays), damaged and forged maps (each a DecodeError naming the copy map, found before
any plane is decoded), and the plane coder's own checks of the copies it is given."""
import numpy as np
import pytest

import jpegai_fast
from jpegai_fast import DecodeError
from jpegai_fast.core import alpha_coder, copy_map
from jpegai_fast.format import container
from jpegai_fast.format.container import Kind

from helpers import natural_like

LAYOUTS = {"grey": (), "grey+alpha": (2,), "rgb": (3,), "rgba": (4,)}


def _palette_image(h, w, layout, bit_depth, colours, seed=0):
    """A drawing of ``colours`` colours: a tiled motif (repeats at several distances) over flat bands."""
    rng = np.random.default_rng(seed)
    dtype = np.uint8 if bit_depth == 8 else np.uint16
    palette = rng.integers(0, 1 << bit_depth, size=(colours,) + LAYOUTS[layout], dtype=np.int64).astype(dtype)
    motif = rng.integers(0, colours, size=(7, 11))
    index = np.tile(motif, (h // 7 + 1, w // 11 + 1))[:h, :w]
    index[h // 3:h // 2] = colours - 1                       # a flat band: distance-1 copies
    return palette[index]


def _kinds(data):
    return [s.kind for s in container.read(data).substreams]


def _round_trip(img, bit_depth):
    data = jpegai_fast.encode(img, lossless=True, bit_depth=None if bit_depth == 8 else bit_depth, threads=1)
    out = jpegai_fast.decode(data)
    assert out.dtype == img.dtype and out.shape == img.shape
    np.testing.assert_array_equal(out, img)
    np.testing.assert_array_equal(jpegai_fast.decode(data, threads=3), img)
    return data


@pytest.mark.parametrize("layout", sorted(LAYOUTS))
@pytest.mark.parametrize("bit_depth", [8, 16])
@pytest.mark.parametrize("colours", [1, 2, 17, 256])
def test_few_colour_images_round_trip_exactly(layout, bit_depth, colours):
    _round_trip(_palette_image(45, 61, layout, bit_depth, colours, seed=colours), bit_depth)


@pytest.mark.parametrize("layout", sorted(LAYOUTS))
def test_a_repeating_image_uses_the_copy_map_and_codes_smaller_for_it(layout):
    img = _palette_image(64, 90, layout, 10, 40)
    data = _round_trip(img, 10)
    assert Kind.COPY_MAP in _kinds(data)
    h = container.read(data)
    plain = sum(len(alpha_coder.encode(p, 10, 10)) for p in _planes(img))
    assert sum(s.length for s in h.substreams) < 0.5 * plain       # the motif repeats every 11 pixels


def _planes(img):
    return [img] if img.ndim == 2 else [img[..., c] for c in range(img.shape[2])]


def test_a_photo_like_image_keeps_no_map_when_it_does_not_pay():
    data = _round_trip(natural_like(40, 48), 8)
    assert Kind.COPY_MAP not in _kinds(data)


def test_the_map_orders_before_the_planes_and_after_the_alpha():
    img = _palette_image(30, 40, "rgba", 8, 5)
    data = jpegai_fast.encode(img, lossless=True, metadata={"xmp": b"<x/>"})
    assert _kinds(data) == [Kind.XMP, Kind.ALPHA, Kind.COPY_MAP, Kind.PLANE, Kind.PLANE, Kind.PLANE]
    assert jpegai_fast.info(data)["lossless"] is True


def test_copy_map_payload_decodes_to_what_the_search_found():
    img = _palette_image(20, 33, "rgb", 8, 3)
    payload = copy_map.find(img, np.full(img.shape[:2], 8.0, np.float32))
    copies = copy_map.decode(payload, 20, 33)
    count, covered = len(copies), int(copies[:, 2].sum())
    assert 1 <= count <= covered // 4 and covered <= 20 * 33
    start, distance, length = copies.T.astype(np.int64)
    assert (distance >= 1).all() and (distance <= start).all() and (length >= 4).all()
    assert (start[1:] >= start[:-1] + length[:-1]).all()               # sorted, no overlap
    flat = img.reshape(-1, 3)
    for s, d, n in zip(start, distance, length):     # every copied pixel equals the one d earlier
        np.testing.assert_array_equal(flat[s:s + n], flat[s - d:s - d + n])
    with pytest.raises(DecodeError, match="copy map"):
        copy_map.decode(payload, 20, 2)                               # the same map for a smaller image
    assert copy_map.find(img, np.zeros(img.shape[:2], np.float32)) == b""   # free pixels: no copy pays


# --- damaged and forged maps ---------------------------------------------------------------------------

@pytest.fixture(scope="module")
def tiled():
    img = _palette_image(48, 70, "rgb", 8, 12)
    data = jpegai_fast.encode(img, lossless=True)
    assert Kind.COPY_MAP in _kinds(data)
    return img, data


def _rewrite(data, payloads, subs=None):
    h = container.read(data)
    if subs is not None:
        h.substreams = subs
    return container.write(h, payloads)


def _payloads(data):
    h = container.read(data)
    return h, [data[s.offset:s.offset + s.length] for s in h.substreams]


@pytest.mark.parametrize("damage", ["zeroed", "empty", "count", "garbage", "truncated"])
def test_a_damaged_map_with_a_valid_crc_is_refused_before_any_plane(tiled, damage, monkeypatch):
    _, data = tiled
    h, p = _payloads(data)
    m = p[0]
    p[0] = {"zeroed": bytes(len(m)), "empty": b"", "count": bytes([0xFF, 0xFF, 0x03]) + m[1:],
            "garbage": m[:3] + bytes(b ^ 0x5A for b in m[3:]), "truncated": m[:-5]}[damage]
    calls = []
    monkeypatch.setattr(alpha_coder, "decode", lambda *a: calls.append(a))
    with pytest.raises(DecodeError, match="copy map"):
        jpegai_fast.decode(_rewrite(data, p))
    assert not calls


def test_a_forged_copy_that_reaches_before_the_image_is_refused():
    """A map made for a wider image: its row-above distance reaches before the first pixel of a narrow one."""
    img = np.zeros((8, 4, 3), np.uint8)
    img[0, :3] = 7
    wide = copy_map.find(np.tile(img, (1, 16, 1)), np.full((8, 64), 8.0, np.float32))
    with pytest.raises(DecodeError, match="copy map"):
        copy_map.decode(wide, 8, 4)


def test_a_map_alone_or_out_of_place_is_refused(tiled):
    _, data = tiled
    h, p = _payloads(data)
    subs = list(h.substreams)
    with pytest.raises(DecodeError, match="canonical order"):        # planes before the map
        jpegai_fast.decode(_rewrite(data, p[1:] + p[:1], subs[1:] + subs[:1]))
    with pytest.raises(DecodeError, match="canonical order"):        # two maps
        jpegai_fast.decode(_rewrite(data, p[:1] + p, subs[:1] + subs))


def test_a_map_in_a_lossy_stream_is_refused():
    lossy = jpegai_fast.encode(natural_like(32, 32), quality=30)
    h, p = _payloads(lossy)
    subs = [container.Substream(Kind.COPY_MAP, 0, 0, 0, 0)] + h.substreams
    with pytest.raises(DecodeError, match="canonical order"):
        jpegai_fast.decode(_rewrite(lossy, [b"\x01"] + p, subs))


def test_planes_coded_with_a_map_need_it(tiled):
    """Dropping the map (re-written with valid CRCs) leaves planes whose pixels do not add up: an error,
    never a plausible wrong image."""
    img, data = tiled
    h, p = _payloads(data)
    with pytest.raises(DecodeError):
        jpegai_fast.decode(_rewrite(data, p[1:], h.substreams[1:]))


def test_the_plane_coder_refuses_a_map_that_does_not_fit_its_plane():
    img = _palette_image(20, 30, "grey", 8, 4)
    payload = copy_map.find(img, np.full(img.shape, 8.0, np.float32))
    other = img.copy()
    other[-1, -1] ^= 1                      # the last pixel is inside a copy of the tiled motif
    with pytest.raises(ValueError, match="copy covers samples that differ"):
        alpha_coder.encode(other, 8, 8, payload)
    coded = alpha_coder.encode(img, 8, 8, payload)
    np.testing.assert_array_equal(alpha_coder.decode(coded, 20, 30, 8, copy_map.decode(payload, 20, 30)), img)
    with pytest.raises(ValueError, match="copies must be"):
        alpha_coder.decode(coded, 20, 30, 8, np.zeros((2, 2), np.uint32))
    with pytest.raises(ValueError, match="copy outside the plane"):
        alpha_coder.decode(coded, 20, 30, 8, np.array([[10, 11, 4]], np.uint32))
    with pytest.raises(ValueError, match="not in raster order"):
        alpha_coder.decode(coded, 20, 30, 8, np.array([[40, 1, 8], [44, 1, 4]], np.uint32))
