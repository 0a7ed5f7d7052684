"""``python -m jpegai_fast``: the same as the ``jpegai-fast`` command."""
from .cli import main

main(prog_name="jpegai-fast")
