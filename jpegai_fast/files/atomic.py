"""Never lose a user's file: the output policy every writer of the package uses.

1. **Atomic**: an output goes to a temporary file in the target folder, then is renamed into place.
   An interrupt, a crash or an error at any moment leaves either no output or the old file untouched,
   and no stray temporary file, except after SIGKILL (or a worker ended with its killed driver), when
   a hidden ``.<name>.<random>.tmp`` may remain: ``stale_temporaries`` finds those for a batch to sweep.
2. **No replacing what this run did not create**: ``atomic_write(..., overwrite=False)`` links the
   temporary file into place, which fails if the name exists (so a file that appears between a check
   and the write is not lost either), and raises ``OutputExistsError``. Only a caller that was told
   to (``--overwrite``) or that knows it wrote that file itself (a batch's own earlier output,
   recorded in its manifest) passes ``overwrite=True``.
"""
from __future__ import annotations

import errno
import os
import tempfile
from pathlib import Path

#: The temporary name of an output ``name``: ``.<name>.<random>.tmp`` (hidden, and never a real output's name).
TMP_PREFIX, TMP_SUFFIX = ".", ".tmp"


class OutputExistsError(FileExistsError):
    """An output would replace a file that this run did not write."""

    def __init__(self, path: str | Path):
        super().__init__(errno.EEXIST, f"{path} exists and was not written by this run: choose another output, "
                                       "or pass --overwrite (overwrite=True) to replace it")
        self.filename = str(path)

    def __str__(self) -> str:
        return self.strerror


def atomic_write(path: str | Path, data: bytes, *, overwrite: bool) -> None:
    """Write ``data`` to ``path`` so that readers see the old file or the complete new one, never a part.

    ``overwrite=False`` refuses (OutputExistsError) to replace an existing ``path``, also one that
    appears while the data is written.
    """
    path = Path(path)
    parent = path.parent if str(path.parent) else Path(".")
    if not parent.is_dir():
        raise FileNotFoundError(f"output folder {parent} does not exist")
    if not overwrite and os.path.lexists(path):       # cheap check first: no temporary file at all
        raise OutputExistsError(path)
    fd, tmp = tempfile.mkstemp(dir=parent, prefix=f"{TMP_PREFIX}{path.name}.", suffix=TMP_SUFFIX)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        _set_mode(tmp, path)
        if overwrite:
            os.replace(tmp, path)
        else:
            _link_new(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def _set_mode(tmp: str, path: Path) -> None:
    """The replaced file's permissions, or a new file's default (mkstemp makes it 0600)."""
    if path.exists():
        try:
            os.chmod(tmp, path.stat().st_mode & 0o7777)
        except OSError:
            pass
    else:
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)


def _link_new(tmp: str, path: Path) -> None:
    """Rename ``tmp`` to ``path`` only if ``path`` does not exist, atomically where the filesystem has
    hard links (link fails with EEXIST); elsewhere (some network and FAT filesystems) a check, then a rename."""
    try:
        os.link(tmp, path)
    except FileExistsError:
        raise OutputExistsError(path) from None
    except OSError as e:
        if e.errno not in (errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EXDEV, errno.EMLINK):
            raise
        if os.path.lexists(path):
            raise OutputExistsError(path) from None
        os.replace(tmp, path)
        return
    os.unlink(tmp)


def stale_temporaries(paths) -> list[Path]:
    """The temporary files that interrupted ``atomic_write(path, ...)`` calls may have left beside ``paths``:
    one listing per folder, however many outputs it holds (a batch of 100k files asks once per folder)."""
    by_folder: dict[Path, set[str]] = {}
    for p in map(Path, paths):
        by_folder.setdefault(p.parent if str(p.parent) else Path("."), set()).add(p.name)
    found = []
    for folder, names in by_folder.items():
        if not folder.is_dir():
            continue
        for entry in os.scandir(folder):
            name = entry.name
            if not (name.startswith(TMP_PREFIX) and name.endswith(TMP_SUFFIX)) or not entry.is_file():
                continue
            stem = name[len(TMP_PREFIX):-len(TMP_SUFFIX)]           # "<output name>.<random>"
            output, dot, rand = stem.rpartition(".")
            if dot and rand and output in names:
                found.append(folder / name)
    return sorted(found)


def same_file(a: str | Path, b: str | Path) -> bool:
    """True when both paths name one existing file (links and relative paths resolved)."""
    try:
        return os.path.samefile(a, b)
    except OSError:
        return False
