"""Write the tables of a registry diff: CSV, one XLSX workbook and a GeoPackage of changed units.

Files (all named ``diff*`` so that they sit beside the coverage tables in one directory):
``diff_<table>.csv`` for each table of :func:`diff_tables`, ``diff.xlsx`` (one sheet per table)
and ``diff.gpkg`` (layer ``unites``: one polygon per unit whose CPTS changed, with ``avant``,
``apres`` and ``changement``; in the zone's CRS when every unit lies in one zone, else
EPSG:4326). Callers write into a staging directory (:func:`cpts_geo.outputs.staging`).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from ..analysis.topology import unit_polygons
from ..reference.zones import ZONE_CRS
from ..registry.stages import LABELS
from .tables import write_gpkg, write_table, write_workbook

if TYPE_CHECKING:
    import geopandas as gpd

    from ..analysis.diff import Diff
    from ..reference import Reference

__all__ = ["changed_units_layer", "diff_tables", "write_diff"]


def diff_tables(diff: Diff) -> dict[str, pd.DataFrame]:
    """The tables of a diff, by name (the sheet names of ``diff.xlsx``).

    Examples
    --------
    >>> from cpts_geo.analysis.diff import diff_registries
    >>> list(diff_tables(diff_registries(reg, reg, ref)))
    ['appariements', 'nouvelles', 'disparues', 'renommees', 'changements_stade', 'scissions',
     'fusions', 'unites_ajoutees', 'unites_retirees', 'unites', 'conflits_apparus',
     'conflits_resolus', 'zones_blanches', 'couverture']
    """
    stages = diff.changements_stade.copy()
    for col in ("stade_avant", "stade_apres"):
        stages.insert(stages.columns.get_loc(col) + 1, f"{col}_libelle", stages[col].map(LABELS))
    return {
        "appariements": diff.appariements,
        "nouvelles": diff.nouvelles,
        "disparues": diff.disparues,
        "renommees": diff.renommees,
        "changements_stade": stages,
        "scissions": diff.scissions,
        "fusions": diff.fusions,
        "unites_ajoutees": diff.unites_ajoutees,
        "unites_retirees": diff.unites_retirees,
        "unites": diff.unites,
        "conflits_apparus": diff.conflits_apparus,
        "conflits_resolus": diff.conflits_resolus,
        "zones_blanches": diff.zones_blanches,
        "couverture": diff.couverture,
    }


def changed_units_layer(diff: Diff, reference: Reference, crs: str | None = None
                        ) -> gpd.GeoDataFrame:
    """The units whose CPTS changed as polygons (:attr:`Diff.unites` with a geometry).

    In ``crs``, by default the zone's CRS when every unit lies in one zone, else EPSG:4326.

    Examples
    --------
    >>> from cpts_geo.analysis.diff import diff_registries
    >>> from cpts_geo.registry import Registry
    >>> claims = reg.claims[reg.claims["code"] != "06157"]  # Vence leaves the CPTS des Baous
    >>> layer = changed_units_layer(diff_registries(reg, Registry(claims, "b.csv"), ref), ref)
    >>> layer[["code", "changement"]].to_dict("records"), layer.crs.to_epsg()
    ([{'code': '06157', 'changement': 'perdue'}], 2154)
    >>> round(float(layer.geometry.area.sum()) / 1e6, 1)  # km², Lambert-93
    39.0
    """
    import geopandas as gpd

    units = diff.unites
    zones = sorted(set(units["zone"])) or ["metro"]
    crs = crs or (ZONE_CRS[zones[0]] if len(zones) == 1 else "EPSG:4326")
    parts = []
    for zone in zones:
        sub = units[units["zone"] == zone]
        if sub.empty:
            continue
        geoms = gpd.GeoSeries(unit_polygons(reference, zone, sub["code"].tolist()),
                              index=sub.index, crs=ZONE_CRS[zone]).to_crs(crs)
        parts.append(gpd.GeoDataFrame(sub, geometry=geoms, crs=crs))
    if not parts:
        return gpd.GeoDataFrame(units.copy(), geometry=[], crs=crs)
    return gpd.GeoDataFrame(pd.concat(parts).sort_index(), crs=crs)


def write_diff(diff: Diff, reference: Reference, directory: Path) -> list[Path]:
    """Write the diff tables into ``directory`` (which must exist); returns the files written.

    Examples
    --------
    >>> from cpts_geo.analysis.diff import diff_registries
    >>> paths = write_diff(diff_registries(reg, reg, ref), ref, tmp)
    >>> [p.name for p in paths][:3]
    ['diff_appariements.csv', 'diff_nouvelles.csv', 'diff_disparues.csv']
    >>> [p.name for p in paths][-2:]
    ['diff.xlsx', 'diff.gpkg']
    >>> len(pd.read_csv(tmp / "diff_appariements.csv", sep=";", encoding="utf-8-sig"))
    70
    """
    tables = diff_tables(diff)
    written = [write_table(frame, directory / f"diff_{name}.csv")
               for name, frame in tables.items()]
    written.append(write_workbook(tables, directory / "diff.xlsx"))
    written.append(write_gpkg({"unites": changed_units_layer(diff, reference)},
                              directory / "diff.gpkg"))
    return written
