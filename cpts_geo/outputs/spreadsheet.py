"""Write tables as an XLSX workbook that reads well in Excel or LibreOffice, in French.

Every sheet has French column titles (:func:`~cpts_geo.outputs.columns.column_title`) in a bold,
frozen header row with filter buttons, columns as wide as their content (within bounds), and
typed cells: numbers stay numbers, with a number format chosen by the column's kind
(:func:`~cpts_geo.outputs.columns.column_kind`):

- populations and counts ``#,##0`` (Excel shows ``5 218 960`` in a French locale);
- rates as real percentages: the tables hold percent (``98.06``), the cell holds the fraction
  (``0.9806``) with the format ``0.00 %``, so it shows ``98,06 %`` and a formula multiplying a
  population by it gives the right number;
- euros ``#,##0 "€"``; areas ``#,##0.00``; dates ``dd/mm/yyyy``.

Lists are ``;``-joined text, text that would run as a formula is neutralised, and text past
Excel's cell limit is cut, saying so (:mod:`~cpts_geo.outputs.cells`). Sheets are written by
XlsxWriter, in memory: about three times faster than openpyxl's write-only mode on the tables
of France (openpyxl still reads the registries).
"""

from __future__ import annotations

import datetime as dt
import io
import math
import re
import textwrap
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from .cells import fit_cell, flatten
from .columns import Kind, column_kind, column_title
from .directories import output_time

__all__ = ["NUMBER_FORMATS", "write_xlsx"]

#: The number format of each kind of column (Excel's codes; the locale decides the separators).
NUMBER_FORMATS: dict[Kind, str] = {
    "population": "#,##0",
    "nombre": "#,##0",
    "euros": '#,##0 "€"',
    "taux": "0.00 %",
    "superficie": "#,##0.00",
}
_DATE_FORMAT = "dd/mm/yyyy"
_DATETIME_FORMAT = "dd/mm/yyyy hh:mm"

_MIN_WIDTH = 6
_MAX_WIDTH = 60
_TITLE_WIDTH = 18  # a longer title wraps onto more lines rather than widening its column
_LINE_HEIGHT = 15.0  # points, one line of the header
_HEADER_FILL = "E7ECF2"
_BAD_SHEET_CHARS = re.compile(r"[\[\]:*?/\\]")


def _sheet_name(name: str, taken: set[str]) -> str:
    base = _BAD_SHEET_CHARS.sub("_", str(name)).strip("'")[:31] or "tableau"
    out, i = base, 2
    while out.lower() in taken:
        suffix = f" ({i})"
        out, i = base[: 31 - len(suffix)] + suffix, i + 1
    taken.add(out.lower())
    return out


def _is_dates(values: pd.Series) -> bool:
    present = values.dropna()
    return bool(len(present)) and all(isinstance(v, dt.date) for v in present)


def _values(series: pd.Series, kind: Kind) -> tuple[list[Any], str | None]:
    """The cell values of a column (``None`` for missing) and their number format."""
    fmt: str | None = None
    if series.dtype == object and pd.api.types.infer_dtype(series, skipna=True) in (
            "integer", "floating", "mixed-integer-float", "decimal"):
        series = pd.to_numeric(series)  # numbers held as objects (e.g. ints with None)
    if pd.api.types.is_bool_dtype(series):
        values = series.astype(object)
    elif pd.api.types.is_numeric_dtype(series):
        values = series.astype(float) / 100 if kind == "taux" else series
        fmt = NUMBER_FORMATS.get(kind)
        values = values.astype(object)
    elif pd.api.types.is_datetime64_any_dtype(series) or _is_dates(series):
        stamps = pd.to_datetime(series)
        if stamps.dt.tz is not None:
            stamps = stamps.dt.tz_localize(None)
        dated = bool((stamps.dropna() == stamps.dropna().dt.normalize()).all())
        fmt = _DATE_FORMAT if dated else _DATETIME_FORMAT
        values = stamps.astype(object)
    else:
        values = series.map(fit_cell).astype(object)
    return values.where(series.notna(), None).tolist(), fmt


def _text_width(value: Any, fmt: str | None) -> int:
    """Characters a value takes once formatted (about: proportional fonts vary)."""
    if value is None:
        return 0
    if isinstance(value, bool):
        return 5
    if isinstance(value, (dt.date, dt.datetime)):
        return 16 if fmt == _DATETIME_FORMAT else 10
    if isinstance(value, (int, float)) and fmt is not None:
        if fmt == NUMBER_FORMATS["taux"]:
            return len(f"{100 * value:,.2f} %")
        decimals = 2 if fmt == NUMBER_FORMATS["superficie"] else 0
        extra = 2 if fmt == NUMBER_FORMATS["euros"] else 0
        return len(f"{value:,.{decimals}f}") + extra
    text = str(value)
    return max(map(len, text.splitlines() or [""]))


def _column_width(title: str, values: list[Any], fmt: str | None) -> int:
    if values and fmt is not None:  # numbers: the widest is the largest or the smallest
        numbers = [v for v in values if isinstance(v, (int, float)) and math.isfinite(v)]
        probe = [max(numbers), min(numbers)] if numbers else []
    else:
        probe = values
    content = max((_text_width(v, fmt) for v in probe), default=0)
    longest_word = max((len(w) for w in title.split()), default=0)
    width = max(content, min(len(title), _TITLE_WIDTH), longest_word) + 2
    return max(_MIN_WIDTH, min(width, _MAX_WIDTH))


