"""Where the high rates are lost (issue 29, deliverable 1): per image and per rate, the transform's
ceiling against what quantisation costs, and where the bits go.

For every Kodak image, with the model's estimated bits (likelihoods, as eval/model_rd.py):
  * ceiling: PSNR-RGB of g_s(g_a(x)) with y unquantised (8-bit rounded) - what no rate can beat;
  * at each of the top ladder points: bpp (y and z), PSNR-RGB, and the gap to the ceiling;
  * at the top point: the rate share of the latent channels (how many channels carry 90 % of the y
    bits, how many carry under 0.1 %: dormant) and the variance of y per channel, so a capacity change
    can be judged by whether new channels carry information.

  PYTHONPATH=$PWD python -P scripts/high_rate_diagnosis.py --out docs/training_logs/high_rate_diagnosis.json
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


def _psnr(x: torch.Tensor, x_hat: torch.Tensor) -> float:
    x_hat = torch.round(x_hat.clamp(0, 1) * 255) / 255
    return 10 * math.log10(1 / float(torch.mean((x - x_hat) ** 2)))


@torch.no_grad()
def diagnose(model, x: torch.Tensor, ts: list[float]) -> dict:
    from jpegai_fast.model.entropy_models import gaussian_likelihood
    h, w = x.shape[2:]
    xp = torch.nn.functional.pad(x, (0, (-w) % 64, 0, (-h) % 64), mode="replicate")
    px = h * w
    y = model.analysis(xp)
    ceiling = _psnr(x, model.synthesis(y)[..., :h, :w])
    z_hat = torch.round(model.hyper_analysis(y))
    z_bits = float(-torch.log2(model.z_prior.likelihood(z_hat)).sum())
    mu_h, log2_sigma = model.hyper_params(z_hat)
    rows = []
    for t in ts:
        log2_step = model.log2_steps(t).view(1, -1, 1, 1)
        q, y_hat, _ = model.quantise_latent(y, mu_h, t)
        bits_c = -torch.log2(gaussian_likelihood(q.float(), log2_sigma - log2_step)).sum(dim=(0, 2, 3))
        psnr = _psnr(x, model.synthesis(y_hat)[..., :h, :w])
        share = (bits_c / bits_c.sum()).numpy()
        order = np.sort(share)[::-1]
        rows.append({"t": t, "bpp": (float(bits_c.sum()) + z_bits) / px, "bpp_z": z_bits / px,
                     "psnr": psnr, "gap_to_ceiling_db": ceiling - psnr,
                     "channels_for_90pct_of_y_bits": int(np.searchsorted(np.cumsum(order), 0.9) + 1),
                     "channels_under_0.1pct": int((share < 1e-3).sum())})
    var = y.var(dim=(0, 2, 3)).numpy()
    return {"ceiling_db": ceiling, "rows": rows,
            "y_variance_quantiles": [float(v) for v in np.quantile(var, [0, 0.1, 0.5, 0.9, 1])]}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--weights", default=None, help="weights file (default: the shipped model)")
    ap.add_argument("--images", type=int, default=24)
    ap.add_argument("--top-points", type=int, default=4, help="how many of the highest ladder points")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--out", help="write the per-image results as JSON")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    from jpegai_fast.files.images import read_image
    from jpegai_fast.model.weights import load_model
    model = load_model(args.weights).eval()
    k = model.gain.num_points
    ts = [float(t) for t in range(max(0, k - args.top_points), k)]
    per_image = {}
    for f in sorted(KODAK.glob("kodim*.png"))[:args.images]:
        x = torch.from_numpy(read_image(f).astype(np.float32) / 255).permute(2, 0, 1)[None]
        d = per_image[f.name] = diagnose(model, x, ts)
        top = d["rows"][-1]
        print(f"{f.name}: ceiling {d['ceiling_db']:.2f} dB; top point {top['bpp']:.3f} bpp {top['psnr']:.2f} dB "
              f"(gap {top['gap_to_ceiling_db']:.2f} dB), 90 % of y bits in {top['channels_for_90pct_of_y_bits']} "
              f"of {model.config.M} channels, {top['channels_under_0.1pct']} under 0.1 %", flush=True)
    summary = {"model_id": model.model_id, "M": model.config.M, "ts": ts,
               "mean_ceiling_db": float(np.mean([d["ceiling_db"] for d in per_image.values()])),
               "mean_by_t": [{"t": t,
                              "bpp": float(np.mean([d["rows"][i]["bpp"] for d in per_image.values()])),
                              "psnr": float(np.mean([d["rows"][i]["psnr"] for d in per_image.values()])),
                              "gap_to_ceiling_db": float(np.mean([d["rows"][i]["gap_to_ceiling_db"]
                                                                  for d in per_image.values()]))}
                             for i, t in enumerate(ts)]}
    print(json.dumps(summary, indent=1))
    if args.out:
        Path(args.out).write_text(json.dumps({"summary": summary, "images": per_image}, indent=1) + "\n")


if __name__ == "__main__":
    main()
