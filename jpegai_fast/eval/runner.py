"""Run images x codecs x target rates over a process pool; aggregate curves and BD-rates; write JSON/CSV/PNG."""
from __future__ import annotations

import csv
import json
import math
import os
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PIL import Image

from jpegai_fast.eval import anchors, bdrate, metrics
from jpegai_fast.eval.codecs import CodecAdapter, get_codec
from jpegai_fast.eval.ratesearch import JPEG_AI_RATES, search_knobs

IMAGE_SUFFIXES = (".png", ".ppm", ".pgm", ".bmp", ".tif", ".tiff", ".jpg", ".jpeg", ".webp")


def find_images(folder) -> list[Path]:
    """Image files directly inside ``folder``, sorted by name; ValueError when there are none."""
    folder = Path(folder)
    if not folder.is_dir():
        raise ValueError(f"not a directory: {folder}")
    files = sorted(p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES)
    if not files:
        raise ValueError(f"no images ({', '.join(IMAGE_SUFFIXES)}) in {folder}")
    return files


def load_rgb(path) -> np.ndarray:
    """Read an image file as RGB uint8 HxWx3 (8-bit sources only)."""
    with Image.open(path) as im:
        if im.mode not in ("RGB", "RGBA", "L", "P", "LA"):
            raise ValueError(f"{path}: mode {im.mode} is not an 8-bit RGB/gray image")
        return np.asarray(im.convert("RGB"))


def _worker_init() -> None:
    # Each worker is one of -j processes: keep torch (metrics) and codecs from spawning more threads.
    try:
        import torch

        torch.set_num_threads(1)
    except ImportError:
        pass


def _pool_worker_init(driver: int) -> None:
    # a pool worker (not the in-process jobs=1 path) must not outlive a killed driver (pid ``driver``)
    from jpegai_fast.worker_exit import end_with_parent
    end_with_parent(driver)
    _worker_init()


def evaluate_one(path, codec: CodecAdapter, rates, metric_names, tolerance: float = 0.10) -> list[dict]:
    """All target rates of one image with one codec: one row per target (status, knob, bpp, metrics, times)."""
    img = load_rgb(path)
    rows = []
    for point in search_knobs(codec, img, rates, tolerance):
        row = {"image": Path(path).name, "codec": codec.name, "target_bpp": point.target_bpp,
               "status": point.status, "knob": point.knob, "bpp": point.bpp,
               "bytes": None if point.data is None else len(point.data), "encodes": point.encodes}
        if point.data is not None:
            t0 = time.perf_counter()
            codec.encode(img, point.knob)
            t1 = time.perf_counter()
            rec = codec.decode(point.data)
            t2 = time.perf_counter()
            if rec.shape != img.shape:
                raise ValueError(f"{codec.name} decoded {rec.shape} for a {img.shape} image")
            row.update(enc_s=t1 - t0, dec_s=t2 - t1)
            row.update(metrics.compute_metrics(img, rec, metric_names))
        rows.append(row)
    return rows


def _task(args):
    return evaluate_one(*args)


def load_rows(result_files, tolerance: float) -> list[dict]:
    """Rows of earlier results.json files that were searched with the same tolerance (for ``reuse``)."""
    rows = []
    for f in result_files:
        try:
            doc = json.loads(Path(f).read_text())
            rows_f, tol_f = doc["rows"], doc["config"]["tolerance"]
        except (OSError, ValueError, KeyError, TypeError) as e:
            raise ValueError(f"{f}: not a results.json written by this tool ({e})") from e
        if tol_f == tolerance:
            rows += rows_f
    return rows


def run(images, codecs: list[CodecAdapter], rates=JPEG_AI_RATES, metric_names=metrics.CORE_METRICS, jobs: int = 1,
        tolerance: float = 0.10, progress: bool = True, reuse_rows=()) -> list[dict]:
    """Evaluate every image with every codec at every target rate; ``jobs`` worker processes (1 = inline).

    Returns the per-image rows (see :func:`evaluate_one`). Unavailable codecs raise ValueError up front.
    An (image, codec) pair whose rows for all ``rates`` and metrics are in ``reuse_rows`` is not recomputed,
    so long runs can be split by codec and merged.
    """
    if isinstance(jobs, bool) or not isinstance(jobs, int) or jobs < 1:
        raise ValueError(f"jobs must be a positive integer, got {jobs!r}")
    for c in codecs:
        why = c.unavailable_reason()
        if why:
            raise ValueError(f"codec {c.name} is unavailable here: {why}")
    have: dict[tuple, dict] = {}
    for r in reuse_rows:
        if r["status"] == "unreachable" or all(m in r for m in metric_names):
            have[(r["image"], r["codec"], r["target_bpp"])] = r
    rows: list[dict] = []
    tasks = []
    for c in codecs:
        for p in images:
            old = [have.get((Path(p).name, c.name, t)) for t in rates]
            if all(old):
                rows += old
            else:
                tasks.append((str(p), c, tuple(rates), tuple(metric_names), tolerance))
    from tqdm import tqdm

    bar = tqdm(total=len(tasks), desc="eval", unit="img-codec", disable=not progress)
    try:
        if jobs == 1:
            _worker_init()
            for t in tasks:
                rows += _task(t)
                bar.update()
        else:
            with ProcessPoolExecutor(max_workers=jobs, initializer=_pool_worker_init,
                                     initargs=(os.getpid(),)) as pool:
                for fut in as_completed([pool.submit(_task, t) for t in tasks]):
                    rows += fut.result()
                    bar.update()
    finally:
        bar.close()
    rows.sort(key=lambda r: (r["codec"], r["image"], r["target_bpp"]))
    return rows


