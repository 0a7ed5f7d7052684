"""Classical anchors on Kodak with Pillow (JPEG 4:4:4, WebP, JPEG 2000/OpenJPEG): mean bpp and mean
PSNR-RGB per setting, real file sizes. Optionally BD-rate of a model RD json against them.

Usage: python scripts/kodak_anchors.py --out docs/kodak_anchors.json [--model docs/rd_light.json]
"""
import argparse
import io
import json
import math
from pathlib import Path

import numpy as np
from PIL import Image

SETTINGS = {
    "jpeg444": [("quality", q) for q in (5, 10, 20, 35, 50, 70, 85, 95)],
    "webp": [("quality", q) for q in (2, 10, 25, 50, 75, 90, 98)],
    "jpeg2000": [("target_bpp", b) for b in (0.03, 0.06, 0.12, 0.25, 0.5, 0.75, 1.0, 1.5, 2.0)],
}


def _encode(img: Image.Image, codec: str, value: float) -> bytes:
    buf = io.BytesIO()
    if codec == "jpeg444":
        img.save(buf, "JPEG", quality=int(value), subsampling=0)
    elif codec == "webp":
        img.save(buf, "WEBP", quality=int(value), method=6)
    else:
        img.save(buf, "JPEG2000", quality_mode="rates", quality_layers=[24.0 / value], irreversible=True)
    return buf.getvalue()


def _psnr(a: np.ndarray, b: np.ndarray) -> float:
    mse = np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2)
    return 10 * math.log10(255.0 ** 2 / max(mse, 1e-12))


def bd_rate(rate_a, psnr_a, rate_b, psnr_b) -> float:
    """Bjontegaard delta rate (%) of curve b against anchor a (cubic fit of log rate over PSNR)."""
    pa = np.polyfit(psnr_a, np.log(rate_a), 3)
    pb = np.polyfit(psnr_b, np.log(rate_b), 3)
    lo, hi = max(min(psnr_a), min(psnr_b)), min(max(psnr_a), max(psnr_b))
    ia, ib = np.polyint(pa), np.polyint(pb)
    avg_a = (np.polyval(ia, hi) - np.polyval(ia, lo)) / (hi - lo)
    avg_b = (np.polyval(ib, hi) - np.polyval(ib, lo)) / (hi - lo)
    return float((math.exp(avg_b - avg_a) - 1) * 100)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--kodak", default="../shared/datasets/kodak")
    p.add_argument("--out", default="")
    p.add_argument("--model", default="", help="RD json of jpegai_fast.eval_model to compare")
    p.add_argument("--anchors", default="", help="reuse a previous --out instead of encoding again")
    args = p.parse_args()
    if args.anchors:
        res = json.loads(Path(args.anchors).read_text())
    else:
        files = sorted(Path(args.kodak).glob("*.png"))
        res = {}
        for codec, settings in SETTINGS.items():
            rows = []
            for name, value in settings:
                bpps, psnrs = [], []
                for f in files:
                    img = Image.open(f).convert("RGB")
                    data = _encode(img, codec, value)
                    dec = np.asarray(Image.open(io.BytesIO(data)).convert("RGB"))
                    bpps.append(len(data) * 8 / (img.width * img.height))
                    psnrs.append(_psnr(np.asarray(img), dec))
                rows.append({name: value, "bpp": float(np.mean(bpps)), "psnr": float(np.mean(psnrs))})
                print(codec, rows[-1], flush=True)
            res[codec] = rows
        res["images"] = len(files)
    if args.model:
        model = json.loads(Path(args.model).read_text())
        mr = [r["bpp"] for r in model["rows"]]
        mp = [r["psnr"] for r in model["rows"]]
        res["bd_rate_of_model"] = {}
        for codec in SETTINGS:
            # only the anchor points inside the model's PSNR range (BD-rate needs overlap)
            rows = [r for r in res[codec] if min(mp) - 1 <= r["psnr"] <= max(mp) + 1]
            if len(rows) >= 4:
                res["bd_rate_of_model"][codec] = bd_rate([r["bpp"] for r in rows], [r["psnr"] for r in rows], mr, mp)
        print("BD-rate of the model vs anchors (%):", res["bd_rate_of_model"])
    if args.out:
        Path(args.out).write_text(json.dumps(res, indent=2) + "\n")


if __name__ == "__main__":
    main()
