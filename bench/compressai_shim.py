"""Import CompressAI 1.2.8 for benchmarks on a machine without its heavy optional dependencies.

CompressAI's package __init__ imports its point-cloud and dataset registries, which need
torchvision, torch_geometric and pandas; PyPI's torchvision does not import beside the CPU torch
build used here. The image codecs never touch those modules, so stand-in modules are enough to
import it. Used only by bench/; the product never imports CompressAI.
"""
from __future__ import annotations

import importlib.machinery
import sys
import types

_STUBBED = ("torchvision", "torch_geometric", "pandas", "einops", "pytorch_msssim")


class _Anything(type):
    """A class that also works as a decorator, with or without arguments."""

    def __call__(cls, *args, **kwargs):
        if len(args) == 1 and callable(args[0]) and not kwargs:
            return args[0]
        return lambda f: f


class _StubLoader:
    def create_module(self, spec):
        mod = types.ModuleType(spec.name)
        mod.__path__ = []

        def __getattr__(attr):
            if attr.startswith("__"):
                raise AttributeError(attr)
            return sys.modules.get(f"{spec.name}.{attr}") or _Anything(attr, (), {})

        mod.__getattr__ = __getattr__
        return mod

    def exec_module(self, module):
        pass


class _StubFinder:
    def find_spec(self, fullname, path, target=None):
        root = fullname.split(".")[0]
        if root in _STUBBED and importlib.machinery.PathFinder.find_spec(root) is None:
            return importlib.machinery.ModuleSpec(fullname, _StubLoader())
        return None


def import_compressai():
    """Return the compressai module, or None when it is not installed."""
    try:
        import compressai  # noqa: F401
        return sys.modules["compressai"]
    except ModuleNotFoundError as e:
        if e.name == "compressai":
            return None
    sys.meta_path.insert(0, _StubFinder())
    for name in [m for m in sys.modules if m.startswith("compressai")]:
        del sys.modules[name]
    import compressai
    return compressai