def average_curves(rows: list[dict], metric_names) -> dict[str, dict]:
    """Per codec, the mean bpp and mean of each metric at each target rate, over the images.

    A target enters a codec's curve only when every image reached it (no 'unreachable'), so all points of a
    curve average the same images. Skipped targets are listed under 'missing'.
    """
    curves: dict[str, dict] = {}
    for codec in sorted({r["codec"] for r in rows}):
        mine = [r for r in rows if r["codec"] == codec]
        curve = {"target_bpp": [], "bpp": [], "missing": [], **{m: [] for m in metric_names}}
        for target in sorted({r["target_bpp"] for r in mine}):
            at = [r for r in mine if r["target_bpp"] == target]
            if any(r["status"] == "unreachable" for r in at):
                curve["missing"].append(target)
                continue
            curve["target_bpp"].append(target)
            curve["bpp"].append(float(np.mean([r["bpp"] for r in at])))
            for m in metric_names:
                curve[m].append(float(np.mean([metrics.for_curves(r[m]) for r in at])))
        curve["images"] = len({r["image"] for r in mine})
        curves[codec] = curve
    return curves


def _bd_or_none(fn, *args):
    try:
        v = fn(*args)
        return v if math.isfinite(v) else None
    except ValueError:
        return None


def bd_table(curves: dict, anchor: str, metric_names) -> dict[str, dict]:
    """BD-rate (%) of every codec's mean curve against ``anchor``'s, per metric (None where not computable:
    fewer than 2 points or no quality overlap)."""
    if anchor not in curves:
        raise ValueError(f"anchor {anchor!r} was not evaluated; evaluated: {', '.join(curves)}")
    a = curves[anchor]
    return {c: {m: _bd_or_none(bdrate.bd_rate, a["bpp"], a[m], cur["bpp"], cur[m]) for m in metric_names}
            for c, cur in curves.items()}


def bd_table_per_image(rows: list[dict], anchor: str, metric_names) -> dict[str, dict]:
    """Mean over images of the per-image BD-rate (%) against ``anchor`` (the JPEG AI CTTC way of averaging),
    each image using every target it reached; images where it is not computable are left out (count kept)."""
    def curve(codec, image, m):
        pts = [r for r in rows if r["codec"] == codec and r["image"] == image and r["status"] != "unreachable"]
        return [r["bpp"] for r in pts], [metrics.for_curves(r[m]) for r in pts]

    out = {}
    images = sorted({r["image"] for r in rows})
    for codec in sorted({r["codec"] for r in rows}):
        out[codec] = {}
        for m in metric_names:
            vals = [_bd_or_none(bdrate.bd_rate, *curve(anchor, im, m), *curve(codec, im, m)) for im in images]
            vals = [v for v in vals if v is not None]
            out[codec][m] = {"mean": float(np.mean(vals)) if vals else None, "images": len(vals)}
    return out


def bd_vs_published(curves: dict, key: str) -> dict[str, dict]:
    """BD-rate (%) of every codec's mean curve against a published Kodak curve, for psnr_rgb and ms_ssim."""
    pub = anchors.published(key)
    out = {}
    for c, cur in curves.items():
        out[c] = {m: _bd_or_none(bdrate.bd_rate, pub.bpp, pub.metric(m), cur["bpp"], cur[m])
                  for m in ("psnr_rgb", "ms_ssim") if m in cur}
    return out


@dataclass
class Report:
    """Everything one evaluation produced; :meth:`write` saves it."""

    rows: list[dict]
    curves: dict
    metric_names: tuple
    anchor: str | None
    bd: dict = field(default_factory=dict)
    bd_per_image: dict = field(default_factory=dict)
    published: tuple = ()
    bd_published: dict = field(default_factory=dict)
    config: dict = field(default_factory=dict)

    def write(self, out_dir) -> dict[str, Path]:
        """Write results.json, results.csv and rd.png into ``out_dir``; returns their paths."""
        out = Path(out_dir)
        out.mkdir(parents=True, exist_ok=True)
        paths = {"json": out / "results.json", "csv": out / "results.csv", "png": out / "rd.png"}
        doc = {"config": self.config, "metrics": list(self.metric_names), "anchor": self.anchor,
               "curves": self.curves, "bd_rate_vs_anchor": self.bd,
               "bd_rate_vs_anchor_per_image_mean": self.bd_per_image, "published": list(self.published),
               "bd_rate_vs_published": self.bd_published,
               "published_source": anchors.source() if self.published else None, "rows": self.rows}
        paths["json"].write_text(json.dumps(doc, indent=1, default=_json_default))
        fields = ["image", "codec", "target_bpp", "status", "knob", "bpp", "bytes", "encodes", "enc_s", "dec_s",
                  *self.metric_names]
        with paths["csv"].open("w", newline="") as f:
            w = csv.DictWriter(f, fieldnames=fields, extrasaction="ignore")
            w.writeheader()
            w.writerows(self.rows)
        plot_rd(self.curves, self.published, paths["png"], len(self.config.get("images", [])) or None)
        return paths


