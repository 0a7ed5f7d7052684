"""The coding contract, one test: the C++ core exports it (csrc/bindings.cpp -> core/constants.py) and torch
(model/, what trains), numpy (runtime/ and core/, what codes) and C++ (what runs) agree on it.

Q formats (Q12 values and steps, Q8 log2), the context taps and group size, the wavefront slope, and the
scale ladder with its index rule. Each check compares two sides' behaviour, not only their constants.
"""
import numpy as np
import pytest
import torch

from jpegai_fast import _core
from jpegai_fast.core import constants as C
from jpegai_fast.core import rans, wavefront
from jpegai_fast.core.intpath import scale_indexes, step_q_from_log2
from jpegai_fast.format.container import RATE_FRAC_BITS
from jpegai_fast.model import context as torch_context
from jpegai_fast.model import entropy_models
from jpegai_fast.runtime.engine import get_engine


def test_the_core_exports_the_contract():
    assert C.CONTEXT_TAP_OFFSETS and len(C.CONTEXT_TAP_OFFSETS) == C.CONTEXT_TAPS
    assert C.CONTEXT_ROW_SLOPE == _core.CONTEXT_ROW_SLOPE
    # causal under the slope: every tap is decoded at an earlier wavefront step than the position
    assert all(dx + C.CONTEXT_ROW_SLOPE * dy < 0 for dy, dx in C.CONTEXT_TAP_OFFSETS)
    # the scale-index rule is the ladder's in Q8: 2^(8 - shift) tables per octave, table OFFSET at sigma = step
    assert 1 << (C.LOG2_FRAC_BITS - C.SCALE_INDEX_SHIFT) == C.SCALES_PER_OCTAVE
    assert C.SCALE_INDEX_OFFSET == (2 * C.SCALE_LADDER_OFFSET + 1) << (C.SCALE_INDEX_SHIFT - 1)


def test_context_taps_group_and_slope_agree_torch_numpy_cpp():
    """torch's mask and group size, numpy's tap order and the C++ loop are one context model."""
    taps = {(dy + 2, dx + 2) for dy, dx in C.CONTEXT_TAP_OFFSETS}
    assert set(map(tuple, torch.nonzero(torch_context.MASK).tolist())) == taps == set(wavefront.TAPS)
    conv = torch_context.MaskedGroupedConv5x5(2 * C.GROUP)
    assert conv.weight.shape[1] == C.GROUP == torch_context.GROUP_SIZE
    wi = torch_context.wavefront_index(5, 5)
    assert all(wi[2 + dy, 2 + dx] < wi[2, 2] for dy, dx in C.CONTEXT_TAP_OFFSETS)   # torch's schedule: causal too

    # behaviour: the C++ loop's mean equals torch's masked conv of the same y_hat (Q12 in, Q16 weights)
    torch.manual_seed(1)
    with torch.no_grad():
        conv.weight.normal_(0, 0.05)
        conv.bias.normal_(0, 0.1)
    model = wavefront.ContextModel.from_module(conv)
    rng = np.random.default_rng(0)
    M, H, W = 2 * C.GROUP, 7, 9
    q = rng.integers(-3, 4, (M, H, W)).astype(np.int32)
    mu_h = rng.integers(-4000, 4000, (M, H, W)).astype(np.int32)
    step_q = np.full(M, 3 << (C.ACT_FRAC_BITS - 1), np.int32)               # 1.5 in Q12
    for threads in (1, 3):                                                  # the wavefront schedule, threaded
        y_hat_q = model.reconstruct(q, mu_h, step_q, threads=threads)
        mu_q = y_hat_q.astype(np.int64) - q.astype(np.int64) * step_q[:, None, None]
        with torch.no_grad():
            ctx = conv(torch.from_numpy(wavefront.from_q12(y_hat_q))[None])[0].double().numpy()
        want = mu_h / float(1 << C.ACT_FRAC_BITS) + ctx
        assert np.abs(mu_q / float(1 << C.ACT_FRAC_BITS) - want).max() < 1e-3


def test_scale_ladder_and_index_rule_agree_torch_numpy_cpp():
    ladder = np.asarray(_core.gaussian_scale_ladder())
    k = np.arange(C.NUM_SCALES)
    assert np.array_equal(ladder, 2.0 ** ((k - C.SCALE_LADDER_OFFSET) / C.SCALES_PER_OCTAVE))
    assert np.array_equal(rans.SCALES, ladder)
    assert (entropy_models.SIGMA_MIN, entropy_models.SIGMA_MAX) == (ladder[0], ladder[-1])

    # log2(sigma/step) on the Q8 grid, ties (where torch rounds half to even, the coder half up) left out
    L = np.arange(-1500, 2500)
    L = L[(L + C.SCALE_INDEX_OFFSET) % (1 << C.SCALE_INDEX_SHIFT) != 0]
    cpp = scale_indexes(L.astype(np.int32).reshape(1, 1, -1), np.zeros(1, np.int32))[0, 0]
    numpy_int = rans.scale_index_from_log2_q8(L)
    numpy_float = rans.scale_index(2.0 ** (L / float(1 << C.LOG2_FRAC_BITS)))
    torch_float = entropy_models.scale_index(torch.from_numpy(L / float(1 << C.LOG2_FRAC_BITS))).numpy()
    assert np.array_equal(cpp, numpy_int)
    assert np.array_equal(cpp, numpy_float)
    assert np.array_equal(cpp, torch_float)


@pytest.mark.parametrize("rate", [0.0, 1.3, 3.0])
def test_q_formats_agree_runtime_and_torch(rate):
    """runtime's integer steps (Q12 from Q8 log2) are 2^log2 in float, as the torch side reads them."""
    eng = get_engine()
    log2_q, step_q = eng.steps(int(rate * (1 << RATE_FRAC_BITS)))
    as_float = 2.0 ** (log2_q / float(1 << C.LOG2_FRAC_BITS))               # how effort_search/training read Q8
    assert np.abs(step_q / float(1 << C.ACT_FRAC_BITS) - as_float).max() <= 0.5 / (1 << C.ACT_FRAC_BITS) + 1e-12
    assert np.array_equal(step_q, step_q_from_log2(log2_q))
    assert wavefront.to_q12(np.float32(1.0)) == 1 << C.ACT_FRAC_BITS
    if rate.is_integer():      # on a ladder point the steps are that point's Q8 log2 steps exactly
        assert np.array_equal(eng.ladder_q[int(rate)], log2_q)
