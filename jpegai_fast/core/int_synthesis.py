"""Integer synthesis g_s (issue 33; docs/integer_path.md, "Integer synthesis"): the model's synthesis in int16
arithmetic, the same integers on every machine, SIMD level and thread count (C++ core, csrc/intpath/
int_synthesis.h). Built once from the float weights: each convolution is quantised by the int16 rule of the
hyper-synthesis (intpath.quantise_conv_int16: no int32 sum can overflow), each IGDN as below.

Measured on real Kodak streams of the shipped model against the float decode (bench/int_synthesis.py, 6
images x 4 rates): 0.005 dB PSNR-RGB lower on average, 0.015 dB at worst. The normative synthesis of format
version 7 (docs/integer_path.md, "Integer synthesis"; runtime/engine.Engine.synthesis).
"""
from __future__ import annotations

import numpy as np

from jpegai_fast import _core
from jpegai_fast.core.constants import ACT_LIMIT, INT16_ACC_LIMIT, INT16_LIMIT, ROOT_EXP_MAX
from jpegai_fast.core.intpath import quantise_conv_int16, round_half_up, to_float64
from jpegai_fast.core.threads import resolve_threads

#: y_hat enters as Q8 (|y_hat| < 128; the shipped model's stay below 9 on Kodak at every rate, and the
#: 4 fraction bits below Q12 cost nothing measurable).
Y_FRAC_BITS = 8
#: Fraction bits of the int16 activations after each convolution and each IGDN but the last convolution:
#: the shipped model's largest values on training crops (7.4, 5.0, 3.6, 3.2, 2.9, 1.4 after conv 1, IGDN 1,
#: ... IGDN 3) with a factor 2 of headroom; larger values saturate.
HIDDEN_FRAC_BITS = (11, 11, 12, 12, 12, 13)
#: The last convolution's output, the picture in [0, 1] (before clipping), is Q14, saturated to +-ACT_LIMIT.
OUT_FRAC_BITS = 14
OUT_LIMIT = ACT_LIMIT
#: Squares enter the IGDN's norm as int16: x^2 (Q 2f) shifted right by 15 fits int16 for any int16 x.
SQUARE_SHIFT = 15
#: The norm's int32 sum is halved on output (the activations' limit is 2^30; the int16 bound allows 2^31).
NORM_SHIFT = 1
#: The root r = sqrt(norm) is Q16.
ROOT_FRAC_BITS = 16
#: The largest power-of-two exponent tried for gamma's rows. (The root's exponent e, r = isqrt(n 2^e), stays
#: in [0, ROOT_EXP_MAX], where the core takes the integer root exactly in doubles: int_synthesis.h.)
GAMMA_SHIFT_MAX = 40


