"""CLI commands for people: encode, decode, info.

Conventions (cwebp, avifenc, cjxl): ``-`` reads stdin / writes stdout; every output is written to a
temporary file in the target folder and renamed (files/atomic.py), so an interrupt never leaves a partial file
or harms an existing one; an existing output is replaced only with --overwrite, never when it is the input; every user or file error is one line
on stderr with exit code 1 (usage errors: 2). The summary line goes to stderr (stdout may be the stream).
"""
from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import click

from jpegai_fast.encoder.options import BOUNDS, DEFAULT_QUALITY, check_value
from jpegai_fast.runtime.preview import SCALES

#: --scale of decode and batch decode: 1 (full size) or a preview head's scale.
SCALE_CHOICE = click.Choice([str(s) for s in (1,) + SCALES])


def _read_bytes(src: str) -> bytes:
    if src == "-":
        return sys.stdin.buffer.read()
    try:
        return Path(src).read_bytes()
    except OSError as e:
        raise click.ClickException(f"cannot read {src}: {e.strerror or e}")


def _check_output(dst: str, src: str, overwrite: bool) -> None:
    """The output policy (files/atomic.py), checked before any coding work."""
    from jpegai_fast.files.atomic import OutputExistsError, same_file
    if dst == "-":
        return
    if src != "-" and same_file(src, dst):
        raise click.ClickException(f"refusing to overwrite the input {src} with the output")
    if not overwrite and Path(dst).exists():
        raise click.ClickException(str(OutputExistsError(dst)))


def _write_bytes(dst: str, data: bytes, src: str, overwrite: bool) -> None:
    from jpegai_fast.files.atomic import atomic_write
    if dst == "-":
        sys.stdout.buffer.write(data)
        sys.stdout.buffer.flush()
        return
    _check_output(dst, src, overwrite)
    try:
        atomic_write(dst, data, overwrite=overwrite)
    except OSError as e:
        raise click.ClickException(f"cannot write {dst}: {e.strerror or e}")


def _prefix(data: bytes, num_layers: int) -> bytes:
    """The stream's first ``num_layers`` progressive layers (api.info's layer_ends)."""
    from jpegai_fast import api
    ends = api.info(data)["layer_ends"]
    if num_layers > len(ends):
        raise ValueError(f"--layers {num_layers}: the stream has {len(ends)} layer(s)")
    return data[:ends[num_layers - 1]]


_OVERWRITE = click.option("--overwrite", is_flag=True, help="Replace DST if it exists (default: refuse).")


def _say(quiet: bool, msg: str) -> None:
    if not quiet:
        click.echo(msg, err=True)


def _stream_details(data: bytes) -> str:
    """-v: what the stream holds (model, rate, grid, layers, bytes per kind of substream)."""
    from jpegai_fast import api
    from jpegai_fast.format.container import Kind
    meta = api.info(data)
    by_kind: dict[str, int] = {}
    for s in meta["substreams"]:
        name = Kind.LABELS[s["kind"]]
        by_kind[name] = by_kind.get(name, 0) + s["bytes"]
    header = len(data) - sum(by_kind.values())
    parts = ", ".join(f"{k} {v}" for k, v in by_kind.items())
    coder = ("lossless" if meta["lossless"] else f"near-lossless, max error {meta['max_error']}" if meta["max_error"]
             else f"model {meta['model_id']}, rate {meta['rate']:.3f}")
    if meta["lossless"] and meta["layers"] > 1:
        coder += f" over a learned preview of {meta['layers'] - 1} layer(s)"
    return (f"  {coder}, {meta['bit_depth']}-bit, "
            f"{meta['channels']} channel(s), tiles {meta['tiles']} (size {meta['tile_size'] or 'whole'}), "
            f"layers {meta['layers']}\n  bytes: header+table {header}, {parts}")


class EncodeOption(click.ParamType):
    """A click type checked by the encode options' bounds table (encoder/options.py): one rule for the
    CLI and the API, and a value outside it is a usage error (exit 2) before any file is read."""

    def __init__(self, option: str):
        self.option, self.bound = option, BOUNDS[option]
        self.name = {int: "integer", float: "float"}[self.bound.kind]       # click's metavars

    def convert(self, value, param, ctx):
        try:
            return check_value(self.option, self.bound.kind(value) if isinstance(value, str) else value)
        except ValueError:
            self.fail(f"{value!r} is not {self.bound.describe()}", param, ctx)

    def range(self) -> str:
        return self.bound.describe().split(" in ")[-1]


