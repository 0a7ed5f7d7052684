"""Round trips of the Gaussian-conditional and CDF coders, sizes against the ideal, threads."""
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st
from hypothesis.extra import numpy as hnp

from jpegai_fast.core import rans

INT32 = np.iinfo(np.int32)


def gaussian_workload(shape, seed=0, lo=0.11, hi=64.0):
    rng = np.random.default_rng(seed)
    sigma = np.exp(rng.uniform(np.log(lo), np.log(hi), size=shape))
    symbols = np.round(rng.normal(0.0, sigma)).astype(np.int32)
    return symbols, rans.scale_index(sigma)


def roundtrip(symbols, indexes, threads=None):
    data = rans.encode_gaussian(symbols, indexes, threads=threads)
    out = rans.decode_gaussian(data, indexes, threads=threads)
    assert out.dtype == np.int32 and out.shape == np.shape(indexes)
    np.testing.assert_array_equal(out, symbols)
    return data


@settings(max_examples=40, deadline=None)
@given(
    shape=hnp.array_shapes(min_dims=1, max_dims=4, min_side=0, max_side=40),
    seed=st.integers(0, 2**32 - 1),
    extreme=st.floats(0.0, 0.2),
)
def test_gaussian_roundtrip_random_shapes_and_extremes(shape, seed, extreme):
    symbols, indexes = gaussian_workload(shape, seed)
    rng = np.random.default_rng(seed)
    wild = rng.random(shape) < extreme
    symbols[wild] = rng.integers(INT32.min, INT32.max, size=int(wild.sum()), endpoint=True)
    roundtrip(symbols, indexes)


@settings(max_examples=30, deadline=None)
@given(values=hnp.arrays(np.int32, st.integers(0, 300)), k=st.integers(0, 75))
def test_gaussian_roundtrip_any_int32_values(values, k):
    roundtrip(values, np.full(values.shape, k, dtype=np.uint8))


def test_every_scale_index_and_escape_boundaries():
    cdfs, lengths, offsets = rans.gaussian_tables()
    for k in range(rans.NUM_SCALES):
        R = -int(offsets[k])
        vals = np.array([0, R, -R, R + 1, -R - 1, R + 2, -R - 2, 2 * R + 70000,
                         INT32.max, INT32.min, INT32.max - 1, INT32.min + 1], dtype=np.int32)
        vals = np.concatenate([vals, np.arange(-R - 3, R + 4, dtype=np.int32)])
        roundtrip(vals, np.full(vals.shape, k, np.uint8))


def test_empty_input():
    for shape in [(0,), (3, 0, 5)]:
        data = rans.encode_gaussian(np.zeros(shape, np.int32), np.zeros(shape, np.uint8))
        assert data == b""
        assert rans.decode_gaussian(data, np.zeros(shape, np.uint8)).shape == shape
    assert rans.gaussian_bits(np.zeros(0, np.int32), np.zeros(0, np.uint8)) == 0.0


def test_bytes_do_not_depend_on_threads_and_chunks_split():
    n = 2 * rans.CHUNK_MAX_SYMBOLS + 12345  # three chunks
    symbols, indexes = gaussian_workload((n,), seed=3)
    ref = roundtrip(symbols, indexes, threads=1)
    for t in (2, 3, 8):
        assert roundtrip(symbols, indexes, threads=t) == ref


@pytest.mark.parametrize("n, size", [
    (1, 8),                                            # one lane: one 8-byte state, no length table
    (rans.MANY_LANES_FROM - 1, 8),
    (rans.MANY_LANES_FROM, 8 * rans.LANES),          # from here on: LANES states
    (rans.CHUNK_MAX_SYMBOLS + 2, 4 + 2 * 8 * rans.LANES),  # two chunks: one stored length
])
def test_stream_layout_lanes_and_length_table(n, size):
    # zeros at the narrowest scale cost ~3e-5 bits each: no renormalisation word is ever written,
    # so the size is the flushed states plus the length table
    sym = np.zeros(n, np.int32)
    idx = np.zeros(n, np.uint8)
    data = rans.encode_gaussian(sym, idx)
    assert len(data) == size
    assert np.array_equal(rans.decode_gaussian(data, idx), sym)


def test_coded_size_close_to_ideal_information():
    symbols, indexes = gaussian_workload((192, 32, 48), seed=1)
    data = roundtrip(symbols, indexes)
    ideal_bytes = rans.gaussian_bits(symbols, indexes) / 8
    assert len(data) >= ideal_bytes * 0.999  # cannot beat the ideal by more than rounding
    assert len(data) <= ideal_bytes * 1.002  # issue target: <= 0.2% above the ideal


def test_gaussian_bits_counts_escapes_and_matches_tables():
    cdfs, lengths, offsets = rans.gaussian_tables()
    k = 40
    R = -int(offsets[k])
    freq = np.diff(cdfs[k, : lengths[k]])
    sym = np.array([0, 1, R + 1, -(R + 8)], np.int32)
    idx = np.full(4, k, np.uint8)
    bits_in = -np.log2(freq[[R, R + 1]] / 65536.0).sum()
    esc = -np.log2(freq[-1] / 65536.0)
    # magnitude m = 0 -> (m+1) has 1 bit; m = 7 -> 8 has 4 bits: 6 length + (len-1) + 1 sign
    expected = bits_in + 2 * esc + (6 + 0 + 1) + (6 + 3 + 1)
    assert rans.gaussian_bits(sym, idx) == pytest.approx(expected, rel=1e-12)


