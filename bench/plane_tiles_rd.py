"""Rate-controlled RD of the graphics images with and without plane tiles (issue 32 item 3, docs/benchmarks.md
"Plane tiles"): ``encode(img, bpp=target)`` at the JPEG AI rates, the real decode's PSNR-RGB, and the
BD-rate against WebP's points in docs/graphics_anchors/results.csv (the eval's knob search, same rates).

  PYTHONPATH=$PWD python -P bench/plane_tiles_rd.py [--without | --no-palettes] [--image frymire.png]
  # ~8 min on 2 cores (artificial: ~1 min/rate)

``--without`` turns the per-tile choice off (no tile is a candidate), which is the encoder before it;
``--no-palettes`` keeps the choice (and the fill of a size target) but weighs no palette tile. An exact
decode counts as eval.metrics.EXACT_DB. Our points keep to <= the target (the codec's own rate control);
the anchors' to <= 1.1 x the target.
"""
from __future__ import annotations

import argparse
import csv
import time
import warnings
from pathlib import Path

import numpy as np
from PIL import Image

import jpegai_fast
from jpegai_fast.encoder import tile_choice
from jpegai_fast.eval.bdrate import bd_rate
from jpegai_fast.eval.metrics import EXACT_DB
from jpegai_fast.eval.ratesearch import JPEG_AI_RATES

ROOT = Path(__file__).resolve().parents[1]
GRAPHICS = ROOT / ".." / "shared" / "datasets" / "graphics"
IMAGES = ("artificial.png", "frymire.png")


def _webp(name: str) -> tuple[list[float], list[float]]:
    rows = [r for r in csv.DictReader(open(ROOT / "docs" / "graphics_anchors" / "results.csv"))
            if r["image"] == name and r["codec"] == "webp" and r["bpp"]]
    points = sorted({(float(r["bpp"]), float(r["psnr_rgb"])) for r in rows})
    return [p[0] for p in points], [p[1] for p in points]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--without", action="store_true", help="no plane tiles (the encoder before them)")
    ap.add_argument("--no-palettes", action="store_true", help="plane tiles without the palette candidates")
    ap.add_argument("--image", action="append", choices=IMAGES, help="only this image (repeatable)")
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    if args.without:
        tile_choice.TILE_DRAWN_SHARE = 2.0
    if args.no_palettes:
        tile_choice.TileChoice._palette_sizes = lambda self, i: ()
    bds = []
    print("| image | target bpp | bpp | PSNR-RGB dB | plane tiles / tiles | encode s |")
    print("| --- | ---: | ---: | ---: | --- | ---: |")
    for name in args.image or IMAGES:
        img = np.asarray(Image.open(GRAPHICS / name).convert("RGB"))
        h, w = img.shape[:2]
        points = []
        for target in JPEG_AI_RATES:
            start = time.perf_counter()
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)      # a target beyond what the codec reaches
                data = jpegai_fast.encode(img, bpp=target, threads=args.threads)
            seconds = time.perf_counter() - start
            out = jpegai_fast.decode(data, threads=args.threads)
            mse = float(np.mean((out.astype(np.float64) - img) ** 2))
            db = EXACT_DB if mse == 0 else min(EXACT_DB, 10 * np.log10(255 ** 2 / mse))
            info = jpegai_fast.info(data)
            points.append((len(data) * 8 / (h * w), db))
            tiles = f"{len(info['plane_tiles'])} / {info['tiles']}" if not info["lossless"] and not info["max_error"] \
                else "model-free"
            print(f"| {name} | {target} | {points[-1][0]:.3f} | {db:.2f} | {tiles} | {seconds:.1f} |", flush=True)
        rate, quality = zip(*sorted(set(points)))
        bds.append(bd_rate(*_webp(name), rate, quality))
        print(f"\n{name}: BD-rate against WebP {bds[-1]:+.1f} %\n")
    print(f"mean of the two: {sum(bds) / len(bds):+.2f} %")


if __name__ == "__main__":
    main()
