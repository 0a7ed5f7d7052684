"""Deterministic integer hyper-synthesis (C++ core, csrc/intpath) and the integer scale-index mapping.

The hyper-synthesis ``h_s`` (an ``nn.Sequential`` of ``Conv2d`` / ``ConvTranspose2d`` / ``ReLU``) is
quantised once from its float weights; encoder and decoder then run the same integer code, so the
entropy parameters (and therefore the scale indices) agree bit for bit on any machine, thread count
or device. Formats and rounding: docs/integer_path.md.
"""
from __future__ import annotations

import math

import numpy as np

from jpegai_fast import _core
from jpegai_fast.core.constants import ACT_FRAC_BITS, LOG2_FRAC_BITS, MAX_SHIFT, NUM_SCALES  # noqa: F401
from jpegai_fast.core.constants import INT16_HIDDEN_FRAC_BITS, INT16_Z_FRAC_BITS
from jpegai_fast.core.constants import WEIGHT_LIMIT as WEIGHT_MAX
from jpegai_fast.core.pow2_q40 import POW2_Q40 as _POW2_Q40
from jpegai_fast.core.threads import resolve_threads

#: The weight packer's own bound on a layer's scale exponent (tiny weights), inside what the core
#: accepts (MAX_SHIFT). It is part of how the shipped weights quantise, so it must not change.
WEIGHT_SHIFT_MAX = 40
assert WEIGHT_SHIFT_MAX <= MAX_SHIFT


def to_float64(tensor) -> np.ndarray:
    """Exact float64 copy of a torch tensor or array (fp16/bf16/fp32 -> fp64 is exact)."""
    if hasattr(tensor, "detach"):
        tensor = tensor.detach().cpu()
        if not tensor.is_floating_point():
            raise TypeError(f"expected floating-point weights, got {tensor.dtype}")
        tensor = tensor.double().numpy()
    arr = np.asarray(tensor, dtype=np.float64)
    if not np.all(np.isfinite(arr)):
        raise ValueError("weights contain NaN or infinity")
    return arr


def round_half_up(x: np.ndarray) -> np.ndarray:
    """floor(x + 0.5) in float64: the project's documented rounding for weight conversion."""
    return np.floor(np.asarray(x, dtype=np.float64) + 0.5)


def weight_shift(max_abs: float) -> int:
    """Largest power-of-two exponent s <= WEIGHT_SHIFT_MAX with round(max_abs * 2^s) <= WEIGHT_MAX."""
    if max_abs == 0.0:
        return 0
    _, exponent = math.frexp(max_abs)  # max_abs = f * 2^exponent, f in [0.5, 1)
    shift = min(WEIGHT_SHIFT_MAX, 15 - exponent)
    while shift >= 0 and math.floor(max_abs * 2.0**shift + 0.5) > WEIGHT_MAX:
        shift -= 1
    if shift < 0:
        raise ValueError(f"weight magnitude {max_abs} too large for the integer path (max {WEIGHT_MAX})")
    return shift


def quantise_conv(weight: np.ndarray, bias: np.ndarray | None):
    """Per-output-channel quantisation of a gather-layout (cout, cin, kh, kw) float64 weight.

    Returns (weight_q int32, bias_q int64 in Q(12 + shift), shift int32).
    """
    cout = weight.shape[0]
    shift = np.array([weight_shift(float(np.max(np.abs(weight[oc])))) for oc in range(cout)], dtype=np.int32)
    scale = np.ldexp(1.0, shift.astype(np.int64))  # exact powers of two
    weight_q = round_half_up(weight * scale[:, None, None, None]).astype(np.int32)
    if bias is None:
        bias_q = np.zeros(cout, dtype=np.int64)
    else:
        bias_scaled = round_half_up(bias * np.ldexp(1.0, shift.astype(np.int64) + ACT_FRAC_BITS))
        if np.any(np.abs(bias_scaled) > 2.0**61):
            raise ValueError("bias too large for the integer path")
        bias_q = bias_scaled.astype(np.int64)
    return weight_q, bias_q, shift


