import json

import pytest
from click.testing import CliRunner
from PIL import Image

from helpers import StubCodec, smooth_image
from jpegai_fast.cli import main
from jpegai_fast.eval import codecs, runner
from jpegai_fast.eval.codecs import Knob


@pytest.fixture(scope="module")
def image_dir(tmp_path_factory):
    d = tmp_path_factory.mktemp("imgs")
    for i in range(2):
        Image.fromarray(smooth_image(176, 192, seed=i)).save(d / f"img{i}.png")
    (d / "notes.txt").write_text("not an image")
    return d


def test_eval_command_smoke(image_dir, tmp_path):
    out = tmp_path / "res"
    args = ["eval", str(image_dir), "--codecs", "jpeg,jpeg2000", "--rates", "0.5,1,2", "--anchor", "jpeg2000",
            "--metrics", "psnr_rgb,psnr_y", "--published", "vtm", "--out", str(out), "-j", "1", "--quiet"]
    res = CliRunner().invoke(main, args)
    assert res.exit_code == 0, res.output
    assert "BD-rate" in res.output and "jpeg2000" in res.output
    doc = json.loads((out / "results.json").read_text())
    assert doc["config"]["images"] == ["img0.png", "img1.png"]
    assert doc["bd_rate_vs_anchor"]["jpeg2000"]["psnr_rgb"] == pytest.approx(0, abs=1e-9)
    assert doc["bd_rate_vs_anchor_per_image_mean"]["jpeg2000"]["psnr_rgb"] == {"mean": 0.0, "images": 2}
    assert doc["bd_rate_vs_anchor_per_image_mean"]["jpeg"]["psnr_rgb"]["images"] in (0, 1, 2)
    assert len(doc["rows"]) == 2 * 2 * 3
    for row in doc["rows"]:
        assert row["status"] != "unreachable" and row["bpp"] <= row["target_bpp"] * 1.10
    assert (out / "results.csv").read_text().count("\n") == 1 + 12
    assert (out / "rd.png").stat().st_size > 1000

    # A second run reusing the first recomputes nothing and gives the same rows.
    res2 = CliRunner().invoke(main, args[:-5] + ["--out", str(tmp_path / "res2"), "--reuse",
                                                 str(out / "results.json"), "--quiet"])
    assert res2.exit_code == 0, res2.output
    doc2 = json.loads((tmp_path / "res2" / "results.json").read_text())
    assert doc2["rows"] == doc["rows"]


def test_eval_command_list_and_errors(image_dir, tmp_path):
    r = CliRunner().invoke(main, ["eval", "--list"])
    assert r.exit_code == 0 and "jpeg2000" in r.output and "vmaf" in r.output
    bad = [
        ["eval", str(image_dir), "--codecs", "nope"],
        ["eval", str(image_dir), "--codecs", "jpeg", "--anchor", "webp"],
        ["eval", str(image_dir), "--rates", "0.5,-1"],
        ["eval", str(image_dir), "--metrics", "bogus"],
        ["eval", str(image_dir), "--published", "nope", "--codecs", "jpeg", "--anchor", "jpeg"],
        ["eval", str(tmp_path)],  # no images
        ["eval"],
    ]
    for args in bad:
        r = CliRunner().invoke(main, args + ["--out", str(tmp_path / "x"), "--quiet"])
        assert r.exit_code != 0, args
        assert r.exception is None or isinstance(r.exception, SystemExit), (args, r.exception)


def test_registered_codec_runs_through_runner(image_dir):
    # The way jpegai_fast plugs in: register a CodecAdapter factory, then evaluate it by name.
    size = lambda q: round(176 * 192 * 0.02 * 1.054**q / 8)  # noqa: E731
    codecs.register("stub-test", lambda: StubCodec(Knob("q", 0, 100, integer=True), size, name="stub-test"),
                    replace=True)
    rep = runner.evaluate(image_dir, ["stub-test", "jpeg"], rates=(0.25, 0.5, 1.0), metric_names=("psnr_rgb",),
                          anchor="jpeg", jobs=1, progress=False)
    assert rep.curves["stub-test"]["bpp"] and len(rep.curves["stub-test"]["bpp"]) == 3
    # The stub decodes to flat grey, far worse than JPEG: a large positive BD-rate or none (no overlap).
    bd = rep.bd["stub-test"]["psnr_rgb"]
    assert bd is None or bd > 100


def test_worker_processes_give_the_inline_rows(image_dir):
    """jobs=2 (a process pool whose workers end with the driver) computes what jobs=1 does inline."""
    imgs = sorted(image_dir.glob("*.png"))
    jpeg = [codecs.get_codec("jpeg")]
    inline = runner.run(imgs, jpeg, rates=(0.5, 1.0), metric_names=("psnr_rgb",), jobs=1, progress=False)
    pooled = runner.run(imgs, jpeg, rates=(0.5, 1.0), metric_names=("psnr_rgb",), jobs=2, progress=False)
    drop = ("enc_s", "dec_s")
    assert [{k: v for k, v in r.items() if k not in drop} for r in pooled] == \
           [{k: v for k, v in r.items() if k not in drop} for r in inline]
    assert len(inline) == 4 and all(r["status"] == "ok" for r in inline)
