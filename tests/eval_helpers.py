"""Shared helpers of the evaluation tests: synthetic images and a stub codec with a known size(knob)."""
import numpy as np

from jpegai_fast.eval.codecs import Codec, Knob, check_image


def smooth_image(h=176, w=192, seed=0) -> np.ndarray:
    """A natural-ish RGB uint8 image: gradients plus mild texture (compresses like a photo, not like noise)."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:h, 0:w].astype(np.float64)
    img = np.stack([128 + 60 * np.sin(x / 17 + c) * np.cos(y / 23 - c) for c in range(3)], axis=-1)
    img += rng.normal(0, 6, img.shape)
    return np.clip(np.round(img), 0, 255).astype(np.uint8)


class StubCodec(Codec):
    """Deterministic sizes: the file has size_fn(knob) bytes; decode returns a grey image of the stored size."""

    def __init__(self, knob: Knob, size_fn, name="stub"):
        self.knob, self.size_fn, self.name = knob, size_fn, name
        self.description = "stub codec for tests"
        self.calls = 0

    def encode(self, img, knob):
        k = self._check_knob(knob)
        img = check_image(img)
        self.calls += 1
        n = max(int(self.size_fn(k)), 4)
        header = img.shape[0].to_bytes(2, "big") + img.shape[1].to_bytes(2, "big")
        return header + b"\0" * (n - 4)

    def decode(self, data):
        h, w = int.from_bytes(data[:2], "big"), int.from_bytes(data[2:4], "big")
        return np.full((h, w, 3), 128, np.uint8)
