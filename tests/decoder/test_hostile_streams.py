"""The classes of wrong behaviour issue 16 found with hostile streams and bad arguments, one test each."""
import time
import warnings

import numpy as np
import pytest

import jpegai_fast
from jpegai_fast import DecodeError
from jpegai_fast.format import container, stream
from jpegai_fast.format import tiling
from jpegai_fast.format.container import Header
from jpegai_fast.decoder.synthesis import synthesise_into
from jpegai_fast.runtime.engine import Engine
from jpegai_fast.core import rans
from jpegai_fast.format.container import Kind
from jpegai_fast.api import layer_chunks
from jpegai_fast.runtime.engine import get_engine
from jpegai_fast.core.intpath import scale_indexes

from helpers import natural_like


def _rebuild(data: bytes, **changes) -> bytes:
    """Re-serialise a stream with header fields changed (CRCs recomputed, so only the semantics are wrong)."""
    h = container.read(data)
    payloads = [data[s.offset:s.offset + s.length] for s in h.substreams]
    for k, v in changes.items():
        setattr(h, k, v)
    return container.write(h, payloads)


@pytest.mark.parametrize("encoding", [b"\x80\x00", b"\x81\x80\x80\x80\x80\x01"])
def test_non_canonical_and_long_varints_are_refused(encoding):
    r = container._Reader(encoding)
    with pytest.raises(DecodeError, match="varint"):
        r.varint("field", 1 << 40)


def test_a_single_huge_tile_is_refused_before_any_decoding():
    img = natural_like(16, 4160, seed=1)                 # latent 4 x 260: the encoder makes 5 tiles
    data = jpegai_fast.encode(img, quality=10)
    h = container.read(data)
    assert h.tile_size == 64
    with pytest.raises(DecodeError, match="single tile"):
        jpegai_fast.decode(_rebuild(data, tile_size=0))
    with pytest.raises(DecodeError, match="tile size"):
        jpegai_fast.decode(_rebuild(data, tile_size=1024))


def test_huge_latent_symbols_are_a_decode_error_not_a_saturated_image():
    img = natural_like(64, 64, seed=2)
    data = jpegai_fast.encode(img, quality=50)
    h = container.read(data)
    eng = get_engine()
    z_sub = next(s for s in h.substreams if s.kind == Kind.Z)
    y_sub = next(s for s in h.substreams if s.kind == Kind.Y)
    z_hat = eng.decode_z(data[z_sub.offset:z_sub.offset + z_sub.length], 4, 4, 1)
    _, log2sig = eng.hyper(z_hat, 1)
    idx = scale_indexes(log2sig, eng.steps(h.rate_q)[0])
    q = rans.decode_gaussian(data[y_sub.offset:y_sub.offset + y_sub.length], idx)
    q[3, 1, 2] = 1 << 25                                     # entropy- and CRC-valid, but no model makes it
    payloads = [data[s.offset:s.offset + s.length] for s in h.substreams]
    payloads[h.substreams.index(y_sub)] = rans.encode_gaussian(q, idx)
    bad = container.write(h, payloads)
    with pytest.raises(DecodeError, match="beyond"):
        jpegai_fast.decode(bad)


def test_cut_between_two_substreams_of_a_later_layer_warns():
    img = natural_like(128, 136, seed=3)
    data = jpegai_fast.encode(img, quality=70, tile_size=4, layers=3)
    h = container.read(data)
    later = [s for s in h.substreams if s.layer == 2]
    assert len(later) >= 2
    cut = data[:later[0].offset + later[0].length]             # exactly after the first layer-2 substream
    with pytest.warns(RuntimeWarning, match="inside layer"):
        jpegai_fast.decode(cut)
    with warnings.catch_warnings():
        warnings.simplefilter("error")                        # a layer boundary stays silent
        jpegai_fast.decode(b"".join(layer_chunks(data)[:2]))


@pytest.mark.parametrize("threads, err", [(2000, ValueError), (0, ValueError), (True, TypeError), (1.5, TypeError)])
def test_bad_threads_are_argument_errors(threads, err):
    img = natural_like(16, 16)
    data = jpegai_fast.encode(img)
    with pytest.raises(err, match="threads"):
        jpegai_fast.decode(data, threads=threads)
    with pytest.raises(err, match="threads"):
        jpegai_fast.encode(img, threads=threads)


