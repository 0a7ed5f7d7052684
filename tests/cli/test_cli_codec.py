"""jpegai-fast encode / decode / info on real files (8- and 16-bit PNG, TIFF), errors as messages."""
import json

import numpy as np
from click.testing import CliRunner

from jpegai_fast.cli import main
from jpegai_fast.tools.demo import synthetic_image
from jpegai_fast.files.images import read_image, write_image


def run(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


def test_encode_info_decode_png(tmp_path):
    img = synthetic_image(96, 160)
    write_image(tmp_path / "in.png", img)
    r = run("encode", tmp_path / "in.png", tmp_path / "s.jai", "--bpp", "1.0", "--layers", "2", "--tile-size", "4")
    assert r.exit_code == 0, r.output
    r = run("info", tmp_path / "s.jai", "--json")
    meta = json.loads(r.output)
    assert (meta["width"], meta["height"], meta["layers"]) == (160, 96, 2)
    assert meta["bpp"] <= 1.0
    assert run("decode", tmp_path / "s.jai", tmp_path / "out.png").exit_code == 0
    assert read_image(tmp_path / "out.png").shape == img.shape
    assert run("decode", tmp_path / "s.jai", tmp_path / "crop.png", "--region", 10, 20, 50, 30).exit_code == 0
    assert read_image(tmp_path / "crop.png").shape == (30, 50, 3)


def test_16_bit_tiff_keeps_depth(tmp_path):
    img = (synthetic_image(64, 64).astype(np.uint16) << 2)          # 10-bit values
    write_image(tmp_path / "in.tif", img)
    assert run("encode", tmp_path / "in.tif", tmp_path / "s.jai", "--bit-depth", 10).exit_code == 0
    assert run("decode", tmp_path / "s.jai", tmp_path / "out.tif").exit_code == 0
    out = read_image(tmp_path / "out.tif")
    assert out.dtype == np.uint16 and out.shape == img.shape and out.max() < 1024


def test_errors_are_messages_not_tracebacks(tmp_path):
    (tmp_path / "bad.jai").write_bytes(b"JAI\x01garbage")
    for args in (("decode", tmp_path / "bad.jai", tmp_path / "o.png"), ("info", tmp_path / "bad.jai")):
        r = run(*args)
        assert r.exit_code != 0 and "Error" in r.output
        assert r.exception is None or isinstance(r.exception, SystemExit)   # no traceback
    write_image(tmp_path / "in.png", synthetic_image(32, 32))
    r = run("encode", tmp_path / "in.png", tmp_path / "s.jai", "--bpp", "-1")
    assert r.exit_code != 0 and "bpp" in r.output


def test_effort_and_short_quality_options(tmp_path):
    write_image(tmp_path / "in.png", synthetic_image(48, 64))
    assert run("encode", tmp_path / "in.png", tmp_path / "a.jai", "-q", 60).exit_code == 0
    r = run("encode", tmp_path / "in.png", tmp_path / "b.jai", "-q", 60, "-e", 3)
    assert r.exit_code == 0, r.output
    assert (tmp_path / "a.jai").read_bytes() != (tmp_path / "b.jai").read_bytes()
    assert run("decode", tmp_path / "b.jai", tmp_path / "out.png").exit_code == 0
    r = run("encode", tmp_path / "in.png", tmp_path / "c.jai", "--effort", 10)
    assert r.exit_code == 2 and "effort" in r.output.lower()


def _cli(*args, stdin=None):
    """The real command in a subprocess (stdin/stdout bytes, exit codes, stderr)."""
    import subprocess
    import sys
    return subprocess.run([sys.executable, "-P", "-m", "jpegai_fast", *[str(a) for a in args]], input=stdin,
                          capture_output=True, timeout=120)


def test_stdin_stdout_and_python_dash_m(tmp_path):
    write_image(tmp_path / "in.png", synthetic_image(40, 56))
    png = (tmp_path / "in.png").read_bytes()
    enc = _cli("encode", "-", "-", "-q", 60, stdin=png)
    assert enc.returncode == 0, enc.stderr
    run("encode", tmp_path / "in.png", tmp_path / "ref.jai", "-q", 60)
    assert enc.stdout == (tmp_path / "ref.jai").read_bytes()          # same bytes through the pipe
    dec = _cli("decode", "-", "-", stdin=enc.stdout)
    assert dec.returncode == 0 and dec.stdout[:8] == b"\x89PNG\r\n\x1a\n"
    assert _cli("-h").returncode == 0 and b"encode" in _cli("--help").stdout


def test_file_errors_are_one_line_with_exit_1(tmp_path):
    write_image(tmp_path / "in.png", synthetic_image(32, 32))
    (tmp_path / "junk.png").write_bytes(b"this is not an image")
    (tmp_path / "cut.png").write_bytes((tmp_path / "in.png").read_bytes()[:60])
    cases = [("encode", tmp_path / "missing.png", tmp_path / "o.jai"),
             ("encode", tmp_path / "junk.png", tmp_path / "o.jai"),
             ("encode", tmp_path / "cut.png", tmp_path / "o.jai"),
             ("encode", tmp_path / "in.png", tmp_path / "no_such_dir" / "o.jai"),
             ("encode", tmp_path / "in.png", tmp_path / "in.png"),
             ("decode", tmp_path / "in.png", tmp_path / "o.png")]
    for args in cases:
        r = _cli(*args)
        err = r.stderr.decode()
        assert r.returncode == 1, (args, err)
        assert "Traceback" not in err and err.strip().count("\n") == 0 and err.startswith("Error:"), (args, err)
    assert (tmp_path / "in.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"   # the input survived
    assert not list(tmp_path.glob(".*.tmp"))                              # no temporary left behind
    r = _cli("encode", tmp_path / "in.png", tmp_path / "o.jai", "--effort", "x")
    assert r.returncode == 2                                               # usage error


def test_unknown_output_type_and_16_bit_to_jpeg_are_refused(tmp_path):
    img16 = (synthetic_image(32, 32).astype(np.uint16) << 2)
    write_image(tmp_path / "in.tif", img16)
    assert run("encode", tmp_path / "in.tif", tmp_path / "s.jai", "--bit-depth", 10).exit_code == 0
    for out in ("o.xyz", "o.jpg"):
        r = _cli("decode", tmp_path / "s.jai", tmp_path / out)
        assert r.returncode == 1 and b"Error:" in r.stderr and not (tmp_path / out).exists()


def test_interrupted_encode_leaves_the_old_output_intact(tmp_path):
    """SIGKILL at many moments of an encode over an existing output: the old bytes or the new, never a part."""
    import signal
    import subprocess
    import sys
    import time as _time
    img = synthetic_image(512, 768)
    write_image(tmp_path / "in.png", img)
    out = tmp_path / "out.jai"
    run("encode", tmp_path / "in.png", out, "-q", 10)
    old = out.read_bytes()
    new_ref = tmp_path / "new.jai"
    run("encode", tmp_path / "in.png", new_ref, "-q", 90)
    new = new_ref.read_bytes()
    for delay in (0.05, 0.3, 0.6, 0.9, 1.2, 1.6):
        p = subprocess.Popen([sys.executable, "-P", "-m", "jpegai_fast", "encode", str(tmp_path / "in.png"), str(out),
                              "-q", "90", "--quiet", "--overwrite"])
        _time.sleep(delay)
        p.send_signal(signal.SIGKILL)
        p.wait()
        assert out.read_bytes() in (old, new)
        out.write_bytes(old)
    for stray in tmp_path.glob(".*.tmp"):          # a SIGKILL during the write may leave one (documented)
        stray.unlink()
    p = subprocess.Popen([sys.executable, "-P", "-m", "jpegai_fast", "encode", str(tmp_path / "in.png"), str(out), "-q", "90",
                          "--overwrite"])
    _time.sleep(0.4)
    p.send_signal(signal.SIGINT)
    p.wait()
    assert out.read_bytes() in (old, new)
    assert not list(tmp_path.glob(".*.tmp"))        # SIGINT: the temporary file is removed


def test_verbose_prints_the_stream_make_up_and_psnr(tmp_path):
    write_image(tmp_path / "in.png", synthetic_image(48, 64))
    r = run("encode", tmp_path / "in.png", tmp_path / "a.jai", "-v", "-q", 70)
    assert r.exit_code == 0, r.output
    assert "bytes: header+table" in r.output and " z " in r.output and " y " in r.output
    psnr = float(r.output.split("PSNR ")[1].split(" dB")[0])
    assert 15 < psnr < 60
    quiet = run("encode", tmp_path / "in.png", tmp_path / "b.jai", "-v", "--quiet")
    assert quiet.exit_code == 0 and quiet.output == ""
    r = run("decode", tmp_path / "a.jai", tmp_path / "out.png", "--verbose")
    assert r.exit_code == 0 and "model " in r.output and "layers 1" in r.output


def test_the_command_keeps_numpys_blas_to_one_thread_unless_told_otherwise():
    # OpenBLAS's pool spins ~0.1 s of CPU per thread from numpy's import: the command sets one thread before
    # numpy loads, and leaves a user's own setting alone
    import os
    import subprocess
    import sys
    probe = "import jpegai_fast.cli, numpy, os; print(os.environ.get('OPENBLAS_NUM_THREADS'))"
    env = {k: v for k, v in os.environ.items() if k != "OPENBLAS_NUM_THREADS"}
    out = subprocess.run([sys.executable, "-P", "-c", probe], capture_output=True, text=True, env=env, check=True)
    assert out.stdout.strip() == "1"
    out = subprocess.run([sys.executable, "-P", "-c", probe], capture_output=True, text=True, check=True,
                         env=dict(env, OPENBLAS_NUM_THREADS="2"))
    assert out.stdout.strip() == "2"
