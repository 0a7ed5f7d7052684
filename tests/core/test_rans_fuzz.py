"""Runs the atheris harness (tests/fuzz/fuzz_decode.py) on every decode entry point with a short
budget. Skipped where atheris is not installed."""
import pytest

from helpers import run_fuzz_harness

pytest.importorskip("atheris")


def test_fuzz_decoders_short_budget(tmp_path):
    seeds, proc = run_fuzz_harness("fuzz_decode.py", tmp_path, "-runs=20000", "-max_total_time=15", "-seed=1")
    assert seeds >= 10
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert "Done" in proc.stderr or "DONE" in proc.stderr
