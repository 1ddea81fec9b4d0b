"""Turn CPTS perimeter polygons (GeoJSON, GeoPackage) into claims on units.

A unit belongs to a perimeter when most of its area (more than half) lies inside it. Where a
perimeter was drawn below commune level, a commune split between several perimeters, none of
which holds most of it, is claimed by each perimeter holding at least :data:`MIN_SHARE` of it,
and the claims are marked ``partage`` (shared below commune level by design).
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import shapely

from ..errors import Problem, ValidationError
from ..reference.zones import ZONE_CRS
from .columns import ID_NAMES, NAME_NAMES, STAGE_NAMES, date_columns, fold_column
from .records import Record, cell, is_no_cpts

if TYPE_CHECKING:
    import geopandas as gpd

    from ..reference import Reference

__all__ = ["MAJORITY", "MIN_SHARE", "claims_from_polygons", "read_perimeters"]

#: Share of a unit's area a perimeter must hold for the unit to belong to it.
MAJORITY = 0.5
#: Share a perimeter must hold of a commune split between perimeters to claim it as shared.
MIN_SHARE = 0.10


def _looks_lambert93(bounds: np.ndarray) -> bool:
    xmin, ymin, xmax, ymax = bounds
    return bool(xmin >= 0 and xmax <= 1_400_000 and ymin >= 6_000_000 and ymax <= 7_200_000)


def _share_on_communes(frame: gpd.GeoDataFrame, crs: str, reference: Reference) -> float:
    """Share of the perimeters' area lying on mainland communes if read in ``crs``."""
    import shapely

    geoms = np.asarray(frame.set_crs(crs, allow_override=True).to_crs("EPSG:2154")
                       .geometry.array, dtype=object)
    geoms = geoms[~(shapely.is_missing(geoms) | shapely.is_empty(geoms))]
    geoms = shapely.make_valid(geoms)
    total = float(shapely.area(geoms).sum())
    if total <= 0:
        return 0.0
    units = np.asarray(reference.geometry("metro").array, dtype=object)
    p_idx, u_idx = shapely.STRtree(units).query(geoms, predicate="intersects")
    if not len(p_idx):
        return 0.0
    return float(shapely.area(shapely.intersection(geoms[p_idx], units[u_idx])).sum()) / total


def _looks_lonlat(bounds: np.ndarray) -> bool:
    xmin, ymin, xmax, ymax = bounds
    return bool(-180 <= xmin <= xmax <= 180 and -90 <= ymin <= ymax <= 90)


def _looks_swapped(bounds: np.ndarray) -> bool:
    """Latitude and longitude in the wrong order, somewhere in metropolitan France."""
    xmin, ymin, xmax, ymax = bounds
    return bool(41 <= xmin <= xmax <= 52 and -6 <= ymin <= ymax <= 10)


def _polygon_layer(path: Path) -> str | None:
    import pyogrio

    layers = pyogrio.list_layers(path)
    for name, geom_type in layers:
        if geom_type and "POLYGON" in str(geom_type).upper():
            return str(name)
    return str(layers[0][0]) if len(layers) else None


