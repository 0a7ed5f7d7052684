"""EXIF orientation as cjxl/djxl keep it: into every output type, kept by --strip, applied by --auto-orient."""
import io

import numpy as np
import pytest
from click.testing import CliRunner
from PIL import Image, ImageOps

import jpegai_fast
from jpegai_fast.cli import main
from jpegai_fast.files.exif import with_orientation
from jpegai_fast.files.images import encode_image, read_image_file, write_image
from jpegai_fast.pixels import apply_orientation

from helpers import natural_like


def _exif(orientation: int, make: str = "Canon") -> bytes:
    e = Image.Exif()
    e[0x0112], e[0x010F] = orientation, make
    e[0x8769] = {0x9003: "2020:01:02 03:04:05"}
    return e.tobytes()[6:]


@pytest.mark.parametrize("orientation", range(1, 9))
def test_apply_orientation_is_what_pillow_s_exif_transpose_does(orientation):
    a = natural_like(5, 7, seed=orientation)
    im = Image.fromarray(a)
    im.getexif()[0x0112] = orientation
    assert np.array_equal(apply_orientation(a, orientation), np.asarray(ImageOps.exif_transpose(im)))


@pytest.mark.parametrize("suffix", [".png", ".jpg", ".webp", ".tif"])
def test_decode_keeps_exif_and_orientation_in_every_output_type(tmp_path, suffix):
    write_image(tmp_path / "in.png", natural_like(32, 48), metadata={"exif": _exif(6)})
    r = CliRunner().invoke(main, ["encode", str(tmp_path / "in.png"), str(tmp_path / "a.jai"), "--quiet"])
    assert r.exit_code == 0, r.output
    out = tmp_path / f"back{suffix}"
    r = CliRunner().invoke(main, ["decode", str(tmp_path / "a.jai"), str(out), "--quiet"])
    assert r.exit_code == 0, r.output
    with Image.open(out) as im:                       # what a viewer sees
        exif = im.getexif()
        assert exif.get(0x0112) == 6 and exif.get(0x010F) == "Canon"


def test_strip_keeps_the_orientation_and_auto_orient_applies_it(tmp_path):
    img = natural_like(32, 48, seed=2)
    write_image(tmp_path / "in.png", img, metadata={"exif": _exif(6), "icc": b"\0" * 16 + b"profile"})
    r = CliRunner().invoke(main, ["encode", str(tmp_path / "in.png"), str(tmp_path / "s.jai"), "--strip", "--quiet"])
    assert r.exit_code == 0, r.output
    data = (tmp_path / "s.jai").read_bytes()
    pixels, meta = jpegai_fast.decode(data, with_metadata=True)
    assert meta["orientation"] == 6 and meta["icc"] is None and meta["exif"] is None
    r = CliRunner().invoke(main, ["decode", str(tmp_path / "s.jai"), str(tmp_path / "s.jpg"), "--quiet"])
    with Image.open(tmp_path / "s.jpg") as im:
        assert im.getexif().get(0x0112) == 6          # an orientation with no EXIF in the stream still travels
    r = CliRunner().invoke(main, ["decode", str(tmp_path / "s.jai"), str(tmp_path / "turned.png"), "--auto-orient",
                                  "--quiet"])
    assert r.exit_code == 0, r.output
    f = read_image_file((tmp_path / "turned.png").read_bytes())
    assert f.pixels.shape == (48, 32, 3) and np.array_equal(f.pixels, apply_orientation(pixels, 6))
    assert f.metadata.get("orientation", 1) == 1


def test_tiff_exif_is_read_and_kept(tmp_path):
    im = Image.fromarray(natural_like(24, 40, seed=3))
    buf = io.BytesIO()
    im.save(buf, format="TIFF", exif=b"Exif\x00\x00" + _exif(8, "Nikon"))
    f = read_image_file(buf.getvalue(), "in.tif")
    assert f.metadata["orientation"] == 8
    e = Image.Exif()
    e.load(b"Exif\x00\x00" + f.metadata["exif"])
    assert e.get(0x010F) == "Nikon" and e.get_ifd(0x8769).get(0x9003) == "2020:01:02 03:04:05"


def test_with_orientation_keeps_the_other_tags_and_survives_garbage():
    e = Image.Exif()
    e.load(b"Exif\x00\x00" + with_orientation(_exif(1, "Sony"), 3))
    assert e.get(0x0112) == 3 and e.get(0x010F) == "Sony"
    assert with_orientation(None, 1) is None
    e.load(b"Exif\x00\x00" + with_orientation(b"MM\x00*garbage", 5))
    assert e.get(0x0112) == 5
    assert encode_image(natural_like(8, 8), ".jpg", None, {"exif": b"MM\x00*\xff\xff", "orientation": 2})


def test_exif_pillow_cannot_write_again_keeps_the_orientation():
    # found by tests/fuzz/fuzz_metadata.py: a SHORT tag stored as ASCII loads, but Pillow's tobytes raises
    import struct
    tiff = (b"MM\x00*" + struct.pack(">IH", 8, 1) + struct.pack(">HHI4s", 0x0101, 2, 3, b"ab\x00\x00")
            + bytes(4))
    e = Image.Exif()
    e.load(b"Exif\x00\x00" + with_orientation(tiff, 3))
    assert e.get(0x0112) == 3
    assert encode_image(natural_like(8, 8), ".jpg", None, {"exif": tiff, "orientation": 3})

