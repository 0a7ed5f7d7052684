"""``python -m jpegai_fast.cli``: the same as the ``jpegai-fast`` command."""
from . import main

main(prog_name="jpegai-fast")
