"""The encode options and their one bounds table, used by the API, the CLI, the Pillow plugin and batch.

Every entry point hands its user values to ``EncodeOptions.from_user`` (or one value to ``check_value``),
so all of them accept and refuse the same things: Python and numpy integers for int options, those and
Python/numpy floats for number options; bools, strings, NaN, infinities and values outside the range
are a ValueError that names the option and its range. One bound depends on what is known only later
(the image's bit depth for alpha_bits): ``check_alpha_bits`` narrows the table's range with the same
message.
"""
from __future__ import annotations

import dataclasses
import importlib.util
import numbers
from dataclasses import dataclass

import numpy as np

from jpegai_fast.encoder.effort import DEFAULT_EFFORT, EFFORT_MAX, EFFORT_MIN
from jpegai_fast.extras import install_hint
from jpegai_fast.format.container import MAX_LAYERS, max_near
from jpegai_fast.format.tiling import MAX_TILE

#: Where cwebp's default lands on Kodak 1-4 (Pillow WebP q75: 35.36 dB, 0.88 bpp; ours at 70: 35.06 dB,
#: 1.06 bpp with model 0def0dca). 50 gave 31.5 dB: users read the default as "good", not "half".
DEFAULT_QUALITY = 70.0
#: Largest bpp target: 16-bit RGBA stored raw. Rate control tops out far below; above it is a typo.
MAX_BPP = 64.0
#: PSNR targets (dB, PSNR-RGB at the image's bit depth): below 10 dB nothing is left of a picture, and
#: 99 dB is beyond any model's reach (a target the model cannot reach gives its highest rate, with a warning).
PSNR_RANGE = (10.0, 99.0)
#: Largest size target in bytes (what a stream may hold: format/limits.py's pixel limit is far below).
MAX_SIZE = 1 << 40
#: The rate knobs: at most one is given; none means quality DEFAULT_QUALITY.
RATE_KNOBS = ("bpp", "quality", "psnr", "size")


@dataclass(frozen=True)
class Bound:
    """One row of the table: the type the value becomes, its range, and a step for int options."""

    kind: type                 # int, float or bool (a switch: lo and hi unused)
    lo: float
    hi: float
    lo_open: bool = False      # the range excludes lo (bpp > 0)
    step: int = 1              # int options: a multiple of step (tile sizes)

    def describe(self, hi=None) -> str:
        hi = self.hi if hi is None else hi
        if self.kind is bool:
            return "a bool"
        if self.kind is float:
            return f"a number in {'(' if self.lo_open else '['}{self.lo:g}, {hi:g}]"
        if self.step > 1:
            return f"a multiple of {self.step} in {self.lo}..{hi}"
        return f"an int in {self.lo}..{hi}"


#: The bounds table. alpha_bits is narrowed later (check_alpha_bits);
#: bit_depth is tied to the image's dtype by pixels.check_image.
BOUNDS: dict[str, Bound] = {
    "bpp": Bound(float, 0.0, MAX_BPP, lo_open=True),
    "quality": Bound(float, 0.0, 100.0),
    "psnr": Bound(float, *PSNR_RANGE),
    "size": Bound(int, 1, MAX_SIZE),
    "effort": Bound(int, EFFORT_MIN, EFFORT_MAX),
    "tile_size": Bound(int, 4, MAX_TILE, step=4),
    "layers": Bound(int, 1, MAX_LAYERS),
    "bit_depth": Bound(int, 8, 16),
    "alpha_bits": Bound(int, 1, 16),
    "lossless": Bound(bool, 0, 1),
    "max_error": Bound(int, 0, 32767),     # narrowed by the bit depth (check_max_error)
}
#: Options that a lossless or near-lossless encode has no use for (each one away from its default is a
#: ValueError naming it): the rate knobs, the model's effort and layers, and alpha_bits (the alpha plane is
#: coded exactly). tile_size applies to both (a model-free stream's tiles: encoder/lossless.TILE_SIZE).
LOSSLESS_CONFLICTS = RATE_KNOBS + ("effort", "layers", "alpha_bits")
#: ... and those a progressive-to-lossless encode (lossless=True, layers >= 2) has no use for: the rate
#: knobs and effort set its learned base, layers - 1 are the base's layers; the alpha plane is exact.
PROGRESSIVE_LOSSLESS_CONFLICTS = ("alpha_bits",)


def _is_number(value, kind: type) -> bool:
    if kind is bool:
        return isinstance(value, (bool, np.bool_))
    if isinstance(value, (bool, np.bool_)):          # True is an int to Python, never an option value
        return False
    wanted = numbers.Integral if kind is int else numbers.Real     # numpy scalars register with numbers
    return isinstance(value, wanted)