_Q, _E = EncodeOption("quality"), EncodeOption("effort")


@click.command()
@click.argument("src", type=click.Path(dir_okay=False, allow_dash=True))
@click.argument("dst", type=click.Path(dir_okay=False, allow_dash=True))
@click.option("--bpp", type=EncodeOption("bpp"), help="Target bits per pixel (rate control, stays at or below).")
@click.option("-q", "--quality", type=_Q, help=f"{_Q.range()} on the model's rate range (default {DEFAULT_QUALITY:g}).")
@click.option("--psnr", type=EncodeOption("psnr"),
              help="Target PSNR-RGB in dB: the lowest rate whose decode reaches it (bisection, within 0.1 dB).")
@click.option("--size", type=EncodeOption("size"), help="Target size in bytes (rate control, stays at or below).")
@click.option("-e", "--effort", type=_E, default=1, show_default=True,
              help=f"Encoder effort {_E.range()}: higher is slower and smaller (optimises the latent for the decoder).")
@click.option("--bit-depth", type=EncodeOption("bit_depth"),
              help="Bits per sample of a 16-bit file that holds fewer (e.g. 10).")
@click.option("--threads", type=int, help="CPU threads (default all cores); the output never depends on it.")
@click.option("--device", default=None, help="torch device for the analysis transform (cpu, cuda).")
@click.option("--tile-size", type=EncodeOption("tile_size"),
              help="Tile side in latent positions (16 px each; default 64 = 1024 px, lossless 128 = 2048 px).")
@click.option("--layers", type=EncodeOption("layers"), default=1, show_default=True,
              help="Progressive layers, at most (fewer at low rates): every layer boundary is a decodable prefix. "
                   "With --lossless: a learned preview of N - 1 layers (its rate options apply; default -q 30), "
                   "then the exact layer.")
@click.option("--alpha-bits", type=EncodeOption("alpha_bits"),
              help="Keep only the top N bits of the alpha plane (lossy; default lossless).")
@click.option("--lossless", is_flag=True,
              help="Code the image exactly (the project's lossless coder, no model); no rate option with it, "
                   "unless --layers >= 2 puts a learned preview first.")
@click.option("--max-error", type=EncodeOption("max_error"), default=0,
              help="Near-lossless: every colour sample within +-N of the source (the lossless coder; alpha exact).")
@click.option("--strip", is_flag=True,
              help="Drop the ICC profile, EXIF and XMP (kept by default); the orientation stays.")
@_OVERWRITE
@click.option("--quiet", is_flag=True, help="Print nothing but errors.")
@click.option("-v", "--verbose", is_flag=True, help="Also print the stream's make-up and the PSNR of its decode.")
def encode(src, dst, bpp, quality, psnr, size, effort, bit_depth, threads, device, tile_size, layers, alpha_bits, lossless,
           max_error, strip, overwrite, quiet, verbose):
    """Compress image SRC (PNG, TIFF, JPEG, ...; 8 or 16 bit; - for stdin) to stream DST (- for stdout).

    The ICC profile, EXIF (with its orientation) and XMP are kept; a 16-bit file is coded at the bit
    depth it declares (PNG sBIT, TIFF MaxSampleValue/BitsPerSample), else as 16-bit; --bit-depth overrides.
    """
    from jpegai_fast.files.convert import encode_file
    _check_output(dst, src, overwrite)
    t0 = time.perf_counter()
    try:
        enc = encode_file(_read_bytes(src), src, bit_depth=bit_depth, keep_metadata=not strip, bpp=bpp,
                          quality=quality, psnr=psnr, size=size, threads=threads, device=device, tile_size=tile_size, layers=layers,
                          effort=effort, alpha_bits=alpha_bits, lossless=lossless, max_error=max_error)
    except (ValueError, TypeError, ImportError) as e:
        raise click.ClickException(str(e))
    for note in enc.notes:
        _say(quiet, note)
    data, img, bit_depth = enc.data, enc.pixels, enc.bit_depth
    _write_bytes(dst, data, src, overwrite)
    h, w = img.shape[:2]
    _say(quiet, f"{src} -> {dst}: {w}x{h}, {len(data)} bytes, {8 * len(data) / (w * h):.4f} bpp, "
                f"{time.perf_counter() - t0:.2f} s")
    if verbose and not quiet:
        import numpy as np
        from jpegai_fast import api
        t1 = time.perf_counter()
        rec = api.decode(data, threads=threads)
        err = (rec.astype(np.float64) - img.astype(np.float64)) ** 2
        peak = float((1 << bit_depth) - 1) if img.dtype.name == "uint16" else 255.0
        mse = float(err.mean())
        quality = "exact" if mse == 0 else f"PSNR {10 * np.log10(peak ** 2 / mse):.2f} dB"
        _say(False, _stream_details(data) + f"\n  decode {time.perf_counter() - t1:.2f} s, {quality} "
                    f"(all {img.shape[2] if img.ndim == 3 else 1} channel(s))")


