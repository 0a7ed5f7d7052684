"""Batch conversion of whole collections: folders, globs, file lists or fsspec URLs, resumable and verifiable.

``run(mode, sources, dst, ...)`` plans one task per source file, skips what the manifest says is done
(same source size and mtime, output present), and codes the rest

  * locally on a process pool: one model load per worker, threads per worker = cores / workers;
  * on a Dask cluster (``scheduler="tcp://host:port"``, dask.distributed), the same task function;
  * in the calling process (``workers=0``; e.g. for the process-local ``memory://`` filesystem).

Each task reads its source through fsspec, codes it with exactly the bytes a single ``encode`` gives,
optionally decodes the output again to verify it, and writes the output atomically (a temporary name
in the target folder, then a rename; files/atomic.py). The driver appends one JSON line per finished
task to ``DST/manifest.jsonl`` as results arrive, so a batch killed mid-way resumes without repeating
work and never leaves a partial output; a failure is one row with its error, and the rest completes.

Outputs follow the package's output policy (files/atomic.py): a batch never replaces a file that a
batch into the same DST did not write (``batch decode photos -o photos`` next to the originals is
refused before any work, naming the files), unless ``overwrite=True``. Before dispatching, the
driver records a ``"started"`` row per task, so an output whose worker was killed between its
rename and its row is still known as the batch's own on resume. A local DST is locked for the
run (a second batch into it is refused), and the temporaries a killed run left are swept.
The source file's bit depth and metadata travel as in the single-file CLI (files/convert.py).
"""
from __future__ import annotations

import dataclasses
import json
import os
import posixpath
import time
from typing import Iterable

MANIFEST = "manifest.jsonl"
#: Manifest row states: a task dispatched (its output, if present, is this batch's own), done, failed.
STARTED, OK, FAILED = "started", "ok", "failed"
IMAGE_SUFFIXES = (".png", ".tif", ".tiff", ".jpg", ".jpeg", ".webp", ".bmp", ".ppm", ".pgm")
STREAM_SUFFIX = ".jai"


@dataclasses.dataclass(frozen=True)
class Task:
    source: str          # fsspec URL or local path
    output: str
    size: int
    mtime: float | None


@dataclasses.dataclass(frozen=True)
class Job:
    """What every task of one batch does (sent to each worker with its task)."""
    mode: str                          # "encode" or "decode"
    options: dict                      # encode options, checked (encoder/options.checked)
    verify: bool = False               # decode the output again and compare
    min_psnr: float | None = None      # with verify: fail an encode below this PSNR
    strip: bool = False                # drop ICC/EXIF/XMP (the orientation stays)
    auto_orient: bool = False          # decode: turn the pixels as the orientation says
    scale: int = 1                     # decode: 1/scale size (api.decode's scale)


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


def _rows(dst: str):
    """Every well-formed row of DST's manifest, in order. A line cut by a kill, a line that is not
    UTF-8 JSON, or JSON that is not a row (``{}``, ``[1]``, ``42``) is skipped: its task reruns."""
    fs, path = _fs(dst)
    mpath = _join(fs, path, MANIFEST)
    if not fs.exists(mpath):
        return
    with fs.open(mpath, "rb") as f:
        for line in f:
            try:
                row = json.loads(line.decode("utf-8"))
            except (UnicodeDecodeError, json.JSONDecodeError):
                continue
            if isinstance(row, dict) and isinstance(row.get("source"), str) and isinstance(row.get("output"), str):
                yield row


def read_manifest(dst: str) -> dict[str, dict]:
    """The latest finished (ok or failed) row of every source (empty if there is none)."""
    return {row["source"]: row for row in _rows(dst) if row.get("status") != STARTED}


def owned_outputs(dst: str) -> set[str]:
    """The outputs that a batch into DST started or wrote: the only existing files it may replace."""
    return {row["output"] for row in _rows(dst) if row.get("status") in (STARTED, OK)}


