"""Quality metrics of the JPEG AI common test conditions, as far as maintained libraries provide them here.

Core (always): PSNR on RGB, PSNR on BT.709 luma, MS-SSIM (pytorch-msssim, the implementation CompressAI's
published results use). Optional, through piq when installed: IW-SSIM, VIF(p), FSIM. Not provided by any
maintained PyPI library usable here: NLPD, PSNR-HVS-M, VMAF (see :data:`UNAVAILABLE`).
"""
from __future__ import annotations

import functools
import importlib
import importlib.util
import math
import sys
import types
from typing import Callable

import numpy as np

from jpegai_fast.eval.codecs import check_image

#: Metrics the CTTC lists that no maintained library provides on this set-up, with the reason.
UNAVAILABLE = {
    "nlpd": "no maintained PyPI package implements it without torchvision (pyiqa needs torchvision, whose PyPI "
            "wheels are CUDA builds that fail to load next to torch's CPU build)",
    "psnr_hvs_m": "no maintained PyPI package implements PSNR-HVS-M",
    "vmaf": "needs libvmaf (ffmpeg built with --enable-libvmaf or the vmaf tool); neither is installed here",
}

# BT.709 luma weights on gamma-encoded R'G'B' (full range).
_BT709 = np.array([0.2126, 0.7152, 0.0722])


def _pair(ref, dist) -> tuple[np.ndarray, np.ndarray]:
    ref, dist = check_image(ref), check_image(dist)
    if ref.shape != dist.shape:
        raise ValueError(f"reference {ref.shape} and distorted {dist.shape} differ in shape")
    return ref, dist


#: What an exact decode's PSNR (inf) counts as in mean curves and BD-rates, which need finite values: far
#: above every lossy point of the JPEG AI rates (Kodak's highest, at 2 bpp, is under 45 dB), so a lossless
#: point ends its curve with a steep last segment instead of being dropped. The rows keep inf.
EXACT_DB = 100.0


def for_curves(value: float) -> float:
    """A metric value as curves and BD-rates take it: an exact decode's inf PSNR counts as EXACT_DB."""
    return EXACT_DB if value == math.inf else value


def _psnr_from_mse(mse: float, peak: float = 255.0) -> float:
    return math.inf if mse == 0 else 10.0 * math.log10(peak * peak / mse)


def psnr_rgb(ref: np.ndarray, dist: np.ndarray) -> float:
    """PSNR in dB over all three RGB channels (one MSE), peak 255; inf for identical images."""
    ref, dist = _pair(ref, dist)
    return _psnr_from_mse(float(np.mean((ref.astype(np.float64) - dist) ** 2)))


def luma_bt709(img: np.ndarray) -> np.ndarray:
    """Full-range BT.709 luma Y' in [0, 255] (float64, not rounded) of an RGB uint8 image."""
    return check_image(img).astype(np.float64) @ _BT709


def psnr_y(ref: np.ndarray, dist: np.ndarray) -> float:
    """PSNR in dB of BT.709 luma (computed in float from RGB, peak 255); inf for identical images."""
    ref, dist = _pair(ref, dist)
    return _psnr_from_mse(float(np.mean((luma_bt709(ref) - luma_bt709(dist)) ** 2)))


def _to_tensor(img: np.ndarray):
    import torch

    return torch.from_numpy(np.ascontiguousarray(img, dtype=np.float32)).permute(2, 0, 1)[None] / 255.0


_MS_SSIM_MIN_SIDE = 161  # 5 scales with an 11-tap window: (11 - 1) * 2**4 + 1


def ms_ssim_rgb(ref: np.ndarray, dist: np.ndarray) -> float:
    """MS-SSIM on RGB in [0, 1] (pytorch-msssim, 5 scales, data range 1): CompressAI's convention."""
    ref, dist = _pair(ref, dist)
    if min(ref.shape[:2]) < _MS_SSIM_MIN_SIDE:
        raise ValueError(f"MS-SSIM needs both sides >= {_MS_SSIM_MIN_SIDE} px, got {ref.shape[:2]}")
    try:
        from pytorch_msssim import ms_ssim
    except ImportError as e:
        raise ImportError("MS-SSIM needs the 'pytorch-msssim' package (pip install pytorch-msssim)") from e
    import torch

    with torch.no_grad():
        return float(ms_ssim(_to_tensor(ref), _to_tensor(dist), data_range=1.0))


