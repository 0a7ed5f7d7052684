"""Torch model of jpegai_fast: transforms, entropy models, gain units, context model."""
from .codec import PROFILES, Codec, CodecConfig, get_config
from .context import MASK, MaskedGroupedConv5x5
from .gain import DEFAULT_LAMBDAS, GainUnits

__all__ = ["Codec", "CodecConfig", "PROFILES", "get_config", "MASK", "MaskedGroupedConv5x5",
           "GainUnits", "DEFAULT_LAMBDAS"]
