"""The README's main job: encode and decode an image at several rates with the shipped model.

python -m jpegai_fast.demo [--image PATH] [--out DIR]

Without --image it uses a Kodak image from ../shared/datasets when present, otherwise a built-in
synthetic test picture (gradients, edges, texture, text-like strokes), so it runs anywhere.
"""
from __future__ import annotations

import argparse
import time
import warnings
from pathlib import Path

import numpy as np

from . import codec
from .image_files import read_image, write_image

KODAK_DEFAULT = Path("../shared/datasets/kodak/kodim23.png")


def synthetic_image(height: int = 384, width: int = 512, seed: int = 0) -> np.ndarray:
    """A deterministic RGB test picture with smooth areas, hard edges, texture and fine lines."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
    img = np.stack([xx / width, yy / height, 0.5 + 0.5 * np.sin(xx / 23.0) * np.cos(yy / 31.0)], -1)
    disk = (xx - width * 0.3) ** 2 + (yy - height * 0.5) ** 2 < (height * 0.25) ** 2
    img[disk] = [0.9, 0.2, 0.1]
    img[height // 8:height // 3, width // 2:width - 20] = rng.random((1, 1, 3)) * 0.5
    img[height // 2:, width // 2:] += 0.15 * rng.standard_normal((height - height // 2, width - width // 2, 3))
    img[::16, :width // 2] = 0.05                        # thin lines
    return np.clip(img * 255 + 0.5, 0, 255).astype(np.uint8)


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    mse = np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2)
    return float("inf") if mse == 0 else 10 * np.log10(255.0 ** 2 / mse)


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--image", type=Path, help="image to code (default: Kodak kodim23 or built-in)")
    ap.add_argument("--out", type=Path, default=Path("demo_out"), help="where decoded PNGs go")
    ap.add_argument("--bpp", type=float, nargs="*", default=[0.12, 0.25, 0.5, 1.0])
    args = ap.parse_args(argv)
    if args.image is not None:
        img, name = read_image(args.image), args.image.name
    elif KODAK_DEFAULT.exists():
        img, name = read_image(KODAK_DEFAULT), KODAK_DEFAULT.name
    else:
        img, name = synthetic_image(), "built-in synthetic image"
    args.out.mkdir(parents=True, exist_ok=True)
    print(f"{name}: {img.shape[1]}x{img.shape[0]}")
    print(f"{'target bpp':>10} {'bpp':>7} {'PSNR dB':>8} {'encode s':>9} {'decode s':>9}")
    for target in args.bpp:
        t0 = time.perf_counter()
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            data = codec.encode(img, bpp=target)
        t1 = time.perf_counter()
        rec = codec.decode(data)
        t2 = time.perf_counter()
        bpp = 8 * len(data) / (img.shape[0] * img.shape[1])
        note = "  (target outside the model's rate range)" if caught else ""
        print(f"{target:>10.3f} {bpp:>7.4f} {psnr(img, rec):>8.2f} {t1 - t0:>9.3f} {t2 - t1:>9.3f}{note}")
        write_image(args.out / f"decoded_{target:.3f}bpp.png", rec)
    print(f"decoded images in {args.out}/")


if __name__ == "__main__":
    main()