@click.command()
@click.argument("src", type=click.Path(dir_okay=False, allow_dash=True))
@click.argument("dst", type=click.Path(dir_okay=False, allow_dash=True))
@click.option("--threads", type=int, help="CPU threads (default all cores).")
@click.option("--device", default=None, help="torch device for the synthesis transform (cpu, cuda).")
@click.option("--region", type=(int, int, int, int), default=None, metavar="X Y W H",
              help="Decode only this rectangle (only the tiles that cover it are decoded).")
@click.option("--scale", type=SCALE_CHOICE, default="1", show_default=True,
              help="Reduced size: ceil(W/S) x ceil(H/S) from the model's preview head, far faster (docs/preview.md); "
                   "--region stays in full-size pixels.")
@click.option("--format", "fmt", default=None,
              help="Image type when DST is - (png, tif, ...); otherwise taken from DST's suffix.")
@click.option("--auto-orient", is_flag=True,
              help="Turn the pixels as the EXIF orientation says (the output's orientation is then 1).")
@click.option("--smallest", is_flag=True, help="The smallest PNG (slow zlib level 9); default: a fast level.")
@click.option("--layers", "num_layers", type=click.IntRange(1), default=None,
              help="Decode only the first N progressive layers (the prefix info lists as layer_ends).")
@_OVERWRITE
@click.option("--quiet", is_flag=True, help="Print nothing but errors.")
@click.option("-v", "--verbose", is_flag=True, help="Also print the stream's make-up.")
def decode(src, dst, threads, device, region, scale, fmt, auto_orient, smallest, num_layers, overwrite, quiet, verbose):
    """Decompress stream SRC (- for stdin) to image DST (.png or .tif keep 16-bit depth; - for stdout)."""
    from jpegai_fast.errors import DecodeError
    from jpegai_fast.files.convert import check_suffix, decode_to_file
    suffix = "." + fmt.lower().lstrip(".") if fmt else (".png" if dst == "-" else Path(dst).suffix)
    try:
        check_suffix(suffix)
    except ValueError as e:
        raise click.ClickException(str(e))
    _check_output(dst, src, overwrite)
    t0 = time.perf_counter()
    try:
        data = _read_bytes(src)
        if num_layers is not None:
            data = _prefix(data, num_layers)
        out, img = decode_to_file(data, suffix, auto_orient=auto_orient, smallest=smallest, threads=threads,
                                  device=device, region=region, scale=int(scale))
    except (DecodeError, ValueError, TypeError, ImportError) as e:
        raise click.ClickException(str(e))
    _write_bytes(dst, out, src, overwrite)
    _say(quiet, f"{src} -> {dst}: {img.shape[1]}x{img.shape[0]} {img.dtype}, {time.perf_counter() - t0:.2f} s")
    if verbose and not quiet:
        _say(False, _stream_details(data))


@click.command()
@click.argument("src", type=click.Path(dir_okay=False, allow_dash=True))
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def info(src, as_json):
    """Describe stream SRC (- for stdin) without decoding it."""
    from jpegai_fast import api
    from jpegai_fast.errors import DecodeError
    try:
        meta = api.info(_read_bytes(src))
    except DecodeError as e:
        raise click.ClickException(str(e))
    if as_json:
        click.echo(json.dumps(meta, indent=2))
        return
    for key, value in meta.items():
        if key != "substreams":
            click.echo(f"{key:>11}: {value}")
    for s in meta["substreams"]:
        click.echo(f"  substream kind={s['kind']} tile={s['tile']} layer={s['layer']} "
                   f"bytes={s['bytes']} complete={s['complete']}")
