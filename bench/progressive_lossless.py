"""Progressive-to-lossless streams against the plain lossless stream (issue 32 item 2).

Per image: the plain lossless stream's bytes, then the progressive-to-lossless stream with the default
preview (``encode(lossless=True, layers=2)``: quality 30 held to 2 % of the exact stream) and at each base
quality asked for (``quality=q``): its bytes and their excess over the plain stream (target <= 3 %), and its
preview, the prefix of layer 0: bytes, bpp and PSNR-RGB.
Every full decode is checked exact and every preview equal to its base's decode.

  PYTHONPATH=$PWD python -P bench/progressive_lossless.py [--qualities 30 50] [--images kodim01.png ...]
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "datasets"
DEFAULT_IMAGES = [DATA / "kodak" / f"kodim{k:02d}.png" for k in range(1, 7)] + \
    [DATA / "graphics" / name for name in ("artificial.png", "frymire.png")]


def psnr_rgb(a: np.ndarray, b: np.ndarray) -> float:
    mse = np.mean((a[..., :3].astype(np.float64) - b[..., :3]) ** 2)
    return float("inf") if mse == 0 else 10 * np.log10(255.0 ** 2 / mse)


def main() -> None:
    import jpegai_fast
    from jpegai_fast.files.images import read_image
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--qualities", type=float, nargs="+", default=[30.0, 50.0])
    ap.add_argument("--images", nargs="+", default=[str(p) for p in DEFAULT_IMAGES])
    args = ap.parse_args()
    knobs = [None] + args.qualities         # None: the default preview
    totals = {"plain": 0, **{q: 0 for q in knobs}}
    names = ["default base" if q is None else f"base q{q:g}" for q in knobs]
    print("| image | lossless bytes | " + " | ".join(f"{n}: total bytes (vs lossless), preview bytes / bpp / PSNR"
                                                      for n in names) + " |")
    print("| --- | --- |" + " --- |" * len(knobs))
    for path in args.images:
        img = read_image(path)
        px = img.shape[0] * img.shape[1]
        plain = len(jpegai_fast.encode(img, lossless=True))
        totals["plain"] += plain
        cells = []
        for q in knobs:
            data = jpegai_fast.encode(img, lossless=True, layers=2, quality=q)
            if not np.array_equal(jpegai_fast.decode(data), img):
                raise AssertionError(f"{path}: not exact")
            end = jpegai_fast.info(data)["layer_ends"][0]
            preview = jpegai_fast.decode(data[:end])
            totals[q] += len(data)
            cells.append(f"{len(data):,} ({len(data) / plain * 100 - 100:+.2f} %), {end:,} B / {8 * end / px:.3f} / "
                         f"{psnr_rgb(img, preview):.2f} dB")
            print(f"{Path(path).name} {q}: {len(data)} B, plain {plain} B", file=sys.stderr, flush=True)
        print(f"| {Path(path).name} | {plain:,} | " + " | ".join(cells) + " |", flush=True)
    print(f"| all | {totals['plain']:,} | " + " | ".join(
        f"**{totals[q]:,}** ({totals[q] / totals['plain'] * 100 - 100:+.2f} %)" for q in knobs) + " |")


if __name__ == "__main__":
    main()
