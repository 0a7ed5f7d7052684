"""``jpegai-fast batch encode|decode SRC... -o DST``: whole collections, locally or on a Dask cluster (batch.py)."""
from __future__ import annotations

import click

from jpegai_fast.cli.codec_cmds import SCALE_CHOICE, EncodeOption


@click.command("batch")
@click.argument("mode", type=click.Choice(["encode", "decode"]))
@click.argument("sources", nargs=-1, required=True)
@click.option("-o", "--output", "dst", required=True, help="Destination folder or fsspec URL (mirrors the sources).")
@click.option("--workers", type=click.IntRange(0), help="Local worker processes (default: one per core; 0: in this process).")
@click.option("--scheduler", help="Run the tasks on this Dask cluster (tcp://host:port) instead of locally.")
@click.option("--verify", is_flag=True, help="Decode every output again and check shape, dtype (and --min-psnr).")
@click.option("--min-psnr", type=float, help="With --verify: fail an encode whose PSNR is below this.")
@click.option("--bpp", type=EncodeOption("bpp"), help="Target bits per pixel (encode).")
@click.option("-q", "--quality", type=EncodeOption("quality"), help="0..100 (encode; default 70).")
@click.option("-e", "--effort", type=EncodeOption("effort"), help="Encoder effort 1..9 (encode).")
@click.option("--tile-size", type=EncodeOption("tile_size"), help="Tile side in latent positions (encode).")
@click.option("--layers", type=EncodeOption("layers"), help="Progressive layers (encode).")
@click.option("--bit-depth", type=EncodeOption("bit_depth"),
              help="Bits per sample of 16-bit sources that hold fewer (encode).")
@click.option("--lossless", is_flag=True, help="Exact copies (encode; no rate option with it).")
@click.option("--max-error", type=EncodeOption("max_error"),
              help="Near-lossless: every colour sample within +-N (encode; no rate option with it).")
@click.option("--format", "fmt", default=None, help="Output image type for decode (png, tif, ...; default png).")
@click.option("--strip", is_flag=True,
              help="Drop the ICC profile, EXIF and XMP (kept by default); the orientation stays.")
@click.option("--auto-orient", is_flag=True, help="Decode: turn the pixels as the EXIF orientation says.")
@click.option("--scale", type=SCALE_CHOICE, default=None,
              help="Decode at 1/S size (thumbnails of a collection, from the preview head; docs/preview.md).")
@click.option("--overwrite", is_flag=True,
              help="Replace existing files that no batch into DST wrote (default: refuse before any work).")
@click.option("--quiet", is_flag=True, help="No progress bar; errors only.")
def batch_command(mode, sources, dst, workers, scheduler, verify, min_psnr, bpp, quality, effort, tile_size, layers,
                  bit_depth, lossless, max_error, fmt, strip, auto_orient, scale, overwrite, quiet):
    """Encode or decode every image (or .jai stream) under SRC... into DST, resumably.

    SRC: folders (recursive), globs, @filelist.txt, or fsspec URLs. DST/manifest.jsonl records every file;
    a rerun skips what is done. Existing files that a batch into DST did not write are never replaced
    without --overwrite. Exit status 1 if any file failed; Ctrl-C or SIGTERM stop after the running
    files (recorded; a rerun resumes) with status 130 / 143.
    """
    from jpegai_fast.tools import batch
    options = {"bpp": bpp, "quality": quality, "effort": effort, "tile_size": tile_size, "layers": layers,
               "bit_depth": bit_depth, "lossless": lossless or None, "max_error": max_error} if mode == "encode" else {}
    if mode == "decode" and (lossless or any(v is not None for v in (bpp, quality, effort, tile_size, layers, bit_depth,
                                                                       max_error))):
        raise click.UsageError("encode options (--bpp, -q, -e, --tile-size, --layers, --bit-depth, --lossless, --max-error) "
                               "need 'batch encode'")
    if mode == "encode" and scale is not None:
        raise click.UsageError("--scale needs 'batch decode'")
    suffix = None if not fmt else "." + fmt.lower().lstrip(".")
    try:
        report = batch.run(mode, sources, dst, workers=workers, scheduler=scheduler, verify=verify,
                           min_psnr=min_psnr, options=options, out_suffix=suffix, progress=not quiet,
                           overwrite=overwrite, strip=strip, auto_orient=auto_orient,
                           scale=int(scale or 1))
    except (ValueError, TypeError, OSError, ImportError) as e:
        raise click.ClickException(str(e))
    except KeyboardInterrupt:
        click.echo("interrupted: the files that finished are recorded in the manifest; rerun to resume", err=True)
        raise SystemExit(130)
    for row in report.rows:
        if row["status"] != "ok":
            click.echo(f"failed: {row['source']}: {row['error']}", err=True)
    if not quiet or not report.ok:
        rate = report.done / report.seconds if report.seconds > 0 else 0.0
        click.echo(f"{report.done} done, {report.failed} failed, {report.skipped} skipped (already done) in "
                   f"{report.seconds:.1f} s ({rate:.2f} images/s)", err=True)
    if not report.ok:
        raise SystemExit(1)
