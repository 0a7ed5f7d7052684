"""widen_latent / widen_analysis: a grown model starts out computing what the narrow one did; narrow_latent undoes widen_latent."""
import pytest
import torch

from jpegai_fast.model.codec import Codec, CodecConfig
from jpegai_fast.model.grow import narrow_latent, widen_analysis, widen_latent

SMALL = dict(profile="t", N=16, M=32, hyper_width=16, z_channels=8, lambdas=(0.001, 0.01, 0.1))


def _pair(use_context=True):
    torch.manual_seed(0)
    narrow = Codec(CodecConfig(**SMALL, use_context=use_context)).eval()
    # make the narrow model "trained-looking": every parameter away from its init
    with torch.no_grad():
        for p in narrow.parameters():
            p.add_(0.01 * torch.randn_like(p))
    wide = Codec(CodecConfig(**{**SMALL, "M": 48}, use_context=use_context)).eval()
    return narrow, wide


@pytest.mark.parametrize("use_context", [True, False])
def test_old_channels_code_and_decode_as_before(use_context):
    narrow, wide = _pair(use_context)
    wide.load_state_dict(widen_latent(narrow, wide, new_synthesis_scale=0.0))
    x = torch.rand(1, 3, 64, 128)
    with torch.no_grad():
        y0, y1 = narrow.analysis(x), wide.analysis(x)
        assert torch.equal(y1[:, :32], y0)
        z0, z1 = narrow.hyper_analysis(y0), wide.hyper_analysis(y1)
        assert torch.allclose(z1, z0, atol=1e-5)          # new channels are invisible to h_a
        mu0, s0 = narrow.hyper_params(torch.round(z0))
        mu1, s1 = wide.hyper_params(torch.round(z0))
        assert torch.allclose(mu1[:, :32], mu0) and torch.allclose(s1[:, :32], s0)
        assert torch.all(mu1[:, 32:] == 0) and torch.all(s1[:, 32:] == -3.0)
        for t in (0.0, 1.3, 2.0):
            assert torch.equal(wide.log2_steps(t)[:32], narrow.log2_steps(t))
            _, yh0, _ = narrow.quantise_latent(y0, mu0, t)
            _, yh1, _ = wide.quantise_latent(y1, mu1, t)
            assert torch.allclose(yh1[:, :32], yh0, atol=1e-5)
            # with the new channels' synthesis weights at zero the image is the narrow model's
            assert torch.allclose(wide.synthesis(yh1), narrow.synthesis(yh0), atol=1e-5)


def test_new_channels_start_small_but_trainable():
    narrow, wide = _pair()
    fresh = wide.g_s[0].weight[32:].detach().clone()
    wide.load_state_dict(widen_latent(narrow, wide, new_synthesis_scale=0.1))
    assert torch.allclose(wide.g_s[0].weight[32:], 0.1 * fresh)
    assert wide.g_a[-1].weight[32:].abs().sum() > 0              # g_a writes signal into them
    x = torch.rand(1, 3, 64, 64)
    wide.train()
    out = wide(x, 1.0)
    loss = wide.gain.lmbda(1.0) * 255 ** 2 * torch.mean((out["x_hat"] - x) ** 2) + out["bpp"]
    loss.backward()
    # g_a's new rows learn through the (small, non-zero) synthesis weights and the STE, and h_a's
    # zero columns through their non-zero input, even while the coarse step rounds y to zero...
    assert wide.g_a[-1].weight.grad[32:].abs().sum() > 0
    assert wide.h_a[0].weight.grad[:, 32:].abs().sum() > 0
    # ...and g_s's new rows as soon as a fine step lets the new channels through
    wide.zero_grad()
    with torch.no_grad():
        wide.gain.log2_step_table[:, 32:] = -8.0
    out = wide(x, 1.0)
    (torch.mean((out["x_hat"] - x) ** 2)).backward()
    assert wide.g_s[0].weight.grad[32:].abs().sum() > 0


