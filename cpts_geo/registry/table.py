"""Rows of a table (CSV or XLSX) into raw claims: find the header, then read column by column.

A table holds one row per claim, or one row per CPTS with the units listed in one cell; a CPTS
named only on its first row (merged cells) is reported, not guessed. Units may be given by code,
by name (with a département, région or postal code column to tell namesakes apart), or both.
The work is done on whole columns, not row by row, so that a national registry of 30,000 rows
reads in a fraction of a second.
"""

from __future__ import annotations

import re
from typing import Any

import numpy as np
import pandas as pd

from ..errors import Problem
from .columns import (
    CODE_NAMES,
    COMMUNE_NAME_NAMES,
    ID_NAMES,
    NAME_NAMES,
    POSTAL_NAMES,
    Columns,
    fold_column,
    locate_header,
    match_columns,
)
from .records import RAW_COLUMNS, RawClaims, cell, empty_raw, rows_text, split_codes

__all__ = ["rows_to_raw"]

_SEPARATORS = ";,|/\n\r\t"
_NEEDS_SPLIT = re.compile(r"[;,|/\n\r\t]|\S\s+\S")
_SPACE = re.compile(r"\s")
_DATE_ROLES = (("date_li", "date_lettre_intention"), ("date_ps", "date_projet_sante"),
               ("date_aci", "date_aci"))


def _separator_hint(header: list[str]) -> str:
    if len(header) != 1:
        return ""
    text = header[0]
    for sep, label in ((":", "':'"), (" ", "spaces"), (".", "'.'")):
        if sep in text.strip():
            return (f". The columns seem to be separated by {label}: separate them with a comma "
                    "or a semicolon (Excel: Enregistrer sous > CSV UTF-8)")
    return ""


def _text_column(values: Any, raw: bool) -> np.ndarray:
    """A column as stripped text (``cell`` for workbook values, a fast path for CSV text)."""
    out = np.empty(len(values), dtype=object)
    out[:] = [cell(v) for v in values] if raw else list(map(str.strip, values))
    return out


def rows_to_raw(rows: list[list[Any]], path: str, problems: list[Problem], *,
                text: bool = False) -> RawClaims:
    """Raw claims of the rows of a table (the header found among the first rows).

    Problems (no code column, rows with no name or no unit) are appended to ``problems``.

    Parameters
    ----------
    rows
        The table's rows as read (cells as text for a CSV file, or workbook values).
    path
        The file, for messages.
    problems
        Where the problems found are appended.
    text
        Every cell is already text (a CSV file): read the columns faster.

    Examples
    --------
    >>> problems = []
    >>> raw = rows_to_raw([["cpts_nom", "code_insee"], ["CPTS A", "13001; 13002"],
    ...                    ["", "13003"]], "a.csv", problems)
    >>> raw.claims[["ligne", "cpts_nom", "value"]].to_numpy().tolist()
    [[2, 'CPTS A', '13001'], [2, 'CPTS A', '13002']]
    >>> [p.row for p in problems]
    [3]
    """
    if not text:
        rows = [[cell(v) if not isinstance(v, (int, float)) or isinstance(v, bool) else v
                 for v in r] for r in rows]
    while rows and not any(str(c).strip() for c in rows[-1]):
        rows.pop()
    if not rows:
        problems.append(Problem(path, "empty file: expected a header row (e.g. cpts_nom, stade, "
                                "code_commune) and one row per commune claimed by a CPTS"))
        return RawClaims(empty_raw())
    head = [[cell(v) for v in r] for r in rows[:15]]
    h = locate_header(head)
    if h is None:
        first = next(r for r in head if any(r)) if any(any(r) for r in head) else head[0]
        found = ", ".join(repr(c) for c in first[:20] if c) or "none"
        postal = [c for c in first if fold_column(c) in POSTAL_NAMES]
        hint = (f". Column {postal[0]!r} holds postal codes, which are not INSEE codes (13100 is "
                "the postal code of Aix-en-Provence, 13001 its INSEE code): add a column of "
                "commune codes or names" if postal else "")
        problems.append(Problem(
            path, "missing required column: no column of commune codes or names. Name it one "
            f"of {', '.join(CODE_NAMES[:6])} (codes) or {', '.join(COMMUNE_NAME_NAMES[:2])} "
            f"(names) (found columns: {found}){hint}{_separator_hint(first)}",
            row=head.index(first) + 1))
        return RawClaims(empty_raw())
    header = head[h]
    cols = match_columns(header)
    if cols.name is None and cols.cid is None:
        problems.append(Problem(
            path, "missing required column: no CPTS name or identifier column. Name it one of "
            f"{', '.join(NAME_NAMES[:4])} or {', '.join(ID_NAMES[:3])} (found columns: "
            f"{', '.join(repr(c) for c in header if c)})", row=h + 1))
        return RawClaims(empty_raw())
    return _read_body(rows[h + 1:], h + 2, header, cols, path, problems, text)


