"""Write files and directories atomically: built beside their destination, then moved into place.

Every file the tool writes outside a staging directory (caches, figures, snippets) goes through
:func:`atomic_write`, and every directory it publishes (the outputs, the reference data built by
``fetch``) through :func:`swap_directory`, so that a run that fails or is killed never leaves a
half-written result: the previous one, if any, stays as it was.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import IO, Any

__all__ = ["atomic_write", "swap_directory"]


@contextlib.contextmanager
def atomic_write(path: str | os.PathLike[str], mode: str = "wb", *,
                 encoding: str | None = None) -> Iterator[IO[Any]]:
    """Open a temporary file beside ``path``; on success, move it over ``path``.

    Parameters
    ----------
    path
        The file to write. Its directory must exist.
    mode
        ``"wb"`` (binary) or ``"w"`` (text, with ``encoding``; Unix newlines).
    encoding
        Text encoding for ``mode="w"`` (UTF-8 when not given).

    Examples
    --------
    >>> with atomic_write(tmp / "a.txt", "w") as fh:
    ...     _ = fh.write("bonjour")
    >>> (tmp / "a.txt").read_text(encoding="utf-8"), sorted(p.name for p in tmp.iterdir())
    ('bonjour', ['a.txt'])
    >>> try:
    ...     with atomic_write(tmp / "a.txt", "w") as fh:
    ...         _ = fh.write("à moitié")
    ...         raise RuntimeError("killed")
    ... except RuntimeError:
    ...     pass
    >>> (tmp / "a.txt").read_text(encoding="utf-8"), sorted(p.name for p in tmp.iterdir())
    ('bonjour', ['a.txt'])
    """
    path = Path(path)
    if mode not in ("wb", "w"):
        raise ValueError(f"`mode` was {mode!r} but is expected to be in ('wb', 'w')")
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        if mode == "w":
            fh = os.fdopen(fd, "w", encoding=encoding or "utf-8", newline="\n")
        else:
            fh = os.fdopen(fd, "wb")
        with fh:
            yield fh
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def swap_directory(tmp: Path, out: Path, *, skip: Iterable[str] = ()) -> None:
    """Move the finished directory ``tmp`` into place as ``out``.

    Entries of an existing ``out`` that ``tmp`` lacks are carried over (the user's own files,
    another command's outputs), except the names in ``skip``. The old directory is then swapped
    out by two renames and removed; if the second rename fails, the old one is put back.

    Parameters
    ----------
    tmp
        The finished directory, on the same file system as ``out`` (beside it).
    out
        The destination.
    skip
        Names of entries of ``out`` not to carry over (outputs this run replaces or drops).

    Examples
    --------
    >>> out, new = tmp / "out", tmp / "new"
    >>> for directory, name in [(out, "carte.png"), (out, "vieux.html"), (new, "index.html")]:
    ...     directory.mkdir(exist_ok=True)
    ...     _ = (directory / name).write_text(directory.name, encoding="utf-8")
    >>> swap_directory(new, out, skip={"vieux.html"})
    >>> sorted(p.name for p in out.iterdir()), new.exists(), [p.name for p in tmp.iterdir()]
    (['carte.png', 'index.html'], False, ['out'])
    """
    if not out.is_dir():
        os.replace(tmp, out)
        return
    skipped = set(skip)
    for entry in out.iterdir():
        target = tmp / entry.name
        if target.exists() or target.is_symlink() or entry.name in skipped:
            continue
        if entry.is_dir() and not entry.is_symlink():
            shutil.copytree(entry, target, symlinks=True)
        else:
            shutil.copy2(entry, target, follow_symlinks=False)
    old = Path(tempfile.mkdtemp(prefix=f".{out.name}.old-", dir=out.parent))
    os.replace(out, old / out.name)
    try:
        os.replace(tmp, out)
    except OSError:
        os.replace(old / out.name, out)
        raise
    shutil.rmtree(old, ignore_errors=True)
