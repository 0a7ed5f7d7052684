"""atheris fuzz harness for every decode entry point of jpegai_fast.core.rans.

The first input bytes pick the entry point and the symbol layout; the rest is the stream.
Any exception other than DecodeError (what the core raises for a corrupt stream), any crash or hang
is a finding. Run e.g.
    python tests/fuzz/fuzz_decode.py -runs=20000 -max_total_time=60 [corpus_dir]
With --make-seeds DIR it writes valid streams as a seed corpus (mutations of valid streams
reach much deeper into the decoder than random bytes do).
"""

import atheris
import numpy as np

with atheris.instrument_imports(exclude=["numpy"]):   # numpy is not ours and slow to instrument
    from jpegai_fast import DecodeError
    from jpegai_fast.core import rans

_RNG = np.random.default_rng(0)
_CDFS, _LENGTHS = rans.pmf_to_cdf(_RNG.random((3, 12)) ** 2, tail_mass=np.full(3, 1e-3))
_OFFSETS = np.array([-6, 0, 3], np.int32)


def _layout(fdp):
    kind = fdp.ConsumeIntInRange(0, 3)
    n = fdp.ConsumeIntInRange(0, 300)
    scale = fdp.ConsumeIntInRange(0, rans.NUM_SCALES - 1)
    spread = fdp.ConsumeIntInRange(0, rans.NUM_SCALES - 1)
    return kind, n, scale, spread


def _indexes(n, scale, spread):
    return ((np.arange(n) * 7919 % (spread + 1) + scale) % rans.NUM_SCALES).astype(np.uint8)


def _valid_stream(kind, n, idx):
    rng = np.random.default_rng(n)
    if kind == 0:
        sym = np.round(rng.normal(0, rans.SCALES[idx])).astype(np.int32)
        sym[::13] = rng.integers(-(2**31), 2**31 - 1, size=sym[::13].shape)
        return rans.encode_gaussian(sym, idx)
    sym = rng.integers(-8, 18, size=(3, n // 3)).astype(np.int32)
    return rans.encode_cdf(sym, _CDFS, _LENGTHS, _OFFSETS)


def TestOneInput(data: bytes):
    fdp = atheris.FuzzedDataProvider(data)
    kind, n, scale, spread = _layout(fdp)
    idx = _indexes(n, scale, spread)
    if kind >= 2:
        # Damage a valid stream: truncate/extend it and XOR the rest of the input over it.
        kind -= 2
        stream = bytearray(_valid_stream(kind, n, idx))
        cut = fdp.ConsumeIntInRange(0, len(stream) + 8)
        at = fdp.ConsumeIntInRange(0, max(len(stream) - 1, 0))
        stream = stream[:cut] + bytes(max(0, cut - len(stream)))
        for i, b in enumerate(fdp.ConsumeBytes(64)):
            if at + i < len(stream):
                stream[at + i] ^= b
        stream = bytes(stream)
    else:
        stream = fdp.ConsumeBytes(fdp.remaining_bytes())
    try:
        if kind == 0:
            out = rans.decode_gaussian(stream, idx, threads=2)
            assert out.shape == (n,) and out.dtype == np.int32
        else:
            out = rans.decode_cdf(stream, _CDFS, _LENGTHS, _OFFSETS, n // 3, threads=2)
            assert out.shape == (3, n // 3)
    except DecodeError:
        pass


def make_seeds(directory):
    """Valid streams, prefixed with the layout bytes the harness consumes."""
    import os

    os.makedirs(directory, exist_ok=True)
    for i, n in enumerate([0, 1, 17, 120, 300]):
        for kind in (0, 1):
            scale, spread = (i * 13) % 76, (i * 29) % 76
            # FuzzedDataProvider takes ints from the END of the data, little-endian bytes.
            if kind == 0:
                idx = _indexes(n, scale, spread)
                sym = _RNG.integers(-40, 40, size=n).astype(np.int32)
                sym[::11] = 2**31 - 1
                stream = rans.encode_gaussian(sym, idx)
            else:
                sym = _RNG.integers(-8, 18, size=(3, n // 3)).astype(np.int32)
                stream = rans.encode_cdf(sym, _CDFS, _LENGTHS, _OFFSETS)
            tail = bytes([spread, scale, n & 0xFF, n >> 8, kind])
            with open(os.path.join(directory, f"seed_{kind}_{i}"), "wb") as f:
                f.write(stream + tail)


if __name__ == "__main__":
    from harness import main        # tests/fuzz/ is the script's folder, first on sys.path
    main(TestOneInput, make_seeds)
