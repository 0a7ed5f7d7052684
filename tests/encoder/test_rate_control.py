import math

import numpy as np
import pytest

from jpegai_fast.encoder import rate_control
from jpegai_fast.runtime.ladder import log2_steps_q


def test_log2_steps_interpolate_between_ladder_points():
    ladder = np.array([[0, 512], [256, -256], [1024, 0]], dtype=np.int64)
    np.testing.assert_array_equal(log2_steps_q(ladder, 0), ladder[0])
    np.testing.assert_array_equal(log2_steps_q(ladder, 256), ladder[1])
    np.testing.assert_array_equal(log2_steps_q(ladder, 512), ladder[2])
    np.testing.assert_array_equal(log2_steps_q(ladder, 128), [128, 128])
    with pytest.raises(ValueError):
        log2_steps_q(ladder, 513)


def test_quality_mapping():
    assert rate_control.quality_to_rate_q(0, 6) == 0
    assert rate_control.quality_to_rate_q(100, 6) == 5 * 256
    for bad in (-1, 101, float("nan"), "high"):
        with pytest.raises(ValueError):
            rate_control.quality_to_rate_q(bad, 6)


def fake_codec(rq):
    # size grows exponentially with the rate parameter, like a real codec
    return b"x" * int(200 * math.exp(rq / 200))


@pytest.mark.parametrize("target", [300, 1000, 5000, 20000])
def test_search_lands_in_window(target):
    res = rate_control.search_rate(fake_codec, target, 1280)
    assert 0.9 * target <= len(res.data) <= target
    assert res.passes <= 8
    assert len(fake_codec(res.rate_q)) == len(res.data)


def test_search_unreachable_targets():
    with pytest.warns(RuntimeWarning):
        assert rate_control.search_rate(fake_codec, 10, 1280).rate_q == 0
    with pytest.warns(RuntimeWarning, match="highest rate"):
        assert rate_control.search_rate(fake_codec, 1e12, 1280).rate_q == 1280


def _curve(shift=0.0, pixels=100_000):
    # the shipped model's typical ln(size) curve, moved by `shift`: a picture far from the typical one
    from jpegai_fast.runtime.ladder import TYPICAL_LN_BPP, TypicalCurve
    return TypicalCurve(v + shift + math.log(pixels / 8) for v in TYPICAL_LN_BPP)


def _typical_codec(shift):
    # sizes on the typical curve of 100,000 pixels, ln(size) linear between the ladder points, moved by `shift`
    curve = _curve(shift)

    def codec(rq):
        k = min(rq >> 8, len(curve._v) - 2)
        return b"x" * int(math.exp(curve._v[k] + (rq - (k << 8)) * curve.slope(rq)))
    return codec


def _lands(codec, rates, most):
    # each target a size the picture reaches (its size at ladder position `rate`): found within `most` probes
    for rate in rates:
        target = len(codec(int(rate * 256)))
        res = rate_control.search_rate(codec, target, 11 * 256, curve=_curve())
        assert 0.9 * target <= len(res.data) <= target and len(codec(res.rate_q)) == len(res.data)
        assert res.passes <= most


@pytest.mark.parametrize("shift", [-0.5, 0.0, 0.5])
def test_a_curve_finds_the_window_in_few_probes(shift):
    # pictures half an e-fold off the curve (the training photos' spread is 0.16-0.51): at most 4 probes
    # (Kodak from the ends: 5-7)
    _lands(_typical_codec(shift), (0.3, 2.0, 5.5, 9.0), 4)


@pytest.mark.parametrize("shift", [-3.0, 3.0])
def test_a_wrong_curve_costs_probes_not_the_answer(shift):
    # a picture 20x off the curve: the walk's steps double, so it still brackets and lands in the window
    _lands(_typical_codec(shift), (1.0, 5.5, 10.0), 12)


def test_a_picture_flatter_than_the_curve_is_reached_by_doubling_steps():
    # size grows 1 % per ladder point (the curve: 20-70 %), so slope-sized steps would crawl: the walk's
    # least step doubles each time it stays on one side, so the search still ends within 10 probes
    _lands(lambda rq: b"x" * int(20000 * math.exp(0.01 * rq / 256)), (0.5, 1.0, 3.0), 10)


def test_unreachable_targets_with_a_curve_end_at_the_range():
    codec = _typical_codec(0.0)
    with pytest.warns(RuntimeWarning, match="lowest rate"):
        assert rate_control.search_rate(codec, 5, 11 * 256, curve=_curve()).rate_q == 0
    with pytest.warns(RuntimeWarning, match="highest rate"):
        assert rate_control.search_rate(codec, 1e9, 11 * 256, curve=_curve()).rate_q == 11 * 256


def test_the_typical_curves_invert_at_their_points_and_clamp_outside():
    from jpegai_fast.runtime.ladder import TYPICAL_LN_BPP, TYPICAL_PSNR, typical_psnr_curve, typical_size_curve
    size = typical_size_curve(len(TYPICAL_LN_BPP), 100_000)
    for k, ln_bpp in enumerate(TYPICAL_LN_BPP):
        assert size.rate_q(ln_bpp + math.log(100_000 / 8)) == k * 256
    assert size.rate_q(0.0) == 0 and size.rate_q(30.0) == (len(TYPICAL_LN_BPP) - 1) * 256
    assert size.slope(0) == pytest.approx((TYPICAL_LN_BPP[1] - TYPICAL_LN_BPP[0]) / 256)
    psnr = typical_psnr_curve(len(TYPICAL_PSNR))
    assert psnr.rate_q(TYPICAL_PSNR[3]) == 3 * 256
    assert psnr.mean_slope() == pytest.approx((TYPICAL_PSNR[-1] - TYPICAL_PSNR[0]) / (256 * (len(TYPICAL_PSNR) - 1)))
    assert typical_size_curve(len(TYPICAL_LN_BPP) + 1, 100_000) is None      # another model's ladder: no guess
    assert typical_psnr_curve(len(TYPICAL_PSNR) - 1) is None


def _concave_psnr(top):
    # PSNR that rises fast at low rates and flattens near `top` (as a real decoder's does): 20 dB at rate 0
    return lambda data: top - (top - 20.0) * math.exp(-int(data) / 700)


@pytest.mark.parametrize("top", [34.0, 39.0, 45.0])
@pytest.mark.parametrize("target", [24.0, 29.0, 33.0])
def test_a_psnr_target_is_found_in_few_probes_with_the_curve(top, target):
    from jpegai_fast.runtime.ladder import typical_psnr_curve
    psnr_of = _concave_psnr(top)
    found = rate_control.search_psnr(lambda rq: str(rq).encode(), psnr_of, target, 11 * 256,
                                     curve=typical_psnr_curve(12))
    got = psnr_of(found.data)
    below = psnr_of(str(found.rate_q - 1).encode())
    # in the window, or the lowest rate that reaches the target (the one below it does not)
    assert target <= got and (got <= target + rate_control.PSNR_TOLERANCE or below < target)
    assert found.passes <= 8         # bisection from the ends: 2 + ~9 for a 0.1 dB window this steep
