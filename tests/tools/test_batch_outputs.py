"""Batch and the output policy (files/atomic.py): never replace a file the batch did not write, keep
what the source says about its pixels, survive a damaged manifest, stop cleanly on Ctrl-C/SIGTERM."""
import fcntl
import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

import jpegai_fast
from jpegai_fast.files.atomic import OutputExistsError, atomic_write
from jpegai_fast.files.images import encode_image, read_image_file, write_image
from jpegai_fast.tools import batch

from helpers import descendants, natural_like, survivors

pytest.importorskip("fsspec")


def _finished(dst) -> list[dict]:
    path = Path(dst) / batch.MANIFEST
    rows = [json.loads(x) for x in path.read_text().splitlines() if x.strip()] if path.exists() else []
    return [r for r in rows if r["status"] != batch.STARTED]


def _photos(folder, n=3, h=40, w=56):
    folder.mkdir()
    for i in range(n):
        write_image(folder / f"x{i}.png", natural_like(h, w, seed=i))
    return sorted(folder.glob("*.png"))


def test_batch_decode_next_to_the_originals_is_refused_before_any_work(tmp_path):
    photos = tmp_path / "photos"
    originals = {p: p.read_bytes() for p in _photos(photos)}
    assert batch.run("encode", [str(photos)], str(photos), workers=0, progress=False).ok
    rows_before = (photos / batch.MANIFEST).read_text()
    with pytest.raises(OutputExistsError, match="and 2 more exist .* --overwrite"):
        batch.run("decode", [str(photos)], str(photos), workers=0, progress=False)
    assert {p: p.read_bytes() for p in originals} == originals          # the originals are untouched
    assert (photos / batch.MANIFEST).read_text() == rows_before          # and no task was started
    from click.testing import CliRunner
    from jpegai_fast.cli import main
    r = CliRunner().invoke(main, ["batch", "decode", str(photos), "-o", str(photos), "--workers", "0", "--quiet"])
    assert r.exit_code == 1 and "--overwrite" in r.output
    assert {p: p.read_bytes() for p in originals} == originals
    # told to: the decodes replace them
    report = batch.run("decode", [str(photos)], str(photos), workers=0, progress=False, overwrite=True)
    assert report.done == 3 and all(p.read_bytes() != b for p, b in originals.items())


def test_a_changed_source_replaces_the_batch_s_own_output_but_not_a_foreign_file(tmp_path):
    src, dst = tmp_path / "src", tmp_path / "dst"
    files = _photos(src)
    dst.mkdir()
    (dst / "x2.jai").write_bytes(b"the user's own file")
    with pytest.raises(OutputExistsError):
        batch.run("encode", [str(src)], str(dst), workers=0, progress=False)
    assert sorted(p.name for p in dst.iterdir()) == ["x2.jai"]          # refused before touching DST
    (dst / "x2.jai").unlink()
    assert batch.run("encode", [str(src)], str(dst), workers=0, progress=False).done == 3
    write_image(files[0], natural_like(40, 56, seed=50), overwrite=True)   # a new source: its output is redone
    report = batch.run("encode", [str(src)], str(dst), workers=0, progress=False)
    assert report.done == 1 and (dst / "x0.jai").read_bytes() == jpegai_fast.encode(natural_like(40, 56, seed=50))


def test_an_output_written_but_not_recorded_is_still_the_batch_s_own(tmp_path):
    # a worker killed between its rename and its row: only the 'started' row says the file is ours
    src, dst = tmp_path / "src", tmp_path / "dst"
    files = _photos(src, n=1)
    dst.mkdir()
    (dst / "x0.jai").write_bytes(b"half a run")
    (dst / batch.MANIFEST).write_text(json.dumps({"source": str(files[0]), "output": str(dst / "x0.jai"),
                                                  "status": batch.STARTED}) + "\n")
    assert batch.run("encode", [str(src)], str(dst), workers=0, progress=False).done == 1
    assert jpegai_fast.decode((dst / "x0.jai").read_bytes()).shape == (40, 56, 3)


def test_stale_temporaries_of_a_killed_run_are_swept_and_nothing_else(tmp_path):
    src, dst = tmp_path / "src", tmp_path / "dst"
    _photos(src, n=2)
    dst.mkdir()
    stale = [dst / ".x0.jai.k3j_9x.tmp", dst / ".x1.jai.a.tmp"]
    keep = [dst / ".x0.jai.tmp", dst / ".other.jai.abc.tmp", dst / "x9.jai.abc.tmp"]
    for p in stale + keep:
        p.write_bytes(b"left by SIGKILL")
    assert batch.run("encode", [str(src)], str(dst), workers=0, progress=False).ok
    assert not any(p.exists() for p in stale) and all(p.exists() for p in keep)


