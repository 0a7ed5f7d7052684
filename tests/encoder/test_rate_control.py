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
