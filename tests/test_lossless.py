"""Lossless mode (issue 32, phase 1): exact round trips of every layout and depth, the options' rules,
info(), metadata and orientation, regions, and the colour transform on its own."""
import io
import zlib

import numpy as np
import pytest

import jpegai_fast
from jpegai_fast.encoder import lossless as lossless_encoder
from jpegai_fast.encoder.pipeline import Picture
from jpegai_fast.api import decode_latent
from jpegai_fast.encoder.options import EncodeOptions
from jpegai_fast.format import container, lossless
from jpegai_fast.format.container import ColourTransform, Kind

from helpers import natural_like

LAYOUTS = {"grey": (), "grey+alpha": (2,), "rgb": (3,), "rgba": (4,)}


def _image(h, w, layout, bit_depth, seed=0):
    """Random samples over the whole range of ``bit_depth`` (the hardest case for the coder's wrap-around)."""
    rng = np.random.default_rng(seed)
    dtype = np.uint8 if bit_depth == 8 else np.uint16
    return rng.integers(0, 1 << bit_depth, size=(h, w) + LAYOUTS[layout], dtype=np.int64).astype(dtype)


def _round_trip(img, bit_depth, **kw):
    data = jpegai_fast.encode(img, lossless=True, bit_depth=None if bit_depth == 8 else bit_depth, **kw)
    out = jpegai_fast.decode(data)
    assert out.dtype == img.dtype and out.shape == img.shape
    np.testing.assert_array_equal(out, img)
    return data


@pytest.mark.parametrize("layout", sorted(LAYOUTS))
@pytest.mark.parametrize("bit_depth", [8, 9, 10, 12, 15, 16])
@pytest.mark.parametrize("size", [(1, 1), (3, 5), (17, 9)])
def test_every_layout_depth_and_odd_size_round_trips_exactly(layout, bit_depth, size):
    _round_trip(_image(*size, layout, bit_depth, seed=bit_depth), bit_depth)


def test_a_16_bit_image_using_all_16_bits_round_trips():
    img = _image(40, 33, "rgb", 16)
    img[0, 0] = (0, 65535, 65535)                      # R - G wraps, B - G = 0 at the top of the range
    img[0, 1] = (65535, 0, 1)
    assert img.max() == 65535 and img.min() == 0
    _round_trip(img, 16)


def test_a_photo_like_image_codes_well_below_raw_and_the_bytes_do_not_depend_on_threads():
    img = natural_like(96, 80)
    one = _round_trip(img, 8, threads=1)
    assert jpegai_fast.encode(img, lossless=True, threads=2) == one
    # channels drawn independently with noise: the prediction still beats zlib by a wide margin
    assert len(one) < 0.85 * len(zlib.compress(img.tobytes(), 9))


def test_rgba_alpha_extremes_and_constant_planes():
    img = np.zeros((8, 8, 4), np.uint8)
    img[..., 3] = 255
    _round_trip(img, 8)
    img[2:5, 3:6] = (255, 0, 128, 0)
    _round_trip(img, 8)


def test_info_reports_lossless_and_the_stream_layout():
    img = _image(10, 12, "rgba", 10)
    meta = jpegai_fast.info(_round_trip(img, 10))
    assert meta["lossless"] is True and meta["model_id"] == "00" * 8 and meta["rate"] == 0.0
    assert (meta["width"], meta["height"], meta["channels"], meta["bit_depth"]) == (12, 10, 4, 10)
    assert [(s["kind"], s["tile"]) for s in meta["substreams"]] == [(Kind.ALPHA, 0), (Kind.PLANE, 0),
                                                                     (Kind.PLANE, 1), (Kind.PLANE, 2)]
    lossy = jpegai_fast.encode(natural_like(32, 32), quality=30)
    assert jpegai_fast.info(lossy)["lossless"] is False


def test_metadata_and_orientation_are_kept():
    img = natural_like(20, 24)
    meta_in = {"icc": b"\x00" * 132 + b"icc", "xmp": b"<x:xmpmeta/>", "orientation": 6}
    data = jpegai_fast.encode(img, lossless=True, metadata=meta_in)
    out, meta = jpegai_fast.decode(data, with_metadata=True)
    np.testing.assert_array_equal(out, img)
    assert meta["icc"] == meta_in["icc"] and meta["xmp"] == meta_in["xmp"] and meta["exif"] is None
    assert meta["orientation"] == 6 and jpegai_fast.info(data)["orientation"] == 6


