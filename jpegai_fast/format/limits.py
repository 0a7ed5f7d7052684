"""Configurable safety limits (like Pillow's MAX_IMAGE_PIXELS).

The decoder refuses a stream whose header declares more pixels than ``max_image_pixels`` *before* it
allocates anything, so a 20-byte hostile header cannot make it reserve gigabytes.
"""

#: Largest image (width * height) that decode() accepts. 2**28 admits 16384 x 16384.
max_image_pixels: int = 1 << 28


def set_max_image_pixels(n: int) -> None:
    """Change the pixel limit for decode (and encode). ``n`` must be a positive int."""
    global max_image_pixels
    if not isinstance(n, int) or isinstance(n, bool) or n <= 0:
        raise ValueError(f"max_image_pixels must be a positive int, got {n!r}")
    max_image_pixels = n


# --- bounds on what a stream may carry, beyond its size (checked by the decoder; not configurable) -----

#: The decoder bounds every latent value y_hat of channel c by what the model's analysis transform can
#: produce (decoder/latent.py, analysis_bound: |g_a(x)| for any x in [0, 1], by interval arithmetic over
#: the weights) times (1 + LATENT_BOUND_SLACK), for float rounding on any device, plus
#: LATENT_BOUND_STEPS quantisation steps: rounding (half a step) and the effort search, which moves y by
#: at most ~0.064 step per Adam iteration (lr 0.02, at most ~3.2 lr per step) over at most 400 of them
#: (~26 steps). A value beyond comes from no encoder, and it could overflow the float synthesis.
LATENT_BOUND_SLACK = 1.0 / 64
LATENT_BOUND_STEPS = 64
