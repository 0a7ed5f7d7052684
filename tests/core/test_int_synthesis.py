"""The integer synthesis (core/int_synthesis.py, csrc/intpath/int_synthesis.h; docs/integer_path.md "Integer
synthesis"): exact agreement with an independent evaluation of the documented rule, the same integers for
every thread count and kernel, the shipped model within a hundredth of a dB of its float synthesis, and every
malformed step refused."""
import math

import numpy as np
import pytest

from jpegai_fast import _core
from jpegai_fast.core import cpu
from jpegai_fast.core import int_synthesis as isyn
from jpegai_fast.core.constants import INT16_LIMIT

from helpers import integer_conv, natural_like, psnr


def _layers(seed=0, m=8, n=6):
    """A small g_s of the shipped architecture's kinds: deconv, IGDN, deconv, IGDN, deconv to 3 channels."""
    rng = np.random.default_rng(seed)

    def deconv(cin, cout):
        return {"kind": "deconv", "weight": rng.normal(0, 0.15, (cin, cout, 5, 5)), "bias": rng.normal(0, 0.1, cout),
                "stride": 2}

    def igdn(c):
        return {"kind": "igdn", "beta": rng.uniform(0.5, 1.5, c), "gamma": np.abs(rng.normal(0, 0.05, (c, c)))}

    return [deconv(m, n), igdn(n), deconv(n, n), igdn(n), deconv(n, 3)]


def _reference(syn: isyn.IntSynthesis, y: np.ndarray) -> np.ndarray:
    """The rule of docs/integer_path.md evaluated on its own: int64 numpy, torch float64 sums of integers,
    Python's exact integer square root."""
    x = np.clip(np.floor(y * 2.0 ** isyn.Y_FRAC_BITS + 0.5), -INT16_LIMIT, INT16_LIMIT).astype(np.int64)
    for i, step in enumerate(syn.steps):
        if step["kind"] == "conv":
            acc = integer_conv(x, step) + step["bias_q"][:, None, None]
            s = step["shift"].astype(np.int64)[:, None, None]
            v = np.where(s > 0, (acc + (np.int64(1) << np.maximum(s - 1, 0))) >> s, acc)
            limit = isyn.OUT_LIMIT if i + 1 == len(syn.steps) else INT16_LIMIT
            x = np.clip(v, -limit, limit)
            continue
        k = step["square_shift"]
        sq = np.minimum((x * x + (1 << (k - 1))) >> k, INT16_LIMIT)
        norm = np.einsum("ij,jhw->ihw", step["gamma_q"].astype(np.int64), sq) + step["beta_q"][:, None, None]
        ns = step["norm_shift"].astype(np.int64)[:, None, None]
        norm = np.minimum((norm + (np.int64(1) << (ns - 1))) >> ns, 2**30)
        e = step["root_exp"].astype(np.int64)[:, None, None]
        root = np.vectorize(math.isqrt)(norm << e)
        t = step["out_shift"]
        x = np.clip((x * root + (1 << (t - 1))) >> t, -INT16_LIMIT, INT16_LIMIT)
    return x


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_the_core_computes_the_documented_integers(seed):
    syn = isyn.IntSynthesis.from_layers(_layers(seed))
    y = np.random.default_rng(seed + 10).normal(0, 2, (8, 3, 5))
    got = syn.run_q(y, threads=1)
    assert got.shape == (3, 24, 40) and got.dtype == np.int32              # three stride-2 deconvolutions
    np.testing.assert_array_equal(got, _reference(syn, y))


def test_threads_and_kernels_give_the_same_integers():
    syn = isyn.IntSynthesis.from_layers(_layers(3, m=16, n=12))
    y = np.random.default_rng(4).normal(0, 3, (16, 7, 9))
    want = syn.run_q(y, threads=1)
    for isa in ("auto", "portable"):
        previous = cpu.set_isa(isa)
        try:
            for threads in (1, 2, 3):
                np.testing.assert_array_equal(syn.run_q(y, threads=threads), want)
        finally:
            cpu.set_isa(previous)


