"""XLSX registries: the rows of the sheet holding the registry table, merged cells spread.

The first sheet is read, or the one named by ``sheet`` (``--sheet``). When the first sheet holds
no registry table (no column of commune codes: a notes or read-me sheet) and exactly one other
sheet does, that sheet is read, with a warning; when several do, the error names them and asks
for ``--sheet``.
"""

from __future__ import annotations

import warnings as pywarnings
from pathlib import Path
from typing import Any

from ..errors import Problem, ValidationError
from .columns import locate_header
from .records import cell

__all__ = ["read_xlsx_rows"]

def _sheet_rows(ws: Any) -> list[list[Any]]:
    rows = [list(r) for r in ws.iter_rows(values_only=True)]
    # merged cells: openpyxl gives the value to the top-left cell only; spread it over the range
    # (a CPTS name merged over its rows stands for that CPTS on every row)
    for rng in ws.merged_cells.ranges:
        if rng.min_row - 1 >= len(rows):
            continue
        top_row = rows[rng.min_row - 1]
        top = top_row[rng.min_col - 1] if rng.min_col - 1 < len(top_row) else None
        for r in range(rng.min_row - 1, min(rng.max_row, len(rows))):
            for c in range(rng.min_col - 1, rng.max_col):
                if c < len(rows[r]):
                    rows[r][c] = top
    return rows


def _has_table(rows: list[list[Any]]) -> bool:
    return locate_header([[cell(v) for v in r] for r in rows[:15]]) is not None


def read_xlsx_rows(path: Path, sheet: str | int | None, warnings: list[str] | None = None
                   ) -> list[list[Any]]:
    """Rows of the workbook's registry sheet (see the module docstring for which sheet).

    Examples
    --------
    >>> import openpyxl
    >>> wb = openpyxl.Workbook(); ws = wb.active
    >>> ws.append(["cpts_nom", "code_insee"]); ws.append(["CPTS A", "13001"])
    >>> ws.append([None, "13002"]); ws.merge_cells("A2:A3"); wb.save(tmp / "r.xlsx")
    >>> read_xlsx_rows(tmp / "r.xlsx", None)
    [['cpts_nom', 'code_insee'], ['CPTS A', '13001'], ['CPTS A', '13002']]
    """
    import openpyxl

    label = str(path)
    try:
        with pywarnings.catch_warnings():
            # real workbooks carry extensions openpyxl does not read (data validation,
            # conditional formats, slicers): it warns and reads the cells all the same
            pywarnings.simplefilter("ignore")
            wb = openpyxl.load_workbook(path, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds on a damaged file
        raise ValidationError([Problem(label, f"not a readable XLSX workbook ({exc}). "
                                       "Open it in Excel or LibreOffice and save it again as "
                                       "XLSX or CSV UTF-8.")]) from None
    names = wb.sheetnames
    sheets = {ws.title: ws for ws in wb.worksheets}  # chart sheets left out
    if not sheets:
        raise ValidationError([Problem(label, f"the workbook has no worksheet with cells "
                                       f"(sheets: {names})")])
    if sheet is None:
        first = next(iter(sheets))
        rows = _sheet_rows(sheets[first])
        if _has_table(rows):
            others = [n for n, ws in sheets.items() if n != first and _has_table(
                _sheet_rows(ws)[:15])]
            if others and warnings is not None:
                warnings.append(f"{label}: the workbook has other sheets with a registry table "
                                f"({', '.join(map(repr, others))}); read the first, {first!r}. "
                                "Use --sheet NAME to read another.")
            return rows
        tables = {n: _sheet_rows(ws) for n, ws in sheets.items() if n != first}
        tables = {n: r for n, r in tables.items() if _has_table(r)}
        if len(tables) == 1:
            (name, rows), = tables.items()
            if warnings is not None:
                warnings.append(f"{label}: the first sheet, {first!r}, holds no registry table; "
                                f"read sheet {name!r} instead (use --sheet to choose)")
            return rows
        if tables:
            detail = (f"the first sheet, {first!r}, holds no registry table and several sheets "
                      f"do: {', '.join(map(repr, tables))}")
        else:
            detail = (f"no sheet holds a registry table (a header row with a column of commune "
                      f"codes such as 'code_insee'); sheets: {', '.join(map(repr, names))}")
        raise ValidationError([Problem(label, f"{detail}. Choose the sheet with --sheet NAME "
                                       "(or --sheet NUMBER, 1 = the first).")])
    if isinstance(sheet, str) and sheet in names:
        chosen = sheet
    elif isinstance(sheet, int) or (isinstance(sheet, str) and sheet.strip().isdigit()):
        index = int(sheet)
        if not 1 <= index <= len(names):
            raise ValidationError([Problem(label, f"no sheet number {index}; the workbook "
                                           f"has {len(names)} sheet(s): {names}", value=sheet)])
        chosen = names[index - 1]
    else:
        raise ValidationError([Problem(label, f"no sheet named {sheet!r}; choose --sheet "
                                       f"among {names}", value=sheet)])
    if chosen not in sheets:
        raise ValidationError([Problem(label, f"sheet {chosen!r} is a chart, not a table; "
                                       f"choose --sheet among {list(sheets)}", value=sheet)])
    return _sheet_rows(sheets[chosen])