def quantise_igdn(beta: np.ndarray, gamma: np.ndarray, frac_in: int, frac_out: int) -> dict:
    """One IGDN's integers (add_igdn's arguments): per row i the largest exponent g_i <= GAMMA_SHIFT_MAX with
    gamma_q = round(gamma_i * 2^g_i) in int16 and sum(gamma_q) * 32767 + beta_q <= 2^31 - 1 (the int16
    bound: no int32 sum can overflow), beta_q = round(beta_i * 2^(g_i + 2 frac_in - SQUARE_SHIFT)) in the
    squares' units; the root exponent brings the halved norm to Q(2 ROOT_FRAC_BITS), the output shift from
    x r (Q frac_in + ROOT_FRAC_BITS) to Q frac_out."""
    beta, gamma = to_float64(beta), to_float64(gamma)
    if np.any(beta <= 0) or np.any(gamma < 0):
        raise ValueError("IGDN needs beta > 0 and gamma >= 0")
    square_frac = 2 * frac_in - SQUARE_SHIFT
    # the root exponent e = 2 ROOT_FRAC_BITS - (g + square_frac - NORM_SHIFT) must lie in [0, ROOT_EXP_MAX]
    g_max = min(GAMMA_SHIFT_MAX, 2 * ROOT_FRAC_BITS - square_frac + NORM_SHIFT)
    g_min = 2 * ROOT_FRAC_BITS - square_frac + NORM_SHIFT - ROOT_EXP_MAX
    c = beta.shape[0]
    # All rows at once, the same exponents as trying g_max, g_max - 1, ... per row: each row starts where
    # every larger exponent fails a bound (round(max 2^s) > INT16_LIMIT; sum(row_q) >= sum 2^s - c/2, so
    # sum 2^s > INT16_ACC_LIMIT / INT16_LIMIT + c/2 fails; one more for log2's rounding) and steps down.
    peak, total = gamma.max(axis=1), gamma.sum(axis=1)
    with np.errstate(divide="ignore"):
        by_peak = np.floor(np.log2((INT16_LIMIT + 0.5) / np.where(peak > 0, peak, 1.0))) + 1
        by_sum = np.floor(np.log2((INT16_ACC_LIMIT / INT16_LIMIT + c / 2) / np.where(total > 0, total, 1.0))) + 1
    g = np.clip(np.where(peak > 0, np.minimum(by_peak, by_sum), g_max), g_min, g_max).astype(np.int64)
    while True:
        gamma_q = round_half_up(gamma * np.ldexp(1.0, g)[:, None])
        beta_q = round_half_up(beta * np.ldexp(1.0, g + square_frac))
        ok = (gamma_q.max(axis=1) <= INT16_LIMIT) & (gamma_q.sum(axis=1) * INT16_LIMIT + beta_q <= INT16_ACC_LIMIT) \
            & (beta_q >= 1)
        if ok.all():
            break
        stuck = ~ok & (g <= g_min)
        if stuck.any():
            raise ValueError(f"IGDN row {int(np.argmax(stuck))}: no exponent in [{g_min}, {g_max}] fits the int16 "
                             "bound")
        g = np.where(ok, g, g - 1)
    gamma_q, beta_q = gamma_q.astype(np.int64), beta_q.astype(np.int64)
    norm_frac = g + square_frac - NORM_SHIFT
    return {"gamma_q": gamma_q.astype(np.int32), "beta_q": beta_q, "norm_shift": np.full(c, NORM_SHIFT, np.int32),
            "square_shift": SQUARE_SHIFT, "root_exp": (2 * ROOT_FRAC_BITS - norm_frac).astype(np.int32),
            "out_shift": frac_in + ROOT_FRAC_BITS - frac_out}


