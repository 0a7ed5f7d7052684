"""Progressive up to lossless (issue 32 item 2): ``encode(lossless=True, layers=L)`` puts the model's stream of
L - 1 layers first and the exact layer after it. Exact round trips of every layout and depth, every prefix
decoding as the base does, previews and regions, metadata, the options' rules, the CLI, and forged or damaged
streams (each a DecodeError, or the base with a warning where only the exact layer is hurt)."""
import warnings

import numpy as np
import pytest
from click.testing import CliRunner

import jpegai_fast
from jpegai_fast import DecodeError
from jpegai_fast.cli import main
from jpegai_fast.encoder import progressive_lossless
from jpegai_fast.encoder.options import EncodeOptions
from jpegai_fast.files.images import read_image, write_image
from jpegai_fast.format import container
from jpegai_fast.format.container import Kind
from jpegai_fast.format.progressive import layer_chunks

from helpers import natural_like

LAYOUTS = {"grey": 1, "grey+alpha": 2, "rgb": 3, "rgba": 4}


def _picture(h, w, layout, bit_depth=8, seed=0):
    """A photo-like picture in ``layout`` (alpha: a soft disc) at ``bit_depth``."""
    colour = natural_like(h, w, 1 if LAYOUTS[layout] <= 2 else 3, seed).astype(np.uint16)
    colour = colour * ((1 << bit_depth) - 1) // 255
    if LAYOUTS[layout] in (2, 4):
        yy, xx = np.mgrid[:h, :w]
        alpha = np.clip((min(h, w) / 2.5 - np.hypot(yy - h / 2, xx - w / 2)) * 40, 0, (1 << bit_depth) - 1)
        colour = np.dstack([colour, alpha.astype(np.uint16)])
    return colour.astype(np.uint8 if bit_depth == 8 else np.uint16)


def _encode(img, bit_depth=8, **kw):
    return jpegai_fast.encode(img, lossless=True, bit_depth=None if bit_depth == 8 else bit_depth, **kw)


def _base(data):
    """The learned stream the exact layer follows: its base substreams' bytes, in order."""
    h = container.read(data)
    return b"".join(data[s.offset:s.offset + s.length] for s in h.substreams if s.kind == Kind.BASE)


@pytest.mark.parametrize("layout", sorted(LAYOUTS))
@pytest.mark.parametrize("bit_depth", [8, 12, 16])
def test_every_layout_and_depth_decodes_exactly_and_its_prefix_is_the_base(layout, bit_depth):
    img = _picture(40, 56, layout, bit_depth)
    data = _encode(img, bit_depth, layers=2)
    out = jpegai_fast.decode(data)
    assert out.dtype == img.dtype and out.shape == img.shape
    np.testing.assert_array_equal(out, img)
    meta = jpegai_fast.info(data)
    assert meta["lossless"] and meta["layers"] == 2 and meta["layers_complete"] == [True, True]
    base = _base(data)
    b = container.read(base)
    assert meta["preview"] == {"model_id": b.model_id.hex(), "rate": b.rate_q / 256.0, "layers": 1, "bytes": len(base)}
    assert jpegai_fast.info(jpegai_fast.encode(img, lossless=True, bit_depth=None if bit_depth == 8 else bit_depth)
                            )["preview"] is None
    assert meta["layer_ends"][1] == len(data) and container.read(base).num_layers == 1
    with warnings.catch_warnings():
        warnings.simplefilter("error")                      # a cut at a layer end is a valid prefix: no warning
        preview = jpegai_fast.decode(data[:meta["layer_ends"][0]])
    np.testing.assert_array_equal(preview, jpegai_fast.decode(base))
    assert preview.shape == img.shape and not np.array_equal(preview, img)
    if LAYOUTS[layout] in (2, 4):
        np.testing.assert_array_equal(preview[..., -1], img[..., -1])     # the base's alpha is exact


def test_the_exact_layer_costs_the_plain_lossless_stream_and_the_base_alone():
    img = _picture(64, 96, "rgb")
    plain = _encode(img)
    for layers, quality in [(2, 60), (3, 70)]:
        data = _encode(img, layers=layers, quality=quality)
        base = _base(data)
        # the same planes as the plain stream's; besides the base, only its table entries and header bytes
        assert 0 <= len(data) - len(plain) - len(base) <= 12 * (layers - 1)
        assert container.read(base).num_layers == layers - 1
        assert container.read(base).rate_q == container.read(jpegai_fast.encode(img, quality=quality,
                                                                                   layers=layers - 1)).rate_q


