"""Speed of codecs against each other in one run: each searched to the same target rate, then timed.

Wall-clock numbers move with the machine and its load, so the result is meant to be read as ratios
between codecs measured side by side (``jpegai-fast bench``), not as absolute figures.
"""
from __future__ import annotations

import statistics
import time
from typing import Callable

import numpy as np

from jpegai_fast.eval.codecs import get_codec
from jpegai_fast.eval.metrics import psnr_rgb
from jpegai_fast.eval.ratesearch import search_knob


def _median_seconds(fn: Callable[[], object], repeats: int) -> float:
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def time_codec(name: str, img: np.ndarray, bpp: float, repeats: int = 5) -> dict:
    """Search ``name`` to ``bpp`` on ``img`` (real bytes, <= +10%), then time encode and decode at that knob.

    Returns codec, knob, bpp, status of the rate search, PSNR-RGB, median encode/decode seconds and
    megapixels per second. A codec that cannot reach the rate is timed at its closest knob.
    """
    if repeats < 1:
        raise ValueError("repeats must be >= 1")
    codec = get_codec(name)
    point = search_knob(codec, img, bpp)
    if point.data is None:
        return {"codec": name, "status": point.status, "bpp": None}
    codec.decode(point.data)                          # warm-up (lazy loading, tables, weights)
    enc = _median_seconds(lambda: codec.encode(img, point.knob), repeats)
    dec = _median_seconds(lambda: codec.decode(point.data), repeats)
    mpx = img.shape[0] * img.shape[1] / 1e6
    return {"codec": name, "status": point.status, "knob": point.knob, "bpp": point.bpp,
            "psnr_rgb": psnr_rgb(img, codec.decode(point.data)), "encode_s": enc, "decode_s": dec,
            "encode_mpx_s": mpx / enc, "decode_mpx_s": mpx / dec}


def format_table(rows: list[dict]) -> str:
    """Plain-text table; times also as ratios to the first row's codec."""
    ref = next((r for r in rows if r.get("encode_s")), None)
    head = f"{'codec':<12} {'bpp':>6} {'PSNR':>6} {'encode ms':>10} {'decode ms':>10} {'enc x':>6} {'dec x':>6}"
    lines = [head, "-" * len(head)]
    for r in rows:
        if not r.get("encode_s"):
            lines.append(f"{r['codec']:<12} {'-':>6}  rate not reachable ({r['status']})")
            continue
        lines.append(f"{r['codec']:<12} {r['bpp']:6.3f} {r['psnr_rgb']:6.2f} {1e3 * r['encode_s']:10.1f} "
                     f"{1e3 * r['decode_s']:10.1f} {r['encode_s'] / ref['encode_s']:6.2f} "
                     f"{r['decode_s'] / ref['decode_s']:6.2f}")
    lines.append(f"enc x / dec x: time relative to {ref['codec']} (lower is faster)" if ref else "")
    return "\n".join(lines)
