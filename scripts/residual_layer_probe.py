"""Probe: what a residual (enhancement) layer could buy at the high rates, where the model saturates.

The shipped model's RD curve flattens near its no-quantisation ceiling (docs/training.md), so above
~1 bpp extra bits buy little. This probe codes the image with jpegai_fast at a base rate, then the
residual x - x_base (offset by 128) with JPEG 2000 (Pillow/OpenJPEG, a stand-in for a residual coder
of our own: it was not designed for residuals, so the gain it shows is a lower bound), and compares
base + residual with the model alone and JPEG 2000 alone at the same total rate. Real bytes, PSNR-RGB.

  python -P scripts/residual_layer_probe.py ../shared/datasets/kodak/kodim{01,04,13,23}.png
"""
from __future__ import annotations

import argparse
import io

import numpy as np
from PIL import Image

import jpegai_fast


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    return float(10 * np.log10(255 ** 2 / np.mean((a.astype(np.float64) - b) ** 2)))


def jpeg2000(img: np.ndarray, bpp: float) -> tuple[int, np.ndarray]:
    """(bytes, decoded) of OpenJPEG at ``bpp`` (its rate is a compression ratio of the 24-bit image)."""
    buf = io.BytesIO()
    Image.fromarray(img).save(buf, "JPEG2000", quality_mode="rates", quality_layers=[24 / bpp],
                              irreversible=True, mct=True)
    return len(buf.getvalue()), np.asarray(Image.open(io.BytesIO(buf.getvalue())).convert("RGB"))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("images", nargs="+")
    ap.add_argument("--totals", default="1.0,1.5,2.0", help="total rates in bpp")
    ap.add_argument("--bases", default="0.5,0.75,1.0", help="the model's base rates in bpp")
    args = ap.parse_args()
    totals = [float(v) for v in args.totals.split(",")]
    bases = [float(v) for v in args.bases.split(",")]
    for path in args.images:
        x = np.asarray(Image.open(path).convert("RGB"))
        px = x.shape[0] * x.shape[1]
        for total in totals:
            n, y = jpeg2000(x, total)
            cells = [f"{path.rsplit('/', 1)[-1]} at {total} bpp: jpeg2000 {8 * n / px:.3f}/{psnr(x, y):.2f}"]
            s = jpegai_fast.encode(x, bpp=total)
            cells.append(f"model {8 * len(s) / px:.3f}/{psnr(x, jpegai_fast.decode(s)):.2f}")
            for base in (b for b in bases if b < total):
                s = jpegai_fast.encode(x, bpp=base)
                xb = jpegai_fast.decode(s).astype(np.int32)
                bb = 8 * len(s) / px
                n, r = jpeg2000(np.clip(x - xb + 128, 0, 255).astype(np.uint8), total - bb)
                xr = np.clip(xb + r.astype(np.int32) - 128, 0, 255)
                cells.append(f"base {bb:.2f} + residual {8 * n / px:.2f} = {bb + 8 * n / px:.3f}/{psnr(x, xr):.2f}")
            print(" | ".join(cells), flush=True)


if __name__ == "__main__":
    main()
