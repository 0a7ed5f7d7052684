"""Tiles, region decode and progressive layers (docs/format.md)."""
import os
import subprocess
import sys
import tempfile
import warnings

import numpy as np
import pytest
import jpegai_fast
from jpegai_fast import DecodeError, pixels
from jpegai_fast.format import container
from jpegai_fast.format import tiling
from jpegai_fast.encoder import analysis
from jpegai_fast.format.container import Kind, Substream
from jpegai_fast.api import decode_latent, layer_chunks

from jpegai_fast.runtime.execution import CPU
from helpers import natural_like, psnr


@pytest.fixture(scope="module")
def img():
    return natural_like(200, 296, seed=3)     # latent 16 x 20: tile_size 8 gives 2 x 3 tiles, uneven


@pytest.fixture(scope="module")
def tiled(img):
    return jpegai_fast.encode(img, quality=60, tile_size=8)


@pytest.fixture(scope="module")
def tiled_decoded(tiled):
    return jpegai_fast.decode(tiled)


@pytest.fixture(scope="module")
def layered_chunks(img):
    return list(jpegai_fast.encode_iter(img, quality=70, tile_size=8, layers=4))


@pytest.fixture(scope="module")
def layered(layered_chunks):
    return b"".join(layered_chunks)


def test_tiled_synthesis_equals_whole_image_synthesis(tiled, tiled_decoded, img):
    assert jpegai_fast.info(tiled)["tiles"] == 6
    out = tiled_decoded
    header, eng, y_hat = decode_latent(tiled)
    # the stream's own synthesis (the integer one from format version 7), untiled: the halo makes the tiles
    # exact, so the pixels are equal (against the float synthesis a pixel may round up to 2 levels apart)
    whole = eng.synthesis(header.version, CPU, 2)(y_hat)[:, :img.shape[0], :img.shape[1]]
    np.testing.assert_array_equal(pixels.from_model_output(whole, 3, 8), out)
    assert psnr(img, out) > 15


def test_tiled_analysis_equals_whole_image_analysis(img):
    eng = jpegai_fast.api.get_engine()
    grid = tiling.make_grid(*eng.latent_shape(*img.shape[:2]), 8)
    whole = eng.analyse(pixels.pad_to_multiple(pixels.to_model_input(img, 8), 64), CPU)[0]
    stitched = np.zeros_like(whole)
    for i in range(grid.count):
        y0, y1, x0, x1 = grid.rect(i)
        stitched[:, y0:y1, x0:x1] = analysis.analyse_tile(eng.transform("g_a", CPU, 2), img, 8, grid, i, eng.analysis_halo)
    assert np.abs(stitched - whole).max() <= 1e-4 * max(1.0, np.abs(whole).max())


def test_halo_too_small_is_detectable(img):
    """The check above can fail: without a halo the tile borders differ visibly."""
    eng = jpegai_fast.api.get_engine()
    grid = tiling.make_grid(*eng.latent_shape(*img.shape[:2]), 8)
    whole = eng.analyse(pixels.pad_to_multiple(pixels.to_model_input(img, 8), 64), CPU)[0]
    y = analysis.analyse_tile(eng.transform("g_a", CPU, 2), img, 8, grid, 4, 0)
    y0, y1, x0, x1 = grid.rect(4)
    assert np.abs(y - whole[:, y0:y1, x0:x1]).max() > 1e-3


@pytest.mark.parametrize("region", [(0, 0, 1, 1), (37, 61, 90, 70), (150, 100, 146, 100), (0, 0, 296, 200)])
def test_region_decode_equals_crop(tiled, tiled_decoded, region):
    full = tiled_decoded
    x, y, w, h = region
    part = jpegai_fast.decode(tiled, region=region)
    assert part.shape == (h, w, 3)
    assert np.abs(part.astype(int) - full[y:y + h, x:x + w]).max() <= 1


@pytest.mark.parametrize("bad", [(0, 0, 0, 5), (-1, 0, 5, 5), (280, 0, 40, 5), (0, 0, 5), "all", (0.5, 0, 2, 2)])
def test_bad_region_raises(tiled, bad):
    with pytest.raises(ValueError):
        jpegai_fast.decode(tiled, region=bad)


