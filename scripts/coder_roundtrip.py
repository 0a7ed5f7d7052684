"""Demo (coder only): entropy-code a Kodak-size latent.

Draws a synthetic latent the size of a Kodak image's (192 x 32 x 48) with per-element scales
log-uniform in [0.11, 64] quantisation steps, codes it with the Gaussian conditional, decodes it
back, and prints size against the ideal information content and the coding throughput.
Run: ``python scripts/coder_roundtrip.py``.
"""
import time

import numpy as np

from jpegai_fast.core import rans


def main(seed: int = 0) -> None:
    rng = np.random.default_rng(seed)
    sigma = np.exp(rng.uniform(np.log(0.11), np.log(64.0), size=(192, 32, 48)))
    symbols = np.round(rng.normal(0.0, sigma)).astype(np.int32)
    indexes = rans.scale_index(sigma)

    rans.encode_gaussian(symbols[:1], indexes[:1])  # builds the tables once
    t0 = time.perf_counter()
    data = rans.encode_gaussian(symbols, indexes)
    t1 = time.perf_counter()
    decoded = rans.decode_gaussian(data, indexes)
    t2 = time.perf_counter()
    if not np.array_equal(decoded, symbols):
        raise SystemExit("round trip FAILED")

    ideal = rans.gaussian_bits(symbols, indexes) / 8
    n = symbols.size
    print(f"latent {symbols.shape}: {n} symbols -> {len(data)} bytes "
          f"({8 * len(data) / n:.3f} bit/symbol), ideal {ideal:.0f} bytes "
          f"(+{100 * (len(data) / ideal - 1):.3f}%)")
    print(f"encode {n / (t1 - t0) / 1e6:.0f} M symbols/s, decode {n / (t2 - t1) / 1e6:.0f} M symbols/s "
          f"(single call, all cores); round trip OK")


if __name__ == "__main__":
    main()
