"""Output directories: checked before a run, written into a staging directory, published whole.

Every output is first written into a temporary directory beside its destination, then moved
into place in one step (:func:`publish`), so a run that fails or is killed half-way leaves the
previous outputs untouched. A directory the tool did not write (no marker file) is replaced only
when asked (``--overwrite``).
"""

from __future__ import annotations

import contextlib
import datetime
import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

from ..atomic import swap_directory
from ..errors import CptsGeoError

__all__ = ["MARKER", "output_time", "prepare_out_dir", "publish", "staging"]


MARKER = ".cpts-geo-output"



def prepare_out_dir(out: Path, *, overwrite: bool, default: bool) -> Path:
    """Check that results may be written to ``out``.

    Existing outputs are replaced only with ``overwrite``, or when ``out`` is the tool's own
    output directory (``default``, or one it made before: it holds a marker file).

    Raises
    ------
    CptsGeoError
        When ``out`` is a file, or a non-empty directory not made by this tool, without
        ``overwrite``.

    Examples
    --------
    >>> prepare_out_dir(tmp / "atlas", overwrite=False, default=False) == tmp / "atlas"
    True
    >>> _ = (tmp / "notes.txt").write_text("à garder", encoding="utf-8")
    >>> prepare_out_dir(tmp, overwrite=False, default=False)
    Traceback (most recent call last):
    ...
    cpts_geo.errors.CptsGeoError: --out ... already holds files not written by cpts-geo; add
    --overwrite to replace them, or choose an empty directory
    >>> prepare_out_dir(tmp, overwrite=True, default=False) == tmp
    True
    """
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise CptsGeoError(f"--out {out} is a file; give a directory")
    if out.is_dir() and any(out.iterdir()) and not (overwrite or default
                                                    or (out / MARKER).exists()):
        raise CptsGeoError(f"--out {out} already holds files not written by cpts-geo; add "
                           "--overwrite to replace them, or choose an empty directory")
    return out



@contextlib.contextmanager
def staging(out: Path) -> Iterator[Path]:
    """Yield a temporary directory beside ``out``; on success publish it as ``out``.

    On any error the temporary directory is removed and ``out`` is left as it was. ``out`` is
    resolved first (``..``, symbolic links): the results land where the link points. The
    directory keeps the permissions of the one it replaces (a new one gets the usual ``0o755``
    less the umask), so a web server can still read a republished atlas.

    Examples
    --------
    >>> out = tmp / "atlas"
    >>> with staging(out) as work:
    ...     _ = (work / "index.html").write_text("<html></html>", encoding="utf-8")
    >>> sorted(p.name for p in out.iterdir())
    ['.cpts-geo-output', 'index.html']
    >>> with staging(out) as work:
    ...     _ = (work / "index.html").write_text("", encoding="utf-8")
    ...     raise RuntimeError("interrupted")
    Traceback (most recent call last):
    ...
    RuntimeError: interrupted
    >>> (out / "index.html").read_text(encoding="utf-8"), [p.name for p in tmp.iterdir()]
    ('<html></html>', ['atlas'])
    """
    out = Path(out).resolve()
    out.parent.mkdir(parents=True, exist_ok=True)
    _recover(out)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.tmp-{os.getpid()}-", dir=out.parent))
    try:
        umask = os.umask(0)
        os.umask(umask)
        mode = (out.stat().st_mode & 0o7777) if out.is_dir() else (0o755 & ~umask)
        os.chmod(tmp, mode)
        yield tmp
        written = sorted(p.name for p in tmp.iterdir())
        (tmp / MARKER).write_text(json.dumps({"tool": "cpts-geo", "files": written},
                                             ensure_ascii=False) + "\n", encoding="utf-8")
        publish(tmp, out)
        _remove_leftovers(out)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)



def _recover(out: Path) -> None:
    """Put back outputs that a run killed between the two renames of :func:`publish` left aside.

    Examples
    --------
    >>> aside = tmp / ".atlas.old-x" / "atlas"
    >>> aside.mkdir(parents=True); _ = (aside / "index.html").write_text("v1", encoding="utf-8")
    >>> _recover(tmp / "atlas"); (tmp / "atlas" / "index.html").read_text(encoding="utf-8")
    'v1'
    """
    if out.exists():
        return
    for aside in sorted(out.parent.glob(f".{out.name}.old-*/{out.name}")):
        os.replace(aside, out)
        return



def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True



def _remove_leftovers(out: Path) -> None:
    """Remove what a killed earlier run left beside ``out``.

    An old directory (``.name.old-*``) is removed at once; a staging one
    (``.name.tmp-PID-*``) only when the process that made it is gone, since another run may
    still be writing into it.
    """
    for stale in out.parent.glob(f".{out.name}.old-*"):
        shutil.rmtree(stale, ignore_errors=True)
    for stale in out.parent.glob(f".{out.name}.tmp-*"):
        pid = stale.name[len(f".{out.name}.tmp-"):].split("-", 1)[0]
        if pid.isdigit() and not _alive(int(pid)):
            shutil.rmtree(stale, ignore_errors=True)



def _previous_outputs(out: Path) -> set[str]:
    """Names of the files the previous run wrote into ``out`` (from its marker file)."""
    try:
        listed = json.loads((out / MARKER).read_text(encoding="utf-8")).get("files", [])
    except (OSError, ValueError, AttributeError):
        return set()
    return {str(name) for name in listed} if isinstance(listed, list) else set()



def publish(tmp: Path, out: Path) -> None:
    """Move the finished directory ``tmp`` into place as ``out``.

    Entries of an existing ``out`` that this run did not produce are carried over (another
    command's outputs, the user's own files), except those the previous run wrote, as listed in
    its marker file: they are outputs this run replaces or no longer makes. The old directory is
    then swapped out by renames and removed.

    Examples
    --------
    >>> out, new = tmp / "out", tmp / "new"
    >>> for directory, name in [(out, "carte.png"), (out, "index.html"), (new, "index.html")]:
    ...     directory.mkdir(exist_ok=True)
    ...     _ = (directory / name).write_text(directory.name, encoding="utf-8")
    >>> publish(new, out)
    >>> sorted(p.name for p in out.iterdir()), new.exists()
    (['carte.png', 'index.html'], False)
    >>> (out / "index.html").read_text(encoding="utf-8")  # the new one
    'new'
    >>> [p.name for p in tmp.iterdir()]  # the old directory is gone
    ['out']
    """
    swap_directory(tmp, out, skip=_previous_outputs(out))


def output_time() -> datetime.datetime:
    """The time written into outputs that carry one (workbook properties, GeoPackage tables).

    ``SOURCE_DATE_EPOCH`` (seconds since 1970, the reproducible-builds convention) when set,
    so that two runs on the same inputs give the same bytes; else the current time. UTC,
    whole seconds.

    Examples
    --------
    >>> saved = os.environ.get("SOURCE_DATE_EPOCH")
    >>> os.environ["SOURCE_DATE_EPOCH"] = "1767225600"
    >>> output_time().isoformat()
    '2026-01-01T00:00:00+00:00'
    >>> if saved is None:
    ...     del os.environ["SOURCE_DATE_EPOCH"]
    ... else:
    ...     os.environ["SOURCE_DATE_EPOCH"] = saved
    """
    epoch = os.environ.get("SOURCE_DATE_EPOCH", "").strip()
    if epoch.isdigit():
        return datetime.datetime.fromtimestamp(int(epoch), tz=datetime.timezone.utc)
    return datetime.datetime.now(tz=datetime.timezone.utc).replace(microsecond=0)