def test_input_validation():
    s = np.zeros(4, np.int32)
    with pytest.raises(ValueError):
        rans.encode_gaussian(s, np.full(4, 76))
    with pytest.raises(ValueError):
        rans.encode_gaussian(s, np.zeros(5, np.uint8))
    with pytest.raises(TypeError):
        rans.encode_gaussian(s.astype(np.float32), np.zeros(4, np.uint8))
    with pytest.raises(ValueError):
        rans.encode_gaussian(np.array([2**40]), np.zeros(1, np.uint8))
    with pytest.raises(ValueError):
        rans.encode_gaussian(s, np.zeros(4, np.uint8), threads=0)
    with pytest.raises(TypeError):
        rans.decode_gaussian("text", np.zeros(4, np.uint8))


def test_non_contiguous_and_other_dtypes_are_accepted():
    symbols, indexes = gaussian_workload((30, 40), seed=5)
    data = rans.encode_gaussian(symbols.T, indexes.T.astype(np.int64))
    np.testing.assert_array_equal(rans.decode_gaussian(memoryview(data), indexes.T), symbols.T)


# ---- non-parametric CDF coder ----

def random_cdfs(rng, C, L):
    pmf = rng.random((C, L)) ** 3
    return rans.pmf_to_cdf(pmf, tail_mass=rng.random(C) * 1e-3)


@settings(max_examples=30, deadline=None)
@given(C=st.integers(1, 6), L=st.integers(1, 40), n=st.integers(0, 200), seed=st.integers(0, 2**32 - 1))
def test_cdf_roundtrip_with_escapes(C, L, n, seed):
    rng = np.random.default_rng(seed)
    cdfs, lengths = random_cdfs(rng, C, L)
    offsets = rng.integers(-20, 5, size=C).astype(np.int32)
    symbols = (offsets[:, None] + rng.integers(-3, L + 3, size=(C, n))).astype(np.int32)
    symbols[:, :2] = [INT32.min, INT32.max] if n >= 2 else symbols[:, :2]
    data = rans.encode_cdf(symbols, cdfs, lengths, offsets)
    out = rans.decode_cdf(data, cdfs, lengths, offsets, n)
    np.testing.assert_array_equal(out, symbols)


def test_cdf_bytes_do_not_depend_on_threads():
    rng = np.random.default_rng(0)
    C, n = 64, 9000  # > one chunk
    cdfs, lengths = random_cdfs(rng, C, 30)
    offsets = np.full(C, -15, np.int32)
    symbols = rng.integers(-15, 15, size=(C, n)).astype(np.int32)
    ref = rans.encode_cdf(symbols, cdfs, lengths, offsets, threads=1)
    assert rans.encode_cdf(symbols, cdfs, lengths, offsets, threads=2) == ref
    np.testing.assert_array_equal(rans.decode_cdf(ref, cdfs, lengths, offsets, n, threads=2), symbols)


def test_pmf_to_cdf_properties():
    rng = np.random.default_rng(1)
    pmf = rng.random((5, 50))
    pmf[0] = 0.0  # degenerate row: uniform
    pmf[1, :40] = 0.0  # zero-probability symbols still get frequency 1
    cdfs, lengths = rans.pmf_to_cdf(pmf)
    assert cdfs.shape == (5, 52) and cdfs.dtype == np.int32
    assert np.all(lengths == 52)
    assert np.all(cdfs[:, 0] == 0) and np.all(cdfs[:, -1] == 65536)
    assert np.all(np.diff(cdfs, axis=1) >= 1)
    again, _ = rans.pmf_to_cdf(pmf.copy())
    np.testing.assert_array_equal(cdfs, again)
    p = pmf[2] / pmf[2].sum()
    freq = np.diff(cdfs[2])[:-1] / 65536.0
    np.testing.assert_allclose(freq, p, atol=60 / 65536)


def test_cdf_validation():
    cdfs = np.array([[0, 100, 65536]], np.int32)
    ok = (np.array([3], np.int32), np.array([0], np.int32))
    rans.encode_cdf(np.zeros((1, 3), np.int32), cdfs, *ok)
    bad_cdfs = [np.array([[0, 0, 65536]]), np.array([[1, 100, 65536]]), np.array([[0, 100, 65535]])]
    for bad in bad_cdfs:
        with pytest.raises(ValueError):
            rans.encode_cdf(np.zeros((1, 3), np.int32), bad, *ok)
    with pytest.raises(ValueError):
        rans.encode_cdf(np.zeros((1, 3), np.int32), cdfs, np.array([4]), ok[1])
    with pytest.raises(ValueError):
        rans.encode_cdf(np.zeros((2, 3), np.int32), cdfs, *ok)
    with pytest.raises(ValueError):
        rans.pmf_to_cdf(np.array([[0.5, np.nan]]))
    with pytest.raises(ValueError):
        rans.pmf_to_cdf(np.array([[0.5, -0.1]]))
    assert rans.encode_cdf(np.zeros((1, 0), np.int32), cdfs, *ok) == b""
    assert rans.decode_cdf(b"", cdfs, *ok, 0).shape == (1, 0)


def test_decode_into_out_array():
    symbols, indexes = gaussian_workload((7, 300), seed=9)
    data = rans.encode_gaussian(symbols, indexes)
    out = np.full(symbols.shape, -1, np.int32)
    res = rans.decode_gaussian(data, indexes, out=out)
    assert res is out or np.shares_memory(res, out)
    np.testing.assert_array_equal(out, symbols)
    for bad in [np.zeros((7, 299), np.int32), np.zeros((7, 300), np.int64), out[:, ::2]]:
        with pytest.raises(ValueError):
            rans.decode_gaussian(data, indexes, out=bad)
