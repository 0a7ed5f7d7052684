"""Runs the coder tests against an ASan/UBSan build (scripts/sanitize_tests.sh).

The sanitized build plus run takes ~1.5-2 minutes on 2 cores, too long for every CI run next to
the rest of the suite, so it is opt-in: JPEGAI_RUN_SANITIZER=1 (needs cmake, ninja, pybind11)."""
import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "scripts" / "sanitize_tests.sh"


@pytest.mark.slow
@pytest.mark.skipif(os.environ.get("JPEGAI_RUN_SANITIZER") != "1", reason="opt-in: JPEGAI_RUN_SANITIZER=1")
def test_coder_suite_under_asan_ubsan():
    if not SCRIPT.exists() or not (ROOT / "csrc").exists():
        pytest.skip("needs the source tree")
    for tool in ("cmake", "ninja"):
        if shutil.which(tool) is None:
            pytest.skip(f"{tool} not installed")
    proc = subprocess.run(["bash", str(SCRIPT)], cwd=ROOT, capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-4000:]
