"""Read CPTS registries: which CPTS claims which commune or arrondissement, at which stage.

Registries come in the formats ARS staff really have: CSV exported by Excel or LibreOffice (``,``,
``;``, tab or ``|``; UTF-8 with or without BOM, UTF-16 with BOM, Windows-1252), XLSX workbooks
(merged cells included), the JSON listing of ``cpts.json``, and GeoJSON / GeoPackage perimeter
polygons. Whatever the source, the result is one row per claim (:class:`Registry`), every code
current, every stage one of :data:`cpts_geo.registry.stages.STAGES`.

Every problem found is reported in one :class:`~cpts_geo.errors.ValidationError` (file, row,
column, value and what would be accepted). What can be fixed without guessing is fixed, with a
warning in :attr:`Registry.warnings`: codes remapped by the crosswalk (``05120`` → ``05001``),
exact duplicate claims (counted once), a file read as Windows-1252, a workbook whose registry
table is not on the first sheet.

Workbooks: the first sheet is read, or the one named by ``sheet`` (``--sheet``). When the first
sheet holds no registry table (no column of commune codes: a notes or read-me sheet) and exactly
one other sheet does, that sheet is read, with a warning; when several do, the error names them
and asks for ``--sheet``.
"""

from __future__ import annotations

import codecs
import csv
import io
import json
import os
import re
import warnings as pywarnings
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from ..errors import CptsGeoError, Problem, ValidationError
from ..reference.codes import ARRONDISSEMENTS, format_code, resolve
from .stages import STAGES, fold_words, normalise_stage

if TYPE_CHECKING:
    from ..reference import Reference

__all__ = [
    "CLAIM_COLUMNS",
    "Registry",
    "default_registry_path",
    "membership",
    "read_any",
    "read_registry",
    "registry_from_frame",
    "registry_from_records",
]

#: The columns every claims table has, in order (then ``ligne`` and the source's extra columns).
CLAIM_COLUMNS = ("cpts_id", "cpts_nom", "stade", "code", "partage")

# Accepted input column names (folded: lower case, no accents, ``_`` between words), best first.
_ID_NAMES = ("cpts_id", "id_cpts", "code_cpts", "identifiant_cpts", "identifiant", "id",
             "numero_cpts", "finess", "finess_cpts", "siret", "siret_cpts")
_NAME_NAMES = ("cpts_nom", "nom_cpts", "nom_de_la_cpts", "libelle_cpts", "cpts", "nom",
               "name", "libelle", "raison_sociale", "denomination")
_CODE_NAMES = ("code", "code_commune", "code_insee", "insee", "code_insee_commune",
               "code_commune_insee", "insee_com", "codgeo", "code_geo", "depcom", "com",
               "code_com", "commune", "codes", "codes_communes", "codes_insee", "communes",
               "liste_communes", "liste_des_communes", "code_commune_cog2026", "n_insee",
               "no_insee", "num_insee", "numero_insee", "insee_commune",
               "code_insee_de_la_commune", "codeinsee", "codecommune", "cog", "code_cog")
_ARR_NAMES = ("code_arrondissement", "code_arrondissement_municipal", "arrondissement_municipal",
              "code_arm", "arm", "arrondissements", "codes_arrondissements")
_STAGE_NAMES = ("stade", "statut", "etat", "stage", "status", "avancement", "etape",
                "statut_cpts", "stade_cpts", "etat_avancement", "niveau_avancement", "phase")
_SHARE_NAMES = ("partage", "partagee", "partage_infra", "infra", "infracommunal",
                "infra_communal", "shared", "commune_partagee")
_POSTAL_NAMES = ("code_postal", "cp", "codes_postaux", "code_postal_commune")
_TRUE = {"infra", "oui", "o", "yes", "y", "true", "vrai", "1", "x", "partage", "partagee",
         "infracommunal", "infra_communal", "infra_communale"}
_FALSE = {"", "non", "n", "no", "false", "faux", "0", "nan", "none", "-"}
# separators between codes listed in one cell; spaces are tried only when they do not sit
# inside one code ("13 001")
_LIST_SPLIT = re.compile(r"[;,|/\n\r\t]+")
_SPACES = re.compile(r"\s+")
_DELIMITERS = ",;\t|"
#: Rows shown in one message before "...".
_SHOWN = 10

_PACKAGE_DEFAULT = Path(__file__).parents[1] / "default" / "paca-2026-01.csv"


def default_registry_path() -> Path:
    """The embedded default registry: the real PACA listing of January 2026.

    Examples
    --------
    >>> default_registry_path().name
    'paca-2026-01.csv'
    """
    return _PACKAGE_DEFAULT


