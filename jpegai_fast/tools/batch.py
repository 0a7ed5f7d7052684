"""Batch conversion of whole collections: folders, globs, file lists or fsspec URLs, resumable and verifiable.

``run(mode, sources, dst, ...)`` plans one task per source file, skips what the manifest says is done
(same source size and mtime, output present), and codes the rest

  * locally on a process pool: one model load per worker, threads per worker = cores / workers;
  * on a Dask cluster (``scheduler="tcp://host:port"``, dask.distributed), the same task function;
  * in the calling process (``workers=0``; e.g. for the process-local ``memory://`` filesystem).

Each task reads its source through fsspec, codes it with exactly the bytes a single ``encode`` gives,
optionally decodes the output again to verify it, and writes the output atomically (a temporary name
in the target folder, then a rename). The driver appends one JSON line per finished task to
``DST/manifest.jsonl`` as results arrive, so a batch killed mid-way resumes without repeating work
and never leaves a partial output; a failure is one row with its error, and the rest completes.
"""
from __future__ import annotations

import dataclasses
import json
import os
import posixpath
import time
from typing import Iterable

MANIFEST = "manifest.jsonl"
IMAGE_SUFFIXES = (".png", ".tif", ".tiff", ".jpg", ".jpeg", ".webp", ".bmp", ".ppm", ".pgm")
STREAM_SUFFIX = ".jai"
ENCODE_OPTIONS = ("bpp", "quality", "effort", "tile_size", "layers", "bit_depth")


@dataclasses.dataclass(frozen=True)
class Task:
    source: str          # fsspec URL or local path
    output: str
    size: int
    mtime: float | None


def _fs(url: str):
    import fsspec
    fs, path = fsspec.core.url_to_fs(url)
    return fs, path


def _join(fs, base: str, rel: str) -> str:
    sep = os.sep if _is_local(fs) else "/"
    return base.rstrip("/" + os.sep) + sep + rel.replace("/", sep)


def _is_local(fs) -> bool:
    return "file" in (fs.protocol if isinstance(fs.protocol, (tuple, list)) else (fs.protocol,))


def _unstrip(fs, path: str) -> str:
    """A path from ``fs`` as a URL any process can open again (local paths stay plain paths)."""
    return path if _is_local(fs) else fs.unstrip_protocol(path)


def _mtime(info: dict) -> float | None:
    for key in ("mtime", "LastModified", "last_modified", "created"):
        if key in info and info[key] is not None:
            v = info[key]
            return float(v.timestamp()) if hasattr(v, "timestamp") else float(v)
    return None


def expand_sources(sources: Iterable[str], suffixes: tuple[str, ...]) -> list[tuple[str, str, dict]]:
    """(url, path relative to its source root, fsspec info) of every matching file, sorted, no repeats.

    A source is a folder (searched recursively), a glob pattern, a single file, or ``@list.txt``
    (one source per line).
    """
    found: dict[str, tuple[str, str, dict]] = {}
    for src in sources:
        if src.startswith("@"):
            with open(src[1:]) as f:
                lines = [ln.strip() for ln in f if ln.strip() and not ln.startswith("#")]
            for url, rel, info in expand_sources(lines, suffixes):
                found.setdefault(url, (url, rel, info))
            continue
        fs, path = _fs(src)
        if any(c in path for c in "*?["):
            root = path[:min(path.index(c) for c in "*?[" if c in path)].rsplit("/", 1)[0]
            paths = fs.glob(path)
        elif fs.isdir(path):
            root, paths = path.rstrip("/"), fs.find(path)
        elif fs.exists(path):
            root, paths = posixpath.dirname(path.rstrip("/")), [path]
        else:
            raise FileNotFoundError(f"source not found: {src}")
        for p in sorted(paths):
            if not p.lower().endswith(suffixes):
                continue
            info = fs.info(p)
            if info.get("type") == "directory":
                continue
            rel = posixpath.relpath(p, root) if root else posixpath.basename(p)
            url = _unstrip(fs, p)
            found.setdefault(url, (url, rel, info))
    return sorted(found.values())


