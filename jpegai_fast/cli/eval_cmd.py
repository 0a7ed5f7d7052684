"""``jpegai-fast eval``: RD evaluation of codecs on a folder of images, BD-rates printed as a table."""
from __future__ import annotations

from pathlib import Path

import click

from jpegai_fast.eval import anchors, codecs, metrics
from jpegai_fast.eval.ratesearch import JPEG_AI_RATES

_DEFAULT_PUBLISHED = ("vtm", "bpg", "cheng2020-anchor")


def _csv_list(value: str) -> list[str]:
    return [v.strip() for v in value.split(",") if v.strip()]


def _parse_rates(ctx, param, value):
    try:
        rates = [float(v) for v in _csv_list(value)]
    except ValueError:
        raise click.BadParameter(f"rates must be comma-separated numbers, got {value!r}")
    if not rates or any(not r > 0 for r in rates):
        raise click.BadParameter("rates must be positive bits per pixel")
    return sorted(set(rates))


def _fmt(v, width=9):
    return f"{'n/a':>{width}}" if v is None else f"{v:>{width}.2f}"


def format_table(report) -> str:
    """The BD-rate table printed by the command (also used by docs)."""
    lines = []
    cols = [m for m in report.metric_names]
    head = f"{'codec':<12} {'points':>6} " + " ".join(f"{m:>9}" for m in cols)
    pub_cols = [(k, m) for k in report.published for m in ("psnr_rgb", "ms_ssim") if m in cols]
    head += "".join(f" {k + ':' + m.split('_')[0]:>16}" for k, m in pub_cols)
    if report.anchor:
        lines.append(f"BD-rate [%] vs {report.anchor} (mean curves over {len(report.config['images'])} images;"
                     " negative = fewer bits)")
    lines += [head, "-" * len(head)]
    for codec, cur in report.curves.items():
        row = f"{codec:<12} {len(cur['bpp']):>6} "
        row += " ".join(_fmt(report.bd.get(codec, {}).get(m)) for m in cols) if report.bd else ""
        row += "".join(f" {_fmt(report.bd_published[k][codec].get(m), 16)}" for k, m in pub_cols)
        if cur["missing"]:
            row += f"   unreachable: {', '.join(str(t) for t in cur['missing'])}"
        lines.append(row)
    return "\n".join(lines)


@click.command("eval")
@click.argument("folder", required=False, type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--codecs", "codec_list", default="jpegai_fast,jpeg,webp,jpeg2000,avif,heic,jxl", show_default=True,
              help="Comma-separated codec names (see --list).")
@click.option("--rates", default=",".join(str(r) for r in JPEG_AI_RATES), show_default=True,
              callback=_parse_rates, help="Target rates in bpp.")
@click.option("--anchor", default="jpeg2000", show_default=True, help="Evaluated codec the BD-rates refer to ('none': no BD table).")
@click.option("--metrics", "metric_list", default=",".join(metrics.CORE_METRICS), show_default=True,
              help="Comma-separated metrics, or 'all' for every available one (piq ones cost ~1.6 s a point).")
@click.option("--published", default="auto", show_default=True,
              help="Published Kodak curves to compare with (e.g. vtm,bpg), 'none', or 'auto' (vtm, bpg, "
                   "cheng2020-anchor when FOLDER holds the 24 Kodak images).")
@click.option("--out", "out_dir", default="results", show_default=True, type=click.Path(path_type=Path),
              help="Output folder for results.json, results.csv and rd.png.")
@click.option("-j", "--jobs", default=1, show_default=True, type=click.IntRange(1, 64), help="Worker processes.")
@click.option("--limit", default=None, type=click.IntRange(1), help="Only the first N images (by name).")
@click.option("--tolerance", default=0.10, show_default=True, type=click.FloatRange(0, 0.5),
              help="Allowed relative overshoot of a target rate.")
@click.option("--reuse", multiple=True, type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Earlier results.json: its rows for the same images/codecs/rates are not recomputed "
                   "(repeatable; splits long runs by codec).")
@click.option("--list", "list_only", is_flag=True, help="List codecs and metrics with their availability; exit.")
@click.option("--quiet", is_flag=True, help="No progress bar.")
def eval_command(folder, codec_list, rates, anchor, metric_list, published, out_dir, jobs, limit, tolerance,
                 reuse, list_only, quiet):
    """Search each codec to each target rate on the images in FOLDER, measure quality, print BD-rates and
    write results.json, results.csv and rd.png to --out."""
    from jpegai_fast.eval import runner

    if list_only:
        click.echo("codecs:")
        for name, why in codecs.availability().items():
            click.echo(f"  {name:<10} {'available' if why is None else 'unavailable: ' + why}")
        click.echo("metrics:")
        for name, why in metrics.metric_availability().items():
            click.echo(f"  {name:<10} {'available' if why is None else 'unavailable: ' + why}")
        click.echo("published Kodak curves: " + ", ".join(anchors.published_names()))
        return
    if folder is None:
        raise click.UsageError("missing argument FOLDER (a folder of images)")
    names = _csv_list(codec_list)
    if not names:
        raise click.BadParameter("no codec given", param_hint="--codecs")
    for n in names:
        if n not in codecs.codec_names():
            raise click.BadParameter(f"unknown codec {n!r}; known: {', '.join(codecs.codec_names())}",
                                     param_hint="--codecs")
        why = codecs.get_codec(n).unavailable_reason()
        if why:
            raise click.UsageError(f"codec {n} is unavailable here: {why}")
    if metric_list == "all":
        metric_names = [m for m, why in metrics.metric_availability().items() if why is None]
    else:
        metric_names = _csv_list(metric_list)
        avail = metrics.metric_availability()
        for m in metric_names:
            if m not in avail:
                raise click.BadParameter(f"unknown metric {m!r}; known: {', '.join(avail)}", param_hint="--metrics")
            if avail[m] is not None:
                raise click.UsageError(f"metric {m} is unavailable here: {avail[m]}")
    if anchor and anchor.lower() == "none":
        anchor = None
    if anchor is not None and anchor not in names:
        raise click.BadParameter(f"anchor {anchor!r} is not among --codecs", param_hint="--anchor")
    try:
        images = runner.find_images(folder)
    except ValueError as e:
        raise click.ClickException(str(e))
    if published == "auto":
        kodak = len(images) == 24 and all(p.name.startswith("kodim") for p in images) and limit in (None, 24)
        pub = list(_DEFAULT_PUBLISHED) if kodak else []
    elif published == "none":
        pub = []
    else:
        pub = _csv_list(published)
        for k in pub:
            if k not in anchors.published_names():
                raise click.BadParameter(f"unknown published curve {k!r}; known: "
                                         f"{', '.join(anchors.published_names())}", param_hint="--published")
    try:
        report = runner.evaluate(folder, names, rates, metric_names, anchor, pub, jobs, limit, tolerance,
                                 progress=not quiet, reuse=reuse)
    except ValueError as e:
        raise click.ClickException(str(e))
    paths = report.write(out_dir)
    click.echo(format_table(report))
    if pub:
        click.echo(f"published curves: {anchors.source()}")
        n = len(images) if limit is None else min(limit, len(images))
        if n != 24:
            click.echo(f"note: the published curves are means over the 24 Kodak images; this run has {n} "
                       "image(s), so BD-rates against them compare different image sets", err=True)
    click.echo(f"wrote {paths['json']}, {paths['csv']}, {paths['png']} ({report.config['wall_s']} s)")