@dataclass(frozen=True, eq=False)
class Registry:
    """A CPTS registry: one row per claim.

    Attributes
    ----------
    claims
        ``cpts_id``, ``cpts_nom``, ``stade``, ``code`` (a current unit code: a commune, an
        arrondissement municipal, or a whole city), ``partage`` (bool: the CPTS holds this commune
        only in part, by design), ``ligne`` (row in the source), then any extra source columns.
    source
        The file read (or a description of the source).
    warnings
        Things that were fixed and that the user should know: remapped codes, duplicate rows.
    remapped
        Historical code → current code, for each code the crosswalk changed.

    Examples
    --------
    >>> len(reg), len(reg.claims), reg.remapped
    (70, 918, {'05120': '05001'})
    >>> reg.cpts.loc["PACA-003"].to_dict()
    {'cpts_nom': 'CPTS Aix Sainte Victoire', 'stade': 'non_renseigne', 'n_claims': 6}
    >>> sorted(set(reg.claims.loc[reg.claims["partage"], "code"]))  # shared by design
    ['06088', '83137']
    """

    claims: pd.DataFrame
    source: str
    warnings: tuple[str, ...] = ()
    remapped: dict[str, str] = field(default_factory=dict)

    @property
    def cpts(self) -> pd.DataFrame:
        """One row per CPTS, indexed by ``cpts_id``: ``cpts_nom``, ``stade``, ``n_claims``."""
        grouped = self.claims.groupby("cpts_id", sort=False)
        frame = grouped[["cpts_nom", "stade"]].first()
        frame["n_claims"] = grouped.size()
        return frame

    def __len__(self) -> int:
        return int(self.claims["cpts_id"].nunique())


# --------------------------------------------------------------------------------------------
# reading tables


@lru_cache(maxsize=65_536)
def _fold(name: object) -> str:
    """A column name as matched: ``"Code INSEE "`` → ``code_insee`` (accents and case ignored)."""
    return fold_words(str(name)).replace(" ", "_")


def _unreadable(path: str, detail: str) -> ValidationError:
    return ValidationError([Problem(
        path, f"unreadable encoding: {detail}. Save the file as CSV UTF-8 (in Excel: 'CSV UTF-8 "
        "(délimité par des virgules)'; in LibreOffice: jeu de caractères 'Unicode (UTF-8)').")])


def _decode(raw: bytes, path: str, warnings: list[str] | None = None) -> str:
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
        h = _locate_header(rows)
        head = rows[h] if h is not None else rows[0]
        matched = sum(i is not None for i in vars(_match_columns(head)).values())
        width = len(head)
        body = rows[(h or 0):]
        same = sum(1 for r in body if len(r) == width) / len(body)
        score = (int(h is not None), matched if h is not None else 0, same if width > 1 else -1,
                 width)
        if score > best_score:
            best, best_score = delim, score
    return best


def _read_csv_rows(raw: bytes, path: str, warnings: list[str] | None = None
                   ) -> list[list[str]]:
    text = _decode(raw, path, warnings)
    return _parse(text, _sniff_delimiter(text), path)


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
    return _locate_header([[_cell(v) for v in r] for r in rows[:15]]) is not None


def _read_xlsx_rows(path: Path, sheet: str | int | None, warnings: list[str] | None = None
                    ) -> list[list[Any]]:
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


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        if value != value:  # NaN
            return ""
        if value.is_integer():
            return str(int(value))
    elif type(value).__name__ in {"NAType", "NaTType"}:
        return ""
    return str(value).strip()


@dataclass
class _Columns:
    code: int | None = None
    arr: int | None = None
    cid: int | None = None
    name: int | None = None
    stage: int | None = None
    share: int | None = None


def _find(folded: list[str], names: tuple[str, ...], taken: set[int],
          loose: Callable[[set[str]], bool] | None = None) -> int | None:
    for name in names:
        for i, f in enumerate(folded):
            if f == name and i not in taken:
                return i
    if loose is not None:
        for i, f in enumerate(folded):
            if i not in taken and f and loose(set(f.split("_"))):
                return i
    return None


# when no header is one of the names above: a header made of these words
_LOOSE: dict[str, Callable[[set[str]], bool]] = {
    "code": lambda w: "insee" in w and not w & {"nom", "libelle", "population"},
    "name": lambda w: "cpts" in w and bool(w & {"nom", "libelle", "denomination", "intitule"}),
    "stage": lambda w: bool(w & {"statut", "stade", "etat", "avancement"}),
}


def _match_columns(header: list[str]) -> _Columns:
    folded = [_fold(h) for h in header]
    cols = _Columns()
    taken: set[int] = set()
    for attr, names in (("arr", _ARR_NAMES), ("code", _CODE_NAMES), ("cid", _ID_NAMES),
                        ("name", _NAME_NAMES), ("stage", _STAGE_NAMES),
                        ("share", _SHARE_NAMES)):
        idx = _find(folded, names, taken, _LOOSE.get(attr))
        if idx is not None:
            setattr(cols, attr, idx)
            taken.add(idx)
    return cols


def _locate_header(rows: list[list[str]]) -> int | None:
    """Index of the header row: the first of the first 15 rows naming a code column."""
    for i, row in enumerate(rows[:15]):
        if len(row) > 500:  # not a header
            continue
        cols = _match_columns(row)
        if cols.code is not None or cols.arr is not None:
            return i
    return None


# --------------------------------------------------------------------------------------------
# records → claims


@dataclass
class _Record:
    row: int | None
    cpts_id: str
    cpts_nom: str
    stage: object
    codes: list[tuple[str, object]]  # (column, raw value)
    partage: object = ""
    infra: tuple[str, ...] = ()  # names or codes of communes shared below commune level
    extra: dict[str, Any] = field(default_factory=dict)
    stage_column: str = "stade"  # the source's names of the stage and shared columns
    share_column: str = "partage"


