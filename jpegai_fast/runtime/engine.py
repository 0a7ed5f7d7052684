"""One loaded model ready to code: conv-engine transforms, integer hyper-synthesis, context loop, tables.

Built once per weights file and cached; every stage the encoder and decoder share lives here so
the two sides cannot drift apart. The CPU codec needs numpy and the C++ core only: the transforms
are packed from the weights file (network.py). torch is imported only for what needs it: an
accelerator (``device="cuda"``), the effort search (autograd) and the whole-image float references
the tests compare against (``eng.model``, loaded on first use).
"""
from __future__ import annotations

import functools

import numpy as np

from jpegai_fast import _core
from jpegai_fast.runtime import architecture
from jpegai_fast.runtime import network
from jpegai_fast.runtime import weights_file
from jpegai_fast.core.constants import LOG2_FRAC_BITS
from jpegai_fast.core.wavefront import ContextModel
from jpegai_fast.core.conv import CpuAnalysis, CpuHyperAnalysis, CpuSynthesis
from jpegai_fast.errors import DecodeError
from jpegai_fast.core.intpath import IntHyperSynthesis, step_q_from_log2
from jpegai_fast.format import tiling
from jpegai_fast.format.container import RATE_FRAC_BITS, VERSION, hyper_arith, synthesis_arith
from jpegai_fast.runtime.ladder import log2_steps_q, training_lambda

_CPU_TRANSFORMS = {"g_a": CpuAnalysis, "g_s": CpuSynthesis, "h_a": CpuHyperAnalysis}


