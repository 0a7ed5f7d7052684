"""Torch model of jpegai_fast: transforms, entropy models, gain units, context model."""
from jpegai_fast.model.codec import PROFILES, Codec, CodecConfig, get_config
from jpegai_fast.model.context import MASK, MaskedGroupedConv5x5
from jpegai_fast.model.gain import DEFAULT_LAMBDAS, GainUnits

__all__ = ["Codec", "CodecConfig", "PROFILES", "get_config", "MASK", "MaskedGroupedConv5x5",
           "GainUnits", "DEFAULT_LAMBDAS"]
