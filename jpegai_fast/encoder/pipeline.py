"""The whole encode, as decoder/ mirrors it: alpha, the float side per tile (analysis.py, with the effort
search when asked), the integer side (latent.py), the rate (fixed, or rate control) and the stream's
assembly (format/stream.py).

Options arrive checked as one ``EncodeOptions`` (api.encode); the bound that needs the image (alpha_bits)
is narrowed here. With a target size the rate-independent tiles are kept
and each rate probe only re-quantises and codes (rate_control.search_rate); effort > 1 refines the
latent for the real decoder at the rate the plain encoder needs, then searches again. A PSNR target
searches the rate, each probe measured with the real decoder (rate_control.search_psnr). At a fixed rate
each tile is quantised and coded as soon as it is analysed, so only its bytes are kept.
"""
from __future__ import annotations

import dataclasses
import warnings
from dataclasses import dataclass

import numpy as np

from jpegai_fast.encoder import content, latent, mode_choice, tile_choice
from jpegai_fast.encoder.analysis import Refine, analyse_tiles
from jpegai_fast.encoder.effort import DEFAULT_EFFORT
from jpegai_fast.encoder.latent import Tile
from jpegai_fast.encoder.options import DEFAULT_QUALITY, EncodeOptions
from jpegai_fast.encoder.rate_control import RateSearch, quality_to_rate_q, search_psnr, search_rate
from jpegai_fast.format import container, progressive, stream, tiling
from jpegai_fast.format.tiling import DEFAULT_TILE_SIZE
from jpegai_fast.format.container import Header, Kind
from jpegai_fast.runtime.engine import Engine
from jpegai_fast.runtime.execution import map_tiles
from jpegai_fast.runtime.ladder import typical_psnr_curve, typical_size_curve


@dataclass(frozen=True)
class Picture:
    """What the caller checked: the pixels (HxW, HxWx2, HxWx3 or HxWx4; pixels.check_image), their bit
    depth, the metadata fields (format.metadata.check) and the orientation."""

    pixels: np.ndarray
    bit_depth: int
    metadata: dict
    orientation: int = 1


@dataclass(frozen=True)
class _Frame:
    """Everything of the stream but its tiles: the colour plane, the side substreams, the tile grid."""

    colour: np.ndarray          # HxW or HxWx3
    bit_depth: int
    side: dict                  # {kind: payload} for the metadata and alpha substreams
    orientation: int
    grid: tiling.TileGrid
    layers: int


def encode(eng: Engine | None, picture: Picture, opts: EncodeOptions, threads: int, device) -> bytes:
    """The stream of ``picture`` at ``opts``' quality, within [0.9, 1] x its size target (bpp= or size=),
    or at the lowest rate that reaches its PSNR target (psnr=); with ``opts.lossless`` (or ``max_error``) the
    exact (near-lossless) stream of encoder/lossless.py, which needs no model (``eng`` may then be None)."""
    if opts.model_free:
        from jpegai_fast.encoder import lossless
        return lossless.encode(picture, threads, opts.check_max_error(picture.bit_depth),
                               tile_size=opts.tile_size or lossless.TILE_SIZE)
    if opts.progressive_lossless:
        from jpegai_fast.encoder import progressive_lossless
        return progressive_lossless.encode(eng, picture, opts, threads, device)
    frame = _frame(eng, picture, opts)
    if frame.layers > 1 or opts.alpha_bits is not None or not mode_choice.looks_drawn(frame.colour):
        return _learned(eng, frame, opts, threads, device)
    # Drawn content: the plane coder may beat the model (encoder/mode_choice.py). The learned encode's
    # warnings (a target beyond the model's range) hold only if its stream is the one returned.
    (learned, mse), caught = _recorded(lambda: _mixed(eng, frame, opts, threads, device))
    h, w = frame.colour.shape[:2]
    data = mode_choice.better_stream(picture, learned, frame.colour, threads, device, opts.target_bytes(h, w),
                                     opts.psnr, mse)
    if data is learned:
        _reissue(caught)
    return data


