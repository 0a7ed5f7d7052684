"""``python -m jpegai_fast.cli``: same as the ``jpegai-fast`` script."""
from . import main

main()
