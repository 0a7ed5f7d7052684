"""Probe: what a residual (enhancement) layer could buy at the high rates, where the model saturates.

The shipped model's RD curve flattens near its no-quantisation ceiling (docs/training.md), so above
~1 bpp extra bits buy little. This probe codes the image with jpegai_fast at a base rate, then the
residual x - x_base (offset by 128) with JPEG 2000 (the anchors' OpenJPEG adapter, a stand-in for a
residual coder of our own: it was not designed for residuals, so the gain it shows is a lower bound), and compares
base + residual with the model alone and JPEG 2000 alone at the same total rate. Real bytes, PSNR-RGB.

  python -P scripts/residual_layer_probe.py ../shared/datasets/kodak/kodim{01,04,13,23}.png
"""
from __future__ import annotations

import argparse

import numpy as np

import jpegai_fast
from jpegai_fast.eval.codecs import get_codec
from jpegai_fast.eval.metrics import psnr_rgb
from jpegai_fast.files.images import read_image

JPEG2000 = get_codec("jpeg2000")      # the anchors' adapter: knob = requested bpp


def jpeg2000(img: np.ndarray, bpp: float) -> tuple[int, np.ndarray]:
    """(bytes, decoded) of the anchors' JPEG 2000 at ``bpp``."""
    data = JPEG2000.encode(img, bpp)
    return len(data), JPEG2000.decode(data)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("images", nargs="+")
    ap.add_argument("--totals", default="1.0,1.5,2.0", help="total rates in bpp")
    ap.add_argument("--bases", default="0.5,0.75,1.0", help="the model's base rates in bpp")
    args = ap.parse_args()
    totals = [float(v) for v in args.totals.split(",")]
    bases = [float(v) for v in args.bases.split(",")]
    for path in args.images:
        x = read_image(path)
        px = x.shape[0] * x.shape[1]
        for total in totals:
            n, y = jpeg2000(x, total)
            cells = [f"{path.rsplit('/', 1)[-1]} at {total} bpp: jpeg2000 {8 * n / px:.3f}/{psnr_rgb(x, y):.2f}"]
            s = jpegai_fast.encode(x, bpp=total)
            cells.append(f"model {8 * len(s) / px:.3f}/{psnr_rgb(x, jpegai_fast.decode(s)):.2f}")
            for base in (b for b in bases if b < total):
                s = jpegai_fast.encode(x, bpp=base)
                xb = jpegai_fast.decode(s).astype(np.int32)
                bb = 8 * len(s) / px
                n, r = jpeg2000(np.clip(x - xb + 128, 0, 255).astype(np.uint8), total - bb)
                xr = np.clip(xb + r.astype(np.int32) - 128, 0, 255).astype(np.uint8)
                cells.append(f"base {bb:.2f} + residual {8 * n / px:.2f} = {bb + 8 * n / px:.3f}/{psnr_rgb(x, xr):.2f}")
            print(" | ".join(cells), flush=True)


if __name__ == "__main__":
    main()
