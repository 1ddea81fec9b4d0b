"""Rows of a table (CSV or XLSX) into registry records: find the header, read each row.

A table holds one row per claim, or one row per CPTS with the codes listed in one cell; a CPTS
named only on its first row (merged cells) is reported, not guessed.
"""

from __future__ import annotations

from typing import Any

from ..errors import Problem
from .columns import (
    CODE_NAMES,
    ID_NAMES,
    NAME_NAMES,
    POSTAL_NAMES,
    fold_column,
    locate_header,
    match_columns,
)
from .records import Record, cell, rows_text, split_codes

__all__ = ["rows_to_records"]

def _separator_hint(header: list[str]) -> str:
    if len(header) != 1:
        return ""
    cell = header[0]
    for sep, label in ((":", "':'"), (" ", "spaces"), (".", "'.'")):
        if sep in cell.strip():
            return (f". The columns seem to be separated by {label}: separate them with a comma "
                    "or a semicolon (Excel: Enregistrer sous > CSV UTF-8)")
    return ""


def rows_to_records(rows: list[list[Any]], path: str, problems: list[Problem]
                    ) -> list[Record]:
    """Records of the rows of a table (the header found among the first rows).

    Problems (no code column, rows with no name or no code) are appended to ``problems``.

    Examples
    --------
    >>> problems = []
    >>> recs = rows_to_records([["cpts_nom", "code_insee"], ["CPTS A", "13001"],
    ...                         ["", "13002"]], "a.csv", problems)
    >>> [(r.row, r.cpts_nom) for r in recs], [p.row for p in problems]
    ([(2, 'CPTS A')], [3])
    """
    rows = [[cell(v) for v in r] for r in rows]
    while rows and not any(rows[-1]):
        rows.pop()
    if not rows:
        problems.append(Problem(path, "empty file: expected a header row (e.g. cpts_nom, stade, "
                                "code_commune) and one row per commune claimed by a CPTS"))
        return []
    h = locate_header(rows)
    if h is None:
        first = next(r for r in rows if any(r))
        found = ", ".join(repr(c) for c in first[:20] if c) or "none"
        postal = [c for c in first if fold_column(c) in POSTAL_NAMES]
        hint = (f". Column {postal[0]!r} holds postal codes, which are not INSEE codes (13100 is "
                "the postal code of Aix-en-Provence, 13001 its INSEE code)" if postal else "")
        problems.append(Problem(
            path, "missing required column: no column of commune codes. Name it one of "
            f"{', '.join(CODE_NAMES[:6])} (found columns: {found}){hint}"
            f"{_separator_hint(first)}", row=rows.index(first) + 1))
        return []
    header = rows[h]
    cols = match_columns(header)
    if cols.name is None and cols.cid is None:
        problems.append(Problem(
            path, "missing required column: no CPTS name or identifier column. Name it one of "
            f"{', '.join(NAME_NAMES[:4])} or {', '.join(ID_NAMES[:3])} (found columns: "
            f"{', '.join(repr(c) for c in header if c)})", row=h + 1))
        return []
    used = {i for i in vars(cols).values() if i is not None}
    extras = [(i, header[i]) for i in range(len(header)) if i not in used and header[i]]
    code_col = header[cols.code] if cols.code is not None else None
    arr_col = header[cols.arr] if cols.arr is not None else None
    stage_col = header[cols.stage] if cols.stage is not None else "stade"
    share_col = header[cols.share] if cols.share is not None else "partage"
    records: list[Record] = []
    nameless: list[int] = []
    codeless: list[int] = []
    for i, row in enumerate(rows[h + 1:], start=h + 2):
        if not any(row):
            continue
        if len(row) < len(header):
            row = row + [""] * (len(header) - len(row))

        def get(idx: int | None, row: list[str] = row) -> str:
            return row[idx] if idx is not None else ""

        cid, name = get(cols.cid), get(cols.name)
        if not cid and not name:
            nameless.append(i)
            continue
        codes: list[tuple[str, object]] = []
        arr_value = get(cols.arr)
        if arr_value:
            codes.extend((arr_col, v) for v in split_codes(arr_value))  # type: ignore[misc]
        elif cols.code is not None:
            codes.extend((code_col, v) for v in split_codes(get(cols.code)))  # type: ignore[misc]
        if not codes:
            codeless.append(i)
            continue
        records.append(Record(
            row=i, cpts_id=cid or name, cpts_nom=name or cid, stage=get(cols.stage),
            codes=codes, partage=get(cols.share),
            extra={h_: row[j] for j, h_ in extras}, stage_column=stage_col,
            share_column=share_col))
    if nameless:
        column = header[cols.name if cols.name is not None else cols.cid]  # type: ignore[index]
        problems.append(Problem(
            path, f"no CPTS name on row(s) {rows_text(nameless)}: fill in the {column!r} cell on "
            "every row (when a name is written only on the first row of its CPTS, as with merged "
            "cells, repeat it on each row), or delete the row", row=nameless[0], column=column))
    if codeless:
        problems.append(Problem(
            path, f"no commune code on row(s) {rows_text(codeless)}: fill in the "
            f"{code_col or arr_col!r} cell, or delete the row", row=codeless[0],
            column=code_col or arr_col))
    return records
