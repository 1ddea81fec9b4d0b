"""A registry as a table again: what ``propose`` writes as ``registre_propose.csv``.

:func:`registry_table` gives one row per claim, in the columns of the registry file it came
from when that file is a table (CSV or XLSX: the same headers, in the same order, the source's
extra columns kept), and in the canonical columns otherwise (JSON listing, GeoJSON or
GeoPackage perimeters, a table built in memory): ``cpts_id``, ``cpts_nom``, ``stade``,
``code_commune``, ``partage``, then the extra columns. Stages are written as their French label
(:data:`~cpts_geo.registry.stages.LABELS`) and shares as ``infra``, which
:func:`~cpts_geo.registry.read.read_registry` reads back to the same claims.
"""

from __future__ import annotations

import codecs
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from .columns import (
    ARR_NAMES,
    CODE_NAMES,
    ID_NAMES,
    NAME_NAMES,
    POSTAL_NAMES,
    SHARE_NAMES,
    STAGE_NAMES,
    Columns,
    fold_column,
    locate_header,
    match_columns,
)
from .model import CLAIM_COLUMNS, Registry
from .records import cell
from .stages import LABELS

if TYPE_CHECKING:
    from ..reference import Reference

__all__ = ["CANONICAL_COLUMNS", "registry_table", "table_header"]

#: The columns of a registry written from a source that is not a table.
CANONICAL_COLUMNS = ("cpts_id", "cpts_nom", "stade", "code_commune", "partage")

_ACCEPTED = {*ARR_NAMES, *CODE_NAMES, *ID_NAMES, *NAME_NAMES, *POSTAL_NAMES, *SHARE_NAMES,
             *STAGE_NAMES}


def table_header(path: str | os.PathLike[str], *, sheet: str | int | None = None
                 ) -> tuple[list[str], Columns] | None:
    """The header row of a CSV or XLSX registry and the role of its columns.

    ``None`` when ``path`` is not a table file (JSON, GeoJSON, GeoPackage, missing) or has no
    header naming a code column.

    Examples
    --------
    >>> header, cols = table_header(default_registry_path())
    >>> header[:5], cols.cid, cols.code, cols.arr, cols.stage
    (['cpts_id', 'cpts_nom', 'code_commune', 'code_arrondissement', 'partage'], 0, 2, 3, None)
    """
    path = Path(path)
    try:
        with open(path, "rb") as fh:
            head = fh.read(4096)
    except OSError:
        return None
    suffix = path.suffix.lower()
    if head.startswith(b"PK\x03\x04"):
        from .xlsx import read_xlsx_rows

        rows: list[list[Any]] = read_xlsx_rows(path, sheet, [])
    else:
        text_head = head.lstrip(codecs.BOM_UTF8).lstrip()
        if (head.startswith(b"SQLite format 3") or text_head.startswith((b"{", b"["))
                or suffix in {".json", ".geojson", ".gpkg", ".shp", ".fgb"}):
            return None
        from .text import read_csv_rows

        rows = read_csv_rows(path.read_bytes(), str(path), [])
    cells = [[cell(v) for v in r] for r in rows]
    h = locate_header(cells)
    if h is None:
        return None
    header = cells[h]
    return header, match_columns(header)


def _stage_label(stage: str) -> str:
    return LABELS.get(stage, stage)


def registry_table(registry: Registry, reference: Reference, *,
                   like: str | os.PathLike[str] | None = None,
                   sheet: str | int | None = None) -> pd.DataFrame:
    """The claims of ``registry`` as a registry table, one row per claim.

    Parameters
    ----------
    registry
        The registry to write.
    reference
        The reference data (the city of each arrondissement, for a table with separate commune
        and arrondissement columns).
    like
        The registry file whose columns to follow (CSV or XLSX); the canonical columns when it
        is ``None`` or not a table.
    sheet
        XLSX ``like``: the sheet read.

    Returns
    -------
    pandas.DataFrame
        Text cells only; write it with :func:`cpts_geo.outputs.write_table`.

    Examples
    --------
    The embedded PACA registry in its own columns, then in the canonical ones:

    >>> t = registry_table(reg, ref, like=default_registry_path())
    >>> list(t.columns)
    ['cpts_id', 'cpts_nom', 'code_commune', 'code_arrondissement', 'partage',
     'code_commune_cog2026', 'nom_commune', 'departement']
    >>> t.iloc[0, :5].tolist()
    ['PACA-001', 'CPTS Actes Santé', '13055', '13214', '']
    >>> c = registry_table(reg, ref)
    >>> list(c.columns[:5]), c.iloc[0, :5].tolist()
    (['cpts_id', 'cpts_nom', 'stade', 'code_commune', 'partage'],
     ['PACA-001', 'CPTS Actes Santé', 'Non renseigné', '13214', ''])

    Read back, it gives the same claims:

    >>> from cpts_geo.outputs import write_table
    >>> back = read_registry(write_table(t, tmp / "registre.csv"), ref)
    >>> back.claims[["cpts_id", "code", "partage"]].equals(reg.claims[["cpts_id", "code",
    ...                                                                "partage"]])
    True
    """
    claims = registry.claims
    extra = [c for c in claims.columns if c not in (*CLAIM_COLUMNS, "ligne")]
    codes = claims["code"].astype(str)
    stage = claims["stade"].map(_stage_label).astype(object)
    share = claims["partage"].map(lambda s: "infra" if s else "").astype(object)
    found = table_header(like, sheet=sheet) if like is not None else None
    out: dict[str, pd.Series] = {}
    if found is None:
        out = {"cpts_id": claims["cpts_id"], "cpts_nom": claims["cpts_nom"], "stade": stage,
               "code_commune": codes, "partage": share}
        for col in extra:
            name = f"source_{col}" if fold_column(col) in _ACCEPTED | set(out) else col
            out[name] = claims[col]
    else:
        header, cols = found
        units = reference.units
        is_arr = units["type"].reindex(codes).eq("arrondissement").to_numpy()
        parent = units["commune"].reindex(codes).fillna(codes).to_numpy(dtype=object)
        roles = {cols.cid: claims["cpts_id"], cols.name: claims["cpts_nom"],
                 cols.stage: stage, cols.share: share}
        if cols.arr is not None:
            roles[cols.arr] = pd.Series(codes.where(is_arr, ""), index=claims.index)
            if cols.code is not None:
                roles[cols.code] = pd.Series(pd.Series(parent, index=claims.index).where(
                    is_arr, codes), index=claims.index)
        elif cols.code is not None:
            roles[cols.code] = codes
        for i, name in enumerate(header):
            if not name or name in out:
                continue
            if i in roles:
                out[name] = roles[i]
            elif name in claims.columns and name not in (*CLAIM_COLUMNS, "ligne"):
                out[name] = claims[name]
            else:
                out[name] = pd.Series("", index=claims.index, dtype=object)
        if cols.code is None and not is_arr.all():
            out["code_commune"] = pd.Series(codes.where(~is_arr, ""), index=claims.index)
        if cols.cid is None and (claims["cpts_id"] != claims["cpts_nom"]).any():
            out = {"cpts_id": claims["cpts_id"], **out}
        if cols.name is None and (claims["cpts_nom"] != claims["cpts_id"]).any():
            out["cpts_nom"] = claims["cpts_nom"]
        if cols.stage is None and (claims["stade"] != "non_renseigne").any():
            out["stade"] = stage
        if cols.share is None and claims["partage"].any():
            out["partage"] = share
        for col in extra:
            if col not in out:
                out[col] = claims[col]
    table = pd.DataFrame(out)
    return table.astype(object).where(table.notna(), "").reset_index(drop=True)