def read_perimeters(path: Path, reference: Reference, problems: list[Problem],
                    warnings: list[str]) -> list[Record]:
    """Read a GeoJSON or GeoPackage of CPTS perimeters into registry records.

    Properties are matched like registry columns: a name (``nom``, ``cpts_nom``...), an optional
    identifier and stage. The first polygon layer is read. GeoJSON is WGS 84 (EPSG:4326) by its
    standard unless it names another CRS; a file with no CRS whose coordinates are plainly metres
    in metropolitan France is read as Lambert-93 (EPSG:2154), with a warning; a GeoPackage with
    no CRS is read as EPSG:4326, with a warning. Invalid polygons (self-intersecting...) are
    repaired with ``make_valid``, with a warning.

    Parameters
    ----------
    path
        The GeoJSON or GeoPackage file.
    reference
        The reference data (unit polygons).
    problems, warnings
        Lists the problems and warnings found are appended to.

    Returns
    -------
    list
        One registry record per perimeter, for :func:`cpts_geo.registry.registry_from_records`.

    Examples
    --------
    A perimeter drawn around three communes of the Queyras, saved as GeoJSON:

    >>> import geopandas as gpd
    >>> from cpts_geo.registry import registry_from_records
    >>> units = ref.geometry("metro")  # unit polygons, Lambert-93
    >>> queyras = units.loc[["05001", "05003", "05007"]].union_all()
    >>> path = tmp / "perimetres.geojson"
    >>> gpd.GeoDataFrame({"nom": ["CPTS du Queyras"], "statut": ["ACI signé"]},
    ...                  geometry=[queyras], crs=units.crs).to_crs(4326).to_file(path)
    >>> problems, warnings = [], []
    >>> records = read_perimeters(path, ref, problems, warnings)
    >>> len(records), problems, warnings
    (1, [], [])
    >>> queyras_reg = registry_from_records(records, str(path), ref)
    >>> sorted(queyras_reg.claims["code"]), queyras_reg.cpts["stade"].tolist()
    (['05001', '05003', '05007'], ['fonctionnement'])
    """
    import pyogrio

    label = str(path)
    try:
        layer = _polygon_layer(path)
        frame = pyogrio.read_dataframe(path, layer=layer)
    except Exception as exc:  # pyogrio/GDAL raise several kinds
        raise ValidationError([Problem(label, f"not a readable GeoJSON/GeoPackage file ({exc})."
                                       " Export the perimeters again from your GIS as GeoJSON "
                                       "(EPSG:4326) or GeoPackage.")]) from None
    if not hasattr(frame, "geometry") or "geometry" not in getattr(frame, "columns", []):
        raise ValidationError([Problem(label, f"layer {layer!r} has no geometry: give the CPTS "
                                       "perimeters as polygons (GeoJSON or GeoPackage), or the "
                                       "registry as a table (CSV, XLSX)")])
    if len(frame) == 0:
        problems.append(Problem(label, "empty file: no perimeter features"))
        return []
    bounds = frame.total_bounds
    is_geojson = label.lower().endswith((".geojson", ".json"))
    if frame.crs is None or (is_geojson and frame.crs.to_epsg() == 4326
                             and _looks_lambert93(bounds)):
        if _looks_lambert93(bounds):
            on_land = {crs: _share_on_communes(frame, crs, reference)
                       for crs in ("EPSG:2154", "EPSG:3857")}
            if on_land["EPSG:3857"] >= MAJORITY:
                problems.append(Problem(
                    label, "no CRS given, and the coordinates (metres) fall on French communes "
                    "read as Lambert-93 (EPSG:2154) and as Web Mercator (EPSG:3857) alike: "
                    "export the perimeters again with their CRS (or in EPSG:4326)."))
                return []
            frame = frame.set_crs("EPSG:2154", allow_override=True)
            warnings.append(f"{label}: no CRS given, coordinates read as Lambert-93 (EPSG:2154); "
                            "name the CRS in the file to be sure")
        elif _looks_lonlat(bounds):
            frame = frame.set_crs("EPSG:4326", allow_override=True)
            if not is_geojson:
                warnings.append(f"{label}: no CRS given, coordinates read as longitude/latitude "
                                "(EPSG:4326); name the CRS in the file to be sure")
        else:
            problems.append(Problem(label, "no CRS given and the coordinates are neither "
                                    "longitude/latitude nor Lambert-93 metres (bounds "
                                    f"{[round(float(b)) for b in bounds]}). Export the "
                                    "perimeters again in EPSG:4326 or EPSG:2154."))
            return []
    return claims_from_polygons(frame, reference, label, problems, warnings)


