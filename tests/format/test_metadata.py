"""ICC / EXIF / XMP and orientation through the container, the API and the CLI; true bit depth."""
import io
import zlib

import numpy as np
import pytest
from click.testing import CliRunner
from PIL import Image

import jpegai_fast
from jpegai_fast import DecodeError
from jpegai_fast.format import container
from jpegai_fast.cli import main
from jpegai_fast.files.images import encode_image, read_image_file
from jpegai_fast.format.metadata import exif_orientation

from helpers import natural_like, psnr


def _icc():
    try:
        from PIL import ImageCms
        return ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    except Exception:
        return b"\0\0\2\0fake icc profile bytes" * 20


def _exif(orientation):
    e = Image.Exif()
    e[0x0112] = orientation
    e[0x010F] = "jpegai_fast test camera"
    return e.tobytes()            # b"Exif\0\0" + TIFF


XMP = b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF/></x:xmpmeta>'


@pytest.fixture(scope="module")
def img():
    return natural_like(48, 80, seed=8)


def test_api_round_trip_of_every_field(img):
    icc, exif = _icc(), _exif(6)
    data = jpegai_fast.encode(img, quality=50, metadata={"icc": icc, "exif": exif, "xmp": XMP})
    out, meta = jpegai_fast.decode(data, with_metadata=True)
    assert np.array_equal(out, jpegai_fast.decode(data))
    assert meta["icc"] == icc and meta["xmp"] == XMP and meta["exif"] == exif[6:]   # stored as bare TIFF
    assert meta["orientation"] == 6 and exif_orientation(meta["exif"]) == 6
    info = jpegai_fast.info(data)
    assert info["orientation"] == 6 and info["metadata"] == {"icc": len(icc), "exif": len(exif) - 6, "xmp": len(XMP)}
    plain = jpegai_fast.encode(img, quality=50)
    assert jpegai_fast.decode(plain, with_metadata=True)[1] == {"icc": None, "exif": None, "xmp": None, "orientation": 1}
    assert jpegai_fast.encode(img, quality=50, metadata={"orientation": 3}) != plain
    assert jpegai_fast.info(jpegai_fast.encode(img, quality=50, metadata={"orientation": 3}))["orientation"] == 3


@pytest.mark.parametrize("bad, err", [({"icc": "text"}, TypeError), ({"colour": b"x"}, ValueError),
                                      ({"exif": b"not tiff"}, ValueError), ({"orientation": 9}, ValueError),
                                      ({"exif": b"II*\0" + bytes(5 << 20)}, ValueError), ("icc", TypeError)])
def test_bad_metadata_raises(img, bad, err):
    with pytest.raises(err):
        jpegai_fast.encode(img, quality=50, metadata=bad)


def test_damaged_or_oversized_metadata_is_a_decode_error(img):
    data = bytearray(jpegai_fast.encode(img, quality=50, metadata={"xmp": XMP}))
    h = container.read(bytes(data))
    xmp = next(s for s in h.substreams if s.kind == container.Kind.XMP)
    data[xmp.offset + 3] ^= 0x20                                          # CRC of the XMP substream now fails
    with pytest.raises(DecodeError):
        jpegai_fast.decode(bytes(data))
    # a table entry declaring an XMP longer than the limit is refused while the table is read
    body = bytearray(container.MAGIC) + bytes([container.VERSION])
    body += container._varint(8) + container._varint(8) + bytes([3, 8, 0, 1]) + b"\0" * 8
    body += container._varint(0) + container._varint(0) + bytes([1]) + container._varint(1)
    body += bytes([container.Kind.XMP]) + container._varint(0) + bytes([0])
    body += container._varint(container.METADATA_LIMITS[container.Kind.XMP] + 1) + b"\0\0\0\0"
    body += zlib.crc32(body).to_bytes(4, "little")
    with pytest.raises(DecodeError, match="exceeds"):
        container.read(bytes(body))