def _separator_hint(header: list[str]) -> str:
    if len(header) != 1:
        return ""
    cell = header[0]
    for sep, label in ((":", "':'"), (" ", "spaces"), (".", "'.'")):
        if sep in cell.strip():
            return (f". The columns seem to be separated by {label}: separate them with a comma "
                    "or a semicolon (Excel: Enregistrer sous > CSV UTF-8)")
    return ""


def _rows_to_records(rows: list[list[Any]], path: str, problems: list[Problem]
                     ) -> list[_Record]:
    rows = [[_cell(v) for v in r] for r in rows]
    while rows and not any(rows[-1]):
        rows.pop()
    if not rows:
        problems.append(Problem(path, "empty file: expected a header row (e.g. cpts_nom, stade, "
                                "code_commune) and one row per commune claimed by a CPTS"))
        return []
    h = _locate_header(rows)
    if h is None:
        first = next(r for r in rows if any(r))
        found = ", ".join(repr(c) for c in first[:20] if c) or "none"
        postal = [c for c in first if _fold(c) in _POSTAL_NAMES]
        hint = (f". Column {postal[0]!r} holds postal codes, which are not INSEE codes (13100 is "
                "the postal code of Aix-en-Provence, 13001 its INSEE code)" if postal else "")
        problems.append(Problem(
            path, "missing required column: no column of commune codes. Name it one of "
            f"{', '.join(_CODE_NAMES[:6])} (found columns: {found}){hint}"
            f"{_separator_hint(first)}", row=rows.index(first) + 1))
        return []
    header = rows[h]
    cols = _match_columns(header)
    if cols.name is None and cols.cid is None:
        problems.append(Problem(
            path, "missing required column: no CPTS name or identifier column. Name it one of "
            f"{', '.join(_NAME_NAMES[:4])} or {', '.join(_ID_NAMES[:3])} (found columns: "
            f"{', '.join(repr(c) for c in header if c)})", row=h + 1))
        return []
    used = {i for i in vars(cols).values() if i is not None}
    extras = [(i, header[i]) for i in range(len(header)) if i not in used and header[i]]
    code_col = header[cols.code] if cols.code is not None else None
    arr_col = header[cols.arr] if cols.arr is not None else None
    stage_col = header[cols.stage] if cols.stage is not None else "stade"
    share_col = header[cols.share] if cols.share is not None else "partage"
    records: list[_Record] = []
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
            codes.extend((arr_col, v) for v in _split(arr_value))  # type: ignore[misc]
        elif cols.code is not None:
            codes.extend((code_col, v) for v in _split(get(cols.code)))  # type: ignore[misc]
        if not codes:
            codeless.append(i)
            continue
        records.append(_Record(
            row=i, cpts_id=cid or name, cpts_nom=name or cid, stage=get(cols.stage),
            codes=codes, partage=get(cols.share),
            extra={h_: row[j] for j, h_ in extras}, stage_column=stage_col,
            share_column=share_col))
    if nameless:
        column = header[cols.name if cols.name is not None else cols.cid]  # type: ignore[index]
        problems.append(Problem(
            path, f"no CPTS name on row(s) {_rows_text(nameless)}: fill in the {column!r} cell on "
            "every row (when a name is written only on the first row of its CPTS, as with merged "
            "cells, repeat it on each row), or delete the row", row=nameless[0], column=column))
    if codeless:
        problems.append(Problem(
            path, f"no commune code on row(s) {_rows_text(codeless)}: fill in the "
            f"{code_col or arr_col!r} cell, or delete the row", row=codeless[0],
            column=code_col or arr_col))
    return records


def _rows_text(rows: list[int | None]) -> str:
    shown = ", ".join(str(r) for r in rows[:_SHOWN])
    return shown + (f" ... ({len(rows)} rows)" if len(rows) > _SHOWN else "")


def _split(value: str) -> list[str]:
    """The codes of one cell: ``13001``, or a list ``13001; 13002`` (``,``, ``|``, ``/``, spaces).

    Spaces separate codes only where they do not sit inside one (``13 001``, ``2A 004``).
    """
    value = value.strip()
    if not value:
        return []
    out: list[str] = []
    for part in _LIST_SPLIT.split(value):
        part = part.strip()
        if not part:
            continue
        pieces = _SPACES.split(part)
        if len(pieces) > 1 and format_code(part) is None and all(
                format_code(p) is not None for p in pieces):
            out.extend(pieces)
        else:
            out.append(part)
    return out or [value]


_JSON_SHAPE = ('expected a list of objects, one per CPTS, like [{"cpts_id": "PACA-001", "nom": '
               '"CPTS ...", "statut": "...", "communes": ["13001", ...], "arrondissements": '
               '[...], "infra": [...]}] (or an object {"cpts": [...]}, or {"CPTS name": '
               '["13001", ...]})')


def _json_items(data: Any) -> list[Any] | None:
    if isinstance(data, list):
        return data
    if not isinstance(data, dict):
        return None
    for key in ("cpts", "CPTS", "items", "data", "registre"):
        if isinstance(data.get(key), list):
            return data[key]  # type: ignore[no-any-return]
    # {"CPTS A": ["13001", ...], "CPTS B": [...]}: name → codes
    if data and all(isinstance(v, list) and all(isinstance(x, (str, int)) for x in v)
                    for v in data.values()):
        return [{"nom": k, "communes": v} for k, v in data.items()]
    return None


