"""Damaged and forged lossless streams (issue 32): each one a DecodeError naming what is wrong, found by
the cheap checks (layout, CRCs, every plane's tables) before any plane is decoded."""
import time

import numpy as np
import pytest

import jpegai_fast
from jpegai_fast import DecodeError
from jpegai_fast.core import alpha_coder, copy_map
from jpegai_fast.decoder import lossless as lossless_decoder
from jpegai_fast.decoder.latent import ParsedStream
from jpegai_fast.format import container
from jpegai_fast.format.container import ColourTransform, Kind

from helpers import natural_like


@pytest.fixture(scope="module")
def rgba():
    img = np.dstack([natural_like(40, 30), np.where(natural_like(40, 30, 1, seed=3) > 120, 255, 0).astype(np.uint8)])
    return img, jpegai_fast.encode(img, lossless=True, metadata={"xmp": b"<x/>"})


def _rewrite(data: bytes, payloads=None, subs=None, **fields) -> bytes:
    """The stream re-written with valid CRCs around changed payloads, substream entries or header fields."""
    h = container.read(data)
    old = [data[s.offset:s.offset + s.length] for s in h.substreams]
    payloads = old if payloads is None else payloads
    if subs is not None:
        h.substreams = subs
    for k, v in fields.items():
        setattr(h, k, v)
    return container.write(h, payloads)


def _payloads(data):
    h = container.read(data)
    return h, [data[s.offset:s.offset + s.length] for s in h.substreams]


def test_the_valid_stream_decodes(rgba):
    img, data = rgba
    np.testing.assert_array_equal(jpegai_fast.decode(data), img)


@pytest.mark.parametrize("cut", [1, 7, 100])
def test_a_truncated_stream_is_refused(rgba, cut):
    with pytest.raises(DecodeError, match="truncated|CRC"):
        jpegai_fast.decode(rgba[1][:-cut])


def test_a_flipped_payload_byte_fails_its_crc(rgba):
    data = bytearray(rgba[1])
    data[-20] ^= 0x10
    with pytest.raises(DecodeError, match="CRC"):
        jpegai_fast.decode(bytes(data))


@pytest.mark.parametrize("index", [1, 2, 3, 4])        # alpha, then planes 0..2 (the XMP is index 0)
def test_a_zeroed_plane_with_a_valid_crc_is_refused_before_decoding(rgba, index, monkeypatch):
    h, p = _payloads(rgba[1])
    p[index] = p[index][:1] + bytes(len(p[index]) - 1)
    calls = []
    monkeypatch.setattr(alpha_coder, "decode", lambda *a: calls.append(a))
    with pytest.raises(DecodeError, match="alpha substream|lossless plane"):
        jpegai_fast.decode(_rewrite(rgba[1], p))
    assert not calls                                  # refused by the cheap checks: no plane was decoded


@pytest.mark.parametrize("seed", range(6))
def test_garbage_plane_payloads_with_valid_crcs_end_in_decode_error(rgba, seed):
    h, p = _payloads(rgba[1])
    rng = np.random.default_rng(seed)
    i = 2 + seed % 3
    body = bytearray(p[i])
    for pos in rng.integers(1, len(body), 4):
        body[pos] = int(rng.integers(0, 256))
    p[i] = bytes(body)
    t = time.perf_counter()
    try:
        out = jpegai_fast.decode(_rewrite(rgba[1], p))
    except DecodeError:
        pass
    else:                                              # a change the coder cannot see must still be exact-sized
        assert out.shape == rgba[0].shape
    assert time.perf_counter() - t < 2


def test_a_plane_coding_fewer_bits_is_refused(rgba):
    img, _ = rgba
    data = jpegai_fast.encode(img, lossless=True)
    h, p = _payloads(data)
    good = p[1]
    p[1] = alpha_coder.encode(img[..., 0], 8, 7)     # plane 0 coded with 7 bits: a lossy payload
    with pytest.raises(DecodeError, match="plane 0.*all 8 bits"):
        jpegai_fast.decode(_rewrite(data, p))
    p[1], p[0] = good, alpha_coder.encode(img[..., 3], 8, 2)        # the lossy alpha mode
    with pytest.raises(DecodeError, match="alpha substream does not code all 8 bits"):
        jpegai_fast.decode(_rewrite(data, p))
    p[0] = b""
    with pytest.raises(DecodeError, match="alpha substream"):
        jpegai_fast.decode(_rewrite(data, p))


