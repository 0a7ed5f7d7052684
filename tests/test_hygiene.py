"""The hygiene gate of the test command: the lint rules of pyproject.toml ([tool.ruff]) hold, and every
repository path that the docs, the README and the docstrings name exists (stale names are how docs rot)."""
import glob
import re
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
#: a repository path: a top-level folder of the project, or a package-relative module path (files/atomic.py)
PATH = re.compile(r"(?<![\w/.<-])((?:jpegai_fast|csrc|tests|scripts|bench|docs|training|\.ci)/[\w./-]*\w"
                  r"|[a-z_]+/[a-z_0-9]+\.(?:py|cpp|h|md|sh))(?![\w/])")
#: a path after one of these is a file the command writes, not one that must exist
OUTPUT_FLAG = re.compile(r"(--out|--export|--save-state|-o|>)\s*$")


def _documents():
    yield from (p for p in [ROOT / "README.md", ROOT / "CONTRIBUTING.md", *sorted((ROOT / "docs").glob("*.md"))]
                if p.exists())
    yield from sorted((ROOT / "jpegai_fast").rglob("*.py"))
    yield from sorted(p for p in (ROOT / "csrc").rglob("*") if p.suffix in (".h", ".cpp"))


def _exists(name: str, glob_prefix: bool) -> bool:
    for base in (ROOT, ROOT / "jpegai_fast", ROOT / "csrc", ROOT / "tests"):
        p = base / name
        if p.exists() or (glob_prefix and any(p.parent.glob(glob.escape(p.name) + "*"))):
            return True
    return False


def stale_paths(text: str) -> list[str]:
    out = []
    for m in PATH.finditer(text):
        name = m.group(1).rstrip(".")
        if OUTPUT_FLAG.search(text[max(0, m.start() - 16):m.start()]):
            continue
        glob_prefix = text[m.end():m.end() + 1] in ("*", "<", "{")
        if not _exists(name, glob_prefix):
            out.append(name)
    return out


def test_every_path_the_docs_name_exists():
    stale = {str(p.relative_to(ROOT)): s for p in _documents() if (s := stale_paths(p.read_text()))}
    assert not stale, f"paths named but missing: {stale}"


def test_the_path_check_can_fail():
    assert stale_paths("see jpegai_fast/files/atomic.py and files/no_such_module.py") == ["files/no_such_module.py"]
    assert stale_paths("python x.py --out bench/results/new.json") == []
    assert stale_paths("logs in docs/training_logs/campaign_*.csv") == []


def test_ruff_lint_gate():
    ruff = shutil.which("ruff")
    if ruff is None:
        pytest.skip("ruff is not installed (the [test] extra installs it)")
    r = subprocess.run([ruff, "check", "--no-cache", "--output-format", "concise", "."], cwd=ROOT,
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stdout[-4000:] + r.stderr[-2000:]


def test_clang_format_gate():
    """csrc/ is formatted by .clang-format (the [test] extra pins clang-format, so the check is stable)."""
    exe = shutil.which("clang-format")
    if exe is None:
        pytest.skip("clang-format is not installed (the [test] extra installs it)")
    files = sorted(str(p) for p in (ROOT / "csrc").rglob("*") if p.suffix in (".h", ".cpp"))
    r = subprocess.run([exe, "--dry-run", "--Werror", *files], cwd=ROOT, capture_output=True, text=True,
                       timeout=120)
    assert r.returncode == 0, r.stderr[-4000:]
