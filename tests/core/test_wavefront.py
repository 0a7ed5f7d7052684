"""Fixed-point wavefront context model: exact match with a slow numpy reference, encoder/decoder
consistency, thread-count determinism, causality and input validation."""
import os
import subprocess
import sys

import numpy as np
import pytest
import torch

from jpegai_fast.core import cpu
from jpegai_fast import _core
from jpegai_fast.core.wavefront import TAPS, ContextModel, from_q12, to_q12

LIMIT = 2**30


def reference(w_q, bias_q, step_q, mu_hyper_q, q=None, y=None):
    """Raster-order numpy evaluation of the documented formula (raster order is causal too)."""
    M, H, W = mu_hyper_q.shape
    pad = np.zeros((M, H + 2, W + 3), np.int64)
    w = w_q.astype(np.int64).reshape(M // 16, 16, 16, 10)  # [group][c in group][ci][tap]
    q_out = np.zeros((M, H, W), np.int64)
    for i in range(H):
        for j in range(W):
            nb = np.stack([pad[:, i + ky, j + kx] for ky, kx in TAPS], axis=-1)  # (M, 10)
            nb = nb.reshape(M // 16, 16, 10)
            acc = np.einsum("gcit,git->gc", w, nb).reshape(M)
            mu = np.clip(mu_hyper_q[:, i, j].astype(np.int64) + bias_q + ((acc + 2**15) >> 16), -LIMIT, LIMIT)
            if q is None:
                qv = np.floor((y[:, i, j].astype(np.float64) * 4096.0 - mu) / step_q + 0.5)
                qv = np.clip(qv, -LIMIT, LIMIT).astype(np.int64)
            else:
                qv = q[:, i, j].astype(np.int64)
            q_out[:, i, j] = qv
            pad[:, i + 2, j + 2] = np.clip(qv * step_q + mu, -LIMIT, LIMIT)
    return q_out.astype(np.int32), pad[:, 2:, 2:-1].astype(np.int32)


def random_case(rng, M=32, H=5, W=7, wscale=0.3):
    w_q = np.round(rng.normal(0, wscale, (M, 16, 10)) * 2**16).astype(np.int32)
    bias_q = rng.integers(-4096, 4096, M).astype(np.int32)
    step_q = rng.integers(1, 3 * 4096, M).astype(np.int32)
    mu_hyper_q = rng.integers(-20000, 20000, (M, H, W)).astype(np.int32)
    y = rng.normal(0, 3, (M, H, W)).astype(np.float32)
    return ContextModel(w_q, bias_q), step_q, mu_hyper_q, y


@pytest.mark.parametrize("seed,M,H,W", [(0, 16, 1, 1), (1, 32, 5, 7), (2, 16, 9, 3), (3, 48, 4, 11), (4, 16, 2, 1)])
def test_matches_numpy_reference_exactly(seed, M, H, W):
    rng = np.random.default_rng(seed)
    model, step_q, mu_h, y = random_case(rng, M, H, W)
    q_ref, y_hat_ref = reference(model.w_q, model.bias_q, step_q, mu_h, y=y)
    for threads in (1, 2, 3):
        q, y_hat = model.quantise(y, mu_h, step_q, threads=threads)
        np.testing.assert_array_equal(q, q_ref)
        np.testing.assert_array_equal(y_hat, y_hat_ref)
        np.testing.assert_array_equal(model.reconstruct(q, mu_h, step_q, threads=threads), y_hat_ref)
    q_rand = rng.integers(-50, 50, (M, H, W)).astype(np.int32)
    _, y_hat_ref2 = reference(model.w_q, model.bias_q, step_q, mu_h, q=q_rand)
    np.testing.assert_array_equal(model.reconstruct(q_rand, mu_h, step_q, threads=2), y_hat_ref2)


def test_saturation_matches_reference():
    rng = np.random.default_rng(7)
    model, step_q, mu_h, _ = random_case(rng, 16, 4, 6, wscale=50.0)
    q = rng.integers(-(2**31), 2**31 - 1, (16, 4, 6), dtype=np.int64).astype(np.int32)
    _, y_ref = reference(model.w_q, model.bias_q, step_q, mu_h, q=q)
    y_hat = model.reconstruct(q, mu_h, step_q, threads=2)
    np.testing.assert_array_equal(y_hat, y_ref)
    assert np.abs(y_hat).max() == LIMIT


def test_thread_count_and_simd_do_not_change_results():
    # M = 32 is 2 groups: threads 1 and 2 run whole groups per thread, 3, 5, 8, 64 the row wavefront.
    rng = np.random.default_rng(11)
    model, step_q, mu_h, y = random_case(rng, 32, 37, 29)
    q, y_hat = model.quantise(y, mu_h, step_q, threads=1)
    for threads in (2, 3, 5, 8, 64):
        q2, y2 = model.quantise(y, mu_h, step_q, threads=threads)
        np.testing.assert_array_equal(q2, q)
        np.testing.assert_array_equal(y2, y_hat)
        np.testing.assert_array_equal(model.reconstruct(q, mu_h, step_q, threads=threads), y_hat)
    previous = cpu.set_isa("portable")
    try:
        np.testing.assert_array_equal(model.reconstruct(q, mu_h, step_q, threads=2), y_hat)
    finally:
        cpu.set_isa(previous)


def test_quantise_is_rounding_of_residual():
    rng = np.random.default_rng(5)
    model, step_q, mu_h, y = random_case(rng, 16, 6, 6)
    q, y_hat = model.quantise(y, mu_h, step_q, threads=2)
    # y_hat = q*step + mu, so |y*4096 - y_hat| <= step/2 wherever nothing saturates
    err = np.abs(y.astype(np.float64) * 4096 - y_hat)
    assert np.all(err <= step_q[:, None, None] / 2 + 1e-6)
    np.testing.assert_array_equal(model.reconstruct(q, mu_h, step_q, threads=1), y_hat)


def test_causality():
    rng = np.random.default_rng(3)
    M, H, W = 16, 8, 9
    model, step_q, mu_h, _ = random_case(rng, M, H, W, wscale=1.0)
    q = rng.integers(-20, 20, (M, H, W)).astype(np.int32)
    base = model.reconstruct(q, mu_h, step_q, threads=2)
    ii, jj = np.meshgrid(np.arange(H), np.arange(W), indexing="ij")
    t = jj + 2 * ii
    for i0, j0 in [(0, 0), (3, 4), (2, 8), (7, 0), (5, 5)]:
        q2 = q.copy()
        q2[:, i0, j0] += rng.integers(1, 100, M).astype(np.int32)
        out = model.reconstruct(q2, mu_h, step_q, threads=3)
        earlier = (t <= j0 + 2 * i0) & ~((ii == i0) & (jj == j0))
        np.testing.assert_array_equal(out[:, earlier], base[:, earlier])
        assert np.any(out[:, i0, j0] != base[:, i0, j0])
        later = t > j0 + 2 * i0
        if later.any() and (i0, j0) != (7, 0):
            assert np.any(out[:, later] != base[:, later])


def test_from_module_matches_masked_torch_conv():
    torch.manual_seed(0)
    M, H, W = 32, 6, 8
    conv = torch.nn.Conv2d(M, M, 5, padding=2, groups=M // 16)
    mask = torch.zeros(5, 5)
    mask[:2, :4] = 1
    mask[2, :2] = 1
    conv.register_buffer("mask", mask[None, None].clone())  # a masked conv with the conventions' mask
    model = ContextModel.from_module(conv)
    rng = np.random.default_rng(0)
    mu_h = rng.integers(-8000, 8000, (M, H, W)).astype(np.int32)
    step_q = np.full(M, 4096, np.int32)
    y = rng.normal(0, 2, (M, H, W)).astype(np.float32)
    q, y_hat = model.quantise(y, mu_h, step_q, threads=2)
    # mu recovered from y_hat = q*step + mu must match the float masked conv of the same y_hat
    mu_int = y_hat.astype(np.int64) - q.astype(np.int64) * step_q[:, None, None]
    with torch.no_grad():
        ctx = torch.nn.functional.conv2d(
            torch.from_numpy(from_q12(y_hat)).double()[None], (conv.weight * mask).double(), conv.bias.double(),
            padding=2, groups=M // 16,
        )[0].numpy()
    mu_float = mu_h / 4096.0 + ctx
    assert np.abs(mu_int / 4096.0 - mu_float).max() < 4 / 4096  # Q16 weights, one rounding: < 4 Q12 units
    np.testing.assert_array_equal(to_q12(np.array([0.5, -0.5, 1 / 8192, -1.0])), [2048, -2048, 1, -4096])


def test_decode_in_subprocess_with_other_thread_settings():
    rng = np.random.default_rng(21)
    model, step_q, mu_h, y = random_case(rng, 32, 12, 10)
    q, y_hat = model.quantise(y, mu_h, step_q, threads=2)
    code = (
        "import sys, numpy as np; from jpegai_fast.core.wavefront import ContextModel\n"
        "d = np.load(sys.argv[1]); m = ContextModel(d['w'], d['b'])\n"
        "sys.stdout.write(m.reconstruct(d['q'], d['mu'], d['s'], threads=3).tobytes().hex())\n"
    )
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "case.npz")
        np.savez(path, w=model.w_q, b=model.bias_q, q=q, mu=mu_h, s=step_q)
        env = dict(os.environ, OMP_NUM_THREADS="1", MKL_NUM_THREADS="1", JPEGAI_NO_SIMD="1")
        env["PYTHONPATH"] = os.pathsep.join(p for p in sys.path if p)
        out = subprocess.run([sys.executable, "-c", code, path], env=env, capture_output=True, text=True, check=True,
                             cwd=os.path.dirname(path))  # cwd: not the source tree
    assert bytes.fromhex(out.stdout) == y_hat.tobytes()


def test_bad_inputs_raise():
    rng = np.random.default_rng(1)
    model, step_q, mu_h, y = random_case(rng, 16, 3, 4)
    q = np.zeros((16, 3, 4), np.int32)
    with pytest.raises(ValueError):
        ContextModel(np.zeros((20, 16, 10), np.int32), np.zeros(20, np.int32))  # M % 16
    with pytest.raises(ValueError):
        ContextModel(np.zeros((16, 16, 9), np.int32), np.zeros(16, np.int32))
    with pytest.raises(ValueError):
        ContextModel(np.zeros((16, 16, 10), np.int32), np.zeros(15, np.int32))
    with pytest.raises(ValueError):
        model.reconstruct(q[:, :2], mu_h, step_q)
    with pytest.raises(ValueError):
        model.reconstruct(q, mu_h, step_q[:8])
    with pytest.raises(ValueError):
        model.reconstruct(q, mu_h, np.zeros(16, np.int32))  # step must be >= 1
    with pytest.raises(ValueError):
        model.reconstruct(q, np.full_like(mu_h, 2**31 - 1), step_q)
    with pytest.raises(ValueError):
        model.reconstruct(np.zeros((16, 0, 4), np.int32), np.zeros((16, 0, 4), np.int32), step_q)
    with pytest.raises(ValueError):
        model.reconstruct(q.astype(np.float32) + 0.5, mu_h, step_q)
    with pytest.raises(TypeError):
        model.reconstruct(q.astype(np.complex64), mu_h, step_q)
    with pytest.raises(ValueError):
        model.reconstruct(q, mu_h, step_q, threads=0)
    with pytest.raises(TypeError):
        model.reconstruct(q, mu_h, step_q, threads=1.5)
    bad_y = y.copy()
    bad_y[0, 1, 2] = np.nan
    with pytest.raises(ValueError):
        model.quantise(bad_y, mu_h, step_q)
    with pytest.raises(TypeError):
        model.quantise(q, mu_h, step_q)
    big = ContextModel(np.full((16, 16, 10), 2**25, np.int32), np.zeros(16, np.int32))
    with pytest.raises(ValueError):
        big.reconstruct(q, mu_h, step_q)
    with pytest.raises(ValueError):
        ContextModel.from_module(torch.nn.Conv2d(16, 16, 3, padding=1))
    with pytest.raises(ValueError):  # dense, not grouped by 16
        ContextModel.from_module(torch.nn.Conv2d(16, 32, 5, padding=2))
    masked = torch.nn.Conv2d(16, 16, 5, padding=2)
    masked.register_buffer("mask", torch.ones(1, 1, 5, 5))  # not causal
    with pytest.raises(ValueError):
        ContextModel.from_module(masked)
    with pytest.raises(TypeError):  # the raw core refuses silent casts
        _core.context_reconstruct(q.astype(np.int64), mu_h, model.bias_q, step_q, model.w_q, 1)


def test_round_half_up_on_exact_ties():
    """One tap of weight 0.5 on odd neighbours: every context sum is an exact tie (x.5 in Q12)."""
    M, H, W = 16, 3, 9
    w_q = np.zeros((M, 16, 10), np.int32)
    w_q[:, 0, 9] = 2**15  # tap (0, -1) of input channel 0, weight 0.5
    model = ContextModel(w_q, np.zeros(M, np.int32))
    step_q = np.ones(M, np.int32)
    mu_h = np.zeros((M, H, W), np.int32)
    q = (2 * np.random.default_rng(0).integers(-40, 40, (M, H, W)) + 1).astype(np.int32)
    q[1:] = 0  # channel 0 stays odd: y_hat0 = q (its own mu is also a tie, but even/odd alternates)
    y_hat = model.reconstruct(q, mu_h, step_q, threads=1)
    # mu(c, i, j) = floor(y_hat0(i, j-1) / 2 + 1/2) for every channel c of the group
    left = np.concatenate([np.zeros((H, 1), np.int64), y_hat[0, :, :-1].astype(np.int64)], axis=1)
    expected_mu = np.floor(left / 2 + 0.5).astype(np.int64)
    np.testing.assert_array_equal(y_hat[1:], np.broadcast_to(expected_mu, (M - 1, H, W)))
    assert np.any(left % 2 == 1) and np.any((left < 0) & (left % 2 == 1))  # ties on both signs
