"""Integer hyper-synthesis: exact agreement with an independent integer reference, small error vs
the float torch module, determinism across thread counts / SIMD / processes, scale-index mapping,
input validation."""
import hashlib
import os
import subprocess
import sys
import tempfile

import numpy as np
import pytest
import torch
import torch.nn as nn

from jpegai_fast.core import cpu
from jpegai_fast import _core
from jpegai_fast.core.intpath import IntHyperSynthesis, scale_indexes

from helpers import integer_conv

ACT_LIMIT = 2**30


def hyper(M, cz=16, n=24, seed=0):
    torch.manual_seed(seed)
    return nn.Sequential(
        nn.ConvTranspose2d(cz, n, 5, stride=2, padding=2, output_padding=1), nn.ReLU(),
        nn.ConvTranspose2d(n, n * 3 // 2, 5, stride=2, padding=2, output_padding=1), nn.ReLU(),
        nn.Conv2d(n * 3 // 2, 2 * M, 3, stride=1, padding=1),
    )


ODD_STACKS = [
    # strided conv, even kernels, non-square kernels, kernel 1, transposed without output_padding
    lambda M: nn.Sequential(nn.Conv2d(8, 12, 3, stride=2, padding=1), nn.ReLU(),
                            nn.ConvTranspose2d(12, 12, 4, stride=2, padding=1), nn.ReLU(),
                            nn.ConvTranspose2d(12, 10, (3, 5), stride=(2, 1), padding=(0, 2)), nn.ReLU(), nn.ReLU(),
                            nn.Conv2d(10, 2 * M, 1)),
    lambda M: nn.Sequential(nn.Sequential(nn.ConvTranspose2d(8, 16, 3, stride=2, padding=1, output_padding=1),
                                          nn.Conv2d(16, 16, (5, 3), stride=(1, 2), padding=(2, 0), bias=False)),
                            nn.ReLU(), nn.ConvTranspose2d(16, 2 * M, 2, stride=2)),
]


def integer_reference(model: IntHyperSynthesis, z: np.ndarray):
    """The documented integer formula evaluated with torch float64 convs on exact integers."""
    act = z.astype(np.int64) * 4096
    for k, layer in enumerate(model.layers):
        acc = integer_conv(act, layer) + layer["bias_q"][:, None, None]
        shift = layer["shift"].astype(np.int64)
        if k == len(model.layers) - 1:
            shift[model.M:] += 4  # log2sigma: Q12 -> Q8 within the same rounding
        shift = shift[:, None, None]
        out = np.where(shift > 0, (acc + (np.int64(1) << np.maximum(shift - 1, 0))) >> shift, acc)
        if layer["relu"]:
            out = np.maximum(out, 0)
        act = np.clip(out, -ACT_LIMIT, ACT_LIMIT)
    out = act.astype(np.int32)
    return out[: model.M], out[model.M:]


def float_forward(h_s, z):
    with torch.no_grad():
        return h_s.double()(torch.from_numpy(z.astype(np.float64))[None])[0].numpy()


@pytest.mark.parametrize("make,M,cz,shape", [(lambda M: hyper(M), 32, 16, (5, 7)),
                                             (ODD_STACKS[0], 16, 8, (9, 6)),
                                             (ODD_STACKS[1], 8, 8, (4, 5))])
def test_exact_integer_reference_and_float_error(make, M, cz, shape):
    h_s = make(M)
    rng = np.random.default_rng(0)
    z = rng.integers(-6, 7, (cz, *shape)).astype(np.int32)
    model = IntHyperSynthesis.from_module(h_s, M)
    mu_q, log2sigma_q = model.run(z, threads=2)
    mu_ref, sig_ref = integer_reference(model, z)
    np.testing.assert_array_equal(mu_q, mu_ref)
    np.testing.assert_array_equal(log2sigma_q, sig_ref)
    ref = float_forward(h_s, z)
    assert mu_q.shape == ref[:M].shape and mu_q.dtype == np.int32
    assert model.output_size(*shape) == mu_q.shape[1:]
    # measured: <= 2 Q12 units (mu) and <= 1 Q8 unit (log2sigma) for these stacks
    assert np.abs(mu_q - ref[:M] * 4096).max() <= 4
    assert np.abs(log2sigma_q - ref[M:] * 256).max() <= 1.0


def test_error_small_with_trained_like_scales():
    """Bigger weights and activations (like a trained model): error stays a few Q12 units."""
    M = 32
    h_s = hyper(M, seed=3)
    with torch.no_grad():
        for p in h_s.parameters():
            p.mul_(3.0)
    z = np.random.default_rng(2).integers(-20, 21, (16, 6, 6)).astype(np.int32)
    mu_q, log2sigma_q = IntHyperSynthesis.from_module(h_s, M).run(z, threads=1)
    ref = float_forward(h_s, z)
    assert np.abs(ref).max() > 10  # the test exercises large activations
    assert np.abs(mu_q - ref[:M] * 4096).max() <= 16
    assert np.abs(log2sigma_q - ref[M:] * 256).max() <= 2


def test_fp16_weights_convert_exactly():
    M = 16
    h32 = hyper(M, cz=8, n=16, seed=5)
    h16 = hyper(M, cz=8, n=16, seed=5).half()
    with torch.no_grad():
        for p in h32.parameters():
            p.copy_(p.half().float())
    z = np.random.default_rng(0).integers(-3, 4, (8, 3, 4)).astype(np.int32)
    a = IntHyperSynthesis.from_module(h32, M).run(z, threads=1)
    b = IntHyperSynthesis.from_module(h16, M).run(z, threads=1)
    np.testing.assert_array_equal(a[0], b[0])
    np.testing.assert_array_equal(a[1], b[1])


def test_threads_and_simd_do_not_change_results():
    M = 32
    model = IntHyperSynthesis.from_module(hyper(M, n=20), M)
    z = np.random.default_rng(1).integers(-8, 9, (16, 7, 9)).astype(np.int32)
    mu1, s1 = model.run(z, threads=1)
    for threads in (2, 3, 7, 32):
        mu, s = model.run(z, threads=threads)
        np.testing.assert_array_equal(mu, mu1)
        np.testing.assert_array_equal(s, s1)
    previous = cpu.set_isa("portable")
    try:
        mu, s = model.run(z, threads=2)
    finally:
        cpu.set_isa(previous)
    np.testing.assert_array_equal(mu, mu1)
    np.testing.assert_array_equal(s, s1)


def test_decode_in_subprocess_with_other_thread_settings():
    M = 32
    h_s = hyper(M, n=20, seed=9)
    z = np.random.default_rng(4).integers(-8, 9, (16, 4, 6)).astype(np.int32)
    model = IntHyperSynthesis.from_module(h_s, M)
    mu, sig = model.run(z, threads=2)
    idx = scale_indexes(sig, np.full(M, -256, np.int32), threads=2)
    code = (
        "import sys, torch, numpy as np\n"
        "from jpegai_fast.core.intpath import IntHyperSynthesis, scale_indexes\n"
        "torch.set_num_threads(1)\n"
        "h_s = torch.load(sys.argv[1], weights_only=False); z = np.load(sys.argv[2])\n"
        f"mu, sig = IntHyperSynthesis.from_module(h_s, {M}).run(z, threads=1)\n"
        f"idx = scale_indexes(sig, np.full({M}, -256, np.int32), threads=1)\n"
        "sys.stdout.write((mu.tobytes() + sig.tobytes() + idx.tobytes()).hex())\n"
    )
    with tempfile.TemporaryDirectory() as tmp:
        torch.save(h_s, os.path.join(tmp, "h_s.pt"))
        np.save(os.path.join(tmp, "z.npy"), z)
        env = dict(os.environ, OMP_NUM_THREADS="1", MKL_NUM_THREADS="1", JPEGAI_NO_SIMD="1")
        env["PYTHONPATH"] = os.pathsep.join(p for p in sys.path if p)
        out = subprocess.run([sys.executable, "-c", code, os.path.join(tmp, "h_s.pt"), os.path.join(tmp, "z.npy")],
                             env=env, capture_output=True, text=True, check=True, cwd=tmp)  # not the source tree
    assert bytes.fromhex(out.stdout) == mu.tobytes() + sig.tobytes() + idx.tobytes()


def test_scale_indexes_mapping():
    rng = np.random.default_rng(0)
    M = 8
    sig = rng.integers(-3000, 3000, (M, 5, 6)).astype(np.int32)
    sig[0, 0, :6] = [-880, -881, -849, -848, 1520, 2**31 - 1]
    step = rng.integers(-600, 600, M).astype(np.int32)
    step[0] = 0
    idx = scale_indexes(sig, step, threads=2)
    L = sig.astype(np.int64) - step[:, None, None]
    np.testing.assert_array_equal(idx, np.clip(np.floor_divide(L + 880, 32), 0, 75))
    assert idx.dtype == np.uint8
    assert list(idx[0, 0, :6]) == [0, 0, 0, 1, 75, 75]
    # agrees with the float mapping (round((log2 sigma + 3.375) * 8)) on the ladder's own values
    k = np.arange(76)
    L_ladder = np.round((6 - (75 - k) / 8) * 256).astype(np.int32).reshape(1, 1, 76)
    np.testing.assert_array_equal(scale_indexes(L_ladder, np.zeros(1, np.int32))[0, 0], k)


def test_bad_inputs_raise():
    M = 16
    model = IntHyperSynthesis.from_module(hyper(M, cz=8, n=8), M)
    z = np.zeros((8, 3, 3), np.int32)
    with pytest.raises(ValueError):
        IntHyperSynthesis.from_module(hyper(M, cz=8, n=8), 12)  # 2*M mismatch
    with pytest.raises(TypeError):
        IntHyperSynthesis.from_module(nn.Sequential(nn.Conv2d(4, 32, 3), nn.BatchNorm2d(32)), M)
    with pytest.raises(TypeError):
        IntHyperSynthesis.from_module(nn.Conv2d(4, 32, 3), M)
    with pytest.raises(ValueError):
        IntHyperSynthesis.from_module(nn.Sequential(nn.Conv2d(4, 32, 3, groups=2)), M)
    with pytest.raises(ValueError):
        IntHyperSynthesis.from_module(nn.Sequential(nn.Conv2d(4, 32, 3, dilation=2)), M)
    with pytest.raises(ValueError):
        IntHyperSynthesis.from_module(nn.Sequential(nn.Conv2d(4, 32, 3, padding="same")), M)
    with pytest.raises(ValueError):
        IntHyperSynthesis.from_module(nn.Sequential(nn.ReLU(), nn.Conv2d(4, 32, 3)), M)
    with pytest.raises(ValueError):
        IntHyperSynthesis.from_module(nn.Sequential(nn.Conv2d(4, 16, 3), nn.Conv2d(8, 32, 3)), M)
    huge = nn.Sequential(nn.Conv2d(4, 32, 1))
    with torch.no_grad():
        huge[0].weight[0, 0] = 1e6
    with pytest.raises(ValueError):
        IntHyperSynthesis.from_module(huge, M)
    nan = nn.Sequential(nn.Conv2d(4, 32, 1))
    with torch.no_grad():
        nan[0].bias[3] = float("nan")
    with pytest.raises(ValueError):
        IntHyperSynthesis.from_module(nan, M)
    with pytest.raises(ValueError):
        model.run(np.zeros((7, 3, 3), np.int32))  # channel count
    with pytest.raises(ValueError):
        model.run(np.zeros((8, 3), np.int32))
    with pytest.raises(ValueError):
        model.run(np.zeros((8, 0, 3), np.int32))
    with pytest.raises(ValueError):
        model.run(z + 0.5)
    with pytest.raises(TypeError):
        model.run(z.astype(bool))
    with pytest.raises(ValueError):
        model.run(np.full((8, 3, 3), 2**20, np.int32))  # beyond +-2^18
    with pytest.raises(ValueError):
        model.run(z, threads=0)
    small = IntHyperSynthesis.from_module(nn.Sequential(nn.Conv2d(8, 32, 5)), M)
    with pytest.raises(ValueError):
        small.run(np.zeros((8, 2, 9), np.int32))  # smaller than the kernel
    with pytest.raises(ValueError):
        scale_indexes(np.zeros((4, 2, 2), np.int32), np.zeros(3, np.int32))
    with pytest.raises(TypeError):
        scale_indexes(np.zeros((4, 2, 2), np.complex64), np.zeros(4, np.int32))


def test_int64_path_for_huge_activations_is_exact():
    """Inputs near the +-2^18 limit push sums past 2^53: the int64 kernel must take over, exactly."""
    M = 16
    torch.manual_seed(1)
    h_s = nn.Sequential(nn.Conv2d(64, 2 * M, 5, padding=2))
    model = IntHyperSynthesis.from_module(h_s, M)
    rng = np.random.default_rng(0)
    z = rng.integers(-(2**18), 2**18 + 1, (64, 6, 7)).astype(np.int32)
    layer = model.layers[0]
    l1 = np.abs(layer["weight_q"].astype(np.int64)).reshape(2 * M, -1).sum(1).max()
    assert float(l1) * 2**30 > 2**53  # the float64 kernel would not be exact here
    xp = np.pad(z.astype(np.int64) * 4096, ((0, 0), (2, 2), (2, 2)))
    acc = np.zeros((2 * M, 6, 7), np.int64)
    for ky in range(5):
        for kx in range(5):
            acc += np.einsum("oi,ihw->ohw", layer["weight_q"][:, :, ky, kx].astype(np.int64), xp[:, ky:ky + 6, kx:kx + 7])
    acc += layer["bias_q"][:, None, None]
    shift = layer["shift"].astype(np.int64)
    shift[M:] += 4
    shift = shift[:, None, None]
    ref = np.clip((acc + (np.int64(1) << (shift - 1))) >> shift, -ACT_LIMIT, ACT_LIMIT)
    for simd in (True, False):
        previous = cpu.set_isa("auto" if simd else "portable")
        try:
            mu, sig = model.run(z, threads=2)
        finally:
            cpu.set_isa(previous)
        np.testing.assert_array_equal(mu, ref[:M])
        np.testing.assert_array_equal(sig, ref[M:])


def test_round_half_up_on_exact_ties():
    """Hand-built layer whose results are exact ties: round half up means floor(x + 1/2), also below 0."""
    core = _core.IntHyperSynthesis()
    # 1x1 conv, 1 -> 2 channels (M = 1), w_q = 1, shift 13: mu = z * 4096 / 2^13 = z / 2 (ties for odd z);
    # log2sigma uses shift 13 + 4: z * 4096 / 2^17 = z / 32 (ties for z = 16 mod 32)
    core.add_layer(False, np.ones((2, 1, 1, 1), np.int32), np.zeros(2, np.int64), np.full(2, 13, np.int32),
                   (1, 1), (0, 0), (0, 0), False)
    z = np.arange(-70, 71, dtype=np.int32).reshape(1, 1, -1)
    mu, sig = core.run(z, 1, 1)
    np.testing.assert_array_equal(mu[0, 0], np.floor(z[0, 0] / 2 + 0.5).astype(np.int32))
    np.testing.assert_array_equal(sig[0, 0], np.floor(z[0, 0] / 32 + 0.5).astype(np.int32))
    assert mu[0, 0, 69] == 0 and mu[0, 0, 71] == 1  # z = -1 -> -0.5 -> 0 ; z = 1 -> 0.5 -> 1


def test_step_q_from_log2():
    from jpegai_fast.core.intpath import POW2_Q40, step_q_from_log2

    L = np.arange(-20 * 256, 18 * 256 + 1, 7, dtype=np.int32)
    step = step_q_from_log2(L)
    ref = np.maximum(np.floor(2.0 ** (L / 256.0) * 4096 + 0.5), 1)
    # the 41-bit table is far more precise than Q12: equal to the float64 reference here
    np.testing.assert_array_equal(step, ref)
    np.testing.assert_array_equal(step_q_from_log2(np.array([0, 256, -256, 512 * 3], np.int32)), [4096, 8192, 2048, 262144])
    assert POW2_Q40[0] == 2**40 and abs(POW2_Q40[128] - 2**0.5 * 2**40) <= 1
    # every quantisation step derives from this table: pin it, so a platform that built it
    # differently fails here instead of writing streams other machines decode wrongly
    digest = hashlib.sha256(POW2_Q40.astype("<i8").tobytes()).hexdigest()
    assert digest == "e6184d90323c51f1bbaa740ff2f460549aa5400921ad6f4ff23126fc9b07106f"
    assert step.dtype == np.int32 and np.all(np.diff(step) >= 0)
    with pytest.raises(ValueError):
        step_q_from_log2(np.array([18 * 256 + 1], np.int32))


def test_pow2_literals_match_their_decimal_derivation():
    import decimal

    from jpegai_fast.core.pow2_q40 import POW2_Q40
    ctx = decimal.Context(prec=50, rounding=decimal.ROUND_HALF_EVEN)
    for i in range(256):
        v = ctx.power(decimal.Decimal(2), ctx.divide(decimal.Decimal(i), decimal.Decimal(256))) * (1 << 40)
        assert POW2_Q40[i] == int(v.to_integral_value(rounding=decimal.ROUND_HALF_UP)), i
