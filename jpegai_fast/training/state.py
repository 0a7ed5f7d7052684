"""The training campaign's committed state: compact, one path, resumable across sessions.

A session's checkpoint (train.py, runs/<name>/checkpoint.pt) holds fp32 Adam moments and is ~27 MB
for the light model; the committed state must stay under 12 MB, so it keeps the weights in fp32
(exact), the second Adam moment as 8-bit logarithms (per tensor: log2 range in 255 steps, 0 = zero;
Adam uses it only as a running scale; the error is half a step of range/254 octaves, < 6 % for the
~30 octaves a tensor spans, < 3 % on its sqrt) and drops the first moment
(momentum; it rebuilds within ~10 steps at beta1 = 0.9), ~11 MB. It also carries the
RNG states, the config and the campaign's totals, so the next session resumes from exactly this
state (``python -m jpegai_fast.training.train --resume-state training/light_state.pt ...``):

  * ``model``: fp32 state dict; ``opt``: Adam step counts and the 8-bit second moments; ``rng``: every RNG state;
  * ``config``: the model config; ``campaign``: totals over all sessions (steps, training pixels)
    and one row per session.

  python -m jpegai_fast.training.state --checkpoint runs/x/checkpoint.pt --out training/light_state.pt \\
      --session-date 2026-12-01 [--prior training/light_state.pt | --prior-steps N --prior-pixels P]
"""
from __future__ import annotations

import argparse
import os
from pathlib import Path

import torch

FORMAT = "jpegai_fast-train-state-v2"
def _pack_log8(v: torch.Tensor) -> dict:
    """Non-negative tensor -> uint8 codes of log2(v) over its own range (0 codes exact zeros)."""
    v = v.float()
    pos = v > 0
    if not bool(pos.any()):
        return {"codes": torch.zeros(v.shape, dtype=torch.uint8), "lo": 0.0, "hi": 0.0}
    lg = torch.log2(torch.where(pos, v, torch.ones_like(v)))
    lo, hi = float(lg[pos].min()), float(lg[pos].max())
    scale = (hi - lo) / 254 if hi > lo else 1.0
    codes = torch.where(pos, torch.round((lg - lo) / scale) + 1, torch.zeros_like(lg)).to(torch.uint8)
    return {"codes": codes, "lo": lo, "hi": hi}


def _unpack_log8(packed: dict) -> torch.Tensor:
    codes, lo, hi = packed["codes"], packed["lo"], packed["hi"]
    scale = (hi - lo) / 254 if hi > lo else 1.0
    v = torch.exp2(lo + (codes.float() - 1) * scale)
    return torch.where(codes > 0, v, torch.zeros_like(v))


def compact(checkpoint: dict, campaign: dict) -> dict:
    """A session checkpoint -> the committed state (8-bit log second moment, no first moment, totals)."""
    opt = {"param_groups": checkpoint["opt"]["param_groups"], "state": {}}
    for k, st in checkpoint["opt"]["state"].items():
        opt["state"][k] = {"step": st["step"], "exp_avg_sq_log8": _pack_log8(st["exp_avg_sq"])}
    return {"format": FORMAT, "model": {k: v.float() for k, v in checkpoint["model"].items()}, "opt": opt,
            "rng": checkpoint["rng"], "config": checkpoint["config"], "campaign": campaign}


def expand(state: dict) -> dict:
    """The committed state -> model state dict and optimizer state dict (fp32 moments) to load."""
    if state.get("format") != FORMAT:
        raise ValueError(f"not a jpegai_fast training state (format {state.get('format')!r})")
    opt = {"param_groups": state["opt"]["param_groups"], "state": {}}
    for k, st in state["opt"]["state"].items():
        sq = _unpack_log8(st["exp_avg_sq_log8"])
        opt["state"][k] = {"step": st["step"], "exp_avg": torch.zeros_like(sq), "exp_avg_sq": sq}
    return {"model": state["model"], "opt": opt, "rng": state["rng"], "config": state["config"],
            "campaign": state["campaign"]}


def load(path) -> dict:
    """Read a committed state (expanded, ready for train.py)."""
    return expand(torch.load(path, map_location="cpu", weights_only=False))


def save(path, state: dict) -> None:
    """Atomic write (a crash never leaves a half-written state at ``path``)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    torch.save(state, tmp)
    os.replace(tmp, path)


def add_session(campaign: dict, date: str, steps: int, pixels: int, elapsed_s: float, note: str = "") -> dict:
    """Campaign totals with one more session."""
    sessions = list(campaign.get("sessions", [])) + [
        {"date": date, "steps": steps, "pixels": pixels, "elapsed_s": round(elapsed_s, 1), "note": note}]
    return {"total_steps": campaign.get("total_steps", 0) + steps,
            "total_pixels": campaign.get("total_pixels", 0) + pixels, "sessions": sessions}


def main(argv=None) -> None:
    p = argparse.ArgumentParser(prog="python -m jpegai_fast.training.state", description=__doc__.splitlines()[0])
    p.add_argument("--checkpoint", required=True, help="a session's runs/<name>/checkpoint.pt")
    p.add_argument("--out", required=True, help="the committed state to write (one path, overwritten)")
    p.add_argument("--session-date", required=True)
    p.add_argument("--prior", help="the committed state this session started from (its campaign totals)")
    p.add_argument("--prior-steps", type=int, default=0, help="without --prior: steps before this session")
    p.add_argument("--prior-pixels", type=int, default=0, help="without --prior: training pixels before it")
    p.add_argument("--session-start-step", type=int, default=0,
                   help="checkpoint step at which this session started (0 unless it resumed a checkpoint)")
    p.add_argument("--note", default="")
    args = p.parse_args(argv)
    ck = torch.load(args.checkpoint, map_location="cpu", weights_only=False)
    campaign = load(args.prior)["campaign"] if args.prior else \
        {"total_steps": args.prior_steps, "total_pixels": args.prior_pixels, "sessions": []}
    a = ck["args"]
    steps = ck["step"] - args.session_start_step
    campaign = add_session(campaign, args.session_date, steps, steps * a["batch"] * a["crop"] ** 2, ck["elapsed"],
                           args.note)
    save(args.out, compact(ck, campaign))
    size = Path(args.out).stat().st_size / 1e6
    print(f"{args.out}: {size:.1f} MB, campaign {campaign['total_steps']} steps, "
          f"{campaign['total_pixels'] / 1e9:.2f} G training pixels over {len(campaign['sessions'])} recorded sessions")


if __name__ == "__main__":
    main()
