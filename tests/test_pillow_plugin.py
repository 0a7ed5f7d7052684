"""The Pillow plugin through Pillow's own API: open (lazy), load, save, thumbnail, convert, metadata."""
import io
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, UnidentifiedImageError

import jpegai_fast
import jpegai_fast.pillow  # noqa: F401  (registers the format)

from helpers import natural_like, psnr


@pytest.fixture(scope="module")
def rgb():
    return natural_like(60, 90, seed=12)


def test_open_reads_the_header_and_decodes_on_load(tmp_path, rgb, monkeypatch):
    data = jpegai_fast.encode(rgb, quality=70)
    (tmp_path / "a.jai").write_bytes(data)
    calls = []
    import jpegai_fast.api as codec
    real = codec.decode
    monkeypatch.setattr(codec, "decode", lambda *a, **k: calls.append(1) or real(*a, **k))
    with Image.open(tmp_path / "a.jai") as im:
        assert (im.format, im.mode, im.size) == ("JAI", "RGB", (90, 60))
        assert calls == []                                   # nothing decoded yet
        arr = np.asarray(im)
        assert calls == [1]
    assert np.array_equal(arr, real(data))


def test_save_with_quality_bpp_effort_and_read_back(tmp_path, rgb):
    im = Image.fromarray(rgb)
    im.save(tmp_path / "q.jai", quality=40)
    assert (tmp_path / "q.jai").read_bytes() == jpegai_fast.encode(rgb, quality=40)
    im.save(tmp_path / "b.jai", bpp=1.0)
    assert 8 * (tmp_path / "b.jai").stat().st_size / (60 * 90) <= 1.0
    buf = io.BytesIO()
    im.save(buf, format="JAI", quality=60, effort=2)
    assert buf.getvalue() == jpegai_fast.encode(rgb, quality=60, effort=2)
    back = Image.open(io.BytesIO(buf.getvalue()))
    assert psnr(np.asarray(back), rgb) > 25
    im.save(tmp_path / "n.jai", max_error=2)   # near-lossless through save() too
    assert (tmp_path / "n.jai").read_bytes() == jpegai_fast.encode(rgb, max_error=2)
    assert np.abs(np.asarray(Image.open(tmp_path / "n.jai")).astype(int) - rgb).max() <= 2


def test_grey_16_bit_thumbnail_convert(tmp_path):
    grey = natural_like(64, 64, channels=1, seed=3)
    Image.fromarray(grey).save(tmp_path / "g.jai", quality=80)
    with Image.open(tmp_path / "g.jai") as im:
        assert im.mode == "L"
        im.thumbnail((32, 32))
        assert im.size == (32, 32)
        assert im.convert("RGB").mode == "RGB"
    deep = (natural_like(64, 64, channels=1, seed=4).astype(np.uint16) * 257)
    Image.fromarray(deep).save(tmp_path / "d.jai", quality=90)       # I;16
    assert jpegai_fast.info((tmp_path / "d.jai").read_bytes())["bit_depth"] == 16
    with Image.open(tmp_path / "d.jai") as im:
        assert im.mode == "I;16"
        assert psnr(np.asarray(im), deep, peak=65535) > 25


def test_metadata_in_info_and_written_back(tmp_path, rgb):
    exif = Image.Exif()
    exif[0x0112] = 8
    Image.fromarray(rgb).save(tmp_path / "m.jai", quality=50, icc_profile=b"icc-bytes" * 10, exif=exif,
                              xmp=b"<x:xmpmeta/>")
    with Image.open(tmp_path / "m.jai") as im:
        assert im.info["icc_profile"] == b"icc-bytes" * 10 and im.info["xmp"] == b"<x:xmpmeta/>"
        assert im.getexif()[0x0112] == 8 and im.info["orientation"] == 8
        im.save(tmp_path / "again.jai")                    # info carried over by save
    assert jpegai_fast.info((tmp_path / "again.jai").read_bytes())["orientation"] == 8


def test_rgba_and_la_keep_their_alpha(tmp_path, rgb):
    a = np.zeros(rgb.shape[:2], np.uint8)
    a[10:50, 20:70] = 255
    a[30:35] = 90
    Image.fromarray(np.dstack([rgb, a])).save(tmp_path / "x.jai", quality=60)
    with Image.open(tmp_path / "x.jai") as im:
        assert im.mode == "RGBA"
        assert np.array_equal(np.asarray(im)[..., 3], a)
        im.thumbnail((45, 30))
        assert im.mode == "RGBA" and im.size == (45, 30)
    Image.fromarray(np.stack([rgb[..., 1], a], -1), "LA").save(tmp_path / "la.jai")
    with Image.open(tmp_path / "la.jai") as im:
        assert im.mode == "LA" and np.array_equal(np.asarray(im)[..., 1], a)


def test_a_foreign_file_is_not_claimed(tmp_path, rgb):
    Image.fromarray(rgb).save(tmp_path / "p.png")
    with Image.open(tmp_path / "p.png") as im:
        assert im.format == "PNG"
    (tmp_path / "bad.jai").write_bytes(b"JAI\x03garbage")
    with pytest.raises(UnidentifiedImageError):        # what Pillow users catch for a file it cannot read
        Image.open(tmp_path / "bad.jai")


