"""The int16 hyper-synthesis (format version 6, docs/integer_path.md "Int16 hyper-synthesis"): exact
agreement with an independent evaluation of the documented rule, the no-overflow bound (checked by
the core, met by the quantiser with the largest weight exponent), saturation, determinism across
threads and kernels, and its distance from the exact (version 5) arithmetic."""
import numpy as np
import pytest
import torch
import torch.nn as nn

from jpegai_fast import _core
from jpegai_fast.core import cpu
from jpegai_fast.core.constants import INT16_ACC_LIMIT, INT16_HIDDEN_FRAC_BITS, INT16_LIMIT, INT16_Z_FRAC_BITS
from jpegai_fast.core.intpath import IntHyperSynthesis, quantise_conv_int16

from helpers import integer_conv

ACT_LIMIT = 2**30


def phase_l1(weight_q, transposed, stride):
    """Per output channel, the largest sum |w| over the taps one output position meets (the int16 bound's sum,
    csrc/intpath/int_conv.h max_phase_l1, in numpy): all taps, or those of one phase of a transposed one."""
    a = np.abs(np.asarray(weight_q, dtype=np.float64))
    if not transposed:
        return a.reshape(a.shape[0], -1).sum(axis=1)
    sy, sx = stride
    return np.max([a[:, :, py::sy, px::sx].reshape(a.shape[0], -1).sum(axis=1)
                   for py in range(sy) for px in range(sx)], axis=0)