def check_value(name: str, value, hi=None):
    """``value`` of option ``name`` as the table's type, or ValueError naming the option and its range.

    The range is compared before any conversion, so 10**400 is refused rather than overflowing float().
    """
    b = BOUNDS[name]
    hi = b.hi if hi is None else hi
    ok = _is_number(value, b.kind) and (b.kind is bool or (b.lo < value if b.lo_open else b.lo <= value) and value <= hi)
    if ok and b.kind is int:
        ok = int(value) % b.step == 0
    if not ok:                                          # NaN fails every comparison and lands here
        raise ValueError(f"{name} must be {b.describe(hi)}, got {value!r}")
    return b.kind(value)


def require_torch(effort: int) -> None:
    """Effort levels above 1 run torch autograd: say which extra to install before any work starts."""
    if effort > DEFAULT_EFFORT and importlib.util.find_spec("torch") is None:
        raise ModuleNotFoundError(f"effort={effort} needs torch, which is not installed: {install_hint('torch')}",
                                  name="torch")


def checked(values: dict) -> dict:
    """A front end's option dict (batch's ``options=``) checked by the table, torch included for effort:
    the same names with normalised values, None dropped; ready to pass on as ``encode`` keyword arguments."""
    opts = EncodeOptions.from_user(**values)
    require_torch(opts.effort)
    return {name: getattr(opts, name) for name, value in values.items() if value is not None}


@dataclass(frozen=True)
class EncodeOptions:
    """Checked encode options (each through BOUNDS); None means the default (quality: DEFAULT_QUALITY)."""

    bpp: float | None = None
    quality: float | None = None
    psnr: float | None = None
    size: int | None = None
    effort: int = DEFAULT_EFFORT
    tile_size: int | None = None      # None: DEFAULT_TILE_SIZE, or lossless.TILE_SIZE without a model
    layers: int = 1
    bit_depth: int | None = None
    alpha_bits: int | None = None
    lossless: bool = False
    max_error: int = 0

    def __post_init__(self):
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if value is not None:
                object.__setattr__(self, f.name, check_value(f.name, value))
        given = [name for name in RATE_KNOBS if getattr(self, name) is not None]
        if len(given) > 1:
            raise ValueError(f"give one of {', '.join(k + '=' for k in RATE_KNOBS)} not {' and '.join(given)}")
        if self.lossless and self.max_error:
            raise ValueError(f"lossless=True codes the image exactly: max_error={self.max_error} cannot be given "
                             "with it (max_error alone selects the near-lossless coder)")
        if self.lossless or self.max_error:
            defaults = {f.name: f.default for f in dataclasses.fields(self)}
            rules = PROGRESSIVE_LOSSLESS_CONFLICTS if self.progressive_lossless else LOSSLESS_CONFLICTS
            clash = [name for name in rules if getattr(self, name) != defaults[name]]
            if clash:
                what = (f"max_error={self.max_error} bounds every sample's error" if self.max_error
                        else f"lossless=True{', layers=' + str(self.layers) if self.progressive_lossless else ''} "
                        "codes the image exactly")
                raise ValueError(f"{what}: {', '.join(n + '=' for n in clash)} cannot be given with it")

    @property
    def model_free(self) -> bool:
        """Coded by the plane coder without a model: lossless=True (one layer), or near-lossless (max_error >= 1)."""
        return (self.lossless and self.layers == 1) or self.max_error > 0

    @property
    def progressive_lossless(self) -> bool:
        """lossless=True with layers >= 2: a learned base of layers - 1 layers, then the exact layer
        (encoder/progressive_lossless.py)."""
        return self.lossless and self.layers > 1

    @classmethod
    def from_user(cls, **values) -> "EncodeOptions":
        """Options from user keyword values; None means the default, an unknown name is a ValueError."""
        unknown = set(values) - set(BOUNDS)
        if unknown:
            raise ValueError(f"unknown encode options: {sorted(unknown)} (known: {', '.join(BOUNDS)})")
        return cls(**{k: v for k, v in values.items() if v is not None})

    def target_bytes(self, height: int, width: int) -> float | None:
        """The size target in bytes that bpp= or size= sets (alpha included), else None."""
        if self.size is not None:
            return float(self.size)
        return None if self.bpp is None else self.bpp * height * width / 8.0

    def kwargs(self) -> dict:
        """The options as ``jpegai_fast.encode`` keyword arguments."""
        return dataclasses.asdict(self)

    def check_max_error(self, bit_depth: int) -> int:
        """The near-lossless bound, checked against the image's bit depth (container.max_near)."""
        hi = max_near(bit_depth)
        if self.max_error > hi:
            raise ValueError(f"max_error must be {BOUNDS['max_error'].describe(hi)} for {bit_depth}-bit samples, "
                             f"got {self.max_error}")
        return self.max_error

    def check_alpha_bits(self, bit_depth: int) -> int:
        """The bits the alpha plane is coded with: all of the image's bit depth unless alpha_bits says fewer."""
        if self.alpha_bits is None:
            return bit_depth
        if self.alpha_bits > bit_depth:
            raise ValueError(f"alpha_bits must be {BOUNDS['alpha_bits'].describe(bit_depth)} (the bit depth), "
                             f"got {self.alpha_bits}")
        return self.alpha_bits