def _recorded(make):
    """``make()`` and the warnings it raised, held back: they hold only for the stream the encoder returns."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = make()
    return result, caught


def _reissue(caught) -> None:
    for c in caught:
        warnings.warn_explicit(c.message, c.category, c.filename, c.lineno)


def learned(eng: Engine, picture: Picture, opts: EncodeOptions, threads: int, device) -> bytes:
    """The model's stream of ``picture`` at ``opts``, without the plane coder's try on drawn content (a
    progressive-to-lossless stream's base is the model's: encoder/progressive_lossless.py)."""
    return _learned(eng, _frame(eng, picture, opts), opts, threads, device)


def _learned(eng: Engine, frame: _Frame, opts: EncodeOptions, threads: int, device) -> bytes:
    """The model's stream: at ``opts``' quality, or rate control to its size or PSNR target. Above effort 1,
    the effort search's stream where it is the better of the two (``_better_refined``)."""
    if opts.bpp is None and opts.size is None and opts.psnr is None:
        quality = DEFAULT_QUALITY if opts.quality is None else opts.quality
        rate_q = quality_to_rate_q(quality, eng.num_rate_points)
        plain = _stream(eng, frame, _tiles(eng, frame, threads, device, fixed_rate=rate_q), rate_q, threads)
        if opts.effort == DEFAULT_EFFORT:
            return plain
        refine = _refiner(eng, frame, rate_q, opts.effort, threads, device)
        refined = _stream(eng, frame, _tiles(eng, frame, threads, device, refine, fixed_rate=rate_q), rate_q, threads)
        return _better_refined(eng, frame, opts, refined, plain, threads, device)
    if opts.effort == DEFAULT_EFFORT:
        return _search(eng, frame, _tiles(eng, frame, threads, device), opts, threads, device).data
    found, found_warnings = _recorded(lambda: _search(eng, frame, _tiles(eng, frame, threads, device), opts, threads,
                                                      device))
    # Refine at the rate the plain encoder needs for the target, then search again over the refined
    # latent: it codes smaller at that rate, so the final rate lands a little higher.
    refine = _refiner(eng, frame, found.rate_q, opts.effort, threads, device)
    refined, refined_warnings = _recorded(lambda: _search(eng, frame, _tiles(eng, frame, threads, device, refine),
                                                          opts, threads, device).data)
    best = _better_refined(eng, frame, opts, refined, found.data, threads, device)
    _reissue(refined_warnings if best is refined else found_warnings)
    return best


def _better_refined(eng: Engine, frame: _Frame, opts: EncodeOptions, refined: bytes, plain: bytes, threads: int,
                    device) -> bytes:
    """``refined`` (the effort search's stream) unless the plain encoder's ``plain`` is better, so no effort
    level codes worse than effort 1: the search optimises a relaxed loss for a few iterations and its hard
    decisions can lose (model 8f754ccc, Kodak 1-8: effort 3's search alone -0.6 % BD-rate against effort 1,
    worse on 2 of the 8 images and by the training cost on 6 of 32 points; with this rule -3.1 %).
    Better by what the request fixes: at a quality, the model's training cost at that rate (Engine.rd_cost);
    at a size, the smaller squared error; at a PSNR, the fewer bytes among the streams that reach it (else
    the higher PSNR). Costs two decodes, small beside the search."""
    if opts.psnr is not None:
        def rank(data: bytes) -> tuple:
            psnr = _decoded_psnr(data, frame, threads, device)
            return (0, len(data)) if psnr >= opts.psnr else (1, -psnr)

        return min((refined, plain), key=rank)
    sse = [mode_choice.mse_of(data, frame.colour, threads, device) * frame.colour.size for data in (refined, plain)]
    if opts.bpp is not None or opts.size is not None:
        return refined if sse[0] <= sse[1] else plain
    samples = 1 if frame.colour.ndim == 2 else frame.colour.shape[2]
    rate_q = container.read(plain).rate_q
    cost = [eng.rd_cost(rate_q, len(data), e, frame.bit_depth, samples) for data, e in zip((refined, plain), sse)]
    return refined if cost[0] <= cost[1] else plain


def _mixed(eng: Engine, frame: _Frame, opts: EncodeOptions, threads: int, device) -> tuple[bytes, float | None]:
    """The learned stream of a drawn picture with the tiles that code cheaper by the planes coded so
    (encoder/tile_choice.py), in tiles of tile_choice.TILE_SIZE unless the caller chose a size; at ``opts``'
    quality, or rate control over the mixed streams. It must also beat the learned stream in the default
    tiles by the same cost: smaller tiles cost the model (artificial.png at 0.03 .. 0.25 bpp, two plane
    tiles among 24: 0.5 .. 0.9 dB below the 6 default tiles). Without a drawn tile: the learned stream.
    With the stream, its colour MSE where this weighing measured it (else None)."""
    lh, lw = eng.latent_shape(*frame.colour.shape[:2])
    tiled = dataclasses.replace(frame, grid=tiling.make_grid(lh, lw, opts.tile_size or tile_choice.TILE_SIZE))
    choice = tile_choice.TileChoice(tiled.colour, tiled.bit_depth, tiled.grid, threads)
    if not choice.candidates:
        return _learned(eng, frame, opts, threads, device), None
    mixed = _mixed_at(eng, tiled, choice, opts, threads, device)
    if opts.tile_size or tiled.grid == frame.grid:
        return mixed, None
    plain = _learned(eng, frame, opts, threads, device)
    rate_q = container.read(mixed).rate_q
    weighed = [(data, mode_choice.mse_of(data, frame.colour, threads, device)) for data in (mixed, plain)]
    return min(weighed, key=lambda d: choice.cost(eng, rate_q, len(d[0]), d[1] * frame.colour.size))