def _json_records(data: Any, path: str, problems: list[Problem]) -> list[_Record]:
    items = _json_items(data)
    if items is None or not all(isinstance(x, dict) for x in items):
        kind = type(data).__name__ if items is None else "a list holding " + ", ".join(sorted(
            {type(x).__name__ for x in items if not isinstance(x, dict)}))
        kind = {"dict": "an object", "list": "a list", "str": "a string", "int": "a number",
                "float": "a number", "NoneType": "null", "bool": "a boolean"}.get(kind, kind)
        problems.append(Problem(path, f"JSON of the wrong shape: found {kind}; {_JSON_SHAPE}"))
        return []
    if not items:
        problems.append(Problem(path, "empty file: the JSON list holds no CPTS"))
        return []
    records: list[_Record] = []
    for n, obj in enumerate(items, start=1):
        keys = {_fold(k): k for k in obj}

        def pick(names: Iterable[str], obj: dict[str, Any] = obj,
                 keys: dict[str, str] = keys) -> Any:
            for name in names:
                if name in keys:
                    return obj[keys[name]]
            return None

        cid = _cell(pick(_ID_NAMES))
        name = _cell(pick(_NAME_NAMES))
        where = f"CPTS n° {n} of the JSON list"
        if not cid and not name:
            problems.append(Problem(path, f"{where} has no name nor identifier (keys 'cpts_id', "
                                    f"'nom'); found keys {sorted(map(str, obj))}", row=n))
            continue
        communes = pick(("communes", "codes", "code_communes", "codes_communes", "codes_insee",
                         "code_insee", "code_commune", "insee", "code", "membres"))
        arrs = pick(("arrondissements", "codes_arrondissements", "arrondissements_municipaux"))
        lists: list[tuple[str, list[Any]]] = []
        for label, value in (("communes", communes), ("arrondissements", arrs)):
            if value is None:
                continue
            if isinstance(value, (str, int)) and not isinstance(value, bool):
                value = _split(str(value))
            if not isinstance(value, list):
                problems.append(Problem(path, f"{where}: '{label}' must be a list of codes, like "
                                        '["13001", "13002"]', row=n, column=label,
                                        value=json.dumps(value, ensure_ascii=False)[:80]))
                continue
            lists.append((label, [_json_code(v) for v in value]))
        if not lists:
            problems.append(Problem(path, f"{where} ({name or cid}) has no commune: give a "
                                    "'communes' list of INSEE codes", row=n, value=name or cid))
            continue
        if not any(v for _, v in lists):
            problems.append(Problem(path, f"{where} ({name or cid}): its list of communes is "
                                    "empty; give the INSEE codes of its communes", row=n,
                                    value=name or cid))
            continue
        arr_codes = {format_code(a) for lbl, v in lists if lbl == "arrondissements" for a in v}
        codes: list[tuple[str, object]] = []
        for label, values in lists:
            for v in values:
                code = format_code(v)
                # a city listed with some of its arrondissements stands for those only
                if (label == "communes" and code in ARRONDISSEMENTS
                        and arr_codes & set(ARRONDISSEMENTS[code])):
                    continue
                codes.append((label, v))
        infra = pick(("infra", "partage", "communes_partagees", "partages", "infra_communal"))
        if isinstance(infra, str) and _fold(infra) in _TRUE | _FALSE:
            infra = _fold(infra) in _TRUE  # "partage": "oui": every commune is shared
        elif isinstance(infra, str):  # "Nice; Toulon" (names may hold spaces)
            infra = [x.strip() for x in re.split(r"[;,|]", infra) if x.strip()]
        records.append(_Record(
            row=n, cpts_id=cid or name, cpts_nom=name or cid,
            stage=_cell(pick(_STAGE_NAMES)), codes=codes,
            infra=tuple(_cell(x) for x in infra or ()) if isinstance(infra, list) else (),
            partage=infra if isinstance(infra, bool) else "",
            stage_column=next((keys[k] for k in _STAGE_NAMES if k in keys), "statut"),
            share_column=next((keys[k] for k in ("infra", "partage") if k in keys), "infra")))
    return records


def _json_code(value: Any) -> Any:
    """A code in a JSON list: the value itself, or the code of a ``{"code": ..., "nom": ...}``."""
    if isinstance(value, dict):
        for key in ("code", "code_insee", "insee", "code_commune", "codgeo"):
            if key in value:
                return value[key]
        return json.dumps(value, ensure_ascii=False)[:80]
    if isinstance(value, (list, tuple)):
        return json.dumps(value, ensure_ascii=False)[:80]
    return value


# --------------------------------------------------------------------------------------------
# validation


@dataclass
class _Cpts:
    """What the rows of one CPTS said, for the checks made over all its rows."""

    names: dict[str, tuple[str, int | None]] = field(default_factory=dict)
    stages: dict[str, list[tuple[int | None, object]]] = field(default_factory=dict)
    infra: set[str] = field(default_factory=set)
    infra_row: int | None = None
    matched_infra: set[str] = field(default_factory=set)


