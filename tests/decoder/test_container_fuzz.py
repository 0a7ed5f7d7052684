"""Runs the container / whole-stream atheris harness (tests/fuzz/fuzz_container.py) with a short budget,
seeded with the golden streams. Skipped where atheris is not installed. The long campaign is
scripts/fuzz_campaign.sh (docs/format.md, "Conformance and fuzzing")."""
import pytest

from helpers import run_fuzz_harness

pytest.importorskip("atheris")


def test_fuzz_container_short_budget(tmp_path):
    seeds, proc = run_fuzz_harness("fuzz_container.py", tmp_path, "-runs=600", "-max_total_time=5", "-seed=1",
                                   "-timeout=5", "-max_len=65536", "-len_control=0")
    assert seeds >= 40
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert "Done" in proc.stderr
    assert "cov: " in proc.stderr          # the harness reached instrumented code (seeds parsed)
