"""Command line interface: ``jpegai-fast COMMAND``; each command lives in its own module.

Commands are imported only when run (or asked for --help), so ``jpegai-fast --help``, ``--version``
and ``info`` start in a fraction of a second and never import torch.
"""
from __future__ import annotations

import contextlib
import importlib
import os
import sys

# The commands do their heavy work in the C++ core's own threads (and torch's); numpy's OpenBLAS pool only
# gets in the way: its threads start with numpy and spin-wait ~0.1 s of CPU each, on a 2-core machine
# against the decode's threads (kodim23 CLI decode, measured). A user's setting wins; too late once numpy is in.
if "numpy" not in sys.modules:
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import click  # noqa: E402

#: name -> (module, attribute, one-line help shown by ``jpegai-fast --help``)
COMMANDS = {
    "encode": ("codec_cmds", "encode", "Compress an image file to a .jai stream."),
    "decode": ("codec_cmds", "decode", "Decompress a .jai stream to an image file."),
    "info": ("codec_cmds", "info", "Describe a stream without decoding it."),
    "batch": ("batch_cmd", "batch_command", "Encode/decode whole folders or object stores, resumably (Dask too)."),
    "demo": ("demo_cmd", "demo_command", "Encode a built-in photograph and compare with JPEG/WebP."),
    "eval": ("eval_cmd", "eval_command", "RD evaluation against classical codecs (BD-rates)."),
    "profile": ("profile_cmd", "profile_command", "kMAC/px, parameters, time per stage, peak memory."),
    "bench": ("bench_cmd", "bench_command", "Encode/decode speed side by side with other codecs."),
}


class _LazyGroup(click.Group):
    def list_commands(self, ctx):
        return list(COMMANDS)

    def get_command(self, ctx, name):
        if name not in COMMANDS:
            return None
        module, attr, _ = COMMANDS[name]
        with _extras_named(name):
            cmd = getattr(importlib.import_module(f"{__name__}.{module}"), attr)
        if not getattr(cmd, "_names_extras", False):      # once per command object
            cmd.invoke = _naming_extras(cmd.invoke, name)
            cmd._names_extras = True
        return cmd

    def format_commands(self, ctx, formatter):
        with formatter.section("Commands"):
            formatter.write_dl([(name, short) for name, (_, _, short) in COMMANDS.items()])


@contextlib.contextmanager
def _extras_named(command: str):
    """A command that needs an optional package ends in one line naming the extra (extras.py), not a traceback."""
    try:
        yield
    except ImportError as e:
        from jpegai_fast.extras import missing_extra
        line = missing_extra(e, f"`jpegai-fast {command}`")
        if line is None:
            raise
        raise click.ClickException(line) from None


def _naming_extras(invoke, command: str):
    def wrapped(ctx):
        with _extras_named(command):
            return invoke(ctx)
    return wrapped


def _version(ctx, param, value):
    if not value or ctx.resilient_parsing:
        return
    from jpegai_fast import __version__
    from jpegai_fast.core.cpu import isa as conv_isa
    from jpegai_fast.runtime.weights_file import read, SHIPPED_PROFILE
    try:
        model = f"model {read().model_id} ({SHIPPED_PROFILE})"
    except ValueError as e:
        model = f"model unavailable ({e})"
    click.echo(f"jpegai-fast {__version__}, {model}, SIMD {conv_isa()}")
    ctx.exit()


@click.group(cls=_LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--version", is_flag=True, expose_value=False, is_eager=True, callback=_version,
              help="Print the version, the shipped model id and the SIMD level in use, then exit.")
def main():
    """jpegai_fast: a fast learned image codec in the spirit of JPEG AI."""
    _exit_cleanly_on_sigterm()
    _one_line_warnings()


def _one_line_warnings() -> None:
    """A warning is one line on stderr, as the CLI's errors are (Python's format adds the source line)."""
    import warnings
    warnings.formatwarning = lambda message, category, *args, **kwargs: f"warning: {message}\n"


def _exit_cleanly_on_sigterm() -> None:
    """SIGTERM ends a command as Ctrl-C does, through Python's unwinding: an output being written
    removes its temporary file (files/atomic.py) and a batch records what finished (exit 143)."""
    import signal
    import sys

    def _terminate(signum, frame):
        sys.exit(128 + signum)
    try:
        signal.signal(signal.SIGTERM, _terminate)
    except ValueError:          # not the main thread (an embedding program): leave its handlers alone
        pass
