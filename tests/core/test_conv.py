"""Float conv engine (csrc/conv, jpegai_fast.core.conv) against torch, across threads and SIMD paths."""
import numpy as np
import pytest
import torch
import torch.nn as nn

from jpegai_fast import _core
from jpegai_fast.core.conv import CpuAnalysis, CpuSynthesis
from jpegai_fast.core.cpu import isa as conv_isa, set_isa as set_conv_isa
from jpegai_fast.model.layers import GDN, conv, deconv
from jpegai_fast.model.weights import WEIGHTS_DIR, SHIPPED_PROFILE, load_model

REL_TOL = 1e-4
# Every kernel this CPU can run (an AVX-512 CPU also runs the AVX2 one).
SUPPORTED_ISAS = {"portable": ["portable"], "avx2": ["portable", "avx2"],
                  "avx512": ["portable", "avx2", "avx512"], "neon": ["portable", "neon"]}[_core.cpu_best_isa()]


def randomise_gdn(seq: nn.Sequential, gen: torch.Generator) -> nn.Sequential:
    """Non-trivial beta/gamma (the defaults are an identity-like GDN)."""
    with torch.no_grad():
        for layer in seq:
            if isinstance(layer, GDN):
                c = layer.channels
                layer.beta.copy_(0.5 + torch.rand(c, generator=gen))
                layer.gamma.copy_(0.3 * torch.rand(c, c, generator=gen))
    return seq


def small_synthesis(m=40, n=24, seed=0):
    gen = torch.Generator().manual_seed(seed)
    torch.manual_seed(seed)
    seq = nn.Sequential(deconv(m, n), GDN(n, inverse=True), deconv(n, n), GDN(n, inverse=True), deconv(n, 3))
    return randomise_gdn(seq, gen).eval()


def small_analysis(m=40, n=24, seed=0):
    gen = torch.Generator().manual_seed(seed)
    torch.manual_seed(seed)
    seq = nn.Sequential(conv(3, n), GDN(n), conv(n, n), GDN(n), conv(n, m), conv(m, m, 3, 1))
    return randomise_gdn(seq, gen).eval()


def torch_ref(seq, x: np.ndarray) -> np.ndarray:
    with torch.no_grad():
        return seq(torch.from_numpy(x)[None])[0].numpy()


def rel_err(out: np.ndarray, ref: np.ndarray) -> float:
    assert out.shape == ref.shape
    return float(np.abs(out.astype(np.float64) - ref).max() / max(np.abs(ref).max(), 1e-30))


def rand(shape, seed=1):
    return np.random.default_rng(seed).standard_normal(shape).astype(np.float32)


@pytest.mark.parametrize("h,w", [(1, 1), (2, 3), (5, 7), (4, 13)])
def test_synthesis_matches_torch_random_weights(h, w):
    seq = small_synthesis()
    y = rand((40, h, w))
    out = CpuSynthesis.from_module(seq).run(y, threads=2)
    assert out.shape == (3, 8 * h, 8 * w)
    assert rel_err(out, torch_ref(seq, y)) < REL_TOL


@pytest.mark.parametrize("h,w", [(16, 16), (24, 40), (17, 29), (3, 5)])
def test_analysis_matches_torch_random_weights(h, w):
    seq = small_analysis()
    x = np.random.default_rng(2).random((3, h, w), dtype=np.float32)
    out = CpuAnalysis.from_module(seq).run(x, threads=2)
    assert rel_err(out, torch_ref(seq, x)) < REL_TOL


@pytest.fixture(scope="module")
def shipped():
    if not (WEIGHTS_DIR / f"{SHIPPED_PROFILE}.npz").is_file():
        pytest.skip("shipped weights not present")
    return load_model()


@pytest.mark.parametrize("h,w", [(3, 5), (1, 2), (4, 4)])
def test_shipped_synthesis_matches_torch(shipped, h, w):
    y = rand((shipped.config.M, h, w), seed=h * 10 + w) * 4
    out = CpuSynthesis.from_module(shipped.g_s).run(y, threads=2)
    assert out.shape == (3, 16 * h, 16 * w)
    assert rel_err(out, torch_ref(shipped.g_s, y)) < REL_TOL


