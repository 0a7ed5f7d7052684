"""In-memory training crops: every image decoded ONCE to uint8, crops + flips sampled from a
seeded generator so a run is reproducible and resumable."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from PIL import Image

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff", ".webp"}


def load_images(folder: str | Path, min_size: int, device: torch.device | str = "cpu") -> list[torch.Tensor]:
    """Decode every image of ``folder`` to a uint8 (3, H, W) tensor on ``device``.

    Images smaller than ``min_size`` on either side are skipped (they cannot give a crop).
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise ValueError(f"training folder not found: {folder}")
    files = sorted(p for p in folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
    images = []
    for path in files:
        with Image.open(path) as im:
            arr = np.asarray(im.convert("RGB"), dtype=np.uint8)
        if arr.shape[0] < min_size or arr.shape[1] < min_size:
            continue
        images.append(torch.from_numpy(arr.copy()).permute(2, 0, 1).contiguous().to(device))
    if not images:
        raise ValueError(f"no usable images (>= {min_size}px) in {folder}")
    return images


class CropSampler:
    """Random crops with horizontal/vertical flips; images picked with probability ~ area."""

    def __init__(self, images: list[torch.Tensor], crop: int, generator: torch.Generator):
        if crop <= 0:
            raise ValueError("crop must be positive")
        self.images = images
        self.crop = crop
        self.generator = generator
        areas = torch.tensor([float(im.shape[1] * im.shape[2]) for im in images])
        self.weights = areas / areas.sum()

    def batch(self, size: int) -> torch.Tensor:
        """(size, 3, crop, crop) float32 in [0, 1] on the images' device."""
        g = self.generator
        idx = torch.multinomial(self.weights, size, replacement=True, generator=g)
        out = []
        for i in idx.tolist():
            im = self.images[i]
            h, w = im.shape[1:]
            top = int(torch.randint(0, h - self.crop + 1, (1,), generator=g))
            left = int(torch.randint(0, w - self.crop + 1, (1,), generator=g))
            patch = im[:, top:top + self.crop, left:left + self.crop]
            flips = torch.randint(0, 2, (2,), generator=g).tolist()
            if flips[0]:
                patch = patch.flip(-1)
            if flips[1]:
                patch = patch.flip(-2)
            out.append(patch)
        return torch.stack(out).float().div_(255.0)
