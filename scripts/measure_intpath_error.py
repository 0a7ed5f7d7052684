"""Measures the integer hyper-synthesis and context model against float64 torch (docs/integer_path.md).

Usage: PYTHONPATH=$PWD python -P scripts/measure_intpath_error.py
Random weights (torch default init, and the same scaled x3 to mimic trained magnitudes); prints max and
mean absolute errors in Q units and the fraction of scale indices that differ from the float mapping.
"""
import numpy as np
import torch
import torch.nn as nn

from jpegai_fast.core.wavefront import ContextModel, from_q12
from jpegai_fast.core.intpath import IntHyperSynthesis, scale_indexes


def hyper(M=192, cz=192, n=192, seed=0, gain=1.0):
    torch.manual_seed(seed)
    h_s = nn.Sequential(
        nn.ConvTranspose2d(cz, n, 5, stride=2, padding=2, output_padding=1), nn.ReLU(),
        nn.ConvTranspose2d(n, n * 3 // 2, 5, stride=2, padding=2, output_padding=1), nn.ReLU(),
        nn.Conv2d(n * 3 // 2, 2 * M, 3, padding=1),
    )
    with torch.no_grad():
        for p in h_s.parameters():
            p.mul_(gain)
    return h_s


def hyper_errors(gain, zmax):
    M = 192
    h_s = hyper(gain=gain)
    z = np.random.default_rng(0).integers(-zmax, zmax + 1, (192, 8, 12)).astype(np.int32)
    mu_q, sig_q = IntHyperSynthesis.from_module(h_s, M).run(z, threads=2)
    with torch.no_grad():
        ref = h_s.double()(torch.from_numpy(z).double()[None])[0].numpy()
    mu_err = np.abs(mu_q - ref[:M] * 4096)
    sig_err = np.abs(sig_q - ref[M:] * 256)
    log2step = np.zeros(M, np.int32)
    idx = scale_indexes(sig_q, log2step)
    idx_float = np.clip(np.floor((ref[M:] * 256 + 880) / 32), 0, 75)  # same mapping, float L
    print(f"h_s gain {gain} |z|<={zmax}: |mu| max {np.abs(ref[:M]).max():.3g}, |log2sigma| max {np.abs(ref[M:]).max():.3g}")
    print(f"  mu error: max {mu_err.max():.2f} mean {mu_err.mean():.3f} Q12 units")
    print(f"  log2sigma error: max {sig_err.max():.2f} mean {sig_err.mean():.3f} Q8 units")
    print(f"  scale index differs from float-L index: {np.mean(idx != idx_float) * 100:.3f}% (max diff {np.abs(idx - idx_float).max():.0f})")


def context_errors():
    M, H, W = 192, 32, 48
    torch.manual_seed(0)
    conv = nn.Conv2d(M, M, 5, padding=2, groups=M // 16)
    mask = torch.zeros(5, 5)
    mask[:2, :4] = 1
    mask[2, :2] = 1
    model = ContextModel.from_module(conv)
    rng = np.random.default_rng(0)
    mu_h = rng.integers(-8000, 8000, (M, H, W)).astype(np.int32)
    step = np.full(M, 4096, np.int32)
    y = rng.normal(0, 3, (M, H, W)).astype(np.float32)
    q, y_hat = model.quantise(y, mu_h, step, threads=2)
    mu_int = y_hat.astype(np.int64) - q.astype(np.int64) * step[:, None, None]
    with torch.no_grad():
        ctx = torch.nn.functional.conv2d(torch.from_numpy(from_q12(y_hat)).double()[None], (conv.weight * mask).double(),
                                         conv.bias.double(), padding=2, groups=M // 16)[0].numpy()
    err = np.abs(mu_int - (mu_h / 4096.0 + ctx) * 4096)
    print(f"context mean (same y_hat) vs float64 masked conv: max {err.max():.2f} mean {err.mean():.3f} Q12 units")


if __name__ == "__main__":
    hyper_errors(1.0, 4)
    hyper_errors(3.0, 20)
    context_errors()
