"""``jpegai-fast bench``: encode/decode speed of jpegai_fast and classical codecs at one rate, side by side."""
from __future__ import annotations

import json

import click
from tqdm import tqdm

from jpegai_fast.tools.demo import synthetic_image
from jpegai_fast.eval.codecs import availability
from jpegai_fast.eval.speed import format_table, time_codec
from jpegai_fast.files.images import read_image


@click.command("bench")
@click.argument("image", required=False, type=click.Path(exists=True, dir_okay=False))
@click.option("--codecs", default="jpegai_fast,jpeg,webp,jpeg2000,avif", show_default=True,
              help="Comma-separated codec names; times are shown relative to the first.")
@click.option("--bpp", type=float, default=0.5, show_default=True, help="Target rate every codec is searched to.")
@click.option("--repeats", type=int, default=5, show_default=True, help="Timed runs per stage (median).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
def bench_command(image, codecs, bpp, repeats, as_json):
    """Time encode and decode of IMAGE (default: a built-in 768x512 picture) with each codec at --bpp."""
    img = read_image(image) if image else synthetic_image(512, 768)
    if img.ndim != 3 or img.dtype.name != "uint8":
        raise click.BadParameter("bench needs an 8-bit RGB image", param_hint="IMAGE")
    names = [c.strip() for c in codecs.split(",") if c.strip()]
    reasons = availability()
    unknown = [n for n in names if n not in reasons]
    if unknown:
        raise click.BadParameter(f"unknown codec(s) {unknown}; known: {sorted(reasons)}", param_hint="--codecs")
    rows = []
    for name in tqdm(names, desc="bench", unit="codec", disable=as_json):
        if reasons[name] is not None:
            rows.append({"codec": name, "status": f"unavailable: {reasons[name]}", "bpp": None})
            continue
        rows.append(time_codec(name, img, bpp, repeats))
    click.echo(json.dumps(rows, indent=2) if as_json else format_table(rows))
