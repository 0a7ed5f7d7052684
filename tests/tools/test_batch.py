"""Batch conversion (batch.py, jpegai-fast batch): pools, Dask, fsspec, manifest, resume, failures."""
import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

import jpegai_fast
from jpegai_fast.tools import batch
from jpegai_fast.files.images import read_image, write_image

from helpers import descendants, natural_like, survivors

pytest.importorskip("fsspec")


def _tree(root, n=5, corrupt=True):
    (root / "sub" / "deeper").mkdir(parents=True)
    files = []
    for i in range(n):
        folder = root if i % 3 == 0 else (root / "sub" if i % 3 == 1 else root / "sub" / "deeper")
        path = folder / f"img{i}.png"
        write_image(path, natural_like(40 + 8 * i, 56, seed=i))
        files.append(path)
    if corrupt:
        (root / "sub" / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n not really")
    return files


def _expected(path, **opts):
    return jpegai_fast.encode(read_image(path), **opts)


def _finished(dst) -> list[dict]:
    """The manifest's finished rows (ok or failed), in order; 'started' rows left out."""
    path = Path(dst) / batch.MANIFEST
    rows = [json.loads(x) for x in path.read_text().splitlines() if x.strip()] if path.exists() else []
    return [r for r in rows if r["status"] != batch.STARTED]


def test_local_pool_mirrors_the_tree_with_single_encode_bytes_and_records_a_failure(tmp_path):
    src, dst = tmp_path / "src", tmp_path / "dst"
    files = _tree(src)
    report = batch.run("encode", [str(src)], str(dst), workers=2, options={"quality": 60}, progress=False)
    assert report.done == len(files) and report.failed == 1 and not report.ok
    for f in files:
        out = dst / f.relative_to(src).with_suffix(".jai")
        assert out.read_bytes() == _expected(f, quality=60)
    rows = _finished(dst)
    assert len(rows) == len(files) + 1
    bad = [r for r in rows if r["status"] == "failed"]
    assert len(bad) == 1 and "broken.png" in bad[0]["source"] and "not a readable image" in bad[0]["error"]
    assert all(r["bpp"] > 0 and r["bytes"] > 0 for r in rows if r["status"] == "ok")
    # a rerun skips the finished files and retries only the failed one
    again = batch.run("encode", [str(src)], str(dst), workers=2, options={"quality": 60}, progress=False)
    assert again.skipped == len(files) and again.done == 0 and again.failed == 1
    # a changed source is redone
    write_image(files[1], natural_like(48, 56, seed=99), overwrite=True)
    os.utime(files[1], (time.time() + 5, time.time() + 5))
    third = batch.run("encode", [str(src)], str(dst), workers=0, options={"quality": 60}, progress=False)
    assert third.done == 1 and third.skipped == len(files) - 1


def test_verify_decode_and_cli_exit_status(tmp_path):
    src, dst = tmp_path / "src", tmp_path / "dst"
    _tree(src, n=3)
    from click.testing import CliRunner
    from jpegai_fast.cli import main
    r = CliRunner().invoke(main, ["batch", "encode", str(src), "-o", str(dst), "--workers", "0", "--verify",
                                  "-q", "70", "--quiet"])
    assert r.exit_code == 1 and "broken.png" in r.output          # one failed file: exit status 1
    rows = _finished(dst)
    assert all(row["psnr"] > 20 for row in rows if row["status"] == "ok")
    r = CliRunner().invoke(main, ["batch", "decode", str(dst), "-o", str(tmp_path / "png"), "--workers", "0",
                                  "--verify", "--quiet"])
    assert r.exit_code == 0, r.output
    img = read_image(tmp_path / "png" / "img0.png")
    assert np.array_equal(img, jpegai_fast.decode((dst / "img0.jai").read_bytes()))
    r = CliRunner().invoke(main, ["batch", "encode", str(src), "-o", str(dst), "--min-psnr", "99", "--verify",
                                  "--workers", "0", "--quiet", "-q", "5"])
    assert r.exit_code == 1                                         # rows already done are skipped; broken fails


def test_memory_filesystem(tmp_path):
    import fsspec
    fs = fsspec.filesystem("memory")
    img = natural_like(48, 64, seed=4)
    from jpegai_fast.files.images import encode_image
    fs.pipe("/photos/a/x.png", encode_image(img, ".png"))
    fs.pipe("/photos/y.png", encode_image(img[:, ::-1].copy(), ".png"))
    report = batch.run("encode", ["memory://photos"], "memory://out", workers=0, options={"quality": 40},
                       progress=False)
    assert report.done == 2 and report.ok
    assert fs.cat("/out/a/x.jai") == jpegai_fast.encode(img, quality=40)
    assert fs.exists("/out/" + batch.MANIFEST)
    assert not [p for p in fs.find("/out") if p.endswith(".tmp")]
    assert batch.run("encode", ["memory://photos"], "memory://out", workers=0, options={"quality": 40},
                     progress=False).skipped == 2


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_dask_scheduler_and_worker_processes_give_identical_bytes(tmp_path):
    pytest.importorskip("distributed")
    src = tmp_path / "src"
    files = _tree(src, n=4, corrupt=False)
    port = _free_port()
    env = dict(os.environ, DASK_DISTRIBUTED__WORKER__DAEMON="False")
    sched = subprocess.Popen([sys.executable, "-P", "-m", "distributed.cli.dask_scheduler", "--host", "127.0.0.1",
                              "--port", str(port), "--no-dashboard"], env=env,
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=tmp_path)
    worker = subprocess.Popen([sys.executable, "-P", "-m", "distributed.cli.dask_worker", f"tcp://127.0.0.1:{port}",
                               "--nthreads", "1", "--nworkers", "2", "--no-dashboard", "--host", "127.0.0.1"],
                              env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=tmp_path)
    try:
        from distributed import Client
        deadline = time.time() + 60
        while True:
            try:
                with Client(f"tcp://127.0.0.1:{port}", timeout=5) as c:
                    if len(c.scheduler_info()["workers"]) >= 2:
                        break
            except OSError:
                pass
            assert time.time() < deadline, "dask cluster did not start"
            time.sleep(0.5)
        report = batch.run("encode", [str(src)], str(tmp_path / "dask"), scheduler=f"tcp://127.0.0.1:{port}",
                           options={"quality": 55}, progress=False)
        assert report.done == len(files) and report.ok
        for f in files:
            assert (tmp_path / "dask" / f.relative_to(src).with_suffix(".jai")).read_bytes() == _expected(f, quality=55)
    finally:
        for p in (worker, sched):
            p.terminate()
        for p in (worker, sched):
            try:
                p.wait(timeout=20)
            except subprocess.TimeoutExpired:
                p.kill()


def test_local_cluster(tmp_path):
    distributed = pytest.importorskip("distributed")
    src = tmp_path / "src"
    files = _tree(src, n=2, corrupt=False)
    with distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=False, dashboard_address=None) as lc:
        report = batch.run("encode", [str(src)], str(tmp_path / "lc"), scheduler=lc.scheduler_address,
                           options={"quality": 55}, progress=False)
    assert report.done == 2
    assert (tmp_path / "lc" / "img0.jai").read_bytes() == _expected(files[0], quality=55)