def test_a_crop_is_the_same_rectangle_of_the_whole_output():
    # each layer computes only what the crop reads (int_synthesis.h): the edges, a one-pixel crop, crops that
    # start or end inside a stride-2 pair, for each kernel and thread count
    syn = isyn.IntSynthesis.from_layers(_layers(6, m=16, n=12))
    y = np.random.default_rng(7).normal(0, 3, (16, 9, 11))
    whole = syn.run_q(y, threads=1)
    h, w = whole.shape[1:]
    rng = np.random.default_rng(8)
    crops = [(0, h, 0, w), (0, 1, 0, 1), (h - 1, h, w - 1, w), (3, 4, 5, w - 7), (17, 40, 0, 3)]
    for _ in range(12):
        y0, x0 = int(rng.integers(0, h)), int(rng.integers(0, w))
        crops.append((y0, int(rng.integers(y0 + 1, h + 1)), x0, int(rng.integers(x0 + 1, w + 1))))
    for isa in ("auto", "portable"):
        previous = cpu.set_isa(isa)
        try:
            for k, (y0, y1, x0, x1) in enumerate(crops):
                got = syn.run_q(y, threads=1 + k % 2, crop=(y0, y1, x0, x1))
                np.testing.assert_array_equal(got, whole[:, y0:y1, x0:x1], err_msg=f"crop {(y0, y1, x0, x1)}")
        finally:
            cpu.set_isa(previous)


def test_a_scratch_lent_to_successive_runs_changes_nothing():
    # the decoder lends one scratch to every tile of a decode: runs of other sizes and crops before must
    # leave nothing behind (a larger run's values past a smaller one's border, say)
    syn = isyn.IntSynthesis.from_layers(_layers(9, m=16, n=12))
    rng = np.random.default_rng(10)
    scratch = _core.SynthesisScratch()
    for shape, crop in [((16, 9, 11), None), ((16, 3, 4), None), ((16, 12, 5), (5, 60, 1, 30)),
                        ((16, 2, 2), (0, 16, 3, 9)), ((16, 9, 11), (40, 72, 80, 88))]:
        y = rng.normal(0, 3, shape)
        np.testing.assert_array_equal(syn.run_q(y, threads=2, crop=crop, scratch=scratch),
                                      syn.run_q(y, threads=2, crop=crop))


@pytest.mark.parametrize("crop", [(0, 0, 0, 5), (0, 5, 3, 3), (-1, 4, 0, 4), (0, 4, 0, 10**6), (5, 4, 0, 4)])
def test_a_crop_outside_the_output_is_refused(crop):
    syn = isyn.IntSynthesis.from_layers(_layers(0))
    with pytest.raises(ValueError, match="crop"):
        syn.run_q(np.zeros((8, 2, 2)), threads=1, crop=crop)


@pytest.mark.parametrize("bit_depth", [8, 10, 12, 16])
def test_integers_to_pixels_in_the_core_match_the_float_rule(bit_depth):
    # csrc/intpath/picture_out.h repeats pixels.from_model_output on the float picture: every rounding tie
    # of the 8-bit scale (v 255 / 2^14 = k + 1/2), the clip edges, values past float32's exact range
    from jpegai_fast import pixels
    rng = np.random.default_rng(bit_depth)
    ties = (np.arange(255) * 2 + 1) * 2**13 // 255
    special = np.concatenate([ties - 1, ties, ties + 1, [0, -1, 1, 2**14 - 1, 2**14, 2**14 + 1, 2**24 + 1,
                                                          -(2**30), 2**30, 2**25 - 3]])
    values = np.concatenate([special, rng.integers(-3000, 2**14 + 3000, 3 * 40 * 50 - special.size)])
    q = values.astype(np.int32).reshape(3, 40, 50)
    want = pixels.from_model_output(isyn.picture(q), 3, bit_depth)
    for isa in ("auto", "portable"):                        # the AVX2 clone and the portable loop
        previous = cpu.set_isa(isa)
        try:
            big = np.zeros((60, 70, 4), want.dtype)         # a strided window, as the decoder writes a tile
            window = big[7:47, 11:61, :3]
            _core.q_to_pixels(q, window, isyn.OUT_FRAC_BITS, bit_depth, 2)
            np.testing.assert_array_equal(window, want)
            assert not big[:7].any() and not big[..., 3].any()      # nothing outside the window
        finally:
            cpu.set_isa(previous)


def test_large_values_saturate_instead_of_wrapping():
    syn = isyn.IntSynthesis.from_layers(_layers(5))
    y = np.full((8, 2, 2), 1e6)                         # far beyond Q8's int16 range
    got = syn.run_q(y, threads=1)
    np.testing.assert_array_equal(got, _reference(syn, y))
    assert np.abs(got).max() <= 2**30


