"""scripts/campaign_projection.py: the log-linear fit of the campaign's trend and the steps it projects."""
import importlib.util
import math
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
spec = importlib.util.spec_from_file_location("campaign_projection", ROOT / "scripts" / "campaign_projection.py")
proj = importlib.util.module_from_spec(spec)
spec.loader.exec_module(proj)


def _row(session, steps, bd, crop=256):
    return {"session": session, "total_steps": str(steps), "crop": str(crop), "real_bd_vs_jpeg2000_kodak24": str(bd)}


def test_the_fit_recovers_a_log_linear_trend_and_skips_other_crops():
    rows = [_row("a", 1000, 99.0, crop=128)]            # another recipe: not fitted
    rows += [_row(str(i), s, -8.0 * math.log(s) + 100.0) for i, s in enumerate((2e4, 5e4, 1e5))]
    a, b, used = proj.fit(rows, 256)
    assert [r["session"] for r in used] == ["0", "1", "2"]
    assert a == pytest.approx(-8.0) and b == pytest.approx(100.0)
    assert proj.steps_for(-10.0, a, b) == pytest.approx(math.exp(110 / 8))
    assert proj.steps_for(0.0, 1.0, 0.0) == math.inf                  # a worsening trend reaches nothing


def test_too_few_sessions_are_refused():
    with pytest.raises(SystemExit):
        proj.fit([_row("1", 1000, 20.0)], 256)


def test_the_committed_trend_parses_and_only_grows():
    rows = proj.load(ROOT / "docs" / "training_logs" / "campaign_trend.csv")
    steps = [int(r["total_steps"]) for r in rows]
    assert steps == sorted(steps) and len(set(steps)) == len(steps)
    a, _, used = proj.fit(rows, 256)
    assert len(used) >= 4 and a < 0