def test_a_second_batch_into_the_same_folder_is_refused(tmp_path):
    src, dst = tmp_path / "src", tmp_path / "dst"
    _photos(src, n=1)
    dst.mkdir()
    with open(dst / batch.MANIFEST, "a") as held:          # what a running batch holds
        fcntl.flock(held.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        with pytest.raises(batch.BatchBusyError, match="another batch"):
            batch.run("encode", [str(src)], str(dst), workers=0, progress=False)
    assert batch.run("encode", [str(src)], str(dst), workers=0, progress=False).done == 1


@pytest.mark.parametrize("junk", [b"{}\n", b"[1]\n", b"42\n", b"\xff\xfe not utf-8\n", b'{"source": 1}\n'])
def test_a_damaged_manifest_line_is_skipped(tmp_path, junk):
    src, dst = tmp_path / "src", tmp_path / "dst"
    _photos(src, n=2)
    assert batch.run("encode", [str(src)], str(dst), workers=0, progress=False).done == 2
    with open(dst / batch.MANIFEST, "ab") as f:
        f.write(junk)
    report = batch.run("encode", [str(src)], str(dst), workers=0, progress=False)
    assert report.skipped == 2 and report.done == 0


def test_batch_keeps_bit_depth_and_metadata_as_the_cli_does(tmp_path):
    src, dst, back = tmp_path / "src", tmp_path / "dst", tmp_path / "back"
    src.mkdir()
    img10 = (natural_like(40, 48, seed=3).astype(np.uint16) * 4 + 1)       # 10-bit samples
    exif = bytes.fromhex("4d4d002a00000008000101120003000000010006000000000000")   # orientation 6
    meta = {"icc": b"\x00" * 8 + b"fake icc profile", "exif": exif, "xmp": b"<x:xmpmeta/>"}
    (src / "deep.png").write_bytes(encode_image(img10, ".png", 10, meta))
    assert batch.run("encode", [str(src)], str(dst), workers=0, progress=False).ok
    data = (dst / "deep.jai").read_bytes()
    assert jpegai_fast.info(data)["bit_depth"] == 10                  # from the PNG's sBIT, as the CLI reads it
    _, got = jpegai_fast.decode(data, with_metadata=True)
    assert got["icc"] == meta["icc"] and got["xmp"] == meta["xmp"] and got["orientation"] == 6
    assert batch.run("decode", [str(dst)], str(back), workers=0, progress=False).ok
    f = read_image_file((back / "deep.png").read_bytes())
    assert f.bit_depth == 10 and f.bit_depth_source == "PNG sBIT"     # not 10-bit samples in a 16-bit PNG
    assert np.array_equal(f.pixels, jpegai_fast.decode(data)) and f.metadata.get("orientation") == 6
    stripped = tmp_path / "stripped"
    assert batch.run("encode", [str(src)], str(stripped), workers=0, progress=False, strip=True).ok
    assert not jpegai_fast.decode((stripped / "deep.jai").read_bytes(), with_metadata=True)[1].get("icc")


def test_atomic_write_never_replaces_without_being_told(tmp_path):
    target = tmp_path / "a.bin"
    atomic_write(target, b"one", overwrite=False)
    with pytest.raises(OutputExistsError, match="--overwrite"):
        atomic_write(target, b"two", overwrite=False)
    assert target.read_bytes() == b"one" and [p.name for p in tmp_path.iterdir()] == ["a.bin"]
    atomic_write(target, b"two", overwrite=True)
    assert target.read_bytes() == b"two"


def test_the_cli_refuses_to_replace_an_existing_output(tmp_path):
    from click.testing import CliRunner
    from jpegai_fast.cli import main
    write_image(tmp_path / "in.png", natural_like(32, 40))
    (tmp_path / "out.jai").write_bytes(b"keep me")
    r = CliRunner().invoke(main, ["encode", str(tmp_path / "in.png"), str(tmp_path / "out.jai"), "--quiet"])
    assert r.exit_code == 1 and "--overwrite" in r.output and (tmp_path / "out.jai").read_bytes() == b"keep me"
    r = CliRunner().invoke(main, ["encode", str(tmp_path / "in.png"), str(tmp_path / "out.jai"), "--quiet",
                                  "--overwrite"])
    assert r.exit_code == 0 and (tmp_path / "out.jai").read_bytes() != b"keep me"
    r = CliRunner().invoke(main, ["decode", str(tmp_path / "out.jai"), str(tmp_path / "in.png"), "--quiet"])
    assert r.exit_code == 1 and "--overwrite" in r.output


def _default_signals():
    """A test runner started in the background inherits SIGINT ignored (and Python then keeps ignoring
    it, as a nohup'ed command should): the batch under test gets the default handlers back."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)


@pytest.mark.parametrize("sig, code", [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_an_interrupted_batch_stops_records_what_finished_and_leaves_no_temporary(tmp_path, sig, code):
    src, dst = tmp_path / "src", tmp_path / "dst"
    _photos(src, n=12, h=192, w=256)
    p = subprocess.Popen([sys.executable, "-P", "-m", "jpegai_fast", "batch", "encode", str(src), "-o", str(dst),
                          "--workers", "1", "--quiet"], stderr=subprocess.PIPE, start_new_session=True,
                         preexec_fn=_default_signals)
    deadline = time.time() + 120
    while len(_finished(dst)) < 2:
        assert time.time() < deadline and p.poll() is None, "batch finished or stalled before the signal"
        time.sleep(0.02)
    workers = descendants(p.pid)
    import os
    os.killpg(p.pid, sig)                          # as a terminal's Ctrl-C does: the whole process group
    try:
        _, err = p.communicate(timeout=60)
    finally:
        if p.poll() is None:
            p.kill()
    assert p.returncode == code, err
    assert not survivors(workers, within_s=15)
    rows = _finished(dst)
    assert 2 <= len(rows) < 12 and all(r["status"] == "ok" for r in rows)      # the queue was cancelled
    assert len(list(dst.glob("*.jai"))) == len(rows)                           # every output is recorded
    assert not list(dst.glob(".*.tmp"))
    report = batch.run("encode", [str(src)], str(dst), workers=0, progress=False)
    assert report.skipped == len(rows) and report.done == 12 - len(rows)
