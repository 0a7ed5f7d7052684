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


def psnr(a, b):
    return 10 * np.log10(255.0 ** 2 / np.mean((a.astype(np.float64) - b) ** 2))


def test_each_prefix_improves_and_the_whole_stream_matches_one_layer():
    """Refinement (format/progressive.py): PSNR rises with every layer, and the whole layered stream
    is as good as a single-layer stream of about its size (issue 31: within 0.25 dB)."""
    img = natural_like(128, 192, seed=3)
    data = jpegai_fast.encode(img, quality=75, layers=3)
    quality = [psnr(jpegai_fast.decode(data[:end]), img) for end in jpegai_fast.info(data)["layer_ends"]]
    assert all(a < b for a, b in zip(quality, quality[1:])), quality
    single = jpegai_fast.encode(img, quality=75)
    assert len(data) <= 1.1 * len(single)
    assert quality[-1] >= psnr(jpegai_fast.decode(single), img) - 0.25


def test_layers_combine_with_rate_control_regions_and_effort(layered):
    img = natural_like(64, 96, seed=7)
    sized = jpegai_fast.encode(img, bpp=0.8, layers=3)
    assert 0.9 * 0.8 <= 8 * len(sized) / img.shape[0] / img.shape[1] <= 0.8
    region = jpegai_fast.decode(layered, region=(16, 8, 40, 30))
    np.testing.assert_array_equal(region, jpegai_fast.decode(layered)[8:38, 16:56])
    pytest.importorskip("torch")
    assert len(jpegai_fast.info(jpegai_fast.encode(img, quality=60, layers=2, effort=2))["layer_ends"]) == 2


def test_a_garbage_refinement_payload_is_a_decode_error_naming_its_layer(layered):
    from jpegai_fast.format import container
    h = container.read(layered)
    payloads = [layered[s.offset:s.offset + s.length] for s in h.substreams]
    k = next(i for i, s in enumerate(h.substreams) if s.layer == 2)
    payloads[k] = bytes(len(payloads[k]))                      # CRC rewritten below: only the coder can tell
    bad = container.write(h, payloads)
    with pytest.raises(jpegai_fast.DecodeError, match="y layer 2"):
        jpegai_fast.decode(bad)


def test_no_layer_is_coarser_than_the_models_coarsest_rate():
    """useful_layers: 4 layers asked at low qualities give fewer (layer 0 would be below rate 0), and
    the stream is then no larger than a quarter more than the single-layer one."""
    img = natural_like(96, 128, seed=5)
    counts = [jpegai_fast.info(jpegai_fast.encode(img, quality=q, layers=4))["layers"] for q in (0, 15, 30, 75)]
    assert counts[0] == 1 and counts == sorted(counts) and counts[-1] == 4, counts
    low = jpegai_fast.encode(img, quality=15, layers=4)
    assert len(low) <= 1.25 * len(jpegai_fast.encode(img, quality=15))