def plan(mode: str, sources: Iterable[str], dst: str, out_suffix: str | None = None) -> list[Task]:
    """One task per source file; outputs mirror the source tree under ``dst``."""
    if mode not in ("encode", "decode"):
        raise ValueError(f"mode must be 'encode' or 'decode', got {mode!r}")
    suffixes = IMAGE_SUFFIXES if mode == "encode" else (STREAM_SUFFIX,)
    out_suffix = out_suffix or (STREAM_SUFFIX if mode == "encode" else ".png")
    dfs, dpath = _fs(dst)
    tasks, outputs = [], set()
    for url, rel, info in expand_sources(sources, suffixes):
        out = _unstrip(dfs, _join(dfs, dpath, posixpath.splitext(rel)[0] + out_suffix))
        if out in outputs:
            raise ValueError(f"two sources map to the same output {out} (e.g. a.png and a.tif): convert them apart")
        outputs.add(out)
        tasks.append(Task(url, out, int(info.get("size") or 0), _mtime(info)))
    return tasks


def read_manifest(dst: str) -> dict[str, dict]:
    """The latest manifest row of every source (empty if there is none)."""
    fs, path = _fs(dst)
    mpath = _join(fs, path, MANIFEST)
    rows: dict[str, dict] = {}
    if not fs.exists(mpath):
        return rows
    with fs.open(mpath, "r") as f:
        for line in f:
            try:
                row = json.loads(line)
            except json.JSONDecodeError:     # a line cut by a kill: ignore it, the task reruns
                continue
            rows[row["source"]] = row
    return rows


def is_done(task: Task, row: dict | None) -> bool:
    """Whether the manifest row shows this task finished on this very source (size and mtime) and the output exists."""
    if not row or row.get("status") != "ok" or row.get("size") != task.size or row.get("mtime") != task.mtime:
        return False
    fs, path = _fs(task.output)
    return fs.exists(path)


# --- the task itself (runs in a worker) -------------------------------------------------------------

def _write(url: str, data: bytes) -> None:
    fs, path = _fs(url)
    if _is_local(fs):
        from jpegai_fast.files.atomic import atomic_write
        os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
        atomic_write(path, data)
        return
    parent = posixpath.dirname(path)
    if parent:
        fs.makedirs(parent, exist_ok=True)
    tmp = f"{parent}/.{posixpath.basename(path)}.{os.getpid()}.tmp"
    with fs.open(tmp, "wb") as f:
        f.write(data)
    fs.mv(tmp, path)


def _psnr(a, b, peak: float) -> float:
    import numpy as np
    mse = float(np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2))
    return float("inf") if mse == 0 else 10 * np.log10(peak ** 2 / mse)


