"""Progress bars for the long steps of a command, on a terminal only.

One function, :func:`progress`, for every loop that can take more than a couple of seconds
(the pages, figures and PDF reports of the national atlas; proposals; evolution). It returns a
:class:`tqdm.tqdm` bar drawn on standard error when standard error is a terminal, and a silent
pass-through otherwise (a pipe, a file, CI, a notebook, tests), so that scripts reading the
output never see control characters. A bar appears only once its step has run for
:data:`DELAY` seconds: short runs stay quiet.

Two ways to use it::

    for code in progress(codes, desc="Atlas pages", unit="région"):
        write_page(code)

    with progress(total=len(codes), desc="Atlas") as bar:
        for code in codes:
            write_page(code)
            bar.update()

``analysis/`` comes before ``outputs/`` in the flow and cannot import this module: a loop there
that should report progress takes an iterator wrapper as a parameter (``steps=iter`` by default)
and the command line passes ``functools.partial(progress, desc=...)``.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from tqdm import tqdm

__all__ = ["DELAY", "progress", "progress_enabled"]

T = TypeVar("T")

#: Seconds a step runs before its bar is drawn.
DELAY: float = 0.5


def progress_enabled() -> bool:
    """Whether progress bars are drawn: only when standard error is a terminal.

    Examples
    --------
    >>> progress_enabled()  # the tests capture standard error: not a terminal
    False
    """
    try:
        return bool(sys.stderr.isatty())
    except (AttributeError, ValueError):  # closed or replaced stream
        return False


def progress(iterable: Iterable[T] | None = None, *, total: int | None = None,
             desc: str | None = None, unit: str = "it", enabled: bool | None = None,
             **options: Any) -> tqdm[T]:
    """A progress bar over ``iterable`` (or updated by hand), silent unless on a terminal.

    Parameters
    ----------
    iterable
        What to loop over; its length is the bar's total when it has one. ``None`` for a bar
        updated by hand (``bar.update(n)``), used as a context manager.
    total
        The number of steps, when ``iterable`` has no length or is ``None``.
    desc
        What is being done, shown before the bar (CLI language: English), e.g. ``"Atlas"``.
    unit
        What one step is, e.g. ``"région"``.
    enabled
        Force the bar on or off; by default it is drawn only when standard error is a
        terminal (:func:`progress_enabled`).
    **options
        Passed to :class:`tqdm.tqdm` (e.g. ``leave=True`` to keep the finished bar).

    Returns
    -------
    tqdm.tqdm
        Iterate over it, or use it as a context manager and call ``update``. Disabled, it
        costs next to nothing and prints nothing.

    Examples
    --------
    >>> [code for code in progress(["93", "94"], desc="Atlas")]  # not a terminal: silent
    ['93', '94']
    >>> with progress(total=2, desc="PDF", unit="page") as bar:
    ...     for _ in range(2):
    ...         bar.update()
    """
    from tqdm import tqdm

    show = progress_enabled() if enabled is None else enabled
    settings: dict[str, Any] = {"leave": False, "dynamic_ncols": True, "delay": DELAY,
                                "mininterval": 0.2}
    settings.update(options)
    return tqdm(iterable, total=total, desc=desc, unit=unit, disable=not show,
                file=sys.stderr, **settings)