def is_done(task: Task, row: dict | None, scale: int = 1) -> bool:
    """Whether the manifest row shows this task finished on this very source (size and mtime), at this
    decode scale, and the output exists."""
    if not row or row.get("status") != OK or row.get("size") != task.size or row.get("mtime") != task.mtime \
            or row.get("scale", 1) != scale:
        return False
    fs, path = _fs(task.output)
    return fs.exists(path)


def _exists(url: str) -> bool:
    fs, path = _fs(url)
    return fs.exists(path)


def refuse_foreign_outputs(todo: list[Task], owned: set[str]) -> None:
    """Raise (before any work) if an output would replace a file no batch into this DST wrote."""
    from jpegai_fast.files.atomic import OutputExistsError
    foreign = [t.output for t in todo if t.output not in owned and _exists(t.output)]
    if foreign:
        err = OutputExistsError(foreign[0])
        more = f" and {len(foreign) - 1} more" if len(foreign) > 1 else ""
        err.strerror = (f"{foreign[0]}{more} exist and were not written by a batch into this folder: choose "
                        "another output folder, or pass --overwrite (overwrite=True) to replace them")
        raise err


class BatchBusyError(OSError):
    """Another batch is writing into the same local DST."""


def _lock(manifest) -> None:
    """An exclusive lock on the open manifest of a local DST for this run (released when it closes)."""
    import fcntl
    try:
        fcntl.flock(manifest.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        raise BatchBusyError(f"another batch is writing into {manifest.name}'s folder: wait for it to end") from None


def sweep_temporaries(tasks: list[Task]) -> int:
    """Remove the temporaries that a killed run's writers left beside local outputs (under the lock)."""
    from jpegai_fast.files.atomic import stale_temporaries
    n = 0
    for tmp in stale_temporaries(t.output for t in tasks):
        try:
            tmp.unlink()
            n += 1
        except FileNotFoundError:
            pass
    return n


# --- the task itself (runs in a worker) -------------------------------------------------------------

def _write(url: str, data: bytes, overwrite: bool) -> None:
    """Write one output by the output policy (files/atomic.py); ``overwrite``: the driver found it ours or was told."""
    from jpegai_fast.files.atomic import OutputExistsError, atomic_write
    fs, path = _fs(url)
    if _is_local(fs):
        os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
        atomic_write(path, data, overwrite=overwrite)
        return
    parent = posixpath.dirname(path)
    if parent:
        fs.makedirs(parent, exist_ok=True)
    if not overwrite and fs.exists(path):    # object stores have no atomic no-replace rename: check first
        raise OutputExistsError(url)
    tmp = f"{parent}/.{posixpath.basename(path)}.{os.getpid()}.tmp"
    with fs.open(tmp, "wb") as f:
        f.write(data)
    fs.mv(tmp, path)


def _psnr(a, b, peak: float) -> float:
    import numpy as np
    mse = float(np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2))
    return float("inf") if mse == 0 else 10 * np.log10(peak ** 2 / mse)


