"""The learned codec: analysis/synthesis (x16), hyperprior (x64), gain units and context model.

Quantisation in training ("mixed", as in Minnen & Singh 2020 / ELIC):
* rate: additive uniform noise on u = (y - mu) / step, an unbiased smooth stand-in for the
  rounding the coder does, so the likelihood gradients are well defined;
* distortion: straight-through rounding, y_hat = round(u) * step + mu in the forward pass, so
  the synthesis is trained on exactly the values it will see at decode time (no train/test
  mismatch in the decoder, which pure noise training leaves). Its gradient w.r.t. the step is the
  quantisation error, which still tells the gain units that a coarser step costs distortion;
* context input: y + step * noise, a causal-free stand-in for y_hat (whose true value depends on
  the context's own output); eval() runs the exact wavefront recursion instead.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field

import torch
import torch.nn as nn

from jpegai_fast.model.context import MaskedGroupedConv5x5, wavefront_index
from jpegai_fast.model.entropy_models import FactorizedPrior, gaussian_likelihood
from jpegai_fast.model.gain import DEFAULT_LAMBDAS, GainUnits
from jpegai_fast.model.layers import build_sequential
from jpegai_fast.runtime import architecture
from jpegai_fast.runtime.architecture import HYPER_DOWNSCALE, LATENT_PX as DOWNSCALE


@dataclass(frozen=True)
class CodecConfig:
    """Architecture hyper-parameters. N: transform width, M: latent channels (multiple of 16),
    hyper_width: width of the hyper transforms, z_channels: hyper-latent channels, N_analysis: width
    of the analysis transform alone (None: N). A wider g_a costs encode time only: the decoder runs
    g_s, so an asymmetric model keeps the decoder's kMAC/px."""

    profile: str = "default"
    N: int = 112
    M: int = 192
    hyper_width: int = 128
    z_channels: int = 128
    lambdas: tuple = field(default=DEFAULT_LAMBDAS)
    use_context: bool = True
    N_analysis: int | None = None

    def to_dict(self) -> dict:
        """JSON-friendly dict (lambdas as a list)."""
        d = asdict(self)
        d["lambdas"] = list(self.lambdas)
        return d

    @classmethod
    def from_dict(cls, d: dict) -> "CodecConfig":
        """Inverse of to_dict; unknown keys raise."""
        d = dict(d)
        d["lambdas"] = tuple(d.get("lambdas", DEFAULT_LAMBDAS))
        return cls(**d)


PROFILES: dict[str, CodecConfig] = {
    "default": CodecConfig(profile="default", N=112, M=192, hyper_width=128, z_channels=128),
    "light": CodecConfig(profile="light", N=64, M=160, hyper_width=96, z_channels=64),
}


def get_config(profile: str) -> CodecConfig:
    """Config of a named profile ('default', 'light'; suffix '-noctx' drops the context model)."""
    base, _, variant = profile.partition("-")
    if base not in PROFILES or variant not in ("", "noctx"):
        raise ValueError(f"unknown profile {profile!r}; known: {sorted(PROFILES)} (+ '-noctx')")
    cfg = PROFILES[base]
    if variant == "noctx":
        cfg = CodecConfig(**{**asdict(cfg), "profile": profile, "use_context": False})
    return cfg


def _ste_round(v: torch.Tensor) -> torch.Tensor:
    return v + (torch.round(v) - v).detach()


