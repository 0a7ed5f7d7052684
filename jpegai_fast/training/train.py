"""Training entry point: ``python -m jpegai_fast.training.train --help``.

Random crops + flips from an in-memory copy of the training set, one rate parameter t per batch
(uniform on [0, K-1], or weighted toward high rates: --t-schedule) with its interpolated lambda,
loss = lambda * 255^2 * MSE + bpp, Adam with a warm-up / constant / cosine-anneal schedule,
resumable checkpoints (every few minutes, at the end and on SIGTERM/SIGINT), a CSV log and a JSON
summary. CPU (fp32, or bf16 autocast with --bf16) or CUDA (bf16 autocast + channels_last).
"""
from __future__ import annotations

import argparse
import csv
import json
import math
import os
import random
import signal
import sys
import time
from pathlib import Path

import numpy as np
import torch

from jpegai_fast.model.codec import Codec, CodecConfig, get_config
from jpegai_fast.model.gain import remap_ladder
from jpegai_fast.model.grow import widen_analysis, widen_latent
from jpegai_fast.model.weights import load_model, save_weights
from jpegai_fast.runtime.architecture import GAIN_TABLE, analysis_width
from jpegai_fast.training import ranks as rank_group
from jpegai_fast.training import state as campaign_state
from jpegai_fast.training.data import CropSampler, load_images

WARMUP_FRACTION = 0.02
ANNEAL_FRACTION = 0.3
FINAL_LR_RATIO = 0.05

#: The rate parameter of a batch from one uniform draw u in [0, 1): t = (K-1) * f(u).
T_SCHEDULES = {"uniform": lambda u: u, "high": math.sqrt}