def run_task(task: Task, job: Job, threads: int | None, overwrite: bool = False) -> dict:
    """Code one file; never raises: a failure is a row with status 'failed' and the error.

    ``threads``: C++ threads for this task (None on a Dask worker: its cores / its task slots).
    ``overwrite``: the output may replace an existing file (the driver's decision, see run()).
    """
    t0 = time.perf_counter()
    if threads is None:         # on a Dask worker: its cores shared by the tasks it runs at once
        try:
            from distributed import get_worker
            threads = max(1, (os.cpu_count() or 1) // max(1, get_worker().state.nthreads))
        except (ImportError, ValueError):
            threads = os.cpu_count() or 1
    row = {"source": task.source, "size": task.size, "mtime": task.mtime, "output": task.output,
           "status": OK, "error": None}
    try:
        fs, path = _fs(task.source)
        with fs.open(path, "rb") as f:
            data = f.read()
        out = (_encode_task if job.mode == "encode" else _decode_task)(data, task, job, threads, row)
        _write(task.output, out, overwrite)
    except Exception as e:          # one failed row; the batch goes on
        row.update(status=FAILED, error=f"{type(e).__name__}: {e}")
    row["seconds"] = round(time.perf_counter() - t0, 4)
    return row


def _encode_task(data: bytes, task: Task, job: Job, threads: int, row: dict) -> bytes:
    from jpegai_fast import api
    from jpegai_fast.files.convert import encode_file
    opts = dict(job.options)
    enc = encode_file(data, task.source, bit_depth=opts.pop("bit_depth", None), keep_metadata=not job.strip,
                      threads=threads, **opts)
    img = enc.pixels
    row.update(bytes=len(enc.data), bpp=8 * len(enc.data) / (img.shape[0] * img.shape[1]), bit_depth=enc.bit_depth)
    if job.verify:
        back = api.decode(enc.data, threads=threads)
        if back.shape != img.shape or back.dtype != img.dtype:
            raise ValueError(f"verify: decoded {back.shape} {back.dtype}, source {img.shape} {img.dtype}")
        row["psnr"] = _psnr(img, back, float((1 << enc.bit_depth) - 1))
        if job.min_psnr is not None and row["psnr"] < job.min_psnr:
            raise ValueError(f"verify: PSNR {row['psnr']:.2f} dB below --min-psnr {job.min_psnr}")
    return enc.data


def _decode_task(data: bytes, task: Task, job: Job, threads: int, row: dict) -> bytes:
    from jpegai_fast.files.convert import decode_to_file
    out, img = decode_to_file(data, posixpath.splitext(task.output)[1], keep_metadata=not job.strip,
                              auto_orient=job.auto_orient, threads=threads, scale=job.scale)
    row.update(bytes=len(out), width=img.shape[1], height=img.shape[0])
    if job.scale != 1:
        row["scale"] = job.scale
    if job.verify:
        from jpegai_fast.files.images import read_image_file
        back = read_image_file(out, task.output).pixels
        if back.shape != img.shape or not (back == img).all():
            raise ValueError("verify: the written image does not read back identically")
    return out


_WORKER: dict = {}


def _init_worker(driver: int, threads: int, model: str | None) -> None:
    """Process-pool initializer: end with the driver (pid ``driver``), load the model once per worker.

    Ctrl-C and SIGTERM reach the whole process group; the driver alone acts on them (it cancels the
    queued tasks and records the running ones as they finish), so a worker never dies mid-write.
    """
    import signal
    from jpegai_fast.worker_exit import end_with_parent
    end_with_parent(driver)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    _WORKER["threads"] = threads
    from jpegai_fast.runtime.engine import get_engine
    get_engine(model)


def _pool_task(args) -> dict:
    task, job, overwrite = args
    return run_task(task, job, _WORKER.get("threads", 1), overwrite)


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
        out_suffix: str | None = None, progress: bool = True, overwrite: bool = False, strip: bool = False,
        auto_orient: bool = False, scale: int = 1) -> Report:
    """Convert every source file into ``dst`` (see the module docstring); returns counts and the new rows.

    ``overwrite``: replace existing outputs that no batch into ``dst`` wrote (default: refuse, before
    any work). ``strip``: drop the ICC profile, EXIF and XMP (kept by default, as the CLI does; the
    orientation stays). ``auto_orient`` (decode): turn the pixels as the orientation says. ``scale``
    (decode): 1/scale size images (api.decode's scale: thumbnails of a collection).
    An interrupt (KeyboardInterrupt, SystemExit from a SIGTERM handler) cancels the queued tasks,
    records those that were running once they finish, and is raised again.
    """
    if workers is not None and (isinstance(workers, bool) or not isinstance(workers, int) or workers < 0):
        raise ValueError(f"workers must be an int >= 0, got {workers!r}")
    from jpegai_fast.encoder.options import checked
    options = checked(options or {})      # the one bounds table, before any worker starts
    if mode == "decode" and options:
        raise ValueError(f"encode options {sorted(options)} need mode 'encode'")
    from jpegai_fast.api import check_scale
    if check_scale(scale) != 1 and mode != "decode":
        raise ValueError("scale needs mode 'decode'")
    job = Job(mode, options, verify, min_psnr, strip, auto_orient, scale)
    tasks = plan(mode, sources, dst, out_suffix)
    if not overwrite:       # first without touching DST (a refused batch leaves no folder, no manifest)
        done_rows = read_manifest(dst)
        refuse_foreign_outputs([t for t in tasks if not is_done(t, done_rows.get(t.source), scale)], owned_outputs(dst))
    dfs, dpath = _fs(dst)
    dfs.makedirs(dpath, exist_ok=True)
    mpath = _join(dfs, dpath, MANIFEST)
    report = Report()
    t0 = time.perf_counter()
    with dfs.open(mpath, "a") as manifest:
        if _is_local(dfs):
            _lock(manifest)
            sweep_temporaries(tasks)
        done_rows = read_manifest(dst)
        todo = [t for t in tasks if not is_done(t, done_rows.get(t.source), scale)]
        owned = owned_outputs(dst)
        if not overwrite:                   # again under the lock: the manifest may have changed
            refuse_foreign_outputs(todo, owned)
        report.skipped = len(tasks) - len(todo)
        for t in todo:            # before dispatch: an output written but not recorded is still ours
            manifest.write(json.dumps({"source": t.source, "output": t.output, "status": STARTED}) + "\n")
        manifest.flush()
        replaceable = {t.output for t in todo} if overwrite else owned
        _dispatch(todo, job, workers, scheduler, replaceable, manifest, report, progress)
    report.seconds = time.perf_counter() - t0
    return report


