"""Distillation data for the preview heads: latents of training-set crops and the full decoder's pixels.

Each crop is coded by the real encoder at a random quality (spread over the whole range), so the head
sees exactly the latents a decoder meets (y_hat, exact, as decode() rebuilds it); the target is that
latent's full decode (g_s, rounded to 8 bits as decode() returns it), to be area-downscaled per scale.
"""
from __future__ import annotations

import time

import numpy as np
import torch

from jpegai_fast import api
from jpegai_fast.decoder.latent import ParsedStream
from jpegai_fast.pixels import from_model_output
from jpegai_fast.runtime.execution import resolve_device
from jpegai_fast.training.data import CropSampler, load_images

#: The quality range the crops are coded at (encode's whole range).
QUALITY_RANGE = (0.0, 100.0)
#: Crops coded whatever the time: one to hold out, one to train on.
MIN_CROPS = 2


def distillation_pair(crop: np.ndarray, quality: float, model: str | None) -> tuple[np.ndarray, np.ndarray]:
    """(y_hat float32 (M, h/16, w/16), full decode uint8 (3, h, w)) of one HxWx3 uint8 crop."""
    data = api.encode(crop, quality=quality, threads=1, model=model)
    p = ParsedStream(data)
    y_hat = p.latent(list(range(p.grid.count)), 1)
    x = p.eng.transform("g_s", resolve_device("cpu"), 1)(y_hat)
    h, w = crop.shape[:2]
    return y_hat, from_model_output(x[:, :h, :w], 3, 8).transpose(2, 0, 1).copy()


def make_set(folder: str, crop: int, seconds: float, seed: int, model: str | None,
             log=print) -> tuple[torch.Tensor, torch.Tensor]:
    """As many pairs as ``seconds`` allow, at least MIN_CROPS: (latents (N, M, h, w) float32, decodes (N, 3, crop, crop) uint8)."""
    gen = torch.Generator().manual_seed(seed)
    rng = np.random.default_rng(seed)
    sampler = CropSampler(load_images(folder, crop), crop, gen)
    latents, decodes = [], []
    t0 = time.monotonic()
    while len(latents) < MIN_CROPS or time.monotonic() - t0 < seconds:
        x = (sampler.batch(1)[0] * 255.0).round().to(torch.uint8).permute(1, 2, 0).numpy()
        y_hat, decoded = distillation_pair(np.ascontiguousarray(x), float(rng.uniform(*QUALITY_RANGE)), model)
        latents.append(torch.from_numpy(y_hat))
        decodes.append(torch.from_numpy(decoded))
        if len(latents) % 100 == 0:
            log(f"data: {len(latents)} crops in {time.monotonic() - t0:.0f} s")
    return torch.stack(latents), torch.stack(decodes)
