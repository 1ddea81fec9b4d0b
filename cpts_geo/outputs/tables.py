"""Write the result tables: CSV, XLSX and the GeoPackage of an analysis.

Callers write into a staging directory (:func:`cpts_geo.outputs.directories.staging`) that is
published whole. Cells that a spreadsheet would run as a formula (``=``, ``+``, ``-``,
``@`` first) are neutralised with a leading apostrophe (:mod:`~cpts_geo.outputs.cells`). CSV files
keep the machine names of the columns, which scripts read; the XLSX workbook is for people
(:mod:`~cpts_geo.outputs.spreadsheet`: French titles, number formats, frozen header) and the
GeoPackage carries its QGIS styles (:mod:`~cpts_geo.outputs.layer_styles`).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from ..reference.zones import ZONE_CRS
from .cells import flatten, neutralise
from .directories import output_time
from .spreadsheet import write_xlsx

if TYPE_CHECKING:
    import geopandas as gpd

__all__ = ["geo_layers", "neutralise", "result_tables", "result_tasks", "write_gpkg",
           "write_results", "write_table", "write_workbook"]


def write_table(frame: pd.DataFrame, path: Path, *, index: bool = False,
                sheet: str | None = None) -> Path:
    """Write ``frame`` as CSV (UTF-8 with BOM, ``;``, for Excel in French) or XLSX by suffix.

    Lists become ``;``-separated text and formula-looking text is neutralised. A CSV file keeps
    the machine names of the columns (scripts read them); an XLSX file is written by
    :func:`~cpts_geo.outputs.spreadsheet.write_xlsx` (French titles, number formats, frozen
    header), on one sheet named ``sheet`` (the file's name by default).

    Examples
    --------
    >>> frame = pd.DataFrame({"cpts": ["=1+1"], "codes": [["06088", "06029"]]})
    >>> p = write_table(frame, tmp / "t.csv")
    >>> for line in p.read_text(encoding="utf-8-sig").splitlines():
    ...     print(line)
    cpts;codes
    '=1+1;"06088;06029"
    >>> import openpyxl
    >>> ws = openpyxl.load_workbook(write_table(frame, tmp / "t.xlsx"))["t"]
    >>> [c.value for c in ws[1]], [c.value for c in ws[2]]
    (['CPTS', 'Codes INSEE'], ["'=1+1", '06088;06029'])
    """
    path = Path(path)
    if path.suffix.lower() == ".xlsx":
        return write_xlsx({sheet or path.stem: frame}, path, index=index)
    flatten(frame).to_csv(path, index=index, sep=";", encoding="utf-8-sig")
    return path


def write_gpkg(layers: dict[str, gpd.GeoDataFrame], path: Path, *, styles: bool = True
               ) -> Path:
    """Write several layers into one GeoPackage (lists flattened to text), with QGIS styles.

    Every layer is a ``MultiPolygon`` layer, also an empty one (QGIS would open a layer of
    unknown geometry type as a table, unstyled).

    With ``styles``, each layer gets its default QGIS style in the ``layer_styles`` table
    (:func:`~cpts_geo.outputs.layer_styles.write_layer_styles`), so that QGIS opens it
    coloured: ``territoires`` by stage, ``zones_blanches`` and ``conflits`` hatched.

    Examples
    --------
    >>> import pyogrio
    >>> layers = geo_layers(analysis)
    >>> path = write_gpkg({"territoires": layers["territoires"]}, tmp / "cpts.gpkg")
    >>> [(str(name), geom) for name, geom in pyogrio.list_layers(path)]
    [('territoires', 'MultiPolygon'), ('layer_styles', None)]
    >>> pyogrio.read_info(path, layer="territoires")["features"]
    70
    """
    import geopandas as gpd
    import pyogrio

    from .layer_styles import write_layer_styles

    # the time GDAL writes in gpkg_contents: SOURCE_DATE_EPOCH's when set (same bytes twice)
    stamp = output_time().strftime("%Y-%m-%dT%H:%M:%S.000Z")
    fixed = bool(os.environ.get("SOURCE_DATE_EPOCH", "").strip())
    if fixed:
        pyogrio.set_gdal_config_options({"OGR_CURRENT_DATE": stamp})
    try:
        for name, frame in layers.items():
            flat = gpd.GeoDataFrame(flatten(frame.drop(columns=frame.geometry.name)),
                                    geometry=frame.geometry.to_numpy(), crs=frame.crs)
            # one geometry type per layer, also when empty: QGIS opens it as polygons, styled
            flat.to_file(path, layer=name, driver="GPKG", engine="pyogrio",
                         geometry_type="MultiPolygon", promote_to_multi=True)
        if styles and layers:
            write_layer_styles(path, {name: list(frame.columns)
                                      for name, frame in layers.items()})
    finally:
        if fixed:
            pyogrio.set_gdal_config_options({"OGR_CURRENT_DATE": None})
    return path


def _single_crs(analysis_zones: set[str]) -> str:
    return ZONE_CRS[next(iter(analysis_zones))] if len(analysis_zones) == 1 else "EPSG:4326"


def result_tables(analysis: Any) -> dict[str, pd.DataFrame]:
    """The tables of an analysis as they are written: name → table, in the order of the files.

    ``couverture`` (France, then each région and département, ``niveau`` first),
    ``territoires`` (with ``stade_libelle``, the French label of the stage), ``conflits``,
    ``zones_blanches`` and ``partages``.

    Examples
    --------
    >>> tables = result_tables(analysis)  # analyse(reg, ref, region="93")
    >>> {name: len(t) for name, t in tables.items()}
    {'couverture': 8, 'territoires': 70, 'conflits': 0, 'zones_blanches': 7, 'partages': 2}
    >>> list(tables["territoires"].columns[:4])
    ['cpts_id', 'cpts_nom', 'stade', 'stade_libelle']
    """
    from ..registry.stages import LABELS

    cov = pd.concat([
        analysis.couverture["france"].assign(niveau="france"),
        analysis.couverture["region"].assign(niveau="region"),
        analysis.couverture["departement"].assign(niveau="departement"),
    ]).reset_index()
    cov = cov[["niveau", *[c for c in cov.columns if c != "niveau"]]]
    terr = analysis.territories.table.reset_index()
    terr.insert(3, "stade_libelle", terr["stade"].map(LABELS))
    return {
        "couverture": cov,
        "territoires": terr,
        "conflits": analysis.conflits,
        "zones_blanches": analysis.zones_blanches,
        "partages": analysis.partages,
    }


def write_results(analysis: Any, directory: Path, *, xlsx: bool = True,
                  gpkg: bool = True, workers: int | None = None) -> list[Path]:
    """Write the analysis tables and GeoPackage into ``directory`` (which must exist).

    Files: ``couverture.csv`` (by région and département), ``territoires.csv``,
    ``conflits.csv``, ``zones_blanches.csv``, ``partages.csv``, ``couverture.xlsx`` (every table
    on its own sheet, for people: French titles, number formats, frozen header) and ``cpts.gpkg``
    (layers ``territoires``, ``conflits``, ``zones_blanches`` with their QGIS styles; in the
    zone's CRS when the analysis lies in one zone, else EPSG:4326).

    Examples
    --------
    >>> [p.name for p in write_results(analysis, tmp)]  # analyse(reg, ref, region="93")
    ['couverture.csv', 'territoires.csv', 'conflits.csv', 'zones_blanches.csv',
     'partages.csv', 'couverture.xlsx', 'cpts.gpkg']
    >>> pd.read_csv(tmp / "zones_blanches.csv", sep=";", encoding="utf-8-sig")["codes"][1]
    '06079;06138;83133'

    The workbook, the GeoPackage and the CSV files are independent: they are written in
    worker processes (``workers``, see :func:`cpts_geo.outputs.parallel.run_tasks`), the
    same bytes as one after the other.
    """
    from .parallel import run_tasks

    return [p for group in run_tasks(result_tasks(analysis, directory, xlsx=xlsx, gpkg=gpkg),
                                     workers=workers) for p in group]


def result_tasks(analysis: Any, directory: Path, *, xlsx: bool = True,
                 gpkg: bool = True) -> list[Callable[[], list[Path]]]:
    """The tasks that write the tables of :func:`write_results` (each returns its files).

    For callers that share them out with other work (the atlas writes them beside its pages).

    Examples
    --------
    >>> [len(task()) for task in result_tasks(analysis, tmp)]
    [5, 1, 1]
    """
    tables = result_tables(analysis)

    def csv_files() -> list[Path]:
        return [write_table(frame, directory / f"{name}.csv") for name, frame in tables.items()]

    tasks: list[Callable[[], list[Path]]] = [csv_files]
    if xlsx:
        tasks.append(lambda: [write_xlsx(tables, directory / "couverture.xlsx")])
    if gpkg and analysis.territories.geometry:
        tasks.append(lambda: [write_gpkg(geo_layers(analysis), directory / "cpts.gpkg")])
    return tasks


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



def write_workbook(tables: dict[str, pd.DataFrame], path: Path) -> Path:
    """Write each table on its own sheet of one XLSX workbook (see :func:`write_xlsx`).

    Examples
    --------
    >>> import openpyxl
    >>> p = write_workbook({"a": pd.DataFrame({"x": ["=1"]}), "b": pd.DataFrame()}, tmp / "t.xlsx")
    >>> book = openpyxl.load_workbook(p)
    >>> book.sheetnames, book["a"]["A2"].value
    (['a', 'b'], "'=1")
    """
    return write_xlsx(tables, path)
