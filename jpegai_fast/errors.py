"""Exceptions raised by the public API."""


class DecodeError(ValueError):
    """The data is not a valid jpegai_fast stream (truncated, corrupted, wrong version or model)."""


class ImageTooLargeError(DecodeError):
    """The stream declares more pixels than ``jpegai_fast.format.limits.max_image_pixels`` allows."""


class PreviewFallbackWarning(UserWarning):
    """``decode(scale=s)`` found no preview head for the stream's model and used the full synthesis
    (the same pixels as an area downscale of the full decode, slower); docs/preview.md."""