class Engine:

    def __init__(self, weights: weights_file.WeightsFile):
        self.weights = weights
        self.model_id = bytes.fromhex(weights.model_id)[:8]
        cfg = weights.config
        self.lambdas = tuple(cfg["lambdas"])
        ladder = weights.f32(architecture.GAIN_TABLE).astype(np.float64)   # (K, M)
        self.ladder_q = np.rint(ladder * float(1 << LOG2_FRAC_BITS)).astype(np.int64)   # log2 steps, Q8
        self.num_rate_points = self.ladder_q.shape[0]
        self.rate_q_max = (self.num_rate_points - 1) << RATE_FRAC_BITS
        self.M = self.ladder_q.shape[1]
        t = weights.tables
        self.z_cdfs, self.z_lengths = t["z_cdfs"], t["z_lengths"]
        self.z_offsets = np.ascontiguousarray(t["z_offsets"], dtype=np.int32)
        self.Cz = len(self.z_offsets)
        self._hyper_int: dict[str, IntHyperSynthesis] = {}
        if cfg.get("use_context", True):
            self.ctx = ContextModel.from_arrays(weights.f32("context.weight"), weights.f32("context.bias"))
        else:
            self.ctx = ContextModel(np.zeros((self.M, 16, 10), np.int32), np.zeros(self.M, np.int32))
        layers = architecture.transforms(cfg)
        # latent positions each float transform needs around a tile (tiling.py)
        self.analysis_halo = architecture.halo(layers["g_a"], upsampling=False)
        self.synthesis_halo = architecture.halo(layers["g_s"], upsampling=True)
        self.synthesis_gain = network.synthesis_gain(weights)
        self._cpu_transforms: dict = {}
        self._int_synthesis = None
        self._device_modules: dict = {}
        self._model = None

    @property
    def model(self):
        """The torch model of the same weights (float32, CPU, inference only), loaded on first use."""
        if self._model is None:
            try:
                from jpegai_fast.model.weights import model_from
            except ImportError as e:
                raise ImportError("this feature needs torch (pip install torch; see README 'torch')") from e
            # inference only: no parameter gradients (the effort search differentiates w.r.t. latents alone)
            self._model = model_from(self.weights).requires_grad_(False)
        return self._model

    def lmbda(self, t: float) -> float:
        """Training lambda of rate parameter t (what the effort search weighs distortion with)."""
        return training_lambda(self.lambdas, t)

    def rd_cost(self, rate_q: int, nbytes: float, sse: float, bit_depth: int, samples_per_px: int) -> float:
        """The model's training cost, in bits, of a coding of ``nbytes`` whose squared error over the colour
        samples is ``sse``, at ``rate_q``: 8 nbytes + lambda(t) x 255^2 / peak^2 x SSE / samples per pixel (the
        loss the model was trained with, on 8-bit units). The one rule every encoder choice between codings of
        the same picture at one rate weighs by."""
        peak = float((1 << bit_depth) - 1)
        return 8.0 * nbytes + self.lmbda(rate_q / float(1 << RATE_FRAC_BITS)) * (255.0 / peak) ** 2 / samples_per_px * sse

    def _module_on(self, name: str, device):
        """Torch sub-module ``name`` on ``device``: the CPU model itself, elsewhere a cached copy.

        The CPU model is never moved: concurrent CPU calls read it, so an accelerator gets its own
        copy of each module it runs.
        """
        module = getattr(self.model, name)
        if device.type == "cpu":
            return module
        key = (name, str(device))
        if key not in self._device_modules:
            import copy
            self._device_modules[key] = copy.deepcopy(module).to(device).eval()
        return self._device_modules[key]

    # --- shapes and rate -------------------------------------------------------------------------
    def latent_shape(self, height: int, width: int) -> tuple[int, int]:
        return tiling.latent_shape(height, width)

    def steps(self, rate_q: int) -> tuple[np.ndarray, np.ndarray]:
        """(log2 step Q8, step Q12) per channel at rate ``rate_q``."""
        log2_q = log2_steps_q(self.ladder_q, rate_q)
        log2_q = log2_q.astype(np.int32)
        return log2_q, step_q_from_log2(log2_q)

    # --- transforms (float) ----------------------------------------------------------------------
    def transform(self, name: str, device, threads: int):
        """g_a, g_s or h_a as a callable ``(x, crop=None)`` on planar float32 arrays (C, H, W) -> (C', H', W'), or
        the output's rectangle ``crop`` (y0, y1, x0, x1) alone (on CPU computing only what it needs).

        On CPU the C++ convolution engine runs it (csrc/conv, ~2-4x faster than torch's CPU path,
        equal to ~1e-6; no torch needed); elsewhere the torch module does, in full fp32. The engine
        objects are packed once.
        """
        if device.type != "cpu":
            return _DeviceTransform(self._module_on(name, device), device)
        if name not in self._cpu_transforms:
            layers = network.transform_layers(self.weights, name)
            self._cpu_transforms[name] = _CPU_TRANSFORMS[name].from_layers(layers)
        return _BoundTransform(self._cpu_transforms[name], threads)

    def hyper_analyse(self, y: np.ndarray, device, threads: int = 1) -> np.ndarray:
        """z_hat = round(h_a(y)) (int32 (Cz, h/4, w/4)) for one tile's y (M, h, w).

        On CPU the conv engine runs h_a, with or without torch installed, so streams do not depend on it.
        """
        z = self.transform("h_a", device, threads)(np.ascontiguousarray(y, dtype=np.float32))
        return np.rint(z).astype(np.int32)

    def analyse(self, x: np.ndarray, device) -> tuple[np.ndarray, np.ndarray]:
        """Whole-image (untiled) torch g_a and h_a: the reference the tiled pipeline is tested against."""
        import torch
        with torch.no_grad():
            dev = torch.device(str(device))
            t = torch.from_numpy(x).unsqueeze(0).to(dev)
            y = self._module_on("g_a", device)(t)
            z = self._module_on("h_a", device)(y)
        return y[0].float().cpu().numpy(), z[0].float().cpu().numpy()

    def synthesise(self, y_hat: np.ndarray, device) -> np.ndarray:
        """Whole-image (untiled) torch float g_s: bench/tiling_exactness.py's reference (the tests compare the tiled
        decode with the stream's own synthesis, ``synthesis``)."""
        import torch
        with torch.no_grad():
            t = torch.from_numpy(y_hat).unsqueeze(0).to(torch.device(str(device)))
            return self._module_on("g_s", device)(t)[0].float().cpu().numpy()

    # --- hyper-latent ----------------------------------------------------------------------------
    def encode_z(self, z_hat: np.ndarray, threads: int) -> bytes:
        from jpegai_fast.core import rans
        return rans.encode_cdf(z_hat.reshape(self.Cz, -1), self.z_cdfs, self.z_lengths,
                                self.z_offsets, threads=threads)

    def decode_z(self, data: bytes, lh: int, lw: int, threads: int) -> np.ndarray:
        from jpegai_fast.core import rans
        zh, zw = lh // 4, lw // 4
        z = rans.decode_cdf(data, self.z_cdfs, self.z_lengths, self.z_offsets, zh * zw, threads=threads)
        return z.reshape(self.Cz, zh, zw)

    def hyper_int(self, arith: str = "int16") -> IntHyperSynthesis:
        """The integer hyper-synthesis in ``arith`` ("int16": format version 6; "exact": before), built once."""
        if arith not in self._hyper_int:
            layers = network.transform_layers(self.weights, "h_s")
            self._hyper_int[arith] = IntHyperSynthesis.from_layers(layers, self.M, arith)
        return self._hyper_int[arith]

    def hyper(self, z_hat: np.ndarray, threads: int, version: int = VERSION) -> tuple[np.ndarray, np.ndarray]:
        """Integer hyper-synthesis of a stream of format ``version``: (mu Q12, log2 sigma Q8), identical on
        every machine."""
        return self.hyper_int(hyper_arith(version)).run(z_hat, threads=threads)

    def synthesis(self, version: int, device, threads: int):
        """g_s as a stream of format ``version`` decodes it, a callable ``(y_hat, crop=None)`` on planar arrays
        (M, h, w) -> (3, 16h, 16w) float32 in [0, 1] units, or its rectangle ``crop`` (y0, y1, x0, x1) alone: the
        integer synthesis from version 7 (the same pixels on every machine, CPU or torch device; on CPU the
        crop also saves the work outside it), the float transform before (``transform``)."""
        if synthesis_arith(version) == "float":
            return self.transform("g_s", device, threads)
        if self._int_synthesis is None:
            from jpegai_fast.core.int_synthesis import IntSynthesis
            self._int_synthesis = IntSynthesis.from_layers(network.transform_layers(self.weights, "g_s"))
        syn = self._int_synthesis
        if device.type == "cpu":
            return _CpuIntSynthesis(syn, threads)
        from jpegai_fast.core.int_synthesis_torch import run

        return with_crop(lambda y_hat: run(syn, y_hat, device))


