"""Real-stream cost of the int16 hyper-synthesis (format version 6) against the exact arithmetic of
version 5: the same images, qualities and encoder, only the hyper-synthesis' arithmetic differs.

    PYTHONPATH=$PWD python -P bench/int16_hyper_rd.py --images 1 2 3 4 5 6 7 8 --threads 2

Prints bytes and PSNR per image and quality, and the BD-rate of version 6 against version 5.
"""
from __future__ import annotations

import argparse
from pathlib import Path
from unittest import mock

import numpy as np
from PIL import Image

import jpegai_fast
from jpegai_fast.eval.bdrate import bd_rate
from jpegai_fast.eval.metrics import psnr_rgb
from jpegai_fast.runtime.engine import Engine

KODAK = Path(__file__).resolve().parents[1].parent / "shared" / "datasets" / "kodak"


def rd(arr: np.ndarray, quality: float, threads: int, version: int) -> tuple[int, float]:
    """(bytes, PSNR) of an encode and decode whose hyper-synthesis runs ``version``'s arithmetic."""
    hyper = Engine.hyper
    with mock.patch.object(Engine, "hyper", lambda self, z, t, v=version: hyper(self, z, t, version)):
        data = jpegai_fast.encode(arr, quality=quality, threads=threads)
        return len(data), psnr_rgb(arr, jpegai_fast.decode(data, threads=threads))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--kodak", type=Path, default=KODAK)
    ap.add_argument("--images", type=int, nargs="+", default=[1, 2, 3, 4, 5, 6, 7, 8])
    ap.add_argument("--qualities", type=float, nargs="+", default=[20, 40, 60, 80, 95])
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    bds = []
    for i in args.images:
        arr = np.asarray(Image.open(args.kodak / f"kodim{i:02d}.png").convert("RGB"))
        px = arr.shape[0] * arr.shape[1]
        curves = {5: ([], []), 6: ([], [])}
        for q in args.qualities:
            row = []
            for version in (5, 6):
                n, p = rd(arr, q, args.threads, version)
                curves[version][0].append(8 * n / px)
                curves[version][1].append(p)
                row.append(f"v{version} {n:7d} B {p:6.2f} dB")
            print(f"kodim{i:02d} q{q:g}: " + "  ".join(row), flush=True)
        bds.append(bd_rate(*curves[5], *curves[6]))
        print(f"kodim{i:02d}: BD-rate of version 6 against version 5 {bds[-1]:+.3f} %", flush=True)
    print(f"mean BD-rate of version 6 against version 5 over {len(bds)} images: {np.mean(bds):+.3f} %")


if __name__ == "__main__":
    main()
