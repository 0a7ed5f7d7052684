"""Training throughput on this CPU: steps/s and training pixels/s of the recipe's step, eager vs compiled
(fp32) vs compiled with bf16 autocast.

The arms run train.make_step (the exact step train.py runs: noise drawn outside the graph, loss, clip,
Adam) on the shipped light model at the same batch and crop, in the same process, alternating warm
repeats so machine load affects them alike. ``--profile`` prints where the eager step's time goes.
``--gradient-check`` says how far a bf16 gradient is from the fp32 one (cosine), next to how far the
fp32 gradient itself moves when the conv weights change by bf16's rounding (2^-9 relative): the STE
makes the distortion gradient of g_a sensitive to tiny weight changes at high rates, so a bf16 step
is judged against that, and finally by an equal-steps training ablation (docs/training.md).

  PYTHONPATH=$PWD python -P bench/train_step.py --threads 2 --batch 16 --crop 128 --steps 20 --repeats 3
"""
from __future__ import annotations

import argparse
import json
import statistics
import time

import torch

from jpegai_fast.model.weights import load_model
from jpegai_fast.training.train import cpu_has_native_bf16, make_step, rd_loss


def _arm(compile_forward: bool, batch: int, crop: int, seed: int = 0, bf16: bool = False):
    model = load_model().train().requires_grad_(True)
    opt = torch.optim.Adam(model.parameters(), lr=1e-5)
    gen = torch.Generator().manual_seed(seed)
    step = make_step(model, opt, gen, compile_forward=compile_forward, bf16=bf16)
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


def gradient_check(batch: int, crop: int, ts=(0.0, 4.5, 9.0), seed: int = 0) -> dict:
    """Cosine of the bf16 and of the weight-perturbed fp32 gradient to the fp32 one, at several t."""
    model = load_model().train().requires_grad_(True)
    gen = torch.Generator().manual_seed(seed)
    x = torch.rand(batch, 3, crop, crop, generator=gen)
    noise = model.draw_noise(x, gen)
    base = {k: v.clone() for k, v in model.state_dict().items()}

    def grad(t: float, bf16: bool) -> torch.Tensor:
        model.zero_grad()
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
            x_hat, bits = model.train_forward(x, model.gain.log2_steps(t), noise)
        rd_loss(x, x_hat, bits, model.gain.lmbda(t))[0].backward()
        return torch.cat([p.grad.flatten() for p in model.parameters() if p.grad is not None])

    out = {}
    for t in ts:
        ref, low = grad(t, False), grad(t, True)
        with torch.no_grad():
            for name, p in model.named_parameters():
                if name.startswith(("g_a", "g_s")) and p.dim() == 4:
                    p.mul_(1 + 2 ** -9 * torch.randn(p.shape, generator=gen))
        moved = grad(t, False)
        model.load_state_dict(base)
        cos = torch.nn.functional.cosine_similarity
        out[t] = {"bf16": float(cos(ref, low, dim=0)), "fp32_weights_moved": float(cos(ref, moved, dim=0))}
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--crop", type=int, default=128)
    ap.add_argument("--steps", type=int, default=20, help="timed steps per repeat")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--profile", action="store_true", help="print the eager step's top operators")
    ap.add_argument("--gradient-check", action="store_true",
                    help="cosine of the bf16 (and a weight-perturbed fp32) gradient to the fp32 one")
    ap.add_argument("--json", help="write the results here")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    arms = {"eager (the recipe before --compile)": _arm(False, args.batch, args.crop),
            "compiled (--compile)": _arm(True, args.batch, args.crop)}
    if cpu_has_native_bf16():
        arms["compiled bf16 (--compile --bf16)"] = _arm(True, args.batch, args.crop, bf16=True)
    else:   # train.py refuses --bf16 here: emulated bf16 runs at a fraction of fp32's speed
        print("this CPU has no native bf16 (AVX512-BF16 or AMX): the bf16 arm is left out")
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
    if args.gradient_check:
        result["gradient_check"] = gradient_check(args.batch, args.crop)
        for t, row in result["gradient_check"].items():
            print(f"  t={t:3.1f}: cos(bf16, fp32) {row['bf16']:.3f}   cos(fp32 with weights moved 2^-9, fp32) "
                  f"{row['fp32_weights_moved']:.3f}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(result, f, indent=2)


if __name__ == "__main__":
    main()
