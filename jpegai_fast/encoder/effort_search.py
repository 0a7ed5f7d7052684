"""The effort search: test-time optimisation of the latents; decoder, weights and format unchanged.

Effort 1 (the default, effort.py) is the amortised encoder: y = g_a(x), z_hat = round(h_a(y)).
Higher levels refine each tile's y and z by Stochastic Gumbel Annealing (SGA; after Yang, Bamler & Mandt,
"Improving Inference for Neural Image Compression", NeurIPS 2020): Adam on the training loss

    bits(y, z) / pixels + lambda(t) * 255^2 * MSE(x, g_s(y_hat))

with the rate from the likelihoods the coder uses (Gaussian bins of the mean-removed symbol, its
sigma snapped to the coding tables' 1/8-octave ladder; the factorised prior for z) and the
distortion under the real synthesis, against the original pixels. Rounding is replaced by a
Gumbel-softmax choice between floor and ceil, logits -atanh(distance) / tau, with tau annealed
from 0.5 towards hard rounding, so the optimiser can move a value across a quantisation boundary
where that pays.

The result is an ordinary latent. The encoder quantises it through the normal integer
hyper-synthesis and C++ wavefront loop (encoder/latent.py), so every decoder decodes it bit-exactly.
The context model's input during the search is the previous iteration's y_hat (the value the
decoder's causal recursion converges to), with the gradient taken through y.

Needs torch autograd (CPU or CUDA). Deterministic: the Gumbel noise comes from a generator seeded
by the tile index, and on the CPU the search runs torch on one thread whatever ``threads`` is:
torch's CPU convolutions pick their blocking by thread count, so their float sums (and, through
a flipped rounding, the bytes) differed between 1 and 2 threads (tested: same bytes for 1 and 2).
"""
from __future__ import annotations

import math

import numpy as np
import torch

from jpegai_fast import pixels
from jpegai_fast.encoder import analysis
from jpegai_fast.format import tiling
from jpegai_fast.encoder.effort import ITERATIONS, LEARNING_RATE, check_effort
from jpegai_fast.core.constants import ACT_FRAC_BITS, LOG2_FRAC_BITS, LOG2_SIGMA_MIN, SCALES_PER_OCTAVE
from jpegai_fast.format.container import RATE_FRAC_BITS
from jpegai_fast.model.entropy_models import gaussian_likelihood

TAU_MAX = 0.5
#: SGA's schedule tau(i) = min(0.5, 0.5 exp(-1e-3 (i - 700))) for 2000 iterations, rescaled to n:
#: flat for the first 35 %, then down to 0.5 exp(-1.3) = 0.14 at the end, whatever n is.
TAU_FLAT_FRACTION = 0.35
TAU_DECAY_TOTAL = 1.3
_EPS = 1e-5
_SEED = 0x5ca1ab1e



def tau_at(i: int, n: int) -> float:
    """Gumbel-softmax temperature at iteration i of n."""
    flat = TAU_FLAT_FRACTION * n
    return min(TAU_MAX, TAU_MAX * math.exp(-TAU_DECAY_TOTAL / (1 - TAU_FLAT_FRACTION) * (i - flat) / n))


def sga_round(v: torch.Tensor, tau: float, gen: torch.Generator) -> torch.Tensor:
    """Soft rounding: floor(v) + relaxed Bernoulli(ceil), logits -atanh(distance) / tau, temperature tau."""
    f = torch.floor(v)
    d = (v - f).clamp(_EPS, 1 - _EPS)               # distance to floor; 1 - d to ceil
    u = torch.rand((2,) + tuple(v.shape), generator=gen, device=gen.device).clamp_(_EPS, 1 - _EPS).to(v.device)
    g = -torch.log(-torch.log(u))                   # Gumbel(0, 1)
    logit_floor = -torch.atanh(d) / tau + g[0]
    logit_ceil = -torch.atanh(1 - d) / tau + g[1]
    p_ceil = torch.sigmoid((logit_ceil - logit_floor) / tau)
    return f + p_ceil


def _snap_sigma(log2_sigma_over_step: torch.Tensor) -> torch.Tensor:
    """log2 sigma/step on the coding tables' 1/8-octave ladder (straight-through gradient)."""
    n = SCALES_PER_OCTAVE
    snapped = torch.round((log2_sigma_over_step - LOG2_SIGMA_MIN) * n) / n + LOG2_SIGMA_MIN
    return log2_sigma_over_step + (snapped - log2_sigma_over_step).detach()


