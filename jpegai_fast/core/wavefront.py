"""Fixed-point wavefront context model (C++ core, csrc/context).

The context model predicts the mean of y from already decoded neighbours through a masked grouped
5x5 conv (docs/integer_path.md). Decoder (:meth:`ContextModel.reconstruct`) and encoder
(:meth:`ContextModel.quantise`) share one integer formula, so the encoder's y_hat equals the
decoder's bit for bit, for any thread count. Formats and rounding: docs/integer_path.md.
"""
from __future__ import annotations

import numpy as np

from jpegai_fast import _core
from jpegai_fast.core.constants import ACT_FRAC_BITS as LATENT_FRAC_BITS   # y_hat, mu, bias, step: Q12
from jpegai_fast.core.constants import CONTEXT_TAP_OFFSETS, GROUP
from jpegai_fast.core.constants import CONTEXT_VALUE_LIMIT as VALUE_LIMIT
from jpegai_fast.core.constants import CONTEXT_WEIGHT_FRAC_BITS as WEIGHT_FRAC_BITS   # context weights: Q16
from jpegai_fast.core.constants import CONTEXT_WEIGHT_LIMIT as WEIGHT_LIMIT
from jpegai_fast.core.intpath import _as_int32, round_half_up, to_float64
from jpegai_fast.core.threads import resolve_threads
#: causal taps (ky, kx) of the 5x5 kernel in the order of the w_q tap axis (the core's (dy, dx) + 2)
TAPS = tuple((dy + 2, dx + 2) for dy, dx in CONTEXT_TAP_OFFSETS)
_ONE = float(1 << LATENT_FRAC_BITS)


def to_q12(x) -> np.ndarray:
    """float array/tensor -> int32 Q12 (floor(x * 4096 + 0.5) in float64, saturated to +-2^30)."""
    arr = to_float64(x)
    return np.clip(round_half_up(arr * _ONE), -VALUE_LIMIT, VALUE_LIMIT).astype(np.int32)


def from_q12(x) -> np.ndarray:
    """int Q12 array -> float32 values (exact for |x| <= 2^24, i.e. latent values up to +-4096)."""
    return (np.asarray(x, dtype=np.float64) / _ONE).astype(np.float32)


def quantise_weights(weight) -> np.ndarray:
    """(M, 16, 5, 5) float weights -> w_q int32 (M, 16, 10) Q16 of the causal taps (mask applied)."""
    w = to_float64(weight)
    if w.ndim != 4 or w.shape[1:] != (GROUP, 5, 5):
        raise ValueError(f"context weight must have shape (M, 16, 5, 5), got {w.shape}")
    taps = np.stack([w[:, :, ky, kx] for ky, kx in TAPS], axis=-1)
    q = round_half_up(taps * 2.0**WEIGHT_FRAC_BITS)
    if np.any(np.abs(q) > WEIGHT_LIMIT):
        raise ValueError("context weights must satisfy |w| <= 256")
    return q.astype(np.int32)


