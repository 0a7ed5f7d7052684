"""The encoder's pixel-side helpers: a tile's pixels (analysis.crop_pixels) and the drawn-content statistic
(content.repeat_share), against their definitions written the slow way."""
import numpy as np
import pytest

from jpegai_fast import pixels
from jpegai_fast.encoder.analysis import crop_pixels
from jpegai_fast.encoder.content import repeat_share
from jpegai_fast.format.tiling import LATENT_PX


@pytest.mark.parametrize("shape", [(37, 53, 3), (37, 53), (16, 16, 3), (1, 1, 3), (70, 33, 3)])
def test_a_rectangle_is_the_same_crop_of_the_edge_padded_image(shape):
    rng = np.random.default_rng(len(shape) * 100 + shape[0])
    arr = rng.integers(0, 256, shape, dtype=np.uint8)
    lh, lw = -(-shape[0] // LATENT_PX), -(-shape[1] // LATENT_PX)
    planar = arr[None] if arr.ndim == 2 else arr.transpose(2, 0, 1)
    padded = pixels.pad_to_multiple(planar, LATENT_PX)
    for y0 in range(lh):
        for x0 in range(lw):
            for y1, x1 in [(lh, lw), (y0 + 1, x0 + 1), (lh, x0 + 1)]:
                got = crop_pixels(arr, (y0, y1, x0, x1))
                want = padded[:, y0 * LATENT_PX:y1 * LATENT_PX, x0 * LATENT_PX:x1 * LATENT_PX]
                want = want[0] if arr.ndim == 2 else want.transpose(1, 2, 0)
                assert np.array_equal(got, want), (y0, y1, x0, x1)


def test_a_rectangle_starting_outside_the_image_is_refused():
    with pytest.raises(ValueError, match="outside"):
        crop_pixels(np.zeros((20, 20, 3), np.uint8), (2, 3, 0, 1))


def _slow_share(colour):
    h, w = colour.shape[:2]
    if w < 2:
        return 0.0
    same = 0
    for y in range(h):
        for x in range(1, w):
            same += bool(np.all(colour[y, x] == colour[y, x - 1]))
    return same / (h * (w - 1))


@pytest.mark.parametrize("shape", [(9, 11, 3), (9, 11), (5, 7, 2), (4, 1, 3), (6, 13, 4)])
def test_repeat_share_counts_pixels_equal_to_their_left_neighbour_in_every_channel(shape):
    rng = np.random.default_rng(shape[1])
    colour = rng.integers(0, 2, shape, dtype=np.uint8)  # two levels: many repeats, some in one channel only
    assert repeat_share(colour) == pytest.approx(_slow_share(colour), abs=0)
