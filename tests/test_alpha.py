"""Alpha planes: the C++ alpha coder (csrc/alpha) and RGBA / grey+alpha through API, CLI and container."""
import numpy as np
import pytest
from click.testing import CliRunner

import jpegai_fast
from jpegai_fast import DecodeError, _core
from jpegai_fast.format import container
from jpegai_fast.format.container import Kind
from jpegai_fast.cli import main
from jpegai_fast.files.images import encode_image, read_image

from helpers import natural_like


def _matte(h, w, seed=0):
    """A disc with a soft edge, a hard bar and a gradient: flat areas, anti-aliasing, steps."""
    yy, xx = np.mgrid[0:h, 0:w]
    r = np.hypot(yy - h / 2, xx - w / 3)
    a = np.clip((min(h, w) / 3 - r) * 40, 0, 255)
    a[h // 5:h // 5 + 6, :] = 255
    a[:, -w // 6:] = np.linspace(0, 255, h)[:, None]
    return a.astype(np.uint8)


@pytest.mark.parametrize("plane, bits", [
    (np.full((37, 53), 255, np.uint16), 8),
    (np.zeros((1, 1), np.uint16), 8),
    (_matte(70, 90).astype(np.uint16), 8),
    (np.random.default_rng(0).integers(0, 256, (40, 33)).astype(np.uint16), 8),   # worst case: noise
    (np.random.default_rng(1).integers(0, 1 << 16, (20, 21)).astype(np.uint16), 16),
    (np.random.default_rng(2).integers(0, 2, (30, 30)).astype(np.uint16), 1),
    ((_matte(40, 40).astype(np.uint16) << 2) | 3, 10),
])
def test_coder_round_trips_exactly(plane, bits):
    data = _core.alpha_encode(plane, bits)
    assert np.array_equal(_core.alpha_decode(data, *plane.shape, bits), plane)


def test_flat_and_binary_planes_cost_almost_nothing():
    assert len(_core.alpha_encode(np.full((512, 512), 255, np.uint16), 8)) < 40
    mask = (_matte(256, 256) > 127).astype(np.uint16) * 255
    assert len(_core.alpha_encode(mask, 8)) < 256 * 256 / 8 / 10          # under 0.01 bit per pixel


def test_coder_refuses_bad_input_and_never_crashes_on_garbage():
    with pytest.raises(ValueError):
        _core.alpha_encode(np.full((4, 4), 300, np.uint16), 8)              # does not fit in 8 bits
    with pytest.raises(ValueError):
        _core.alpha_encode(np.zeros((4, 4), np.uint16), 17)
    good = _core.alpha_encode(_matte(30, 40).astype(np.uint16), 8)
    rng = np.random.default_rng(5)
    cases = [good[:n] for n in range(len(good))] + [bytes(rng.integers(0, 256, rng.integers(1, 200), np.uint8))
                                                    for _ in range(300)]
    for i in range(200):
        b = bytearray(good)
        b[rng.integers(0, len(b))] ^= 1 << int(rng.integers(0, 8))
        cases.append(bytes(b))
    for data in cases:
        try:
            out = _core.alpha_decode(data, 30, 40, 8)
            assert out.shape == (30, 40)
        except ValueError:
            pass


@pytest.fixture(scope="module")
def rgba():
    return np.dstack([natural_like(96, 136, seed=6), _matte(96, 136)])


def test_rgba_la_and_16_bit_alpha_round_trip(rgba):
    data = jpegai_fast.encode(rgba, quality=60)
    out = jpegai_fast.decode(data)
    assert out.shape == rgba.shape and np.array_equal(out[..., 3], rgba[..., 3])
    assert jpegai_fast.info(data)["alpha"] and jpegai_fast.info(data)["channels"] == 4
    colour_only = jpegai_fast.encode(np.ascontiguousarray(rgba[..., :3]), quality=60)
    assert np.array_equal(out[..., :3], jpegai_fast.decode(colour_only))     # the colour is coded the same
    la = np.ascontiguousarray(rgba[..., [1, 3]])
    out = jpegai_fast.decode(jpegai_fast.encode(la, quality=60))
    assert out.shape == la.shape and np.array_equal(out[..., 1], la[..., 1])
    deep = (rgba.astype(np.uint16) << 2) | 1
    out = jpegai_fast.decode(jpegai_fast.encode(deep, quality=60, bit_depth=10))
    assert out.dtype == np.uint16 and np.array_equal(out[..., 3], deep[..., 3])


def test_alpha_with_tiles_layers_regions_rate_control_and_effort(rgba):
    data = jpegai_fast.encode(rgba, quality=70, tile_size=4, layers=2)
    part = jpegai_fast.decode(data, region=(17, 9, 60, 40))
    assert np.array_equal(part[..., 3], rgba[9:49, 17:77, 3])
    first_layer = jpegai_fast.api.layer_chunks(data)[0]
    assert np.array_equal(jpegai_fast.decode(first_layer)[..., 3], rgba[..., 3])   # alpha is in layer 0
    lo, hi = (len(jpegai_fast.encode(rgba, quality=q)) for q in (0, 100))
    target = 8 * (lo * hi) ** 0.5 / (96 * 136)        # inside the range the colour can reach next to its alpha
    sized = jpegai_fast.encode(rgba, bpp=target)
    assert 0.9 * target <= 8 * len(sized) / (96 * 136) <= target
    assert np.array_equal(jpegai_fast.decode(jpegai_fast.encode(rgba, quality=50, effort=2))[..., 3], rgba[..., 3])


def test_lossy_alpha_bits(rgba):
    out = jpegai_fast.decode(jpegai_fast.encode(rgba, quality=50, alpha_bits=3))[..., 3]
    top = rgba[..., 3] >> 5
    assert np.array_equal(out >> 5, top) and out.max() == 255 and set(np.unique(out)) <= {
        (v << 5) | (v << 2) | (v >> 1) for v in range(8)}
    for bad in (0, 9, 2.5, True):
        with pytest.raises(ValueError, match="alpha_bits"):
            jpegai_fast.encode(rgba, alpha_bits=bad)
    with pytest.raises(ValueError, match="without alpha"):
        jpegai_fast.encode(np.ascontiguousarray(rgba[..., :3]), alpha_bits=4)


def test_damaged_alpha_is_a_decode_error(rgba):
    data = jpegai_fast.encode(rgba, quality=50)
    h = container.read(data)
    payloads = [data[s.offset:s.offset + s.length] for s in h.substreams]
    k = next(i for i, s in enumerate(h.substreams) if s.kind == Kind.ALPHA)
    bad = bytearray(payloads[k])
    bad[len(bad) // 2] ^= 0x10
    payloads[k] = bytes(bad)
    with pytest.raises(DecodeError):                     # CRC recomputed: the alpha coder itself notices
        jpegai_fast.decode(container.write(h, payloads))
    h.channels = 3                                        # an alpha substream in a stream without alpha
    with pytest.raises(DecodeError):
        jpegai_fast.decode(container.write(h, [data[s.offset:s.offset + s.length] for s in h.substreams]))


def test_cli_keeps_alpha_from_png_to_png_and_tiff(tmp_path, rgba):
    (tmp_path / "a.png").write_bytes(encode_image(rgba, ".png"))
    run = lambda *a: CliRunner().invoke(main, [str(x) for x in a])   # noqa: E731
    assert run("encode", tmp_path / "a.png", tmp_path / "a.jai", "-q", 60).exit_code == 0
    for out in ("o.png", "o.tif", "o.webp"):
        assert run("decode", tmp_path / "a.jai", tmp_path / out).exit_code == 0
        back = read_image(tmp_path / out)
        assert back.shape == rgba.shape and np.array_equal(back[..., 3], rgba[..., 3]), out
    r = run("decode", tmp_path / "a.jai", tmp_path / "o.jpg")
    assert r.exit_code == 1 and "alpha" in r.output


def _first_varint_as(payload: bytes, long_form) -> bytes:
    """The payload with its first varint (n_used, right after the bits byte) written in ``long_form``."""
    assert payload[1] < 0x80
    return payload[:1] + long_form(payload[1]) + payload[2:]


@pytest.mark.parametrize("long_form, message", [
    (lambda v: bytes([v | 0x80, 0x00]), "non-canonical"),                   # a final zero group
    (lambda v: bytes([v | 0x80, 0x80, 0x80, 0x80, 0x10]), "context count"),  # v + 2^32: wrapped to v before
])
def test_alpha_varints_are_canonical_and_never_wrap(rgba, long_form, message):
    from jpegai_fast.core import alpha_coder
    plane = _matte(40, 50)
    payload = alpha_coder.encode(plane, 8, 8)
    assert np.array_equal(alpha_coder.decode(payload, 40, 50, 8), plane)
    with pytest.raises(DecodeError, match=message):
        alpha_coder.decode(_first_varint_as(payload, long_form), 40, 50, 8)
    data = jpegai_fast.encode(rgba, quality=50)           # the same through a whole stream (CRCs valid)
    h = container.read(data)
    payloads = [data[s.offset:s.offset + s.length] for s in h.substreams]
    k = next(i for i, s in enumerate(h.substreams) if s.kind == Kind.ALPHA)
    payloads[k] = _first_varint_as(payloads[k], long_form)
    with pytest.raises(DecodeError, match=message):
        jpegai_fast.decode(container.write(h, payloads))


@pytest.mark.parametrize("bit_depth, bits", [(8, 8), (16, 16), (16, 3)])
def test_alpha_decode_keeps_the_plane_in_16_bits(bit_depth, bits):
    """The decoded plane is the decoder's largest array after the pixels: no 32-bit copies of it (a flat
    16384^2 plane cost +3.6 GB through two uint32 widenings). Peak: the decoder's uint16 plane + the result."""
    import tracemalloc
    from jpegai_fast.core import alpha_coder
    from jpegai_fast.pixels import replicate_bits
    side = 1024
    plane = np.full((side, side), (1 << bit_depth) - 1, np.uint16 if bit_depth > 8 else np.uint8)
    payload = alpha_coder.encode(plane, bit_depth, bits)
    tracemalloc.start()
    try:
        out = alpha_coder.decode(payload, side, side, bit_depth)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert out.dtype == plane.dtype and np.array_equal(out, replicate_bits(plane >> (bit_depth - bits), bits, bit_depth))
    assert peak <= 2 * side * side + out.nbytes + (1 << 20)
