"""PSNR per progressive layer and the rate cost of layers and tiles on Kodak (docs/benchmarks.md).

The full layered stream decodes exactly like the single-layer one, so the rate cost of layering at
equal quality is just the byte overhead (that is also its BD-rate). Tiles change the hyper-latent
and the context borders, so their cost is reported as bytes and PSNR side by side.

  PYTHONPATH=$PWD python -P bench/progressive_kodak.py --images 1 2 3 4 --layers 4
"""
from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

import jpegai_fast
from jpegai_fast.codec import layer_chunks
from jpegai_fast.image_files import read_image

KODAK = Path(__file__).resolve().parents[1] / ".." / "shared" / "datasets" / "kodak"


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    mse = np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2)
    return float(10 * np.log10(255.0 ** 2 / max(mse, 1e-12)))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--images", type=int, nargs="+", default=[1, 2, 3, 4])
    ap.add_argument("--layers", type=int, default=4)
    ap.add_argument("--quality", type=float, default=50.0)
    ap.add_argument("--size-qualities", type=float, nargs="*", default=[20.0, 80.0])
    ap.add_argument("--tile-size", type=int, default=16)
    args = ap.parse_args()
    for n in args.images:
        img = read_image(KODAK / f"kodim{n:02d}.png")
        px = img.shape[0] * img.shape[1]
        single = jpegai_fast.encode(img, quality=args.quality)
        layered = jpegai_fast.encode(img, quality=args.quality, layers=args.layers)
        chunks = layer_chunks(layered)
        per_layer = []
        for k in range(1, len(chunks) + 1):
            prefix = b"".join(chunks[:k])
            per_layer.append(f"{8 * len(prefix) / px:.3f} bpp / {psnr(img, jpegai_fast.decode(prefix)):.2f} dB")
        overhead = [f"q{args.quality:g}: {100 * (len(layered) / len(single) - 1):+.2f}%"]
        for q in args.size_qualities:
            a = len(jpegai_fast.encode(img, quality=q))
            b = len(jpegai_fast.encode(img, quality=q, layers=args.layers))
            overhead.append(f"q{q:g}: {100 * (b / a - 1):+.2f}%")
        tiled = jpegai_fast.encode(img, quality=args.quality, tile_size=args.tile_size)
        print(f"kodim{n:02d} single {8 * len(single) / px:.3f} bpp {psnr(img, jpegai_fast.decode(single)):.2f} dB | "
              f"layers={args.layers}: " + "; ".join(per_layer) + " | layer overhead " + ", ".join(overhead) +
              f" | tile {args.tile_size}: {100 * (len(tiled) / len(single) - 1):+.2f}% bytes, "
              f"{psnr(img, jpegai_fast.decode(tiled)):.2f} dB", flush=True)


if __name__ == "__main__":
    main()