def _dispatch(todo, job, workers, scheduler, replaceable, manifest, report, progress) -> None:
    """Run the tasks locally, on Dask or inline, recording each row as it arrives.

    ``replaceable``: the outputs a task may replace; any other is written only if still absent, so a
    file that appears after the driver's check is not lost either.
    """
    from tqdm import tqdm
    cores = os.cpu_count() or 1
    bar = tqdm(total=len(todo), unit="img", disable=not progress, desc=f"batch {job.mode}")

    def record(row: dict) -> None:
        manifest.write(json.dumps(row) + "\n")
        manifest.flush()
        report.rows.append(row)
        if row["status"] == OK:
            report.done += 1
        else:
            report.failed += 1
        bar.update(1)

    try:
        if not todo:
            pass
        elif scheduler:
            from dask.distributed import Client, as_completed
            with Client(scheduler) as client:
                futures = [client.submit(run_task, t, job, None, t.output in replaceable, pure=False) for t in todo]
                for fut in as_completed(futures):
                    record(fut.result())
        elif workers == 0:
            for t in todo:
                record(run_task(t, job, cores, t.output in replaceable))
        else:
            _pool(todo, job, workers, replaceable, record)
    finally:
        bar.close()


def _pool(todo, job, workers, replaceable, record) -> None:
    from concurrent.futures import ProcessPoolExecutor, as_completed
    import multiprocessing
    cores = os.cpu_count() or 1
    n = min(workers or cores, len(todo))
    ctx = multiprocessing.get_context("spawn")      # no fork of a process with threads
    pool = ProcessPoolExecutor(n, mp_context=ctx, initializer=_init_worker,
                               initargs=(os.getpid(), max(1, cores // n), None))
    futures = [pool.submit(_pool_task, (t, job, t.output in replaceable)) for t in todo]
    recorded = set()
    try:
        for fut in as_completed(futures):
            record(fut.result())
            recorded.add(fut)
    except BaseException:           # Ctrl-C, SIGTERM (SystemExit), a broken pool: keep what finished
        pool.shutdown(wait=True, cancel_futures=True)
        for fut in futures:
            if fut not in recorded and fut.done() and not fut.cancelled() and fut.exception() is None:
                record(fut.result())
        raise
    pool.shutdown(wait=True)
