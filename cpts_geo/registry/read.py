"""Read CPTS registries: which CPTS claims which commune or arrondissement, at which stage.

Registries come in the formats ARS staff really have: CSV exported by Excel or LibreOffice
(:mod:`~cpts_geo.registry.text`), XLSX workbooks (:mod:`~cpts_geo.registry.xlsx`), the JSON
listing of ``cpts.json`` (:mod:`~cpts_geo.registry.listing`), and GeoJSON / GeoPackage perimeter
polygons (:mod:`~cpts_geo.registry.perimeters`). Whatever the source, the result is one row per
claim (:class:`~cpts_geo.registry.model.Registry`), every code current, every stage one of
:data:`cpts_geo.registry.stages.STAGES`.

Every problem found is reported in one :class:`~cpts_geo.errors.ValidationError` (file, row,
column, value and what would be accepted; see :mod:`~cpts_geo.registry.validate`).
"""

from __future__ import annotations

import codecs
import contextlib
import gc
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from ..errors import Problem, ValidationError
from .formats import default_registry_path, sniff_format
from .listing import JSON_SHAPE, json_records
from .model import Registry
from .records import records_to_raw
from .table import rows_to_raw
from .text import decode, read_csv_rows
from .validate import registry_from_raw
from .xlsx import read_xlsx_rows

if TYPE_CHECKING:
    from ..reference import Reference

__all__ = ["default_registry_path", "read_any", "read_registry", "registry_from_frame"]

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
    fmt = sniff_format(path, head)
    if fmt in {"csv", "json", "xlsx"}:
        from . import cache as registry_cache

        raw = path.read_bytes()
        key = registry_cache.cache_key(raw, label, sheet, reference)
        cached = registry_cache.load(key)
        if cached is not None:
            return cached
        with _collector_paused():
            registry = _read(path, reference, sheet, label, fmt)
        registry_cache.store(key, registry)
        return registry
    return _read(path, reference, sheet, label, fmt)


@contextlib.contextmanager
def _collector_paused() -> Iterator[None]:
    """Python's cyclic garbage collector paused while a table is read.

    Reading 30,000 rows makes some 200,000 short-lived lists and tuples, none of them in a
    cycle; the collections their creation triggers walk every object of the process for
    nothing (about 5 % of a national registry's first read).
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _read(path: Path, reference: Reference, sheet: str | int | None, label: str,
          fmt: str) -> Registry:
    problems: list[Problem] = []
    warnings: list[str] = []
    if fmt in {"geo", "gpkg"}:
        from .perimeters import read_perimeters

        raw_claims = records_to_raw(read_perimeters(path, reference, problems, warnings),
                                    features=True)
    elif fmt in {"xls", "ods"}:
        kind = "old Excel format (.xls)" if fmt == "xls" else "OpenDocument spreadsheet (.ods)"
        raise ValidationError([Problem(label, f"{kind} is not read: open it in Excel or "
                                       "LibreOffice and save it as .xlsx or CSV UTF-8")])
    elif fmt == "xlsx":
        raw_claims = rows_to_raw(read_xlsx_rows(path, sheet, warnings), label, problems)
    else:
        raw = path.read_bytes()
        if fmt == "json":
            text = decode(raw, label, warnings)
            try:
                data = json.loads(text)
            except json.JSONDecodeError as exc:
                raise ValidationError([Problem(label, f"not valid JSON: {exc.msg} at line "
                                               f"{exc.lineno}, column {exc.colno}. Check the "
                                               "brackets, quotes and commas there.",
                                               row=exc.lineno)]) from None
            except RecursionError:
                raise ValidationError([Problem(label, "not a registry: JSON nested too "
                                               f"deeply; {JSON_SHAPE}")]) from None
            if isinstance(data, dict) and data.get("type") in {"FeatureCollection", "Feature"}:
                from .perimeters import read_perimeters

                raw_claims = records_to_raw(read_perimeters(path, reference, problems,
                                                            warnings), features=True)
            else:
                raw_claims = records_to_raw(json_records(data, label, problems))
        else:
            if b"\x00" in raw[:4096] and not raw.startswith((codecs.BOM_UTF16_LE,
                                                             codecs.BOM_UTF16_BE)):
                raise ValidationError([Problem(label, "binary content, not a CSV text file: "
                                               "give a CSV, XLSX, JSON or GeoJSON registry")])
            raw_claims = rows_to_raw(read_csv_rows(raw, label, warnings), label, problems,
                                     text=True)
    return registry_from_raw(raw_claims, label, reference, problems, warnings)


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
    return registry_from_raw(rows_to_raw(rows, source, problems), source, reference, problems)


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
