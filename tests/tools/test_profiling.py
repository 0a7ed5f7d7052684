"""jpegai-fast profile: every pipeline stage it times exists and gets time (a moved function would
make the wrapper fail or its stage read 0)."""
from helpers import natural_like
from jpegai_fast.tools.profiling import STAGES, _TIMED, profile


def test_every_timed_function_exists():
    for owner, attr, _ in _TIMED:
        assert callable(getattr(owner, attr)), attr


def test_profile_times_every_stage():
    report = profile(natural_like(96, 128), repeats=1, threads=1)
    timed = {**report["encode_stages_s"], **report["decode_stages_s"]}
    assert set(timed) == set(STAGES)
    assert all(v > 0 for v in timed.values())
    assert {"g_a", "h_a"} <= set(report["encode_stages_s"]) and "g_s" in report["decode_stages_s"]
    assert report["kmac_per_px"]["decoder"] > 0
