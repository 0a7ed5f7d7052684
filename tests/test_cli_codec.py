"""jpegai-fast encode / decode / info on real files (8- and 16-bit PNG, TIFF), errors as messages."""
import json

import numpy as np
from click.testing import CliRunner

from jpegai_fast.cli import main
from jpegai_fast.demo import synthetic_image
from jpegai_fast.image_files import read_image, write_image


def run(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


def test_encode_info_decode_png(tmp_path):
    img = synthetic_image(96, 160)
    write_image(tmp_path / "in.png", img)
    r = run("encode", tmp_path / "in.png", tmp_path / "s.jai", "--bpp", "1.0", "--layers", "2", "--tile-size", "4")
    assert r.exit_code == 0, r.output
    r = run("info", tmp_path / "s.jai", "--json")
    meta = json.loads(r.output)
    assert (meta["width"], meta["height"], meta["layers"]) == (160, 96, 2)
    assert meta["bpp"] <= 1.0
    assert run("decode", tmp_path / "s.jai", tmp_path / "out.png").exit_code == 0
    assert read_image(tmp_path / "out.png").shape == img.shape
    assert run("decode", tmp_path / "s.jai", tmp_path / "crop.png", "--region", 10, 20, 50, 30).exit_code == 0
    assert read_image(tmp_path / "crop.png").shape == (30, 50, 3)


def test_16_bit_tiff_keeps_depth(tmp_path):
    img = (synthetic_image(64, 64).astype(np.uint16) << 2)          # 10-bit values
    write_image(tmp_path / "in.tif", img)
    assert run("encode", tmp_path / "in.tif", tmp_path / "s.jai", "--bit-depth", 10).exit_code == 0
    assert run("decode", tmp_path / "s.jai", tmp_path / "out.tif").exit_code == 0
    out = read_image(tmp_path / "out.tif")
    assert out.dtype == np.uint16 and out.shape == img.shape and out.max() < 1024


def test_errors_are_messages_not_tracebacks(tmp_path):
    (tmp_path / "bad.jai").write_bytes(b"JAI\x01garbage")
    for args in (("decode", tmp_path / "bad.jai", tmp_path / "o.png"), ("info", tmp_path / "bad.jai")):
        r = run(*args)
        assert r.exit_code != 0 and "Error" in r.output
        assert r.exception is None or isinstance(r.exception, SystemExit)   # no traceback
    write_image(tmp_path / "in.png", synthetic_image(32, 32))
    r = run("encode", tmp_path / "in.png", tmp_path / "s.jai", "--bpp", "-1")
    assert r.exit_code != 0 and "bpp" in r.output


def test_effort_and_short_quality_options(tmp_path):
    write_image(tmp_path / "in.png", synthetic_image(48, 64))
    assert run("encode", tmp_path / "in.png", tmp_path / "a.jai", "-q", 60).exit_code == 0
    r = run("encode", tmp_path / "in.png", tmp_path / "b.jai", "-q", 60, "-e", 3)
    assert r.exit_code == 0, r.output
    assert (tmp_path / "a.jai").read_bytes() != (tmp_path / "b.jai").read_bytes()
    assert run("decode", tmp_path / "b.jai", tmp_path / "out.png").exit_code == 0
    r = run("encode", tmp_path / "in.png", tmp_path / "c.jai", "--effort", 10)
    assert r.exit_code == 2 and "effort" in r.output.lower()
