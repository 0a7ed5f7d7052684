"""The plane decoder's group decode (csrc/alpha/alpha_decoder.cpp, decode_group): several planes that share a
size and a copy map decoded in one pass, each as it decodes alone; how the lossless decoder uses it (a tile's
planes together, split over threads) and how it names a damaged plane of a group."""
import numpy as np
import pytest

import jpegai_fast
from jpegai_fast import DecodeError
from jpegai_fast.core import alpha_coder, copy_map

from helpers import natural_like


def _planes(k, h, w, bits, seed):
    """k planes of ``bits`` bits: smooth ramps with noise (every predictor and context in use), one plane
    noise alone (escapes at 16 bits), and a shared stripe of repeats for the copy map to find."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:h, 0:w]
    out = []
    for c in range(k):
        base = (yy * (c + 1) * 3 + xx * (7 - c)) % (1 << bits)
        noise = rng.integers(0, 1 << min(bits, 4 + 3 * (c % 3)), (h, w))
        out.append(((base + noise) % (1 << bits)).astype(np.uint16))
    for p in out:
        p[h // 3:h // 2, :] = p[h // 3, :1]                # a flat band: distance-1 copies in every plane
    # the copy search looks at up to four channels: planes past the fourth are a bijection of one of those
    # (x 3 + c is one-to-one mod 2^bits), so a copy the search finds repeats equal samples in them too
    for c in range(4, k):
        out[c] = ((out[c - 4].astype(np.int64) * 3 + c) % (1 << bits)).astype(np.uint16)
    return out


@pytest.mark.parametrize("k", [1, 2, 3, 4, 5, 6])
@pytest.mark.parametrize("bits", [8, 10, 16])
@pytest.mark.parametrize("with_copies", [False, True])
def test_a_group_decodes_what_each_plane_decodes_alone(k, bits, with_copies):
    h, w = 37, 45
    planes = _planes(k, h, w, bits, seed=k * 100 + bits)
    pixels = np.stack(planes[:4], axis=-1)
    cmap = copy_map.find(pixels, np.full((h, w), 30.0, np.float32)) if with_copies else b""
    copies = copy_map.decode(cmap, h, w) if cmap else None
    assert (copies is not None and len(copies) > 0) == with_copies
    payloads = [alpha_coder.encode(p, bits, bits, cmap) for p in planes]
    alone = [alpha_coder._core.alpha_decode(d, h, w, bits, copies, 0) for d in payloads]
    together = alpha_coder.decode_group(payloads, h, w, bits, copies)
    assert len(together) == k
    for p, a, t in zip(planes, alone, together):
        np.testing.assert_array_equal(a, p)
        np.testing.assert_array_equal(t, p)


def test_a_group_of_one_row_one_column_and_one_pixel_planes():
    for h, w in [(1, 1), (1, 40), (40, 1), (2, 2)]:
        planes = _planes(3, h, w, 8, seed=h * w)
        payloads = [alpha_coder.encode(p, 8, 8) for p in planes]
        for p, t in zip(planes, alpha_coder.decode_group(payloads, h, w, 8)):
            np.testing.assert_array_equal(t, p)


def test_a_damaged_plane_of_a_group_fails_the_group():
    h, w = 40, 56
    planes = _planes(3, h, w, 8, seed=9)
    good = [alpha_coder.encode(p, 8, 8) for p in planes]
    bad = bytearray(good[1])
    for at in range(len(bad) - 40, len(bad) - 8):                # its rANS words, past the tables
        bad[at] ^= 0x5A
    with pytest.raises(DecodeError):
        alpha_coder.decode_group([good[0], bytes(bad), good[2]], h, w, 8)
    with pytest.raises(DecodeError):
        alpha_coder.decode_group([good[0], good[1], good[2][:-4]], h, w, 8)   # one word short
    with pytest.raises(ValueError):
        alpha_coder.decode_group(good, h, w + 1, 8, np.array([[5, 9, 1]], np.uint32))  # a copy before its source


@pytest.mark.parametrize("channels", [1, 2, 3, 4])
def test_the_threads_split_a_tiles_planes_without_changing_a_pixel(channels):
    img = natural_like(100, 150, channels)
    for tile_size in (None, 4):                                  # one tile; 2 x 3 tiles of 64 px
        data = jpegai_fast.encode(img, lossless=True, tile_size=tile_size, threads=1)
        for threads in (1, 2, 3, 4, 8):
            np.testing.assert_array_equal(jpegai_fast.decode(data, threads=threads), img)