class ContextModel:
    """Integer context model; build with :meth:`from_module` or from quantised arrays."""

    def __init__(self, w_q, bias_q):
        self.w_q = np.ascontiguousarray(_as_int32(w_q, "w_q"))
        self.bias_q = np.ascontiguousarray(_as_int32(bias_q, "bias_q"))
        M = self.w_q.shape[0] if self.w_q.ndim == 3 else -1
        if self.w_q.ndim != 3 or self.w_q.shape[1:] != (GROUP, len(TAPS)) or M <= 0 or M % GROUP:
            raise ValueError(f"w_q must have shape (M, 16, 10) with M a positive multiple of 16, got {self.w_q.shape}")
        if self.bias_q.shape != (M,):
            raise ValueError(f"bias_q must have shape ({M},), got {self.bias_q.shape}")
        self.M = M

    @classmethod
    def from_arrays(cls, weight, bias) -> "ContextModel":
        """From float weights (M, 16, 5, 5) (only the causal taps are read) and bias (M,) or None."""
        w_q = quantise_weights(weight)
        return cls(w_q, np.zeros(w_q.shape[0], np.int32) if bias is None else to_q12(bias))

    @classmethod
    def from_module(cls, conv) -> "ContextModel":
        """From a module with ``.weight`` (M, 16, 5, 5) and ``.bias`` (M,) (or None); only causal taps are read."""
        weight = getattr(conv, "weight", None)
        if weight is None:
            raise TypeError("context module needs a .weight")
        w_q = quantise_weights(weight)
        groups = getattr(conv, "groups", None)
        if groups is not None and groups != w_q.shape[0] // GROUP:
            raise ValueError(f"context conv must have groups = M/16 = {w_q.shape[0] // GROUP}, got {groups}")
        mask = getattr(conv, "mask", None)
        if mask is not None:  # a masked conv: its mask must be the conventions' causal support
            mask = to_float64(mask)
            expected = np.zeros((5, 5))
            for ky, kx in TAPS:
                expected[ky, kx] = 1.0
            if mask.shape[-2:] != (5, 5) or not np.all(mask == expected):
                raise ValueError("context conv .mask differs from the conventions' 10-tap causal mask")
        bias = getattr(conv, "bias", None)
        bias_q = np.zeros(w_q.shape[0], np.int32) if bias is None else to_q12(bias)
        return cls(w_q, bias_q)

    def _args(self, mu_hyper_q, step_q, shape_name, shape):
        mu = _as_int32(mu_hyper_q, "mu_hyper_q")
        step = _as_int32(step_q, "step_q")
        if mu.ndim != 3 or mu.shape[0] != self.M:
            raise ValueError(f"mu_hyper_q must have shape ({self.M}, H, W), got {mu.shape}")
        if shape != mu.shape:
            raise ValueError(f"{shape_name} shape {shape} != mu_hyper_q shape {mu.shape}")
        if step.shape != (self.M,):
            raise ValueError(f"step_q must have shape ({self.M},), got {step.shape}")
        if mu.shape[1] == 0 or mu.shape[2] == 0:
            raise ValueError("latent height and width must be positive")
        return mu, step

    def reconstruct(self, q, mu_hyper_q, step_q, threads=None) -> np.ndarray:
        """Decoder: symbols q int32 (M, H, W) -> y_hat_q int32 (M, H, W) Q12."""
        q = _as_int32(q, "q")
        mu, step = self._args(mu_hyper_q, step_q, "q", q.shape)
        return _core.context_reconstruct(q, mu, self.bias_q, step, self.w_q, resolve_threads(threads))

    def quantise(self, y, mu_hyper_q, step_q, threads=None) -> tuple[np.ndarray, np.ndarray]:
        """Encoder: latent y float (M, H, W) -> (q int32, y_hat_q int32 Q12), y_hat_q == reconstruct(q).

        y is taken as float32 (the transform's output type); q = round((y * 4096 - mu) / step_q) in float64.
        """
        if hasattr(y, "detach"):
            y = y.detach().cpu().numpy()
        y = np.asarray(y)
        if y.dtype.kind != "f":
            raise TypeError(f"y must be a float array, got dtype {y.dtype}")
        y = np.ascontiguousarray(y, dtype=np.float32)
        mu, step = self._args(mu_hyper_q, step_q, "y", y.shape)
        return _core.context_quantise(y, mu, self.bias_q, step, self.w_q, resolve_threads(threads))

    def refine_encode(self, y, prev_q, idx, mu_hyper_q, step_q, threads=None) -> tuple[bytes, np.ndarray]:
        """Encoder of a refinement layer (csrc/context/refine.h): (payload, y_hat_q int32 Q12) of the
        layer at steps ``step_q`` over ``prev_q`` (the layer below's y_hat_q); ``idx`` (uint8, as y) the
        Gaussian table of sigma / (step_q / REFINE_RATIO)."""
        y = np.ascontiguousarray(y, dtype=np.float32)
        mu, step = self._args(mu_hyper_q, step_q, "y", y.shape)
        prev, idx = self._refinement(prev_q, idx, y.shape)
        return _core.context_refine_encode(y, prev, idx, mu, self.bias_q, step, self.w_q, resolve_threads(threads))

    def refine_decode(self, data, prev_q, idx, mu_hyper_q, step_q, threads=None) -> np.ndarray:
        """Decoder of a refinement layer: its y_hat_q (M, H, W) int32 Q12 (DecodeError for damaged data)."""
        mu, step = self._args(mu_hyper_q, step_q, "prev_q", np.shape(prev_q))
        prev, idx = self._refinement(prev_q, idx, mu.shape)
        return _core.context_refine_decode(data, prev, idx, mu, self.bias_q, step, self.w_q, resolve_threads(threads))

    def _refinement(self, prev_q, idx, shape):
        prev = _as_int32(prev_q, "prev_q")
        idx = np.ascontiguousarray(idx)
        if idx.dtype != np.uint8:
            raise TypeError(f"idx must be uint8, got {idx.dtype}")
        if prev.shape != shape or idx.shape != shape:
            raise ValueError(f"prev_q {prev.shape} and idx {idx.shape} must have the latent's shape {shape}")
        return prev, idx


def check_refinement(data, M: int) -> None:
    """DecodeError unless ``data`` is laid out as a refinement layer's payload for M channels (cheap)."""
    _core.context_refine_check(data, M)
