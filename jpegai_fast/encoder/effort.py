"""Encoder effort levels, in the spirit of cjxl's: 1 is today's encoder, higher is slower and smaller.

Levels above 1 run the effort search (effort_search.py, torch autograd): test-time optimisation of
the latents against the real decoder. This module is torch-free so the CLI and the API can check a
level without importing torch.
"""
from __future__ import annotations

EFFORT_MIN, EFFORT_MAX = 1, 9
DEFAULT_EFFORT = 1
#: SGA iterations per effort level (index = effort). One iteration costs about one forward and
#: backward of g_s and h_s over the tile, ~0.15 s for a Kodak image on 2 cores; most of the gain
#: comes in the first 100 (docs/benchmarks.md has the measured time/BD-rate curve).
ITERATIONS = (0, 0, 10, 20, 35, 50, 80, 130, 200, 400)
#: Adam step in units of the quantisation step. SGA used 5e-3 for 2000 iterations; with 10-400
#: 2e-2 measured best (kodim23 at 0.18 bpp, 100 iterations: 5e-3 -10 %, 2e-2 -14 %, 5e-2 0 %
#: equivalent rate).
LEARNING_RATE = 2e-2


def check_effort(effort) -> int:
    """Validate a user effort level (int 1..9; None = default) by the options table (options.py)."""
    from jpegai_fast.encoder.options import check_value     # options imports this module's constants
    return DEFAULT_EFFORT if effort is None else check_value("effort", effort)
