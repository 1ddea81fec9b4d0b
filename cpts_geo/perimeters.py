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

from .errors import Problem, ValidationError

if TYPE_CHECKING:
    import geopandas as gpd

    from .reference import Reference
    from .registry import _Record

__all__ = ["MAJORITY", "MIN_SHARE", "claims_from_polygons", "read_perimeters"]

#: Share of a unit's area a perimeter must hold for the unit to belong to it.
MAJORITY = 0.5
#: Share a perimeter must hold of a commune split between perimeters to claim it as shared.
MIN_SHARE = 0.10


def _looks_lambert93(bounds: np.ndarray) -> bool:
    xmin, ymin, xmax, ymax = bounds
    return xmin >= 0 and xmax <= 1_400_000 and ymin >= 6_000_000 and ymax <= 7_200_000


def read_perimeters(path: Path, reference: Reference, problems: list[Problem],
                    warnings: list[str]) -> list[_Record]:
    """Read a GeoJSON or GeoPackage of CPTS perimeters into registry records.

    Properties are matched like registry columns: a name (``nom``, ``cpts_nom``...), an optional
    identifier and stage. A layer with no CRS is taken as EPSG:4326, or as Lambert-93 when its
    coordinates are plainly metres in metropolitan France (with a warning); invalid polygons are
    repaired (with a warning).

    Examples
    --------
    >>> recs = read_perimeters(Path("perimetres.geojson"), ref, [], [])  # doctest: +SKIP
    """
    import pyogrio

    label = str(path)
    try:
        layers = pyogrio.list_layers(path)
        frame = pyogrio.read_dataframe(path, layer=str(layers[0][0]))
    except Exception as exc:  # pyogrio/GDAL raise several kinds
        raise ValidationError([Problem(label, f"not a readable GeoJSON/GeoPackage file ({exc})."
                                       " Export the perimeters again from your GIS as GeoJSON "
                                       "(EPSG:4326) or GeoPackage.")]) from None
    if len(frame) == 0:
        problems.append(Problem(label, "empty file: no perimeter features"))
        return []
    if frame.crs is None or (str(path).lower().endswith((".geojson", ".json")) and (
            frame.crs.to_epsg() == 4326 and _looks_lambert93(frame.total_bounds))):
        if _looks_lambert93(frame.total_bounds):
            frame = frame.set_crs("EPSG:2154", allow_override=True)
            warnings.append(f"{label}: no CRS given, coordinates read as Lambert-93 (EPSG:2154)")
        else:
            frame = frame.set_crs("EPSG:4326", allow_override=True)
            if frame.crs is None:
                warnings.append(f"{label}: no CRS given, coordinates read as EPSG:4326")
    return claims_from_polygons(frame, reference, label, problems, warnings)


def claims_from_polygons(frame: gpd.GeoDataFrame, reference: Reference, label: str,
                         problems: list[Problem], warnings: list[str]) -> list[_Record]:
    """Registry records from perimeter polygons: one record per feature with the units inside.

    Examples
    --------
    >>> claims_from_polygons(frame, ref, "p.gpkg", [], [])  # doctest: +SKIP
    """
    from .reference import ZONE_CRS
    from .registry import _ID_NAMES, _NAME_NAMES, _STAGE_NAMES, _cell, _fold, _Record

    props = {_fold(c): c for c in frame.columns if c != frame.geometry.name}

    def column(names: Iterable[str]) -> str | None:
        return next((props[n] for n in names if n in props), None)

    name_col, id_col, stage_col = column(_NAME_NAMES), column(_ID_NAMES), column(_STAGE_NAMES)
    if name_col is None and id_col is None:
        problems.append(Problem(label, "missing required property: no CPTS name (nom, cpts_nom) "
                                f"nor identifier; found {sorted(props)}"))
        return []
    geoms = np.asarray(frame.geometry.array, dtype=object)
    missing = shapely.is_missing(geoms) | shapely.is_empty(geoms)
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
    records: list[_Record] = []
    for i in range(len(frame)):
        row = frame.iloc[i]
        name = _cell(row[name_col]) if name_col else ""
        cid = _cell(row[id_col]) if id_col else ""
        feature = f"feature {i + 1}" + (f" ({name or cid})" if name or cid else "")
        if not name and not cid:
            problems.append(Problem(label, f"{feature} has no CPTS name: fill in the "
                                    f"'{name_col or id_col}' property", row=i + 1))
            continue
        if missing[i]:
            problems.append(Problem(label, f"{feature} has no geometry", row=i + 1))
            continue
        if not claims[i]:
            problems.append(Problem(
                label, f"{feature}: the perimeter covers no commune (no commune has most of its "
                "area inside). Check its CRS and position (is it in France?).", row=i + 1,
                value=name or cid))
            continue
        shared = {c for c, s in claims[i] if s}
        records.append(_Record(
            row=i + 1, cpts_id=cid or name, cpts_nom=name or cid,
            stage=row[stage_col] if stage_col else "",
            codes=[("geometry", c) for c, _ in claims[i]], infra=tuple(sorted(shared)),
            extra={}))
    return records


