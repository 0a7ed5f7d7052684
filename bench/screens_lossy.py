"""Lossy coding of the synthetic screenshots (bench/synthetic_screens.py) against WebP at the same size.

Per screenshot and size target: ``encode(img, bpp=t)`` (rate control; on drawn content the per-image mode
choice may return a near-lossless or exact stream, or the exact stream of the picture reduced to a palette:
encoder/mode_choice.py), its real bpp, PSNR-RGB and which coder made it; then WebP (Pillow, method 6) at the largest quality whose file is no larger, its bpp and
PSNR-RGB ("none": no WebP file that small).

  PYTHONPATH=$PWD python -P bench/screens_lossy.py [--bpp 0.25 0.5 1.0]
"""
from __future__ import annotations

import argparse
import io
import sys
from pathlib import Path

import numpy as np
from PIL import Image


def psnr_rgb(a: np.ndarray, b: np.ndarray) -> float:
    mse = np.mean((a.astype(np.float64) - b) ** 2)
    return float("inf") if mse == 0 else float(10 * np.log10(255.0 ** 2 / mse))


def webp_at_most(img: np.ndarray, nbytes: int) -> tuple[int, float] | None:
    """(bytes, PSNR) of WebP at the largest quality (bisection over 0..100) whose file has at most ``nbytes``."""
    lo, hi, best = 0, 100, None
    while lo <= hi:
        q = (lo + hi) // 2
        buf = io.BytesIO()
        Image.fromarray(img).save(buf, format="WEBP", quality=q, method=6)
        if len(buf.getvalue()) <= nbytes:
            best, lo = buf.getvalue(), q + 1
        else:
            hi = q - 1
    if best is None:
        return None
    return len(best), psnr_rgb(img, np.asarray(Image.open(io.BytesIO(best)).convert("RGB")))


def main() -> None:
    import jpegai_fast
    from jpegai_fast.format import container
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from synthetic_screens import screens
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--bpp", type=float, nargs="+", default=[0.25, 0.5, 1.0])
    args = ap.parse_args()
    print("| screenshot | target bpp | jpegai_fast bpp / PSNR (coder) | WebP bpp / PSNR |")
    print("| --- | --- | --- | --- |")
    for name, img in screens().items():
        px = img.shape[0] * img.shape[1]
        for t in args.bpp:
            data = jpegai_fast.encode(img, bpp=t)
            h = container.read(data)
            ours = psnr_rgb(img, jpegai_fast.decode(data))
            planes = jpegai_fast.info(data)["plane_tiles"]
            coder = ((f"model, {len(planes)} of {jpegai_fast.info(data)['tiles']} tiles by the planes" if planes else "model")
                     if not container.is_model_free(h) else f"near-lossless N = {h.rate_q}"
                     if not container.is_lossless(h) else "exact" if ours == float("inf") else "palette, exact")
            peer = webp_at_most(img, len(data))
            webp = "none" if peer is None else f"{8 * peer[0] / px:.3f} / {peer[1]:.2f} dB"
            print(f"| {name} | {t:g} | {8 * len(data) / px:.3f} / {ours:.2f} dB ({coder}) | {webp} |", flush=True)


if __name__ == "__main__":
    main()