def run_task(task: Task, mode: str, options: dict, threads: int | None, verify: bool, min_psnr: float | None) -> dict:
    """Code one file; never raises: a failure is a row with status 'failed' and the error.

    ``threads``: C++ threads for this task (None on a Dask worker: its cores / its task slots).
    """
    t0 = time.perf_counter()
    if threads is None:         # on a Dask worker: its cores shared by the tasks it runs at once
        try:
            from distributed import get_worker
            threads = max(1, (os.cpu_count() or 1) // max(1, get_worker().state.nthreads))
        except (ImportError, ValueError):
            threads = os.cpu_count() or 1
    row = {"source": task.source, "size": task.size, "mtime": task.mtime, "output": task.output,
           "status": "ok", "error": None}
    try:
        from jpegai_fast import api
        from jpegai_fast.files.images import decode_image, encode_image
        fs, path = _fs(task.source)
        with fs.open(path, "rb") as f:
            data = f.read()
        if mode == "encode":
            img = decode_image(data, task.source)
            opts = dict(options)
            if img.dtype.name == "uint16" and opts.get("bit_depth") is None:
                opts["bit_depth"] = 16
            out = api.encode(img, threads=threads, **opts)
            row.update(bytes=len(out), bpp=8 * len(out) / (img.shape[0] * img.shape[1]))
            if verify:
                back = api.decode(out, threads=threads)
                if back.shape != img.shape or back.dtype != img.dtype:
                    raise ValueError(f"verify: decoded {back.shape} {back.dtype}, source {img.shape} {img.dtype}")
                peak = 255.0 if img.dtype.name == "uint8" else float((1 << opts["bit_depth"]) - 1)
                row["psnr"] = _psnr(img, back, peak)
                if min_psnr is not None and row["psnr"] < min_psnr:
                    raise ValueError(f"verify: PSNR {row['psnr']:.2f} dB below --min-psnr {min_psnr}")
        else:
            img = api.decode(data, threads=threads)
            out = encode_image(img, posixpath.splitext(task.output)[1])
            row.update(bytes=len(out), width=img.shape[1], height=img.shape[0])
            if verify:
                from jpegai_fast.files.images import decode_image as _dec
                back = _dec(out, task.output)
                if back.shape != img.shape or not (back == img).all():
                    raise ValueError("verify: the written image does not read back identically")
        _write(task.output, out)
    except Exception as e:          # one failed row; the batch goes on
        row.update(status="failed", error=f"{type(e).__name__}: {e}")
    row["seconds"] = round(time.perf_counter() - t0, 4)
    return row


_WORKER: dict = {}


def _init_worker(driver: int, threads: int, model: str | None) -> None:
    """Process-pool initializer: end with the driver (pid ``driver``), load the model once per worker."""
    from jpegai_fast.tools.worker_exit import end_with_parent
    end_with_parent(driver)
    _WORKER["threads"] = threads
    from jpegai_fast.runtime.engine import get_engine
    get_engine(model)


def _pool_task(args) -> dict:
    task, mode, options, verify, min_psnr = args
    return run_task(task, mode, options, _WORKER.get("threads", 1), verify, min_psnr)


# --- the driver ------------------------------------------------------------------------------------

@dataclasses.dataclass
class Report:
    done: int = 0
    failed: int = 0
    skipped: int = 0
    seconds: float = 0.0
    rows: list = dataclasses.field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.failed == 0


def run(mode: str, sources: Iterable[str], dst: str, *, workers: int | None = None, scheduler: str | None = None,
        verify: bool = False, min_psnr: float | None = None, options: dict | None = None,
        out_suffix: str | None = None, progress: bool = True) -> Report:
    """Convert every source file into ``dst`` (see the module docstring); returns counts and the new rows."""
    options = {k: v for k, v in (options or {}).items() if v is not None}
    unknown = set(options) - set(ENCODE_OPTIONS)
    if unknown:
        raise ValueError(f"unknown encode options: {sorted(unknown)}")
    if workers is not None and (isinstance(workers, bool) or not isinstance(workers, int) or workers < 0):
        raise ValueError(f"workers must be an int >= 0, got {workers!r}")
    if mode == "encode":               # fail fast on bad options, before any worker starts
        from jpegai_fast.encoder.effort import check_effort
        check_effort(options.get("effort"))
    tasks = plan(mode, sources, dst, out_suffix)
    dfs, dpath = _fs(dst)
    dfs.makedirs(dpath, exist_ok=True)
    done_rows = read_manifest(dst)
    todo = [t for t in tasks if not is_done(t, done_rows.get(t.source))]
    report = Report(skipped=len(tasks) - len(todo))
    t0 = time.perf_counter()
    cores = os.cpu_count() or 1
    mpath = _join(dfs, dpath, MANIFEST)
    from tqdm import tqdm
    bar = tqdm(total=len(todo), unit="img", disable=not progress, desc=f"batch {mode}")
    with dfs.open(mpath, "a") as manifest:
        def record(row: dict) -> None:
            manifest.write(json.dumps(row) + "\n")
            manifest.flush()
            report.rows.append(row)
            if row["status"] == "ok":
                report.done += 1
            else:
                report.failed += 1
            bar.update(1)
        if not todo:
            pass
        elif scheduler:
            from dask.distributed import Client, as_completed
            with Client(scheduler) as client:
                futures = client.map(run_task, todo, mode=mode, options=options, threads=None, verify=verify,
                                     min_psnr=min_psnr, pure=False)
                for fut in as_completed(futures):
                    record(fut.result())
        elif workers == 0:
            for t in todo:
                record(run_task(t, mode, options, cores, verify, min_psnr))
        else:
            from concurrent.futures import ProcessPoolExecutor, as_completed as done_first
            import multiprocessing
            n = min(workers or cores, len(todo))
            threads = max(1, cores // n)
            ctx = multiprocessing.get_context("spawn")      # no fork of a process with threads
            with ProcessPoolExecutor(n, mp_context=ctx, initializer=_init_worker,
                                     initargs=(os.getpid(), threads, None)) as pool:
                futures = [pool.submit(_pool_task, (t, mode, options, verify, min_psnr)) for t in todo]
                for fut in done_first(futures):
                    record(fut.result())
    bar.close()
    report.seconds = time.perf_counter() - t0
    return report
