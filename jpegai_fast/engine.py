"""One loaded model ready to code: torch transforms, integer hyper-synthesis, context loop, tables.

Built once per weights file and cached; every stage the encoder and decoder share lives here so
the two sides cannot drift apart.
"""
from __future__ import annotations

import copy
import functools

import numpy as np
import torch

from . import coder
from .context import ContextModel
from .conv_engine import CpuAnalysis, CpuSynthesis
from .errors import DecodeError
from .intpath import IntHyperSynthesis, step_q_from_log2
from .model.weights import WEIGHTS_DIR, load_model
from .rate import RATE_FRAC_BITS, log2_steps_q
from .tiling import halo_for

LATENT_SCALE = 1.0 / 4096.0   # Q12


class Engine:
    downsampling = 64          # g_a (x16) then h_a (x4)

    def __init__(self, model: torch.nn.Module):
        # inference only: no parameter gradients (the effort search differentiates w.r.t. latents alone)
        self.model = model.eval().requires_grad_(False)
        self.model_id = bytes.fromhex(model.model_id)[:8]
        ladder = model.gain.log2_step_table.detach().double().cpu().numpy()   # (K, M)
        self.ladder_q = np.rint(ladder * 256.0).astype(np.int64)
        self.num_rate_points = self.ladder_q.shape[0]
        self.rate_q_max = (self.num_rate_points - 1) << RATE_FRAC_BITS
        self.M = self.ladder_q.shape[1]
        pmf, offsets = model.z_prior.pmf_table()
        self.z_cdfs, self.z_lengths = coder.pmf_to_cdf(pmf)
        self.z_offsets = np.ascontiguousarray(offsets, dtype=np.int32)
        self.Cz = len(self.z_offsets)
        self.hyper_int = IntHyperSynthesis.from_module(model.h_s, self.M)
        self.ctx = ContextModel.from_module(model.context) if model.context is not None \
            else ContextModel(np.zeros((self.M, 16, 10), np.int32), np.zeros(self.M, np.int32))
        # latent positions each float transform needs around a tile (tiling.py)
        self.analysis_halo = halo_for(model.g_a, upsampling=False)
        self.synthesis_halo = halo_for(model.g_s, upsampling=True)
        self.synthesis_gain = _input_gain(model.g_s, self.M)
        self._cpu_transforms: dict = {}
        self._device_modules: dict = {}

    def _module_on(self, name: str, device: torch.device) -> torch.nn.Module:
        """Sub-module ``name`` on ``device``: the CPU model itself, elsewhere a cached copy.

        The CPU model is never moved: the conv engine, the integer path and concurrent CPU calls all
        read it, so an accelerator gets its own copy of each module it runs.
        """
        module = getattr(self.model, name)
        if device.type == "cpu":
            return module
        key = (name, str(device))
        if key not in self._device_modules:
            self._device_modules[key] = copy.deepcopy(module).to(device).eval()
        return self._device_modules[key]

    # --- shapes and rate -------------------------------------------------------------------------
    def latent_shape(self, height: int, width: int) -> tuple[int, int]:
        f = self.downsampling
        return -(-height // f) * (f // 16), -(-width // f) * (f // 16)

    def steps(self, rate_q: int) -> tuple[np.ndarray, np.ndarray]:
        """(log2 step Q8, step Q12) per channel at rate ``rate_q``."""
        log2_q = log2_steps_q(self.ladder_q, rate_q)
        log2_q = log2_q.astype(np.int32)
        return log2_q, step_q_from_log2(log2_q)

    # --- transforms (torch, float) ---------------------------------------------------------------
    @torch.no_grad()
    def analyse(self, x: np.ndarray, device: torch.device) -> tuple[np.ndarray, np.ndarray]:
        """Whole-image (untiled) g_a and h_a: the reference the tiled pipeline is tested against."""
        t = torch.from_numpy(x).unsqueeze(0).to(device)
        y = self._module_on("g_a", device)(t)
        z = self._module_on("h_a", device)(y)
        return y[0].float().cpu().numpy(), z[0].float().cpu().numpy()

    @torch.no_grad()
    def hyper_analyse(self, y: np.ndarray, device: torch.device) -> np.ndarray:
        """z_hat = round(h_a(y)) (int32 (Cz, h/4, w/4)) for one tile's y (M, h, w)."""
        h_a = self._module_on("h_a", device)
        if device.type != "cpu":
            h_a = _DeviceTransform(h_a)   # fp32 like g_a: z_hat must not depend on TF32 settings
        z = h_a(torch.from_numpy(y).unsqueeze(0).to(device))[0].float().cpu().numpy()
        return np.rint(z).astype(np.int32)

    def transform(self, name: str, device: torch.device, threads: int):
        """g_a or g_s as a callable on (1, C, H, W) tensors.

        On CPU the C++ convolution engine runs it (csrc/conv, ~2-4x faster than torch's CPU path,
        equal to ~1e-6); elsewhere the torch module does, in full fp32. The engine objects are
        packed once.
        """
        if device.type != "cpu":
            return _DeviceTransform(self._module_on(name, device))
        if name not in self._cpu_transforms:
            build = CpuAnalysis if name == "g_a" else CpuSynthesis
            self._cpu_transforms[name] = build.from_module(getattr(self.model, name))
        return _CpuTransform(self._cpu_transforms[name], threads)

    @torch.no_grad()
    def synthesise(self, y_hat: np.ndarray, device: torch.device) -> np.ndarray:
        """Whole-image (untiled) g_s: the reference the tiled pipeline is tested against."""
        t = torch.from_numpy(y_hat).unsqueeze(0).to(device)
        return self._module_on("g_s", device)(t)[0].float().cpu().numpy()

    # --- hyper-latent ----------------------------------------------------------------------------
    def encode_z(self, z_hat: np.ndarray, threads: int) -> bytes:
        return coder.encode_cdf(z_hat.reshape(self.Cz, -1), self.z_cdfs, self.z_lengths,
                                self.z_offsets, threads=threads)

    def decode_z(self, data: bytes, lh: int, lw: int, threads: int) -> np.ndarray:
        zh, zw = lh // 4, lw // 4
        z = coder.decode_cdf(data, self.z_cdfs, self.z_lengths, self.z_offsets, zh * zw, threads=threads)
        return z.reshape(self.Cz, zh, zw)

    def hyper(self, z_hat: np.ndarray, threads: int) -> tuple[np.ndarray, np.ndarray]:
        """Integer hyper-synthesis: (mu Q12, log2 sigma Q8), identical on every machine."""
        return self.hyper_int.run(z_hat, threads=threads)

    # --- latent ----------------------------------------------------------------------------------


class _CpuTransform:
    """A conv-engine transform with the call signature of the torch module it stands for."""

    def __init__(self, transform, threads: int):
        self.transform, self.threads = transform, threads

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        out = self.transform.run(np.ascontiguousarray(x[0].numpy(), dtype=np.float32), threads=self.threads)
        return torch.from_numpy(out).unsqueeze(0)


class _DeviceTransform:
    """A torch transform on an accelerator, run without autograd and without TF32.

    cuDNN convolutions default to TF32 on Ampere and later (10-bit mantissa, ~1e-3 relative
    error): enough to move many pixels across a rounding step and to widen the gap between GPU-
    and CPU-decoded images, which JPEG AI bounds (0.5% BD-rate). The flags are global, so they are
    set for the call and restored after it.
    """

    def __init__(self, module: torch.nn.Module):
        self.module = module

    @torch.no_grad()
    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        saved = torch.backends.cudnn.allow_tf32, torch.backends.cuda.matmul.allow_tf32
        torch.backends.cudnn.allow_tf32 = torch.backends.cuda.matmul.allow_tf32 = False
        try:
            return self.module(x)
        finally:
            torch.backends.cudnn.allow_tf32, torch.backends.cuda.matmul.allow_tf32 = saved


def _input_gain(g_s: torch.nn.Module, M: int) -> np.ndarray:
    """Per latent channel: squared norm of the first synthesis layer's weights that read it.

    A linear estimate of how much pixel error a unit error in that channel causes; the encoder
    uses it to rank context groups for progressive layers (only the order is stored, so float
    differences between machines cannot desynchronise a decoder).
    """
    first = next(m for m in g_s.modules() if isinstance(m, (torch.nn.Conv2d, torch.nn.ConvTranspose2d)))
    w = first.weight.detach().double().cpu().numpy()
    w = w if isinstance(first, torch.nn.ConvTranspose2d) else w.transpose(1, 0, 2, 3)
    if w.shape[0] != M:
        return np.ones(M)
    return (w.reshape(M, -1) ** 2).sum(axis=1)


@functools.lru_cache(maxsize=4)
def _engine_for(profile: str | None) -> Engine:
    return Engine(load_model(profile))


def available_profiles() -> list[str]:
    """Names of the weights files shipped in the package."""
    return sorted(p.stem for p in WEIGHTS_DIR.glob("*.pt"))


def get_engine(profile: str | None = None, *, model_id: bytes | None = None) -> Engine:
    """The engine for a weights profile/path, or for the shipped model whose id matches ``model_id``."""
    if model_id is None:
        return _engine_for(profile)
    for name in available_profiles():
        eng = _engine_for(name)
        if eng.model_id == model_id:
            return eng
    raise DecodeError(f"stream was made with model {model_id.hex()}, which this installation does not ship")
