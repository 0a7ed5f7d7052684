"""Evaluation of jpegai_fast against classical anchors in JPEG AI common test conditions style.

Modules: ``codecs`` (adapters + registry), ``ratesearch`` (knob search to target rates), ``metrics``,
``bdrate`` (Bjontegaard, pchip; needs scipy), ``anchors`` (published Kodak points), ``runner`` (pool,
JSON/CSV/PNG). The names below are imported on first use, so the adapters (Pillow only, used by
``jpegai-fast demo``) work without the eval extra's scipy, torch and matplotlib.
"""
import importlib

_NAMES = {
    "CodecAdapter": "codecs", "Knob": "codecs", "register": "codecs", "get_codec": "codecs", "codec_names": "codecs",
    "availability": "codecs", "JPEG_AI_RATES": "ratesearch", "RatePoint": "ratesearch",
    "search_knob": "ratesearch", "search_knobs": "ratesearch", "bd_rate": "bdrate", "bd_quality": "bdrate",
    "bd_psnr": "bdrate",
}
__all__ = list(_NAMES)


def __getattr__(name):
    if name in _NAMES:
        return getattr(importlib.import_module(f"{__name__}.{_NAMES[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
