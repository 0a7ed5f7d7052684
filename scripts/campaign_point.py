"""One row of the training campaign's trend table (docs/training.md): ceiling and estimated BD-rate.

  * no-quantisation ceiling: PSNR-RGB of g_s(g_a(x)) with y unquantised, Kodak 1-4 (the issue's measure
    of what the transforms can do at any rate);
  * estimated RD on Kodak 1-8 (bits from the likelihoods, eval_model.py) at every ladder point, and its
    BD-rate (PSNR-RGB) against JPEG 2000's real-stream curve on the same 8 images
    (docs/kodak_anchors/results.json, the mean curve over the images that reach each target).

  PYTHONPATH=$PWD python -P scripts/campaign_point.py --weights jpegai_fast/weights/light.npz --threads 2
"""
from __future__ import annotations

import argparse
import json
import math
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parents[1]
KODAK = ROOT / ".." / "shared" / "datasets" / "kodak"
ANCHORS = ROOT / "docs" / "kodak_anchors" / "results.json"


def ceiling(model, images) -> float:
    from jpegai_fast.files.images import read_image
    vals = []
    for f in images:
        x = torch.from_numpy(read_image(f).astype(np.float32) / 255).permute(2, 0, 1)[None]
        h, w = x.shape[2:]
        xp = torch.nn.functional.pad(x, (0, (-w) % 64, 0, (-h) % 64), mode="replicate")
        with torch.no_grad():
            x_hat = model.synthesis(model.analysis(xp)).clamp(0, 1)[..., :h, :w]
        x_hat = torch.round(x_hat * 255) / 255
        vals.append(10 * math.log10(1 / float(torch.mean((x - x_hat) ** 2))))
    return float(np.mean(vals))


def anchor_curve(images: list[str], codec: str = "jpeg2000") -> tuple[list[float], list[float]]:
    rows = json.loads(ANCHORS.read_text())["rows"]
    by_target: dict[float, list] = {}
    for r in rows:
        if r["codec"] == codec and r["status"] == "ok" and r["image"] in images:
            by_target.setdefault(r["target_bpp"], []).append(r)
    pts = [(np.mean([r["bpp"] for r in rs]), np.mean([r["psnr_rgb"] for r in rs]))
           for t, rs in sorted(by_target.items()) if len(rs) == len(images)]
    return [p[0] for p in pts], [p[1] for p in pts]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--weights", default=None)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--images", type=int, default=8)
    ap.add_argument("--out", help="write the row as JSON")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    from jpegai_fast.eval.bdrate import bd_rate
    from jpegai_fast.eval.model_rd import evaluate
    from jpegai_fast.model.weights import load_model
    model = load_model(args.weights)
    files = sorted(KODAK.glob("kodim*.png"))
    ceil = ceiling(model, files[:4])
    ts = [float(t) for t in range(model.gain.num_points)]
    rd = evaluate(args.weights, str(KODAK), ts, args.images)
    bpp, psnr = [r["bpp"] for r in rd["rows"]], [r["psnr"] for r in rd["rows"]]
    a_bpp, a_psnr = anchor_curve([f.name for f in files[:args.images]])
    lo, hi = max(min(bpp), min(a_bpp)), min(max(bpp), max(a_bpp))
    keep = [i for i, b in enumerate(bpp) if lo * 0.7 <= b <= hi * 1.3]
    bd = bd_rate(a_bpp, a_psnr, [bpp[i] for i in keep], [psnr[i] for i in keep])
    row = {"model_id": model.model_id, "ceiling_db_kodak1_4": round(ceil, 3), "images": args.images,
           "bd_rate_vs_jpeg2000_estimated": round(bd, 2), "rows": rd["rows"],
           "rate_range_bpp": [round(min(bpp), 4), round(max(bpp), 4)]}
    print(f"model {model.model_id}: ceiling {ceil:.2f} dB (Kodak 1-4), estimated BD-rate vs JPEG 2000 "
          f"{bd:+.2f} % (Kodak 1-{args.images}), range {min(bpp):.3f}-{max(bpp):.3f} bpp")
    for r in rd["rows"]:
        print(f"  t {r['t']:.0f}: {r['bpp']:.4f} bpp {r['psnr']:.2f} dB")
    if args.out:
        Path(args.out).write_text(json.dumps(row, indent=2) + "\n")


if __name__ == "__main__":
    main()
