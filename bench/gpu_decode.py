"""Accelerator decode against CPU decode of the same streams: image mismatch, BD-rate gap, 4K/8K time.

The entropy decode (latent) is integer arithmetic and bit-exact everywhere; only the synthesis
transform differs: the C++ conv engine on CPU, torch (fp32, TF32 off) on the device. JPEG AI
allows at most 0.5% BD-rate between the two decoders' images.

  PYTHONPATH=$PWD python -P bench/gpu_decode.py --device cuda --out bench/results/gpu_decode.json

``--device torch-cpu`` runs the torch synthesis (the code path the GPU takes) on the CPU: a
machine without a GPU can still measure how far two float implementations of g_s drift apart.
"""
from __future__ import annotations

import argparse
import contextlib
import json
import sys
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from large_image import test_image  # noqa: E402

import jpegai_fast  # noqa: E402
from jpegai_fast.runtime.engine import Engine, _DeviceTransform  # noqa: E402
from jpegai_fast.eval.bdrate import bd_rate  # noqa: E402
from jpegai_fast.eval.metrics import psnr_rgb  # noqa: E402
from jpegai_fast.eval.runner import find_images, load_rgb  # noqa: E402

KODAK = Path(__file__).resolve().parents[1] / ".." / "shared" / "datasets" / "kodak"
SIZES = {"4k": (3840, 2160), "8k": (7680, 4320)}


@contextlib.contextmanager
def torch_synthesis_on_cpu():
    """Make the engine run g_s with torch on the CPU instead of the C++ conv engine."""
    original = Engine.transform
    Engine.transform = lambda self, name, device, threads: _DeviceTransform(getattr(self.model, name),
                                                                            torch.device("cpu"))
    try:
        yield
    finally:
        Engine.transform = original


def decode_on(data: bytes, device: str, threads: int) -> np.ndarray:
    if device == "torch-cpu":
        with torch_synthesis_on_cpu():
            return jpegai_fast.decode(data, threads=threads)
    return jpegai_fast.decode(data, device=device, threads=threads)


def mismatch(images: list[Path], qualities: list[float], device: str, threads: int) -> dict:
    rows = []
    for path in images:
        img = load_rgb(path)
        for q in qualities:
            data = jpegai_fast.encode(img, quality=q, threads=threads)
            cpu = jpegai_fast.decode(data, threads=threads)
            dev = decode_on(data, device, threads)
            diff = np.abs(cpu.astype(np.int16) - dev.astype(np.int16))
            rows.append({"image": path.stem, "quality": q, "bpp": 8 * len(data) / (img.shape[0] * img.shape[1]),
                         "psnr_cpu": psnr_rgb(img, cpu), "psnr_device": psnr_rgb(img, dev),
                         "max_abs_diff": int(diff.max()), "pixels_differing": float((diff > 0).mean())})
            print(json.dumps(rows[-1]), flush=True)
    mean = {k: [float(np.mean([r[k] for r in rows if r["quality"] == q])) for q in qualities]
            for k in ("bpp", "psnr_cpu", "psnr_device")}
    per_image = [bd_rate([r["bpp"] for r in rows if r["image"] == p.stem],
                         [r["psnr_cpu"] for r in rows if r["image"] == p.stem],
                         [r["bpp"] for r in rows if r["image"] == p.stem],
                         [r["psnr_device"] for r in rows if r["image"] == p.stem]) for p in images]
    return {"rows": rows, "mean_curve": mean,
            "bd_rate_device_vs_cpu_pct": bd_rate(mean["bpp"], mean["psnr_cpu"], mean["bpp"], mean["psnr_device"]),
            "bd_rate_per_image_mean_pct": float(np.mean(per_image)),
            "bd_rate_per_image_max_abs_pct": float(np.max(np.abs(per_image))),
            "max_abs_diff": max(r["max_abs_diff"] for r in rows)}


def timing(sizes: list[str], device: str, threads: int, repeats: int) -> list[dict]:
    out = []
    for name in sizes:
        w, h = SIZES[name]
        data = jpegai_fast.encode(test_image(w, h), quality=50, threads=threads)
        t0 = time.perf_counter()
        jpegai_fast.decode(data, threads=threads)
        cpu_s = time.perf_counter() - t0
        decode_on(data, device, threads)           # warm-up: kernels, allocator, weights on the device
        best = float("inf")
        for _ in range(repeats):
            t0 = time.perf_counter()
            decode_on(data, device, threads)
            best = min(best, time.perf_counter() - t0)
        out.append({"size": f"{w}x{h}", "bytes": len(data), "cpu_decode_s": round(cpu_s, 3),
                    "device_decode_s": round(best, 3), "speedup": round(cpu_s / best, 2)})
        print(json.dumps(out[-1]), flush=True)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--device", default="cuda", help="cuda, cuda:N or torch-cpu")
    ap.add_argument("--images", type=int, default=24, help="first N Kodak images")
    ap.add_argument("--qualities", default="5,20,35,50,65,80,95")
    ap.add_argument("--sizes", default="4k,8k", help="comma list of 4k, 8k; empty for none")
    ap.add_argument("--repeats", type=int, default=2)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--out", default="")
    args = ap.parse_args()
    if args.device.startswith("cuda") and not torch.cuda.is_available():
        sys.exit("CUDA is not available here; use --device torch-cpu for the CPU proxy")
    torch.set_num_threads(args.threads)
    result = {"device": args.device,
              "device_name": torch.cuda.get_device_name() if args.device.startswith("cuda") else "cpu (torch)",
              "torch": torch.__version__}
    images = find_images(KODAK)[:args.images]
    qualities = [float(q) for q in args.qualities.split(",")]
    result["kodak"] = mismatch(images, qualities, args.device, args.threads)
    print({k: v for k, v in result["kodak"].items() if k != "rows"}, flush=True)
    result["timing"] = timing([s for s in args.sizes.split(",") if s], args.device, args.threads, args.repeats)
    if args.out:
        Path(args.out).write_text(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
