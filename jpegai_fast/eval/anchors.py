"""Published Kodak RD points (VTM, HM, BPG, AV1, JPEG 2000, JPEG, WebP, CompressAI's learned models).

The numbers are copied unchanged from CompressAI's results files (InterDigitalInc/CompressAI,
results/image/kodak/*.json; file and commit recorded per entry in data/compressai_kodak.json). Each point is
the mean over the 24 Kodak images at one codec setting: bpp from real bitstreams, PSNR on RGB, MS-SSIM on RGB.
They let our curves be compared with VVC intra without running VTM.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources


@dataclass(frozen=True)
class PublishedCurve:
    """One published RD curve; lists sorted by increasing bpp."""

    key: str
    name: str
    source_file: str
    commit: str
    bpp: tuple[float, ...]
    psnr_rgb: tuple[float, ...]
    ms_ssim: tuple[float, ...]

    def metric(self, name: str) -> tuple[float, ...]:
        """Values of ``psnr_rgb`` or ``ms_ssim``; ValueError for a metric the source does not publish."""
        if name not in ("psnr_rgb", "ms_ssim"):
            raise ValueError(f"published curves carry psnr_rgb and ms_ssim only, not {name!r}")
        return getattr(self, name)


@lru_cache(maxsize=1)
def _data() -> dict:
    with resources.files(__package__).joinpath("data/compressai_kodak.json").open("r", encoding="utf-8") as f:
        return json.load(f)


def source() -> str:
    """The citation of the published numbers."""
    d = _data()
    return f"{d['source']} {d['source_url']}"


def published_names() -> list[str]:
    """Keys of the published Kodak curves (e.g. 'vtm', 'bpg', 'mbt2018')."""
    return list(_data()["anchors"])


def published(key: str) -> PublishedCurve:
    """The published Kodak curve ``key``; ValueError lists the known keys."""
    anchors = _data()["anchors"]
    if key not in anchors:
        raise ValueError(f"no published curve {key!r}; known: {', '.join(anchors)}")
    a = anchors[key]
    return PublishedCurve(key, a["name"], a["file"], a["commit"], tuple(a["bpp"]), tuple(a["psnr_rgb"]),
                          tuple(a["ms_ssim"]))