def _read_body(body: list[list[Any]], first_row: int, header: list[str], cols: Columns,
               path: str, problems: list[Problem], text: bool) -> RawClaims:
    width = len(header)
    if set(map(len, body)) <= {width}:
        fixed = body
    else:  # short rows padded, long ones cut
        fixed = [r if len(r) == width else (list(r) + [""] * (width - len(r)))[:width]
                 for r in body]
    by_column = list(zip(*fixed)) if fixed else [()] * width  # noqa: B905 - all `width` long
    n = len(fixed)
    line = np.arange(first_row, first_row + n, dtype=np.int64)
    texts: dict[int, np.ndarray] = {}
    blanks: dict[int, np.ndarray] = {}
    every = np.ones(n, dtype=bool)
    empty = np.full(n, "", dtype=object)  # a column the table lacks (never written to)

    def column(idx: int | None, *, keep: bool = False) -> np.ndarray:
        if idx is None:
            return empty
        values = by_column[idx]
        if keep:  # date cells: keep a workbook's own values (dates, serial numbers)
            out = np.empty(len(values), dtype=object)
            out[:] = [v.strip() if isinstance(v, str) else ("" if v is None else v)
                      for v in values]
            return out
        if idx not in texts:
            texts[idx] = _text_column(values, raw=not text)
        return texts[idx]

    def blank(idx: int | None) -> np.ndarray:
        """Where the column's cell is empty (every row for a column the table lacks)."""
        if idx is None:
            return every
        if idx not in blanks:
            blanks[idx] = column(idx) == ""
        return blanks[idx]

    cid, name = column(cols.cid), column(cols.name)
    nonempty = np.zeros(n, dtype=bool)
    for j in range(width):
        nonempty |= ~blank(j)
    nameless = nonempty & blank(cols.cid) & blank(cols.name)
    no_arr, no_code, no_names = blank(cols.arr), blank(cols.code), blank(cols.names)
    if cols.arr is None and cols.names is None:  # the common table: codes only
        unit = column(cols.code)
        unit_col = np.full(n, header[cols.code] if cols.code is not None else "", dtype=object)
        kind = np.full(n, "code", dtype=object)
        no_unit = no_code
    else:
        code, arr, names = column(cols.code), column(cols.arr), column(cols.names)
        unit = np.where(~no_arr, arr, np.where(~no_code, code, names))
        unit_col = np.where(~no_arr, header[cols.arr] if cols.arr is not None else "",
                            np.where(~no_code, header[cols.code] if cols.code is not None
                                     else "", header[cols.names] if cols.names is not None
                                     else ""))
        kind = np.where(no_arr & no_code & ~no_names, "name", "code")
        no_unit = no_arr & no_code & no_names
    keep = nonempty & ~nameless
    codeless = keep & no_unit
    keep &= ~no_unit
    if nameless.any():
        column_name = header[cols.name if cols.name is not None else cols.cid]  # type: ignore[index]
        rows_ = line[nameless].tolist()
        problems.append(Problem(
            path, f"no CPTS name on row(s) {rows_text(rows_)}: fill in the {column_name!r} cell "
            "on every row (when a name is written only on the first row of its CPTS, as with "
            "merged cells, repeat it on each row), or delete the row", row=rows_[0],
            column=column_name))
    if codeless.any():
        rows_ = line[codeless].tolist()
        unit_name = next(header[i] for i in (cols.code, cols.arr, cols.names) if i is not None)
        problems.append(Problem(
            path, f"no commune code on row(s) {rows_text(rows_)}: fill in the {unit_name!r} "
            "cell, or delete the row", row=rows_[0], column=unit_name))
    src = np.flatnonzero(keep)
    data = {
        "cpts_id": np.where(cid[src] != "", cid[src], name[src]),
        "cpts_nom": np.where(name[src] != "", name[src], cid[src]),
        "stage": column(cols.stage)[src], "partage": column(cols.share)[src],
        "value": unit[src], "column": unit_col[src], "kind": kind[src],
        "dep": column(cols.dep)[src], "region": column(cols.region)[src],
        "postal": column(cols.postal)[src],
    }
    dated = []
    for role, name_ in _DATE_ROLES:
        idx = getattr(cols, role)
        data[role] = column(idx, keep=True)[src]
        if idx is not None:
            dated.append(name_)
    # object columns as they are (no conversion to pandas' string dtype: it costs time)
    frame = pd.DataFrame({"ligne": line[src], "src": np.arange(len(src)),
                          **{k: pd.Series(v, dtype=object) for k, v in data.items()}})
    frame = _explode_lists(frame)
    # the source's other columns are kept; those that help resolve units (names, département,
    # postal code) and the dates too, as written
    used = {getattr(cols, r) for r in ("code", "arr", "cid", "name", "stage", "share")} - {None}
    extra_idx = [i for i in range(width) if i not in used and header[i]]
    extras = pd.DataFrame({header[i]: pd.Series(column(i)[src], dtype=object)
                           for i in extra_idx})
    roles = {role: header[getattr(cols, role)] for role in
             ("stage", "share", "dep", "region", "postal", "names", "code", "arr",
              "date_li", "date_ps", "date_aci") if getattr(cols, role) is not None}
    roles.setdefault("stage", "stade")
    roles.setdefault("share", "partage")
    return RawClaims(frame[list(RAW_COLUMNS)], extras, roles, {}, tuple(dated))


def _explode_lists(frame: pd.DataFrame) -> pd.DataFrame:
    """One row per unit where a cell lists several (``13001; 13002``, ``Nice, Èze``)."""
    values = frame["value"].tolist()
    search = _NEEDS_SPLIT.search
    # one search over all the cells first: most tables list one unit per cell. A match inside
    # a cell is a match in the joined text, so none there means none in any cell
    joined = "\0".join(values)
    if not any(ch in joined for ch in _SEPARATORS) and _SPACE.search(joined) is None:
        return frame.reset_index(drop=True)  # a match needs a separator or a space
    multi = np.fromiter((search(v) is not None for v in values), dtype=bool, count=len(values))
    split = [split_codes(v) if m else [v] for v, m in zip(values, multi, strict=True)]
    lengths = np.fromiter((len(s) for s in split), dtype=np.int64, count=len(split))
    out = frame.iloc[np.repeat(np.arange(len(frame)), lengths)].reset_index(drop=True)
    out["value"] = [v for s in split for v in s]
    return out
