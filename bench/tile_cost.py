"""The rate and PSNR cost of tiles on Kodak (docs/benchmarks.md, "The cost of tiles").

Tiles change the hyper-latent and the context borders, so their cost is reported as bytes and PSNR
side by side with the one-tile stream.

  PYTHONPATH=$PWD python -P bench/tile_cost.py --images 1 4 7 23 --tile-size 16
"""
from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

import jpegai_fast
from jpegai_fast.files.images import read_image

KODAK = Path(__file__).resolve().parents[1] / ".." / "shared" / "datasets" / "kodak"


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    mse = np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2)
    return float(10 * np.log10(255.0 ** 2 / max(mse, 1e-12)))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--images", type=int, nargs="+", default=[1, 4, 7, 23])
    ap.add_argument("--quality", type=float, default=50.0)
    ap.add_argument("--tile-size", type=int, default=16)
    args = ap.parse_args()
    for n in args.images:
        img = read_image(KODAK / f"kodim{n:02d}.png")
        single = jpegai_fast.encode(img, quality=args.quality)
        tiled = jpegai_fast.encode(img, quality=args.quality, tile_size=args.tile_size)
        print(f"kodim{n:02d} one tile {len(single)} B {psnr(img, jpegai_fast.decode(single)):.2f} dB | "
              f"tile {args.tile_size}: {100 * (len(tiled) / len(single) - 1):+.2f}% bytes, "
              f"{psnr(img, jpegai_fast.decode(tiled)):.2f} dB", flush=True)


if __name__ == "__main__":
    main()
