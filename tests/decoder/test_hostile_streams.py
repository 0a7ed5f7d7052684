"""The classes of wrong behaviour issue 16 found with hostile streams and bad arguments, one test each."""
import warnings

import numpy as np
import pytest

import jpegai_fast
from jpegai_fast import DecodeError
from jpegai_fast.format import container
from jpegai_fast.format import tiling
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
