"""Conformance: the committed vectors in tests/golden/ (tests/golden/make_golden.py) decode exactly.

Made with a small fixed test model that ships under tests/golden, so they pin the decoder's
behaviour independently of the shipped weights: the y_hat latent (integer path, identical on every
machine) and the decoded pixels by SHA-256, and for each hostile stream the exact exception.
"""
import hashlib
import json
import warnings
from pathlib import Path

import numpy as np
import pytest

import jpegai_fast
from jpegai_fast.api import decode_latent
from jpegai_fast.format import container
from jpegai_fast.runtime import weights_file

GOLDEN = Path(__file__).resolve().parents[1] / "golden"
MANIFEST = json.loads((GOLDEN / "manifest.json").read_text())
ERRORS = json.loads((GOLDEN / "errors.json").read_text())


@pytest.fixture(autouse=True)
def test_model_on_search_path(monkeypatch):
    monkeypatch.setenv(weights_file.PATH_ENV, str(GOLDEN))


def sha(a) -> str:
    return hashlib.sha256(np.ascontiguousarray(a).tobytes()).hexdigest()


def test_vectors_cover_the_format():
    names = set(MANIFEST)
    assert {"grey8_1x1", "rgb8_1x1", "rgb10_64x129", "grey16_33x47", "rgba8_48x40",
            "rgb8_300x200_tiles4", "rgb8_300x200_tiles8_layers2", "rgb8_100x90_layers4",
            "rgb8_100x90_metadata", "v4_rgb8_100x90_q30", "v5_rgb8_100x90_q30", "v5_rgb8_100x90_layers4",
            "v5_rgb8_300x200_tiles8_layers2", "rgb8_160x200_tiles4_plane_tiles", "v6_rgb8_100x90_q30",
            "v6_rgb8_160x200_tiles4_plane_tiles", "v6_rgb8_300x200_tiles8_layers2"} <= names
    # version 4 and 6 vectors are twins of later ones in the latent (4: one byte; 6: the synthesis only)
    distinct = [m for m in MANIFEST.values() if m.get("version") not in (4, 6)]
    assert len({m["latent_sha256"] for m in distinct}) == len(distinct)   # no two alike
    for name, m in MANIFEST.items():   # the version byte each vector claims
        assert (GOLDEN / "streams" / f"{name}.jai").read_bytes()[3] == m.get("version", container.VERSION), name


def test_a_version_4_single_layer_stream_decodes_as_its_version_5_twin():
    old, new = MANIFEST["v4_rgb8_100x90_q30"], MANIFEST["v5_rgb8_100x90_q30"]
    assert (old["latent_sha256"], old["pixels_sha256"]) == (new["latent_sha256"], new["pixels_sha256"])


def test_version_6_changed_only_the_hyper_synthesis():
    """The same image and settings under version 5 (exact h_s) and 6 (int16 h_s): close, not equal."""
    _, _, y5 = decode_latent((GOLDEN / "streams" / "v5_rgb8_100x90_q30.jai").read_bytes(), threads=1)
    _, _, y6 = decode_latent((GOLDEN / "streams" / "v6_rgb8_100x90_q30.jai").read_bytes(), threads=1)
    assert y5.shape == y6.shape and not np.array_equal(y5, y6)
    # measured: 74 % of the values equal, the rest 1-2 Q12 units apart (mu moved by the int16 rounding)
    assert np.mean(y5 == y6) > 0.5 and np.abs(y5 - y6).max() <= 8 / 4096


@pytest.mark.parametrize("name", ["rgb8_100x90_q30", "rgb8_160x200_tiles4_plane_tiles", "rgb8_300x200_tiles8_layers2"])
def test_version_7_changed_only_the_synthesis(name):
    """Version 6 (float synthesis) and 7 (integer synthesis) of the same image and settings: the same latent
    and plane tiles, pixels a rounding apart (the integer one is the same on every machine)."""
    old, new = MANIFEST[f"v6_{name}"], MANIFEST[name]
    assert old["latent_sha256"] == new["latent_sha256"] and old["pixels_sha256"] != new["pixels_sha256"]
    a = jpegai_fast.decode((GOLDEN / "streams" / f"v6_{name}.jai").read_bytes(), threads=1).astype(int)
    b = jpegai_fast.decode((GOLDEN / "streams" / f"{name}.jai").read_bytes(), threads=1).astype(int)
    assert np.abs(a - b).max() <= 2 and np.mean(a == b) > 0.9


@pytest.mark.parametrize("name", sorted(MANIFEST))
def test_golden_stream_decodes_exactly(name):
    want = MANIFEST[name]
    data = (GOLDEN / "streams" / f"{name}.jai").read_bytes()
    assert len(data) == want["bytes"]
    _, _, y_hat = decode_latent(data, threads=2)
    assert sha(y_hat) == want["latent_sha256"]
    pix = jpegai_fast.decode(data, threads=2)
    assert list(pix.shape) == want["shape"] and str(pix.dtype) == want["dtype"]
    assert sha(pix) == want["pixels_sha256"]


@pytest.mark.parametrize("name", sorted(n for n, m in MANIFEST.items() if "version" not in m))
def test_current_vectors_decode_to_the_same_pixels_on_the_portable_kernels(name):
    """Version 7's integer synthesis: the pixel hashes hold with the SIMD kernels off (JPEGAI_NO_SIMD=1's
    kernels) and on one thread, as with them on and two (above)."""
    from jpegai_fast.core import cpu
    previous = cpu.set_isa("portable")
    try:
        pix = jpegai_fast.decode((GOLDEN / "streams" / f"{name}.jai").read_bytes(), threads=1)
    finally:
        cpu.set_isa(previous)
    assert sha(pix) == MANIFEST[name]["pixels_sha256"]


def test_golden_stream_needs_its_model(monkeypatch):
    monkeypatch.delenv(weights_file.PATH_ENV)
    with pytest.raises(jpegai_fast.DecodeError, match="does not have"):
        jpegai_fast.decode((GOLDEN / "streams" / "rgb8_1x1.jai").read_bytes())


def _mask(message: str) -> str:
    for d in weights_file.search_dirs():
        message = message.replace(str(d), "<weights dir>")
    return message


@pytest.mark.parametrize("name", sorted(ERRORS))
def test_golden_error_stream_raises_exactly(name):
    want = ERRORS[name]
    data = (GOLDEN / "errors" / f"{name}.jai").read_bytes()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        if want["raises"] is None:
            jpegai_fast.decode(data, threads=2)
        else:
            with pytest.raises(jpegai_fast.DecodeError) as err:
                jpegai_fast.decode(data, threads=2)
            assert type(err.value).__name__ == want["raises"]
            assert _mask(str(err.value)) == want["message"]
    assert [str(w.message) for w in caught] == want["warns"]