def quantise_conv_int16(weight: np.ndarray, bias: np.ndarray | None, transposed: bool, stride: tuple[int, int],
                        frac_in: int, frac_out: int):
    """The int16 arithmetic's per-output-channel quantisation (docs/integer_path.md, "Int16 hyper-synthesis";
    the rule and its proof: csrc/intpath/int16_quantise.h, run in the core because a decoder quantises its
    model once per process and numpy took ~0.05 s of it).

    Weight exponent s: the largest in [max(0, frac_out - frac_in), 30] with max|w_q| <= INT16_LIMIT,
    phase_l1(w_q) * INT16_LIMIT + |b_q| <= INT16_ACC_LIMIT (no int32 partial sum can overflow; phase_l1: the
    largest sum |w_q| over the taps one output position meets, csrc/intpath/int_conv.h max_phase_l1);
    w_q = round(w * 2^s), b_q = round(b * 2^(s + frac_in)) (the accumulator's units), rounding half up.
    ``weight``: gather layout (cout, cin, kh, kw). Returns (weight_q int32, bias_q int64,
    shift = s + frac_in - frac_out int32); ValueError when no exponent fits.
    """
    w = np.ascontiguousarray(weight, dtype=np.float64)
    b = None if bias is None else np.ascontiguousarray(bias, dtype=np.float64)
    return _core.quantise_conv_int16(w, b, bool(transposed), (int(stride[0]), int(stride[1])), int(frac_in),
                                     int(frac_out))


def _pair(v, name):
    if isinstance(v, str):
        raise ValueError(f"{name}={v!r} is not supported by the integer path; use explicit integers")
    t = tuple(int(x) for x in (v if isinstance(v, (tuple, list)) else (v, v)))
    if len(t) != 2:
        raise ValueError(f"{name} must be an int or a pair")
    return t


