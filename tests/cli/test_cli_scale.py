"""--scale on ``decode`` and ``batch decode``: reduced-size images from the preview head."""
import json

import numpy as np
from click.testing import CliRunner

import jpegai_fast
from jpegai_fast.cli import main
from jpegai_fast.files.images import read_image, write_image

from helpers import natural_like


def run(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


def test_decode_scale_and_region(tmp_path):
    img = natural_like(90, 130, seed=1)
    data = jpegai_fast.encode(img, quality=60)
    (tmp_path / "s.jai").write_bytes(data)
    r = run("decode", tmp_path / "s.jai", tmp_path / "q.png", "--scale", 4)
    assert r.exit_code == 0, r.output
    assert np.array_equal(read_image(tmp_path / "q.png"), jpegai_fast.decode(data, scale=4))
    r = run("decode", tmp_path / "s.jai", tmp_path / "r.png", "--scale", 2, "--region", 10, 20, 50, 31)
    assert r.exit_code == 0, r.output
    assert read_image(tmp_path / "r.png").shape == (16, 25, 3)          # rows 10..26, columns 5..30
    r = run("decode", tmp_path / "s.jai", tmp_path / "bad.png", "--scale", 3)
    assert r.exit_code == 2 and "--scale" in r.output


def test_batch_decode_scale_makes_thumbnails_and_a_new_scale_redoes_them(tmp_path):
    src, jai = tmp_path / "src", tmp_path / "jai"
    src.mkdir()
    for i, (h, w) in enumerate([(64, 80), (33, 47)]):
        write_image(src / f"im{i}.png", natural_like(h, w, seed=i))
    assert run("batch", "encode", src, "-o", jai, "--workers", 0, "--quiet").exit_code == 0
    r = run("batch", "decode", jai, "-o", tmp_path / "thumbs", "--workers", 0, "--quiet", "--scale", 8)
    assert r.exit_code == 0, r.output
    assert read_image(tmp_path / "thumbs" / "im0.png").shape == (8, 10, 3)
    assert read_image(tmp_path / "thumbs" / "im1.png").shape == (5, 6, 3)
    rows = [json.loads(line) for line in (tmp_path / "thumbs" / "manifest.jsonl").read_text().splitlines()]
    assert {row.get("scale") for row in rows if row["status"] == "ok"} == {8}
    r = run("batch", "decode", jai, "-o", tmp_path / "thumbs", "--workers", 0, "--quiet", "--scale", 4)
    assert r.exit_code == 0, r.output                                   # not skipped: another scale
    assert read_image(tmp_path / "thumbs" / "im0.png").shape == (16, 20, 3)
    r = run("batch", "encode", src, "-o", tmp_path / "x", "--scale", 2)
    assert r.exit_code == 2 and "batch decode" in r.output