def test_the_shipped_model_is_within_a_hundredth_of_a_db_of_its_float_synthesis():
    import jpegai_fast
    from jpegai_fast.api import decode_latent
    from jpegai_fast.runtime import network
    img = natural_like(128, 192, seed=2)
    data = jpegai_fast.encode(img, quality=80, threads=1)
    _header, eng, y = decode_latent(data)
    syn = isyn.IntSynthesis.from_layers(network.transform_layers(eng.weights, "g_s"))
    out = np.clip(np.floor(np.clip(syn(y, threads=2), 0, 1) * 255 + 0.5), 0, 255).astype(np.uint8).transpose(1, 2, 0)
    float_out = jpegai_fast.decode(data, threads=1)
    assert abs(psnr(out, img) - psnr(float_out, img)) < 0.02
    assert psnr(out, float_out) > 50
    from jpegai_fast.core.int_synthesis_torch import run_q
    np.testing.assert_array_equal(run_q(syn, y, "cpu"), syn.run_q(y, threads=1))     # the torch path: same integers


def test_the_shipped_model_clips_no_hidden_activation():
    """The fixed-point formats of version 7 hold the shipped weights' activations (scripts/int_headroom.py
    measures real Kodak latents before weights ship)."""
    import jpegai_fast
    from jpegai_fast.api import decode_latent
    from jpegai_fast.core.int_headroom import MAX_CLIPPED, headroom
    from jpegai_fast.runtime import network
    img = natural_like(96, 128, seed=5)
    latents = []
    for q in (5, 100):
        _header, eng, y = decode_latent(jpegai_fast.encode(img, quality=q, threads=1))
        latents.append(y)
    rows = headroom(isyn.IntSynthesis.from_layers(network.transform_layers(eng.weights, "g_s")), latents)
    assert [r["kind"] for r in rows] == ["conv", "igdn"] * 3 + ["conv"]
    for r in rows[:-1]:
        assert 0.05 < r["peak"] <= 1.0 and r["saturated"] <= MAX_CLIPPED, r


def test_headroom_reports_clipping():
    from jpegai_fast.core.int_headroom import headroom
    layers = _layers(3, m=16, n=12)
    y = np.random.default_rng(3).normal(0, 3, (16, 5, 7))
    calm = headroom(isyn.IntSynthesis.from_layers(layers), [y])
    layers[0]["weight"] = layers[0]["weight"] * 20.0            # activations beyond Q11's +-16
    loud = headroom(isyn.IntSynthesis.from_layers(layers), [y])
    assert calm[0]["peak"] < 1.0 and calm[0]["saturated"] == 0.0
    assert loud[0]["peak"] == 1.0 and loud[0]["saturated"] > 0.0


@pytest.mark.parametrize("device", ["cpu", pytest.param("cuda", marks=pytest.mark.skipif(
    not __import__("torch").cuda.is_available(), reason="no CUDA device"))])
def test_torch_computes_the_same_integers(device):
    from jpegai_fast.core.int_synthesis_torch import run_q
    for seed in (0, 1):
        syn = isyn.IntSynthesis.from_layers(_layers(seed, m=16, n=12))
        y = np.random.default_rng(seed).normal(0, 3, (16, 5, 7))
        y[0, 0, 0] = 1e6                                    # saturates
        np.testing.assert_array_equal(run_q(syn, y, device), syn.run_q(y, threads=2))


def test_malformed_steps_are_refused():
    core = _core.IntSynthesis()
    igdn = isyn.quantise_igdn(np.ones(4), np.eye(4) * 0.1, 11, 11)
    with pytest.raises(ValueError, match="must follow a convolution"):
        core.add_igdn(**igdn)
    syn = isyn.IntSynthesis.from_layers(_layers(0, n=4)[:1])
    core = syn._core
    for change, match in [({"root_exp": np.full(4, 22, np.int32)}, "root exponent"),
                          ({"root_exp": np.full(4, -1, np.int32)}, "root exponent"),
                          ({"out_shift": 60}, "out shift"),
                          ({"square_shift": 31}, "square shift"),
                          ({"gamma_q": -igdn["gamma_q"]}, "gamma must not be negative"),
                          ({"beta_q": np.zeros(4, np.int64)}, "beta must be positive"),
                          ({"gamma_q": np.full((4, 4), 30000, np.int32)}, "could overflow int32")]:
        with pytest.raises(ValueError, match=match):
            core.add_igdn(**{**igdn, **change})
    with pytest.raises(ValueError, match="IGDN needs beta > 0"):
        isyn.quantise_igdn(np.zeros(4), np.eye(4), 11, 11)
    with pytest.raises(ValueError, match="alternate"):
        isyn.IntSynthesis.from_layers(_layers(0)[:2])
    with pytest.raises(ValueError, match="y_q must have shape"):
        syn.run_q(np.zeros((5, 2, 2)))
    with pytest.raises(ValueError, match="finite"):
        syn.run_q(np.full((8, 2, 2), np.nan))
