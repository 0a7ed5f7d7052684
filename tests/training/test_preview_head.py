"""The preview head's distillation runs end to end and writes a head the decoder takes for its model."""
import numpy as np

from jpegai_fast.runtime import preview, preview_file
from jpegai_fast.runtime.engine import get_engine
from jpegai_fast.training.preview_head import main

from helpers import training_images


def test_a_tiny_distillation_writes_a_usable_head(tmp_path, capsys):
    training_images(tmp_path / "data")
    out = tmp_path / "head.npz"
    main(["--data", str(tmp_path / "data"), "--out", str(out), "--time-budget-s", "3", "--crop", "64",
          "--width", "8", "--batch", "2"])
    head = preview_file.read(out)
    eng = get_engine()
    assert head.model_id == eng.model_id.hex() and head.config == {"M": eng.M, "width": 8, "depth": 2}
    assert head.record["crops"] >= 2 and head.record["steps"] >= 1
    assert set(head.record["held_out_psnr_db"]) == {str(s) for s in preview.SCALES}
    y = np.zeros((eng.M, 3, 5), np.float32)
    assert preview.PreviewHead(head).run(y, 4, threads=1).shape == (3, 12, 20)
    assert "wrote" in capsys.readouterr().out


def test_a_distillation_can_start_from_a_head_file(tmp_path):
    """--init: the head of the previous main weights is the start (its config kept), so a re-distillation
    after a campaign session's new weights needs minutes, not the full recipe."""
    training_images(tmp_path / "data")
    first, second = tmp_path / "first.npz", tmp_path / "second.npz"
    common = ["--data", str(tmp_path / "data"), "--time-budget-s", "2", "--crop", "64", "--batch", "2"]
    main(common + ["--out", str(first), "--width", "8"])
    main(common + ["--out", str(second), "--init", str(first), "--lr", "0"])   # lr 0: the start, unchanged
    a, b = preview_file.read(first), preview_file.read(second)
    assert b.config == a.config and b.record["init"] == str(first)
    for name in a.state:
        np.testing.assert_array_equal(a.state[name], b.state[name])
