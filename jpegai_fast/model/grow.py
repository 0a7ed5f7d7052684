"""Grow a trained model's latent (M) or its analysis transform (N_analysis) without starting over.

Why: the light model's high-rate quality is capped by its transforms, not by its rate: with no
quantisation at all (y_hat = y) the M=160 model reconstructs Kodak at only ~32.2 dB, so no rate
reaches JPEG 2000's 36 dB at 1 bpp. More latent channels lift that ceiling, and training a wider
model from scratch would throw away every step already paid for on a CPU. So the new model keeps
the old one's weights for the old channels and starts the new channels so that, to first order,
it computes what the old model did:

* g_s reads the new channels through weights scaled by ``new_synthesis_scale`` (small, so the
  reconstruction barely moves, but not zero: with zero on both sides of a channel no gradient
  would ever reach it);
* g_a writes the new channels with its fresh (random) init, so they carry signal from step one;
* h_a ignores them (zero columns) so z, and every old channel's scale and mean, are unchanged;
* h_s predicts mean 0 and a constant scale for them (zero weights, bias ``log2_sigma_bias``);
* the context model predicts nothing for them (zero weights: new channels form new groups);
* the gain steps of a new channel start at the mean of the old channels' steps at each ladder point.

The learned layout is the one ``Codec`` defines: h_s outputs [mu (M) | log2 sigma (M)].

``widen_analysis`` does the same for the hidden channels of g_a alone (an asymmetric model: a wider
encoder costs encode time, not decode time): the old filters and GDN parameters are kept, the new
filters start from their fresh init, and the next layer reads the new channels through weights
scaled by ``new_read_scale``; the new GDN channels are normalised by themselves only (fresh gamma has
no cross terms), so the old channels' normalisation is unchanged.
"""
from __future__ import annotations

import torch

from jpegai_fast.model.codec import Codec
from jpegai_fast.runtime.architecture import GAIN_TABLE, analysis_width, transforms

#: The tensors whose shape depends on M: everything on either side of the latent.
LATENT_KEYS = ("g_a.6.weight", "g_a.6.bias", "g_s.0.weight", "h_a.0.weight", "h_s.4.weight",
               "h_s.4.bias", "context.weight", "context.bias", GAIN_TABLE)


def _check_only_differs_in(a: Codec, b: Codec, key: str, who: str) -> None:
    def rest(model: Codec) -> dict:
        return {k: v for k, v in model.config.to_dict().items() if k not in (key, "profile")}
    if rest(a) != rest(b):
        raise ValueError(f"{who}: the models may differ only in {key}")


def widen_latent(old: Codec, new: Codec, new_synthesis_scale: float = 0.1,
                 log2_sigma_bias: float = -3.0) -> dict[str, torch.Tensor]:
    """State dict for ``new`` (same config as ``old`` but a larger M) that carries ``old`` over.

    ``new``'s own (random) initial values fill the new slices where the rules above keep them.
    """
    _check_only_differs_in(old, new, "M", "widen_latent")
    m0, m1 = old.config.M, new.config.M
    if m1 < m0:
        raise ValueError(f"widen_latent: cannot shrink M from {m0} to {m1}")
    src = old.state_dict()
    out = {k: v.detach().clone() for k, v in new.state_dict().items()}
    for k, v in src.items():
        if k not in LATENT_KEYS:
            out[k] = v.detach().clone()

    out["g_a.6.weight"][:m0] = src["g_a.6.weight"]
    out["g_a.6.bias"][:m0] = src["g_a.6.bias"]
    out["g_s.0.weight"][:m0] = src["g_s.0.weight"]
    out["g_s.0.weight"][m0:] *= new_synthesis_scale
    out["h_a.0.weight"][:, :m0] = src["h_a.0.weight"]
    out["h_a.0.weight"][:, m0:] = 0.0

    w, b = src["h_s.4.weight"], src["h_s.4.bias"]
    nw, nb = out["h_s.4.weight"], out["h_s.4.bias"]
    nw.zero_()
    nb.zero_()
    nw[:m0], nb[:m0] = w[:m0], b[:m0]                       # means
    nw[m1:m1 + m0], nb[m1:m1 + m0] = w[m0:], b[m0:]         # log2 sigmas
    nb[m1 + m0:] = log2_sigma_bias

    if "context.weight" in src:
        out["context.weight"].zero_()
        out["context.bias"].zero_()
        out["context.weight"][:m0] = src["context.weight"]
        out["context.bias"][:m0] = src["context.bias"]

    table = src[GAIN_TABLE]
    out[GAIN_TABLE][:, :m0] = table
    out[GAIN_TABLE][:, m0:] = table.mean(dim=1, keepdim=True)
    return out