def test_mode_i_saves_as_16_bit_grey_and_refuses_values_beyond_16_bits():
    deep = natural_like(48, 64, channels=1, seed=8).astype(np.int32) * 257       # 0..65535 in mode I
    buf = io.BytesIO()
    Image.fromarray(deep, "I").save(buf, format="JAI", quality=90)
    assert buf.getvalue() == jpegai_fast.encode(deep.astype(np.uint16), bit_depth=16, quality=90)
    with Image.open(io.BytesIO(buf.getvalue())) as im:
        assert im.mode == "I;16"
        assert psnr(np.asarray(im), deep, peak=65535) > 25                    # not a white page
    for bad in (deep + 65536, deep - 70000):
        with pytest.raises(ValueError, match="0..65535"):
            Image.fromarray(bad, "I").save(io.BytesIO(), format="JAI")


def test_mode_f_and_other_modes_without_a_stream_counterpart_are_refused():
    f = np.random.default_rng(2).random((16, 16), np.float32)
    for im in (Image.fromarray(f, "F"), Image.new("I;16", (4, 4)).convert("F")):
        with pytest.raises(OSError, match="cannot write mode F"):
            im.save(io.BytesIO(), format="JAI")


def test_1_la_and_premultiplied_modes_keep_their_meaning(rgb):
    grey, a = rgb[..., 1], np.full(rgb.shape[:2], 255, np.uint8)
    la = Image.fromarray(np.stack([grey, a], -1), "LA")
    for mode in ("LA", "La"):
        buf = io.BytesIO()
        la.convert(mode).save(buf, format="JAI", quality=70)
        assert buf.getvalue() == jpegai_fast.encode(np.stack([grey, a], -1), quality=70)
    buf = io.BytesIO()
    Image.fromarray(grey).convert("1").save(buf, format="JAI")
    assert jpegai_fast.info(buf.getvalue())["channels"] == 1                  # grey, as PNG keeps it


def test_load_of_a_broken_stream_raises_oserror_and_decode_error(rgb):
    data = bytearray(jpegai_fast.encode(rgb, quality=50))
    data[-20] ^= 0xFF                                  # payload byte: the header still reads, the CRC fails
    with Image.open(io.BytesIO(bytes(data))) as im:
        with pytest.raises(OSError) as e:
            im.load()
    assert isinstance(e.value, jpegai_fast.DecodeError)


def test_a_stream_above_the_pixel_limit_is_pillows_decompression_bomb_error(rgb, monkeypatch):
    from jpegai_fast.format import limits
    data = jpegai_fast.encode(rgb, quality=50)
    monkeypatch.setattr(limits, "max_image_pixels", 100)
    with pytest.raises(Image.DecompressionBombError, match="pixels"):
        Image.open(io.BytesIO(data))


def _no_g_s(monkeypatch):
    """Fail if the full synthesis runs: draft/reduce/thumbnail must take the preview head."""
    from jpegai_fast.runtime.engine import Engine
    real = Engine.transform

    def transform(self, name, device, threads):
        assert name != "g_s", "the full synthesis ran"
        return real(self, name, device, threads)
    monkeypatch.setattr(Engine, "transform", transform)


def test_draft_reduce_and_thumbnail_use_the_preview_head(tmp_path, monkeypatch):
    from jpegai_fast.files.images import read_image
    img = read_image(Path(jpegai_fast.__file__).parent / "data" / "chelsea.png")      # 451 x 300 photograph
    data = jpegai_fast.encode(img, quality=70)
    (tmp_path / "p.jai").write_bytes(data)
    quarter = jpegai_fast.decode(data, scale=4)
    _no_g_s(monkeypatch)
    with Image.open(tmp_path / "p.jai") as im:
        assert im.draft("RGB", (100, 70)) == ("RGB", (0, 0, 451 / 4, 300 / 4))     # 1/8 would be 57 x 38
        assert im.size == (113, 75)
        assert im.draft("RGB", (10, 10)) is None                                # once, as Pillow's JPEG
        assert np.array_equal(np.asarray(im), quarter)
    with Image.open(tmp_path / "p.jai") as im:
        assert im.draft("RGB", (451, 151)) is None and im.size == (451, 300)    # no scale is big enough
    with Image.open(tmp_path / "p.jai") as im:
        small = im.reduce(4)
        assert small.size == (113, 75) and np.array_equal(np.asarray(small), quarter)
        assert np.array_equal(np.asarray(im.reduce((8, 8), box=(0, 0, 451, 300))), jpegai_fast.decode(data, scale=8))
    with Image.open(tmp_path / "p.jai") as im:
        im.thumbnail((50, 33))                  # draft asks for 100 x 66: decoded at 1/4, then resized
        assert im.size == (50, 33)
        assert psnr(np.asarray(im), np.asarray(Image.fromarray(img).resize((50, 33), Image.BICUBIC))) > 36     # measured 41.67 dB


def test_other_reductions_are_pillows(tmp_path, rgb):
    data = jpegai_fast.encode(rgb, quality=70)
    (tmp_path / "a.jai").write_bytes(data)
    full = Image.fromarray(jpegai_fast.decode(data))
    for factor, box in [(3, None), ((2, 4), None), (2, (10, 10, 50, 40))]:
        with Image.open(tmp_path / "a.jai") as im:
            assert np.array_equal(np.asarray(im.reduce(factor, box=box)), np.asarray(full.reduce(factor, box=box)))
    with Image.open(tmp_path / "a.jai") as im:
        im.load()                               # already decoded: reducing the pixels is cheaper than a decode
        assert np.array_equal(np.asarray(im.reduce(2)), np.asarray(full.reduce(2)))