@pytest.mark.parametrize("device", ["foo", "tpu", 3])
def test_bad_device_is_a_value_error(device):
    img = natural_like(16, 16)
    with pytest.raises(ValueError, match="device"):
        jpegai_fast.encode(img, device=device)
    with pytest.raises(ValueError, match="device"):
        jpegai_fast.decode(jpegai_fast.encode(img), device=device)


def test_the_encoder_refuses_what_the_reader_refuses():
    with pytest.raises(ValueError, match="sides"):
        jpegai_fast.encode(np.zeros((1, container.MAX_SIDE + 1), np.uint8))
    with pytest.raises(ValueError, match="tile_size"):
        jpegai_fast.encode(natural_like(16, 16), tile_size=tiling.MAX_TILE + 4)


# --- issue 28: latents beyond the model, and the order of work on hostile streams -------------------

def _with_symbol(data: bytes, value: int) -> bytes:
    """``data`` (one tile, one layer) with one latent symbol replaced: entropy- and CRC-valid."""
    h = container.read(data)
    eng = get_engine()
    z_sub = next(s for s in h.substreams if s.kind == Kind.Z)
    y_sub = next(s for s in h.substreams if s.kind == Kind.Y)
    lh, lw = tiling.latent_shape(h.height, h.width)
    z_hat = eng.decode_z(data[z_sub.offset:z_sub.offset + z_sub.length], lh, lw, 1)
    _, log2sig = eng.hyper(z_hat, 1)
    idx = scale_indexes(log2sig, eng.steps(h.rate_q)[0])
    q = rans.decode_gaussian(data[y_sub.offset:y_sub.offset + y_sub.length], idx)
    q[3, 1, 2] = value
    payloads = [data[s.offset:s.offset + s.length] for s in h.substreams]
    payloads[h.substreams.index(y_sub)] = rans.encode_gaussian(q, idx)
    return container.write(h, payloads)


@pytest.mark.parametrize("value", [1 << 13, -(1 << 14), 1 << 16])
def test_a_latent_beyond_what_the_model_can_produce_is_a_decode_error(value):
    # inside the symbol bound (2^20), at the lowest rate: decoded to a saturated 0/255 image before
    data = jpegai_fast.encode(natural_like(64, 64, seed=2), quality=0)
    with pytest.raises(DecodeError, match="latent channel 3 reaches .* can produce"):
        jpegai_fast.decode(_with_symbol(data, value))
    jpegai_fast.decode(_with_symbol(data, 2))              # an ordinary value still decodes


@pytest.mark.parametrize("bad", [np.inf, -np.inf, np.nan])
def test_a_non_finite_synthesis_is_a_decode_error_not_pixels(bad):
    def g_s(y, crop):
        x = np.full((3, 16 * y.shape[1], 16 * y.shape[2]), 0.5, np.float32)
        x[1, 5, 7] = bad
        return x[:, crop[0]:crop[1], crop[2]:crop[3]]
    out = np.zeros((64, 64, 3), np.uint8)
    with pytest.raises(DecodeError, match="non-finite"):
        synthesise_into(g_s, np.zeros((8, 4, 4), np.float32), (0, 4, 0, 4), 0, out, (0, 0, 64, 64), 3, 8)


@pytest.fixture(scope="module")
def tile_payloads() -> tuple[bytes, bytes]:
    """z and y of one 16 x 16-position tile at the lowest rate (a flat 256 px image, coded alone)."""
    data = jpegai_fast.encode(np.full((256, 256, 3), 128, np.uint8), quality=0)
    h = container.read(data)
    z, y = (next(data[s.offset:s.offset + s.length] for s in h.substreams if s.kind == k) for k in (Kind.Z, Kind.Y))
    return z, y


def _tiled(side: int, z: list[bytes], y: list[bytes], alpha: bytes | None = None) -> bytes:
    """A side x side stream of 16-position tiles with the given payloads (the project's writer)."""
    h = Header(side, side, 3 if alpha is None else 4, 8, get_engine().model_id, 0, tile_size=16)
    return stream.assemble(h, {} if alpha is None else {Kind.ALPHA: alpha}, z, [[p] for p in y])


