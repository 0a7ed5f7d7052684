"""Complexity profile in the style of the JPEG AI CTTC: kMAC/pixel, parameters, time per stage, memory.

kMAC/pixel comes from the module graph (jpegai_fast.model.complexity); time per stage is measured on
real encode/decode calls by timing the engine's stage methods; peak memory is the process's peak RSS.
"""
from __future__ import annotations

import contextlib
import functools
import time
from collections import defaultdict

import numpy as np

from jpegai_fast import api
from jpegai_fast.core import rans
from jpegai_fast.decoder import synthesis
from jpegai_fast.encoder import analysis
from jpegai_fast.core.wavefront import ContextModel
from jpegai_fast.runtime.engine import Engine, get_engine
from jpegai_fast.model.complexity import measure

#: (owner, attribute, stage) for every function that makes up the pipeline, in pipeline order.
_TIMED = (
    (analysis, "analyse_tile", "g_a"),
    (Engine, "hyper_analyse", "h_a"),
    (Engine, "encode_z", "z coding"),
    (Engine, "decode_z", "z coding"),
    (Engine, "hyper", "integer h_s"),
    (ContextModel, "quantise", "context loop"),
    (ContextModel, "reconstruct", "context loop"),
    (rans, "encode_gaussian", "y coding"),
    (rans, "decode_gaussian", "y coding"),
    (synthesis, "synthesise_into", "g_s"),
)
STAGES = tuple(dict.fromkeys(stage for _, _, stage in _TIMED))


@contextlib.contextmanager
def _timed_stages(totals: dict):
    """Wrap the pipeline's functions so every call adds its wall time to its stage in ``totals``."""
    originals = [(owner, attr, stage, getattr(owner, attr)) for owner, attr, stage in _TIMED]

    def wrap(name, fn):
        @functools.wraps(fn)
        def timed(*args, **kwargs):
            t0 = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                totals[name] += time.perf_counter() - t0
        return timed

    for owner, attr, stage, fn in originals:
        setattr(owner, attr, wrap(stage, fn))
    try:
        yield
    finally:
        for owner, attr, _, fn in originals:
            setattr(owner, attr, fn)


def _peak_rss_mb() -> float | None:
    """This process's peak resident set in MB (None where the OS has no getrusage, e.g. Windows)."""
    try:
        import resource          # POSIX only
    except ImportError:
        return None
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def profile(img: np.ndarray, *, quality: float = 50.0, threads: int | None = None, repeats: int = 3) -> dict:
    """Profile encode and decode of ``img``; returns a dict (see :func:`format_report`)."""
    eng = get_engine()
    data = api.encode(img, quality=quality, threads=threads)   # warm-up: loads the model, tables
    api.decode(data, threads=threads)
    enc_stages, dec_stages = defaultdict(float), defaultdict(float)
    t_enc = t_dec = 0.0
    for _ in range(repeats):
        with _timed_stages(enc_stages):
            t0 = time.perf_counter()
            data = api.encode(img, quality=quality, threads=threads)
            t_enc += time.perf_counter() - t0
        with _timed_stages(dec_stages):
            t0 = time.perf_counter()
            api.decode(data, threads=threads)
            t_dec += time.perf_counter() - t0
    cx = measure(eng.model)
    return {
        "image": f"{img.shape[1]}x{img.shape[0]}",
        "bpp": 8 * len(data) / (img.shape[0] * img.shape[1]),
        "params": cx.params,
        "kmac_per_px": {"encoder": cx.encoder_kmac, "decoder": cx.decoder_kmac, **cx.parts_kmac},
        "encode_s": t_enc / repeats,
        "decode_s": t_dec / repeats,
        "encode_stages_s": {k: v / repeats for k, v in enc_stages.items()},
        "decode_stages_s": {k: v / repeats for k, v in dec_stages.items()},
        "peak_rss_mb": _peak_rss_mb(),
    }


def format_report(p: dict) -> str:
    """Markdown tables of a :func:`profile` result."""
    k = p["kmac_per_px"]
    rss = "n/a" if p["peak_rss_mb"] is None else f"{p['peak_rss_mb']:.0f} MB"
    lines = [f"image {p['image']}, {p['bpp']:.3f} bpp, peak RSS {rss}", "",
             "| | kMAC/px | time s |", "| --- | ---: | ---: |",
             f"| encoder | {k['encoder']:.2f} | {p['encode_s']:.3f} |",
             f"| decoder | {k['decoder']:.2f} | {p['decode_s']:.3f} |", "",
             "| stage | encode s | decode s |", "| --- | ---: | ---: |"]
    for stage in STAGES:
        e, d = p["encode_stages_s"].get(stage), p["decode_stages_s"].get(stage)
        if e is not None or d is not None:
            lines.append(f"| {stage} | {e or 0:.3f} | {d or 0:.3f} |")
    lines += ["", "| part | kMAC/px | params |", "| --- | ---: | ---: |"]
    for part in ("g_a", "h_a", "h_s", "context", "g_s"):
        lines.append(f"| {part} | {k[part]:.2f} | {p['params'].get(part, 0):,} |")
    lines.append(f"| total | | {p['params']['total']:,} |")
    return "\n".join(lines)