class LatentOptimiser:
    """Refines the latent of each tile of one image at one rate (see the module docstring)."""

    def __init__(self, eng, arr: np.ndarray, bit_depth: int, grid: tiling.TileGrid, rate_q: int, effort: int,
                 device: torch.device, threads: int):
        self.eng, self.arr, self.bit_depth, self.grid = eng, arr, bit_depth, grid
        self.iterations = ITERATIONS[check_effort(effort)]
        self.device, self.threads = device, threads
        self.tdev = torch.device(str(device))
        log2_q, step_q = eng.steps(rate_q)                 # the exact steps the coder will use
        log2_one, one = np.float32(1 << LOG2_FRAC_BITS), np.float32(1 << ACT_FRAC_BITS)   # Q8, Q12
        self.log2_step = torch.from_numpy(log2_q.astype(np.float32) / log2_one).to(self.tdev).view(1, -1, 1, 1)
        self.step = torch.from_numpy(step_q.astype(np.float32) / one).to(self.tdev).view(1, -1, 1, 1)
        self.lmbda = eng.lmbda(rate_q / float(1 << RATE_FRAC_BITS))
        self.g_s = eng._module_on("g_s", device)
        self.h_a = eng._module_on("h_a", device)
        self.h_s = eng._module_on("h_s", device)
        self.context = eng._module_on("context", device) if eng.model.context is not None else None
        self.z_prior = eng._module_on("z_prior", device)
        self.M = eng.M

    def tile(self, i: int, y_own: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(refined y (M, th, tw) float32, z_hat (Cz, th/4, tw/4) int32) for tile ``i``."""
        g, eng = self.grid, self.eng
        rect = g.rect(i)
        ext = tiling.expand(rect, eng.synthesis_halo, g.lh, g.lw) if g.count > 1 else rect
        if ext == rect:
            y_ext = y_own
        else:   # the neighbours' latents, fixed, so the tile's border pixels see what the decoder sees
            y_ext = analysis.analyse_rect(eng.transform("g_a", self.device, self.threads), self.arr, self.bit_depth,
                                        ext, g.lh, g.lw, eng.analysis_halo)
        px = tiling.LATENT_PX
        x_ext = pixels.to_model_input(analysis.crop_pixels(self.arr, ext), self.bit_depth)
        own = (rect[0] - ext[0], rect[1] - ext[0], rect[2] - ext[2], rect[3] - ext[2])
        # pixels scored: the tile's own, inside the image (padding costs only rate)
        h_img, w_img = self.arr.shape[:2]
        core = (own[0] * px, min(own[1] * px, h_img - ext[0] * px), own[2] * px, min(own[3] * px, w_img - ext[2] * px))
        saved = torch.get_num_threads()
        torch.set_num_threads(1)     # thread-count-independent floats (module docstring)
        try:
            y, z = self._optimise(torch.from_numpy(x_ext).unsqueeze(0).to(self.tdev),
                                  torch.from_numpy(np.ascontiguousarray(y_ext)).unsqueeze(0).to(self.tdev),
                                  own, core, seed=_SEED + i)
        finally:
            torch.set_num_threads(saved)
        return y, z

    def _optimise(self, x, y_ext, own, core, seed: int) -> tuple[np.ndarray, np.ndarray]:
        oy0, oy1, ox0, ox1 = own
        cy0, cy1, cx0, cx1 = core
        step, log2_step, n = self.step, self.log2_step, self.iterations
        gen = torch.Generator(device="cpu").manual_seed(seed)
        y0 = y_ext[:, :, oy0:oy1, ox0:ox1]
        with torch.no_grad():
            z0 = self.h_a(y0)
        s = (y0 / step).clone().requires_grad_(True)        # y in units of its quantisation step
        zv = z0.clone().requires_grad_(True)
        opt = torch.optim.Adam([s, zv], lr=LEARNING_RATE)
        y_hat_prev = y0.clone()
        target = x[:, :, cy0:cy1, cx0:cx1]
        num_px = (cy1 - cy0) * (cx1 - cx0)
        m = self.M
        for it in range(n):
            tau = tau_at(it, n)
            z_t = sga_round(zv, tau, gen)
            hyper = self.h_s(z_t)
            mu, log2_sigma = hyper[:, :m], hyper[:, m:]
            v = s * step
            if self.context is not None:
                mu = mu + self.context(v + (y_hat_prev - v).detach())
            u_t = sga_round((v - mu) / step, tau, gen)
            y_hat = u_t * step + mu
            y_lik = gaussian_likelihood(u_t, _snap_sigma(log2_sigma - log2_step))
            bits = -(torch.log2(y_lik).sum() + torch.log2(self.z_prior.likelihood(z_t)).sum())
            full = y_ext.clone()
            full[:, :, oy0:oy1, ox0:ox1] = y_hat
            x_hat = self.g_s(full)[:, :, cy0:cy1, cx0:cx1]
            loss = bits / num_px + self.lmbda * 255.0 ** 2 * torch.mean((x_hat - target) ** 2)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            y_hat_prev = y_hat.detach()
        with torch.no_grad():        # hard decisions, placed on the decoder's grid
            z_hat = torch.round(zv)
            hyper = self.h_s(z_hat)
            mu = hyper[:, :m]
            v = s * step
            if self.context is not None:
                mu = mu + self.context(y_hat_prev)
            y = torch.round((v - mu) / step) * step + mu
        return (np.ascontiguousarray(y[0].float().cpu().numpy(), dtype=np.float32),
                z_hat[0].cpu().numpy().astype(np.int32))