def test_only_m_may_differ_and_m_may_not_shrink():
    narrow, wide = _pair()
    with pytest.raises(ValueError, match="only in M"):
        widen_latent(narrow, Codec(CodecConfig(**{**SMALL, "M": 48, "N": 32})))
    with pytest.raises(ValueError, match="shrink"):
        widen_latent(wide, narrow)


@pytest.mark.parametrize("use_context", [True, False])
def test_narrow_undoes_widen(use_context):
    narrow, wide = _pair(use_context)
    wide.load_state_dict(widen_latent(narrow, wide))
    back = Codec(CodecConfig(**SMALL, use_context=use_context))
    back.load_state_dict(narrow_latent(wide, back))
    for k, v in narrow.state_dict().items():
        assert torch.equal(back.state_dict()[k], v), k


def test_narrow_keeps_the_kept_channels_path():
    narrow, wide = _pair()
    with torch.no_grad():
        for p in wide.parameters():
            p.add_(0.01 * torch.randn_like(p))       # a "trained" wide model: every slice moved
    narrow.load_state_dict(narrow_latent(wide, narrow))
    x = torch.rand(1, 3, 64, 64)
    with torch.no_grad():
        assert torch.equal(narrow.analysis(x), wide.analysis(x)[:, :32])
        z = torch.round(wide.hyper_analysis(wide.analysis(x)))
        mu0, s0 = narrow.hyper_params(z)
        mu1, s1 = wide.hyper_params(z)
        assert torch.allclose(mu0, mu1[:, :32]) and torch.allclose(s0, s1[:, :32])
    with pytest.raises(ValueError, match="grow"):
        narrow_latent(narrow, wide)


def _analysis_pair():
    torch.manual_seed(0)
    narrow = Codec(CodecConfig(**SMALL)).eval()
    with torch.no_grad():
        for p in narrow.parameters():
            p.add_(0.01 * torch.randn_like(p))
    wide = Codec(CodecConfig(**SMALL, N_analysis=24)).eval()
    return narrow, wide


def test_widened_analysis_computes_what_the_narrow_one_did():
    narrow, wide = _analysis_pair()
    assert wide.g_a[0].weight.shape[0] == 24 and wide.g_s[-1].weight.shape[0] == 16   # g_s keeps N
    x = torch.rand(1, 3, 64, 128)
    wide.load_state_dict(widen_analysis(narrow, wide, new_read_scale=0.0))
    with torch.no_grad():
        assert torch.allclose(wide.analysis(x), narrow.analysis(x), atol=1e-6)
        assert torch.equal(wide.g_s[0].weight, narrow.g_s[0].weight)
    narrow, wide = _analysis_pair()             # new slices come from wide's own (fresh) values
    wide.load_state_dict(widen_analysis(narrow, wide, new_read_scale=0.1))
    with torch.no_grad():
        y0, y1 = narrow.analysis(x), wide.analysis(x)
        assert 0 < (y1 - y0).abs().max() < 0.5 * y0.abs().max()       # close, not equal: trainable


def test_widened_analysis_channels_get_gradients():
    narrow, wide = _analysis_pair()
    wide.load_state_dict(widen_analysis(narrow, wide))
    wide.train()
    x = torch.rand(1, 3, 64, 64)
    out = wide(x, 1.0)
    (torch.mean((out["x_hat"] - x) ** 2) + out["bpp"]).backward()
    assert wide.g_a[0].weight.grad[16:].abs().sum() > 0       # new filters
    assert wide.g_a[2].weight.grad[:, 16:].abs().sum() > 0    # reads of the new channels


def test_widen_analysis_checks_its_arguments():
    narrow, wide = _analysis_pair()
    with pytest.raises(ValueError, match="only in N_analysis"):
        widen_analysis(narrow, Codec(CodecConfig(**{**SMALL, "M": 48}, N_analysis=24)))
    with pytest.raises(ValueError, match="shrink"):
        widen_analysis(wide, narrow)
