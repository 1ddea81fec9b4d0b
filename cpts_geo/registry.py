"""Read CPTS registries: which CPTS claims which commune or arrondissement, at which stage.

Registries come in the formats ARS staff really have: CSV exported by Excel or LibreOffice (``,``
or ``;``, UTF-8 with or without BOM, Windows-1252), XLSX workbooks (merged cells included), the
JSON listing of ``cpts.json``, and GeoJSON / GeoPackage perimeter polygons. Whatever the source,
the result is one row per claim (:class:`Registry`), every code current, every stage one of
:data:`cpts_geo.stages.STAGES`. Every problem found is reported in one
:class:`~cpts_geo.errors.ValidationError`; codes remapped by the crosswalk are warnings.
"""

from __future__ import annotations

import codecs
import csv
import io
import json
import os
import re
import unicodedata
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from .codes import ARRONDISSEMENTS, format_code
from .errors import CptsGeoError, Problem, ValidationError
from .stages import STAGES, normalise_stage

if TYPE_CHECKING:
    from .reference import Reference

__all__ = [
    "CLAIM_COLUMNS",
    "Registry",
    "default_registry_path",
    "membership",
    "read_registry",
    "registry_from_records",
]

#: The columns every claims table has, in order.
CLAIM_COLUMNS = ("cpts_id", "cpts_nom", "stade", "code", "partage")

# Accepted input column names (folded: lower case, no accents, ``_`` between words), best first.
_ID_NAMES = ("cpts_id", "id_cpts", "code_cpts", "identifiant_cpts", "identifiant", "id",
             "numero_cpts", "finess", "finess_cpts", "siret", "siret_cpts")
_NAME_NAMES = ("cpts_nom", "nom_cpts", "nom_de_la_cpts", "libelle_cpts", "cpts", "nom",
               "name", "libelle", "raison_sociale", "denomination")
_CODE_NAMES = ("code", "code_commune", "code_insee", "insee", "code_insee_commune",
               "code_commune_insee", "insee_com", "codgeo", "code_geo", "depcom", "com",
               "code_com", "commune", "codes", "codes_communes", "codes_insee", "communes",
               "liste_communes", "liste_des_communes", "code_commune_cog2026")
_ARR_NAMES = ("code_arrondissement", "code_arrondissement_municipal", "arrondissement_municipal",
              "code_arm", "arm", "arrondissements", "codes_arrondissements")
_STAGE_NAMES = ("stade", "statut", "etat", "stage", "status", "avancement", "etape",
                "statut_cpts", "stade_cpts", "etat_avancement", "niveau_avancement", "phase")
_SHARE_NAMES = ("partage", "partagee", "partage_infra", "infra", "infracommunal",
                "infra_communal", "shared", "commune_partagee")
_TRUE = {"infra", "oui", "o", "yes", "y", "true", "vrai", "1", "x", "partage", "partagee",
         "infracommunal", "infra_communal", "infra_communale"}
_FALSE = {"", "non", "n", "no", "false", "faux", "0", "nan", "none", "-"}
_LIST_SPLIT = re.compile(r"[;,|/\n\r\t]+|\s{1,}")

_PACKAGE_DEFAULT = Path(__file__).parent / "default" / "paca-2026-01.csv"


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
    >>> reg = read_registry(default_registry_path(), load_reference())  # doctest: +SKIP
    >>> reg.cpts["stade"].value_counts().to_dict()  # doctest: +SKIP
    {'non_renseigne': 70}
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


def _fold(name: object) -> str:
    text = unicodedata.normalize("NFKD", str(name))
    text = "".join(c for c in text if not unicodedata.combining(c)).lower().strip()
    return re.sub(r"[^a-z0-9]+", "_", text).strip("_")


def _decode(raw: bytes, path: str) -> str:
    if raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return raw.decode("utf-16")
    if raw.startswith(codecs.BOM_UTF8):
        raw = raw[3:]
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        pass
    try:
        return raw.decode("cp1252")
    except UnicodeDecodeError as exc:
        raise ValidationError([Problem(
            path, f"unreadable encoding: byte {raw[exc.start]:#04x} at offset {exc.start} is "
            "neither UTF-8 nor Windows-1252. Save the file as CSV UTF-8 (in Excel: 'CSV UTF-8 "
            "(délimité par des virgules)').")]) from None


def _sniff_delimiter(text: str) -> str:
    lines = [ln for ln in text.splitlines()[:20] if ln.strip()]
    if not lines:
        return ","
    try:
        return csv.Sniffer().sniff("\n".join(lines), delimiters=",;\t|").delimiter
    except csv.Error:
        header = lines[0]
        return max(",;\t|", key=header.count)


