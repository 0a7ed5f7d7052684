"""Whole-codec speed on a Kodak image: jpegai_fast vs CompressAI 1.2.8 in the same run (2 threads).

Peers: bmshj2018_hyperprior (no context model) and mbt2018 (autoregressive context), quality 3,
random weights (no network to fetch pretrained ones; timing is dominated by the transforms and,
for mbt2018, by its serial context loop, neither of which depends on the weight values).
Run: PYTHONPATH=$PWD python -P -m pytest bench/test_bench_codec.py --benchmark-only
     --benchmark-group-by=group --benchmark-json=bench/results/codec.json
"""
from pathlib import Path

import pytest
import torch

import jpegai_fast
from jpegai_fast.tools.demo import synthetic_image
from jpegai_fast.files.images import read_image

from compressai_shim import import_compressai

KODAK = Path(__file__).resolve().parents[1] / ".." / "shared" / "datasets" / "kodak" / "kodim23.png"
THREADS = 2


@pytest.fixture(scope="module")
def image():
    torch.set_num_threads(THREADS)
    return read_image(KODAK) if KODAK.exists() else synthetic_image(512, 768)


def _peer(name):
    cai = import_compressai()
    if cai is None:
        pytest.skip("compressai is not installed")
    from compressai.zoo import bmshj2018_hyperprior, mbt2018
    net = {"bmshj2018_hyperprior": bmshj2018_hyperprior, "mbt2018": mbt2018}[name](quality=3, pretrained=False)
    net.eval().update()
    return net


def _tensor(img):
    return torch.from_numpy(img).permute(2, 0, 1).float().div(255).unsqueeze(0)


@pytest.mark.parametrize("name", ["bmshj2018_hyperprior", "mbt2018"])
def test_compressai_encode(benchmark, image, name):
    benchmark.group = "kodak-encode"
    net, x = _peer(name), _tensor(image)
    with torch.no_grad():
        benchmark.pedantic(net.compress, args=(x,), rounds=1 if name == "mbt2018" else 3, warmup_rounds=1)


@pytest.mark.parametrize("name", ["bmshj2018_hyperprior", "mbt2018"])
def test_compressai_decode(benchmark, image, name):
    benchmark.group = "kodak-decode"
    net, x = _peer(name), _tensor(image)
    with torch.no_grad():
        out = net.compress(x)
        benchmark.pedantic(net.decompress, args=(out["strings"], out["shape"]),
                           rounds=1 if name == "mbt2018" else 3, warmup_rounds=0)


@pytest.mark.parametrize("knob", [{"quality": 50}, {"bpp": 0.5}], ids=["quality50", "bpp0.5"])
def test_jpegai_fast_encode(benchmark, image, knob):
    benchmark.group = "kodak-encode"
    jpegai_fast.encode(image, threads=THREADS, **knob)        # load the model once
    benchmark.pedantic(jpegai_fast.encode, args=(image,), kwargs=dict(threads=THREADS, **knob), rounds=3)


def test_jpegai_fast_decode(benchmark, image):
    benchmark.group = "kodak-decode"
    data = jpegai_fast.encode(image, quality=50, threads=THREADS)
    jpegai_fast.decode(data, threads=THREADS)
    out = benchmark.pedantic(jpegai_fast.decode, args=(data,), kwargs=dict(threads=THREADS), rounds=3)
    assert out.shape == image.shape


@pytest.mark.parametrize("effort", [1, 4])
def test_jpegai_fast_encode_effort(benchmark, image, effort):
    """One encode at quality 50 per effort level (effort 4: 35 SGA iterations); compare within the group."""
    benchmark.group = "kodak-encode-effort"
    benchmark.pedantic(jpegai_fast.encode, args=(image,), kwargs={"quality": 50, "effort": effort, "threads": THREADS},
                       rounds=1 if effort > 1 else 3, warmup_rounds=1)