def test_region_is_the_crop_of_the_full_decode():
    img = _image(30, 20, "rgba", 8)
    data = jpegai_fast.encode(img, lossless=True)
    np.testing.assert_array_equal(jpegai_fast.decode(data, region=(3, 4, 10, 7)), img[4:11, 3:13])
    with pytest.raises(ValueError, match="region"):
        jpegai_fast.decode(data, region=(15, 0, 10, 5))


@pytest.mark.parametrize("option", [{"bpp": 1.0}, {"quality": 50}, {"psnr": 40}, {"size": 1000},
                                    {"effort": 3}, {"alpha_bits": 4}])
def test_options_that_conflict_with_lossless_are_a_value_error_naming_them(option):
    # (layers >= 2 is the progressive-to-lossless stream: tests/test_progressive_lossless.py)
    name = next(iter(option))
    with pytest.raises(ValueError, match=f"lossless.*{name}="):
        EncodeOptions.from_user(lossless=True, **option)
    with pytest.raises(ValueError, match=f"{name}="):
        jpegai_fast.encode(natural_like(8, 8), lossless=True, **option)
    EncodeOptions.from_user(lossless=False, **option)          # the same option alone is fine


@pytest.mark.parametrize("value", [1, 0, "yes", 1.0])
def test_lossless_must_be_a_bool(value):
    with pytest.raises(ValueError, match="lossless must be a bool"):
        EncodeOptions.from_user(lossless=value)


def test_lossless_accepts_numpy_bools_and_model_is_refused():
    assert EncodeOptions.from_user(lossless=np.bool_(True)).lossless is True
    with pytest.raises(ValueError, match="model="):
        jpegai_fast.encode(natural_like(8, 8), lossless=True, model="light")


def test_decode_latent_refuses_a_lossless_stream():
    data = jpegai_fast.encode(natural_like(8, 8), lossless=True)
    with pytest.raises(ValueError, match="no latent"):
        decode_latent(data)


def test_header_fields_of_a_lossless_stream():
    h = container.read(jpegai_fast.encode(_image(5, 3, "grey", 12), lossless=True, bit_depth=12))
    assert h.colour_transform == ColourTransform.LOSSLESS_SUBTRACT_GREEN
    assert (h.model_id, h.rate_q, h.tile_size, h.num_layers) == (container.NO_MODEL_ID, 0, 0, 1)
    assert [(s.kind, s.tile) for s in h.substreams] == [(Kind.PLANE, 0)]


def test_a_large_lossless_image_needs_no_tile_size_rule():
    """The lossy rule "one tile only up to 4096 px" does not apply: the planes may be whole (tile size 0, as
    every stream before tiles), and by default they are cut into tiles."""
    img = np.tile(np.arange(4200, dtype=np.uint8)[None, :], (2, 1))
    _round_trip(img, 8)
    assert container.read(jpegai_fast.encode(img, lossless=True)).tile_size == lossless_encoder.TILE_SIZE
    whole = lossless_encoder.encode(Picture(img, 8, {}), 1, tile_size=1024)
    assert container.read(whole).tile_size == 0
    np.testing.assert_array_equal(jpegai_fast.decode(whole), img)


@pytest.mark.parametrize("transform", sorted(set(lossless.PLANES) - set(ColourTransform.NEAR_DIFFERENCES)))
@pytest.mark.parametrize("bit_depth", [8, 11, 16])
def test_every_colour_transform_is_exactly_inverted(transform, bit_depth):
    img = _image(6, 7, "rgb", bit_depth)
    top = (1 << bit_depth) - 1
    img[0, :4] = [(top, 0, top), (0, top, 0), (top, top, 0), (0, 0, top)]     # every wrap-around
    planes = lossless.forward(img, bit_depth, transform)
    assert all(p.dtype == np.uint16 and int(p.max()) <= top for p in planes)
    np.testing.assert_array_equal(lossless.inverse(planes, bit_depth, transform), img)


