"""Write a file atomically: into a temporary file beside it, then moved into place.

Every file the tool writes outside a staging directory (caches, figures, snippets) goes through
:func:`atomic_write`, so that a run that fails or is killed never leaves a half-written file: the
previous file, if any, stays as it was.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

__all__ = ["atomic_write"]


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
