import math

import numpy as np
import pytest

from helpers import StubCodec
from jpegai_fast.eval.codecs import Knob
from jpegai_fast.eval.ratesearch import JPEG_AI_RATES, search_knob, search_knobs

IMG = np.zeros((64, 96, 3), np.uint8)
PIXELS = 64 * 96


def exp_size(q):
    # Bytes grow geometrically with an integer quality 0..100: 0.02 bpp at q=0, ~3.8 bpp at q=100.
    return round(PIXELS * 0.02 * 1.054**q / 8)


def best_by_rule(codec, target, tol=0.10):
    """Brute force over every integer knob: the reference answer of the search rule."""
    cands = []
    for q in range(int(codec.knob.low), int(codec.knob.high) + 1):
        bpp = len(codec.encode(IMG, q)) * 8 / PIXELS
        if bpp <= target * (1 + tol):
            cands.append((abs(bpp - target), bpp, q))
    return min(cands) if cands else None


@pytest.mark.parametrize("rate_increases", [True, False])
@pytest.mark.parametrize("target", JPEG_AI_RATES)
def test_integer_knob_matches_brute_force(target, rate_increases):
    size = exp_size if rate_increases else (lambda q: exp_size(100 - q))
    codec = StubCodec(Knob("q", 0, 100, integer=True, rate_increases=rate_increases), size)
    got = search_knob(codec, IMG, target)
    ref = best_by_rule(StubCodec(codec.knob, size), target)
    assert ref is not None
    assert got.knob == ref[2]
    assert got.bpp == pytest.approx(ref[1])
    assert got.bpp <= target * 1.10
    assert len(got.data) == size(got.knob)
    assert got.encodes <= 12  # bisection, not a sweep


def test_continuous_log_knob_hits_target_closely():
    # bpp equals the knob up to byte rounding: the search must land within 1% below or at most 10% above.
    codec = StubCodec(Knob("bpp", 0.001, 10.0, integer=False, log=True), lambda k: round(PIXELS * k / 8))
    for target in JPEG_AI_RATES:
        p = search_knob(codec, IMG, target)
        assert p.status == "ok"
        assert target * 0.99 <= p.bpp <= target * 1.10


def test_unreachable_low_rate_is_reported():
    codec = StubCodec(Knob("q", 0, 100, integer=True), exp_size)  # minimum 0.02 bpp
    p = search_knob(codec, IMG, 0.015)
    assert p.status == "unreachable" and p.data is None and p.knob is None
    assert search_knob(codec, IMG, 0.0185).status == "ok"  # 0.02 <= 1.1 * 0.0185


def test_saturating_codec_reports_below():
    codec = StubCodec(Knob("q", 0, 100, integer=True), lambda q: round(PIXELS * min(0.02 * 1.054**q, 1.0) / 8))
    p = search_knob(codec, IMG, 2.0)
    assert p.status == "below"
    assert p.bpp == pytest.approx(1.0, abs=0.01)


def test_prefers_below_target_on_equal_distance():
    # Only two sizes exist: 15/16 and 17/16 of the target (exact in binary); equally close, the lower must win.
    target = 1.0
    sizes = {0: PIXELS * 15 // 16 // 8, 1: PIXELS * 17 // 16 // 8}
    codec = StubCodec(Knob("q", 0, 1, integer=True), lambda q: sizes[q])
    p = search_knob(codec, IMG, target)
    assert p.knob == 0


def test_search_rates_shares_encodes_and_agrees_with_single_searches():
    codec = StubCodec(Knob("q", 0, 100, integer=True), exp_size)
    many = search_knobs(codec, IMG, JPEG_AI_RATES)
    shared_calls = codec.calls
    single = [search_knob(StubCodec(codec.knob, exp_size), IMG, t) for t in JPEG_AI_RATES]
    assert [p.knob for p in many] == [p.knob for p in single]
    assert shared_calls < sum(p.encodes for p in single)


@pytest.mark.parametrize("target, tol, exc", [
    (0, 0.1, ValueError), (-1, 0.1, ValueError), (math.nan, 0.1, ValueError), ("1", 0.1, ValueError),
    (0.5, 1.5, ValueError),
])
def test_bad_targets_raise(target, tol, exc):
    codec = StubCodec(Knob("q", 0, 100, integer=True), exp_size)
    with pytest.raises(exc):
        search_knob(codec, IMG, target, tol)


def test_bad_knob_definitions_raise():
    with pytest.raises(ValueError):
        Knob("q", 5, 5, integer=True)
    with pytest.raises(ValueError):
        Knob("d", 0, 1, integer=False, log=True)
