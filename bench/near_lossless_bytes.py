"""Near-lossless bytes and speed (issue 32 item 2): jpegai_fast's ``max_error=N`` against JPEG-LS's NEAR = N
(CharLS through imagecodecs, the standard near-lossless codec), on Kodak 1-6 and
../shared/datasets/graphics/*.png, for N = 1, 2, 4.

Every decode is checked against the bound. Times on one thread, the two codecs in the same run (encode
once, decode best of three, taking turns), reported as jpegai_fast / JPEG-LS ratios.

  PYTHONPATH=$PWD python -P bench/near_lossless_bytes.py [--bounds 1 2 4]
"""
from __future__ import annotations

import argparse

import imagecodecs
import numpy as np

import jpegai_fast
from bench.lossless_bytes import _timed, images


def _psnr(a: np.ndarray, b: np.ndarray) -> float:
    mse = np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2)
    return float(10 * np.log10(255.0 ** 2 / max(mse, 1e-12)))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bounds", type=int, nargs="+", default=[1, 2, 4])
    args = ap.parse_args()
    imgs = images(with_screens=False)
    for near in args.bounds:
        ours = peer = 0
        enc_ratio, dec_ratio = [], []
        for name, img in imgs.items():
            img = img[..., :3] if img.ndim == 3 else img
            a, ta = _timed(lambda: jpegai_fast.encode(img, max_error=near, threads=1), 1)
            b, tb = _timed(lambda: imagecodecs.jpegls_encode(img, level=near), 1)
            da, tda = _timed(lambda: jpegai_fast.decode(a, threads=1), 3)
            db, tdb = _timed(lambda: imagecodecs.jpegls_decode(b), 3)
            for out in (da, db):
                assert np.abs(out.astype(np.int64) - img).max() <= near, name
            ours, peer = ours + len(a), peer + len(b)
            enc_ratio.append(ta / tb)
            dec_ratio.append(tda / tdb)
            print(f"N={near} {name:12s} jpegai_fast {len(a):9d} B {_psnr(img, da):6.2f} dB   JPEG-LS {len(b):9d} B "
                  f"{_psnr(img, db):6.2f} dB   {100 * (len(a) / len(b) - 1):+6.1f} %", flush=True)
        print(f"N={near} total jpegai_fast {ours} B, JPEG-LS {peer} B: {100 * (ours / peer - 1):+.1f} %; "
              f"time ratio (median) encode {np.median(enc_ratio):.2f}x, decode {np.median(dec_ratio):.2f}x", flush=True)


if __name__ == "__main__":
    main()
