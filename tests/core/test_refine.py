"""Refinement layers (csrc/context/refine.h, docs/format.md "Progressive layers"): the coder against a
numpy reference of the documented rule (reconstruction and code length), encoder/decoder consistency,
determinism over threads and SIMD, and damaged payloads."""
import numpy as np
import pytest

from jpegai_fast import DecodeError
from jpegai_fast.core import cpu, rans
from jpegai_fast.core.wavefront import TAPS, ContextModel, check_refinement

LIMIT = 2**30


def case(seed, M=32, H=5, W=7):
    """A context model, a layer below (y_hat_prev at step 3 s), y inside its bins, and table indexes."""
    rng = np.random.default_rng(seed)
    model = ContextModel(np.round(rng.normal(0, 0.2, (M, 16, 10)) * 2**16).astype(np.int32),
                         rng.integers(-2000, 2000, M).astype(np.int32))
    step = rng.integers(200, 3 * 4096, M).astype(np.int32)
    mu_h = rng.integers(-20000, 20000, (M, H, W)).astype(np.int32)
    prev = (rng.integers(-30, 30, (M, H, W)) * 3 * step[:, None, None]).astype(np.int32)
    y = ((prev + rng.uniform(-1.5, 1.5, (M, H, W)) * step[:, None, None]) / 4096).astype(np.float32)
    idx = rng.integers(0, 76, (M, H, W)).astype(np.uint8)
    return model, step, mu_h, prev, y, idx


def reference(model, step, mu_h, prev, y, idx):
    """Raster-order numpy evaluation: (y_hat, ideal code length in bits) of the documented rule."""
    cdfs, lengths, offsets = rans.gaussian_tables()
    M, H, W = prev.shape
    pad = np.zeros((M, H + 2, W + 3), np.int64)
    w = model.w_q.astype(np.int64).reshape(M // 16, 16, 16, 10)
    bits = 0.0

    def cdf_below(k, v):
        local = v - offsets[k]
        return 0 if local <= 0 else int(cdfs[k, min(local, lengths[k] - 1)])

    for i in range(H):
        for j in range(W):
            nb = np.stack([pad[:, i + ky, j + kx] for ky, kx in TAPS], axis=-1).reshape(M // 16, 16, 10)
            acc = np.einsum("gcit,git->gc", w, nb).reshape(M)
            mu = np.clip(mu_h[:, i, j].astype(np.int64) + model.bias_q + ((acc + 2**15) >> 16), -LIMIT, LIMIT)
            for c in range(M):
                p, s, k = int(prev[c, i, j]), int(step[c]), int(idx[c, i, j])
                t = int(np.clip(np.floor((float(y[c, i, j]) * 4096.0 - p) / s + 0.5), -1, 1))
                e = (6 * (p - int(mu[c])) + s) // (2 * s)
                mass = [cdf_below(k, e + 3 * u + 2) - cdf_below(k, e + 3 * u - 1) for u in (-1, 0, 1)]
                total = sum(mass)
                if total == 0:
                    f = [21845, 21846, 21845]
                else:
                    f = [1 + m * (2**16 - 3) // total for m in mass]
                    top = max((1, 0, 2), key=lambda u: mass[u])   # first of the largest, in this order
                    f[top] += 2**16 - sum(f)
                bits -= np.log2(f[t + 1] / 2**16)
                pad[c, i + 2, j + 2] = np.clip(p + t * s, -LIMIT, LIMIT)
    return pad[:, 2:, 2:-1].astype(np.int32), bits


@pytest.mark.parametrize("seed,M,H,W", [(0, 16, 1, 1), (1, 32, 5, 7), (2, 16, 9, 3), (3, 48, 4, 6)])
def test_matches_the_documented_rule(seed, M, H, W):
    model, step, mu_h, prev, y, idx = case(seed, M, H, W)
    y_hat_ref, bits = reference(model, step, mu_h, prev, y, idx)
    data, y_hat = model.refine_encode(y, prev, idx, mu_h, step, threads=1)
    np.testing.assert_array_equal(y_hat, y_hat_ref)
    # rANS: within a few bits of the ideal length, plus per group a length byte and an 8-byte state
    overhead = len(data) * 8 - bits
    assert 0 <= overhead <= M // 16 * (8 + 1 + 4) * 8 + 8, (len(data), bits)
    np.testing.assert_array_equal(model.refine_decode(data, prev, idx, mu_h, step, threads=1), y_hat_ref)


def test_bytes_and_values_do_not_depend_on_threads_or_simd():
    model, step, mu_h, prev, y, idx = case(5, M=64, H=6, W=9)
    data, y_hat = model.refine_encode(y, prev, idx, mu_h, step, threads=1)
    previous = cpu.set_isa("portable")
    try:
        for isa in ("portable", previous):
            cpu.set_isa(isa)
            for threads in (1, 2, 3, 8):
                d, v = model.refine_encode(y, prev, idx, mu_h, step, threads=threads)
                assert d == data
                np.testing.assert_array_equal(v, y_hat)
                np.testing.assert_array_equal(model.refine_decode(data, prev, idx, mu_h, step, threads), y_hat)
    finally:
        cpu.set_isa(previous)


def test_the_refined_value_is_within_half_a_step_of_y():
    model, step, mu_h, prev, y, idx = case(6)
    _, y_hat = model.refine_encode(y, prev, idx, mu_h, step, threads=2)
    err = np.abs(y.astype(np.float64) * 4096 - y_hat) / step[:, None, None]
    assert err.max() <= 0.5 + 1e-6


def test_damaged_payloads_raise_decode_error_never_crash():
    model, step, mu_h, prev, y, idx = case(7, M=32, H=4, W=5)
    data, y_hat = model.refine_encode(y, prev, idx, mu_h, step, threads=1)
    check_refinement(data, 32)
    rng = np.random.default_rng(0)
    bad = [b"", data[:1], data[:-4], data + b"\0\0\0\0", b"\x80" * 5 + data[5:],
           bytes([data[0] + 4]) + data[1:]]
    for _ in range(200):
        d = bytearray(data)
        for _ in range(int(rng.integers(1, 4))):
            d[int(rng.integers(0, len(d)))] = int(rng.integers(0, 256))
        bad.append(bytes(d))
    bad += [rng.integers(0, 256, int(n), dtype=np.uint8).tobytes() for n in rng.integers(0, 200, 50)]
    raised = 0
    for d in bad:
        try:
            out = model.refine_decode(d, prev, idx, mu_h, step, threads=2)
        except DecodeError:
            raised += 1
            continue
        assert out.shape == y_hat.shape   # a payload that happens to decode cleanly is some refinement
    assert raised >= len(bad) * 0.9
    for d in bad[:6]:
        with pytest.raises(DecodeError, match="refinement layer"):
            check_refinement(d, 32) if d != bad[5] else model.refine_decode(d, prev, idx, mu_h, step, 1)


def test_bad_arguments_are_value_errors():
    model, step, mu_h, prev, y, idx = case(8, M=16, H=2, W=3)
    with pytest.raises(ValueError, match="table index"):
        model.refine_encode(y, prev, np.full_like(idx, 76), mu_h, step, threads=1)
    with pytest.raises(ValueError, match="shape"):
        model.refine_encode(y, prev[:, :1], idx, mu_h, step, threads=1)
    with pytest.raises(TypeError, match="uint8"):
        model.refine_encode(y, prev, idx.astype(np.int32), mu_h, step, threads=1)
    with pytest.raises(ValueError, match="finite|NaN"):
        model.refine_encode(np.full_like(y, np.nan), prev, idx, mu_h, step, threads=1)