@pytest.mark.parametrize("field,value", [("model_id", bytes.fromhex("0123456789abcdef")), ("rate_q", 5),
                                         ("tile_size", 4), ("num_layers", 2)])
def test_model_fields_of_a_lossless_header_must_be_empty(rgba, field, value):
    kw = {field: value}
    if field == "num_layers":
        kw["group_order"] = [0, 1]
    # (a tile size is allowed, under the lossy stream's rule: 4 is no tile of this 4x4 latent; two layers are
    # a stream over a learned base, which this one has not)
    match = {"tile_size": "tile size 4 for", "num_layers": "not in the canonical order"}.get(field, "lossless stream with")
    with pytest.raises(DecodeError, match=match):
        jpegai_fast.decode(_rewrite(rgba[1], **kw))


def test_missing_extra_or_reordered_planes_are_refused(rgba):
    data = rgba[1]
    h, p = _payloads(data)
    subs = list(h.substreams)
    with pytest.raises(DecodeError, match="canonical order"):           # plane 2 missing
        jpegai_fast.decode(_rewrite(data, p[:-1], subs[:-1]))
    swapped = subs[:2] + [subs[3], subs[2]] + subs[4:]
    with pytest.raises(DecodeError, match="canonical order"):
        jpegai_fast.decode(_rewrite(data, p[:2] + [p[3], p[2]] + p[4:], swapped))
    extra = subs + [container.Substream(Kind.PLANE, 3, 0, 0, 0)]
    with pytest.raises(DecodeError, match="substreams"):                 # more than 3 planes + alpha + 3 metadata
        jpegai_fast.decode(_rewrite(data, p + [p[-1]], extra))
    no_alpha = [subs[0]] + subs[2:]
    with pytest.raises(DecodeError, match="canonical order"):
        jpegai_fast.decode(_rewrite(data, [p[0]] + p[2:], no_alpha))


def test_lossy_and_lossless_paths_refuse_each_other(rgba):
    with pytest.raises(DecodeError):
        ParsedStream(rgba[1])                                      # no model has the all-zero id
    lossy = jpegai_fast.encode(natural_like(32, 32), quality=30)
    with pytest.raises(DecodeError, match="not a lossless stream"):
        lossless_decoder.LosslessStream(lossy)
    # a lossy stream claiming the lossless transform: the model fields give it away at once
    with pytest.raises(DecodeError, match="lossless stream with"):
        jpegai_fast.decode(_rewrite(lossy, colour_transform=ColourTransform.LOSSLESS_SUBTRACT_GREEN))
    # and a plane substream inside a lossy stream is out of its canonical order
    h, p = _payloads(lossy)
    subs = h.substreams + [container.Substream(Kind.PLANE, 0, 0, 0, 0)]
    with pytest.raises(DecodeError, match="canonical order"):
        jpegai_fast.decode(_rewrite(lossy, p + [b"\x08"], subs))


def test_an_unknown_colour_transform_is_refused(rgba):
    with pytest.raises(DecodeError, match="unsupported colour transform 7"):
        jpegai_fast.decode(_rewrite(rgba[1], colour_transform=7))


