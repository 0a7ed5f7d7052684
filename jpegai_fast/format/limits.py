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
