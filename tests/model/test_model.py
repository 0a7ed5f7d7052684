"""Fast unit tests of the torch model (tiny configs, CPU)."""
import math

import numpy as np
import pytest
import torch
import torch.nn as nn

from jpegai_fast.model import MASK, Codec, CodecConfig, GainUnits, MaskedGroupedConv5x5, get_config
from jpegai_fast.model.complexity import count_macs, measure
from jpegai_fast.model.context import wavefront_index
from jpegai_fast.model.entropy_models import FactorizedPrior, gaussian_likelihood, scale_index
from jpegai_fast.model.gain import remap_ladder

TINY = CodecConfig(profile="tiny", N=16, M=32, hyper_width=16, z_channels=8)


@pytest.fixture(autouse=True)
def _seed():
    torch.manual_seed(0)


def test_shapes_and_pipeline_methods():
    model = Codec(TINY)
    x = torch.rand(2, 3, 128, 192)
    y = model.analysis(x)
    assert y.shape == (2, 32, 8, 12)
    z = model.hyper_analysis(y)
    assert z.shape == (2, 8, 2, 3)
    mu, log2_sigma = model.hyper_params(torch.round(z))
    assert mu.shape == log2_sigma.shape == y.shape
    assert model.synthesis(y).shape == x.shape
    out = model(x, 1.3)                      # train mode: noise/STE estimate
    assert out["x_hat"].shape == x.shape and out["bpp"].item() > 0
    out = model.eval()(x, 1.3)               # eval mode: exact rounding, likelihoods per symbol
    assert out["x_hat"].shape == x.shape
    assert out["likelihoods"]["y"].shape == y.shape and out["likelihoods"]["z"].shape == z.shape
    assert out["bpp"].item() > 0


def test_h_s_uses_only_allowed_layers():
    model = Codec(TINY)
    for layer in model.h_s:
        assert type(layer) in (nn.Conv2d, nn.ConvTranspose2d, nn.ReLU)
        if isinstance(layer, (nn.Conv2d, nn.ConvTranspose2d)):
            assert layer.groups == 1 and layer.stride[0] in (1, 2)


@pytest.mark.parametrize("bad", [torch.rand(1, 3, 100, 128), torch.rand(3, 64, 64), torch.rand(1, 1, 64, 64)])
def test_bad_input_raises(bad):
    with pytest.raises(ValueError):
        Codec(TINY).analysis(bad)


def test_gaussian_likelihood_is_a_pmf():
    u = torch.arange(-400, 401, dtype=torch.float64)
    for log2_s in (-3.375, -1.0, 0.0, 2.5, 6.0):
        p = gaussian_likelihood(u, torch.full_like(u, log2_s))
        assert abs(float(p.sum()) - 1.0) < 1e-6
        assert float(p[400]) == float(p.max())  # mode at 0
    # sigma below the ladder is clamped to sigma_0: same mass as at sigma_0
    lo = gaussian_likelihood(torch.zeros(1), torch.tensor([-10.0]))
    s0 = gaussian_likelihood(torch.zeros(1), torch.tensor([-3.375]))
    assert torch.allclose(lo, s0)


def test_scale_index_matches_ladder():
    k = torch.arange(76, dtype=torch.float64)
    log2_sigma = 6 - (75 - k) / 8
    assert torch.equal(scale_index(log2_sigma), k.long())
    assert int(scale_index(torch.tensor(-20.0))) == 0 and int(scale_index(torch.tensor(20.0))) == 75


def test_factorized_prior_pmf_table():
    prior = FactorizedPrior(4)
    pmf, offsets = prior.pmf_table()
    assert pmf.dtype == np.float64 and offsets.dtype == np.int32 and pmf.shape[0] == 4
    assert np.allclose(pmf.sum(axis=1), 1.0)
    # the table agrees with the likelihood used in training
    ch = 2
    v = torch.tensor(float(offsets[ch] + 3))
    z = torch.zeros(1, 4, 1, 1)
    z[0, ch] = v
    lik = prior.likelihood(z)[0, ch, 0, 0].item()
    assert abs(lik - pmf[ch, 3]) < 1e-5


def test_gain_interpolation_monotone_and_exact_at_ladder():
    gain = GainUnits(8)
    k_pts = gain.num_points
    with torch.no_grad():
        gain.log2_step_table.copy_(torch.randn(k_pts, 8).sort(dim=0, descending=True).values)
    ts = np.linspace(0, k_pts - 1, 51)
    steps = torch.stack([gain.log2_steps(t) for t in ts])
    assert torch.all(steps[1:] <= steps[:-1] + 1e-7)  # finer steps for higher t
    for k in range(k_pts):
        assert torch.allclose(gain.log2_steps(k), gain.log2_step_table[k])
    lambdas = [gain.lmbda(t) for t in ts]
    assert all(b > a for a, b in zip(lambdas, lambdas[1:]))
    assert math.isclose(gain.lmbda(2), gain.lambdas[2])
    for bad in (-0.1, k_pts - 1 + 0.01, float("nan")):
        with pytest.raises(ValueError):
            gain.log2_steps(bad)