def _write_sheet(book: Any, ws: Any, frame: pd.DataFrame, header_format: Any,
                 formats: dict[str, Any]) -> None:
    names = [str(c) for c in frame.columns]
    titles = [column_title(c) for c in names]
    columns: list[list[Any]] = []
    kinds: list[str | None] = []
    for name, (_, series) in zip(names, frame.items(), strict=True):
        values, fmt = _values(series, column_kind(name))
        columns.append(values)
        kinds.append(fmt)

    widths = [_column_width(t, v, f) for t, v, f in zip(titles, columns, kinds, strict=True)]
    for i, width in enumerate(widths):
        ws.set_column(i, i, width)
    lines = max((len(textwrap.wrap(t, max(w - 3, 1))) for t, w in zip(titles, widths,
                                                                        strict=True)), default=1)
    ws.freeze_panes(1, 0)
    ws.autofilter(0, 0, len(frame), max(len(names), 1) - 1)
    ws.repeat_rows(0)
    ws.set_landscape()
    ws.fit_to_pages(1, 0)
    ws.set_row(0, _LINE_HEIGHT * max(lines, 1) + 3)
    for c, title in enumerate(titles):
        ws.write_string(0, c, title, header_format)
    for fmt in kinds:
        if fmt is not None and fmt not in formats:
            formats[fmt] = book.add_format({"num_format": fmt})
    writers = [_cell_writer(ws, formats.get(fmt) if fmt else None) for fmt in kinds]
    for r, row in enumerate(zip(*columns, strict=True), 1):
        for c, value in enumerate(row):
            if value is not None:
                writers[c](r, c, value)


def _cell_writer(ws: Any, fmt: Any) -> Any:
    """Write one typed cell: numbers, booleans and dates as such, anything else as text.

    Text is never read as a formula or a link (it was neutralised by
    :func:`~cpts_geo.outputs.cells.fit_cell`).
    """
    def write(row: int, col: int, value: Any) -> None:
        if isinstance(value, bool):
            ws.write_boolean(row, col, value, fmt)
        elif isinstance(value, (int, float)):
            ws.write_number(row, col, value, fmt)
        elif isinstance(value, (dt.date, dt.datetime)):
            ws.write_datetime(row, col, value, fmt)
        else:
            ws.write_string(row, col, str(value), fmt)
    return write


def write_xlsx(sheets: Mapping[str, pd.DataFrame], path: Path, *,
               index: bool = False) -> Path:
    r"""Write each table of ``sheets`` on its own sheet of the workbook ``path``.

    Parameters
    ----------
    sheets
        Sheet name → table, in the order of the sheets. Names are cut to Excel's 31
        characters and cleaned of the characters Excel refuses (``[]:*?/\\``).
    path
        The ``.xlsx`` file to write (its directory must exist).
    index
        Write the tables' index as their first columns.

    Returns
    -------
    Path
        ``path``.

    Examples
    --------
    >>> import openpyxl
    >>> table = pd.DataFrame({"nom": ["=Nice"], "population": [342669],
    ...                       "taux_tous_stades": [98.06], "codes": [["06088", "06029"]]})
    >>> wb = openpyxl.load_workbook(write_xlsx({"essai": table}, tmp / "t.xlsx"))
    >>> ws = wb["essai"]
    >>> [c.value for c in ws[1]]
    ['Nom', 'Population', 'Taux de couverture (tous stades)', 'Codes INSEE']
    >>> [c.value for c in ws[2]], ws["B2"].number_format, ws["C2"].number_format
    (["'=Nice", 342669, 0.9806, '06088;06029'], '#,##0', '0.00 %')
    >>> ws.freeze_panes
    'A2'
    """
    import xlsxwriter

    buffer = io.BytesIO()
    # nan and inf as Excel's errors; text never read as a formula, a link or a number
    book = xlsxwriter.Workbook(buffer, {"in_memory": True,
                                        "nan_inf_to_errors": True,
                                        "strings_to_formulas": False, "strings_to_urls": False,
                                        "strings_to_numbers": False})
    # the time of the document properties: output_time() (SOURCE_DATE_EPOCH when set); the
    # archive's members carry XlsxWriter's fixed 1980 time: the same inputs, the same bytes
    when = output_time().astimezone(dt.timezone.utc).replace(tzinfo=None)
    book.set_properties({"created": when})
    header_format = book.add_format({
        "bold": True, "bg_color": f"#{_HEADER_FILL}", "pattern": 1, "text_wrap": True,
        "valign": "vcenter", "bottom": 1, "bottom_color": "#7F7F7F"})
    formats: dict[str, Any] = {}
    taken: set[str] = set()
    for name, frame in sheets.items():
        table = frame.reset_index() if index else frame
        ws = book.add_worksheet(_sheet_name(name, taken))
        _write_sheet(book, ws, flatten(table), header_format, formats)
    if not sheets:
        book.add_worksheet("tableau")
    book.close()
    path.write_bytes(buffer.getvalue())
    return path
