"""Gaussian-conditional coding throughput: jpegai_fast vs CompressAI 1.2.8 rANS and constriction.

Workload (issue 2): symbols from N(0, sigma), sigma log-uniform in [0.11, 64], one scale index
per element, at Kodak latent size (192x32x48) and 8K latent size (192x270x480).
Run: see docs/benchmarks.md (bench/make_table.py turns the JSON into the table).
"""
import numpy as np
import pytest

from jpegai_fast.core import rans

from coder_peers import available_peers

SIZES = {"kodak": (192, 32, 48), "8k": (192, 270, 480)}
ROUNDS = {"kodak": 9, "8k": 3}
_cache = {}


def workload(size):
    if size not in _cache:
        _cache.clear()  # keep one size in memory at a time
        rng = np.random.default_rng(2024)
        sigma = np.exp(rng.uniform(np.log(0.11), np.log(64.0), size=SIZES[size]))
        symbols = np.round(rng.normal(0.0, sigma)).astype(np.int32)
        _cache[size] = (symbols, rans.scale_index(sigma))
    return _cache[size]


class JpegaiFast:
    def __init__(self, threads):
        self.threads = threads
        self.name = f"jpegai_fast-{threads}t"

    def prepare(self, symbols, indexes):
        return symbols, indexes

    def encode(self, prepared):
        return rans.encode_gaussian(*prepared, threads=self.threads)

    def decode(self, data, prepared):
        return rans.decode_gaussian(data, prepared[1], threads=self.threads)


CODERS = {c.name: c for c in [JpegaiFast(1), JpegaiFast(2)] + available_peers()}
NAMES = ["jpegai_fast-1t", "jpegai_fast-2t", "compressai-1.2.8", "constriction-gaussian",
         "constriction-grouped"]


def _coder(name):
    if name not in CODERS:
        pytest.skip(f"{name} is not installed")
    return CODERS[name]


@pytest.mark.parametrize("size", list(SIZES))
@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("op", ["encode", "decode"])
def test_gaussian_throughput(benchmark, op, name, size):
    c = _coder(name)
    symbols, indexes = workload(size)
    prepared = c.prepare(symbols, indexes)
    data = c.encode(prepared)
    benchmark.group = f"{size} {op}"
    benchmark.extra_info.update(symbols=int(symbols.size), coder=name, size=size, op=op)
    if op == "encode":
        data = benchmark.pedantic(c.encode, args=(prepared,), rounds=ROUNDS[size], warmup_rounds=1)
    else:
        out = benchmark.pedantic(c.decode, args=(data, prepared), rounds=ROUNDS[size], warmup_rounds=1)
        expected = prepared[0] if isinstance(prepared[0], np.ndarray) else np.asarray(prepared[0])
        np.testing.assert_array_equal(np.asarray(out).reshape(expected.shape), expected)
    nbytes = len(data) if isinstance(data, (bytes, str)) else np.asarray(data).nbytes
    benchmark.extra_info["bytes"] = int(nbytes)
