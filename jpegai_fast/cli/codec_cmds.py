"""CLI commands for people: encode, decode, info."""
from __future__ import annotations

import json
import time
from pathlib import Path

import click
import numpy as np

from .. import codec
from ..errors import DecodeError
from ..image_files import read_image, write_image


@click.command()
@click.argument("src", type=click.Path(exists=True, dir_okay=False))
@click.argument("dst", type=click.Path(dir_okay=False))
@click.option("--bpp", type=float, help="Target bits per pixel (rate control, stays at or below).")
@click.option("-q", "--quality", type=float, help="0..100 on the model's rate range (default 50).")
@click.option("-e", "--effort", type=click.IntRange(1, 9), default=1, show_default=True,
              help="Encoder effort 1..9: higher is slower and smaller (optimises the latent for the decoder).")
@click.option("--bit-depth", type=int, help="Bits per sample of a 16-bit file that holds fewer (e.g. 10).")
@click.option("--threads", type=int, help="CPU threads (default all cores); the output never depends on it.")
@click.option("--device", default=None, help="torch device for the analysis transform (cpu, cuda).")
@click.option("--tile-size", type=int, help="Tile side in latent positions (16 px each; default 64 = 1024 px).")
@click.option("--layers", type=int, default=1, show_default=True,
              help="Progressive layers: every layer boundary is a decodable prefix.")
def encode(src, dst, bpp, quality, effort, bit_depth, threads, device, tile_size, layers):
    """Compress image SRC (PNG, TIFF, ...; 8 or 16 bit) to stream DST."""
    img = read_image(src)
    if img.dtype == np.uint16 and bit_depth is None:
        bit_depth = 16
    t0 = time.perf_counter()
    try:
        data = codec.encode(img, bpp=bpp, quality=quality, bit_depth=bit_depth, threads=threads,
                            device=device, tile_size=tile_size, layers=layers, effort=effort)
    except (ValueError, TypeError) as e:
        raise click.ClickException(str(e))
    Path(dst).write_bytes(data)
    h, w = img.shape[:2]
    click.echo(f"{src} -> {dst}: {w}x{h}, {len(data)} bytes, {8 * len(data) / (w * h):.4f} bpp, "
               f"{time.perf_counter() - t0:.2f} s")


@click.command()
@click.argument("src", type=click.Path(exists=True, dir_okay=False))
@click.argument("dst", type=click.Path(dir_okay=False))
@click.option("--threads", type=int, help="CPU threads (default all cores).")
@click.option("--device", default=None, help="torch device for the synthesis transform (cpu, cuda).")
@click.option("--region", type=(int, int, int, int), default=None, metavar="X Y W H",
              help="Decode only this rectangle (only the tiles that cover it are decoded).")
def decode(src, dst, threads, device, region):
    """Decompress stream SRC to image DST (.png or .tif keep 16-bit depth)."""
    t0 = time.perf_counter()
    try:
        img = codec.decode(Path(src).read_bytes(), threads=threads, device=device, region=region)
    except (DecodeError, ValueError) as e:
        raise click.ClickException(str(e))
    write_image(dst, img)
    click.echo(f"{src} -> {dst}: {img.shape[1]}x{img.shape[0]} {img.dtype}, {time.perf_counter() - t0:.2f} s")


@click.command()
@click.argument("src", type=click.Path(exists=True, dir_okay=False))
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def info(src, as_json):
    """Describe stream SRC without decoding it."""
    try:
        meta = codec.info(Path(src).read_bytes())
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
