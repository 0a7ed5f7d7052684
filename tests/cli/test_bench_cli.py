"""`jpegai-fast bench`: codecs searched to one rate and timed side by side."""
import json

import pytest
from click.testing import CliRunner
from PIL import Image

from helpers import smooth_image
from jpegai_fast.cli import main
from jpegai_fast.eval.speed import format_table, time_codec


@pytest.fixture(scope="module")
def image_path(tmp_path_factory):
    path = tmp_path_factory.mktemp("bench") / "img.png"
    Image.fromarray(smooth_image(128, 160, seed=3)).save(path)
    return path


def test_bench_json_rows_hit_the_rate_and_have_times(image_path):
    res = CliRunner().invoke(main, ["bench", str(image_path), "--codecs", "jpegai_fast,jpeg", "--bpp", "0.8",
                                    "--repeats", "1", "--json"])
    assert res.exit_code == 0, res.output
    rows = json.loads(res.output)
    assert [r["codec"] for r in rows] == ["jpegai_fast", "jpeg"]
    for r in rows:
        assert r["bpp"] <= 0.8 * 1.1
        assert r["encode_s"] > 0 and r["decode_s"] > 0 and r["psnr_rgb"] > 15
    table = format_table(rows)
    assert "1.00" in table.splitlines()[2]          # the first codec is the reference of the ratios


def test_bench_rejects_unknown_codecs_and_bad_repeats(image_path):
    res = CliRunner().invoke(main, ["bench", str(image_path), "--codecs", "jpeg,nosuch"])
    assert res.exit_code != 0 and "nosuch" in res.output
    with pytest.raises(ValueError):
        time_codec("jpeg", smooth_image(32, 32, seed=1), 1.0, repeats=0)
