"""Runs the atheris harness (tests/fuzz/fuzz_decode.py) on every decode entry point with a short
budget. Skipped where atheris is not installed."""
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("atheris")

HARNESS = Path(__file__).resolve().parents[1] / "fuzz" / "fuzz_decode.py"


def test_fuzz_decoders_short_budget(tmp_path):
    env = dict(os.environ)
    import jpegai_fast  # run the harness against the same package the tests import

    env["PYTHONPATH"] = str(Path(jpegai_fast.__file__).parent.parent) + os.pathsep + env.get("PYTHONPATH", "")
    corpus = tmp_path / "corpus"
    subprocess.run([sys.executable, str(HARNESS), "--make-seeds", str(corpus)], env=env, check=True,
                   timeout=120)
    proc = subprocess.run(
        [sys.executable, str(HARNESS), "-runs=20000", "-max_total_time=15", "-seed=1", str(corpus)],
        env=env, capture_output=True, text=True, timeout=180,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert "Done" in proc.stderr or "DONE" in proc.stderr