def _mixed_at(eng: Engine, tiled: _Frame, choice: tile_choice.TileChoice, opts: EncodeOptions, threads: int,
              device) -> bytes:
    """The mixed stream in ``tiled``'s grid at ``opts``' quality, or rate control over the mixed streams."""
    if opts.effort != DEFAULT_EFFORT:       # the effort search refines per rate: the choice at its final rate
        learned = _learned(eng, tiled, opts, threads, device)
        return _mix(eng, tiled, choice, learned, threads, device)
    tiles = _tiles(eng, tiled, threads, device)
    learned: dict[int, bytes] = {}

    def at(rate_q: int) -> bytes:
        learned[rate_q] = _stream(eng, tiled, tiles, rate_q, threads)
        return _mix(eng, tiled, choice, learned[rate_q], threads, device)

    if opts.bpp is None and opts.size is None and opts.psnr is None:
        return at(quality_to_rate_q(DEFAULT_QUALITY if opts.quality is None else opts.quality, eng.num_rate_points))
    if opts.psnr is None:
        h, w = tiled.colour.shape[:2]
        target = opts.target_bytes(h, w)
        found = search_rate(at, target, eng.rate_q_max, curve=typical_size_curve(eng.num_rate_points, h * w))
        return _filled(tiled, choice, learned[found.rate_q], found.data, target)
    return search_psnr(at, lambda data: _decoded_psnr(data, tiled, threads, device), opts.psnr, eng.rate_q_max,
                       curve=typical_psnr_curve(eng.num_rate_points)).data


def _filled(frame: _Frame, choice: tile_choice.TileChoice, learned: bytes, mixed: bytes, target: float) -> bytes:
    """``mixed`` (``_mix`` of ``learned``) with the bytes it leaves below ``target`` spent on its candidate
    tiles (``choice.fill``): the last of the fill's steps whose stream fits, or ``mixed``."""
    p, z, y = _parsed(learned, frame.grid.count)
    header = dataclasses.replace(p.header, substreams=[])
    for step in reversed(choice.fill(p.header.rate_q, int(target) - len(mixed))):
        data = stream.assemble(header, frame.side, z, y, step)
        if len(data) <= target:
            return data
    return mixed


def _parsed(learned: bytes, count: int):
    """The parsed one-layer ``learned`` stream, and its tiles' z and y payloads as stream.assemble takes them."""
    from jpegai_fast.decoder.latent import ParsedStream
    p = ParsedStream(learned)
    return p, [p.payload(Kind.Z, i) for i in range(count)], [[p.payload(Kind.Y, i, 0)] for i in range(count)]


def _mix(eng: Engine, frame: _Frame, choice: tile_choice.TileChoice, learned: bytes, threads: int, device) -> bytes:
    """``learned`` (one layer) with the tiles ``choice`` prefers at its rate coded by the planes."""
    from jpegai_fast.decoder.synthesis import decode_pixels
    count = frame.grid.count
    p, z, y = _parsed(learned, count)
    h, w = frame.colour.shape[:2]
    recon = content.colour_and_alpha(decode_pixels(p, (0, 0, w, h), device, threads))[0]
    chosen = choice.choose(eng, p.header.rate_q, [len(z[i]) + len(y[i][0]) for i in range(count)], recon)
    if not chosen:
        return learned
    header = dataclasses.replace(p.header, substreams=[])
    return stream.assemble(header, frame.side, z, y, chosen)