def _validate(records: list[_Record], path: str, ref: Reference, problems: list[Problem],
              warnings: list[str]) -> tuple[pd.DataFrame, dict[str, str]]:
    current = ref.current_codes
    crosswalk = ref.crosswalk
    names = ref.units["nom"]
    remapped: dict[str, str] = {}
    remap_rows: dict[str, list[int | None]] = defaultdict(list)
    resolved: dict[str, str | None] = {}
    stage_cache: dict[str, str | None] = {}
    code_cache: dict[str | int, str | None] = {}
    bad_stage_labels: dict[tuple[str, str], list[int | None]] = defaultdict(list)
    cpts: dict[str, _Cpts] = {}
    out: dict[str, list[Any]] = {c: [] for c in ("cpts_id", "code", "partage", "ligne")}
    extra_names = list(dict.fromkeys(k for rec in records for k in rec.extra))
    extra_cols: dict[str, list[Any]] = {k: [] for k in extra_names}
    seen: dict[tuple[str, str], tuple[int | None, bool]] = {}
    dupes: list[tuple[int | None, str, str, int | None]] = []
    unknown: dict[str, list[tuple[int | None, str]]] = defaultdict(list)  # value → rows, column
    ids_of_name: dict[str, dict[str, int | None]] = defaultdict(dict)
    for rec in records:
        info = cpts.get(rec.cpts_id)
        if info is None:
            info = cpts[rec.cpts_id] = _Cpts()
        if rec.cpts_id != rec.cpts_nom:  # a row with no name (only an identifier) says nothing
            ids_of_name[_fold(rec.cpts_nom)].setdefault(rec.cpts_id, rec.row)
            info.names.setdefault(_fold(rec.cpts_nom), (rec.cpts_nom, rec.row))
        try:
            stage = stage_cache[rec.stage]
        except (KeyError, TypeError):
            stage = normalise_stage(rec.stage)
            if isinstance(rec.stage, str):
                stage_cache[rec.stage] = stage
        if stage is None:
            bad_stage_labels[str(rec.stage), rec.stage_column].append(rec.row)
        elif stage != "non_renseigne":
            info.stages.setdefault(stage, []).append((rec.row, rec.stage))
        if isinstance(rec.partage, bool):
            share_all = rec.partage
        else:
            share_text = _fold(rec.partage)
            share_all = share_text in _TRUE
            if not share_all and share_text not in _FALSE:
                problems.append(Problem(path, "unrecognised value for a shared commune: write "
                                        "'infra' (or 'oui') for a commune shared below commune "
                                        "level, or leave it empty", row=rec.row,
                                        column=rec.share_column, value=rec.partage))
        infra = {_fold(x) for x in rec.infra if _fold(x)}
        if infra:
            info.infra |= infra
            info.infra_row = rec.row
        for column, raw in rec.codes:
            try:
                code = code_cache[raw]  # type: ignore[index]
            except (KeyError, TypeError):
                code = format_code(raw)
                if isinstance(raw, (str, int)) and not isinstance(raw, bool):
                    code_cache[raw] = code
            if code is None:
                problems.append(Problem(path, _bad_code_hint(raw), row=rec.row, column=column,
                                        value=raw))
                continue
            if code in resolved:
                new = resolved[code]
            else:
                new = resolved[code] = resolve(code, crosswalk, current)
            if new is None:
                unknown[str(raw)].append((rec.row, column))
                continue
            if new != code:
                remapped[code] = new
                remap_rows[code].append(rec.row)
                code = new
            key = (rec.cpts_id, code)
            partage = share_all
            if infra:
                hit = {_fold(code), _fold(names.get(code, ""))} & infra
                if hit:
                    partage = True
                    info.matched_infra |= hit
            if key in seen:
                first_row, first_share = seen[key]
                if first_share != partage:
                    problems.append(Problem(
                        path, f"duplicate claim: CPTS {rec.cpts_nom!r} claims {code} twice (rows "
                        f"{first_row} and {rec.row}) with different 'partage' values; keep one "
                        "row", row=rec.row, column=column, value=raw))
                else:
                    dupes.append((rec.row, rec.cpts_nom, code, first_row))
                continue
            seen[key] = (rec.row, partage)
            out["cpts_id"].append(rec.cpts_id)
            out["code"].append(code)
            out["partage"].append(partage)
            out["ligne"].append(rec.row)
            for k in extra_names:
                extra_cols[k].append(rec.extra.get(k, ""))
    for value, where in unknown.items():
        rows = [r for r, _ in where]
        problems.append(Problem(
            path, "unknown code: neither a current commune or arrondissement code nor a "
            "historical one. Check it against the INSEE code officiel géographique (5 "
            "characters, e.g. 01001, 2A004)" + (f"; also on rows {_rows_text(rows[1:])}"
                                                if len(rows) > 1 else ""),
            row=rows[0], column=where[0][1], value=value))
    for (label, column), rows in bad_stage_labels.items():
        problems.append(Problem(
            path, f"unknown stage (row(s) {_rows_text(rows)}); accepted stages: "
            f"{', '.join(STAGES)}, or the labels used in listings such as 'ACI signé', 'projet "
            "de santé validé', \"lettre d'intention\", 'émergence' (an empty cell means non "
            "renseigné)", row=rows[0], column=column, value=label))
    for ids in ids_of_name.values():
        if len(ids) > 1:
            (first, _), (second, row) = list(ids.items())[:2]
            name = next(iter(cpts[first].names.values()))[0]
            shown = ", ".join(f"{i!r} (row {r})" for i, r in list(ids.items())[:_SHOWN])
            problems.append(Problem(
                path, f"CPTS {name!r} is given {len(ids)} identifiers: {shown}. Give each CPTS "
                "one identifier (if that column numbers the rows rather than the CPTS, rename "
                "or delete it)", row=row, value=second))
    stage_of: dict[str, str] = {}
    name_of: dict[str, str] = {}
    for cid, info in cpts.items():
        name_of[cid] = next(iter(info.names.values()))[0] if info.names else cid
        if len(info.names) > 1:
            shown = "; ".join(f"{n!r} (row {r})" for n, r in info.names.values())
            problems.append(Problem(
                path, f"CPTS {cid!r} is given different names: {shown}. Give each CPTS one name "
                "(or different identifiers)", row=list(info.names.values())[1][1], value=cid))
        if len(info.stages) > 1:
            shown = "; ".join(f"{labels[0][1]!r} → {stage} (row(s) "
                              f"{_rows_text([r for r, _ in labels])})"
                              for stage, labels in info.stages.items())
            second = list(info.stages.values())[1][0]
            problems.append(Problem(
                path, f"CPTS {name_of[cid]!r} is given two different stages: {shown}. Give each "
                "CPTS a single stage (rows left empty take the stage of the others).",
                row=second[0], value=second[1]))
        stage_of[cid] = next(iter(info.stages), "non_renseigne")
        if info.infra - info.matched_infra:
            missing = sorted(info.infra - info.matched_infra)
            problems.append(Problem(
                path, f"CPTS {name_of[cid]!r} declares shared communes that it does not claim: "
                f"{', '.join(missing)}. 'infra' must name (or give the code of) communes in its "
                "list of communes", row=info.infra_row, column="infra"))
    for old, rows in remap_rows.items():
        new = remapped[old]
        where = f"row {rows[0]}" if len(rows) == 1 else f"rows {_rows_text(rows)}"
        warnings.append(f"{path}, {where}: code {old} is a former code, mapped to {new} "
                        f"({names.get(new, '')})")
    for row, name, code, first_row in dupes[:_SHOWN]:
        warnings.append(f"{path}, row {row}: duplicate claim of {code} by CPTS {name!r} (first "
                        f"on row {first_row}); counted once")
    if len(dupes) > _SHOWN:
        warnings.append(f"{path}: {len(dupes) - _SHOWN} more duplicate claims, each counted once "
                        f"(rows {_rows_text([d[0] for d in dupes[_SHOWN:]])})")
    frame = pd.DataFrame({
        "cpts_id": pd.Series(out["cpts_id"], dtype=object),
        "cpts_nom": pd.Series([name_of[c] for c in out["cpts_id"]], dtype=object),
        "stade": pd.Series([stage_of[c] for c in out["cpts_id"]], dtype=object),
        "code": pd.Series(out["code"], dtype=object),
        "partage": pd.Series(out["partage"], dtype=bool),
        "ligne": pd.array(out["ligne"], dtype="Int64"),
    })
    for k, v in extra_cols.items():
        if k not in frame.columns:
            frame[k] = pd.Series(v, dtype=object)
    return frame, remapped


