"""Evaluation of jpegai_fast against classical anchors in JPEG AI common test conditions style.

Modules: ``codecs`` (adapters + registry), ``ratesearch`` (knob search to target rates), ``metrics``,
``bdrate`` (Bjontegaard, pchip), ``anchors`` (published Kodak points), ``runner`` (pool, JSON/CSV/PNG).
"""
from .bdrate import bd_psnr, bd_quality, bd_rate
from .codecs import Codec, Knob, availability, codec_names, get_codec, register
from .ratesearch import JPEG_AI_RATES, RatePoint, search_rate, search_rates

__all__ = [
    "Codec", "Knob", "register", "get_codec", "codec_names", "availability",
    "JPEG_AI_RATES", "RatePoint", "search_rate", "search_rates",
    "bd_rate", "bd_quality", "bd_psnr",
]
