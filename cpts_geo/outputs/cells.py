"""Cell values made safe for the files people open in a spreadsheet (CSV and XLSX).

Lists become ``;``-separated text; text that a spreadsheet would run as a formula (``=``, ``+``,
``-``, ``@``, a tab or a carriage return first) gets a leading apostrophe; text past Excel's
32,767-character cell limit is cut, saying how much was left out.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

__all__ = ["XLSX_CELL_MAX", "fit_cell", "flatten", "neutralise"]

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")

#: The most characters an Excel cell holds.
XLSX_CELL_MAX = 32_767


def neutralise(value: Any) -> Any:
    """Make a text cell safe for spreadsheets (no formula injection); other values unchanged.

    Examples
    --------
    >>> neutralise("=1+1"), neutralise("Nice"), neutralise(-3)
    ("'=1+1", 'Nice', -3)
    """
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def flatten(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``frame`` whose text columns hold ``;``-joined lists and neutralised text.

    Examples
    --------
    >>> flatten(pd.DataFrame({"codes": [["06088", "06029"], []], "nom": ["=x", "Nice"]}))
              codes   nom
    0  06088;06029   '=x
    1                Nice
    """
    out = frame.copy()
    for col in out.columns:
        if out[col].dtype == object or str(out[col].dtype).startswith(("str", "string")):
            out[col] = out[col].map(
                lambda v: neutralise(";".join(map(str, v)) if isinstance(v, (list, tuple))
                                     else v))
    return out


def fit_cell(value: Any) -> Any:
    """Shorten text past Excel's cell limit, saying how much was left out (the CSV has all).

    Examples
    --------
    >>> cut = fit_cell(";".join(["06088"] * 10_000))
    >>> len(cut) <= XLSX_CELL_MAX, cut[-59:]  # 10,000 codes of 5 digits: 5,447 kept
    (True, '06088; … (+4553 autres, liste complète dans le fichier CSV)')
    >>> fit_cell("Nice"), fit_cell(3)
    ('Nice', 3)
    """
    if isinstance(value, str) and len(value) > XLSX_CELL_MAX:
        cut = value[: XLSX_CELL_MAX - 80]
        cut = cut[: cut.rfind(";")] if ";" in cut else cut
        rest = value.count(";") - cut.count(";")
        return f"{cut}; … (+{rest} autres, liste complète dans le fichier CSV)"
    return value
