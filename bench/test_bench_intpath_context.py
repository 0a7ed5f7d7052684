"""Benchmarks of the integer hyper-synthesis and the wavefront context model (pytest-benchmark).

Run: PYTHONPATH=$PWD python -P -m pytest bench/test_bench_intpath_context.py --benchmark-only -q
(add ``-k kodak`` for the quick ones; the 8K cases take tens of seconds per round).
Sizes: Kodak latent (M=192, 32x48, z 8x12) and 8K latent (M=192, 270x480, z 68x120), 2 threads.
h_s: ConvT(192->192, 5, s2) ReLU ConvT(192->288, 5, s2) ReLU Conv(288->384, 3), a typical
mean-scale hyper-synthesis; random weights (speed does not depend on the values).
"""
import numpy as np
import pytest
import torch
import torch.nn as nn

from jpegai_fast.core.wavefront import ContextModel
from jpegai_fast.core.intpath import IntHyperSynthesis, scale_indexes

M, CZ, N = 192, 192, 192
THREADS = 2
SIZES = {"kodak": (32, 48), "8k": (270, 480)}


def make_hyper():
    torch.manual_seed(0)
    return nn.Sequential(
        nn.ConvTranspose2d(CZ, N, 5, stride=2, padding=2, output_padding=1), nn.ReLU(),
        nn.ConvTranspose2d(N, N * 3 // 2, 5, stride=2, padding=2, output_padding=1), nn.ReLU(),
        nn.Conv2d(N * 3 // 2, 2 * M, 3, padding=1),
    )


def rounds(size):
    return dict(rounds=3, iterations=1, warmup_rounds=1) if size == "kodak" else dict(rounds=1, iterations=1)


@pytest.mark.parametrize("arith", ["exact", "int16"])   # format versions <= 5, 6
@pytest.mark.parametrize("size", list(SIZES))
def test_hyper_synthesis_int(benchmark, size, arith):
    H, W = SIZES[size]
    model = IntHyperSynthesis.from_module(make_hyper(), M, arith)
    z = np.random.default_rng(0).integers(-3, 4, (CZ, (H + 3) // 4, (W + 3) // 4)).astype(np.int32)
    mu, sig = benchmark.pedantic(model.run, args=(z,), kwargs=dict(threads=THREADS), **rounds(size))
    assert mu.shape[1] >= H and mu.shape[2] >= W


@pytest.mark.parametrize("size", list(SIZES))
def test_hyper_synthesis_torch_float(benchmark, size):
    """Reference point: the float torch module on the same input (not deterministic across machines)."""
    H, W = SIZES[size]
    h_s = make_hyper()
    torch.set_num_threads(THREADS)
    z = torch.randint(-3, 4, (1, CZ, (H + 3) // 4, (W + 3) // 4)).float()

    def run():
        with torch.no_grad():
            return h_s(z)

    benchmark.pedantic(run, **rounds(size))


@pytest.mark.parametrize("size", list(SIZES))
def test_scale_indexes(benchmark, size):
    H, W = SIZES[size]
    sig = np.random.default_rng(0).integers(-1500, 1500, (M, H, W)).astype(np.int32)
    benchmark.pedantic(scale_indexes, args=(sig, np.zeros(M, np.int32)), kwargs=dict(threads=THREADS), **rounds(size))


def context_case(size):
    H, W = SIZES[size]
    rng = np.random.default_rng(0)
    model = ContextModel(np.round(rng.normal(0, 0.05, (M, 16, 10)) * 65536).astype(np.int32), np.zeros(M, np.int32))
    mu = rng.integers(-4000, 4000, (M, H, W)).astype(np.int32)
    step = np.full(M, 4096, np.int32)
    y = rng.normal(0, 2, (M, H, W)).astype(np.float32)
    return model, mu, step, y


@pytest.mark.parametrize("threads", [1, 2])
@pytest.mark.parametrize("size", list(SIZES))
def test_context_reconstruct(benchmark, size, threads):
    model, mu, step, y = context_case(size)
    q, y_hat = model.quantise(y, mu, step, threads=threads)
    out = benchmark.pedantic(model.reconstruct, args=(q, mu, step), kwargs=dict(threads=threads), **rounds(size))
    np.testing.assert_array_equal(out, y_hat)


@pytest.mark.parametrize("size", list(SIZES))
def test_context_quantise(benchmark, size):
    model, mu, step, y = context_case(size)
    benchmark.pedantic(model.quantise, args=(y, mu, step), kwargs=dict(threads=THREADS), **rounds(size))
