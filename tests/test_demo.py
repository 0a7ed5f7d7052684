"""The README's main job runs, and the coder round-trip script works."""
import runpy
from pathlib import Path

from jpegai_fast import demo

ROOT = Path(__file__).resolve().parents[1]


def test_demo_runs_on_builtin_image(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(demo, "KODAK_DEFAULT", tmp_path / "absent.png")
    demo.main(["--out", str(tmp_path / "out"), "--bpp", "0.5", "2.0"])
    text = capsys.readouterr().out
    assert "built-in synthetic image" in text
    assert len(list((tmp_path / "out").glob("decoded_*.png"))) == 2


def test_coder_roundtrip_script(capsys):
    runpy.run_path(str(ROOT / "scripts" / "coder_roundtrip.py"), run_name="__main__")
    assert "round trip OK" in capsys.readouterr().out