def _run(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


def test_cli_keeps_icc_exif_xmp_from_jpeg_and_png_into_png_and_tiff(tmp_path, img):
    icc = _icc()
    buf = io.BytesIO()
    Image.fromarray(img).save(buf, format="JPEG", quality=95, icc_profile=icc, exif=_exif(6))
    (tmp_path / "in.jpg").write_bytes(buf.getvalue())
    assert _run("encode", tmp_path / "in.jpg", tmp_path / "a.jai", "-q", 60).exit_code == 0
    assert jpegai_fast.info((tmp_path / "a.jai").read_bytes())["orientation"] == 6
    for out in ("a.png", "a.tif"):
        r = _run("decode", tmp_path / "a.jai", tmp_path / out)
        assert r.exit_code == 0, r.output
        f = read_image_file((tmp_path / out).read_bytes(), out)
        assert f.metadata.get("icc") == icc and f.metadata.get("orientation") == 6, out
    png = read_image_file((tmp_path / "a.png").read_bytes())
    assert exif_orientation(png.metadata["exif"]) == 6
    # PNG in (iCCP, eXIf, iTXt XMP) -> PNG out, all three kept; --strip drops them
    (tmp_path / "m.png").write_bytes(encode_image(img, ".png", metadata={"icc": icc, "exif": _exif(3)[6:], "xmp": XMP}))
    assert _run("encode", tmp_path / "m.png", tmp_path / "m.jai").exit_code == 0
    assert _run("decode", tmp_path / "m.jai", tmp_path / "m_out.png").exit_code == 0
    back = read_image_file((tmp_path / "m_out.png").read_bytes()).metadata
    assert back["icc"] == icc and back["xmp"] == XMP and back["orientation"] == 3
    assert _run("encode", tmp_path / "m.png", tmp_path / "s.jai", "--strip").exit_code == 0
    assert jpegai_fast.info((tmp_path / "s.jai").read_bytes())["metadata"] == {"icc": None, "exif": None, "xmp": None}


def test_true_bit_depth_from_png_sbit_and_tiff_max_sample_value(tmp_path):
    ten = (natural_like(64, 64, seed=2).astype(np.uint16) * 4)            # 10-bit samples, 0..1020
    (tmp_path / "s.png").write_bytes(encode_image(ten, ".png", bit_depth=10))  # scaled to 16 bits + sBIT 10
    f = read_image_file((tmp_path / "s.png").read_bytes())
    assert f.bit_depth == 10 and f.bit_depth_source == "PNG sBIT" and np.array_equal(f.pixels, ten)
    r = _run("encode", tmp_path / "s.png", tmp_path / "s.jai", "-q", 80)
    assert r.exit_code == 0 and "10-bit samples (PNG sBIT)" in r.output
    assert jpegai_fast.info((tmp_path / "s.jai").read_bytes())["bit_depth"] == 10
    assert _run("decode", tmp_path / "s.jai", tmp_path / "back.png").exit_code == 0
    back = read_image_file((tmp_path / "back.png").read_bytes())
    assert back.bit_depth == 10 and psnr(back.pixels, ten, peak=1023) > 28
    (tmp_path / "t.tif").write_bytes(encode_image(ten, ".tif", bit_depth=10))   # raw samples + MaxSampleValue
    t = read_image_file((tmp_path / "t.tif").read_bytes())
    assert t.bit_depth == 10 and t.bit_depth_source == "TIFF MaxSampleValue" and np.array_equal(t.pixels, ten)
    assert _run("encode", tmp_path / "t.tif", tmp_path / "t.jai").exit_code == 0
    assert jpegai_fast.info((tmp_path / "t.jai").read_bytes())["bit_depth"] == 10
    (tmp_path / "full.png").write_bytes(encode_image(ten * 64, ".png"))      # 16-bit, no hint
    r = _run("encode", tmp_path / "full.png", tmp_path / "f.jai")
    assert r.exit_code == 0 and "coded as 16-bit" in r.output
    assert _run("encode", tmp_path / "full.png", tmp_path / "g.jai", "--bit-depth", 16).exit_code == 0
