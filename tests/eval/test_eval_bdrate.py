import math

import numpy as np
import pytest

from jpegai_fast.eval.bdrate import bd_psnr, bd_rate

RATES = np.array([0.12, 0.25, 0.5, 0.75, 1.0, 1.5])


def psnr_of(rate):
    # A realistic concave RD curve (PSNR rising ~ log-rate, flattening); any monotone curve works.
    return 24 + 5 * np.log2(rate * 10) - 0.15 * np.log2(rate * 10) ** 2


def test_identical_curves_give_zero():
    assert bd_rate(RATES, psnr_of(RATES), RATES, psnr_of(RATES)) == pytest.approx(0, abs=1e-12)
    assert bd_psnr(RATES, psnr_of(RATES), RATES, psnr_of(RATES)) == pytest.approx(0, abs=1e-12)


@pytest.mark.parametrize("factor", [0.8, 0.9, 1.07, 1.25, 2.0])
def test_rate_scaled_curve_gives_exactly_that_bd_rate(factor):
    # Same qualities reached with factor x the bits: a constant log-rate shift, so BD-rate = factor - 1 exactly
    # (pchip through the shifted points is the shifted pchip, whatever the curve's shape).
    got = bd_rate(RATES, psnr_of(RATES), RATES * factor, psnr_of(RATES))
    assert got == pytest.approx((factor - 1) * 100, abs=1e-9)


def test_bd_rate_is_order_independent_and_antisymmetric():
    a = bd_rate(RATES, psnr_of(RATES), RATES * 1.3, psnr_of(RATES))
    b = bd_rate(RATES[::-1] * 1.3, psnr_of(RATES)[::-1], RATES[::-1], psnr_of(RATES)[::-1])
    assert (1 + a / 100) * (1 + b / 100) == pytest.approx(1, abs=1e-12)


def test_bd_psnr_of_linear_log_curve_shift():
    # PSNR = a + b ln(R); the test codec needs k x the rate: PSNR_t(R) = a + b ln(R / k); BD-PSNR = -b ln k.
    a, b, k = 20.0, 4.0, 1.5
    rates = np.array([0.1, 0.2, 0.4, 0.8, 1.6])
    got = bd_psnr(rates, a + b * np.log(rates), rates, a + b * np.log(rates / k))
    assert got == pytest.approx(-b * math.log(k), abs=1e-9)


def test_better_codec_has_negative_bd_rate_and_positive_bd_psnr():
    q = psnr_of(RATES)
    assert bd_rate(RATES, q, RATES, q + 1.0) < 0
    assert bd_psnr(RATES, q, RATES, q + 1.0) == pytest.approx(1.0, abs=1e-9)


@pytest.mark.parametrize("args, msg", [
    (([0.1], [30], [0.1, 0.2], [30, 31]), "at least 2"),
    (([0.1, 0.2], [30, 31], [0.1, 0.2], [40, 41]), "overlap"),
    (([0.1, -0.2], [30, 31], [0.1, 0.2], [30, 31]), "positive"),
    (([0.1, 0.2], [30, float("nan")], [0.1, 0.2], [30, 31]), "finite"),
    (([0.1, 0.2, 0.3], [30, 31], [0.1, 0.2], [30, 31]), "rates but"),
])
def test_bad_curves_raise_value_error(args, msg):
    with pytest.raises(ValueError, match=msg):
        bd_rate(*args)


def test_an_exact_decode_counts_as_exact_db_in_curves_and_bd_rates():
    from jpegai_fast.eval import metrics, runner
    rows = []
    for image in ("a", "b"):
        for t, (ra, qa), (rt, qt) in zip((0.25, 0.5, 1.0), ((0.3, 30.0), (0.55, 33.0), (1.1, 36.0)),
                                         ((0.2, 30.0), (0.4, 34.0), (0.8, math.inf))):
            rows.append({"codec": "anchor", "image": image, "target_bpp": t, "status": "ok", "bpp": ra,
                         "psnr_rgb": qa})
            rows.append({"codec": "test", "image": image, "target_bpp": t, "status": "ok", "bpp": rt,
                         "psnr_rgb": qt})
    curves = runner.average_curves(rows, ["psnr_rgb"])
    assert curves["test"]["psnr_rgb"] == [30.0, 34.0, metrics.EXACT_DB]
    mean_bd = runner.bd_table(curves, "anchor", ["psnr_rgb"])["test"]["psnr_rgb"]
    per_image = runner.bd_table_per_image(rows, "anchor", ["psnr_rgb"])["test"]["psnr_rgb"]
    assert mean_bd is not None and mean_bd < 0           # lossless at fewer bits than the anchor's best
    assert per_image["images"] == 2 and per_image["mean"] == pytest.approx(mean_bd)
    assert metrics.for_curves(31.5) == 31.5