def test_near_lossless_fields_are_checked(rgba):
    img, _ = rgba
    near = jpegai_fast.encode(img, max_error=3)
    assert np.abs(jpegai_fast.decode(near).astype(int) - img).max() <= 3
    # the bound lives in the rate field: 0 and beyond 2^(b-1) - 1 are no encoder's stream
    for rate in (0, 128):
        with pytest.raises(DecodeError, match="near-lossless stream with"):
            jpegai_fast.decode(_rewrite(near, rate_q=rate))
    # an exact stream relabelled near-lossless (rate 0) is refused by the same rule
    with pytest.raises(DecodeError, match="near-lossless stream with"):
        jpegai_fast.decode(_rewrite(rgba[1], colour_transform=ColourTransform.NEAR_LOSSLESS))
    # transform 5 is for colour of at most 15 bits (its differences take b + 1 bits)
    grey_rgb = np.repeat(natural_like(24, 20, 1, seed=6)[..., None], 3, axis=2)   # R = G = B: transform 5 wins
    near = jpegai_fast.encode(grey_rgb, max_error=3)
    assert container.read(near).colour_transform in ColourTransform.NEAR_DIFFERENCES
    assert np.abs(jpegai_fast.decode(near).astype(int) - grey_rgb).max() <= 3
    grey = jpegai_fast.encode(natural_like(12, 10, 1), max_error=2)
    deep = jpegai_fast.encode((natural_like(12, 10).astype(np.uint16) * 257), bit_depth=16, max_error=2)
    for t in ColourTransform.NEAR_DIFFERENCES:
        with pytest.raises(DecodeError, match=f"grey lossless stream with colour transform {t}"):
            jpegai_fast.decode(_rewrite(grey, colour_transform=t))
        with pytest.raises(DecodeError, match=f"colour transform {t} at 16 bits"):
            jpegai_fast.decode(_rewrite(deep, colour_transform=t))
    # planes 1 and 2 of transform 5 must code b + 1 bits, and transform 4's b: swapping the label is caught
    with pytest.raises(DecodeError, match="does not code all"):
        jpegai_fast.decode(_rewrite(near, colour_transform=ColourTransform.NEAR_LOSSLESS))
    # a copy map the planes were not coded around: their symbols no longer add up (a DecodeError, never an image)
    near = jpegai_fast.encode(img, max_error=3)
    h, p = _payloads(near)
    at = next(i for i, s in enumerate(h.substreams) if s.kind == Kind.PLANE)
    repeats = np.zeros(img.shape[:2] + (3,), np.uint8)
    foreign = copy_map.find(repeats, np.full(repeats.shape[:2], 8.0, np.float32))
    subs = h.substreams[:at] + [container.Substream(Kind.COPY_MAP, 0, 0, 0, 0)] + h.substreams[at:]
    with pytest.raises(DecodeError, match="lossless plane 0"):
        jpegai_fast.decode(_rewrite(near, p[:at] + [foreign] + p[at:], subs))
    # a damaged plane payload is a DecodeError naming the plane, never a crash or a wrong image
    h, p = _payloads(near)
    p[at] = p[at][:1] + bytes(len(p[at]) - 1)
    with pytest.raises(DecodeError, match="lossless plane 0"):
        jpegai_fast.decode(_rewrite(near, p))
    rng = np.random.default_rng(5)
    for _ in range(20):
        p2 = list(p)
        p2[at] = p[at][:1] + rng.integers(0, 256, len(p[at]) - 1, dtype=np.uint8).tobytes()
        try:
            out = jpegai_fast.decode(_rewrite(near, p2))
        except DecodeError:
            continue
        assert out.shape == img.shape   # a random payload that parses decodes to some image of the right shape


def test_a_grey_stream_with_a_colour_transform_is_refused():
    grey = jpegai_fast.encode(natural_like(12, 10, 1), lossless=True)
    with pytest.raises(DecodeError, match="grey lossless stream with colour transform 3"):
        jpegai_fast.decode(_rewrite(grey, colour_transform=ColourTransform.LOSSLESS_R_MINUS_B))


@pytest.mark.parametrize("transform", ColourTransform.LOSSLESS)
def test_a_forged_transform_value_decodes_to_other_pixels_not_an_error(rgba, transform):
    """The transform byte is covered by the header CRC; re-written with a valid CRC it is a different but
    well-formed stream: the decode is another image of the same shape, never a crash."""
    out = jpegai_fast.decode(_rewrite(rgba[1], colour_transform=transform))
    assert out.shape == rgba[0].shape and out.dtype == rgba[0].dtype


def test_a_damaged_plane_decoded_with_its_tile_is_named():
    # the planes of a lossless tile decode together (one pass); a damaged one is still named in the error
    img = natural_like(40, 56)
    data = jpegai_fast.encode(img, lossless=True, threads=1)
    h, p = _payloads(data)
    at = [i for i, s in enumerate(h.substreams) if s.kind == Kind.PLANE][1]
    bad = bytearray(p[at])
    for k in range(len(bad) - 40, len(bad) - 8):
        bad[k] ^= 0x5A
    p[at] = bytes(bad)
    for threads in (1, 2, 3):
        with pytest.raises(DecodeError, match=r"lossless plane 1 substream\)$"):
            jpegai_fast.decode(_rewrite(data, p), threads=threads)
