"""Short budgets of the alpha, metadata and image-file atheris harnesses (tests/fuzz/), seeded: each
must parse its seeds and run clean. The long campaign is scripts/fuzz_campaign.sh (docs/format.md,
"Conformance and fuzzing"); the container harness has its own test (tests/decoder/)."""
import pytest

from helpers import run_fuzz_harness

pytest.importorskip("atheris")


@pytest.mark.parametrize("harness, min_seeds, flags", [
    ("fuzz_alpha.py", 30, ["-timeout=5", "-max_len=65536"]),
    ("fuzz_metadata.py", 10, ["-timeout=5", "-max_len=1048576"]),
    ("fuzz_image_files.py", 12, ["-timeout=5", "-max_len=1048576"]),
])
def test_fuzz_harness_short_budget(tmp_path, harness, min_seeds, flags):
    seeds, proc = run_fuzz_harness(harness, tmp_path, "-runs=400", "-max_total_time=5", "-seed=1", *flags)
    assert seeds >= min_seeds
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert "Done" in proc.stderr and "cov: " in proc.stderr
