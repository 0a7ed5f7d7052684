"""jpegai-fast encode --lossless: an exact copy of 8- and 16-bit files, and the options it refuses;
--max-error N (near-lossless) in encode, info and batch."""
import json

import numpy as np
from click.testing import CliRunner

from jpegai_fast.cli import main
from jpegai_fast.files.images import read_image, write_image
from jpegai_fast.tools.demo import synthetic_image


def run(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


def test_lossless_png_round_trip_and_info(tmp_path):
    img = synthetic_image(37, 53)
    write_image(tmp_path / "in.png", img)
    r = run("encode", tmp_path / "in.png", tmp_path / "s.jai", "--lossless", "-v")
    assert r.exit_code == 0, r.output
    assert "exact" in r.output
    meta = json.loads(run("info", tmp_path / "s.jai", "--json").output)
    assert meta["lossless"] is True and (meta["width"], meta["height"]) == (53, 37)
    assert run("decode", tmp_path / "s.jai", tmp_path / "out.png").exit_code == 0
    np.testing.assert_array_equal(read_image(tmp_path / "out.png"), img)


def test_lossless_16_bit_tiff_keeps_every_bit(tmp_path):
    img = np.random.default_rng(1).integers(0, 1 << 16, (9, 14, 3)).astype(np.uint16)
    write_image(tmp_path / "in.tif", img)
    assert run("encode", tmp_path / "in.tif", tmp_path / "s.jai", "--lossless").exit_code == 0
    assert run("decode", tmp_path / "s.jai", tmp_path / "out.tif").exit_code == 0
    out = read_image(tmp_path / "out.tif")
    assert out.dtype == np.uint16
    np.testing.assert_array_equal(out, img)


def test_lossless_with_a_rate_option_is_a_message_naming_it(tmp_path):
    write_image(tmp_path / "in.png", synthetic_image(16, 16))
    for extra in (("--bpp", "1"), ("-q", "80"), ("-e", "2")):     # (--layers 2: progressive to lossless)
        r = run("encode", tmp_path / "in.png", tmp_path / "s.jai", "--lossless", *extra)
        assert r.exit_code != 0 and "lossless" in r.output, (extra, r.output)
        assert r.exception is None or isinstance(r.exception, SystemExit)
    assert not (tmp_path / "s.jai").exists()


def test_batch_encode_lossless_makes_exact_copies(tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    imgs = {"a": synthetic_image(20, 24), "b": synthetic_image(17, 9)}
    for name, img in imgs.items():
        write_image(src / f"{name}.png", img)
    r = run("batch", "encode", src, "-o", tmp_path / "out", "--lossless", "--workers", 0, "--quiet")
    assert r.exit_code == 0, r.output
    for name, img in imgs.items():
        data = (tmp_path / "out" / f"{name}.jai").read_bytes()
        assert json.loads(run("info", tmp_path / "out" / f"{name}.jai", "--json").output)["lossless"] is True
        from jpegai_fast import decode
        np.testing.assert_array_equal(decode(data), img)
    r = run("batch", "decode", src, "-o", tmp_path / "o2", "--lossless")
    assert r.exit_code != 0 and "--lossless" in r.output


def test_max_error_bounds_every_sample_in_encode_info_and_batch(tmp_path):
    img = synthetic_image(29, 31)
    write_image(tmp_path / "in.png", img)
    r = run("encode", tmp_path / "in.png", tmp_path / "s.jai", "--max-error", 3, "-v")
    assert r.exit_code == 0, r.output
    assert "near-lossless, max error 3" in r.output
    meta = json.loads(run("info", tmp_path / "s.jai", "--json").output)
    assert meta["max_error"] == 3 and meta["lossless"] is False
    assert run("decode", tmp_path / "s.jai", tmp_path / "out.png").exit_code == 0
    assert np.abs(read_image(tmp_path / "out.png").astype(int) - img).max() <= 3
    for extra in (("-q", "80"), ("--lossless",)):
        r = run("encode", tmp_path / "in.png", tmp_path / "t.jai", "--max-error", 3, *extra)
        assert r.exit_code != 0 and "max_error" in r.output, (extra, r.output)
    assert run("encode", tmp_path / "in.png", tmp_path / "t.jai", "--max-error", 128).exit_code != 0
    src = tmp_path / "src"
    src.mkdir()
    write_image(src / "a.png", img)
    r = run("batch", "encode", src, "-o", tmp_path / "out", "--max-error", 2, "--workers", 0, "--quiet")
    assert r.exit_code == 0, r.output
    from jpegai_fast import decode
    assert np.abs(decode((tmp_path / "out" / "a.jai").read_bytes()).astype(int) - img).max() <= 2
