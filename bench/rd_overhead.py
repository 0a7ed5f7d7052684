"""Real stream size vs the model's likelihood estimate (issue 4: within 1%, header and escapes included).

For each Kodak image and each ladder point t, compares 8 * len(jpegai_fast.encode(...)) with the bits
the model's eval-mode forward estimates from its float likelihoods for the same padded image.
Run: PYTHONPATH=$PWD python -P bench/rd_overhead.py [--images 6]
"""
from __future__ import annotations

import argparse
from pathlib import Path

import torch

import jpegai_fast
from jpegai_fast import pixels
from jpegai_fast.files.images import read_image
from jpegai_fast.model.weights import load_model

KODAK = Path(__file__).resolve().parents[1] / ".." / "shared" / "datasets" / "kodak"


def main(argv=None) -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--images", type=int, default=6)
    args = ap.parse_args(argv)
    model = load_model()
    k = model.gain.num_points
    paths = sorted(KODAK.glob("*.png"))[: args.images]
    print("| t | estimated bpp | real bpp | real / estimated |\n| ---: | ---: | ---: | ---: |")
    for t in range(k):
        est, real = 0.0, 0.0
        for path in paths:
            img = read_image(path)
            x = pixels.pad_to_multiple(pixels.to_model_input(img, 8), 64)
            with torch.no_grad():
                out = model(torch.from_numpy(x).unsqueeze(0), float(t))
            px = img.shape[0] * img.shape[1]
            est += float(out["bpp"]) * x.shape[1] * x.shape[2] / px
            real += 8 * len(jpegai_fast.encode(img, quality=100.0 * t / (k - 1))) / px
        n = len(paths)
        print(f"| {t} | {est / n:.4f} | {real / n:.4f} | {real / est:.4f} |")


if __name__ == "__main__":
    main()