def _json_default(o):
    if isinstance(o, (np.floating, np.integer)):
        return o.item()
    raise TypeError(f"not JSON serialisable: {type(o).__name__}")


def _msssim_db(x):
    return [-10.0 * math.log10(max(1.0 - v, 1e-12)) for v in x]


def plot_rd(curves: dict, published_keys, path, images: int | None = None) -> None:
    """RD plot PNG: PSNR-RGB and MS-SSIM (dB) against bpp, our mean curves solid, published ones dashed.

    The axes fit the measured curves (published ones are clipped to them); the title gives the image count.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    panels = [("psnr_rgb", "PSNR-RGB [dB]", lambda v: v), ("ms_ssim", "MS-SSIM [dB]", _msssim_db)]
    panels = [p for p in panels if any(p[0] in c for c in curves.values())]
    fig, axes = plt.subplots(1, max(len(panels), 1), figsize=(6.5 * max(len(panels), 1), 5), squeeze=False)
    max_bpp = max([max(c["bpp"]) for c in curves.values() if c["bpp"]] or [2.0])
    for ax, (m, label, tf) in zip(axes[0], panels):
        ys = [v for c in curves.values() if c["bpp"] for v in tf(c[m])]
        for name, cur in curves.items():
            if cur["bpp"]:
                ax.plot(cur["bpp"], tf(cur[m]), "o-", ms=3, label=name)
        for key in published_keys:
            pub = anchors.published(key)
            ax.plot(pub.bpp, tf(pub.metric(m)), "--", lw=1, label=f"{pub.name} [published]")
        ax.set_xlabel("bits per pixel")
        ax.set_ylabel(label)
        ax.set_xlim(0, max_bpp * 1.05)
        if ys:
            pad = 0.05 * (max(ys) - min(ys) + 1e-9)
            ax.set_ylim(min(ys) - pad, max(ys) + pad)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7)
    count = f" on {images} image{'s' if images != 1 else ''}" if images else ""
    fig.suptitle(f"Rate-distortion{count} (mean curves; published: Kodak 24, dashed)" if published_keys
                 else f"Rate-distortion{count} (mean curves)")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def evaluate(folder, codec_names, rates=JPEG_AI_RATES, metric_names=metrics.CORE_METRICS, anchor=None,
             published=(), jobs: int = 1, limit: int | None = None, tolerance: float = 0.10,
             progress: bool = True, reuse=()) -> Report:
    """Evaluate the images of ``folder`` (first ``limit`` by name) with the named codecs and summarise.

    ``anchor``: an evaluated codec name for BD-rates; ``published``: keys of published Kodak curves to compare
    with (meaningful on the full Kodak set only).
    """
    images = find_images(folder)
    if limit is not None:
        if limit < 1:
            raise ValueError(f"limit must be >= 1, got {limit}")
        images = images[:limit]
    codecs = [get_codec(n) for n in codec_names]
    if anchor is not None and anchor not in codec_names:
        raise ValueError(f"anchor {anchor!r} must be one of the evaluated codecs ({', '.join(codec_names)})")
    for key in published:
        anchors.published(key)  # fail early on an unknown key
    unknown = [m for m in metric_names if m not in metrics.METRICS]
    if unknown:
        raise ValueError(f"unknown metrics {unknown}; known: {', '.join(metrics.METRICS)}")
    t0 = time.time()
    rows = run(images, codecs, rates, metric_names, jobs, tolerance, progress, load_rows(reuse, tolerance))
    curves = average_curves(rows, metric_names)
    config = {"folder": os.fspath(folder), "images": [p.name for p in images], "codecs":
              {c.name: c.description for c in codecs}, "rates": list(rates), "tolerance": tolerance,
              "jobs": jobs, "wall_s": round(time.time() - t0, 1)}
    rep = Report(rows, curves, tuple(metric_names), anchor, published=tuple(published), config=config)
    if anchor is not None:
        rep.bd = bd_table(curves, anchor, metric_names)
        rep.bd_per_image = bd_table_per_image(rows, anchor, metric_names)
    rep.bd_published = {k: bd_vs_published(curves, k) for k in published}
    return rep