class IntSynthesis:
    """g_s in integers; build with :meth:`from_layers`, run with :meth:`run_q` (or call it)."""

    def __init__(self, core, steps: list[dict]):
        self._core = core
        #: the quantised steps as passed to the core: {"kind": "conv", transposed, weight_q (gather layout),
        #: bias_q, shift, stride, padding, output_padding} or {"kind": "igdn", **quantise_igdn(...)}
        self.steps = steps

    @classmethod
    def from_layers(cls, layers: list[dict]) -> "IntSynthesis":
        """Quantise g_s's layer dicts (runtime/network.transform_layers: deconv/conv and igdn alternating,
        ending with a convolution)."""
        core, steps = _core.IntSynthesis(), []
        fracs = (Y_FRAC_BITS,) + HIDDEN_FRAC_BITS
        convs = sum(layer["kind"] in ("conv", "deconv") for layer in layers)
        if len(layers) != 2 * convs - 1 or convs - 1 > len(HIDDEN_FRAC_BITS) // 2:
            raise ValueError("g_s must alternate convolution and IGDN, ending with a convolution")
        for i, layer in enumerate(layers):
            frac_in = fracs[i]
            frac_out = OUT_FRAC_BITS if i + 1 == len(layers) else fracs[i + 1]
            if i % 2 == 1:
                if layer["kind"] != "igdn":
                    raise ValueError(f"g_s layer {i}: expected an IGDN, got {layer['kind']}")
                steps.append({"kind": "igdn", **quantise_igdn(layer["beta"], layer["gamma"], frac_in, frac_out)})
                core.add_igdn(**{k: v for k, v in steps[-1].items() if k != "kind"})
                continue
            if layer["kind"] not in ("conv", "deconv"):
                raise ValueError(f"g_s layer {i}: expected a convolution, got {layer['kind']}")
            transposed = layer["kind"] == "deconv"
            weight = to_float64(layer["weight"])
            if transposed:  # torch (cin, cout, kh, kw) -> gather layout (cout, cin, kh, kw)
                weight = np.ascontiguousarray(weight.transpose(1, 0, 2, 3))
            stride = (int(layer["stride"]),) * 2
            weight_q, bias_q, shift = quantise_conv_int16(weight, layer.get("bias"), transposed, stride,
                                                          frac_in, frac_out)
            pad = weight.shape[-1] // 2
            steps.append({"kind": "conv", "transposed": transposed, "weight_q": weight_q, "bias_q": bias_q,
                          "shift": shift, "stride": stride, "padding": (pad, pad),
                          "output_padding": (stride[0] - 1, stride[1] - 1) if transposed else (0, 0)})
            core.add_conv(**{k: v for k, v in steps[-1].items() if k != "kind"})
        return cls(core, steps)

    def output_size(self, h: int, w: int) -> tuple[int, int]:
        return tuple(self._core.output_size(int(h), int(w)))

    def run_q(self, y_hat: np.ndarray, threads=None, crop: tuple[int, int, int, int] | None = None,
              scratch=None) -> np.ndarray:
        """y_hat (M, h, w) float (the decoder's exact Q12 values) -> the picture's integers, int32 (3, H, W)
        Q14 (OUT_FRAC_BITS), unclipped: the normative output. ``crop`` (y0, y1, x0, x1): that rectangle of it
        alone, the same integers for less work (each layer computes only what the crop reads). ``scratch``
        (``_core.SynthesisScratch()``): storage lent to successive runs, one at a time (a tile loop)."""
        y = np.asarray(y_hat, dtype=np.float64)
        if y.ndim != 3 or not np.all(np.isfinite(y)):
            raise ValueError(f"y_hat must be a finite (M, h, w) array, got shape {y.shape}")
        y_q = np.clip(round_half_up(y * 2.0 ** Y_FRAC_BITS), -INT16_LIMIT, INT16_LIMIT).astype(np.int32)
        return self._core.run(np.ascontiguousarray(y_q), OUT_LIMIT, resolve_threads(threads), crop, scratch)

    def __call__(self, y_hat: np.ndarray, threads=None, crop: tuple[int, int, int, int] | None = None,
                 scratch=None) -> np.ndarray:
        """As the float transform: (3, H, W) float32, the picture in [0, 1] units (exact: Q14 / 2^14)."""
        return picture(self.run_q(y_hat, threads, crop, scratch))

    def pixels_into(self, y_hat: np.ndarray, crop: tuple[int, int, int, int], out: np.ndarray, bit_depth: int,
                    threads=None, scratch=None) -> None:
        """Write the RGB pixels of ``crop`` into ``out`` (h, w, 3) uint8/uint16, any strides: the bytes
        pixels.from_model_output gives on :meth:`__call__`'s picture, from the integers in the core (no float
        picture; csrc/intpath/picture_out.h)."""
        _core.q_to_pixels(self.run_q(y_hat, threads, crop, scratch), out, OUT_FRAC_BITS, bit_depth,
                          resolve_threads(threads))


def picture(q: np.ndarray) -> np.ndarray:
    """The synthesis's integers (Q14) as the float picture in [0, 1] units, float32."""
    return (q.astype(np.float64) / 2.0 ** OUT_FRAC_BITS).astype(np.float32)
