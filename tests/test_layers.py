"""The package's layers (docs/architecture.md points here: this file is the one home of the rules).

Every import in jpegai_fast/, lazy ones inside functions included (parsed with ``ast``, never run), must
go to its own layer or one below it, and only the torch layers import torch. An import that breaks the
rules fails the test unless EXCEPTIONS names it with the reason it stays.
"""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "jpegai_fast"
COMPILED_CORE = "jpegai_fast._core"

#: Layers, lowest first. A unit is a subpackage (``core``) or a top-level module (``pixels``); a module
#: may import its own unit and the units of lower layers. Units in one layer do not import each other.
LAYERS: list[tuple[str, ...]] = [
    ("_core", "errors", "extras", "worker_exit"),   # leaves: the compiled core, error types, the extras' names
    ("core",),                 # thin numpy wrappers of the C++ core
    ("format",),               # every stream rule
    ("pixels",),               # array checks and model I/O conversion
    ("runtime",),              # one loaded model, torch-free
    ("decoder",),
    ("encoder",),              # measures with the decoder (a PSNR target), as an encoder's reconstruction loop does
    ("api",),
    ("__init__",),             # the package's lazy front (encode/decode/info from api)
    ("pillow", "files"),       # around the codec
    ("model",),                # torch from here on
    ("training", "eval"),
    ("tools",),
    ("cli",),
    ("__main__",),             # python -m jpegai_fast: the CLI
]
RANK = {unit: rank for rank, units in enumerate(LAYERS) for unit in units}
#: Units that may import torch (at module level or lazily).
TORCH_UNITS = {"model", "training", "eval"}

#: (importing module, imported unit or "torch") -> why it stays. Each one is a known debt (issue 30),
#: except where the reason says it is the design.
EXCEPTIONS: dict[tuple[str, str], str] = {
    # torch adapters in core/: build the C++ objects from torch modules (tests, scripts, bench use them).
    # Moving them to model/ means renaming ~40 call sites in tests and bench.
    ("jpegai_fast.core.conv", "torch"): "from_module: torch nn.Sequential -> conv engine layers",
    ("jpegai_fast.core.conv", "model"): "from_module reads model.layers.GDN",
    ("jpegai_fast.core.intpath", "torch"): "from_module: torch h_s -> integer hyper-synthesis",
    ("jpegai_fast.core.int_synthesis_torch", "torch"): "the integer synthesis on a torch device (the CUDA decode "
                                                       "of version-7 streams); imported only for a device",
    # runtime.Engine is half a torch device manager: the torch model of the same weights for device="cuda",
    # the effort search and the tests' whole-image references, loaded lazily.
    ("jpegai_fast.runtime.engine", "model"): "Engine.model: the torch model of the weights, lazily",
    ("jpegai_fast.runtime.engine", "torch"): "accelerator transforms and whole-image references",
    ("jpegai_fast.runtime.execution", "torch"): "resolve_device: a torch.device for device='cuda'",
    # the effort search is torch autograd by design: a torch-layer module kept beside the encoder it
    # serves, imported only for effort > 1 (encoder/pipeline.py, lazily)
    ("jpegai_fast.encoder.effort_search", "torch"): "SGA over the latent: torch autograd",
    ("jpegai_fast.encoder.effort_search", "model"): "the likelihoods the coder uses (model.entropy_models)",
}


def unit_of(module: str) -> str:
    """jpegai_fast.core.rans -> core; jpegai_fast.api -> api; jpegai_fast -> __init__."""
    parts = module.split(".")
    return "__init__" if len(parts) == 1 else parts[1]


def module_name(path: Path) -> str:
    rel = path.relative_to(PACKAGE.parent).with_suffix("")
    parts = list(rel.parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _resolve(module: str, is_package: bool, node: ast.ImportFrom) -> list[str]:
    """The absolute names an ``from ... import ...`` brings in (a name that is a submodule counts as one)."""
    if node.level:
        base = module.split(".")
        base = base[:len(base) - node.level + (1 if is_package else 0)]
        target = ".".join(base + ([node.module] if node.module else []))
    else:
        target = node.module or ""
    out = []
    for alias in node.names:
        sub = f"{target}.{alias.name}"
        path = PACKAGE.parent / Path(*sub.split("."))
        # the compiled core by its name: a fresh clone's source tree has no _core*.so (it is installed)
        is_module = sub == COMPILED_CORE or path.is_dir() or path.with_suffix(".py").is_file()
        out.append(sub if is_module else target)
    return out


def imports(source: str, module: str, is_package: bool = False) -> list[tuple[str, int]]:
    """(imported absolute module, line) for every import statement of ``source``, wherever it sits."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found += [(a.name, node.lineno) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            found += [(name, node.lineno) for name in _resolve(module, is_package, node)]
    return found


def broken_rules(module: str, found: list[tuple[str, int]]) -> list[tuple[str, str, int]]:
    """(imported module, its unit or "torch", line) of each import of ``module`` that the layers forbid."""
    src = unit_of(module)
    bad = []
    for target, line in found:
        top = target.split(".")[0]
        if top == "torch":
            if src not in TORCH_UNITS:
                bad.append((target, "torch", line))
        elif top == "jpegai_fast":
            dst = unit_of(target)
            if dst != src and RANK[dst] >= RANK[src]:
                bad.append((target, dst, line))
    return bad


def package_imports():
    """(module, its file, its imports) for every module of the package."""
    for path in sorted(PACKAGE.rglob("*.py")):
        module = module_name(path)
        yield module, path, imports(path.read_text(), module, path.name == "__init__.py")


def test_every_unit_has_a_layer():
    units = {unit_of(module) for module, _, _ in package_imports()} | {"_core"}
    assert units == set(RANK), f"units without a layer: {units - set(RANK)}; layers without a unit: {set(RANK) - units}"


def test_imports_follow_the_layers():
    bad = [f"{path.relative_to(PACKAGE.parent)}:{line}: {unit_of(module)} imports {target}"
           for module, path, found in package_imports()
           for target, dst, line in broken_rules(module, found) if (module, dst) not in EXCEPTIONS]
    assert bad == []


def test_every_exception_is_still_needed():
    """An exception whose import is gone is removed, so the list stays the debt that exists."""
    used = {(module, dst) for module, _, found in package_imports() for _, dst, _ in broken_rules(module, found)}
    assert set(EXCEPTIONS) - used == set()


@pytest.mark.parametrize("source, target", [
    ("from jpegai_fast.pixels import check_image\n", "jpegai_fast.pixels"),
    ("def f():\n    import torch.nn as nn\n", "torch.nn"),
    ("def f():\n    from jpegai_fast.tools import batch\n", "jpegai_fast.tools.batch"),
    ("from ..encoder import pipeline\n", "jpegai_fast.encoder.pipeline"),
    ("from .. import api\n", "jpegai_fast.api"),
])
def test_a_forbidden_import_is_found(source, target):
    """Module-level, lazy and relative imports are all seen (as if in a core/ module)."""
    found = imports(source, "jpegai_fast.core.planted")
    assert [t for t, _, _ in broken_rules("jpegai_fast.core.planted", found)] == [target]


def test_an_allowed_import_passes():
    found = imports("from ..format import tiling\nfrom jpegai_fast.core import rans\nimport numpy\n",
                    "jpegai_fast.encoder.planted")
    assert broken_rules("jpegai_fast.encoder.planted", found) == []