def _bad_code_hint(raw: object) -> str:
    text = str(raw).strip()
    if re.fullmatch(r"\d{6,}", text):
        return ("not a commune code: too many digits (a postal code or SIRET?). Use the 5-"
                "character INSEE code, e.g. 01001")
    if re.fullmatch(r"\d{1,3}", text):
        return ("not a commune code: too short (a département number?). Use the 5-character "
                "INSEE code, e.g. 01001")
    if re.fullmatch(r"\d+[.,]\d+", text):
        return "not a commune code: a decimal number. Use the 5-character INSEE code, e.g. 01001"
    if re.search(r"[A-Za-zÀ-ÿ]{3,}", text):
        return ("not a commune code (a commune name?). Give the 5-character INSEE code, "
                "e.g. 13001 for Aix-en-Provence")
    return "not a commune code: expected 5 characters, e.g. 01001 or 2A004"


# --------------------------------------------------------------------------------------------
# public API


def _sniff_format(path: Path, head: bytes) -> str:
    suffix = path.suffix.lower()
    if head.startswith(b"PK\x03\x04"):
        if b"application/vnd.oasis.opendocument" in head[:200]:
            return "ods"
        return "xlsx"
    if head.startswith(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"):  # OLE2: Excel 97-2003
        return "xls"
    if head.startswith(b"SQLite format 3"):
        return "gpkg"
    if suffix in {".geojson", ".gpkg", ".shp", ".fgb"}:
        return "geo"
    stripped = head.lstrip(codecs.BOM_UTF8).lstrip()
    if stripped.startswith((b"{", b"[")) or suffix == ".json":
        return "json"
    if suffix in {".xls", ".ods"}:
        return suffix[1:]
    return "csv"


def read_registry(path: str | os.PathLike[str], reference: Reference, *,
                  sheet: str | int | None = None) -> Registry:
    """Read a CPTS registry file into one row per claim.

    The format is found from the content (and the extension): CSV, XLSX, JSON, GeoJSON or
    GeoPackage of perimeter polygons. Column names are matched leniently (``code_commune``,
    ``code_insee``, ``insee``, ``commune``; ``statut``, ``stade``, ``etat``; ``cpts_nom``,
    ``nom_cpts``, ``nom``...). A table may hold one row per claim, or one row per CPTS with a
    list of codes in one cell. Stages are read with
    :func:`cpts_geo.registry.stages.normalise_stage`; a CPTS whose stage is written on some of
    its rows only takes it on all of them.

    Parameters
    ----------
    path
        The registry file.
    reference
        The reference data, for the current codes and the crosswalk (and the unit polygons when
        the registry is made of perimeters).
    sheet
        XLSX only: the sheet name or number (1-based). By default the first sheet, or the only
        sheet holding a registry table when the first holds none (see the module docstring).

    Returns
    -------
    Registry

    Raises
    ------
    ValidationError
        Listing every problem: file, row, column, value and what would be accepted.

    Examples
    --------
    >>> reg = read_registry(default_registry_path(), ref)
    >>> len(reg), reg.remapped
    (70, {'05120': '05001'})
    >>> for warning in reg.warnings:  # each begins with the file name
    ...     print(warning.removeprefix(reg.source + ", "))
    row 301: code 05120 is a former code, mapped to 05001 (Abriès-Ristolas)
    row 301: duplicate claim of 05001 by CPTS 'CPTS Guil Durance' (first on row 280); counted once

    Every problem of a file is reported at once:

    >>> bad = tmp / "cpts.csv"
    >>> pd.DataFrame({"cpts_nom": ["CPTS A", "CPTS A", "CPTS B"],
    ...               "code_insee": ["13001", "130", "99999"],
    ...               "statut": ["ACI signé", "", "en sommeil"]}).to_csv(bad, sep=";", index=False)
    >>> read_registry(bad, ref)
    Traceback (most recent call last):
    ...
    cpts_geo.errors.ValidationError: 3 problems in the input:
      - .../cpts.csv, row 3, column 'code_insee', value '130': not a commune code: too
        short (a département number?). Use the 5-character INSEE code, e.g. 01001
      - .../cpts.csv, row 4, column 'code_insee', value '99999': unknown code: ...
      - .../cpts.csv, row 4, column 'statut', value 'en sommeil': unknown stage ...
    """
    path = Path(path)
    label = str(path)
    if not path.exists():
        raise ValidationError([Problem(label, "no such file: check the path")])
    if path.is_dir():
        raise ValidationError([Problem(label, "is a directory, not a registry file")])
    try:
        with open(path, "rb") as fh:
            head = fh.read(4096)
    except OSError as exc:
        raise ValidationError([Problem(label, f"cannot be read: {exc.strerror}")]) from None
    fmt = _sniff_format(path, head)
    if fmt in {"csv", "json", "xlsx"}:
        from . import cache as registry_cache

        raw = path.read_bytes()
        key = registry_cache.cache_key(raw, label, sheet, reference)
        cached = registry_cache.load(key)
        if cached is not None:
            return cached
        registry = _read(path, reference, sheet, label, fmt)
        registry_cache.store(key, registry)
        return registry
    return _read(path, reference, sheet, label, fmt)


def _read(path: Path, reference: Reference, sheet: str | int | None, label: str,
          fmt: str) -> Registry:
    problems: list[Problem] = []
    warnings: list[str] = []
    if fmt in {"geo", "gpkg"}:
        from .perimeters import read_perimeters

        records = read_perimeters(path, reference, problems, warnings)
    elif fmt in {"xls", "ods"}:
        kind = "old Excel format (.xls)" if fmt == "xls" else "OpenDocument spreadsheet (.ods)"
        raise ValidationError([Problem(label, f"{kind} is not read: open it in Excel or "
                                       "LibreOffice and save it as .xlsx or CSV UTF-8")])
    elif fmt == "xlsx":
        records = _rows_to_records(_read_xlsx_rows(path, sheet, warnings), label, problems)
    else:
        raw = path.read_bytes()
        if fmt == "json":
            text = _decode(raw, label, warnings)
            try:
                data = json.loads(text)
            except json.JSONDecodeError as exc:
                raise ValidationError([Problem(label, f"not valid JSON: {exc.msg} at line "
                                               f"{exc.lineno}, column {exc.colno}. Check the "
                                               "brackets, quotes and commas there.",
                                               row=exc.lineno)]) from None
            except RecursionError:
                raise ValidationError([Problem(label, "not a registry: JSON nested too "
                                               f"deeply; {_JSON_SHAPE}")]) from None
            if isinstance(data, dict) and data.get("type") in {"FeatureCollection", "Feature"}:
                from .perimeters import read_perimeters

                records = read_perimeters(path, reference, problems, warnings)
            else:
                records = _json_records(data, label, problems)
        else:
            if b"\x00" in raw[:4096] and not raw.startswith((codecs.BOM_UTF16_LE,
                                                             codecs.BOM_UTF16_BE)):
                raise ValidationError([Problem(label, "binary content, not a CSV text file: "
                                               "give a CSV, XLSX, JSON or GeoJSON registry")])
            records = _rows_to_records(_read_csv_rows(raw, label, warnings), label, problems)
    return registry_from_records(records, label, reference, problems, warnings)


def registry_from_records(records: list[_Record], source: str, reference: Reference,
                          problems: list[Problem] | None = None,
                          warnings: list[str] | None = None) -> Registry:
    """Validate parsed records into a :class:`Registry` (raise if any problem).

    Examples
    --------
    >>> registry_from_records([], "vide.csv", ref)
    Traceback (most recent call last):
    ...
    cpts_geo.errors.ValidationError: 1 problem in the input:
      - vide.csv: no claims: the file has a header but no CPTS rows; ...
    """
    problems = [] if problems is None else problems
    warnings = [] if warnings is None else warnings
    claims, remapped = _validate(records, source, reference, problems, warnings)
    if not problems and claims.empty:
        problems.append(Problem(source, "no claims: the file has a header but no CPTS rows; add "
                                "one row per commune claimed by a CPTS (cpts_nom, code_insee)"))
    if problems:
        # file-level problems first, then by row, as the user reads the file
        problems.sort(key=lambda p: -1 if p.row is None else p.row)
        raise ValidationError(problems)
    return Registry(claims, source, tuple(warnings), remapped)


def registry_from_frame(frame: pd.DataFrame, reference: Reference, *,
                        source: str = "<table>") -> Registry:
    """Build a registry from an in-memory table with the columns of a registry file.

    Examples
    --------
    >>> t = pd.DataFrame({"cpts_nom": ["CPTS A", "CPTS A"], "code_insee": [13001, "5120"]})
    >>> r = registry_from_frame(t, ref)
    >>> len(r), r.claims["code"].tolist(), r.remapped
    (1, ['13001', '05001'], {'05120': '05001'})
    >>> r.warnings
    ('<table>, row 3: code 05120 is a former code, mapped to 05001 (Abriès-Ristolas)',)
    """
    rows = [list(frame.columns), *frame.astype(object).where(frame.notna(), "").values.tolist()]
    problems: list[Problem] = []
    records = _rows_to_records(rows, source, problems)
    return registry_from_records(records, source, reference, problems)


def membership(registry: Registry, reference: Reference) -> pd.DataFrame:
    """Expand claims to the finest units: one row per (CPTS, finest unit).

    A claim on Paris, Lyon or Marseille as a whole stands for each of its arrondissements.

    Returns
    -------
    pandas.DataFrame
        ``cpts_id``, ``code`` (finest unit), ``partage``, ``stade``, ``population``, ``region``,
        ``departement``, ``zone``.

    Examples
    --------
    >>> m = membership(reg, ref)
    >>> sorted(m.loc[m["code"] == "06088", "cpts_id"])  # Nice, shared by three CPTS
    ['PACA-028', 'PACA-029', 'PACA-030']
    >>> int(m.drop_duplicates("code")["population"].sum())  # population covered
    5117871

    A claim on a city as a whole stands for its arrondissements:

    >>> marseille = registry_from_frame(
    ...     pd.DataFrame({"cpts_nom": ["CPTS Marseille"], "code_insee": ["13055"]}), ref)
    >>> m = membership(marseille, ref)
    >>> len(m), m["code"].iloc[0], int(m["population"].sum())
    (16, '13201', 886040)
    """
    claims = registry.claims
    codes = claims["code"].to_numpy()
    expanded = [reference.expand(c) for c in codes]
    lengths = np.fromiter((len(e) for e in expanded), dtype=np.int64, count=len(expanded))
    rep = np.repeat(np.arange(len(claims)), lengths)
    flat = np.asarray([c for e in expanded for c in e], dtype=object)
    out = pd.DataFrame({
        "cpts_id": claims["cpts_id"].to_numpy()[rep],
        "code": flat,
        "partage": claims["partage"].to_numpy()[rep],
        "stade": claims["stade"].to_numpy()[rep],
    })
    # a CPTS claiming a city whole and one of its arrondissements: keep one row per unit
    out = out.sort_values("partage").drop_duplicates(["cpts_id", "code"], keep="first")
    out = out.sort_index()
    finest = reference.finest
    lost = ~out["code"].isin(finest.index)
    if lost.any():  # a code the reference cannot place: never drop it silently
        codes = sorted(set(out.loc[lost, "code"]))
        raise CptsGeoError(f"{registry.source}: codes with no unit in the reference data "
                           f"{reference.root}: {', '.join(codes[:10])}. Check that the reference "
                           "data directory is complete (rebuild it with `cpts-geo fetch`).")
    attrs = finest.loc[out["code"], ["population", "region", "departement", "zone"]]
    for col in attrs.columns:
        out[col] = attrs[col].to_numpy()
    return out.reset_index(drop=True)


def read_any(path: str | os.PathLike[str] | None, reference: Reference, *,
             sheet: str | int | None = None) -> Registry:
    """Read ``path``, or the embedded default registry when ``path`` is ``None``.

    Examples
    --------
    >>> len(read_any(None, ref)), read_any(None, ref).source == str(default_registry_path())
    (70, True)
    """
    return read_registry(default_registry_path() if path is None else path, reference,
                         sheet=sheet)