def lr_factor(progress: float) -> float:
    """Warm-up, constant, then cosine anneal to FINAL_LR_RATIO over the last ANNEAL_FRACTION."""
    progress = min(max(progress, 0.0), 1.0)
    if progress < WARMUP_FRACTION:
        return 0.1 + 0.9 * progress / WARMUP_FRACTION
    start = 1.0 - ANNEAL_FRACTION
    if progress < start:
        return 1.0
    cos = 0.5 * (1 + math.cos(math.pi * (progress - start) / ANNEAL_FRACTION))
    return FINAL_LR_RATIO + (1 - FINAL_LR_RATIO) * cos


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m jpegai_fast.training.train", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", default="../shared/datasets/train", help="training image folder")
    p.add_argument("--out", default="runs/train", help="run folder (checkpoint, logs)")
    p.add_argument("--profile", default="light", help="model profile (default, light, *-noctx)")
    p.add_argument("--steps", type=int, default=10000)
    p.add_argument("--batch", type=int, default=8)
    p.add_argument("--crop", type=int, default=128, help="crop size, multiple of 64")
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--latent-channels", type=int, default=0,
                   help="override the profile's M (with --init-weights: widen a trained model)")
    p.add_argument("--analysis-channels", type=int, default=0,
                   help="override g_a's hidden width (N_analysis; with --init-weights: widen a trained g_a)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=1, help="torch CPU threads (per rank with --ranks)")
    p.add_argument("--ranks", type=int, default=1,
                   help="CPU processes sharing each batch (ranks.py; data parallel, gradients averaged): "
                        "--ranks 2 --threads 1 beats --threads 2 on a 2-core CPU; the batch must divide evenly")
    p.add_argument("--device", default="auto", help="cpu, cuda or auto")
    p.add_argument("--time-budget-s", type=float, default=0.0,
                   help="if > 0: the schedule also advances with wall time and training stops when it is "
                        "spent (makes the run depend on machine speed)")
    p.add_argument("--ckpt-every-s", type=float, default=180.0)
    p.add_argument("--log-every", type=int, default=50)
    p.add_argument("--init-weights", default="",
                   help="start a NEW run from these shipped fp16 weights (e.g. jpegai_fast/weights/light.npz); "
                        "ignored when the run folder already has a checkpoint")
    p.add_argument("--t-schedule", choices=sorted(T_SCHEDULES), default="uniform",
                   help="how the rate parameter of a batch is drawn: uniform on [0, K-1], or 'high': density "
                        "rising linearly with t (t = (K-1) sqrt(u)), weighted toward the high rates")
    p.add_argument("--fixed-t", type=float, default=None,
                   help="train at this one rate parameter only (a fixed-lambda model, for the VBR-cost ablation)")
    p.add_argument("--export", default="", help="write fp16 shipping weights (.npz) here at the end")
    p.add_argument("--resume-state", default="",
                   help="start this session from the campaign's committed state (state.py: weights, Adam "
                        "moments, RNG, totals); ignored when the run folder already has a checkpoint")
    p.add_argument("--save-state", default="",
                   help="at the end, write the committed state here with this session added to the totals")
    p.add_argument("--max-images", type=int, default=0, help="use only the first N images (tests)")
    p.add_argument("--stop-at-step", type=int, default=0,
                   help="checkpoint and stop at this step as if interrupted (resume tests)")
    p.add_argument("--compile", action="store_true",
                   help="torch.compile the training forward (Inductor): ~1.4x faster steps on this CPU after "
                        "~1 min of compilation (bench/train_step.py)")
    p.add_argument("--bf16", action="store_true",
                   help="bf16 autocast of the forward on the CPU too (CUDA always uses it): x1.46 compiled steps "
                        "on an AVX512-BF16 CPU, trains as well per step (docs/training.md, ablations); refused on a "
                        "CPU without native bf16, where it is far slower than fp32")
    p.add_argument("--quiet", action="store_true")
    args = p.parse_args(argv)
    if args.crop % 64 or args.crop <= 0:
        p.error("--crop must be a positive multiple of 64")
    if args.steps <= 0 or args.batch <= 0 or args.threads <= 0 or args.ranks <= 0:
        p.error("--steps, --batch, --threads and --ranks must be positive")
    if args.batch % args.ranks:
        p.error(f"--batch {args.batch} does not split evenly over --ranks {args.ranks}")
    if args.fixed_t is not None and not (args.fixed_t >= 0 and math.isfinite(args.fixed_t)):
        p.error("--fixed-t must be a rate parameter >= 0 (at most K-1 of the model)")
    return args


class _StopRequested(Exception):
    pass


def rd_loss(x: torch.Tensor, x_hat: torch.Tensor, bits: torch.Tensor, lmbda: float):
    """(loss, mse, bpp) of the recipe: loss = lambda * 255^2 * MSE + bits per pixel (fp32 either way)."""
    mse = torch.mean((x_hat.float() - x) ** 2)
    bpp = bits.float() / (x.shape[0] * x.shape[2] * x.shape[3])
    return lmbda * 255.0 ** 2 * mse + bpp, mse, bpp


def make_step(model: Codec, opt: torch.optim.Optimizer, gen: torch.Generator, compile_forward: bool = False,
              cuda: bool = False, bf16: bool = False, ranks: rank_group.Ranks | None = None):
    """One optimisation step ``step(x, t) -> (loss, mse, bpp)`` (floats) of the training recipe.

    loss = lambda(t) * 255^2 * MSE + bpp; gradient-norm clip 1.0; Adam. The forward takes only
    tensors (the gain row for t and the noise, drawn from ``gen``), so torch.compile traces it
    once and never re-specialises on t. The forward runs under bf16 autocast on CUDA always and on
    the CPU with ``bf16`` (convolutions in bf16, the loss, the weights and Adam in fp32). With
    ``ranks`` this process computes its slice of the batch and the gradients are averaged over the
    ranks before the clip (ranks.py: the result is the whole batch's step).
    """
    autocast_device = "cuda" if cuda else "cpu"
    low_precision = cuda or bf16
    forward = torch.compile(model.train_forward, dynamic=False) if compile_forward else model.train_forward

    def step(x: torch.Tensor, t: float) -> tuple[float, float, float]:
        lmbda = model.gain.lmbda(t)
        noise = model.draw_noise(x, gen)
        if ranks is not None:      # every rank drew the whole batch and its noise: the RNG stays in step
            x, noise = ranks.shard(x), {k: ranks.shard(v) for k, v in noise.items()}
        model.train()
        with torch.autocast(autocast_device, dtype=torch.bfloat16, enabled=low_precision):
            x_hat, bits = forward(x, model.gain.log2_steps(t), noise)
        loss, mse, bpp = rd_loss(x, x_hat, bits, lmbda)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        stats = [float(v.detach()) for v in (loss, mse, bpp)] if ranks is None else \
            ranks.average(model.parameters(), [loss, mse, bpp])
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        return tuple(stats)

    return step


def _rng_state(gen: torch.Generator) -> dict:
    state = {"torch": torch.get_rng_state(), "gen": gen.get_state(), "python": random.getstate(),
             "numpy": np.random.get_state()}
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def _set_rng_state(gen: torch.Generator, state: dict) -> None:
    torch.set_rng_state(state["torch"])
    gen.set_state(state["gen"])
    random.setstate(state["python"])
    np.random.set_state(state["numpy"])
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


def save_checkpoint(path: Path, model, opt, step: int, elapsed: float, gen, args, campaign: dict | None = None) -> None:
    """Atomic write of everything needed to continue bit-exactly (``campaign``: totals before this session)."""
    payload = {"model": model.state_dict(), "opt": opt.state_dict(), "step": step, "elapsed": elapsed,
               "rng": _rng_state(gen), "args": vars(args), "config": model.config.to_dict(),
               "campaign": campaign or {}}
    tmp = path.with_suffix(".tmp")
    torch.save(payload, tmp)
    os.replace(tmp, path)


def _load_trained(model: Codec, opt: torch.optim.Optimizer, saved: dict, source, args) -> None:
    """Load weights and Adam state saved for this config, or for the same model on another rate ladder.

    A ladder change (e.g. a lower first lambda to reach 0.03 bpp) keeps every weight and moment; only
    the gain table gets new rows: remap_ladder continues the per-channel log2 steps in log(lambda),
    and its Adam moments take the nearest old point's (interpolation without extrapolation, so the
    second moment stays positive).
    """
    # through CodecConfig: a state saved before a field existed (e.g. N_analysis) reads as its default
    mine, theirs = model.config.to_dict(), CodecConfig.from_dict(saved["config"]).to_dict()
    if theirs == mine:
        model.load_state_dict(saved["model"])
        opt.load_state_dict(saved["opt"])
        return
    if {**theirs, "lambdas": mine["lambdas"]} != mine:
        raise ValueError(f"{source} is for another model config")
    old, new = theirs["lambdas"], mine["lambdas"]
    weights = dict(saved["model"])
    weights[GAIN_TABLE] = remap_ladder(weights[GAIN_TABLE], old, new)
    index = [name for name, _ in model.named_parameters()].index(GAIN_TABLE)
    opt_state = {"param_groups": saved["opt"]["param_groups"], "state": dict(saved["opt"]["state"])}
    moments = dict(opt_state["state"][index])
    for key in ("exp_avg", "exp_avg_sq"):
        moments[key] = remap_ladder(moments[key], old, new, extrapolate=False)
    opt_state["state"][index] = moments
    model.load_state_dict(weights)
    opt.load_state_dict(opt_state)
    _log(args, f"{source}: gain ladder remapped from {len(old)} to {len(new)} points ({old[0]:g}.. -> {new[0]:g}..)")


def cpu_has_native_bf16() -> bool:
    """Whether the CPU computes bf16 convolutions natively (AVX512-BF16 or AMX), the only case --bf16 pays."""
    return torch.cpu._is_avx512_bf16_supported() or torch.cpu._is_amx_tile_supported()


def train(args: argparse.Namespace, rank: int = 0) -> dict:
    """Run (or resume) training; returns the summary dict also written to summary.json.

    With ``--ranks N`` the caller is rank 0: it starts ranks 1..N-1 (ranks.py), which run this
    function too and write nothing; rank 0 logs, checkpoints and exports.
    """
    torch.set_num_threads(args.threads)
    device = torch.device("cuda" if args.device == "auto" and torch.cuda.is_available()
                          else ("cpu" if args.device == "auto" else args.device))
    cuda = device.type == "cuda"
    lead = rank == 0
    if args.ranks > 1 and cuda:
        raise ValueError("--ranks is for the CPU (a GPU takes the whole batch in one process)")
    if args.bf16 and not cuda and not cpu_has_native_bf16():
        # measured 2026-12-02 on an AVX2-only EPYC: 43 compiled bf16 steps in 300 s, against ~0.5-0.9 s/step in fp32
        raise ValueError("--bf16: this CPU has no native bf16 (AVX512-BF16 or AMX), so autocast would emulate "
                         "it at a fraction of fp32's speed; train without --bf16")
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    ckpt_path = out / "checkpoint.pt"
    workers = rank_group.start_workers(args) if args.ranks > 1 and lead else []
    try:
        return _train(args, rank, lead, device, cuda, out, ckpt_path)
    finally:
        rank_group.stop_workers(workers)
        rank_group.leave()


def _train(args, rank: int, lead: bool, device, cuda: bool, out: Path, ckpt_path: Path) -> dict:
    """train()'s body for one rank (the workers, if any, are started and stopped around it)."""
    random.seed(args.seed)
    np.random.seed(args.seed)
    torch.manual_seed(args.seed)
    gen = torch.Generator().manual_seed(args.seed)  # crops: CPU generator, same on CPU and CUDA

    config = get_config(args.profile)
    if args.latent_channels:      # the context model's constructor refuses an M it cannot group
        config = CodecConfig.from_dict({**config.to_dict(), "M": args.latent_channels})
    if args.analysis_channels:
        config = CodecConfig.from_dict({**config.to_dict(), "N_analysis": args.analysis_channels})
    model = Codec(config).to(device)
    if cuda:
        model = model.to(memory_format=torch.channels_last)
    opt = torch.optim.Adam(model.parameters(), lr=args.lr)
    step, elapsed_before, campaign = 0, 0.0, {}
    if ckpt_path.exists():
        ck = torch.load(ckpt_path, map_location=device, weights_only=False)
        _load_trained(model, opt, ck, ckpt_path, args)
        step, elapsed_before = ck["step"], ck["elapsed"]
        campaign = ck.get("campaign", {})
        _set_rng_state(gen, ck["rng"])
        _log(args, f"resumed from {ckpt_path} at step {step}")
    elif args.resume_state:
        # a new session of the campaign: weights, Adam moments and RNG from the committed state,
        # the schedule (warm-up, constant, anneal) from step 0 of this session's budget
        state = campaign_state.load(args.resume_state)
        _load_trained(model, opt, state, args.resume_state, args)
        _set_rng_state(gen, state["rng"])
        campaign = state["campaign"]
        _log(args, f"session starts from {args.resume_state} (campaign: {campaign.get('total_steps', 0)} steps)")
    elif args.init_weights:
        # the shipped weights carry no optimizer state: Adam starts fresh, the schedule from step 0
        init = load_model(args.init_weights)
        mine, theirs = model.config.to_dict(), init.config.to_dict()
        # Allowed differences: the rate ladder (remapped below), a larger latent or a wider g_a
        # (widened below) and dropping the context model (the '-noctx' ablation starts from the
        # same weights).
        same_arch = {**theirs, "lambdas": mine["lambdas"], "profile": mine["profile"], "M": mine["M"],
                     "use_context": mine["use_context"], "N_analysis": mine["N_analysis"]} == mine
        na_theirs, na_mine = analysis_width(theirs), analysis_width(mine)
        if (not same_arch or theirs["M"] > mine["M"] or na_theirs > na_mine
                or (mine["use_context"] and not theirs["use_context"])):
            raise ValueError(f"{args.init_weights} is a {init.config.profile} model with M={theirs['M']}, "
                             f"g_a width {na_theirs}, not {args.profile} with M={mine['M']}, g_a width "
                             f"{na_mine} (M and the g_a width may only grow)")
        if theirs["M"] != mine["M"] and na_theirs != na_mine:
            raise ValueError("widen M and the g_a width in two runs, not at once")
        state = init.state_dict()
        if not mine["use_context"]:
            state = {k: v for k, v in state.items() if not k.startswith("context.")}
        if theirs["lambdas"] != mine["lambdas"]:
            # same architecture, other rate ladder: carry the gain table over to the new lambdas
            state[GAIN_TABLE] = remap_ladder(state[GAIN_TABLE], theirs["lambdas"], mine["lambdas"])
            _log(args, f"gain ladder remapped from {len(theirs['lambdas'])} to {len(mine['lambdas'])} points")
        if theirs["M"] != mine["M"]:
            narrow = Codec(CodecConfig.from_dict({**mine, "M": theirs["M"]}))
            narrow.load_state_dict(state)
            state = widen_latent(narrow, model)
            _log(args, f"latent widened from M={theirs['M']} to M={mine['M']}")
        if na_theirs != na_mine:
            narrow = Codec(CodecConfig.from_dict({**mine, "N_analysis": theirs["N_analysis"]}))
            narrow.load_state_dict(state)
            state = widen_analysis(narrow, model)
            _log(args, f"g_a widened from {na_theirs} to {na_mine} channels")
        model.load_state_dict(state)
        _log(args, f"initialised from {args.init_weights} (model {init.model_id})")

    images = load_images(args.data, args.crop, device="cpu")
    if args.max_images:
        images = images[:args.max_images]
    if cuda:
        images = [im.to(device) for im in images]
    sampler = CropSampler(images, args.crop, gen)
    _log(args, f"{len(images)} training images in memory, {sum(i.numel() for i in images) / 1e6:.0f} MB; "
               f"model {args.profile}, {sum(p.numel() for p in model.parameters()) / 1e6:.2f} M params, {device}")

    peers = rank_group.join(rank, args.ranks, out) if args.ranks > 1 else None
    if lead:
        log_path = out / "log.csv"
        new_log = not log_path.exists() or step == 0
        log_file = open(log_path, "w" if new_log else "a", newline="")
        writer = csv.writer(log_file)
        if new_log:
            writer.writerow(["step", "elapsed_s", "lr", "loss", "mse", "psnr", "bpp", "t_mean"])

    signalled = []

    def _on_signal(signum, frame):
        if peers is None:
            raise _StopRequested()
        signalled.append(signum)  # with ranks: stop at the next step, together (a rank left mid-collective hangs)
    old_handlers = {s: signal.signal(s, _on_signal) for s in (signal.SIGTERM, signal.SIGINT)} if lead else {}

    k_max = model.gain.num_points - 1
    train_step = make_step(model, opt, gen, compile_forward=args.compile, cuda=cuda, bf16=args.bf16, ranks=peers)
    start = time.time()
    last_ckpt = start
    acc = {"loss": 0.0, "mse": 0.0, "bpp": 0.0, "t": 0.0, "n": 0}
    stopped_early = False
    try:
        while step < args.steps:
            elapsed = elapsed_before + time.time() - start
            progress = step / args.steps
            stop = bool(args.stop_at_step and step >= args.stop_at_step) or bool(signalled)
            if args.time_budget_s > 0:
                stop = stop or elapsed >= args.time_budget_s
                progress = max(progress, elapsed / args.time_budget_s)
            if peers is not None:   # rank 0's clock decides for all
                stop, progress = peers.control(stop, progress)
            if stop:
                stopped_early = True
                if signalled:
                    _log(args, f"stop requested at step {step}")
                break
            lr = args.lr * lr_factor(progress)
            for group in opt.param_groups:
                group["lr"] = lr
            x = sampler.batch(args.batch)
            # drawn either way (one uniform number): every schedule and a fixed-t run see the same crops
            t = T_SCHEDULES[args.t_schedule](float(torch.rand((), generator=gen))) * k_max
            if args.fixed_t is not None:
                t = args.fixed_t
            if cuda:
                x = x.contiguous(memory_format=torch.channels_last)
            loss, mse, bpp = train_step(x, t)
            step += 1
            acc["loss"] += loss
            acc["mse"] += mse
            acc["bpp"] += bpp
            acc["t"] += t
            acc["n"] += 1
            if lead and (step % args.log_every == 0 or step == args.steps):
                n = acc["n"]
                mse_avg = acc["mse"] / n
                row = [step, round(elapsed_before + time.time() - start, 1), f"{lr:.3g}", acc["loss"] / n,
                       mse_avg, 10 * math.log10(1 / max(mse_avg, 1e-12)), acc["bpp"] / n, acc["t"] / n]
                writer.writerow(row)
                log_file.flush()
                _log(args, f"step {step}/{args.steps} {row[1]:.0f}s lr {lr:.2e} loss {row[3]:.4f} "
                           f"psnr {row[5]:.2f} bpp {row[6]:.3f}")
                acc = {"loss": 0.0, "mse": 0.0, "bpp": 0.0, "t": 0.0, "n": 0}
            if lead and time.time() - last_ckpt > args.ckpt_every_s:
                save_checkpoint(ckpt_path, model, opt, step, elapsed_before + time.time() - start, gen, args,
                                campaign)
                last_ckpt = time.time()
    except _StopRequested:
        stopped_early = True
        _log(args, f"stop requested at step {step}")
    finally:
        for s, h in old_handlers.items():
            signal.signal(s, h)
        total = elapsed_before + time.time() - start
        if lead:
            save_checkpoint(ckpt_path, model, opt, step, total, gen, args, campaign)
            log_file.close()
    summary = {"step": step, "elapsed_s": round(total, 1), "stopped_early": stopped_early, "device": str(device),
               "threads": args.threads, "ranks": args.ranks, "args": vars(args), "config": model.config.to_dict()}
    if not lead:
        return summary
    if args.export:
        summary["model_id"] = save_weights(model.float().cpu(), args.export, extra={"train": summary.copy()})
    if args.save_state:
        ck = torch.load(ckpt_path, map_location="cpu", weights_only=False)
        totals = campaign_state.add_session(campaign, time.strftime("%Y-%m-%d"), step,
                                         step * args.batch * args.crop ** 2, total)
        campaign_state.save(args.save_state, campaign_state.compact(ck, totals))
        summary["campaign"] = totals
    (out / "summary.json").write_text(json.dumps(summary, indent=2))
    _log(args, f"done: step {step}, {total:.0f}s" + (f", exported {args.export}" if args.export else ""))
    return summary


def _log(args, msg: str) -> None:
    if not args.quiet:
        print(time.strftime("%H:%M:%S"), msg, flush=True)


def main(argv=None) -> None:
    """CLI entry."""
    train(parse_args(argv))


if __name__ == "__main__":
    main(sys.argv[1:])
