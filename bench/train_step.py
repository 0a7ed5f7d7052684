"""Training throughput on this CPU: steps/s and training pixels/s of the recipe's step, eager vs compiled.

Both arms run train.make_step (the exact step train.py runs: noise drawn outside the graph, loss, clip,
Adam) on the shipped light model at the same batch and crop, in the same process, alternating warm
repeats so machine load affects both alike. ``--profile`` prints where the eager step's time goes.

  PYTHONPATH=$PWD python -P bench/train_step.py --threads 2 --batch 16 --crop 128 --steps 20 --repeats 3
"""
from __future__ import annotations

import argparse
import json
import statistics
import time

import torch

from jpegai_fast.model.weights import load_model
from jpegai_fast.training.train import make_step


def _arm(compile_forward: bool, batch: int, crop: int, seed: int = 0):
    model = load_model().train().requires_grad_(True)
    opt = torch.optim.Adam(model.parameters(), lr=1e-5)
    gen = torch.Generator().manual_seed(seed)
    step = make_step(model, opt, gen, compile_forward=compile_forward)
    x = torch.rand(batch, 3, crop, crop, generator=torch.Generator().manual_seed(seed))
    t0 = time.perf_counter()
    step(x, 4.0)      # compile (if any) and warm-up
    step(x, 2.5)      # a second t: must not recompile
    return step, x, time.perf_counter() - t0


def _time(step, x, steps: int) -> float:
    t0 = time.perf_counter()
    for i in range(steps):
        step(x, (i * 0.37) % 8)
    return (time.perf_counter() - t0) / steps


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--crop", type=int, default=128)
    ap.add_argument("--steps", type=int, default=20, help="timed steps per repeat")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--profile", action="store_true", help="print the eager step's top operators")
    ap.add_argument("--json", help="write the results here")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    arms = {"eager (the recipe before --compile)": _arm(False, args.batch, args.crop),
            "compiled (--compile)": _arm(True, args.batch, args.crop)}
    times = {name: [] for name in arms}
    for _ in range(args.repeats):
        for name, (step, x, _) in arms.items():
            times[name].append(_time(step, x, args.steps))
    px = args.batch * args.crop ** 2
    result = {"threads": args.threads, "batch": args.batch, "crop": args.crop, "arms": {}}
    base = statistics.median(times["eager (the recipe before --compile)"])
    print(f"{args.threads} threads, batch {args.batch} x {args.crop}^2, median of {args.repeats} x {args.steps} steps")
    for name, ts in times.items():
        s = statistics.median(ts)
        result["arms"][name] = {"s_per_step": s, "steps_per_s": 1 / s, "mpx_per_s": px / s / 1e6,
                                "speedup": base / s, "warmup_s": arms[name][2]}
        print(f"  {name:34s} {s:.3f} s/step  {1 / s:5.2f} steps/s  {px / s / 1e6:5.2f} Mpx/s  x{base / s:.2f}"
              f"  (warm-up {arms[name][2]:.0f} s)")
    if args.profile:
        from torch.profiler import ProfilerActivity, profile
        step, x, _ = arms["eager (the recipe before --compile)"]
        with profile(activities=[ProfilerActivity.CPU]) as prof:
            for _ in range(3):
                step(x, 4.0)
        print(prof.key_averages().table(sort_by="self_cpu_time_total", row_limit=12))
    if args.json:
        with open(args.json, "w") as f:
            json.dump(result, f, indent=2)


if __name__ == "__main__":
    main()
