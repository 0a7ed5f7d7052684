"""The integer synthesis on a torch device (issue 33 item 5): the same integers as the C++ core
(core/int_synthesis.py) from the same quantised steps, so a CUDA decode of an integer stream can give the CPU's
pixels. Every value stays an exact integer in float64: the int16 bound keeps each sum below 2^31 (so any
summation order of a float64 convolution is exact), the IGDN's root argument below 2^52 (so the floor of the
correctly rounded square root is the integer root). cuDNN is bypassed for the convolutions: its algorithm
choice may include transforms (FFT) that are not exact.
"""
from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from jpegai_fast.core.constants import ACT_LIMIT, INT16_LIMIT
from jpegai_fast.core.int_synthesis import OUT_LIMIT, Y_FRAC_BITS, IntSynthesis, picture


def _shift_round(v: torch.Tensor, shift) -> torch.Tensor:
    """floor((v + 2^(s-1)) / 2^s), the core's rounding, per channel (``shift`` an array) or for all (an int);
    s = 0 leaves v. Exact on float64 integers."""
    s = torch.as_tensor(np.asarray(shift)).to(v)
    s = s[:, None, None] if s.ndim == 1 else s
    half = torch.where(s > 0, torch.exp2(s - 1), torch.zeros_like(s))
    return torch.floor((v + half) / torch.exp2(s))


def run_q(syn: IntSynthesis, y_hat, device, observe=None) -> np.ndarray:
    """``syn.run_q(y_hat)`` computed on ``device`` (torch), as int32 (3, H, W). ``observe(i, x)``, if given, sees
    each step's output (a float64 tensor of integers) as it is made (core/int_headroom.py)."""
    dev = torch.device(device)
    f64 = dict(dtype=torch.float64, device=dev)
    y = torch.as_tensor(np.asarray(y_hat, dtype=np.float64), **f64)
    x = torch.clamp(torch.floor(y * 2.0 ** Y_FRAC_BITS + 0.5), -INT16_LIMIT, INT16_LIMIT)
    with torch.no_grad(), torch.backends.cudnn.flags(enabled=False):
        for i, step in enumerate(syn.steps):
            if step["kind"] == "conv":
                w = torch.as_tensor(step["weight_q"], **f64)
                if step["transposed"]:
                    acc = F.conv_transpose2d(x[None], w.transpose(0, 1), stride=step["stride"],
                                             padding=step["padding"], output_padding=step["output_padding"])[0]
                else:
                    acc = F.conv2d(x[None], w, stride=step["stride"], padding=step["padding"])[0]
                acc = acc + torch.as_tensor(step["bias_q"], **f64)[:, None, None]
                limit = OUT_LIMIT if i + 1 == len(syn.steps) else INT16_LIMIT
                x = torch.clamp(_shift_round(acc, step["shift"]), -limit, limit)
                if observe is not None:
                    observe(i, x)
                continue
            sq = torch.clamp(_shift_round(x * x, step["square_shift"]), max=INT16_LIMIT)
            gamma = torch.as_tensor(step["gamma_q"], **f64)
            norm = torch.einsum("ij,jhw->ihw", gamma, sq) + torch.as_tensor(step["beta_q"], **f64)[:, None, None]
            norm = torch.clamp(_shift_round(norm, step["norm_shift"]), max=ACT_LIMIT)
            e = torch.as_tensor(step["root_exp"]).to(norm)[:, None, None]
            root = torch.floor(torch.sqrt(norm * torch.exp2(e)))
            x = torch.clamp(_shift_round(x * root, step["out_shift"]), -INT16_LIMIT, INT16_LIMIT)
            if observe is not None:
                observe(i, x)
    return x.cpu().numpy().astype(np.int32)


def run(syn: IntSynthesis, y_hat, device) -> np.ndarray:
    """As ``IntSynthesis.__call__`` on ``device``: (3, H, W) float32 in [0, 1] units (exact: Q14 / 2^14)."""
    return picture(run_q(syn, y_hat, device))