@pytest.fixture
def expensive_calls(monkeypatch):
    """Records every call of the expensive per-tile stages (z decode, integer h_s) and of the alpha decode."""
    from jpegai_fast.core import alpha_coder
    calls = []
    for owner, name in ((Engine, "decode_z"), (Engine, "hyper"), (alpha_coder, "decode")):
        real = getattr(owner, name)
        monkeypatch.setattr(owner, name, lambda *a, _real=real, _name=name, **k: calls.append(_name) or _real(*a, **k))
    return calls


@pytest.mark.parametrize("where", ["z", "y"])
def test_every_substream_is_checked_before_any_tile_is_decoded(tile_payloads, expensive_calls, where):
    # 16 valid tiles but the last one's z or y (a whole-stream table problem a cheap look finds): it ran
    # every earlier tile's z decode, integer h_s, y decode and context loop first (8192^2: 12.7 s, +162 MB)
    z, y = tile_payloads
    zs, ys = [z] * 16, [y] * 16
    (zs if where == "z" else ys)[15] = b"\x01" * 10           # no whole word after the state
    data = _tiled(1024, zs, ys)
    with pytest.raises(DecodeError, match=f"chunk 0 does not decode \\(tile 15, {where} substream"):
        jpegai_fast.decode(data)
    assert expensive_calls == []
    jpegai_fast.decode(_tiled(1024, [z] * 16, [y] * 16))      # the valid stream decodes


def test_the_alpha_plane_is_decoded_after_the_colour(tile_payloads, expensive_calls):
    # a flat alpha plane costs a few bytes, but decoding it first cost a pass over every pixel (and 3.6 GB
    # at 16384^2) before a damaged colour stream was found
    from jpegai_fast.core import alpha_coder
    z, y = tile_payloads
    alpha = alpha_coder.encode(np.full((512, 512), 255, np.uint8), 8, 8)
    ys = [y] * 4
    ys[0] = (1 << 40).to_bytes(8, "little") + b"\0" * 4       # well-formed, so only decoding finds it
    with pytest.raises(DecodeError, match="tile 0, y substream"):
        jpegai_fast.decode(_tiled(512, [z] * 4, ys, alpha))
    assert "decode" not in expensive_calls
    expensive_calls.clear()
    damaged = alpha[:1] + b"\0\0" + alpha[3:]                   # no tables: found by the cheap look, first
    with pytest.raises(DecodeError, match="alpha: no block-mode table"):
        jpegai_fast.decode(_tiled(512, [z] * 4, [y] * 4, damaged))
    assert expensive_calls == []


def test_a_substream_table_longer_than_the_tile_grid_allows_is_refused_before_parsing(monkeypatch):
    # 2^20 entries (8 MB) for a one-tile image: info() spent 10 s and +385 MB parsing, then accepted it
    n = 4096
    h = Header(64, 64, 3, 8, get_engine().model_id, 0, substreams=[container.Substream(Kind.Y, 0, 0, 0, 0)] * n)
    data = container.write(h, [b""] * n)
    parsed = []
    real = container.Substream
    monkeypatch.setattr(container, "Substream", lambda *a: parsed.append(1) or real(*a))
    for fn in (jpegai_fast.info, jpegai_fast.decode):
        with pytest.raises(DecodeError, match="4096 substreams, more than the 8 that 64x64"):
            fn(data)
    assert parsed == []


def test_a_table_of_65536_tiles_fails_fast():
    # 16384^2 in 65536 tiles of 4 positions: every table entry allowed (131,072), every payload empty (1.28 MB)
    tiles = (16384 // 64) ** 2
    h = Header(16384, 16384, 3, 8, get_engine().model_id, 0, tile_size=4)
    data = stream.assemble(h, {}, [b""] * tiles, [[b""]] * tiles)
    start = time.perf_counter()
    with pytest.raises(DecodeError, match="tile 0, z substream"):
        jpegai_fast.decode(data)
    assert jpegai_fast.info(data)["tiles"] == tiles
    assert time.perf_counter() - start < 10          # ~1 s on a loaded 2-core machine; generous
