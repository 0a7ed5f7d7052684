"""Progressive prefixes a user can ask for: info()["layer_ends"], decode of a prefix, decode --layers."""
import warnings

import numpy as np
import pytest
from click.testing import CliRunner

import jpegai_fast
from jpegai_fast.cli import main
from jpegai_fast.files.images import read_image_file

from helpers import natural_like


@pytest.fixture(scope="module")
def layered():
    return jpegai_fast.encode(natural_like(64, 96, seed=7), quality=75, layers=4)


def test_layer_ends_are_the_prefixes_encode_iter_yields(layered):
    ends = jpegai_fast.info(layered)["layer_ends"]
    chunks = list(jpegai_fast.encode_iter(natural_like(64, 96, seed=7), quality=75, layers=4))
    assert ends == list(np.cumsum([len(c) for c in chunks])) and ends[-1] == len(layered)
    assert all(a < b for a, b in zip(ends, ends[1:]))


def test_every_prefix_decodes_without_a_warning_and_a_cut_inside_a_layer_warns(layered):
    ends = jpegai_fast.info(layered)["layer_ends"]
    for k, end in enumerate(ends):
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            assert jpegai_fast.decode(layered[:end]).shape == (64, 96, 3)
        assert jpegai_fast.info(layered[:end])["layers_complete"] == [i <= k for i in range(4)]
    with pytest.warns(RuntimeWarning, match="complete layers"):
        jpegai_fast.decode(layered[:ends[1] + 3])


def test_cli_decode_layers(tmp_path, layered):
    (tmp_path / "a.jai").write_bytes(layered)
    ends = jpegai_fast.info(layered)["layer_ends"]
    r = CliRunner().invoke(main, ["decode", str(tmp_path / "a.jai"), str(tmp_path / "two.png"), "--layers", "2",
                                  "--quiet"])
    assert r.exit_code == 0, r.output
    got = read_image_file((tmp_path / "two.png").read_bytes()).pixels
    assert np.array_equal(got, jpegai_fast.decode(layered[:ends[1]]))
    r = CliRunner().invoke(main, ["decode", str(tmp_path / "a.jai"), str(tmp_path / "x.png"), "--layers", "5"])
    assert r.exit_code == 1 and "has 4 layer(s)" in r.output