def _read_csv_rows(raw: bytes, path: str) -> list[list[str]]:
    text = _decode(raw, path)
    delimiter = _sniff_delimiter(text)
    return [row for row in csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)]


def _read_xlsx_rows(path: Path, sheet: str | int | None) -> list[list[Any]]:
    import openpyxl

    try:
        wb = openpyxl.load_workbook(path, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds on a damaged file
        raise ValidationError([Problem(str(path), f"not a readable XLSX workbook ({exc}). "
                                       "Open it in Excel or LibreOffice and save it again as "
                                       "XLSX or CSV UTF-8.")]) from None
    names = wb.sheetnames
    if sheet is None:
        ws = wb[names[0]]
    elif isinstance(sheet, int) or (isinstance(sheet, str) and sheet.isdigit()
                                    and sheet not in names):
        index = int(sheet)
        if not 1 <= index <= len(names):
            raise ValidationError([Problem(str(path), f"no sheet number {index}; the workbook "
                                           f"has {len(names)} sheet(s): {names}", value=sheet)])
        ws = wb[names[index - 1]]
    elif sheet in names:
        ws = wb[sheet]
    else:
        raise ValidationError([Problem(str(path), f"no sheet named {sheet!r}; choose --sheet "
                                       f"among {names}", value=sheet)])
    rows = [list(r) for r in ws.iter_rows(values_only=True)]
    # merged cells: openpyxl gives the value to the top-left cell only; spread it
    for rng in ws.merged_cells.ranges:
        top = rows[rng.min_row - 1][rng.min_col - 1] if rng.min_row - 1 < len(rows) else None
        for r in range(rng.min_row - 1, min(rng.max_row, len(rows))):
            for c in range(rng.min_col - 1, rng.max_col):
                if c < len(rows[r]):
                    rows[r][c] = top
    wb.close()
    return rows


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


@dataclass
class _Columns:
    code: int | None = None
    arr: int | None = None
    cid: int | None = None
    name: int | None = None
    stage: int | None = None
    share: int | None = None


def _find(folded: list[str], names: tuple[str, ...], taken: set[int]) -> int | None:
    for name in names:
        for i, f in enumerate(folded):
            if f == name and i not in taken:
                return i
    return None


def _match_columns(header: list[str]) -> _Columns:
    folded = [_fold(h) for h in header]
    cols = _Columns()
    taken: set[int] = set()
    for attr, names in (("arr", _ARR_NAMES), ("code", _CODE_NAMES), ("cid", _ID_NAMES),
                        ("name", _NAME_NAMES), ("stage", _STAGE_NAMES),
                        ("share", _SHARE_NAMES)):
        idx = _find(folded, names, taken)
        if idx is not None:
            setattr(cols, attr, idx)
            taken.add(idx)
    return cols


def _locate_header(rows: list[list[str]]) -> int | None:
    """Index of the header row: the first of the first 15 rows naming a code column."""
    for i, row in enumerate(rows[:15]):
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
        problems.append(Problem(
            path, "missing required column: no column of commune codes. Name it one of "
            f"{', '.join(_CODE_NAMES[:6])} (found columns: {', '.join(rows[0]) or 'none'})",
            row=1))
        return []
    header = rows[h]
    cols = _match_columns(header)
    if cols.name is None and cols.cid is None:
        problems.append(Problem(
            path, "missing required column: no CPTS name or identifier column. Name it one of "
            f"{', '.join(_NAME_NAMES[:4])} or {', '.join(_ID_NAMES[:3])} (found columns: "
            f"{', '.join(header)})", row=h + 1))
        return []
    used = {i for i in vars(cols).values() if i is not None}
    extras = [(i, header[i]) for i in range(len(header)) if i not in used and header[i]]
    records: list[_Record] = []
    for i, row in enumerate(rows[h + 1:], start=h + 2):
        if not any(row):
            continue
        row = row + [""] * (len(header) - len(row))

        def get(idx: int | None, row: list[str] = row) -> str:
            return row[idx] if idx is not None else ""

        cid, name = get(cols.cid), get(cols.name)
        if not cid and not name:
            problems.append(Problem(path, "no CPTS name nor identifier on this row: fill it in "
                                    "or delete the row", row=i))
            continue
        codes: list[tuple[str, object]] = []
        arr_value = get(cols.arr)
        if arr_value:
            codes.extend((header[cols.arr], v) for v in _split(arr_value))  # type: ignore[index]
        elif cols.code is not None:
            codes.extend((header[cols.code], v) for v in _split(get(cols.code)))
        if not codes:
            problems.append(Problem(path, "no commune code on this row: fill it in or delete "
                                    "the row", row=i,
                                    column=header[cols.code] if cols.code is not None else None))
            continue
        records.append(_Record(
            row=i, cpts_id=cid or name, cpts_nom=name or cid, stage=get(cols.stage),
            codes=codes, partage=get(cols.share),
            extra={h_: row[j] for j, h_ in extras}))
    return records


def _split(value: str) -> list[str]:
    value = value.strip()
    if not value:
        return []
    parts = [p for p in _LIST_SPLIT.split(value) if p]
    return parts if len(parts) > 1 else [value]


def _json_records(data: Any, path: str, problems: list[Problem]) -> list[_Record]:
    items = data
    if isinstance(data, dict):
        for key in ("cpts", "CPTS", "items", "data", "registre"):
            if isinstance(data.get(key), list):
                items = data[key]
                break
    if not isinstance(items, list) or not all(isinstance(x, dict) for x in items):
        problems.append(Problem(
            path, "JSON of the wrong shape: expected a list of objects, one per CPTS, like "
            '[{"cpts_id": "PACA-001", "nom": "CPTS ...", "statut": "...", "communes": '
            '["13001", ...], "arrondissements": [...], "infra": [...]}]'))
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
        if not cid and not name:
            problems.append(Problem(path, "object without a CPTS name nor identifier (keys "
                                    f"'cpts_id', 'nom'); found keys {sorted(obj)}", row=n))
            continue
        communes = pick(("communes", "codes", "code_communes", "codes_communes", "codes_insee",
                         "code_insee", "code_commune", "insee", "code"))
        arrs = pick(("arrondissements", "codes_arrondissements", "arrondissements_municipaux"))
        lists: list[tuple[str, list[Any]]] = []
        for label, value in (("communes", communes), ("arrondissements", arrs)):
            if value is None:
                continue
            if isinstance(value, (str, int)):
                value = _split(str(value))
            if not isinstance(value, list):
                problems.append(Problem(path, f"'{label}' must be a list of codes", row=n,
                                        column=label, value=value))
                continue
            lists.append((label, value))
        if not lists or not any(v for _, v in lists):
            problems.append(Problem(path, "CPTS without any commune: give a 'communes' list of "
                                    "INSEE codes", row=n, value=name or cid))
            continue
        arr_codes = {format_code(a) for _, v in lists if _ == "arrondissements" for a in v}
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
        if isinstance(infra, str):
            infra = [infra]
        records.append(_Record(
            row=n, cpts_id=cid or name, cpts_nom=name or cid, stage=pick(_STAGE_NAMES) or "",
            codes=codes, infra=tuple(str(x) for x in infra or ()) if isinstance(
                infra, list) else (), partage=infra if isinstance(infra, bool) else ""))
    return records


# --------------------------------------------------------------------------------------------
# validation


def _validate(records: list[_Record], path: str, ref: Reference, problems: list[Problem],
              warnings: list[str]) -> tuple[pd.DataFrame, dict[str, str]]:
    current = ref.current_codes
    crosswalk = ref.crosswalk
    names = ref.units["nom"]
    remapped: dict[str, str] = {}
    stages: dict[str, tuple[str, int | None, object]] = {}
    bad_stage_labels: dict[str, list[int | None]] = defaultdict(list)
    out: dict[str, list[Any]] = {c: [] for c in (*CLAIM_COLUMNS, "ligne")}
    extra_cols: dict[str, list[Any]] = defaultdict(list)
    seen: dict[tuple[str, str], tuple[int | None, bool]] = {}
    n_dupes = 0
    for rec in records:
        stage = normalise_stage(rec.stage)
        if stage is None:
            bad_stage_labels[str(rec.stage)].append(rec.row)
        elif rec.cpts_id in stages and stages[rec.cpts_id][0] != stage:
            _first_stage, first_row, first_label = stages[rec.cpts_id]
            problems.append(Problem(
                path, f"CPTS {rec.cpts_nom!r} is given two different stages: {first_label!r} "
                f"(row {first_row}) and {rec.stage!r}. Give each CPTS a single stage.",
                row=rec.row, value=rec.stage))
        elif rec.cpts_id not in stages:
            stages[rec.cpts_id] = (stage, rec.row, rec.stage)
        share_text = _fold(rec.partage) if not isinstance(rec.partage, bool) else ""
        if isinstance(rec.partage, bool):
            share_all = rec.partage
        elif share_text in _TRUE:
            share_all = True
        elif share_text in _FALSE:
            share_all = False
        else:
            problems.append(Problem(path, "unrecognised value for a shared commune: write "
                                    "'infra' (or 'oui') for a commune shared below commune "
                                    "level, or leave it empty", row=rec.row, column="partage",
                                    value=rec.partage))
            share_all = False
        infra = {_fold(x) for x in rec.infra}
        for column, raw in rec.codes:
            code = format_code(raw)
            if code is None:
                problems.append(Problem(path, _bad_code_hint(raw), row=rec.row, column=column,
                                        value=raw))
                continue
            if code not in current:
                new = crosswalk.get(code)
                if new is None or new not in current:
                    problems.append(Problem(
                        path, "unknown code: neither a current commune or arrondissement code "
                        "nor a historical one. Check it against the INSEE code officiel "
                        "géographique (5 characters, e.g. 01001, 2A004).", row=rec.row,
                        column=column, value=raw))
                    continue
                remapped[code] = new
                warnings.append(f"{path}, row {rec.row}: code {code} is a former code, mapped to "
                                f"{new} ({names.get(new, '')})")
                code = new
            key = (rec.cpts_id, code)
            partage = share_all or (bool(infra) and (
                _fold(code) in infra or _fold(names.get(code, "")) in infra))
            if key in seen:
                first_row, first_share = seen[key]
                if first_share != partage:
                    problems.append(Problem(
                        path, f"duplicate claim: CPTS {rec.cpts_nom!r} claims {code} twice (rows "
                        f"{first_row} and {rec.row}) with different 'partage' values; keep one "
                        "row", row=rec.row, column=column, value=raw))
                else:
                    n_dupes += 1
                    warnings.append(f"{path}, row {rec.row}: duplicate claim of {code} by CPTS "
                                    f"{rec.cpts_nom!r} (first on row {first_row}); counted once")
                continue
            seen[key] = (rec.row, partage)
            out["cpts_id"].append(rec.cpts_id)
            out["cpts_nom"].append(rec.cpts_nom)
            out["stade"].append(stage or "non_renseigne")
            out["code"].append(code)
            out["partage"].append(partage)
            out["ligne"].append(rec.row)
            for k, v in rec.extra.items():
                extra_cols[k].append(v)
            for k in set(extra_cols) - set(rec.extra):
                extra_cols[k].append("")
    for label, rows in bad_stage_labels.items():
        shown = ", ".join(str(r) for r in rows[:10]) + (" ..." if len(rows) > 10 else "")
        problems.append(Problem(
            path, f"unknown stage (rows {shown}); accepted stages: {', '.join(STAGES)}, or the "
            "labels used in listings such as 'ACI signé', 'projet de santé validé', "
            "\"lettre d'intention\", 'émergence' (an empty cell means non renseigné)",
            row=rows[0], value=label))
    for rec_id, (stage, _row, _label) in stages.items():  # a stage set on a later row only
        if stage != "non_renseigne":
            idx = [i for i, c in enumerate(out["cpts_id"]) if c == rec_id]
            for i in idx:
                out["stade"][i] = stage
    frame = pd.DataFrame({k: pd.Series(v, dtype=object) for k, v in out.items()})
    frame["partage"] = frame["partage"].astype(bool)
    frame["ligne"] = pd.array(out["ligne"], dtype="Int64")
    for k, v in extra_cols.items():
        if k not in frame.columns and len(v) == len(frame):
            frame[k] = pd.Series(v, dtype=object)
    return frame, remapped


def _bad_code_hint(raw: object) -> str:
    text = str(raw).strip()
    if re.fullmatch(r"\d{6,}", text):
        return ("not a commune code: too many digits (a postal code or SIRET?). Use the 5-"
                "character INSEE code, e.g. 01001")
    if re.fullmatch(r"\d{1,2}", text):
        return "not a commune code: too short. Use the 5-character INSEE code, e.g. 01001"
    if re.search(r"[A-Za-z]{3,}", text):
        return ("not a commune code (a commune name?). Give the 5-character INSEE code, "
                "e.g. 13001 for Aix-en-Provence")
    return "not a commune code: expected 5 characters, e.g. 01001 or 2A004"


# --------------------------------------------------------------------------------------------
# public API


def _sniff_format(path: Path, head: bytes) -> str:
    suffix = path.suffix.lower()
    if head.startswith(b"PK\x03\x04"):
        return "xlsx"
    if head.startswith(b"SQLite format 3"):
        return "gpkg"
    if suffix in {".geojson", ".gpkg", ".shp", ".fgb"}:
        return "geo"
    stripped = head.lstrip(codecs.BOM_UTF8).lstrip()
    if stripped.startswith((b"{", b"[")) or suffix == ".json":
        return "json"
    if suffix in {".xls"}:
        return "xls"
    return "csv"


def read_registry(path: str | os.PathLike[str], reference: Reference, *,
                  sheet: str | int | None = None) -> Registry:
    """Read a CPTS registry file into one row per claim.

    The format is found from the content (and the extension): CSV, XLSX, JSON, GeoJSON or
    GeoPackage of perimeter polygons. Column names are matched leniently (``code_commune``,
    ``code_insee``, ``insee``, ``commune``; ``statut``, ``stade``, ``etat``; ``cpts_nom``,
    ``nom_cpts``, ``nom``...). A table may hold one row per claim, or one row per CPTS with a
    list of codes in one cell.

    Parameters
    ----------
    path
        The registry file.
    reference
        The reference data, for the current codes and the crosswalk (and the unit polygons when
        the registry is made of perimeters).
    sheet
        XLSX only: the sheet name or number (1-based); the first sheet by default.

    Returns
    -------
    Registry

    Raises
    ------
    ValidationError
        Listing every problem: file, row, column, value and what would be accepted.

    Examples
    --------
    >>> from cpts_geo import load_reference
    >>> reg = read_registry(default_registry_path(), load_reference())  # doctest: +SKIP
    >>> len(reg), reg.remapped  # doctest: +SKIP
    (70, {'05120': '05001'})
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
    problems: list[Problem] = []
    warnings: list[str] = []
    if fmt in {"geo", "gpkg"}:
        from .perimeters import read_perimeters

        records = read_perimeters(path, reference, problems, warnings)
    elif fmt == "xls":
        raise ValidationError([Problem(label, "old Excel format (.xls) is not read: open it in "
                                       "Excel or LibreOffice and save it as .xlsx or CSV UTF-8")])
    elif fmt == "xlsx":
        records = _rows_to_records(_read_xlsx_rows(path, sheet), label, problems)
    else:
        raw = path.read_bytes()
        if fmt == "json":
            text = _decode(raw, label)
            try:
                data = json.loads(text)
            except json.JSONDecodeError as exc:
                raise ValidationError([Problem(label, f"not valid JSON: {exc.msg} at line "
                                               f"{exc.lineno}, column {exc.colno}",
                                               row=exc.lineno)]) from None
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
            records = _rows_to_records(_read_csv_rows(raw, label), label, problems)
    return registry_from_records(records, label, reference, problems, warnings)


def registry_from_records(records: list[_Record], source: str, reference: Reference,
                          problems: list[Problem] | None = None,
                          warnings: list[str] | None = None) -> Registry:
    """Validate parsed records into a :class:`Registry` (raise if any problem).

    Examples
    --------
    >>> registry_from_records([], "empty", load_reference())  # doctest: +SKIP
    Traceback (most recent call last):
    ValidationError: 1 problem in the input: ...
    """
    problems = [] if problems is None else problems
    warnings = [] if warnings is None else warnings
    claims, remapped = _validate(records, source, reference, problems, warnings)
    if not problems and claims.empty:
        problems.append(Problem(source, "no claims: the file has a header but no CPTS rows"))
    if problems:
        raise ValidationError(problems)
    return Registry(claims, source, tuple(warnings), remapped)


def registry_from_frame(frame: pd.DataFrame, reference: Reference, *,
                        source: str = "<table>") -> Registry:
    """Build a registry from an in-memory table with the columns of a registry file.

    Examples
    --------
    >>> t = pd.DataFrame({"cpts_nom": ["A", "A"], "code_insee": ["13001", "13002"]})
    >>> len(registry_from_frame(t, load_reference()))  # doctest: +SKIP
    1
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
    >>> m = membership(read_registry(default_registry_path(), ref), ref)  # doctest: +SKIP
    >>> m.groupby("cpts_id")["population"].sum().sum() > 0  # doctest: +SKIP
    True
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
    out = out[out["code"].isin(finest.index)]
    attrs = finest.loc[out["code"], ["population", "region", "departement", "zone"]]
    for col in attrs.columns:
        out[col] = attrs[col].to_numpy()
    return out.reset_index(drop=True)


def read_any(path: str | os.PathLike[str] | None, reference: Reference, *,
             sheet: str | int | None = None) -> Registry:
    """Read ``path``, or the embedded default registry when ``path`` is ``None``.

    Examples
    --------
    >>> len(read_any(None, load_reference()))  # doctest: +SKIP
    70
    """
    return read_registry(default_registry_path() if path is None else path, reference,
                         sheet=sheet)


__all__ += ["read_any", "registry_from_frame"]
_ = CptsGeoError  # re-exported for callers catching registry errors