def _frame(eng: Engine, picture: Picture, opts: EncodeOptions) -> _Frame:
    """Split off and code the alpha plane, after every option is checked against the image and the model."""
    arr, bit_depth = picture.pixels, picture.bit_depth
    has_alpha = arr.ndim == 3 and arr.shape[2] in (2, 4)
    if not has_alpha and opts.alpha_bits is not None:
        raise ValueError("alpha_bits given for an image without alpha")
    alpha_bits = opts.check_alpha_bits(bit_depth) if has_alpha else None
    side = {kind: bytes(picture.metadata[name]) for kind, name in Kind.NAMES.items()
            if picture.metadata.get(name) is not None}
    colour = arr
    if has_alpha:
        from jpegai_fast.core import alpha_coder
        side[Kind.ALPHA] = alpha_coder.encode(arr[..., -1], bit_depth, alpha_bits)
        colour = np.ascontiguousarray(arr[..., :-1] if arr.shape[2] == 4 else arr[..., 0])
    grid = tiling.make_grid(*eng.latent_shape(*colour.shape[:2]), opts.tile_size or DEFAULT_TILE_SIZE)
    return _Frame(colour, bit_depth, side, picture.orientation, grid, opts.layers)


def _refiner(eng: Engine, frame: _Frame, rate_q: int, effort: int, threads: int, device) -> Refine | None:
    """The effort search's per-tile refinement at ``rate_q`` (None at effort 1, which needs no torch)."""
    if effort == DEFAULT_EFFORT:
        return None
    from jpegai_fast.encoder.effort_search import LatentOptimiser   # torch autograd
    return LatentOptimiser(eng, frame.colour, frame.bit_depth, frame.grid, rate_q, effort, device, threads).tile


def _tiles(eng: Engine, frame: _Frame, threads: int, device, refine: Refine | None = None,
           fixed_rate: int | None = None) -> list[Tile]:
    """Every tile through the float side and the rate-independent integer side; at ``fixed_rate`` also
    coded at once, so only its bytes are kept per tile."""
    tiles: list[Tile] = []
    for y, z_hat in analyse_tiles(eng, frame.colour, frame.bit_depth, frame.grid, device, threads, refine):
        t: Tile = latent.hyper_tile(eng, y, z_hat, threads)
        if fixed_rate is not None:
            t = latent.code(eng, t, fixed_rate, _layers(eng, frame, fixed_rate), threads)
        tiles.append(t)
    return tiles


def _layers(eng: Engine, frame: _Frame, rate_q: int) -> int:
    """The layers the stream at ``rate_q`` has: the requested count, fewer at rates where layer 0 would
    be coarser than the model's coarsest rate (format/progressive.useful_layers)."""
    if frame.layers == 1:
        return 1
    return progressive.useful_layers(eng.steps(0)[0], eng.steps(rate_q)[0], frame.layers)


def _search(eng: Engine, frame: _Frame, tiles: list[Tile], opts: EncodeOptions, threads: int, device) -> RateSearch:
    """Rate control over ``tiles`` for ``opts``' size or PSNR target."""
    if opts.psnr is None:
        h, w = frame.colour.shape[:2]
        return search_rate(lambda rq: _stream(eng, frame, tiles, rq, threads), opts.target_bytes(h, w),
                           eng.rate_q_max, curve=typical_size_curve(eng.num_rate_points, h * w))
    # probes without the side substreams (the PSNR is the colour's; alpha is coded on its own), then
    # the found rate's stream with them
    colour_only = dataclasses.replace(frame, side={})
    found = search_psnr(lambda rq: _stream(eng, colour_only, tiles, rq, threads),
                        lambda data: _decoded_psnr(data, frame, threads, device), opts.psnr, eng.rate_q_max,
                        curve=typical_psnr_curve(eng.num_rate_points))
    return RateSearch(found.rate_q, _stream(eng, frame, tiles, found.rate_q, threads), found.passes)


def _decoded_psnr(data: bytes, frame: _Frame, threads: int, device) -> float:
    """PSNR-RGB (one MSE over the colour samples, peak 2^bit_depth - 1) of ``data``'s real decode."""
    mse = mode_choice.mse_of(data, frame.colour, threads, device)      # the encoder measures with the decoder
    peak = float((1 << frame.bit_depth) - 1)
    return float("inf") if mse == 0 else 10.0 * np.log10(peak * peak / mse)


def _stream(eng: Engine, frame: _Frame, tiles: list[Tile], rate_q: int, threads: int) -> bytes:
    """The complete stream at ``rate_q``: quantise and code every tile, assemble."""
    layers = _layers(eng, frame, rate_q)
    coded = map_tiles(lambda t, inner: latent.code(eng, t, rate_q, layers, inner), tiles, threads)
    h, w = frame.colour.shape[:2]
    channels = (1 if frame.colour.ndim == 2 else 3) + (Kind.ALPHA in frame.side)
    header = Header(w, h, channels, frame.bit_depth, eng.model_id, rate_q, orientation=frame.orientation,
                    tile_size=frame.grid.size, num_layers=layers)
    return stream.assemble(header, frame.side, [t.z_bytes for t in coded], [t.y_bytes for t in coded])
