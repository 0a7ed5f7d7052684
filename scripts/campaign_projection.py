"""The training campaign's trend and where more CPU time would take it (docs/training.md, "Projection").

Reads docs/training_logs/campaign_trend.csv (one row per session that kept its state: total steps and
the real-stream Kodak BD-rate vs JPEG 2000 of the model it ended with), fits the BD-rate as a straight
line in log(steps) over the sessions trained on the current recipe's crop size (the step from 128^2 to
256^2 crops was a change of recipe, not of training depth), prints the slope, the steps and CPU hours
each target BD-rate would need at the measured paces, and plots the points and the line.

    python scripts/campaign_projection.py [--trend CSV] [--png OUT] [--crop 256]

Why log(steps): each session's gain shrank as the steps grew (learned codecs' RD improves roughly
log-linearly over most of a training run); the fit is a guide for planning, not a promise: a few
points, less than one e-fold of steps.
"""
from __future__ import annotations

import argparse
import csv
import math
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
#: Seconds per step at 4 x 256^2 crops on the campaign's 2-core hosts (docs/training.md, measured in
#: the live loop): bf16 `--threads 2` on an AVX512-BF16/AMX host (session 6), fp32 `--ranks 2` on AVX2.
PACE_S = {"bf16 host": 0.17, "fp32 AVX2 host": 0.43}
TARGETS = (10.0, 0.0, -10.0)


def load(path: Path) -> list[dict]:
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def fit(rows: list[dict], crop: int) -> tuple[float, float, list[dict]]:
    """(slope per e-fold of steps, intercept, the rows fitted) of real BD-rate = a*ln(steps) + b."""
    used = [r for r in rows if int(r["crop"]) == crop and r["real_bd_vs_jpeg2000_kodak24"]]
    if len(used) < 2:
        raise SystemExit(f"need at least two sessions at crop {crop} with a real-stream BD-rate")
    x = np.log([float(r["total_steps"]) for r in used])
    y = np.array([float(r["real_bd_vs_jpeg2000_kodak24"]) for r in used])
    a, b = np.polyfit(x, y, 1)
    return float(a), float(b), used


def steps_for(target: float, a: float, b: float) -> float:
    return math.exp((target - b) / a) if a < 0 else math.inf


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--trend", type=Path, default=ROOT / "docs/training_logs/campaign_trend.csv")
    p.add_argument("--png", type=Path, default=None, help="write the plot here")
    p.add_argument("--crop", type=int, default=256, help="fit the sessions trained at this crop size")
    args = p.parse_args()
    rows = load(args.trend)
    a, b, used = fit(rows, args.crop)
    last = used[-1]
    now = float(last["total_steps"])
    y = np.array([float(r["real_bd_vs_jpeg2000_kodak24"]) for r in used])
    resid = y - (a * np.log([float(r["total_steps"]) for r in used]) + b)
    print(f"fit over {len(used)} sessions at {args.crop}^2 crops ({', '.join(r['session'] for r in used)}): "
          f"BD = {a:.2f} * ln(steps) + {b:.1f}  ({a:.1f} points per e-fold, {a * math.log(2):.1f} per doubling; "
          f"residuals rms {float(np.sqrt(np.mean(resid ** 2))):.2f} points)")
    for t in TARGETS:
        need = steps_for(t, a, b)
        more = max(0.0, need - now)
        hours = ", ".join(f"{more * s / 3600:.0f} h on a {k}" for k, s in PACE_S.items())
        print(f"  BD {t:+.0f} %: {need / 1e6:.2f} M steps in all ({need / now:.1f}x today's {now / 1e3:.0f}k; "
              f"{more / 1e6:.2f} M more: {hours})")
    if args.png:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
        fig, ax = plt.subplots(figsize=(7, 4))
        for crop, marker in ((128, "s"), (256, "o")):
            pts = [r for r in rows if int(r["crop"]) == crop]
            ax.plot([float(r["total_steps"]) for r in pts], [float(r["real_bd_vs_jpeg2000_kodak24"]) for r in pts],
                    marker, label=f"session's model, {crop}^2 crops")
        xs = np.geomspace(float(used[0]["total_steps"]), steps_for(min(TARGETS), a, b), 50)
        ax.plot(xs, a * np.log(xs) + b, "--", lw=1, label=f"fit: {a:.1f} points per e-fold of steps")
        ax.axhline(0, color="k", lw=0.6)
        ax.axhline(-10, color="r", lw=0.6, ls=":", label="issue 13's target, -10 %")
        ax.set_xscale("log")
        ax.set_xlabel("training steps in all")
        ax.set_ylabel("BD-rate vs JPEG 2000 (%)")
        ax.set_title("Kodak (24 images), PSNR-RGB, real streams: the campaign's models", fontsize=10)
        ax.grid(alpha=0.3, which="both")
        ax.legend(fontsize=8)
        fig.tight_layout()
        fig.savefig(args.png, dpi=110)
        print(f"wrote {args.png}")


if __name__ == "__main__":
    main()