def test_shipped_analysis_matches_torch(shipped):
    x = np.random.default_rng(3).random((3, 48, 80), dtype=np.float32)
    out = CpuAnalysis.from_module(shipped.g_a).run(x, threads=2)
    assert out.shape == (shipped.config.M, 3, 5)
    assert rel_err(out, torch_ref(shipped.g_a, x)) < REL_TOL


def test_thread_count_does_not_change_result():
    syn = CpuSynthesis.from_module(small_synthesis())
    y = rand((40, 9, 11))
    ref = syn.run(y, threads=1)
    for t in (2, 3, 8):
        np.testing.assert_array_equal(syn.run(y, threads=t), ref)


def _crops(h, w, seed):
    rng = np.random.default_rng(seed)
    crops = [(0, h, 0, w), (0, 1, 0, 1), (h - 1, h, w - 1, w), (1, h - 1, 2, 3)]
    for _ in range(10):
        y0, x0 = int(rng.integers(0, h)), int(rng.integers(0, w))
        crops.append((y0, int(rng.integers(y0 + 1, h + 1)), x0, int(rng.integers(x0 + 1, w + 1))))
    return crops


@pytest.mark.parametrize("isa", SUPPORTED_ISAS)
def test_a_crop_is_the_same_rectangle_of_the_whole_output_bit_for_bit(isa):
    # crop_plan.h: each layer computes only what the crop reads; strided convs (analysis, with a stride-1 conv
    # last), transposed ones (synthesis), ReLU; odd input sizes
    syn = CpuSynthesis.from_module(small_synthesis())
    ana = CpuAnalysis.from_module(small_analysis())
    relu = CpuAnalysis.from_module(nn.Sequential(conv(3, 8), nn.ReLU(), conv(8, 8, 3, 1)).eval())
    previous = set_conv_isa(isa)
    try:
        for n, (tf, x) in enumerate(((syn, rand((40, 5, 7))), (ana, rand((3, 37, 45))), (relu, rand((3, 11, 9))))):
            whole = tf.run(x, threads=1)
            for k, (y0, y1, x0, x1) in enumerate(_crops(*whole.shape[1:], seed=n)):
                got = tf.run(x, threads=1 + k % 2, crop=(y0, y1, x0, x1))
                np.testing.assert_array_equal(got, whole[:, y0:y1, x0:x1], err_msg=f"crop {(y0, y1, x0, x1)}")
        with pytest.raises(ValueError, match="crop"):
            syn.run(rand((40, 2, 2)), threads=1, crop=(0, 0, 0, 4))
    finally:
        set_conv_isa(previous)


def test_a_scratch_lent_to_successive_runs_changes_nothing():
    # the encoder lends one scratch to every tile's g_a: runs of other sizes and crops before must leave
    # nothing behind (a larger run's values past a smaller one's border, say)
    ana, syn = CpuAnalysis.from_module(small_analysis()), CpuSynthesis.from_module(small_synthesis())
    scratch = _core.TransformScratch()
    for k, (tf, shape, crop) in enumerate([(ana, (3, 64, 80), None), (ana, (3, 17, 9), None),
                                           (ana, (3, 40, 33), (1, 3, 0, 2)), (syn, (40, 6, 5), (3, 40, 9, 37)),
                                           (syn, (40, 2, 3), None), (ana, (3, 64, 80), (0, 4, 2, 5))]):
        x = rand(shape, seed=k)
        np.testing.assert_array_equal(tf.run(x, threads=2, crop=crop, scratch=scratch), tf.run(x, threads=2, crop=crop))


@pytest.mark.parametrize("isa", SUPPORTED_ISAS)
def test_simd_paths_are_bit_identical(isa):
    syn = CpuSynthesis.from_module(small_synthesis())
    ana = CpuAnalysis.from_module(small_analysis())
    y, x = rand((40, 5, 6)), rand((3, 20, 28))
    previous = set_conv_isa("portable")
    try:
        ref_s, ref_a = syn.run(y, threads=2), ana.run(x, threads=2)
        set_conv_isa(isa)
        assert conv_isa() == isa
        np.testing.assert_array_equal(syn.run(y, threads=2), ref_s)
        np.testing.assert_array_equal(ana.run(x, threads=2), ref_a)
    finally:
        set_conv_isa(previous)