def test_tiled_bytes_independent_of_threads(img, tiled):
    assert jpegai_fast.encode(img, quality=60, tile_size=8, threads=1) == tiled   # fixture: all cores
    np.testing.assert_array_equal(decode_latent(tiled, threads=1)[2], decode_latent(tiled, threads=2)[2])


def test_rate_control_with_tiles(img):
    px = img.shape[0] * img.shape[1]
    lo, hi = (8 * len(jpegai_fast.encode(img, quality=q, tile_size=8)) / px for q in (0, 100))
    target = (lo * hi) ** 0.5
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        data = jpegai_fast.encode(img, bpp=target, tile_size=8)
    assert 0.9 * target <= 8 * len(data) / px <= target


def test_every_layer_prefix_decodes_and_improves(img, layered_chunks):
    chunks = layered_chunks
    assert len(chunks) == 4 and layer_chunks(b"".join(chunks)) == chunks
    scores = []
    for k in range(1, 5):
        prefix = b"".join(chunks[:k])
        meta = jpegai_fast.info(prefix)
        assert meta["layers_complete"] == [i < k for i in range(4)]
        with warnings.catch_warnings():
            warnings.simplefilter("error")        # a clean layer boundary decodes silently
            scores.append(psnr(img, jpegai_fast.decode(prefix)))
    assert all(b >= a for a, b in zip(scores, scores[1:])), scores
    assert scores[-1] > scores[0] + 1.0


def test_layered_stream_is_deterministic_and_its_layers_nest(img, layered):
    """Every layer refines the one below by a third of its step (format/progressive.py): the latent
    error shrinks layer by layer, and each prefix's latent lies within its own half step of y."""
    from jpegai_fast.api import decode_latent
    assert jpegai_fast.encode(img, quality=70, tile_size=8, layers=4, threads=2) == layered
    errors = []
    for end in jpegai_fast.info(layered)["layer_ends"]:
        errors.append(np.abs(decode_latent(layered[:end], threads=1)[2] - decode_latent(layered, threads=1)[2]).max())
    assert errors[-1] == 0 and all(a > b for a, b in zip(errors, errors[1:])), errors


