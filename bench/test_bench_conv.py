"""Float conv engine (csrc/conv) vs torch's CPU execution of the same transform, same input, same run.

Run: PYTHONPATH=$PWD python -P -m pytest bench/test_bench_conv.py --benchmark-only -q -k kodak
(``-k 8k`` for 7680x4320: one round each, tens of seconds and ~10 GB peak for torch's synthesis).
Both sides use THREADS threads (torch.set_num_threads / run(threads=...)). Model: the shipped
weights (jpegai_fast/weights/light.npz) when present, else the 'light' architecture with random
weights (speed does not depend on the values). Group names pair each torch run with ours; the
ratio is the torch mean over ours.
"""
import numpy as np
import pytest
import torch

from jpegai_fast.core.conv import CpuAnalysis, CpuSynthesis
from jpegai_fast.core.cpu import isa as conv_isa
from jpegai_fast.model.codec import Codec, get_config
from jpegai_fast.model.weights import SHIPPED_PROFILE, WEIGHTS_DIR, load_model

THREADS = 2
SIZES = {"kodak": (512, 768), "8k": (4320, 7680)}


def model():
    if (WEIGHTS_DIR / f"{SHIPPED_PROFILE}.npz").is_file():
        return load_model()
    torch.manual_seed(0)
    return Codec(get_config("light")).eval()


def rounds(size):
    return dict(rounds=5, iterations=1, warmup_rounds=1) if size == "kodak" else dict(rounds=1, iterations=1)


def inputs(size, m):
    H, W = SIZES[size]
    rng = np.random.default_rng(0)
    y = (rng.standard_normal((m.config.M, H // 16, W // 16)) * 3).astype(np.float32)
    x = rng.random((3, H, W), dtype=np.float32)
    return y, x


@pytest.mark.parametrize("size", list(SIZES))
@pytest.mark.parametrize("engine", ["torch", "ours"])
def test_synthesis(benchmark, size, engine):
    m = model()
    y, _ = inputs(size, m)
    benchmark.group = f"g_s {size}"
    benchmark.extra_info.update(threads=THREADS, isa=conv_isa(), shape=list(y.shape))
    if engine == "torch":
        torch.set_num_threads(THREADS)
        yt = torch.from_numpy(y)[None]

        def run():
            with torch.no_grad():
                return m.g_s(yt)
        benchmark.pedantic(run, **rounds(size))
    else:
        syn = CpuSynthesis.from_module(m.g_s)
        out = benchmark.pedantic(syn.run, args=(y,), kwargs=dict(threads=THREADS), **rounds(size))
        assert out.shape == (3, 16 * y.shape[1], 16 * y.shape[2])


@pytest.mark.parametrize("size", list(SIZES))
@pytest.mark.parametrize("engine", ["torch", "ours"])
def test_analysis(benchmark, size, engine):
    m = model()
    _, x = inputs(size, m)
    benchmark.group = f"g_a {size}"
    benchmark.extra_info.update(threads=THREADS, isa=conv_isa(), shape=list(x.shape))
    if engine == "torch":
        torch.set_num_threads(THREADS)
        xt = torch.from_numpy(x)[None]

        def run():
            with torch.no_grad():
                return m.g_a(xt)
        benchmark.pedantic(run, **rounds(size))
    else:
        ana = CpuAnalysis.from_module(m.g_a)
        out = benchmark.pedantic(ana.run, args=(x,), kwargs=dict(threads=THREADS), **rounds(size))
        assert out.shape == (m.config.M, x.shape[1] // 16, x.shape[2] // 16)