def claims_from_polygons(frame: gpd.GeoDataFrame, reference: Reference, label: str,
                         problems: list[Problem], warnings: list[str]) -> list[Record]:
    """Registry records from perimeter polygons: one record per feature with the units inside.

    A unit belongs to a perimeter holding more than :data:`MAJORITY` of its area; a unit that
    no perimeter holds most of, but that perimeters together cover most of, is claimed as shared
    (``partage``) by each holding at least :data:`MIN_SHARE` of it. Areas are computed in each
    zone's projected CRS.

    Parameters
    ----------
    frame
        The perimeters, one feature per CPTS, with a CRS.
    reference
        The reference data (unit polygons).
    label
        The source, for messages.
    problems, warnings
        Lists the problems and warnings found are appended to.

    Returns
    -------
    list
        One registry record per perimeter.

    Examples
    --------
    Nice cut into three strips, none holding most of it: each claims it as shared.

    >>> import geopandas as gpd
    >>> from cpts_geo.registry import registry_from_records
    >>> units = ref.geometry("metro")
    >>> nice = units.loc["06088"]
    >>> xmin, ymin, xmax, ymax = nice.bounds
    >>> cuts = np.linspace(xmin, xmax, 4)
    >>> strips = [nice.intersection(shapely.box(cuts[i], ymin, cuts[i + 1], ymax))
    ...           for i in range(3)]
    >>> frame = gpd.GeoDataFrame({"nom": ["Nice Ouest", "Nice Centre", "Nice Est"]},
    ...                          geometry=strips, crs=units.crs)
    >>> records = claims_from_polygons(frame, ref, "nice.gpkg", [], [])
    >>> registry_from_records(records, "nice.gpkg", ref).claims[["cpts_nom", "code", "partage"]]
          cpts_nom   code  partage
    0   Nice Ouest  06088     True
    1  Nice Centre  06088     True
    2     Nice Est  06088     True
    """
    props = {fold_column(c): c for c in frame.columns if c != frame.geometry.name}

    def column(names: Iterable[str]) -> str | None:
        return next((props[n] for n in names if n in props), None)

    name_col, id_col, stage_col = column(NAME_NAMES), column(ID_NAMES), column(STAGE_NAMES)
    if name_col is None and id_col is None:
        problems.append(Problem(label, "missing required property: no CPTS name (nom, cpts_nom) "
                                f"nor identifier; found {sorted(props)}"))
        return []
    prop_names = list(props.values())
    taken = {prop_names.index(c) for c in (name_col, id_col, stage_col) if c is not None}
    date_cols = {role: prop_names[i] for role, i in date_columns(prop_names, taken).items()}
    used = {name_col, id_col, stage_col, *date_cols.values()}
    extras = [c for c in props.values() if c not in used]
    geoms = np.asarray(frame.geometry.array, dtype=object)
    missing = shapely.is_missing(geoms) | shapely.is_empty(geoms)
    kinds = shapely.get_type_id(geoms)
    not_polygon = ~missing & ~np.isin(kinds, (3, 6, 7))  # Polygon, MultiPolygon, collection
    invalid = ~missing & ~shapely.is_valid(geoms)
    if invalid.any():
        warnings.append(f"{label}: {int(invalid.sum())} invalid polygon(s) (e.g. self-"
                        "intersecting) repaired with make_valid")
        geoms[invalid] = shapely.make_valid(geoms[invalid])
    shares: dict[int, dict[str, float]] = {i: {} for i in range(len(frame))}
    for zone, crs in ZONE_CRS.items():
        if not (reference.finest["zone"] == zone).any():
            continue
        units = reference.geometry(zone)
        per = frame.set_geometry(list(geoms)).to_crs(crs)
        pg = np.asarray(per.geometry.array, dtype=object)
        ug = np.asarray(units.array, dtype=object)
        tree = shapely.STRtree(ug)
        ok = ~(shapely.is_missing(pg) | shapely.is_empty(pg))
        p_idx, u_idx = tree.query(np.where(ok, pg, None), predicate="intersects")
        if len(p_idx) == 0:
            continue
        inter = shapely.area(shapely.intersection(pg[p_idx], ug[u_idx]))
        share = inter / np.maximum(shapely.area(ug[u_idx]), 1e-9)
        codes = units.index.to_numpy()
        for p, u, s in zip(p_idx, u_idx, share, strict=True):
            if s > 1e-6:
                shares[int(p)][str(codes[u])] = float(s)
    # which perimeters hold each unit
    by_unit: dict[str, list[tuple[int, float]]] = {}
    for p, units_share in shares.items():
        for code, s in units_share.items():
            by_unit.setdefault(code, []).append((p, s))
    claims: dict[int, list[tuple[str, bool]]] = {i: [] for i in range(len(frame))}
    for code, holders in by_unit.items():
        majority = [p for p, s in holders if s > MAJORITY]
        if majority:
            for p in majority:
                claims[p].append((code, False))
        elif sum(s for _, s in holders) > MAJORITY:
            for p, s in holders:
                if s >= MIN_SHARE:
                    claims[p].append((code, True))
    records: list[Record] = []
    for i in range(len(frame)):
        row = frame.iloc[i]
        name = cell(row[name_col]) if name_col else ""
        cid = cell(row[id_col]) if id_col else ""
        feature = f"feature {i + 1}" + (f" ({name or cid})" if name or cid else "")
        if not name and not cid:
            problems.append(Problem(label, f"{feature} has no CPTS name: fill in the "
                                    f"'{name_col or id_col}' property", row=i + 1))
            continue
        if missing[i]:
            problems.append(Problem(label, f"{feature} has no geometry: draw its perimeter or "
                                    "delete the feature", row=i + 1))
            continue
        if not_polygon[i]:
            problems.append(Problem(label, f"{feature} is a {geoms[i].geom_type}, not a "
                                    "polygon: give each CPTS perimeter as a "
                                    "(multi)polygon", row=i + 1,
                                    value=geoms[i].geom_type))
            continue
        if not claims[i] and is_no_cpts(name or cid):
            warnings.append(f"{label}, feature {i + 1}: {name or cid!r} is read as no CPTS "
                            "and holds most of no commune")
            continue
        if not claims[i]:
            swapped = _looks_swapped(np.asarray(shapely.bounds(geoms[i])))
            hint = (" Its coordinates look like latitude, longitude in the wrong order: write "
                    "longitude first." if swapped and frame.crs is not None
                    and frame.crs.is_geographic else
                    " Check its CRS and position (is it in France, in the CRS the file "
                    "declares?).")
            problems.append(Problem(
                label, f"{feature}: the perimeter covers no commune (no commune has most of its "
                f"area inside).{hint}", row=i + 1, value=name or cid))
            continue
        shared = {c for c, s in claims[i] if s}
        records.append(Record(
            row=i + 1, cpts_id=cid or name, cpts_nom=name or cid,
            stage=row[stage_col] if stage_col else "",
            codes=[("geometry", c) for c, _ in claims[i]], infra=tuple(sorted(shared)),
            extra={c: cell(row[c]) for c in extras}, stage_column=stage_col or "statut",
            dates={role: _date_cell(row[c]) for role, c in date_cols.items()},
            date_columns=dict(date_cols)))
    return records


def _date_cell(value: object) -> object:
    """A date property as read (a date, text, or ``""`` when missing)."""
    if value is None or (isinstance(value, float) and value != value):
        return ""
    if hasattr(value, "to_pydatetime"):  # pandas Timestamp
        return value.to_pydatetime()  # type: ignore[union-attr]
    return value


