"""In the plain install (no torch, scipy, eval codecs or Dask) every documented command works or ends in
one line that names the extra to install (extras.py), and a local-folder batch needs no extra."""
import subprocess
import sys
import textwrap

import pytest

from jpegai_fast.files.images import write_image
from jpegai_fast.extras import EXTRA_OF_MODULE, missing_extra

from helpers import natural_like

#: makes every optional module missing, as in a fresh `pip install .` (None in sys.modules: import raises
#: ModuleNotFoundError naming the module, importlib.util.find_spec returns None)
PLAIN = textwrap.dedent(f'''
    import sys
    for name in {sorted(EXTRA_OF_MODULE)!r}:
        sys.modules[name] = None
    from jpegai_fast.cli import main
    main(sys.argv[1:], prog_name="jpegai-fast")
''')


def _cli(*args, cwd):
    return subprocess.run([sys.executable, "-P", "-c", PLAIN, *map(str, args)], capture_output=True, text=True,
                          timeout=180, cwd=cwd)


@pytest.mark.parametrize("args, extra", [
    (["eval", "--list"], "eval"),
    (["profile"], "torch"),
    (["encode", "in.png", "out.jai", "-e", "5"], "torch"),
])
def test_a_command_that_needs_an_extra_names_it_in_one_line(tmp_path, args, extra):
    write_image(tmp_path / "in.png", natural_like(32, 48))
    r = _cli(*args, cwd=tmp_path)
    assert r.returncode == 1, r.stderr
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in r.stderr, r.stderr
    assert f'pip install "jpegai_fast[{extra}]"' in lines[0]
    assert not (tmp_path / "out.jai").exists()


def test_a_local_folder_batch_needs_no_extra(tmp_path):
    (tmp_path / "photos").mkdir()
    write_image(tmp_path / "photos" / "a.png", natural_like(32, 48))
    r = _cli("batch", "encode", "photos", "-o", "out", "--workers", "0", "--quiet", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert (tmp_path / "out" / "a.jai").exists()


def test_missing_extra_ignores_other_import_errors():
    assert missing_extra(ModuleNotFoundError("x", name="numpy"), "f") is None
    assert missing_extra(ImportError("x"), "f") is None
    assert "jpegai_fast[batch]" in missing_extra(ModuleNotFoundError("x", name="distributed.client"), "f")


def test_a_warning_is_one_line(tmp_path):
    import numpy as np
    import tifffile
    img = natural_like(24, 32)
    tifffile.imwrite(tmp_path / "two.tif", np.stack([img, img]), photometric="rgb")       # a multi-page TIFF
    r = subprocess.run([sys.executable, "-P", "-m", "jpegai_fast", "encode", "two.tif", "two.jai", "--quiet"],
                       capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert r.stderr.strip().splitlines() == ["warning: two.tif: a multi-page TIFF; coding its first page"]
