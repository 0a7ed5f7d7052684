"""The README's main job (for now the coder demo) runs and round-trips."""
from jpegai_fast import demo


def test_demo_round_trip(capsys):
    demo.main(seed=3)
    out = capsys.readouterr().out
    assert "round trip OK" in out and "bit/symbol" in out
