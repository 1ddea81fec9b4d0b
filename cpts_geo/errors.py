"""The project's error classes.

One error class for bad input (:class:`ValidationError`), carrying **every** problem found, so
that a user fixes a file in one pass instead of one error per run.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

__all__ = ["CptsGeoError", "Problem", "ValidationError"]


class CptsGeoError(Exception):
    """Base class of the errors the command line turns into a clean message and exit code 2."""


@dataclass(frozen=True)
class Problem:
    """One problem found in an input file.

    Parameters
    ----------
    file
        The file (or other source) in which the problem was found.
    message
        What is wrong and how to fix it.
    row
        Row number as the user sees it in a spreadsheet (header = row 1), or ``None``.
    column
        Column name, or ``None``.
    value
        The offending value, or ``None``.

    Examples
    --------
    >>> str(Problem("cpts.csv", "unknown code", row=3, column="code_insee", value="99999"))
    "cpts.csv, row 3, column 'code_insee', value '99999': unknown code"
    """

    file: str
    message: str
    row: int | None = None
    column: str | None = None
    value: object = None

    def __str__(self) -> str:
        where = [self.file]
        if self.row is not None:
            where.append(f"row {self.row}")
        if self.column is not None:
            where.append(f"column {self.column!r}")
        if self.value is not None:
            where.append(f"value {str(self.value)!r}")
        return f"{', '.join(where)}: {self.message}"


class ValidationError(CptsGeoError, ValueError):
    """Bad input: holds every :class:`Problem` found, not only the first.

    Examples
    --------
    >>> err = ValidationError([Problem("a.csv", "empty file")])
    >>> print(err)
    1 problem in the input:
      - a.csv: empty file
    """

    def __init__(self, problems: Iterable[Problem | str], *, limit: int = 50) -> None:
        self.problems: list[Problem | str] = list(problems)
        self.limit = limit
        super().__init__(self._render())

    def _render(self) -> str:
        n = len(self.problems)
        head = f"{n} problem{'s' if n != 1 else ''} in the input:"
        lines = [f"  - {p}" for p in self.problems[: self.limit]]
        if n > self.limit:
            lines.append(f"  ... and {n - self.limit} more of the same kinds")
        return "\n".join([head, *lines])
