"""Exceptions raised by the public API."""


class DecodeError(ValueError):
    """The data is not a valid jpegai_fast stream (truncated, corrupted, wrong version or model)."""


class ImageTooLargeError(DecodeError):
    """The stream declares more pixels than ``jpegai_fast.format.limits.max_image_pixels`` allows."""
