"""Delimited text registries: the encoding, the delimiter and the rows of a CSV file.

CSV exported by Excel or LibreOffice: ``,``, ``;``, tab or ``|``; UTF-8 with or without BOM,
UTF-16 with BOM, or Windows-1252 (read with a warning).
"""

from __future__ import annotations

import codecs
import csv
import io

from ..errors import Problem, ValidationError
from .columns import locate_header, match_columns

__all__ = ["decode", "read_csv_rows"]

_DELIMITERS = ",;\t|"


def _unreadable(path: str, detail: str) -> ValidationError:
    return ValidationError([Problem(
        path, f"unreadable encoding: {detail}. Save the file as CSV UTF-8 (in Excel: 'CSV UTF-8 "
        "(délimité par des virgules)'; in LibreOffice: jeu de caractères 'Unicode (UTF-8)').")])


def decode(raw: bytes, path: str, warnings: list[str] | None = None) -> str:
    """Text of a file: UTF-8 (BOM or not), UTF-16 with BOM, else Windows-1252 with a warning."""
    if raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            return raw.decode("utf-16")
        except UnicodeDecodeError as exc:
            raise _unreadable(path, f"the file starts as UTF-16 but is damaged at byte "
                              f"{exc.start}") from None
    if raw.startswith(codecs.BOM_UTF8):
        raw = raw[3:]
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        first_bad = exc.start
    try:
        text = raw.decode("cp1252")
    except UnicodeDecodeError as exc:
        raise _unreadable(path, f"byte {raw[exc.start]:#04x} at offset {exc.start} is neither "
                          "UTF-8 nor Windows-1252") from None
    if warnings is not None:
        line = raw[:first_bad].count(b"\n") + 1
        warnings.append(f"{path}: not UTF-8 (first at line {line}); read as Windows-1252 "
                        "(Excel's 'CSV (séparateur: point-virgule)'). Check the accents, or save "
                        "the file as CSV UTF-8.")
    return text


def _parse(text: str, delimiter: str, path: str) -> list[list[str]]:
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    rows: list[list[str]] = []
    try:
        rows.extend(reader)
    except csv.Error as exc:
        raise ValidationError([Problem(
            path, f"not a readable CSV table ({exc}): check the quotes on this row, or save the "
            "file again from Excel or LibreOffice as CSV UTF-8", row=reader.line_num)]) from None
    # a quote never closed swallows every row after it into one cell (a stray quote inside an
    # unquoted cell, as in `CPTS 5" Sud`, is read as text and leaves no newline in a cell)
    if text.count('"') % 2 and any("\n" in cell or "\r" in cell for r in rows for cell in r):
        parity, opened = 0, 1
        for number, line in enumerate(text.splitlines(), start=1):
            if line.count('"') % 2:
                parity ^= 1
                if parity:
                    opened = number
        raise ValidationError([Problem(
            path, "a double quote (\") opened on this row is never closed, so every row after "
            "it is read as one cell: close or remove the quote", row=opened)])
    return rows


def _sniff_delimiter(text: str) -> str:
    """The delimiter that makes a registry header appear, else the most consistent one.

    A candidate that splits a row into the known column names (``cpts_nom``, ``code_insee``...)
    wins; among the others, the one that splits the first rows into the same number of fields.
    ``csv.Sniffer`` is misled by quoted cells holding commas (``"=HYPERLINK(""a"",""b"")"``) and
    by CPTS names with commas in a ``;`` file; this is not.
    """
    lines = [ln for ln in text[:200_000].splitlines()[:30] if ln.strip()]
    if not lines:
        return ","
    sample = "\n".join(lines)
    best, best_score = ",", (-1, -1, -1.0, 0)
    for delim in _DELIMITERS:
        try:
            rows = list(csv.reader(io.StringIO(sample), delimiter=delim))
        except csv.Error:
            continue
        rows = [r for r in rows if r]
        if not rows:
            continue
        h = locate_header(rows)
        head = rows[h] if h is not None else rows[0]
        matched = sum(i is not None for i in vars(match_columns(head)).values())
        width = len(head)
        body = rows[(h or 0):]
        same = sum(1 for r in body if len(r) == width) / len(body)
        score = (int(h is not None), matched if h is not None else 0, same if width > 1 else -1,
                 width)
        if score > best_score:
            best, best_score = delim, score
    return best


def read_csv_rows(raw: bytes, path: str, warnings: list[str] | None = None
                  ) -> list[list[str]]:
    r"""Rows of a CSV file's bytes: encoding and delimiter found from the content.

    Examples
    --------
    >>> read_csv_rows("cpts_nom;code_insee\r\nCPTS Été;13001\r\n".encode("cp1252"), "a.csv")
    [['cpts_nom', 'code_insee'], ['CPTS Été', '13001']]
    """
    text = decode(raw, path, warnings)
    return _parse(text, _sniff_delimiter(text), path)
