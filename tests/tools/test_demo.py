"""The README's main job (jpegai-fast demo) runs, and the coder round-trip script works."""
import runpy
from pathlib import Path

import numpy as np
from click.testing import CliRunner

from jpegai_fast.tools import demo
from jpegai_fast.cli import main
from jpegai_fast.files.images import read_image

ROOT = Path(__file__).resolve().parents[2]


def test_demo_codes_the_shipped_photo_and_writes_comparisons(tmp_path):
    r = CliRunner().invoke(main, ["demo", "--out", str(tmp_path / "out"), "--bpp", "0.5", "--bpp", "3.0"])
    assert r.exit_code == 0, r.output
    assert "chelsea.png: 451x300" in r.output and "JPEG" in r.output
    assert "outside the model's rate range" in r.output           # 3 bpp is above the model's top rate
    assert "ahead of" in r.output or "behind" in r.output         # who leads at each size, in words
    assert "docs/evaluation.md" in r.output                       # and where the whole picture is
    for target in ("0.500", "3.000"):
        cmp = read_image(tmp_path / "out" / f"compare_{target}bpp.png")
        assert cmp.shape[0] > 300 and cmp.shape[1] >= 4 * 451     # original | ours | JPEG | WebP (| AVIF | JXL)
        assert read_image(tmp_path / "out" / f"decoded_{target}bpp.png").shape == (300, 451, 3)


def test_demo_rows_compare_at_equal_or_smaller_size(tmp_path):
    rows = demo.run(None, tmp_path, [0.25])
    row = rows[0]
    assert row["bpp"] <= 0.25 and row["psnr"] > 25
    for peer in ("jpeg", "webp"):
        assert row[peer]["bpp"] <= row["bpp"] + 1e-9
    side = read_image(tmp_path / "compare_0.250bpp.png")
    original = read_image(demo.SHIPPED_PHOTO)
    assert np.array_equal(side[-300:, :451], original)              # the first panel is the original


def test_coder_roundtrip_script(capsys):
    runpy.run_path(str(ROOT / "scripts" / "coder_roundtrip.py"), run_name="__main__")
    assert "round trip OK" in capsys.readouterr().out


def test_the_verdict_names_every_peer_ahead_and_behind():
    row = {"psnr": 30.0, "jpeg": {"psnr": 28.0}, "webp": {"psnr": 31.5}, "avif": {"psnr": 30.0}}
    assert demo.verdict(row) == "ahead of JPEG by 2.00 dB, AVIF by 0.00 dB; behind WEBP by 1.50 dB"