def _piq_module(name: str):
    """Import one piq metric module without running piq/__init__, which imports torchvision (LPIPS, DISTS)
    even for metrics that never use it."""
    try:
        return importlib.import_module(f"piq.{name}")
    except ImportError:
        pass
    spec = importlib.util.find_spec("piq")
    if spec is None or not spec.submodule_search_locations:
        raise ImportError("piq is not installed (pip install --no-deps piq)")
    if "piq" not in sys.modules or not hasattr(sys.modules["piq"], "__path__"):
        shell = types.ModuleType("piq")
        shell.__path__ = list(spec.submodule_search_locations)
        sys.modules["piq"] = shell
    return importlib.import_module(f"piq.{name}")


def _piq_metric(module: str, func: str, **kwargs) -> Callable[[np.ndarray, np.ndarray], float]:
    def metric(ref, dist):
        ref, dist = _pair(ref, dist)
        fn = getattr(_piq_module(module), func)
        import torch

        with torch.no_grad():
            return float(fn(_to_tensor(ref), _to_tensor(dist), data_range=1.0, **kwargs))

    metric.__name__ = func
    # float32: 4-10x faster than float64 on CPU and equal to ~1e-6 on Kodak.
    metric.__doc__ = f"piq.{func} on RGB in [0, 1] (float32)."
    return metric


iw_ssim = _piq_metric("iw_ssim", "information_weighted_ssim")
vif_p = _piq_metric("vif", "vif_p")
fsim = _piq_metric("fsim", "fsim")

#: name -> function(ref, dist) -> float; the core three first.
METRICS: dict[str, Callable[[np.ndarray, np.ndarray], float]] = {
    "psnr_rgb": psnr_rgb,
    "psnr_y": psnr_y,
    "ms_ssim": ms_ssim_rgb,
    "iw_ssim": iw_ssim,
    "vif_p": vif_p,
    "fsim": fsim,
}

#: Cheap enough for every point of a full run (about 0.3 s per Kodak image); the piq ones cost ~1.6 s more.
CORE_METRICS = ("psnr_rgb", "psnr_y", "ms_ssim")


def metric_availability() -> dict[str, str | None]:
    """Each CTTC metric -> None when computable here, else the reason it is not."""
    return dict(_probe_metrics())


@functools.lru_cache(maxsize=1)
def _probe_metrics() -> dict[str, str | None]:
    # Probing runs each optional metric once (seconds with torch start-up): once per process is enough.
    out: dict[str, str | None] = {"psnr_rgb": None, "psnr_y": None}
    # Random, not flat: a flat probe makes IW-SSIM's covariance singular.
    probe = np.random.default_rng(0).integers(0, 256, (_MS_SSIM_MIN_SIDE, _MS_SSIM_MIN_SIDE, 3), dtype=np.uint8)
    for name in ("ms_ssim", "iw_ssim", "vif_p", "fsim"):
        try:
            METRICS[name](probe, probe)
            out[name] = None
        except ImportError as e:
            out[name] = str(e)
        except Exception as e:  # a broken install must not stop the evaluation; report it instead
            out[name] = f"{type(e).__name__}: {e}"
    out.update(UNAVAILABLE)
    return out


def compute_metrics(ref: np.ndarray, dist: np.ndarray, names=None) -> dict[str, float]:
    """Compute the named metrics (default: every available one) of ``dist`` against ``ref``.

    Unknown names raise ValueError; a metric that cannot apply to this image (too small for MS-SSIM) gives nan.
    """
    ref, dist = _pair(ref, dist)
    if names is None:
        names = [n for n, why in metric_availability().items() if why is None]
    out = {}
    for name in names:
        if name not in METRICS:
            raise ValueError(f"unknown or unavailable metric {name!r}; known: {', '.join(METRICS)}")
        try:
            out[name] = METRICS[name](ref, dist)
        except ValueError:
            out[name] = math.nan
    return out