def stack(M, cz=16, n=24, seed=0, scale=1.0):
    torch.manual_seed(seed)
    h_s = nn.Sequential(
        nn.ConvTranspose2d(cz, n, 5, stride=2, padding=2, output_padding=1), nn.ReLU(),
        nn.ConvTranspose2d(n, n * 3 // 2, 5, stride=2, padding=2, output_padding=1), nn.ReLU(),
        nn.Conv2d(n * 3 // 2, 2 * M, 3, stride=1, padding=1),
    )
    with torch.no_grad():
        for p in h_s.parameters():
            p.mul_(scale)
    return h_s


def odd_stack(M):
    """Strided conv, even and non-square kernels, odd channel counts (the pair layout pads them)."""
    torch.manual_seed(4)
    return nn.Sequential(nn.Conv2d(7, 11, 3, stride=2, padding=1), nn.ReLU(),
                         nn.ConvTranspose2d(11, 9, 4, stride=2, padding=1), nn.ReLU(),
                         nn.ConvTranspose2d(9, 2 * M, (3, 5), stride=(2, 1), padding=(0, 2)))


def reference(model: IntHyperSynthesis, z: np.ndarray):
    """The documented rule with float64 convolutions of exact integers, checking the int32 bound too."""
    act = np.clip(z.astype(np.int64) << INT16_Z_FRAC_BITS, -INT16_LIMIT, INT16_LIMIT)
    for k, layer in enumerate(model.layers):
        acc = integer_conv(act, layer) + layer["bias_q"][:, None, None]
        assert np.abs(acc).max() <= INT16_ACC_LIMIT
        last = k == len(model.layers) - 1
        shift = layer["shift"].astype(np.int64)
        if last:
            shift[model.M:] += 4   # log2sigma: Q12 -> Q8 in the same rounding
        shift = shift[:, None, None]
        out = np.where(shift > 0, (acc + (np.int64(1) << np.maximum(shift - 1, 0))) >> shift, acc)
        if layer["relu"]:
            out = np.maximum(out, 0)
        limit = ACT_LIMIT if last else INT16_LIMIT
        act = np.clip(out, -limit, limit)
    return act[: model.M].astype(np.int32), act[model.M:].astype(np.int32)


def check_against_the_rule(model, z):
    """Every thread count and both kernel builds give the same integers, and they are the rule's."""
    outs = []
    for isa in ("auto", "portable"):
        previous = cpu.set_isa(isa)
        try:
            outs += [model.run(z, threads=t) for t in (1, 2, 5)]
        finally:
            cpu.set_isa(previous)
    mu_ref, sig_ref = reference(model, z)
    for mu, sig in outs:
        np.testing.assert_array_equal(mu, mu_ref)
        np.testing.assert_array_equal(sig, sig_ref)


@pytest.mark.parametrize("make,M,cz,shape,zmax", [(lambda M: stack(M), 32, 16, (5, 7), 6),
                                                  (lambda M: stack(M, seed=2, scale=3.0), 16, 16, (6, 5), 40),
                                                  (odd_stack, 8, 7, (9, 10), 6)])
def test_equals_the_documented_rule_on_every_kernel_and_thread_count(make, M, cz, shape, zmax):
    model = IntHyperSynthesis.from_module(make(M), M, "int16")
    check_against_the_rule(model, np.random.default_rng(0).integers(-zmax, zmax + 1, (cz, *shape)).astype(np.int32))


def test_saturating_inputs_stay_exact():
    """z far beyond the Q4 range and hidden activations at +-32767: still the rule, bit for bit."""
    M = 16
    model = IntHyperSynthesis.from_module(stack(M, seed=5, scale=4.0), M, "int16")
    rng = np.random.default_rng(1)
    check_against_the_rule(model, rng.choice(np.array([-(2**18), -3000, 2047, 2048, 2**18], np.int32), (16, 4, 6)))


def test_close_to_float_and_to_the_exact_arithmetic():
    M = 32
    h_s = stack(M, seed=3, scale=2.0)
    z = np.random.default_rng(2).integers(-12, 13, (16, 6, 6)).astype(np.int32)
    with torch.no_grad():
        hidden = h_s.double()[:2](torch.from_numpy(z.astype(np.float64))[None])
        ref = h_s.double()(torch.from_numpy(z.astype(np.float64))[None])[0].numpy()
    # large values (13.6 in the first hidden layer, 4.4 out), still inside the Q11 range (+-16)
    assert 8 < hidden.abs().max() < 16 and np.abs(ref).max() > 2
    mu, sig = IntHyperSynthesis.from_module(h_s, M, "int16").run(z, threads=2)
    mu_x, sig_x = IntHyperSynthesis.from_module(h_s, M, "exact").run(z, threads=2)
    # measured 38.6 Q12 / 2.5 Q8 units (exact arithmetic: 1.5 / 1); the shipped model: 44 / 5 at most on kodim23
    assert np.abs(mu - ref[:M] * 4096).max() <= 64 and np.abs(sig - ref[M:] * 256).max() <= 4
    assert not np.array_equal(mu, mu_x)


def test_quantiser_takes_the_largest_exponent_that_keeps_the_bound():
    rng = np.random.default_rng(3)
    for transposed, stride in ((False, (1, 1)), (True, (2, 2))):
        w = rng.normal(0, 0.2, (6, 10, 5, 5))
        b = rng.normal(0, 0.5, 6)
        w_q, b_q, shift = quantise_conv_int16(w, b, transposed, stride, INT16_HIDDEN_FRAC_BITS, INT16_HIDDEN_FRAC_BITS)
        l1 = phase_l1(w_q, transposed, stride)
        assert np.all(l1 * INT16_LIMIT + np.abs(b_q) <= INT16_ACC_LIMIT) and np.abs(w_q).max() <= INT16_LIMIT
        s = shift.astype(np.int64)   # frac_in == frac_out: the shift is the weight exponent itself
        np.testing.assert_array_equal(w_q, np.floor(w * np.ldexp(1.0, s)[:, None, None, None] + 0.5))
        w2 = np.floor(w * np.ldexp(1.0, s + 1)[:, None, None, None] + 0.5)
        b2 = np.floor(b * np.ldexp(1.0, s + 1 + INT16_HIDDEN_FRAC_BITS) + 0.5)
        assert np.all(phase_l1(w2, transposed, stride) * INT16_LIMIT + np.abs(b2) > INT16_ACC_LIMIT)
    # a transposed convolution's phases meet a quarter of the taps each: about two more bits than a conv
    w = rng.normal(0, 0.2, (4, 8, 4, 4))
    conv = quantise_conv_int16(w, None, False, (1, 1), 11, 11)[2]
    deconv = quantise_conv_int16(w, None, True, (2, 2), 11, 11)[2]
    assert np.all(deconv >= conv + 1)


def test_core_refuses_weights_that_could_overflow():
    def layer(w, b=0, transposed=False):
        core = _core.IntHyperSynthesis("int16")
        core.add_layer(transposed, w.astype(np.int32), np.full(w.shape[0], b, np.int64), np.zeros(w.shape[0], np.int32),
                       (2, 2) if transposed else (1, 1), (0, 0), (0, 0), False)
        return core

    # sum|w| * 32767 + |b| <= 2^31 - 1: two weights of 32767 and the largest bias that still fits
    ok = np.zeros((2, 3, 1, 1), np.int64)
    ok[:, :2, 0, 0] = 32767
    layer(ok, b=INT16_ACC_LIMIT - 2 * 32767 * 32767)
    with pytest.raises(ValueError, match="overflow"):
        layer(ok, b=INT16_ACC_LIMIT - 2 * 32767 * 32767 + 1)
    big = np.zeros((2, 3, 1, 1), np.int64)
    big[:, :, 0, 0] = 30000
    with pytest.raises(ValueError, match="overflow"):
        layer(big)
    # a transposed convolution is bounded per output phase: the same taps spread over phases pass
    spread = np.zeros((2, 1, 2, 2), np.int64)
    spread[:, 0] = 30000
    layer(spread, transposed=True)
    with pytest.raises(ValueError, match="overflow"):
        layer(spread)
    with pytest.raises(ValueError, match="bias"):
        layer(np.ones((2, 1, 1, 1), np.int64), b=2**31)
    with pytest.raises(ValueError, match="arith"):
        _core.IntHyperSynthesis("int8")


def test_shipped_model_quantises_within_a_few_units_of_the_exact_arithmetic():
    from jpegai_fast.runtime.engine import get_engine
    eng = get_engine()
    z = np.random.default_rng(4).integers(-4, 5, (eng.Cz, 3, 4)).astype(np.int32)
    z[:, 1] = 0   # many channels of a real z are 0
    mu, sig = eng.hyper(z, 2, version=6)
    mu_x, sig_x = eng.hyper(z, 2, version=5)
    # measured on kodim23's z: 44 / 5 units at most, mean 0.56 / 0.68
    assert np.abs(mu - mu_x).max() <= 256 and np.abs(sig - sig_x).max() <= 16
    assert np.abs(mu - mu_x).mean() <= 4 and np.abs(sig - sig_x).mean() <= 2


def _quantise_by_trying_each_exponent(weight, bias, transposed, stride, frac_in, frac_out):
    """The documented rule the slow way, in numpy: try s = 30, 29, ... per channel, the first that fits."""
    cout = weight.shape[0]
    bias = np.zeros(cout) if bias is None else bias
    w_q, b_q, shift = np.zeros(weight.shape, np.int32), np.zeros(cout, np.int64), np.zeros(cout, np.int32)
    for oc in range(cout):
        for s in range(30, max(0, frac_out - frac_in) - 1, -1):
            w = np.floor(weight[oc] * 2.0**s + 0.5)
            b = np.floor(bias[oc] * 2.0**(s + frac_in) + 0.5)
            if np.abs(w).max() <= INT16_LIMIT and \
                    phase_l1(w[None], transposed, stride)[0] * INT16_LIMIT + abs(b) <= INT16_ACC_LIMIT:
                w_q[oc], b_q[oc], shift[oc] = w, b, s + frac_in - frac_out
                break
        else:
            raise ValueError(f"output channel {oc}: weights too large for the int16 arithmetic")
    return w_q, b_q, shift


def test_the_core_quantiser_is_the_rule_tried_exponent_by_exponent():
    # random layers over six decades of weight size, zero channels, no bias, both kinds, odd shapes: the core's
    # search (a proven start, stepping down) gives the same integers as trying every exponent from the top
    rng = np.random.default_rng(7)
    for trial in range(120):
        cout, cin, k = int(rng.integers(1, 9)), int(rng.integers(1, 24)), int(rng.choice([1, 3, 4, 5]))
        transposed = bool(trial % 2)
        stride = (2, 2) if transposed else (1, 1)
        w = rng.normal(0, 10 ** rng.uniform(-4, 1.5), (cout, cin, k, k))
        if trial % 5 == 0:
            w[rng.integers(0, cout)] = 0
        b = rng.normal(0, 10 ** rng.uniform(-3, 2), cout) if trial % 3 else None
        fi, fo = int(rng.integers(8, 14)), int(rng.integers(8, 15))
        try:
            want = _quantise_by_trying_each_exponent(w, b, transposed, stride, fi, fo)
        except ValueError as e:
            with pytest.raises(ValueError, match="too large"):
                quantise_conv_int16(w, b, transposed, stride, fi, fo)
            assert "output channel" in str(e)
            continue
        got = quantise_conv_int16(w, b, transposed, stride, fi, fo)
        for g, x in zip(got, want):
            np.testing.assert_array_equal(g, x)
            assert g.dtype == x.dtype


def test_the_shipped_model_quantises_as_the_rule_says():
    # every int16 convolution of the shipped h_s and g_s, at the fraction bits their integer paths use
    from jpegai_fast.core import int_synthesis as isyn
    from jpegai_fast.core.constants import ACT_FRAC_BITS
    from jpegai_fast.runtime import network
    from jpegai_fast.runtime.engine import get_engine
    eng = get_engine()
    g_fracs = (isyn.Y_FRAC_BITS,) + isyn.HIDDEN_FRAC_BITS + (isyn.OUT_FRAC_BITS,)
    plans = (("h_s", [(INT16_Z_FRAC_BITS, INT16_HIDDEN_FRAC_BITS), (INT16_HIDDEN_FRAC_BITS,) * 2,
                      (INT16_HIDDEN_FRAC_BITS, ACT_FRAC_BITS)]),
             ("g_s", [(g_fracs[i], g_fracs[i + 1]) for i in range(0, len(g_fracs) - 1, 2)]))
    for name, fracs in plans:
        convs = [layer for layer in network.transform_layers(eng.weights, name) if "weight" in layer]
        assert len(convs) == len(fracs)
        for layer, (fi, fo) in zip(convs, fracs):
            w = np.asarray(layer["weight"], np.float64)
            transposed = layer["kind"] == "deconv"
            if transposed:
                w = np.ascontiguousarray(w.transpose(1, 0, 2, 3))
            stride = (int(layer["stride"]),) * 2
            b = None if layer.get("bias") is None else np.asarray(layer["bias"], np.float64)
            got = quantise_conv_int16(w, b, transposed, stride, fi, fo)
            for g, x in zip(got, _quantise_by_trying_each_exponent(w, b, transposed, stride, fi, fo)):
                np.testing.assert_array_equal(g, x)


def test_the_quantiser_takes_tiny_weights_and_refuses_what_it_cannot_quantise():
    w = np.full((2, 3, 3, 3), 5e-324)        # denormal weights: the start bound's quotient is infinite
    w[1] = 0
    assert quantise_conv_int16(w, None, False, (1, 1), 11, 11)[2].tolist() == [30, 30]
    with pytest.raises(ValueError, match="fraction bits"):
        quantise_conv_int16(w, None, False, (1, 1), 11, 45)
    with pytest.raises(ValueError, match="NaN"):
        quantise_conv_int16(np.full((1, 1, 1, 1), np.nan), None, False, (1, 1), 11, 11)
    with pytest.raises(ValueError, match="too large"):
        quantise_conv_int16(np.full((1, 1, 1, 1), 1e6), None, False, (1, 1), 11, 14)
    with pytest.raises(ValueError, match="shape"):
        quantise_conv_int16(np.ones((2, 3, 3, 3)), np.ones(3), False, (1, 1), 11, 11)