@pytest.mark.parametrize("transform", ColourTransform.NEAR_DIFFERENCES)
@pytest.mark.parametrize("bit_depth", [8, 11, 15])
def test_near_lossless_differences_invert_and_keep_the_bound(transform, bit_depth):
    """Planes 1, 2 = R - G' and B - prediction(R', G') + 2^b - 1 in b + 1 bits: exact when nothing errs;
    with every plane off by up to N as the coder leaves it (clamped to its bits) and each difference taken
    against the decoded planes as the encoder does, R, G and B still err by at most N."""
    img = _image(6, 7, "rgb", bit_depth)
    top = (1 << bit_depth) - 1
    img[0, :4] = [(top, 0, top), (0, top, 0), (top, top, 0), (0, 0, top)]
    r, g, b = (img[..., i].astype(np.uint16) for i in range(3))
    exact = [g, lossless.near_residual(r, g, bit_depth), lossless.near_residual(b, lossless.b_prediction(transform, r, g), bit_depth)]
    assert all(int(p.max()) < 1 << lossless.plane_bits(transform, i, bit_depth) for i, p in enumerate(exact))
    assert [lossless.plane_bits(transform, i, bit_depth) for i in range(3)] == [bit_depth] + [bit_depth + 1] * 2
    np.testing.assert_array_equal(lossless.inverse(exact, bit_depth, transform), img)
    rng = np.random.default_rng(bit_depth)
    near = 3

    def coded(plane, bits):   # the coder's output: within N, clamped to its bits
        return np.clip(plane.astype(np.int64) + rng.integers(-near, near + 1, plane.shape), 0, (1 << bits) - 1).astype(np.uint16)

    g2 = coded(g, bit_depth)
    d_r = coded(lossless.near_residual(r, g2, bit_depth), bit_depth + 1)
    r2 = lossless.near_unresidual(d_r, g2, bit_depth)
    d_b = coded(lossless.near_residual(b, lossless.b_prediction(transform, r2, g2), bit_depth), bit_depth + 1)
    out = lossless.inverse([g2, d_r, d_b], bit_depth, transform).astype(np.int64)
    assert np.abs(out - img).max() <= near


def test_the_planes_are_the_documented_differences():
    img = _image(5, 9, "rgb", 10).astype(np.int64)
    d = lossless.derived(img, 10)
    r, g, b = img[..., 0], img[..., 1], img[..., 2]
    for name, want in {"G": g, "R-G": r - g, "B-G": b - g, "B-mean(R,G)": b - (r + g) // 2, "R-B": r - b}.items():
        np.testing.assert_array_equal(d[name], want % 1024, err_msg=name)


@pytest.mark.parametrize("transform,make_b", [
    (ColourTransform.LOSSLESS_SUBTRACT_GREEN, lambda r, g: g),
    (ColourTransform.LOSSLESS_B_MINUS_MEAN, lambda r, g: (r.astype(np.int64) + g) // 2),
    (ColourTransform.LOSSLESS_R_MINUS_B, lambda r, g: r)])
def test_the_encoder_keeps_the_transform_whose_planes_code_smallest(transform, make_b):
    """B equal to G, to the mean of R and G, or to R: that transform's last plane is all zeros."""
    rng = np.random.default_rng(5)
    r, g = (rng.integers(0, 256, (48, 40)) for _ in range(2))
    img = np.dstack([r, g, make_b(r, g)]).astype(np.uint8)
    data = _round_trip(img, 8)
    assert container.read(data).colour_transform == transform


def test_pillow_plugin_saves_lossless():
    from PIL import Image
    import jpegai_fast.pillow  # noqa: F401 - registers the plugin
    img = _image(9, 11, "rgba", 8)
    buf = io.BytesIO()
    Image.fromarray(img, "RGBA").save(buf, format="JAI", lossless=True)
    assert jpegai_fast.info(buf.getvalue())["lossless"] is True
    np.testing.assert_array_equal(jpegai_fast.decode(buf.getvalue()), img)
    buf.seek(0)
    np.testing.assert_array_equal(np.asarray(Image.open(buf)), img)        # and the plugin reads it back
