"""Gaussian tables: the ladder, the pinned hash, and closeness to the true discretised Gaussian."""
import numpy as np
import pytest
from scipy.stats import norm

from jpegai_fast.core import rans

# Pinned: a change here changes every bitstream. Update only with a format version bump.
EXPECTED_TABLE_HASH = "90c3b0936dc06d74ed6b597d5b8a84e84be78da079176fc3ca91de920b7f804f"


def test_table_hash_is_pinned():
    assert rans.table_hash() == EXPECTED_TABLE_HASH


def test_ladder_matches_conventions():
    k = np.arange(76)
    assert rans.NUM_SCALES == 76
    assert rans.PRECISION >= 15
    np.testing.assert_allclose(rans.SCALES, 2.0 ** (6 - (75 - k) / 8), rtol=1e-15)


def test_tables_are_valid_cdfs():
    cdfs, lengths, offsets = rans.gaussian_tables()
    total = 1 << rans.PRECISION
    for k in range(rans.NUM_SCALES):
        row = cdfs[k, : lengths[k]]
        assert row[0] == 0 and row[-1] == total
        assert np.all(np.diff(row) >= 1)
        assert offsets[k] == -(lengths[k] - 3) // 2  # symmetric range [-R, R] + escape
        R = -offsets[k]
        assert R == max(1, int(np.ceil(4.5 * rans.SCALES[k] - 0.5)))


@pytest.mark.parametrize("k", [0, 10, 27, 40, 60, 75])
def test_tables_follow_the_gaussian(k):
    cdfs, lengths, offsets = rans.gaussian_tables()
    sigma = rans.SCALES[k]
    R = -offsets[k]
    q = np.arange(-R, R + 1)
    p_true = norm.cdf((q + 0.5) / sigma) - norm.cdf((q - 0.5) / sigma)
    p_tab = np.diff(cdfs[k, : lengths[k]]).astype(np.float64)[:-1] / (1 << rans.PRECISION)
    # Cross-entropy excess of the table over the true pmf, in bits per symbol: only the
    # quantisation to 16 bits (and the min-frequency floor of the tails) may cost anything.
    mask = p_true > 0
    excess = np.sum(p_true[mask] * np.log2(p_true[mask] / p_tab[mask]))
    assert excess < 2e-3
    big = p_true > 1e-3
    np.testing.assert_allclose(p_tab[big], p_true[big], rtol=2e-3, atol=2e-5)


def test_scale_index_float_and_integer_mappings_agree():
    L = np.arange(-2000, 2500, dtype=np.int32)  # log2(sigma) in Q8
    L = L[(L + 880) % 32 != 0]  # exact rounding ties: float log2 may land either side
    idx_int = rans.scale_index_from_log2_q8(L)
    # Float mapping on exact dyadic log2 values equals the integer one (round half up).
    idx_float = rans.scale_index(2.0 ** (L / 256.0))
    np.testing.assert_array_equal(idx_int, idx_float)
    assert idx_int.dtype == np.uint8 and idx_int.min() == 0 and idx_int.max() == 75


def test_scale_index_hits_ladder_points_and_edges():
    np.testing.assert_array_equal(rans.scale_index(rans.SCALES), np.arange(76))
    assert rans.scale_index(np.array([0.0, -1.0, 1e-30, 1e30])).tolist() == [0, 0, 0, 75]
    with pytest.raises(ValueError):
        rans.scale_index(np.array([np.nan]))
