"""Command line interface: ``jpegai-fast COMMAND``; each command lives in its own module."""
import click


@click.group()
@click.version_option(package_name="jpegai_fast")
def main():
    """jpegai_fast: a fast learned image codec in the spirit of JPEG AI."""


from .bench_cmd import bench_command  # noqa: E402
from .codec_cmds import decode, encode, info  # noqa: E402  (commands register on the group above)
from .eval_cmd import eval_command  # noqa: E402
from .profile_cmd import profile_command  # noqa: E402

for _command in (encode, decode, info, eval_command, profile_command, bench_command):
    main.add_command(_command)
