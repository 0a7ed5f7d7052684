"""The CPU codec without torch: same bytes and pixels as with it, and torch is never imported.

Two halves: (1) a subprocess that makes ``import torch`` / ``scipy`` / ``matplotlib`` / ``imagecodecs`` fail encodes and decodes
through the API and the CLI; (2) every quantity the torch-free engine derives from the weights file
equals what the torch model gives (so both environments code identically).
"""
import json
import subprocess
import sys
import textwrap

import numpy as np
import torch

import jpegai_fast
from jpegai_fast.runtime import network
from jpegai_fast.core.wavefront import ContextModel
from jpegai_fast.core.conv import CpuAnalysis, CpuHyperAnalysis, CpuSynthesis
from jpegai_fast.runtime.engine import get_engine
from jpegai_fast.core.intpath import IntHyperSynthesis
from jpegai_fast.model.weights import coding_tables

from helpers import natural_like

BLOCK = textwrap.dedent('''
    import importlib.abc, sys
    class _Block(importlib.abc.MetaPathFinder):
        def find_spec(self, name, path, target=None):
            if name.split(".")[0] in ("torch", "scipy", "matplotlib", "imagecodecs"):
                raise ImportError(f"{name} is blocked in this test")
    sys.meta_path.insert(0, _Block())
''')


def test_api_and_cli_without_torch_give_the_same_bytes_and_pixels(tmp_path):
    img = natural_like(80, 120, seed=11)
    np.save(tmp_path / "img.npy", img)
    from jpegai_fast.files.images import write_image
    write_image(tmp_path / "img.png", img)
    script = BLOCK + textwrap.dedent(f'''
        import json, numpy as np, jpegai_fast
        from jpegai_fast.cli import main
        img = np.load({str(tmp_path / "img.npy")!r})
        data = jpegai_fast.encode(img, quality=60, threads=2)
        open({str(tmp_path / "api.jai")!r}, "wb").write(data)
        np.save({str(tmp_path / "api.npy")!r}, jpegai_fast.decode(data))
        jpegai_fast.encode(img, bpp=0.5, tile_size=4, layers=2)
        for args in (["demo", "--out", {str(tmp_path / "demo")!r}, "--bpp", "0.5"],
                     ["encode", {str(tmp_path / "img.png")!r}, {str(tmp_path / "cli.jai")!r}, "-q", "60"],
                     ["decode", {str(tmp_path / "cli.jai")!r}, {str(tmp_path / "cli.png")!r}],
                     ["info", {str(tmp_path / "cli.jai")!r}]):
            try:
                main(args)
            except SystemExit as e:
                assert e.code in (0, None), e.code
        try:
            jpegai_fast.encode(img, quality=60, effort=3)
            effort = "no error"
        except ImportError as e:
            effort = str(e)
        print(json.dumps({{"torch": "torch" in sys.modules, "scipy": "scipy" in sys.modules, "effort": effort}}))
    ''')
    out = subprocess.run([sys.executable, "-P", "-c", script], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    report = json.loads(out.stdout.strip().splitlines()[-1])
    assert report["torch"] is False and report["scipy"] is False
    assert "torch" in report["effort"]                                     # an actionable message
    assert (tmp_path / "demo" / "compare_0.500bpp.png").exists()          # the README's main job, torch-free
    data = (tmp_path / "api.jai").read_bytes()
    assert data == jpegai_fast.encode(img, quality=60, threads=1)          # this process has torch
    assert (tmp_path / "cli.jai").read_bytes() == data
    np.testing.assert_array_equal(np.load(tmp_path / "api.npy"), jpegai_fast.decode(data))
    from jpegai_fast.files.images import read_image
    np.testing.assert_array_equal(read_image(tmp_path / "cli.png"), jpegai_fast.decode(data))


def test_runtime_engine_equals_the_torch_model_exactly():
    eng = get_engine()
    model = eng.model
    w = eng.weights
    # GDN effective parameters, bit for bit
    for name in ("g_a", "g_s"):
        for i, layer in enumerate(getattr(model, name)):
            if hasattr(layer, "effective_params"):
                beta, gamma = layer.effective_params()
                b, g = network.gdn_effective(w.state[f"{name}.{i}.beta"], w.state[f"{name}.{i}.gamma"])
                assert np.array_equal(beta.detach().numpy(), b) and np.array_equal(gamma.detach().numpy(), g)
    # integer hyper-synthesis and context model
    for arith in ("exact", "int16"):
        ref = IntHyperSynthesis.from_module(model.h_s, eng.M, arith)
        for a, b in zip(ref.layers, eng.hyper_int(arith).layers, strict=True):
            for key in a:
                assert np.array_equal(np.asarray(a[key]), np.asarray(b[key])), key
    ctx = ContextModel.from_module(model.context)
    assert np.array_equal(ctx.w_q, eng.ctx.w_q) and np.array_equal(ctx.bias_q, eng.ctx.bias_q)
    # gain ladder and coding tables
    assert np.array_equal(np.rint(model.gain.log2_step_table.detach().double().numpy() * 256).astype(np.int64),
                          eng.ladder_q)
    tables = coding_tables(model)
    for key, value in tables.items():
        assert np.array_equal(value, w.tables[key]), key
    # conv engine packed from the module or from the file: identical outputs
    rng = np.random.default_rng(0)
    x = rng.random((3, 64, 96), dtype=np.float32)
    y = CpuAnalysis.from_module(model.g_a).run(x, threads=2)
    assert np.array_equal(y, eng.transform("g_a", jpegai_fast.runtime.execution.CPU, 2)(x))
    assert np.array_equal(CpuSynthesis.from_module(model.g_s).run(y, threads=2),
                          eng.transform("g_s", jpegai_fast.runtime.execution.CPU, 2)(y))
    z = CpuHyperAnalysis.from_module(model.h_a).run(y, threads=2)
    assert np.array_equal(z, eng.transform("h_a", jpegai_fast.runtime.execution.CPU, 2)(y))
    with torch.no_grad():
        z_torch = model.h_a(torch.from_numpy(y)[None])[0].numpy()
    assert np.allclose(z, z_torch, rtol=1e-4, atol=1e-4)


def test_unbuilt_source_tree_import_says_what_to_do(tmp_path):
    import shutil
    from pathlib import Path
    src = Path(jpegai_fast.__file__).resolve().parent
    copy = tmp_path / "jpegai_fast"
    shutil.copytree(src, copy, ignore=shutil.ignore_patterns("_core*", "__pycache__", "weights", "data"))
    # -S: no site packages, so neither an installed nor an editable jpegai_fast shadows the copy
    out = subprocess.run([sys.executable, "-S", "-c", "import jpegai_fast"], cwd=tmp_path, capture_output=True, text=True)
    assert out.returncode != 0
    assert "compiled core" in out.stderr and "pip install ." in out.stderr
