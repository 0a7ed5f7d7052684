import hashlib
import math

import numpy as np
import pytest

from jpegai_fast import rate


def test_pow2_table_pinned():
    # the table decides every quantisation step: it must be identical on every platform
    digest = hashlib.sha256(rate._POW2_Q16.astype("<i8").tobytes()).hexdigest()
    assert rate._POW2_Q16[0] == 65536 and rate._POW2_Q16[128] == round(math.sqrt(2) * 65536)
    assert digest == "cb52bf588efc64b0c3701c7d20c3afa597e1ccec7cf0738de724583cd778d021"


@pytest.mark.parametrize("log2", [-8.0, -3.3, -1.0, 0.0, 0.5, 1.0, 3.75, 7.0])
def test_steps_match_float(log2):
    q = np.array([round(log2 * 256)])
    step = rate.steps_q12(q)[0] / 4096.0
    assert step == pytest.approx(max(2.0 ** log2, 1 / 4096), rel=2e-3, abs=1 / 4096)


def test_log2_steps_interpolate_between_ladder_points():
    ladder = np.array([[0, 512], [256, -256], [1024, 0]], dtype=np.int64)
    np.testing.assert_array_equal(rate.log2_steps_q(ladder, 0), ladder[0])
    np.testing.assert_array_equal(rate.log2_steps_q(ladder, 256), ladder[1])
    np.testing.assert_array_equal(rate.log2_steps_q(ladder, 512), ladder[2])
    np.testing.assert_array_equal(rate.log2_steps_q(ladder, 128), [128, 128])
    with pytest.raises(ValueError):
        rate.log2_steps_q(ladder, 513)


def test_quality_mapping():
    assert rate.quality_to_rate_q(0, 6) == 0
    assert rate.quality_to_rate_q(100, 6) == 5 * 256
    for bad in (-1, 101, float("nan"), "high"):
        with pytest.raises(ValueError):
            rate.quality_to_rate_q(bad, 6)


def fake_codec(rq):
    # size grows exponentially with the rate parameter, like a real codec
    return b"x" * int(200 * math.exp(rq / 200))


@pytest.mark.parametrize("target", [300, 1000, 5000, 20000])
def test_search_lands_in_window(target):
    res = rate.search_rate(fake_codec, target, 1280)
    assert 0.9 * target <= len(res.data) <= target
    assert res.passes <= 8
    assert len(fake_codec(res.rate_q)) == len(res.data)


def test_search_unreachable_targets():
    with pytest.warns(RuntimeWarning):
        assert rate.search_rate(fake_codec, 10, 1280).rate_q == 0
    assert rate.search_rate(fake_codec, 1e12, 1280).rate_q == 1280
