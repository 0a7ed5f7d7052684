"""Image file readers (files/images.py) on hostile and unusual inputs: limits before pixels, bounded
metadata inflation, and TIFF layouts that Pillow and tifffile read (issue 28 classes 4 and 6)."""
import io
import resource
import struct
import time
import zlib

import numpy as np
import pytest
import tifffile

import jpegai_fast
from jpegai_fast.files.images import read_image_file
from jpegai_fast.format import limits


def _chunk(kind, body):
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def _png(w, h, depth, colour, idat, extra=b""):
    ihdr = struct.pack(">IIBBBBB", w, h, depth, colour, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", ihdr) + extra + _chunk(b"IDAT", idat) + _chunk(b"IEND", b"")


def _zeros_deflated(mbytes):
    c = zlib.compressobj(9)
    return b"".join(c.compress(bytes(1 << 20)) for _ in range(mbytes)) + c.flush()


@pytest.fixture(scope="module")
def bomb():
    return _zeros_deflated(200)        # 200 MB of zeros in ~200 KB


def _refused_fast(data, match):
    """One-line ValueError within 2 s and +200 MB of peak memory (the issue's target for files <= 1 MB)."""
    assert len(data) <= 1 << 20
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    t = time.perf_counter()
    with pytest.raises(ValueError, match=match) as e:
        read_image_file(data, "x.png")
    assert time.perf_counter() - t < 2.0
    assert (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - peak) / 1024 < 200
    assert "\n" not in str(e.value) and str(e.value).startswith("x.png: ")


def test_a_16_bit_png_above_the_pixel_limit_is_refused_before_decoding(bomb):
    _refused_fast(_png(17000, 17000, 16, 0, bomb), "above the limit of")


def test_a_16_bit_png_whose_data_inflates_past_its_header_is_refused(bomb):
    _refused_fast(_png(4, 4, 16, 2, bomb), "inflates to more than the 100 bytes")


@pytest.mark.parametrize("chunk", [b"iCCP", b"iTXt"])
def test_compressed_metadata_is_inflated_only_to_the_stream_limit(chunk, monkeypatch):
    from jpegai_fast.format import container
    monkeypatch.setitem(container.METADATA_LIMITS, container.Kind.ICC, 1 << 20)      # keeps the test small
    monkeypatch.setitem(container.METADATA_LIMITS, container.Kind.XMP, 1 << 20)
    body = (b"icc\0\0" if chunk == b"iCCP" else b"XML:com.adobe.xmp\0\1\0\0\0") + _zeros_deflated(3)
    pixels = zlib.compress(b"".join(b"\0" + bytes(8) for _ in range(4)))
    _refused_fast(_png(4, 4, 16, 0, pixels, _chunk(chunk, body)), "inflates to more than 1048576 bytes")
    small = (b"icc\0\0" if chunk == b"iCCP" else b"XML:com.adobe.xmp\0\1\0\0\0") + zlib.compress(b"m" * 5000)
    f = read_image_file(_png(4, 4, 16, 0, pixels, _chunk(chunk, small)))
    assert f.metadata["icc" if chunk == b"iCCP" else "xmp"] == b"m" * 5000


def test_a_tiff_above_the_pixel_limit_is_refused_before_decoding(monkeypatch):
    buf = io.BytesIO()
    tifffile.imwrite(buf, np.zeros((64, 64), np.uint16), compression="zlib")
    monkeypatch.setattr(limits, "max_image_pixels", 64 * 63)
    _refused_fast(buf.getvalue(), "declares 64x64 = 4096 pixels, above the limit of 4032")


def test_a_pillow_format_above_the_pixel_limit_is_refused_before_decoding(monkeypatch):
    from PIL import Image
    buf = io.BytesIO()
    Image.new("RGB", (64, 64)).save(buf, format="BMP")
    monkeypatch.setattr(limits, "max_image_pixels", 64 * 63)
    _refused_fast(buf.getvalue(), "above the limit")


@pytest.fixture(scope="module")
def rgb():
    return np.random.default_rng(5).integers(0, 256, (24, 40, 3)).astype(np.uint8)


def _tiff(arr, **kw):
    buf = io.BytesIO()
    tifffile.imwrite(buf, arr, **kw)
    return buf.getvalue()


def test_planar_rgb_tiff_reads_as_interleaved(rgb):
    f = read_image_file(_tiff(np.moveaxis(rgb, -1, 0), planarconfig="separate", photometric="rgb"))
    assert np.array_equal(f.pixels, rgb)


def test_multi_page_tiff_codes_the_first_page_and_says_so(rgb):
    data = _tiff(np.stack([rgb, rgb[::-1]]), photometric="rgb")
    with pytest.warns(RuntimeWarning, match="first page"):
        f = read_image_file(data, "pages.tif")
    assert np.array_equal(f.pixels, rgb)


@pytest.mark.parametrize("orientation", [0, 9, 65535])
def test_an_invalid_tiff_orientation_reads_as_1(rgb, orientation):
    f = read_image_file(_tiff(rgb, photometric="rgb", extratags=[(274, "H", 1, orientation, True)]))
    assert f.metadata["orientation"] == 1 and np.array_equal(f.pixels, rgb)
    jpegai_fast.encode(f.pixels, quality=10, metadata=f.metadata)         # and the file encodes


def test_a_tiff_declaring_more_strips_than_its_file_holds_is_refused_at_once():
    # found by tests/fuzz/fuzz_image_files.py: ~400 bytes declaring 1.6 M one-row strips but listing 3;
    # tifffile walked every declared strip (5 s here before the layout check)
    h, w, n_entries = 1638405, 2, 9
    arrays = 8 + 2 + 12 * n_entries + 4
    entries = [(256, 3, 1, w), (257, 4, 1, h), (258, 3, 1, 8), (259, 3, 1, 1), (262, 3, 1, 1),
               (273, 4, 3, arrays), (277, 3, 1, 1), (278, 3, 1, 1), (279, 4, 3, arrays + 12)]
    ifd = struct.pack("<H", n_entries) + b"".join(
        struct.pack("<HHI", tag, typ, n) + (struct.pack("<HH", v, 0) if typ == 3 else struct.pack("<I", v))
        for tag, typ, n, v in entries) + bytes(4)
    data = b"II*\x00" + struct.pack("<I", 8) + ifd + struct.pack("<3I", 300, 302, 304) + struct.pack("<3I", 2, 2, 2)
    data += bytes(320 - len(data))
    t0 = time.perf_counter()
    with pytest.raises(ValueError, match="strips or tiles"):
        read_image_file(data, "bomb.tif")
    assert time.perf_counter() - t0 < 2


@pytest.mark.parametrize("name", ["tiff_strips_missing.tif", "tiff_size_is_a_tuple.tif", "tiff_samples_absent.tif"])
def test_fuzz_findings_are_refused_at_once(name):
    from pathlib import Path
    data = (Path(__file__).parent / "hostile" / name).read_bytes()
    t0, rss0 = time.perf_counter(), resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    with pytest.raises(ValueError):
        read_image_file(data, name)
    assert time.perf_counter() - t0 < 2
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - rss0 < 200 * 1024      # KiB: +200 MB