def test_mid_layer_truncation_warns_and_decodes_complete_layers(layered):
    chunks = layer_chunks(layered)
    two = b"".join(chunks[:2])
    cut = layered[:len(two) + len(chunks[2]) // 2]
    with pytest.warns(RuntimeWarning, match="inside layer"):
        out = jpegai_fast.decode(cut)
    np.testing.assert_array_equal(out, jpegai_fast.decode(two))


def test_truncation_inside_layer0_raises(layered):
    first = layer_chunks(layered)[0]
    for cut in (len(first) - 1, len(first) // 2 + 20):
        with pytest.raises(DecodeError):
            jpegai_fast.decode(layered[:cut])


def test_bad_knobs():
    im = natural_like(64, 64)
    for kwargs in ({"tile_size": 6}, {"tile_size": 0}, {"tile_size": 2.0}, {"layers": 0}, {"layers": 1000}):
        with pytest.raises(ValueError):
            jpegai_fast.encode(im, **kwargs)


def _rewrite(data, edit):
    h = container.read(data)
    payloads = [data[s.offset:s.offset + s.length] for s in h.substreams]
    subs = [(Substream(s.kind, s.tile, s.layer, 0, 0), p) for s, p in zip(h.substreams, payloads)]
    subs = edit(subs)
    h.substreams = [s for s, _ in subs]
    return container.write(h, [p for _, p in subs])


@pytest.mark.parametrize("edit,match", [
    (lambda s: s + [s[-1]], "duplicate"),
    (lambda s: s[:-1], "missing"),
    (lambda s: s[:3] + s[4:], "missing"),
    (lambda s: [s[1], s[0]] + s[2:], "order"),
    (lambda s: s[:-1] + [(Substream(Kind.Y, 999, s[-1][0].layer, 0, 0), s[-1][1])], "tile index"),
    (lambda s: s[:2] + [(Substream(Kind.Y, 2, 0, 0, 0), s[2][1])] + s[3:], "order|duplicate"),
])
def test_hostile_tile_tables_raise(layered, edit, match):
    with pytest.raises(DecodeError, match=match):
        jpegai_fast.decode(_rewrite(layered, edit))


def test_hostile_swapped_tile_payloads_raise_or_decode_cleanly(tiled):
    """Payloads of two tiles swapped (CRCs rewritten): a clean error, or an image of the right shape."""
    def swap(s):
        s = list(s)
        s[1], s[3] = (s[1][0], s[3][1]), (s[3][0], s[1][1])
        return s
    bad = _rewrite(tiled, swap)
    try:
        out = jpegai_fast.decode(bad)
    except DecodeError:
        return
    assert out.shape == (200, 296, 3)


MEMORY_SCRIPT = r"""
import sys, numpy as np, torch, jpegai_fast
def peak_kb():  # VmHWM: this process's own high-water mark (ru_maxrss keeps the forking parent's)
    return int(next(l for l in open("/proc/self/status") if l.startswith("VmHWM")).split()[1])
torch.set_num_threads(1)
rng = np.random.default_rng(0)
img = np.repeat(np.repeat(rng.integers(0, 256, (32, 64, 3), dtype=np.uint8), 16, 0), 16, 1)  # 512 x 1024
jpegai_fast.encode(img[:64, :64], quality=0)               # warm-up: weights, tables, thread pools
before = peak_kb()
jpegai_fast.decode(jpegai_fast.encode(img, quality=0, tile_size=int(sys.argv[1]), threads=1), threads=1)
print((peak_kb() - before) // 1024)
"""


def _peak_growth_mb(*tile_sizes: int) -> list[int]:
    """Run the script once per tile size, concurrently (each measures its own process)."""
    # a clean environment (earlier tests may have set SIMD or thread variables) and the package
    # this process imports, run outside the source tree
    env = {"PATH": os.environ.get("PATH", ""), "HOME": os.environ.get("HOME", "/tmp"), "OMP_NUM_THREADS": "1",
           "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)}
    runs = [subprocess.Popen([sys.executable, "-c", MEMORY_SCRIPT, str(t)], env=env, stdout=subprocess.PIPE,
                             text=True, cwd=tempfile.gettempdir()) for t in tile_sizes]
    outs = [r.communicate()[0] for r in runs]
    assert all(r.returncode == 0 for r in runs)
    return [int(o.split()[-1]) for o in outs]


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc/self/status")
def test_peak_memory_is_bounded_by_tile_size():
    """Encode + decode of 1024 x 512 with 256-px tiles grows peak RSS by well under one tile of 1024 px.

    Measured on the provisional weights: 75 MB tiled vs 143 MB untiled; the transforms' activations
    (64 channels at half resolution, several alive at once) dominate and scale with the tile.
    """
    tiled, whole = _peak_growth_mb(16, 64)
    assert tiled < 0.75 * whole, (tiled, whole)


def test_a_version_4_layered_stream_names_the_release_that_reads_it():
    import zlib
    subs = [Substream(Kind.Z, 0, 0, 0, 0), Substream(Kind.Y, 0, 0, 0, 0), Substream(Kind.Y, 0, 1, 0, 0)]
    h = container.Header(100, 50, 3, 8, b"\x01" * 8, 300, num_layers=2, substreams=subs)
    data = container.write(h, [b"z", b"y0", b"y1"])
    assert container.read(data).num_layers == 2
    crc_at = container.read(data).substreams[0].offset - 4
    old = data[:3] + bytes([4]) + data[4:crc_at]
    old += zlib.crc32(old).to_bytes(4, "little") + data[crc_at + 4:]
    with pytest.raises(DecodeError, match="version 4.*refinement layers.*jpegai_fast 0.1.0"):
        container.read(old)
    with pytest.raises(ValueError, match="num_layers"):
        h.num_layers = container.MAX_LAYERS + 1
        container.write(h, [b"z", b"y0", b"y1"])


@pytest.mark.parametrize("channels,bd", [(1, 8), (3, 12)])
def test_grey_and_high_bit_depth_tiles(channels, bd):
    im = natural_like(64, 136, channels, seed=5).astype(np.uint16) << (bd - 8) if bd > 8 \
        else natural_like(64, 136, channels, seed=5)
    data = jpegai_fast.encode(im, quality=80, tile_size=4, bit_depth=bd if bd > 8 else None, layers=2)
    assert jpegai_fast.info(data)["tiles"] == 3
    out = jpegai_fast.decode(data)
    assert out.shape == im.shape and out.dtype == im.dtype
    part = jpegai_fast.decode(data, region=(70, 10, 50, 40))
    assert np.abs(part.astype(int) - out[10:50, 70:120]).max() <= 1
