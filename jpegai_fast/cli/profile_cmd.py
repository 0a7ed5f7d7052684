"""``jpegai-fast profile``: the complexity table (kMAC/px, parameters, time per stage, peak memory)."""
from __future__ import annotations

import json

import click

from jpegai_fast.tools.demo import synthetic_image
from jpegai_fast.files.images import read_image
from jpegai_fast.tools.profiling import format_report, profile


@click.command("profile")
@click.argument("image", required=False, type=click.Path(exists=True, dir_okay=False))
@click.option("--quality", type=float, default=50.0, show_default=True)
@click.option("--threads", type=int, help="CPU threads (default all cores).")
@click.option("--repeats", type=int, default=3, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of tables.")
def profile_command(image, quality, threads, repeats, as_json):
    """Profile encoder and decoder complexity on IMAGE (default: a built-in 768x512 picture)."""
    img = read_image(image) if image else synthetic_image(512, 768)
    result = profile(img, quality=quality, threads=threads, repeats=repeats)
    click.echo(json.dumps(result, indent=2) if as_json else format_report(result))
