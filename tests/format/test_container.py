import zlib

import numpy as np
import pytest

from jpegai_fast.format import container
from jpegai_fast.format import limits, tiling
from jpegai_fast.format.container import Header, Kind, Substream
from jpegai_fast.errors import DecodeError, ImageTooLargeError


def make(width=100, height=50, payloads=(b"zz", b"yyyy")):
    subs = [Substream(Kind.Z, 0, 0, 0, 0), Substream(Kind.Y, 0, 0, 0, 0)][:len(payloads)]
    one_tile = max(tiling.latent_shape(height, width)) <= tiling.MAX_TILE     # else the reader refuses tile size 0
    h = Header(width, height, 3, 8, b"\x01" * 8, rate_q=300, substreams=subs, tile_size=0 if one_tile else 64)
    return container.write(h, list(payloads))


def test_round_trip_fields_and_offsets():
    data = make(12345, 678, (b"abc", b"defgh"))
    h = container.read(data)
    assert (h.width, h.height, h.channels, h.bit_depth, h.rate_q) == (12345, 678, 3, 8, 300)
    assert [data[s.offset:s.offset + s.length] for s in h.substreams] == [b"abc", b"defgh"]
    assert all(s.complete for s in h.substreams)


def test_truncated_payload_marks_substream_incomplete():
    data = make()
    h = container.read(data[:-1])
    assert h.substreams[0].complete and not h.substreams[1].complete


def test_payload_bit_flip_fails_crc():
    data = bytearray(make())
    data[-1] ^= 0x10
    assert not container.read(bytes(data)).substreams[1].complete


@pytest.mark.parametrize("cut", range(0, 30))
def test_every_header_truncation_raises(cut):
    data = make()
    header_len = len(data) - 6
    if cut >= header_len:
        pytest.skip("cut inside the payload")
    with pytest.raises(DecodeError):
        container.read(data[:cut])


def test_header_bit_flips_raise():
    data = make()
    header_len = len(data) - 6
    for i in range(header_len * 8):
        bad = bytearray(data)
        bad[i // 8] ^= 1 << (i % 8)
        with pytest.raises(DecodeError):
            container.read(bytes(bad))


def test_wrong_magic_and_version():
    data = make()
    with pytest.raises(DecodeError, match="magic"):
        container.read(b"PNG" + data[3:])
    with pytest.raises(DecodeError, match="version"):
        container.read(data[:3] + bytes([99]) + data[4:])


def test_trailing_bytes_rejected():
    with pytest.raises(DecodeError, match="trailing"):
        container.read(make() + b"x")


def test_pixel_limit_refused_before_allocation(monkeypatch):
    monkeypatch.setattr(limits, "max_image_pixels", 1000)
    with pytest.raises(ImageTooLargeError):
        container.read(make(100, 11))
    container.read(make(100, 10))


def test_absurd_substream_count_refused():
    # a hand-made header claiming 2**20 substreams with a valid CRC
    body = bytearray(container.MAGIC) + bytes([container.VERSION])
    body += container._varint(8) + container._varint(8) + bytes([3, 8, 0, 1]) + b"\0" * 8
    body += container._varint(0) + container._varint(0) + bytes([1]) + container._varint(1 << 20)
    body += zlib.crc32(body).to_bytes(4, "little")
    with pytest.raises(DecodeError, match="does not fit"):
        container.read(bytes(body))


def test_not_bytes():
    with pytest.raises(TypeError):
        container.read(np.zeros(10))
