"""Write the result tables: CSV, XLSX and the GeoPackage of an analysis.

Callers write into a staging directory (:func:`cpts_geo.outputs.directories.staging`) that is
published whole. Cells that a spreadsheet would run as a formula (``=``, ``+``, ``-``,
``@`` first) are neutralised with a leading apostrophe.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from ..reference.zones import ZONE_CRS

if TYPE_CHECKING:
    import geopandas as gpd

__all__ = ["geo_layers", "neutralise", "write_gpkg", "write_results", "write_table"]

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


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


def _flatten(frame: pd.DataFrame) -> pd.DataFrame:
    out = frame.copy()
    for col in out.columns:
        if out[col].dtype == object or str(out[col].dtype).startswith(("str", "string")):
            out[col] = out[col].map(
                lambda v: neutralise(";".join(map(str, v)) if isinstance(v, (list, tuple))
                                     else v))
    return out


_XLSX_CELL_MAX = 32_767


def _fit_cell(value: Any) -> Any:
    """Shorten text past Excel's cell limit, saying how much was left out (the CSV has all)."""
    if isinstance(value, str) and len(value) > _XLSX_CELL_MAX:
        cut = value[: _XLSX_CELL_MAX - 80]
        cut = cut[: cut.rfind(";")] if ";" in cut else cut
        rest = value.count(";") - cut.count(";")
        return f"{cut}; … (+{rest} autres, liste complète dans le fichier CSV)"
    return value


def write_table(frame: pd.DataFrame, path: Path, *, index: bool = False) -> Path:
    """Write ``frame`` as CSV (UTF-8 with BOM, ``;``, for Excel in French) or XLSX by suffix.

    Lists become ``;``-separated text and formula-looking text is neutralised.

    Examples
    --------
    >>> frame = pd.DataFrame({"cpts": ["=1+1"], "codes": [["06088", "06029"]]})
    >>> p = write_table(frame, tmp / "t.csv")
    >>> for line in p.read_text(encoding="utf-8-sig").splitlines():
    ...     print(line)
    cpts;codes
    '=1+1;"06088;06029"
    """
    flat = _flatten(frame)
    if path.suffix.lower() == ".xlsx":
        flat.to_excel(path, index=index, engine="openpyxl")
    else:
        flat.to_csv(path, index=index, sep=";", encoding="utf-8-sig")
    return path


def write_gpkg(layers: dict[str, gpd.GeoDataFrame], path: Path) -> Path:
    """Write several layers into one GeoPackage (lists flattened to text).

    Examples
    --------
    >>> import pyogrio
    >>> layers = geo_layers(analysis)
    >>> path = write_gpkg({"territoires": layers["territoires"]}, tmp / "cpts.gpkg")
    >>> [name for name, _ in pyogrio.list_layers(path)]
    ['territoires']
    >>> pyogrio.read_info(path, layer="territoires")["features"]
    70
    """
    import geopandas as gpd

    for name, frame in layers.items():
        flat = gpd.GeoDataFrame(_flatten(frame.drop(columns=frame.geometry.name)),
                                geometry=frame.geometry.to_numpy(), crs=frame.crs)
        flat.to_file(path, layer=name, driver="GPKG", engine="pyogrio")
    return path


def _single_crs(analysis_zones: set[str]) -> str:
    return ZONE_CRS[next(iter(analysis_zones))] if len(analysis_zones) == 1 else "EPSG:4326"


