"""The project's error classes, and the warnings a run gives.

One error class for bad input (:class:`ValidationError`), carrying **every** problem found, so
that a user fixes a file in one pass instead of one error per run. What was fixed or read in a
way the user should know is a :class:`Notice` (a warning of a kind, :data:`NOTICE_KINDS`), so
that the command line can say "12 former codes mapped" in one line and list them on request.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

__all__ = ["NOTICE_KINDS", "CptsGeoError", "Notice", "Problem", "ValidationError", "summarise"]


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

    def __post_init__(self) -> None:
        if self.row is not None:  # numpy integers from columnar checks: plain ints
            object.__setattr__(self, "row", int(self.row))

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


#: Kinds of warnings: what one of them is, and what several are, for the one-line summaries.
NOTICE_KINDS: dict[str, tuple[str, str]] = {
    "code_ancien": ("former code mapped to its current commune",
                    "former codes mapped to their current commune"),
    "nom_ancien": ("former commune name mapped to the commune it merged into",
                   "former commune names mapped to the communes they merged into"),
    "doublon": ("duplicate claim counted once", "duplicate claims counted once"),
    "hors_cpts": ("row or feature read as no CPTS (its units are zones blanches)",
                  "rows or features read as no CPTS (their units are zones blanches)"),
    "departement": ("unit in another département than its row says",
                    "units in another département than their row says"),
    "stade_dates": ("CPTS whose stage and dates disagree", "CPTS whose stage and dates disagree"),
    "mois": ("date given as a month, taken as its first day",
             "dates given as a month, taken as their first day"),
    "sans_date": ("registry whose undated CPTS are left out at every date",
                  "registries whose undated CPTS are left out at every date"),
    "stade_non_date": ("CPTS at a stage its dates do not reach, counted at its last dated step",
                       "CPTS at a stage their dates do not reach, counted at their last dated "
                       "step"),
    "encodage": ("file not in UTF-8", "files not in UTF-8"),
    "feuille": ("workbook sheet choice", "workbook sheet choices"),
    "perimetre": ("perimeter read with a guessed CRS or repaired",
                  "perimeters read with a guessed CRS or repaired"),
    "reference": ("note on the reference data", "notes on the reference data"),
    "autre": ("warning", "warnings"),
}


@dataclass(frozen=True)
class Notice:
    """A warning: something fixed, or read in a way the user should know.

    Parameters
    ----------
    kind
        One of :data:`NOTICE_KINDS` (``code_ancien``, ``doublon``...).
    message
        The whole warning, beginning with the file (and row) it is about.
    row
        The first row it is about, or ``None``.

    Examples
    --------
    >>> str(Notice("doublon", "a.csv, row 4: duplicate claim of 06030", 4))
    'a.csv, row 4: duplicate claim of 06030'
    """

    kind: str
    message: str
    row: int | None = None

    def __post_init__(self) -> None:
        if self.row is not None and self.row == self.row:  # not NaN
            object.__setattr__(self, "row", int(self.row))
        elif self.row is not None:
            object.__setattr__(self, "row", None)

    def __str__(self) -> str:
        return self.message


def summarise(notices: Iterable[Notice | str], *, shown: int = 3) -> list[str]:
    """One line per kind of warning: how many, and the first ones.

    Examples
    --------
    >>> notices = [Notice("code_ancien", f"a.csv, row {r}: code 05120 ...", r)
    ...            for r in (3, 9, 12, 20)]
    >>> summarise(notices)
    ['4 former codes mapped to their current commune (a.csv, row 3; row 9; row 12; …)']
    >>> summarise(["a plain warning"])
    ['a plain warning']
    """
    by_kind: dict[str, list[Notice]] = {}
    plain: list[str] = []
    for n in notices:
        if isinstance(n, Notice):
            by_kind.setdefault(n.kind, []).append(n)
        else:
            plain.append(str(n))
    lines = []
    for kind, items in by_kind.items():
        if len(items) == 1:
            lines.append(items[0].message)
            continue
        many = NOTICE_KINDS.get(kind, NOTICE_KINDS["autre"])[1]
        first = items[0].message.split(": ", 1)[0]
        rest = [i.message.split(": ", 1)[0].split(", ")[-1] for i in items[1:shown]]
        more = "; …" if len(items) > shown else ""
        lines.append(f"{len(items)} {many} ({'; '.join([first, *rest])}{more})")
    return lines + plain