class IntHyperSynthesis:
    """Integer version of a hyper-synthesis; build with :meth:`from_layers` (or :meth:`from_module`)."""

    def __init__(self, core, M: int, in_channels: int, layers: list, arith: str = "exact"):
        self._core = core
        #: "exact" (format versions <= 5) or "int16" (version 6): docs/integer_path.md
        self.arith = arith
        self.M = M
        self.in_channels = in_channels
        #: the quantised layers, as passed to the core: dicts with transposed, weight_q (gather layout
        #: (cout, cin, kh, kw)), bias_q, shift, stride, padding, output_padding, relu
        self.layers = layers

    @classmethod
    def from_module(cls, h_s, M: int, arith: str = "exact") -> "IntHyperSynthesis":
        """Quantise a torch ``h_s`` (Conv2d / ConvTranspose2d / ReLU only) whose output has 2*M channels.

        Channels [0, M) are the mean of y, [M, 2M) are log2(sigma) (docs/integer_path.md).
        """
        import torch.nn as nn

        _check_m(M)
        if not isinstance(h_s, nn.Sequential):
            raise TypeError(f"h_s must be an nn.Sequential, got {type(h_s).__name__}")

        def flat(seq):  # nested Sequentials are just grouping
            for child in seq:
                if type(child) is nn.Sequential:
                    yield from flat(child)
                else:
                    yield child

        layers = []
        for child in flat(h_s):
            if type(child) in (nn.Conv2d, nn.ConvTranspose2d):
                transposed = isinstance(child, nn.ConvTranspose2d)
                if child.groups != 1:
                    raise ValueError("grouped convolutions are not supported by the integer path")
                if _pair(child.dilation, "dilation") != (1, 1):
                    raise ValueError("dilation is not supported by the integer path")
                if child.padding_mode != "zeros":
                    raise ValueError(f"padding_mode={child.padding_mode!r} is not supported")
                layers.append({"kind": "deconv" if transposed else "conv", "weight": to_float64(child.weight),
                               "bias": to_float64(child.bias) if child.bias is not None else None,
                               "stride": _pair(child.stride, "stride"), "padding": _pair(child.padding, "padding"),
                               "output_padding": _pair(child.output_padding, "output_padding") if transposed else (0, 0)})
            elif isinstance(child, nn.ReLU):
                layers.append({"kind": "relu"})
            else:
                raise TypeError(f"unsupported layer in h_s: {type(child).__name__} (Conv2d/ConvTranspose2d/ReLU only)")
        return cls.from_layers(layers, M, arith)

    @classmethod
    def from_layers(cls, layers: list[dict], M: int, arith: str = "exact") -> "IntHyperSynthesis":
        """Quantise a list of layer dicts (conv_engine.py's form; "padding" defaults to kernel // 2 and a
        "deconv"'s "output_padding" to stride - 1) of conv / deconv / relu whose output has 2*M channels."""
        _check_m(M)
        convs = []  # [layer dict, relu flag]
        for layer in layers:
            if layer["kind"] in ("conv", "deconv"):
                convs.append([layer, False])
            elif layer["kind"] == "relu":
                if not convs:
                    raise ValueError("h_s may not start with ReLU (z_hat is signed)")
                convs[-1][1] = True  # ReLU is idempotent, repeated ones are fine
            else:
                raise TypeError(f"unsupported layer in h_s: {layer['kind']} (conv/deconv/relu only)")
        if not convs:
            raise ValueError("h_s has no convolution")
        core = _core.IntHyperSynthesis(arith)
        specs = []
        for i, (layer, relu) in enumerate(convs):
            transposed = layer["kind"] == "deconv"
            weight = to_float64(layer["weight"])
            if weight.ndim != 4:
                raise ValueError(f"conv weight must be 4-D, got shape {weight.shape}")
            if transposed:  # torch (cin, cout, kh, kw) -> gather layout (cout, cin, kh, kw)
                weight = np.ascontiguousarray(weight.transpose(1, 0, 2, 3))
            bias = to_float64(layer["bias"]) if layer.get("bias") is not None else None
            stride = _pair(layer["stride"], "stride")
            if arith == "int16":
                frac_in = INT16_Z_FRAC_BITS if i == 0 else INT16_HIDDEN_FRAC_BITS
                frac_out = ACT_FRAC_BITS if i + 1 == len(convs) else INT16_HIDDEN_FRAC_BITS
                weight_q, bias_q, shift = quantise_conv_int16(weight, bias, transposed, stride, frac_in, frac_out)
            else:
                weight_q, bias_q, shift = quantise_conv(weight, bias)
            spec = dict(
                transposed=transposed,
                weight_q=weight_q,
                bias_q=bias_q,
                shift=shift,
                stride=stride,
                padding=_pair(layer.get("padding", weight.shape[-1] // 2), "padding"),
                output_padding=_pair(layer.get("output_padding", (stride[0] - 1, stride[1] - 1)), "output_padding")
                if transposed else (0, 0),
                relu=relu,
            )
            core.add_layer(**spec)
            specs.append(spec)
        if core.out_channels != 2 * M:
            raise ValueError(f"h_s outputs {core.out_channels} channels, expected 2*M = {2 * M}")
        return cls(core, int(M), core.in_channels, specs, arith)

    def output_size(self, h: int, w: int) -> tuple[int, int]:
        """(H, W) of the entropy parameters for a (h, w) z_hat."""
        return tuple(self._core.output_size(int(h), int(w)))

    def run(self, z_hat, threads=None) -> tuple[np.ndarray, np.ndarray]:
        """Integer symbols z_hat (Cz, h, w) (or (1, Cz, h, w)) -> (mu_q int32 Q12, log2sigma_q int32 Q8), (M, H, W).

        Identical output for any ``threads``. Accepts numpy or torch integer arrays; floats must hold
        exact integers.
        """
        z = _as_int32(z_hat, "z_hat")
        if z.ndim == 4 and z.shape[0] == 1:
            z = z[0]
        if z.ndim != 3:
            raise ValueError(f"z_hat must have shape (Cz, h, w), got {z.shape}")
        if z.shape[0] != self.in_channels:
            raise ValueError(f"z_hat has {z.shape[0]} channels, expected {self.in_channels}")
        return self._core.run(np.ascontiguousarray(z), self.M, resolve_threads(threads))


def _check_m(M) -> None:
    if isinstance(M, bool) or not isinstance(M, (int, np.integer)) or M <= 0:
        raise ValueError(f"M must be a positive int, got {M!r}")


def _as_int32(x, name: str) -> np.ndarray:
    if hasattr(x, "detach"):
        x = x.detach().cpu().numpy()
    arr = np.asarray(x)
    if arr.dtype.kind == "f":
        if not np.all(np.isfinite(arr)) or np.any(arr != np.round(arr)):
            raise ValueError(f"{name} must hold integers")
    elif arr.dtype.kind not in "iu":
        raise TypeError(f"{name} must be an integer array, got dtype {arr.dtype}")
    if arr.size and (arr.min() < -(2**31) or arr.max() > 2**31 - 1):
        raise ValueError(f"{name} values exceed int32")
    return np.ascontiguousarray(arr.astype(np.int32))


def scale_indexes(log2sigma_q, log2step_q, threads=None) -> np.ndarray:
    """Coding-table indices (uint8, (M, H, W)) from log2sigma_q (M, H, W) and log2step_q (M,), both Q8.

    idx = clamp(floor((L + 880) / 32), 0, 75) with L = log2sigma_q - log2step_q[c] (docs/integer_path.md, "Scale index").
    """
    sig = _as_int32(log2sigma_q, "log2sigma_q")
    step = _as_int32(log2step_q, "log2step_q")
    if sig.ndim != 3 or step.ndim != 1 or step.shape[0] != sig.shape[0]:
        raise ValueError(f"need log2sigma_q (M, H, W) and log2step_q (M,), got {sig.shape} and {step.shape}")
    if sig.size == 0:
        return np.zeros(sig.shape, dtype=np.uint8)
    return _core.intpath_scale_indexes(sig, step, resolve_threads(threads))


POW2_Q40 = np.array(_POW2_Q40, dtype=np.int64)  #: 2^(i/256) in Q40, i = 0..255 (core/pow2_q40.py)
POW2_Q40.setflags(write=False)
assert len(POW2_Q40) == 1 << LOG2_FRAC_BITS


def step_q_from_log2(log2step_q) -> np.ndarray:
    """Per-channel quantisation steps int32 Q12 from log2 steps int32 Q8, in integer arithmetic.

    step_q = round_half_up(2^(L/256) * 4096), clamped to >= 1; L > 18 * 256 (step > 2^18) raises.
    Encoder and decoder must both use this (a float ``2**x`` may differ in the last bit between
    C libraries, which would change step_q and break decoding).
    """
    one = 1 << LOG2_FRAC_BITS   # log2 step: Q8, one entry of POW2_Q40 per 1/256 octave
    L = _as_int32(log2step_q, "log2step_q").astype(np.int64)
    if np.any(L > 18 * one):
        raise ValueError("log2step_q above 18.0 (step > 2^18) is not supported")
    e = np.floor_divide(L, one)
    t = POW2_Q40[L - one * e]  # Q40 mantissa in [2^40, 2^41)
    shift = np.minimum(40 - ACT_FRAC_BITS - e, 62)  # Q40 * 2^e -> Q12; e <= 18 keeps shift >= 10
    out = (t + (np.int64(1) << (shift - 1))) >> shift
    return np.maximum(out, 1).astype(np.int32)
