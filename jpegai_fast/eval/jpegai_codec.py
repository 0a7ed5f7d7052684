"""jpegai_fast itself as an evaluation codec: its knob is the continuous quality 0..100."""
from __future__ import annotations

import numpy as np

from jpegai_fast.eval.codecs import CodecAdapter, Knob, check_image


class JpegAIFast(CodecAdapter):
    """jpegai_fast with the shipped model; quality maps onto the model's continuous rate parameter."""

    name = "jpegai_fast"
    description = "jpegai_fast (this project, shipped weights)"
    knob = Knob("quality", 0.0, 100.0, integer=False)

    def __init__(self, threads: int = 1):
        # one thread per worker: the runner already spreads images over the cores
        self.threads = threads

    def encode(self, img: np.ndarray, knob: float) -> bytes:
        import jpegai_fast
        return jpegai_fast.encode(check_image(img), quality=self._check_knob(knob), threads=self.threads)

    def decode(self, data: bytes) -> np.ndarray:
        import jpegai_fast
        try:
            return jpegai_fast.decode(data, threads=self.threads)
        except jpegai_fast.DecodeError as e:
            raise ValueError(f"cannot decode: {e}") from e