def write_results(analysis: Any, directory: Path, *, xlsx: bool = True,
                  gpkg: bool = True) -> list[Path]:
    """Write the analysis tables and GeoPackage into ``directory`` (which must exist).

    Files: ``couverture.csv`` (by région and département), ``territoires.csv``,
    ``conflits.csv``, ``zones_blanches.csv``, ``partages.csv``, ``couverture.xlsx`` (every table
    on its own sheet) and ``cpts.gpkg`` (layers ``territoires``, ``conflits``,
    ``zones_blanches``; in the zone's CRS when the analysis lies in one zone, else EPSG:4326).

    Examples
    --------
    >>> [p.name for p in write_results(analysis, tmp)]  # analyse(reg, ref, region="93")
    ['couverture.csv', 'territoires.csv', 'conflits.csv', 'zones_blanches.csv',
     'partages.csv', 'couverture.xlsx', 'cpts.gpkg']
    >>> pd.read_csv(tmp / "zones_blanches.csv", sep=";", encoding="utf-8-sig")["codes"][1]
    '06079;06138;83133'
    """
    from ..registry.stages import LABELS

    written: list[Path] = []
    cov = pd.concat([
        analysis.couverture["france"].assign(niveau="france"),
        analysis.couverture["region"].assign(niveau="region"),
        analysis.couverture["departement"].assign(niveau="departement"),
    ]).reset_index()
    cov = cov[["niveau", *[c for c in cov.columns if c != "niveau"]]]
    terr = analysis.territories.table.reset_index()
    terr.insert(3, "stade_libelle", terr["stade"].map(LABELS))
    tables = {
        "couverture": cov,
        "territoires": terr,
        "conflits": analysis.conflits,
        "zones_blanches": analysis.zones_blanches,
        "partages": analysis.partages,
    }
    for name, frame in tables.items():
        written.append(write_table(frame, directory / f"{name}.csv"))
    if xlsx:
        path = directory / "couverture.xlsx"
        with pd.ExcelWriter(path, engine="openpyxl") as writer:
            for name, frame in tables.items():
                _flatten(frame).map(_fit_cell).to_excel(writer, sheet_name=name[:31],
                                                        index=False)
        written.append(path)
    if gpkg and analysis.territories.geometry:
        written.append(write_gpkg(geo_layers(analysis), directory / "cpts.gpkg"))
    return written


def geo_layers(analysis: Any, crs: str | None = None) -> dict[str, gpd.GeoDataFrame]:
    """The GeoDataFrames of territories, conflicts and zones blanches of an analysis.

    Examples
    --------
    >>> layers = geo_layers(analysis)  # analyse(reg, ref, region="93")
    >>> {name: len(frame) for name, frame in layers.items()}
    {'territoires': 70, 'conflits': 0, 'zones_blanches': 7}
    >>> layers["territoires"].crs.to_epsg()  # the analysis lies in one zone: its CRS
    2154
    """
    import geopandas as gpd

    from ..analysis.topology import union_by_group

    reference = analysis.reference
    zones = set(analysis.territories.geometry) or {"metro"}
    crs = crs or _single_crs(zones)
    terr = analysis.territories.to_geodataframe(crs).reset_index()

    def unions(frame: pd.DataFrame, key: str) -> gpd.GeoDataFrame:
        if frame.empty:
            return gpd.GeoDataFrame(frame.copy(), geometry=[], crs=crs)
        codes, groups = [], []
        for k, cs in zip(frame[key], frame["codes"], strict=True):
            codes.extend(cs)
            groups.extend([k] * len(cs))
        zone_of = reference.units["zone"].reindex(codes).to_numpy()
        parts = []
        for zone in sorted(set(zone_of)):
            sel = zone_of == zone
            u = union_by_group(reference, zone, [c for c, s in zip(codes, sel, strict=True) if s],
                               [g for g, s in zip(groups, sel, strict=True) if s])
            parts.append(gpd.GeoSeries(u.to_numpy(), index=u.index, crs=ZONE_CRS[zone])
                         .to_crs(crs))
        geoms = pd.concat(parts)
        geoms = geoms[~geoms.index.duplicated()]
        return gpd.GeoDataFrame(frame.reset_index(drop=True),
                                geometry=geoms.reindex(frame[key]).to_numpy(), crs=crs)

    conf = analysis.conflits.copy()
    conf["paire"] = conf["cpts_a"].astype(str) + " / " + conf["cpts_b"].astype(str)
    return {
        "territoires": terr,
        "conflits": unions(conf, "paire"),
        "zones_blanches": unions(analysis.zones_blanches, "zone_blanche"),
    }

