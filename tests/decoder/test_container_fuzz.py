"""Runs the container / whole-stream atheris harness (tests/fuzz/fuzz_container.py) with a short budget,
seeded with the golden streams. Skipped where atheris is not installed. The long campaign is
scripts/fuzz_campaign.sh (docs/format.md, "Conformance and fuzzing")."""
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("atheris")

HARNESS = Path(__file__).resolve().parents[1] / "fuzz" / "fuzz_container.py"


def test_fuzz_container_short_budget(tmp_path):
    import jpegai_fast
    env = dict(os.environ)
    env["PYTHONPATH"] = str(Path(jpegai_fast.__file__).parent.parent) + os.pathsep + env.get("PYTHONPATH", "")
    corpus = tmp_path / "corpus"
    subprocess.run([sys.executable, str(HARNESS), "--make-seeds", str(corpus)], env=env, check=True,
                   timeout=120, capture_output=True)
    assert len(list(corpus.iterdir())) >= 40
    proc = subprocess.run(
        [sys.executable, str(HARNESS), "-runs=600", "-max_total_time=5", "-seed=1", "-timeout=5",
         "-max_len=65536", "-len_control=0", str(corpus)],
        env=env, capture_output=True, text=True, timeout=180, cwd=tmp_path)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert "Done" in proc.stderr
    assert "cov: " in proc.stderr          # the harness reached instrumented code (seeds parsed)