def test_remap_ladder_keeps_old_points_and_extends_linearly_in_log_lambda():
    old = (0.001, 0.01, 0.1)
    table = torch.tensor([[2.0, 0.0], [1.0, -1.0], [0.0, -3.0]])
    new = remap_ladder(table, old, (0.0001, 0.001, 0.01 ** 0.5 * 0.1 ** 0.5, 0.1, 1.0))
    assert torch.allclose(new[1], table[0]) and torch.allclose(new[3], table[2])
    assert torch.allclose(new[0], torch.tensor([3.0, 1.0]))     # first segment's slope, extended
    assert torch.allclose(new[2], torch.tensor([0.5, -2.0]))    # halfway (in log lambda) along segment 2
    assert torch.allclose(new[4], torch.tensor([-1.0, -5.0]))   # last segment's slope, extended


def test_context_mask_shape():
    assert MASK.shape == (5, 5) and int(MASK.sum()) == 10
    ctx = MaskedGroupedConv5x5(32)
    assert ctx.weight.shape == (32, 16, 5, 5) and ctx.bias.shape == (32,)


def test_context_is_causal_and_grouped():
    ctx = MaskedGroupedConv5x5(32)
    with torch.no_grad():
        ctx.weight.normal_()
    h, w, i, j = 9, 11, 4, 5
    y = torch.randn(1, 32, h, w)
    ref = ctx(y)[0, :, i, j]
    front = wavefront_index(h, w)
    changed_any = False
    for di in range(-3, 4):
        for dj in range(-3, 4):
            pi, pj = i + di, j + dj
            y2 = y.clone()
            y2[0, :16, pi, pj] += 10.0  # perturb group 0 only
            out = ctx(y2)[0, :, i, j]
            assert torch.allclose(out[16:], ref[16:])  # group 1 never reads group 0
            causal = (di, dj) in {(a, b) for a in (-2, -1) for b in (-2, -1, 0, 1)} | {(0, -2), (0, -1)}
            if not causal:
                assert torch.allclose(out, ref), (di, dj)
            else:
                assert front[pi, pj] < front[i, j]
                changed_any |= not torch.allclose(out[:16], ref[:16])
    assert changed_any


def test_eval_wavefront_matches_direct_definition():
    model = Codec(TINY).eval()
    with torch.no_grad():
        model.context.weight.normal_(std=0.1)
    y = torch.randn(1, 32, 5, 6) * 3
    mu_h = torch.randn_like(y)
    q, y_hat, mu = model.quantise_latent(y, mu_h, 2.0)
    step = model.gain.steps(2.0).view(1, -1, 1, 1)
    # the returned mu must be what the context gives on the final y_hat (causal => consistent)
    assert torch.allclose(mu, mu_h + model.context(y_hat), atol=1e-5)
    assert torch.allclose(y_hat, q.float() * step + mu, atol=1e-5)
    assert torch.equal(q, torch.round((y - mu) / step).to(torch.int32))


def test_complexity_counter_hand_computed():
    conv = nn.Conv2d(4, 6, 3, padding=1)
    assert count_macs(conv, torch.zeros(1, 4, 10, 12)) == 10 * 12 * 6 * 4 * 9
    grouped = nn.Conv2d(4, 6, 3, padding=1, groups=2)
    assert count_macs(grouped, torch.zeros(1, 4, 10, 12)) == 10 * 12 * 6 * 2 * 9
    deconv = nn.ConvTranspose2d(4, 6, 5, stride=2, padding=2, output_padding=1)
    assert count_macs(deconv, torch.zeros(1, 4, 10, 12)) == 10 * 12 * 4 * 6 * 25
    ctx = MaskedGroupedConv5x5(32)
    assert count_macs(ctx, torch.zeros(1, 32, 3, 4)) == 12 * 32 * 16 * 10


def test_profiles_meet_complexity_budgets():
    assert measure(Codec(get_config("default")), 256, 256).decoder_kmac <= 40
    light = measure(Codec(get_config("light")), 256, 256)
    assert light.decoder_kmac <= 15
    assert light.params["total"] * 2 <= 10e6
    assert measure(Codec(get_config("light-noctx")), 256, 256).parts_kmac["context"] == 0


def test_unknown_profile_raises():
    with pytest.raises(ValueError):
        get_config("huge")


def test_eval_helper_matches_forward_in_eval_mode():
    from jpegai_fast.eval.model_rd import rd_points
    model = Codec(TINY).eval()
    with torch.no_grad():
        model.context.weight.normal_(std=0.05)
    x = torch.rand(1, 3, 64, 128)
    points = rd_points(model, x, [0.0, 3.5])
    for pt in points:
        with torch.no_grad():
            ref = model(x, pt["t"])
        assert abs(pt["bpp"] - float(ref["bpp"])) < 1e-4 * max(1.0, float(ref["bpp"]))
        assert torch.allclose(pt["x_hat"], torch.round(ref["x_hat"].clamp(0, 1) * 255) / 255)
    assert points[0]["bpp"] != points[1]["bpp"]
