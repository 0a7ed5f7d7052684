"""PSNR per progressive layer and the rate cost of layers and tiles on Kodak (docs/benchmarks.md).

The full layered stream decodes exactly like the single-layer one, so the rate cost of layering at
equal quality is just the byte overhead (that is also its BD-rate). Tiles change the hyper-latent
and the context borders, so their cost is reported as bytes and PSNR side by side.

  PYTHONPATH=$PWD python -P bench/progressive_kodak.py --images 1 2 3 4 --layers 4
  PYTHONPATH=$PWD python -P bench/progressive_kodak.py --bd --images $(seq 1 24) --layers 4

``--bd``: BD-rate (PSNR-RGB) of the layered streams against the single-layer ones over a quality
sweep, on the mean curves and per image.
"""
from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

import jpegai_fast
from jpegai_fast.api import layer_chunks
from jpegai_fast.files.images import read_image

KODAK = Path(__file__).resolve().parents[1] / ".." / "shared" / "datasets" / "kodak"


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    mse = np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2)
    return float(10 * np.log10(255.0 ** 2 / max(mse, 1e-12)))


def layering_bd_rate(images: list[int], qualities: list[float], layers: int) -> None:
    from jpegai_fast.eval.bdrate import bd_rate
    curves = {"single": [], "layered": [], "psnr": []}
    per_image = []
    for n in images:
        img = read_image(KODAK / f"kodim{n:02d}.png")
        px = img.shape[0] * img.shape[1]
        single, layered, quality = [], [], []
        for q in qualities:
            data = jpegai_fast.encode(img, quality=q)
            single.append(8 * len(data) / px)
            layered.append(8 * len(jpegai_fast.encode(img, quality=q, layers=layers)) / px)
            quality.append(psnr(img, jpegai_fast.decode(data)))   # the full layered stream decodes identically
        per_image.append(bd_rate(single, quality, layered, quality))
        for key, v in (("single", single), ("layered", layered), ("psnr", quality)):
            curves[key].append(v)
        print(f"kodim{n:02d}: BD-rate of {layers} layers {per_image[-1]:+.2f}%; overhead per point "
              + " ".join(f"{100 * (b / a - 1):+.1f}%" for a, b in zip(single, layered)), flush=True)
    mean = {k: np.mean(v, axis=0) for k, v in curves.items()}
    print(f"mean curves: bpp {np.round(mean['single'], 3).tolist()}, PSNR {np.round(mean['psnr'], 2).tolist()}")
    print(f"BD-rate of {layers} layers vs single layer: {bd_rate(mean['single'], mean['psnr'], mean['layered'], mean['psnr']):+.2f}% "
          f"(mean curves), {np.mean(per_image):+.2f}% (mean of per-image), max {np.max(per_image):+.2f}%")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--images", type=int, nargs="+", default=[1, 2, 3, 4])
    ap.add_argument("--layers", type=int, default=4)
    ap.add_argument("--quality", type=float, default=50.0)
    ap.add_argument("--size-qualities", type=float, nargs="*", default=[20.0, 80.0])
    ap.add_argument("--tile-size", type=int, default=16)
    ap.add_argument("--bd", action="store_true", help="BD-rate of layering over a quality sweep instead")
    ap.add_argument("--bd-qualities", type=float, nargs="+", default=[0, 15, 30, 45, 60, 75, 90, 100])
    args = ap.parse_args()
    if args.bd:
        layering_bd_rate(args.images, args.bd_qualities, args.layers)
        return
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
