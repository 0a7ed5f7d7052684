"""Complexity from the module graph: forward hooks count the multiply-accumulates of every conv,
transposed conv, GDN and masked context conv for a given input size, then divide by the pixels.

Counting rules (per output element unless said otherwise):
* Conv2d: (Cin / groups) * kh * kw MACs per output value;
* ConvTranspose2d: Cin * (Cout / groups) * kh * kw per INPUT pixel (every input scatters a kernel);
* GDN / IGDN: C MACs per output value (a 1x1 conv of x^2 with a C x C matrix);
* MaskedGroupedConv5x5: only the unmasked taps (10 of 25) count, 16 inputs each;
* ReLU, sqrt, the factorised prior and the entropy coder are not counted (no MACs / not a conv).
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn as nn

from jpegai_fast.model.codec import Codec
from jpegai_fast.model.context import MaskedGroupedConv5x5
from jpegai_fast.model.layers import GDN


def _module_macs(module: nn.Module, inp: torch.Tensor, out: torch.Tensor) -> int:
    if isinstance(module, MaskedGroupedConv5x5):
        taps = int(module.mask.sum())
        return out.numel() * 16 * taps
    if isinstance(module, nn.ConvTranspose2d):
        kh, kw = module.kernel_size
        return inp.numel() * (module.out_channels // module.groups) * kh * kw
    if isinstance(module, nn.Conv2d):
        kh, kw = module.kernel_size
        return out.numel() * (module.in_channels // module.groups) * kh * kw
    if isinstance(module, GDN):
        return out.numel() * module.channels
    return 0


def count_macs(module: nn.Module, *inputs: torch.Tensor) -> int:
    """Total MACs of one forward of ``module`` on ``inputs`` (batch 1 expected)."""
    total = 0
    counted = (nn.Conv2d, nn.ConvTranspose2d, GDN, MaskedGroupedConv5x5)

    def hook(mod, args, out):
        nonlocal total
        total += _module_macs(mod, args[0], out)

    handles = [m.register_forward_hook(hook) for m in module.modules() if isinstance(m, counted)]
    try:
        with torch.no_grad():
            module(*inputs)
    finally:
        for h in handles:
            h.remove()
    return total


def count_params(module: nn.Module | None) -> int:
    """Number of parameters (0 for None)."""
    return 0 if module is None else sum(p.numel() for p in module.parameters())


@dataclass
class Complexity:
    """kMAC per image pixel of each part and of encoder/decoder, plus parameter counts."""

    parts_kmac: dict
    encoder_kmac: float
    decoder_kmac: float
    params: dict

    def table(self) -> str:
        """Markdown table of the parts."""
        rows = ["| part | kMAC/px | params |", "| --- | ---: | ---: |"]
        for name, kmac in self.parts_kmac.items():
            rows.append(f"| {name} | {kmac:.2f} | {self.params.get(name, 0):,} |")
        rows.append(f"| **encoder** (g_a + h_a + h_s + context) | {self.encoder_kmac:.2f} | |")
        rows.append(f"| **decoder** (h_s + context + g_s) | {self.decoder_kmac:.2f} | |")
        rows.append(f"| total parameters | | {self.params['total']:,} |")
        return "\n".join(rows)


def measure(model: Codec, height: int = 512, width: int = 768) -> Complexity:
    """Run every sub-network once on a (1, 3, height, width) image and count MACs per pixel."""
    cfg = model.config
    px = height * width
    x = torch.zeros(1, 3, height, width)
    y = torch.zeros(1, cfg.M, height // 16, width // 16)
    z = torch.zeros(1, cfg.z_channels, height // 64, width // 64)
    parts = {
        "g_a": count_macs(model.g_a, x),
        "h_a": count_macs(model.h_a, y),
        "h_s": count_macs(model.h_s, z),
        "context": count_macs(model.context, y) if model.context is not None else 0,
        "g_s": count_macs(model.g_s, y),
    }
    kmac = {k: v / px / 1000 for k, v in parts.items()}
    params = {k: count_params(getattr(model, k)) for k in ("g_a", "h_a", "h_s", "context", "g_s")}
    params["gain"] = count_params(model.gain)
    params["z_prior"] = count_params(model.z_prior)
    params["total"] = count_params(model)
    enc = kmac["g_a"] + kmac["h_a"] + kmac["h_s"] + kmac["context"]
    dec = kmac["h_s"] + kmac["context"] + kmac["g_s"]
    return Complexity(kmac, enc, dec, params)


def main() -> None:
    """Print the complexity table of every profile: ``python -m jpegai_fast.model.complexity``."""
    from jpegai_fast.model.codec import PROFILES
    for name, cfg in PROFILES.items():
        c = measure(Codec(cfg))
        print(f"## {name}  (encoder {c.encoder_kmac:.2f} kMAC/px, decoder {c.decoder_kmac:.2f} kMAC/px, "
              f"{c.params['total']:,} params, {c.params['total'] * 2 / 1e6:.2f} MB fp16)\n")
        print(c.table() + "\n")


if __name__ == "__main__":
    main()
