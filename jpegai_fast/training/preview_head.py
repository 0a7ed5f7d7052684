"""Distil the preview heads of a main model: ``python -P -m jpegai_fast.training.preview_head --out PATH``.

Run it after shipping new main weights (docs/preview.md): the heads belong to one model id, and a
stream whose model has none decodes scale=s by the full synthesis (correct, slower) with a warning.
Recipe: latents of random training-set crops coded at random qualities (training/preview_data.py),
targets the full decoder's pixels area-downscaled by s, one trunk trained on the sum of the three
scales' MSE with Adam and a cosine learning rate over the time budget; a held-out slice of the crops
gives the PSNR recorded in the file. CPU, one torch thread by default: a small regression problem.
"""
from __future__ import annotations

import argparse
import math
import time

import torch
import torch.nn.functional as F

from jpegai_fast.model.preview import PreviewHead
from jpegai_fast.runtime import preview_file
from jpegai_fast.runtime.engine import get_engine
from jpegai_fast.runtime.preview import SCALES, complexity
from jpegai_fast.training.preview_data import make_set

#: Share of the time budget spent coding crops (the rest trains).
DATA_SHARE = 0.2
HELD_OUT = 0.05


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -P -m jpegai_fast.training.preview_head", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--out", required=True, help="head file to write (.npz)")
    p.add_argument("--model", default=None, help="main weights profile or path (default: the shipped model)")
    p.add_argument("--data", default="../shared/datasets/train", help="training image folder (never the test set)")
    p.add_argument("--time-budget-s", type=float, default=1500.0, help="wall-clock budget, data and training")
    p.add_argument("--crop", type=int, default=256, help="crop side in pixels, a multiple of 64")
    p.add_argument("--width", type=int, default=96, help="trunk channels")
    p.add_argument("--depth", type=int, default=2, help="trunk 3x3 conv layers")
    p.add_argument("--batch", type=int, default=16)
    p.add_argument("--lr", type=float, default=2e-3)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=1, help="torch CPU threads")
    p.add_argument("--init", default=None, help="start from this head file (its config; e.g. the head of the "
                   "previous main weights, which a campaign session's weights differ little from)")
    args = p.parse_args(argv)
    if args.crop < 64 or args.crop % 64:
        p.error("--crop must be a positive multiple of 64")
    return args


def targets(decodes: torch.Tensor) -> dict[int, torch.Tensor]:
    """Per scale, the full decodes (uint8) area-downscaled: the distillation targets in [0, 1]."""
    x = decodes.float().div_(255.0)
    return {s: F.avg_pool2d(x, s) for s in SCALES}


def loss_and_psnr(head: PreviewHead, y: torch.Tensor, goal: dict[int, torch.Tensor]):
    features = head.trunk(y)
    mse = {s: F.mse_loss(head.outputs(features, s), goal[s]) for s in SCALES}
    return sum(mse.values()) / len(mse), mse


def held_out_psnr(head: PreviewHead, y: torch.Tensor, goal: dict[int, torch.Tensor]) -> dict[int, float]:
    """PSNR (dB, 8-bit, clamped output) per scale over the held-out crops, one MSE over them all."""
    with torch.no_grad():
        features = head.trunk(y)
        return {s: float(-10 * torch.log10(F.mse_loss(head.outputs(features, s).clamp(0, 1), goal[s])))
                for s in SCALES}


def main(argv=None) -> None:
    args = parse_args(argv)
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    t0 = time.monotonic()
    eng = get_engine(args.model)
    latents, decodes = make_set(args.data, args.crop, args.time_budget_s * DATA_SHARE, args.seed, args.model)
    n_val = max(1, int(len(latents) * HELD_OUT))
    val_y, val_goal = latents[:n_val], targets(decodes[:n_val])
    train_y, train_dec = latents[n_val:], decodes[n_val:]
    print(f"data: {len(latents)} crops ({n_val} held out) in {time.monotonic() - t0:.0f} s", flush=True)
    config = {"M": eng.M, "width": args.width, "depth": args.depth}
    if args.init:
        start = preview_file.read(args.init)
        config = dict(start.config)
        head = PreviewHead(config)
        head.load_state_dict({k: torch.from_numpy(start.f32(k)) for k in head.state_dict()})
    else:
        head = PreviewHead(config)
    opt = torch.optim.Adam(head.parameters(), lr=args.lr)
    gen = torch.Generator().manual_seed(args.seed)
    t_train, steps = time.monotonic(), 0
    train_s = args.time_budget_s - (t_train - t0)
    while (elapsed := time.monotonic() - t_train) < train_s or steps == 0:
        done = min(1.0, elapsed / train_s) if train_s > 0 else 1.0
        for group in opt.param_groups:          # cosine over the time left, so any budget ends annealed
            group["lr"] = args.lr * 0.5 * (1 + math.cos(math.pi * done))
        idx = torch.randint(0, len(train_y), (args.batch,), generator=gen)
        loss, _ = loss_and_psnr(head, train_y[idx], targets(train_dec[idx]))
        opt.zero_grad()
        loss.backward()
        opt.step()
        steps += 1
        if steps % 200 == 0:
            psnr = held_out_psnr(head, val_y, val_goal)
            print(f"step {steps} ({elapsed:.0f} s): loss {loss.item():.6f}, held-out PSNR "
                  + ", ".join(f"s={s} {v:.2f} dB" for s, v in psnr.items()), flush=True)
    psnr = held_out_psnr(head, val_y, val_goal)
    record = {"crops": len(latents), "held_out": n_val, "crop": args.crop, "steps": steps, "batch": args.batch,
              "seconds": round(time.monotonic() - t0), "held_out_psnr_db": {str(s): round(v, 3) for s, v in psnr.items()},
              "kmac_per_px": {str(s): round(complexity(config, s) / 1000, 3) for s in SCALES}, "seed": args.seed,
              "init": args.init}
    preview_file.write(args.out, head.fp16_state(), config, eng.model_id.hex(), record)
    print(f"wrote {args.out} for model {eng.model_id.hex()}: {record}", flush=True)


if __name__ == "__main__":
    main()