def _drawn(h, w, seed=0):
    """Blocks of four colours: a few hundred bytes exact, far more for the model at quality 30."""
    cells = np.random.default_rng(seed).integers(0, 4, (h // 4, w // 4))
    return (np.kron(cells, np.ones((4, 4), int))[..., None] * np.array([60, 30, 80]) + 10).astype(np.uint8)


@pytest.mark.parametrize("picture", ["photo", "large photo", "drawn"])
def test_the_default_preview_is_quality_30_held_to_a_share_of_the_exact_layer(picture):
    img = {"photo": lambda: _picture(64, 96, "rgb", seed=3), "large photo": lambda: _picture(256, 384, "rgb", seed=3),
           "drawn": lambda: _drawn(128, 192)}[picture]()
    exact = len(_encode(img))
    with warnings.catch_warnings():
        warnings.simplefilter("error")                      # the default's floor is no user's target: no warning
        base = _base(_encode(img, layers=2))
    q30 = jpegai_fast.encode(img, quality=progressive_lossless.PREVIEW_QUALITY)
    lowest = jpegai_fast.encode(img, quality=0)
    cap = progressive_lossless.PREVIEW_SHARE * exact
    assert (len(q30) <= cap) == (picture != "drawn")
    if len(q30) <= cap:
        assert base == q30
    else:                   # held to the cap by rate control, or at the model's lowest rate when that is above it
        assert len(base) <= cap or container.read(base).rate_q == container.read(lowest).rate_q
        assert len(base) < len(q30)


def test_every_layer_boundary_of_a_three_layer_stream_is_a_prefix_and_cuts_inside_warn():
    img = _picture(48, 64, "rgba")
    data = _encode(img, layers=3, quality=80)
    ends = jpegai_fast.info(data)["layer_ends"]
    base = _base(data)
    at = next(s.offset for s in container.read(data).substreams if s.kind == Kind.BASE)
    assert len(ends) == 3 and [at + e for e in jpegai_fast.info(base)["layer_ends"]] == ends[:2]
    chunks = [bytes(c) for c in layer_chunks(base)]
    for k, end in enumerate(ends[:2]):
        np.testing.assert_array_equal(jpegai_fast.decode(data[:end]), jpegai_fast.decode(b"".join(chunks[:k + 1])))
    for cut, complete in [(ends[0] + 3, 1), (ends[1] + 5, 2), (len(data) - 1, 2)]:
        with pytest.warns(RuntimeWarning, match="inside layer"):
            out = jpegai_fast.decode(data[:cut])
        np.testing.assert_array_equal(out, jpegai_fast.decode(b"".join(chunks[:complete])))
    assert b"".join(jpegai_fast.encode_iter(img, lossless=True, layers=3, quality=80)) == data
    with pytest.raises(DecodeError):
        jpegai_fast.decode(data[:ends[0] - 1])              # inside the base's layer 0: nothing to show
    assert jpegai_fast.info(data[:ends[0]])["preview"]["layers"] == 2           # its header is in layer 0
    assert jpegai_fast.info(data[:ends[0] - 1])["preview"] is None


def test_previews_and_regions_come_from_the_base_or_the_exact_layer():
    img = _picture(70, 90, "rgba")
    data = _encode(img, layers=2, tile_size=4)             # the exact layer in 64 px tiles
    base = _base(data)
    for scale in (2, 4, 8):
        np.testing.assert_array_equal(jpegai_fast.decode(data, scale=scale), jpegai_fast.decode(base, scale=scale))
    region = (13, 21, 60, 40)
    np.testing.assert_array_equal(jpegai_fast.decode(data, region=region), img[21:61, 13:73])
    np.testing.assert_array_equal(jpegai_fast.decode(data, region=region, scale=2),
                                  jpegai_fast.decode(base, region=region, scale=2))
    for threads in (1, 2, 3):
        np.testing.assert_array_equal(jpegai_fast.decode(data, threads=threads), img)


def test_metadata_and_orientation_are_the_outer_streams_in_every_prefix():
    img = _picture(32, 40, "rgb")
    meta = {"icc": b"\x00icc profile", "exif": b"II*\x00" + bytes(12), "xmp": b"<x/>", "orientation": 6}
    data = _encode(img, layers=2, metadata=meta)
    assert container.read(_base(data)).orientation == 1
    for part in (data, data[:jpegai_fast.info(data)["layer_ends"][0]]):
        _, got = jpegai_fast.decode(part, with_metadata=True)
        assert got == meta


def test_the_rate_knobs_and_effort_set_the_base_and_alpha_bits_is_refused():
    img = _picture(64, 64, "rgb")
    small, large = (len(_base(_encode(img, layers=2, bpp=b))) for b in (0.2, 1.0))
    assert small < large <= 1.0 * 64 * 64 / 8
    assert EncodeOptions.from_user(lossless=True, layers=2, quality=50, effort=2).progressive_lossless
    with pytest.raises(ValueError, match="alpha_bits="):
        EncodeOptions.from_user(lossless=True, layers=2, alpha_bits=4)
    with pytest.raises(ValueError, match="layers="):
        EncodeOptions.from_user(max_error=2, layers=2)       # near-lossless has no base
    with pytest.raises(ValueError, match="layers="):
        jpegai_fast.encode(img, max_error=2, layers=2)


def test_the_cli_encodes_a_preview_first_and_decodes_either(tmp_path):
    img = _picture(40, 48, "rgba")
    write_image(tmp_path / "in.png", img)
    run = CliRunner().invoke
    r = run(main, ["encode", str(tmp_path / "in.png"), str(tmp_path / "s.jai"), "--lossless", "--layers", "2", "-q", "40"])
    assert r.exit_code == 0, r.output
    data = (tmp_path / "s.jai").read_bytes()
    assert container.read(_base(data)).rate_q == container.read(jpegai_fast.encode(img, quality=40)).rate_q
    assert run(main, ["decode", str(tmp_path / "s.jai"), str(tmp_path / "full.png")]).exit_code == 0
    np.testing.assert_array_equal(read_image(tmp_path / "full.png"), img)
    assert run(main, ["decode", str(tmp_path / "s.jai"), str(tmp_path / "pre.png"), "--layers", "1"]).exit_code == 0
    np.testing.assert_array_equal(read_image(tmp_path / "pre.png"), jpegai_fast.decode(_base(data)))
    r = run(main, ["decode", str(tmp_path / "s.jai"), str(tmp_path / "v.png"), "-v"])
    assert r.exit_code == 0 and "over a learned preview of 1 layer" in r.output and "base" in r.output


# --- forged and damaged streams ------------------------------------------------------------------

def _payloads(data):
    h = container.read(data)
    return h, [data[s.offset:s.offset + s.length] for s in h.substreams]


def _rewrite(data, payloads=None, subs=None, **fields):
    h, old = _payloads(data)
    if subs is not None:
        h.substreams = subs
    for k, v in fields.items():
        setattr(h, k, v)
    return container.write(h, old if payloads is None else payloads)


@pytest.fixture(scope="module")
def rgba():
    img = _picture(40, 56, "rgba")
    return img, _encode(img, layers=2, quality=50)


def _with_base(data, base: bytes, **fields):
    """``data`` with its base substream replaced by ``base`` (one layer)."""
    h, p = _payloads(data)
    at = next(i for i, s in enumerate(h.substreams) if s.kind == Kind.BASE)
    p[at] = base
    return _rewrite(data, p, **fields)


def test_a_base_that_is_no_learned_stream_of_this_image_is_refused(rgba):
    img, data = rgba
    cases = [
        ("not a learned stream", jpegai_fast.encode(img, lossless=True)),
        ("does not fit", jpegai_fast.encode(img[:, :40], quality=50)),                  # another size
        ("does not fit", jpegai_fast.encode(img[..., :3], quality=50)),                 # no alpha in the base
        ("does not fit", jpegai_fast.encode(img, quality=90, layers=2)),                # two layers in one substream
        ("carries metadata", jpegai_fast.encode(img, quality=50, metadata={"xmp": b"<x/>"})),
        ("all 8 bits", jpegai_fast.encode(img, quality=50, alpha_bits=4)),
    ]
    for message, base in cases:
        with pytest.raises(DecodeError, match=message):
            jpegai_fast.decode(_with_base(data, base))
    # a two-layer base split elsewhere than at its layer end
    three = _encode(img, layers=3, quality=90)
    h, p = _payloads(three)
    first = [i for i, s in enumerate(h.substreams) if s.kind == Kind.BASE][0]
    p[first], p[first + 1] = p[first] + p[first + 1][:3], p[first + 1][3:]
    with pytest.raises(DecodeError, match="not its layers"):
        jpegai_fast.decode(_rewrite(three, p))
    with pytest.raises(DecodeError, match="not in the canonical order"):
        h, p = _payloads(data)
        jpegai_fast.decode(_rewrite(data, p[1:], subs=h.substreams[1:]))                # no base: one layer too many
    with pytest.raises(DecodeError, match="lossless stream with"):
        jpegai_fast.decode(_rewrite(data, colour_transform=container.ColourTransform.NEAR_LOSSLESS, rate_q=2))


def test_a_damaged_base_layer_0_is_an_error_and_a_damaged_exact_layer_gives_the_base_with_a_warning(rgba):
    img, data = rgba
    h, p = _payloads(data)
    base = next(s for s in h.substreams if s.kind == Kind.BASE)
    at = base.offset + base.length // 2
    with pytest.raises(DecodeError, match="layer 0"):
        jpegai_fast.decode(data[:at] + bytes([data[at] ^ 1]) + data[at + 1:])        # its CRC fails
    plane = next(i for i, s in enumerate(h.substreams) if s.kind == Kind.PLANE)
    start = h.substreams[plane].offset
    damaged = data[:start + 5] + bytes([data[start + 5] ^ 0x40]) + data[start + 6:]
    with pytest.warns(RuntimeWarning, match="inside layer"):
        out = jpegai_fast.decode(damaged)
    np.testing.assert_array_equal(out, jpegai_fast.decode(_base(data)))
    # a plane whose CRC holds but whose symbols are damaged: a DecodeError naming it, never a wrong image
    p2 = list(p)
    p2[plane] = p[plane][:1] + bytes(len(p[plane]) - 1)
    with pytest.raises(DecodeError, match="lossless plane 0"):
        jpegai_fast.decode(_rewrite(data, p2))


def test_the_exact_decode_needs_no_model_and_the_preview_does(rgba, monkeypatch):
    img, data = rgba
    import jpegai_fast.api as api
    real = api.ParsedStream
    made = []
    monkeypatch.setattr(api, "ParsedStream", lambda *a, **k: made.append(1) or real(*a, **k))
    np.testing.assert_array_equal(jpegai_fast.decode(data), img)
    np.testing.assert_array_equal(jpegai_fast.decode(data, region=(5, 6, 20, 10)), img[6:16, 5:25])
    assert made == []                                       # the exact layer and the base's alpha: no model
    jpegai_fast.decode(data[:jpegai_fast.info(data)["layer_ends"][0]])
    jpegai_fast.decode(data, scale=2)
    assert made == [1, 1]


def test_the_base_alpha_counts_on_both_sides_of_the_preview_share():
    # a costly alpha plane (noise) moves into the base, it is not the preview's cost: quality 30 is kept
    colour = _picture(128, 192, "rgb", seed=4)
    img = np.dstack([colour, np.random.default_rng(4).integers(0, 256, (128, 192), dtype=np.uint8)])
    base = _base(_encode(img, layers=2))
    alpha = next(s.length for s in container.read(base).substreams if s.kind == Kind.ALPHA)
    assert alpha > progressive_lossless.PREVIEW_SHARE * len(_encode(colour))          # it alone would pass the cap
    assert base == jpegai_fast.encode(img, quality=progressive_lossless.PREVIEW_QUALITY)


def test_a_damaged_later_base_layer_leaves_the_exact_decode_alone():
    img = _picture(48, 64, "rgba")
    data = _encode(img, layers=3, quality=80)
    h = container.read(data)
    later = next(s for s in h.substreams if s.kind == Kind.BASE and s.layer == 1)
    at = later.offset + later.length // 2
    damaged = data[:at] + bytes([data[at] ^ 4]) + data[at + 1:]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        np.testing.assert_array_equal(jpegai_fast.decode(damaged), img)      # needs only the base's layer 0
    with pytest.warns(RuntimeWarning, match="inside layer"):
        preview = jpegai_fast.decode(damaged, scale=2)
    first = next(s for s in h.substreams if s.kind == Kind.BASE and s.layer == 0)
    layer0 = data[first.offset:first.offset + first.length]
    np.testing.assert_array_equal(preview, jpegai_fast.decode(layer0, scale=2))