def first_channels(state: dict[str, torch.Tensor], m_keep: int) -> dict[str, torch.Tensor]:
    """``state`` (any M) with only the first ``m_keep`` latent channels left in every M-shaped tensor."""
    m = state["g_s.0.weight"].shape[0]
    out = dict(state)
    for key in ("g_a.6.weight", "g_a.6.bias", "g_s.0.weight", "context.weight", "context.bias"):
        if key in state:
            out[key] = state[key][:m_keep]
    out["h_a.0.weight"] = state["h_a.0.weight"][:, :m_keep]
    out[GAIN_TABLE] = state[GAIN_TABLE][:, :m_keep]
    for key in ("h_s.4.weight", "h_s.4.bias"):                   # [mu (M) | log2 sigma (M)]
        out[key] = torch.cat([state[key][:m_keep], state[key][m:m + m_keep]])
    return out


def narrow_latent(wide: Codec, narrow: Codec) -> dict[str, torch.Tensor]:
    """State dict for ``narrow`` (same config as ``wide`` but a smaller M): keep the first M channels.

    Why: a widened model may leave its new channels dormant (the rate term keeps them at zero; the
    shipped light model did, see docs/training.md). Cutting them returns the narrow model's
    complexity; what it changes is measured, not assumed: h_a loses the dormant channels' (small)
    contribution to z. Exactly undoes ``widen_latent``. The context model's group size (16) must
    divide M, so no context group is split (its constructor checks that).
    """
    _check_only_differs_in(wide, narrow, "M", "narrow_latent")
    if narrow.config.M > wide.config.M:
        raise ValueError(f"narrow_latent: cannot grow M from {wide.config.M} to {narrow.config.M}")
    state = {k: v.detach().clone() for k, v in wide.state_dict().items()}
    return {k: v.contiguous() for k, v in first_channels(state, narrow.config.M).items()}


def widen_analysis(old: Codec, new: Codec, new_read_scale: float = 0.1) -> dict[str, torch.Tensor]:
    """State dict for ``new`` (same config as ``old`` but a wider g_a) that carries ``old`` over."""
    _check_only_differs_in(old, new, "N_analysis", "widen_analysis")
    n0, n1 = analysis_width(old.config.to_dict()), analysis_width(new.config.to_dict())
    if n1 < n0:
        raise ValueError(f"widen_analysis: cannot shrink g_a from {n0} to {n1} channels")
    src = old.state_dict()
    out = {k: v.detach().clone() for k, v in new.state_dict().items()}
    for k, v in src.items():
        if not k.startswith("g_a."):
            out[k] = v.detach().clone()
    layers = transforms(new.config.to_dict())["g_a"]         # the layout: convs with GDNs between them
    for i in (i for i, layer in enumerate(layers) if layer[0] == "conv"):
        w, b = src[f"g_a.{i}.weight"], src[f"g_a.{i}.bias"]
        nw, nb = out[f"g_a.{i}.weight"], out[f"g_a.{i}.bias"]
        if i > 0:
            nw[:, n0:] *= new_read_scale              # reads the new channels, gently
        nw[:w.shape[0], :w.shape[1]] = w
        nb[:b.shape[0]] = b
    for i in (i for i, layer in enumerate(layers) if layer[0] == "gdn"):
        out[f"g_a.{i}.beta"][:n0] = src[f"g_a.{i}.beta"]
        out[f"g_a.{i}.gamma"][:n0, :n0] = src[f"g_a.{i}.gamma"]
    return out
