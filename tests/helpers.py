"""Helpers the tests share (plain functions; fixtures live in conftest.py): synthetic images, PSNR,
a stub codec with a known size(knob) for the evaluation tests, a tiny training run's data and arguments,
and a process's descendants (for the tests that kill a driver and check its workers end with it). Importable as ``helpers`` because
tests/conftest.py puts tests/ on sys.path, the way pytest does for a rootdir conftest."""
import os
import signal
import time
from pathlib import Path

import numpy as np
from scipy import ndimage

from jpegai_fast.eval.codecs import CodecAdapter, Knob, check_image


def natural_like(h, w, channels=3, seed=0):
    """Smooth random field with soft edges and a little noise: closer to a photo than white noise."""
    rng = np.random.default_rng(seed)
    base = rng.random((h // 16 + 2, w // 16 + 2, channels))
    img = ndimage.zoom(base, (h / base.shape[0], w / base.shape[1], 1), order=3)[:h, :w]
    img = np.clip(img * 200 + 20 + rng.normal(0, 2, img.shape), 0, 255).astype(np.uint8)
    return img[..., 0] if channels == 1 else img


def psnr(a, b, peak=255.0):
    mse = np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2)
    return 10 * np.log10(peak ** 2 / max(mse, 1e-12))


def smooth_image(h=176, w=192, seed=0) -> np.ndarray:
    """A natural-ish RGB uint8 image: gradients plus mild texture (compresses like a photo, not like noise)."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:h, 0:w].astype(np.float64)
    img = np.stack([128 + 60 * np.sin(x / 17 + c) * np.cos(y / 23 - c) for c in range(3)], axis=-1)
    img += rng.normal(0, 6, img.shape)
    return np.clip(np.round(img), 0, 255).astype(np.uint8)


class StubCodec(CodecAdapter):
    """Deterministic sizes: the file has size_fn(knob) bytes; decode returns a grey image of the stored size."""

    def __init__(self, knob: Knob, size_fn, name="stub"):
        self.knob, self.size_fn, self.name = knob, size_fn, name
        self.description = "stub codec for tests"
        self.calls = 0

    def encode(self, img, knob):
        k = self._check_knob(knob)
        img = check_image(img)
        self.calls += 1
        n = max(int(self.size_fn(k)), 4)
        header = img.shape[0].to_bytes(2, "big") + img.shape[1].to_bytes(2, "big")
        return header + b"\0" * (n - 4)

    def decode(self, data):
        h, w = int.from_bytes(data[:2], "big"), int.from_bytes(data[2:4], "big")
        return np.full((h, w, 3), 128, np.uint8)


def run_fuzz_harness(name: str, workdir, *libfuzzer_args: str):
    """Seed and run tests/fuzz/<name> (atheris) against the package the tests import; returns
    (number of seed files, the finished process). The harness must offer --make-seeds DIR."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    import jpegai_fast
    harness = Path(__file__).resolve().parent / "fuzz" / name
    env = dict(os.environ)
    env["PYTHONPATH"] = str(Path(jpegai_fast.__file__).parent.parent) + os.pathsep + env.get("PYTHONPATH", "")
    corpus = Path(workdir) / "corpus"
    subprocess.run([sys.executable, str(harness), "--make-seeds", str(corpus)], env=env, check=True,
                   timeout=120, capture_output=True)
    proc = subprocess.run([sys.executable, str(harness), *libfuzzer_args, str(corpus)], env=env,
                          capture_output=True, text=True, timeout=180, cwd=workdir)
    return len(list(corpus.iterdir())), proc


def descendants(pid: int) -> set[int]:
    """Live descendants of ``pid`` (Linux /proc; empty elsewhere)."""
    found, todo = set(), [pid]
    while todo:
        p = todo.pop()
        for task in Path(f"/proc/{p}/task").glob("*"):
            try:
                kids = {int(k) for k in (task / "children").read_text().split()}
            except OSError:
                continue
            todo += kids - found
            found |= kids
    return found


def alive(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(") ")[-1][0] not in "ZX"   # a zombie is gone
    except OSError:
        return False


def survivors(pids, within_s: float) -> list[int]:
    """The ``pids`` still alive after waiting up to ``within_s`` for them to end; those are killed, so a
    failing test leaves no orphan behind."""
    deadline = time.time() + within_s
    while any(alive(p) for p in pids) and time.time() < deadline:
        time.sleep(0.1)
    left = [p for p in pids if alive(p)]
    for p in left:
        os.kill(p, signal.SIGKILL)
    return left


def training_images(folder) -> None:
    """Two 80x96 noise images: enough for a training step at 64^2 crops."""
    from PIL import Image
    folder.mkdir()
    rng = np.random.default_rng(0)
    for i in range(2):
        Image.fromarray(rng.integers(0, 256, (80, 96, 3), dtype=np.uint8)).save(folder / f"img{i}.png")


def tiny_run_cli(data, out, *extra: str) -> list[str]:
    """`jpegai_fast.training.train` arguments of a 3-step run of the light model at 64^2 crops."""
    return ["--data", str(data), "--out", str(out), "--profile", "light", "--steps", "3", "--batch", "1",
            "--crop", "64", "--quiet", "--log-every", "1", *extra]


def integer_conv(act: np.ndarray, layer: dict) -> np.ndarray:
    """sum w_q * x of an integer hyper-synthesis layer (core/intpath.py's layer dicts) over integer
    activations (C, H, W), as int64: torch float64 convolutions, exact while every sum stays below 2^53."""
    import torch
    import torch.nn.functional as F
    x = torch.from_numpy(np.asarray(act, dtype=np.float64))[None]
    w = torch.from_numpy(layer["weight_q"].astype(np.float64))
    if layer["transposed"]:
        acc = F.conv_transpose2d(x, w.transpose(0, 1), stride=layer["stride"], padding=layer["padding"],
                                 output_padding=layer["output_padding"])
    else:
        acc = F.conv2d(x, w, stride=layer["stride"], padding=layer["padding"])
    acc = acc[0].numpy()
    assert np.abs(acc).max() < 2**52  # float64 sums of integers are exact below 2^53
    return acc.astype(np.int64)


def drawn_image(h=96, w=128, seed=0) -> np.ndarray:
    """Graphics, not a photo: flat rectangles in a few colours, thin lines and a repeated glyph-like motif
    (what the shared graphics images are made of: exact repeats, sharp edges, no noise)."""
    rng = np.random.default_rng(seed)
    palette = rng.integers(0, 256, (6, 3), dtype=np.uint8)
    img = np.empty((h, w, 3), np.uint8)
    img[:] = palette[0]
    for k in range(12):
        y0, x0 = rng.integers(0, h - 8), rng.integers(0, w - 8)
        img[y0:y0 + rng.integers(4, h // 2), x0:x0 + rng.integers(4, w // 2)] = palette[1 + k % 5]
    img[::9, :] = palette[5]                                 # rules
    glyph = (rng.random((7, 5)) > 0.5)[..., None] * palette[3]
    for y in range(2, h - 7, 12):
        for x in range(3, w - 5, 8):
            img[y:y + 7, x:x + 5] = np.where(glyph > 0, glyph, img[y:y + 7, x:x + 5])
    return img