def test_isa_switch_refuses_what_this_cpu_lacks():
    previous = conv_isa()
    try:
        for name in ("avx2", "avx512", "neon"):
            if name in SUPPORTED_ISAS:
                continue
            with pytest.raises(ValueError, match=f"does not support {name}"):
                set_conv_isa(name)
            assert conv_isa() == previous  # a refused switch changes nothing
        with pytest.raises(ValueError, match="unknown ISA 'sse9'"):
            set_conv_isa("sse9")
        with pytest.raises(TypeError):
            set_conv_isa(2)
    finally:
        set_conv_isa(previous)


def test_bad_inputs_raise():
    syn = CpuSynthesis.from_module(small_synthesis())
    y = rand((40, 2, 2))
    with pytest.raises(TypeError):
        syn.run(y.astype(np.float64))
    with pytest.raises(TypeError):
        syn.run(y.tolist())
    with pytest.raises(ValueError):
        syn.run(rand((39, 2, 2)))
    with pytest.raises(ValueError):
        syn.run(rand((40, 2)))
    with pytest.raises(ValueError):
        syn.run(np.zeros((40, 0, 3), np.float32))
    bad = y.copy()
    bad[0, 0, 0] = np.nan
    with pytest.raises(ValueError):
        syn.run(bad)
    with pytest.raises(ValueError):
        syn.run(y, threads=0)
    with pytest.raises(TypeError):
        syn.run(y, threads=1.5)
    with pytest.raises(ValueError):
        set_conv_isa("sse9")
    with pytest.raises(TypeError):
        set_conv_isa(2)


@pytest.mark.parametrize("seq", [
    nn.Sequential(nn.Conv2d(3, 8, 4, padding=2)),                    # even kernel
    nn.Sequential(nn.Conv2d(3, 8, 5, stride=3, padding=2)),          # stride 3
    nn.Sequential(nn.Conv2d(3, 8, 5, padding=1)),                    # not 'same' padding
    nn.Sequential(nn.ConvTranspose2d(3, 8, 5, stride=2, padding=2)),  # no output_padding
    nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.Sigmoid()),      # unsupported layer
    nn.Sequential(nn.Conv2d(3, 8, 3, padding=1, groups=1, dilation=2)),
    nn.Sequential(),
])
def test_unsupported_modules_raise(seq):
    with pytest.raises((ValueError, TypeError)):
        CpuSynthesis.from_module(seq)


def test_core_rejects_inconsistent_layers():
    tf = _core.FloatTransform()
    tf.add_conv(False, np.zeros((8, 3, 3, 3), np.float32), np.zeros(8, np.float32), 1)
    with pytest.raises(ValueError):  # cin 4 != previous cout 8
        tf.add_conv(False, np.zeros((8, 4, 3, 3), np.float32), np.zeros(8, np.float32), 1)
    with pytest.raises(ValueError):
        tf.add_gdn(False, np.ones(7, np.float32), np.zeros((7, 7), np.float32))
    with pytest.raises(ValueError):
        tf.add_gdn(False, -np.ones(8, np.float32), np.zeros((8, 8), np.float32))
    tf.add_gdn(False, np.ones(8, np.float32), np.zeros((8, 8), np.float32))
    with pytest.raises(ValueError):  # GDN cannot end the chain
        tf.run(np.zeros((3, 4, 4), np.float32), 1)
    with pytest.raises(TypeError):
        tf.add_conv(False, np.zeros((8, 8, 3, 3), np.float64), np.zeros(8, np.float32), 1)


def test_relu_between_layers_matches_torch_and_a_final_relu_is_refused():
    torch.manual_seed(3)
    seq = nn.Sequential(nn.Conv2d(6, 16, 3, padding=1), nn.ReLU(), conv(16, 16), nn.ReLU(), conv(16, 5)).eval()
    x = np.random.default_rng(0).normal(size=(6, 24, 40)).astype(np.float32)
    with torch.no_grad():
        ref = seq(torch.from_numpy(x)[None])[0].numpy()
    out = CpuAnalysis.from_module(seq).run(x, threads=2)
    assert out.shape == ref.shape and np.allclose(out, ref, rtol=1e-4, atol=1e-5)
    final = CpuAnalysis.from_module(nn.Sequential(nn.Conv2d(6, 4, 3, padding=1), nn.ReLU()))
    with pytest.raises(ValueError, match="activation after the last layer"):
        final.run(x, threads=1)
