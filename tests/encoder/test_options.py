"""One bounds table for encode options (encoder/options.py), the same through the API, the CLI and the plugin."""
import io
import sys

import numpy as np
import pytest
from click.testing import CliRunner
from PIL import Image

import jpegai_fast
import jpegai_fast.pillow  # noqa: F401  (registers the format)
from helpers import natural_like

NUMERIC = {"bpp": 0.5, "quality": 40, "psnr": 24.0, "size": 400, "effort": 1, "tile_size": 8, "layers": 2, "alpha_bits": 7}
HOSTILE = [10 ** 400, -10 ** 400, float("nan"), float("inf"), -float("inf"), True, False, np.True_, "3", None.__class__,
           np.float64("nan")]


@pytest.fixture(scope="module")
def rgba():
    return np.dstack([natural_like(40, 56, seed=5), np.full((40, 56), 200, np.uint8)])


@pytest.mark.parametrize("name", sorted(NUMERIC))
@pytest.mark.parametrize("bad", HOSTILE, ids=lambda v: repr(v)[:12])
def test_hostile_values_are_one_value_error_naming_the_option(rgba, name, bad):
    with pytest.raises(ValueError, match=name) as e:
        jpegai_fast.encode(rgba, **{name: bad})
    assert "must be" in str(e.value)                 # "... must be <its range>, got ..."


@pytest.mark.parametrize("name", sorted(NUMERIC))
def test_numpy_scalars_work_wherever_python_numbers_do(rgba, name):
    value = NUMERIC[name]
    want = jpegai_fast.encode(rgba, **{name: value})
    as_numpy = (np.int64 if isinstance(value, int) else np.float64)(value)
    assert jpegai_fast.encode(rgba, **{name: as_numpy}) == want
    if name in ("bpp", "quality"):
        assert jpegai_fast.encode(rgba, **{name: np.float32(value)}) == want
        assert jpegai_fast.encode(rgba, **{name: np.int16(value * 10) / 10}) == want


def test_numpy_bit_depth_and_bools_refused_for_it():
    deep = natural_like(32, 32, channels=1, seed=2).astype(np.uint16) << 2
    assert jpegai_fast.encode(deep, bit_depth=np.int32(10)) == jpegai_fast.encode(deep, bit_depth=10)
    with pytest.raises(ValueError, match="bit_depth"):
        jpegai_fast.encode(deep, bit_depth=True)


def test_the_table_bounds_layers_and_narrows_alpha_bits_with_the_same_rule(rgba):
    from jpegai_fast.encoder.options import EncodeOptions
    with pytest.raises(ValueError, match=r"layers must be an int in 1\.\.8, got 60"):
        jpegai_fast.encode(rgba, layers=60)
    with pytest.raises(ValueError, match=r"alpha_bits must be an int in 1\.\.8"):
        jpegai_fast.encode(rgba, alpha_bits=9)
    with pytest.raises(ValueError, match="unknown encode options"):
        EncodeOptions.from_user(qualty=3)
    opts = EncodeOptions.from_user(quality=np.float32(30), effort=None, tile_size=np.uint8(8))
    assert opts.kwargs()["quality"] == 30.0 and type(opts.kwargs()["tile_size"]) is int
    assert jpegai_fast.encode(rgba, **opts.kwargs()) == jpegai_fast.encode(rgba, quality=30, tile_size=8)


def test_effort_above_1_without_torch_names_the_extra(rgba, monkeypatch):
    monkeypatch.setitem(sys.modules, "torch", None)      # what `import torch` sees when torch is not installed
    with pytest.raises(ImportError, match=r'pip install "jpegai_fast\[torch\]"'):
        jpegai_fast.encode(rgba, quality=50, effort=2)
    assert jpegai_fast.encode(rgba, quality=50, effort=1)       # effort 1 never needs torch


@pytest.mark.parametrize("args", [["-q", "nan"], ["-q", "1e400"], ["--bpp", "inf"], ["--bpp", "0"], ["--psnr", "nan"], ["--size", "0"],
                                  ["--tile-size", "6"], ["--layers", "0"], ["--alpha-bits", "0"], ["-e", "10"],
                                  ["--bit-depth", "17"]])
def test_cli_refuses_out_of_table_values_as_usage_errors(tmp_path, args):
    from jpegai_fast.cli import main
    Image.fromarray(natural_like(32, 32, seed=1)).save(tmp_path / "in.png")
    r = CliRunner().invoke(main, ["encode", str(tmp_path / "in.png"), str(tmp_path / "o.jai"), *args])
    assert r.exit_code == 2, r.output
    assert args[0].lstrip("-") in r.output.replace("_", "-") or "quality" in r.output or "effort" in r.output
    assert not (tmp_path / "o.jai").exists()


def test_pillow_save_uses_the_same_table(rgba):
    im = Image.fromarray(rgba)
    for bad in ({"quality": 10 ** 400}, {"bpp": float("nan")}, {"effort": True}, {"tile_size": 6.0}):
        with pytest.raises(ValueError, match=next(iter(bad))):
            im.save(io.BytesIO(), format="JAI", **bad)
    buf = io.BytesIO()
    im.save(buf, format="JAI", quality=np.float32(30), tile_size=np.int64(8))
    assert buf.getvalue() == jpegai_fast.encode(rgba, quality=30, tile_size=8)


def test_checked_is_the_one_call_for_option_dicts(monkeypatch):
    from jpegai_fast.encoder.options import checked
    assert checked({"quality": np.float32(30), "effort": None, "layers": np.int8(2)}) == {"quality": 30.0, "layers": 2}
    with pytest.raises(ValueError, match="unknown encode options"):
        checked({"qualty": 3})
    with pytest.raises(ValueError, match="tile_size"):
        checked({"tile_size": 6})
    monkeypatch.setitem(sys.modules, "torch", None)
    with pytest.raises(ImportError, match="jpegai_fast"):
        checked({"effort": 3})
