"""``python -m jpegai_fast.cli``: the same as the ``jpegai-fast`` command."""
from jpegai_fast.cli import main

main(prog_name="jpegai-fast")