class Codec(nn.Module):
    """Variable-rate learned image codec (see module docstring for the quantisation scheme)."""

    def __init__(self, config: CodecConfig | None = None):
        super().__init__()
        cfg = config or PROFILES["default"]
        if cfg.M % 16:
            raise ValueError("M must be a multiple of 16 (context groups)")
        self.config = cfg
        layers = architecture.transforms(cfg.to_dict())
        self.g_a = build_sequential(layers["g_a"])
        self.g_s = build_sequential(layers["g_s"])
        self.h_a = build_sequential(layers["h_a"])
        # h_s: only Conv2d / ConvTranspose2d / ReLU, run in integers by the pipeline (intpath.py)
        self.h_s = build_sequential(layers["h_s"])
        m, cz = cfg.M, cfg.z_channels
        self.context = MaskedGroupedConv5x5(m) if cfg.use_context else None
        self.gain = GainUnits(m, cfg.lambdas)
        self.z_prior = FactorizedPrior(cz)

    # ---- pieces the pipeline calls ------------------------------------------------------------
    def analysis(self, x: torch.Tensor) -> torch.Tensor:
        """x (B, 3, H, W) RGB in [0, 1], H and W multiples of 64 -> y (B, M, H/16, W/16)."""
        _check_image(x)
        return self.g_a(x)

    def hyper_analysis(self, y: torch.Tensor) -> torch.Tensor:
        """y -> z (B, Cz, H/64, W/64), unrounded."""
        return self.h_a(y)

    def hyper_params(self, z_hat: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """z_hat -> (mu_hyper, log2sigma), each (B, M, H/16, W/16), ungained latent domain."""
        out = self.h_s(z_hat)
        m = self.config.M
        return out[:, :m], out[:, m:]

    def synthesis(self, y_hat: torch.Tensor) -> torch.Tensor:
        """y_hat (B, M, h, w) -> x_hat (B, 3, 16h, 16w), unclamped."""
        return self.g_s(y_hat)

    def log2_steps(self, t: float) -> torch.Tensor:
        """Per-channel log2 quantisation steps L(t) (M,)."""
        return self.gain.log2_steps(t)

    @torch.no_grad()
    def quantise_latent(self, y: torch.Tensor, mu_hyper: torch.Tensor, t: float
                        ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Float reference of the decoder's wavefront loop.

        Returns (q int32, y_hat, mu): q = round((y - mu) / step), y_hat = q * step + mu, with mu =
        mu_hyper + context(y_hat) evaluated causally, one wavefront step j + 2i at a time.
        """
        step = torch.exp2(self.gain.log2_steps(t)).view(1, -1, 1, 1)
        if self.context is None:
            q = torch.round((y - mu_hyper) / step)
            return q.to(torch.int32), q * step + mu_hyper, mu_hyper
        h, w = y.shape[-2:]
        front = wavefront_index(h, w).to(y.device)
        y_hat = torch.zeros_like(y)
        q = torch.zeros_like(y)
        mu = torch.zeros_like(y)
        for t_front in range(int(front.max()) + 1):
            sel = (front == t_front).view(1, 1, h, w)
            mu_now = mu_hyper + self.context(y_hat)
            q_now = torch.round((y - mu_now) / step)
            q = torch.where(sel, q_now, q)
            mu = torch.where(sel, mu_now, mu)
            y_hat = torch.where(sel, q_now * step + mu_now, y_hat)
        return q.to(torch.int32), y_hat, mu

    # ---- training / estimation ----------------------------------------------------------------
    def draw_noise(self, x: torch.Tensor, generator: torch.Generator | None = None) -> dict:
        """Uniform noise in [-0.5, 0.5) for one training forward of x, drawn outside the graph.

        Drawn here (not inside train_forward) so the compiled and the eager step use the same
        numbers from the same generator, and a resumed run draws what the uninterrupted one did.
        """
        b, _, h, w = x.shape
        m, cz = self.config.M, self.config.z_channels
        shapes = {"z": (b, cz, h // HYPER_DOWNSCALE, w // HYPER_DOWNSCALE),
                  "y_ctx": (b, m, h // DOWNSCALE, w // DOWNSCALE), "u": (b, m, h // DOWNSCALE, w // DOWNSCALE)}
        return {k: torch.rand(v, generator=generator, device=generator.device if generator else "cpu")
                .to(x.device).sub_(0.5) for k, v in shapes.items()}

    def train_forward(self, x: torch.Tensor, log2_step: torch.Tensor, noise: dict) -> tuple[torch.Tensor, torch.Tensor]:
        """Training forward with tensors only (torch.compile-friendly): returns (x_hat, bits).

        log2_step (M,) from gain.log2_steps(t) (differentiable w.r.t. the gain table), noise from
        draw_noise. Mixed quantisation as in the module docstring.
        """
        y = self.analysis(x)
        z = self.hyper_analysis(y)
        log2_step = log2_step.view(1, -1, 1, 1)
        step = torch.exp2(log2_step)
        z_lik = self.z_prior.likelihood(z + noise["z"])
        z_hat = _ste_round(z)
        mu_h, log2_sigma = self.hyper_params(z_hat)
        mu = mu_h
        if self.context is not None:
            mu = mu_h + self.context(y + step * noise["y_ctx"])
        u = (y - mu) / step
        y_lik = gaussian_likelihood(u + noise["u"], log2_sigma - log2_step)
        y_hat = _ste_round(u) * step + mu
        x_hat = self.synthesis(y_hat)
        bits = -(torch.log2(y_lik).sum() + torch.log2(z_lik).sum())
        return x_hat, bits

    def forward(self, x: torch.Tensor, t: float) -> dict:
        """Returns x_hat, likelihoods {'y', 'z'} and bpp (bits estimated from the likelihoods).

        In train() mode uses the mixed noise/STE quantisation (train_forward); in eval() mode exact
        rounding and the causal wavefront recursion (what the real codec does, in float).
        """
        num_px = x.shape[0] * x.shape[2] * x.shape[3]
        if self.training:
            x_hat, bits = self.train_forward(x, self.gain.log2_steps(t), self.draw_noise(x))
            return {"x_hat": x_hat, "bpp": bits / num_px}
        y = self.analysis(x)
        z = self.hyper_analysis(y)
        log2_step = self.gain.log2_steps(t).view(1, -1, 1, 1)
        z_hat = torch.round(z)
        z_lik = self.z_prior.likelihood(z_hat)
        mu_h, log2_sigma = self.hyper_params(z_hat)
        q, y_hat, _ = self.quantise_latent(y, mu_h, t)
        y_lik = gaussian_likelihood(q.to(y.dtype), log2_sigma - log2_step)
        x_hat = self.synthesis(y_hat)
        bits = -(torch.log2(y_lik).sum() + torch.log2(z_lik).sum())
        return {"x_hat": x_hat, "likelihoods": {"y": y_lik, "z": z_lik}, "bpp": bits / num_px}


def _check_image(x: torch.Tensor) -> None:
    if not isinstance(x, torch.Tensor):
        raise TypeError(f"expected a torch.Tensor, got {type(x).__name__}")
    if x.dim() != 4 or x.shape[1] != 3:
        raise ValueError(f"expected (B, 3, H, W), got {tuple(x.shape)}")
    if x.shape[2] % HYPER_DOWNSCALE or x.shape[3] % HYPER_DOWNSCALE:
        raise ValueError(f"H and W must be multiples of {HYPER_DOWNSCALE} (pad first), got {tuple(x.shape[2:])}")
    if not x.is_floating_point():
        raise TypeError("expected a float tensor in [0, 1]")
