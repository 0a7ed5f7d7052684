"""Decoded PNGs: a fast zlib level by default (the CLI's decode time is mostly PNG writing), the
smallest file on request (--smallest); the pixels are the same either way."""
import numpy as np
from click.testing import CliRunner

import jpegai_fast
from jpegai_fast.cli import main
from jpegai_fast.files.images import read_image_file

from helpers import natural_like


def test_png_is_written_fast_by_default_and_smallest_on_request(tmp_path):
    from jpegai_fast.files.convert import decode_to_file
    img = natural_like(96, 128, seed=5)
    data = jpegai_fast.encode(img, quality=90)
    fast, pixels = decode_to_file(data, ".png")
    small, _ = decode_to_file(data, ".png", smallest=True)
    assert len(small) < len(fast)                                  # zlib 9 against zlib 1
    for blob in (fast, small):
        assert np.array_equal(read_image_file(blob).pixels, pixels)
    r = CliRunner().invoke(main, ["decode", "-", str(tmp_path / "s.png"), "--smallest", "--quiet"], input=data)
    assert r.exit_code == 0, r.output
    assert (tmp_path / "s.png").read_bytes() == small
