"""Kodak RD of a weights file with bits ESTIMATED from the model likelihoods (no bitstream yet).

``python -m jpegai_fast.eval.model_rd --weights jpegai_fast/weights/light.npz --out docs/rd_light.json``
Reports per-t mean bpp, PSNR-RGB (mean of per-image PSNR on the 8-bit rounded reconstruction) and
MS-SSIM (pytorch-msssim), and PSNR interpolated at the JPEG AI target rates.
"""
from __future__ import annotations

import argparse
import json
import math
import time
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from jpegai_fast.model.codec import Codec
from jpegai_fast.model.entropy_models import gaussian_likelihood
from jpegai_fast.model.weights import load_model

TARGET_BPP = (0.03, 0.06, 0.12, 0.25, 0.5, 0.75, 1.0, 1.5, 2.0)


@torch.no_grad()
def rd_points(model: Codec, x: torch.Tensor, ts: list[float]) -> list[dict]:
    """Estimated bpp and the 8-bit reconstruction of image x (1, 3, H, W) at every t.

    Same computation as ``model.eval()(x, t)`` but the t-independent analysis and hyper path run
    once per image.
    """
    model.eval()
    y = model.analysis(x)
    z_hat = torch.round(model.hyper_analysis(y))
    z_bits = -torch.log2(model.z_prior.likelihood(z_hat)).sum()
    mu_h, log2_sigma = model.hyper_params(z_hat)
    px = x.shape[2] * x.shape[3]
    out = []
    for t in ts:
        log2_step = model.log2_steps(t).view(1, -1, 1, 1)
        q, y_hat, _ = model.quantise_latent(y, mu_h, t)
        y_bits = -torch.log2(gaussian_likelihood(q.float(), log2_sigma - log2_step)).sum()
        x_hat = model.synthesis(y_hat).clamp(0, 1)
        out.append({"t": t, "bpp": float((y_bits + z_bits) / px),
                    "x_hat": torch.round(x_hat * 255) / 255})
    return out


def _psnr(a: torch.Tensor, b: torch.Tensor) -> float:
    mse = float(torch.mean((a - b) ** 2))
    return 10 * math.log10(1.0 / max(mse, 1e-12))


def interpolate_at(bpps: list[float], values: list[float], targets=TARGET_BPP) -> dict:
    """values at the target rates by linear interpolation in log(bpp); None outside the range."""
    lb = np.log(np.asarray(bpps))
    order = np.argsort(lb)
    lb, vals = lb[order], np.asarray(values)[order]
    res = {}
    for r in targets:
        lr = math.log(r)
        res[str(r)] = float(np.interp(lr, lb, vals)) if lb[0] <= lr <= lb[-1] else None
    return res


def evaluate(weights: str, kodak: str, ts: list[float], max_images: int = 0) -> dict:
    """RD summary dict (see module docstring)."""
    from pytorch_msssim import ms_ssim

    model = load_model(weights)
    files = sorted(Path(kodak).glob("*.png"))
    if max_images:
        files = files[:max_images]
    if not files:
        raise ValueError(f"no PNG images in {kodak}")
    per_t = {t: {"bpp": [], "psnr": [], "msssim": []} for t in ts}
    start = time.time()
    for f in files:
        arr = np.asarray(Image.open(f).convert("RGB"), dtype=np.float32) / 255.0
        x = torch.from_numpy(arr).permute(2, 0, 1)[None]
        h, w = x.shape[2:]
        pad_h, pad_w = (-h) % 64, (-w) % 64
        xp = torch.nn.functional.pad(x, (0, pad_w, 0, pad_h), mode="replicate")
        for pt in rd_points(model, xp, ts):
            x_hat = pt["x_hat"][..., :h, :w]
            acc = per_t[pt["t"]]
            acc["bpp"].append(pt["bpp"] * xp.shape[2] * xp.shape[3] / (h * w))
            acc["psnr"].append(_psnr(x, x_hat))
            acc["msssim"].append(float(ms_ssim(x, x_hat, data_range=1.0)))
    rows = [{"t": t, **{k: float(np.mean(v)) for k, v in acc.items()}} for t, acc in per_t.items()]
    return {"weights": weights, "model_id": model.model_id, "images": len(files),
            "bits": "estimated from likelihoods (-log2 p), not a real bitstream",
            "rows": rows,
            "psnr_at_target_bpp": interpolate_at([r["bpp"] for r in rows], [r["psnr"] for r in rows]),
            "msssim_at_target_bpp": interpolate_at([r["bpp"] for r in rows], [r["msssim"] for r in rows]),
            "wall_s": round(time.time() - start, 1)}


def main(argv=None) -> None:
    """CLI entry."""
    p = argparse.ArgumentParser(prog="python -m jpegai_fast.eval.model_rd", description=__doc__)
    p.add_argument("--weights", default=None, help="profile name or .pt file (default: shipped)")
    p.add_argument("--kodak", default="../shared/datasets/kodak")
    p.add_argument("--t", default="0,0.5,1,1.5,2,2.5,3,3.5,4,4.5,5", help="comma-separated rate parameters")
    p.add_argument("--max-images", type=int, default=0)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--out", default="")
    args = p.parse_args(argv)
    torch.set_num_threads(args.threads)
    res = evaluate(args.weights, args.kodak, [float(v) for v in args.t.split(",")], args.max_images)
    text = json.dumps(res, indent=2)
    if args.out:
        Path(args.out).write_text(text + "\n")
    print(f"{'t':>5} {'bpp':>7} {'PSNR':>7} {'MS-SSIM':>8}")
    for r in res["rows"]:
        print(f"{r['t']:5.2f} {r['bpp']:7.4f} {r['psnr']:7.3f} {r['msssim']:8.5f}")
    print("PSNR at target bpp:", res["psnr_at_target_bpp"])


if __name__ == "__main__":
    main()