def test_killed_batch_resumes_without_repeats_or_partial_outputs(tmp_path):
    src, dst = tmp_path / "src", tmp_path / "dst"
    src.mkdir()
    for i in range(14):
        write_image(src / f"p{i:02d}.png", natural_like(256, 384, seed=i))
    p = subprocess.Popen([sys.executable, "-P", "-m", "jpegai_fast", "batch", "encode", str(src), "-o", str(dst),
                          "--workers", "1", "--quiet", "-q", "50"])
    deadline = time.time() + 120
    while len(_finished(dst)) < 3:
        assert time.time() < deadline and p.poll() is None, "batch finished or stalled before the kill"
        time.sleep(0.05)
    workers = descendants(p.pid)          # the pool's worker and resource tracker
    assert workers or not Path("/proc/self/task").is_dir()
    p.send_signal(signal.SIGKILL)
    p.wait()
    # a SIGKILLed driver's workers exit too (worker_exit.py)
    assert not survivors(workers, within_s=15), "pool workers outlived the killed batch"
    first = _finished(dst)
    assert 3 <= len(first) < 14
    for out in dst.glob("*.jai"):                                     # every output present is complete
        assert out.read_bytes() == _expected(src / out.with_suffix(".png").name, quality=50)
    report = batch.run("encode", [str(src)], str(dst), workers=1, options={"quality": 50}, progress=False)
    assert report.skipped == len(first) and report.done == 14 - len(first)
    rows = _finished(dst)
    assert sorted(r["source"] for r in rows) == sorted(str(f) for f in src.glob("*.png"))   # no repeats
    assert not list(dst.glob(".*.tmp"))


def test_bad_arguments():
    with pytest.raises(ValueError, match="mode"):
        batch.run("squash", ["."], "out")
    with pytest.raises(ValueError, match="unknown encode options"):
        batch.run("encode", ["."], "out", options={"qualty": 3})
    with pytest.raises(ValueError, match="effort"):
        batch.run("encode", ["."], "out", options={"effort": 12})
    for bad in ({"quality": 10**400}, {"bpp": float("nan")}, {"layers": True}):     # the API's bounds table
        with pytest.raises(ValueError, match=next(iter(bad))):
            batch.run("encode", ["."], "out", options=bad)
    with pytest.raises(ValueError, match="need mode 'encode'"):
        batch.run("decode", ["."], "out", options={"quality": 50})
    with pytest.raises(FileNotFoundError):
        batch.plan("encode", ["/no/such/folder"], "out")