class _CpuIntSynthesis:
    """The integer synthesis on ``threads`` CPU threads: ``(y_hat, crop=None)`` -> the float picture, and
    ``pixels_into``, which writes the same RGB pixels straight from the integers (decoder/synthesis.py).
    One per decode: its scratch keeps the activations' storage from tile to tile (one call at a time) and
    goes with it."""

    def __init__(self, syn, threads: int):
        self.syn, self.threads, self.scratch = syn, threads, _core.SynthesisScratch()

    def __call__(self, y_hat: np.ndarray, crop: tuple[int, int, int, int] | None = None) -> np.ndarray:
        return self.syn(y_hat, self.threads, crop, self.scratch)

    def pixels_into(self, y_hat: np.ndarray, crop: tuple[int, int, int, int], out: np.ndarray, bit_depth: int) -> None:
        self.syn.pixels_into(y_hat, crop, out, bit_depth, self.threads, self.scratch)


def with_crop(transform):
    """``transform`` (planar (C, h, w) -> (C', H, W)) as a callable ``(x, crop=None)`` that returns the rectangle
    ``crop`` (y0, y1, x0, x1) of its output, or all of it: the form the decoder's tile loop calls."""
    def run(x: np.ndarray, crop: tuple[int, int, int, int] | None = None) -> np.ndarray:
        out = transform(x)
        return out if crop is None else out[:, crop[0]:crop[1], crop[2]:crop[3]]
    return run


class _BoundTransform:
    """A conv-engine transform run on ``threads`` threads: planar float32 in, planar float32 out. Its scratch
    keeps the activations' storage from call to call (a tile loop; one call at a time) and goes with it."""

    def __init__(self, transform, threads: int):
        self.transform, self.threads, self.scratch = transform, threads, _core.TransformScratch()

    def __call__(self, x: np.ndarray, crop: tuple[int, int, int, int] | None = None) -> np.ndarray:
        return self.transform.run(np.ascontiguousarray(x, dtype=np.float32), threads=self.threads, crop=crop,
                                  scratch=self.scratch)


class _DeviceTransform:
    """A torch transform on an accelerator, run without autograd and without TF32, on planar arrays.

    cuDNN convolutions default to TF32 on Ampere and later (10-bit mantissa, ~1e-3 relative
    error): enough to move many pixels across a rounding step and to widen the gap between GPU-
    and CPU-decoded images, which JPEG AI bounds (0.5% BD-rate). The flags are global, so they are
    set for the call and restored after it.
    """

    def __init__(self, module, device):
        self.module, self.device = module, device

    def __call__(self, x: np.ndarray, crop: tuple[int, int, int, int] | None = None) -> np.ndarray:
        import torch
        saved = torch.backends.cudnn.allow_tf32, torch.backends.cuda.matmul.allow_tf32
        torch.backends.cudnn.allow_tf32 = torch.backends.cuda.matmul.allow_tf32 = False
        try:
            with torch.no_grad():
                t = torch.from_numpy(np.ascontiguousarray(x, dtype=np.float32)).unsqueeze(0).to(self.device)
                out = self.module(t)[0]
                return (out if crop is None else out[:, crop[0]:crop[1], crop[2]:crop[3]]).float().cpu().numpy()
        finally:
            torch.backends.cudnn.allow_tf32, torch.backends.cuda.matmul.allow_tf32 = saved


@functools.lru_cache(maxsize=4)
def _engine_for(profile: str | None) -> Engine:
    return Engine(weights_file.read(profile))


def available_profiles() -> list[str]:
    """Names of the weights files shipped in the package."""
    return weights_file.available_profiles()


def get_engine(profile: str | None = None, *, model_id: bytes | None = None) -> Engine:
    """The engine for a weights profile/path, or for the model whose id matches ``model_id`` (a stream's),
    looked up on weights_file.search_dirs()."""
    if model_id is None:
        return _engine_for(None if profile is None else str(profile))
    shipped = _engine_for(None)
    if shipped.model_id == model_id:          # the common case: no directory scan
        return shipped
    path = weights_file.find_by_id(model_id.hex())
    if path is not None:
        eng = _engine_for(str(path))
        if eng.model_id == model_id:
            return eng
    raise DecodeError(f"stream was made with model {model_id.hex()}, which this installation does not have "
                      f"(searched {', '.join(str(d) for d in weights_file.search_dirs())})")
