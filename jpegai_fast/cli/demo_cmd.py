"""``jpegai-fast demo``: the README's main job (demo.py)."""
from __future__ import annotations

from pathlib import Path

import click


@click.command("demo")
@click.option("--image", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Image to code (default: the photograph shipped in the package).")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), default=Path("demo_out"), show_default=True,
              help="Folder for the decoded and side-by-side PNGs.")
@click.option("--bpp", "targets", type=float, multiple=True, help="Target rate (repeatable; default 0.12 0.25 0.5 1.0).")
@click.option("--threads", type=int, help="CPU threads (default all cores).")
def demo_command(image, out, targets, threads):
    """Code a real photograph at several rates; compare with JPEG and WebP at the same size."""
    from jpegai_fast.tools.demo import run
    try:
        run(image, out, list(targets) or [0.12, 0.25, 0.5, 1.0], threads)
    except (ValueError, TypeError, OSError) as e:
        raise click.ClickException(str(e))
