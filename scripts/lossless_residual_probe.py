"""Probe (issue 32 item 2): how much of a learned base's bytes a lossless layer over it could win back.

Progressive-to-lossless means a learned stream as the prefix and a lossless layer that completes it; the
full stream costs base + layer bytes against the plain lossless stream's. This probe estimates the layer's
bytes for a few designs of a base-aware plane coder, without writing one: the colour planes (G, R - G,
B - G) of the image and of the decoded base, per 16 x 16 block the predictor with the smallest total
log-residual (as the plane coder picks its modes), and the ideal static code length of the residuals per
context (what the plane coder's per-context tables cost, less the tables). Predictors:

  plain  MED(x): the plane coder's own median edge detector on the causal neighbours;
  base   b + MED(x - b): the base, corrected by the causal neighbours' residuals against it;
  grad   MED(x) + (b - MED(b)): the causal prediction, moved by the base's own prediction error there.

Designs: "plain" (no base: the reference), "plain+base" and "plain+base+grad" (per-block choice), with
the plain contexts (activity of the causal neighbours) and, for "+ctx", each context split further by how
well MED predicts the base at that pixel. Printed: the estimated layer bytes and (base + layer) against
the plain estimate, per base quality.

  PYTHONPATH=$PWD python -P scripts/lossless_residual_probe.py ../shared/datasets/kodak/kodim01.png --qualities 10 30 50 75
"""
from __future__ import annotations

import argparse

import numpy as np

import jpegai_fast
from jpegai_fast.files.images import read_image

BLOCK = 16


def code_length(symbols: np.ndarray, contexts: np.ndarray) -> float:
    """Bits of ``symbols`` under one ideal static table per context (the tables' own bytes left out)."""
    sym, ctx = symbols.astype(np.int64).ravel(), contexts.astype(np.int64).ravel()
    _, inverse, counts = np.unique(ctx * (1 << 20) + sym - sym.min(), return_inverse=True, return_counts=True)
    per_context = np.bincount(ctx)
    return float(-np.log2(counts[inverse] / per_context[ctx]).sum())


def neighbours(a: np.ndarray) -> tuple[np.ndarray, ...]:
    """W, N, NW, NE of every sample (edge samples repeat: the estimate needs no exact border rule)."""
    p = np.pad(a, 1, mode="edge")
    return p[1:-1, :-2], p[:-2, 1:-1], p[:-2, :-2], p[:-2, 2:]


def med(w: np.ndarray, n: np.ndarray, nw: np.ndarray) -> np.ndarray:
    return np.clip(w + n - nw, np.minimum(w, n), np.maximum(w, n))


def bucket(a: np.ndarray) -> np.ndarray:
    """0..7: floor(log2(1 + |a|)), capped."""
    return np.minimum(np.floor(np.log2(1 + np.abs(a))).astype(np.int64), 7)


def planes(rgb: np.ndarray) -> list[np.ndarray]:
    x = rgb.astype(np.int64)
    return [x[..., 1], x[..., 0] - x[..., 1], x[..., 2] - x[..., 1]]


def per_block_choice(errors: list[np.ndarray]) -> np.ndarray:
    """Per pixel, the index of the predictor its block picks (smallest sum of log2(1 + |e|))."""
    h, w = errors[0].shape
    hb, wb = -(-h // BLOCK), -(-w // BLOCK)
    costs = [np.pad(np.log2(1 + np.abs(e)), ((0, hb * BLOCK - h), (0, wb * BLOCK - w)))
             .reshape(hb, BLOCK, wb, BLOCK).sum((1, 3)) for e in errors]
    return np.kron(np.argmin(np.stack(costs), 0), np.ones((BLOCK, BLOCK), np.int64))[:h, :w]


def layer_bits(x: np.ndarray, b: np.ndarray | None, design: str) -> float:
    """Estimated bits of plane x's layer under ``design`` (base plane b; None for "plain")."""
    w_, n_, nw, ne = neighbours(x)
    activity = bucket(np.abs(w_ - nw) + np.abs(n_ - nw) + np.abs(n_ - ne))
    predictions = [med(w_, n_, nw)]
    if b is not None:
        rw, rn, rnw, _ = neighbours(x - b)
        predictions.append(b + med(rw, rn, rnw))
        bw, bn, bnw, _ = neighbours(b)
        if "grad" in design:
            predictions.append(predictions[0] + b - med(bw, bn, bnw))
    errors = [x - p for p in predictions]
    choice = per_block_choice(errors)
    residual = np.choose(choice, errors)
    contexts = choice * 8 + activity
    if design.endswith("+ctx"):
        contexts = contexts * 8 + bucket(b - med(bw, bn, bnw))
    return code_length(residual, contexts)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("images", nargs="+")
    ap.add_argument("--qualities", type=int, nargs="+", default=[10, 30, 50, 75])
    args = ap.parse_args()
    designs = ["plain+base", "plain+base+grad", "plain+base+grad+ctx"]
    for path in args.images:
        rgb = read_image(path)
        px = rgb.shape[0] * rgb.shape[1]
        plain = sum(layer_bits(x, None, "plain") for x in planes(rgb)) / 8
        real = len(jpegai_fast.encode(rgb, lossless=True))
        print(f"{path.rsplit('/', 1)[-1]}: plain estimate {plain:,.0f} B (the real lossless stream: {real:,} B)")
        for q in args.qualities:
            stream = jpegai_fast.encode(rgb, quality=q)
            base = planes(jpegai_fast.decode(stream))
            cells = []
            for design in designs:
                layer = sum(layer_bits(x, b, design) for x, b in zip(planes(rgb), base)) / 8
                cells.append(f"{design} {layer:,.0f} B ({(len(stream) + layer) / plain * 100 - 100:+.1f} %)")
            print(f"  q{q}: base {len(stream):,} B ({8 * len(stream) / px:.2f} bpp, "
                  f"{len(stream) / plain * 100:+.1f} % alone); " + "; ".join(cells), flush=True)


if __name__ == "__main__":
    main()
