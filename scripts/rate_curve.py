"""The shipped model's typical size and PSNR at each ladder point, for rate control's first probe
(runtime/ladder.py, TYPICAL_LN_BPP and TYPICAL_PSNR).

Every 4th training photo (../shared/datasets/train, never the Kodak test set), its 768x512 centre crop (or the
whole photo when smaller), coded at each ladder point t = 0 .. K-1 (quality 100 t / (K - 1), no rate control);
prints the mean ln(bits per pixel) and PSNR-RGB (dB, of the real decode) per point and their spreads. A few
minutes on 2 cores.

  PYTHONPATH=$PWD python -P scripts/rate_curve.py
"""
from __future__ import annotations

import math
from pathlib import Path

import numpy as np
from PIL import Image

import jpegai_fast
from jpegai_fast.eval.metrics import psnr_rgb
from jpegai_fast.runtime.engine import get_engine

TRAIN = Path(__file__).resolve().parents[1] / ".." / "shared" / "datasets" / "train"


def main() -> None:
    points = get_engine().num_rate_points
    rows, psnrs = [], []
    for path in sorted(TRAIN.glob("*.jpg"))[::4]:
        a = np.asarray(Image.open(path).convert("RGB"))
        h, w = min(512, a.shape[0]), min(768, a.shape[1])
        y0, x0 = (a.shape[0] - h) // 2, (a.shape[1] - w) // 2
        crop = np.ascontiguousarray(a[y0:y0 + h, x0:x0 + w])
        streams = [jpegai_fast.encode(crop, quality=100 * k / (points - 1)) for k in range(points)]
        rows.append([math.log(8 * len(s) / (h * w)) for s in streams])
        psnrs.append([psnr_rgb(crop, jpegai_fast.decode(s)) for s in streams])
    r, p = np.array(rows), np.array(psnrs)
    print(f"model {get_engine().model_id.hex()}, {len(rows)} training photos")
    print("mean ln bpp:", tuple(round(float(v), 3) for v in r.mean(axis=0)))
    print("std ln bpp: ", tuple(round(float(v), 3) for v in r.std(axis=0)))
    print("mean PSNR:  ", tuple(round(float(v), 2) for v in p.mean(axis=0)))
    print("std PSNR:   ", tuple(round(float(v), 2) for v in p.std(axis=0)))


if __name__ == "__main__":
    main()
