"""Geometry of sets of units: areas, unions, adjacency and connected parts.

Everything is computed per zone in the zone's projected CRS, on the cleaned coverage of
:meth:`cpts_geo.reference.Reference.geometry`. Where the data directory has no arrondissement
polygons, an arrondissement borrows its city's polygon: its area is unknown (NaN) but adjacency
and maps still work.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import shapely

if TYPE_CHECKING:
    from .reference import Reference

__all__ = ["components", "geometry_keys", "union_by_group", "unit_areas", "unit_polygons"]


def geometry_keys(reference: Reference, zone: str, codes: Sequence[str]) -> np.ndarray:
    """Code of the polygon that stands for each unit (itself, or its city without arr. polygons).

    Examples
    --------
    >>> geometry_keys(ref, "metro", ["13201"])  # doctest: +SKIP
    array(['13201'], dtype=object)
    """
    index = reference.geometry(zone).index
    codes_arr = np.asarray(codes, dtype=object)
    present = pd.Index(codes_arr).isin(index)
    if present.all():
        return codes_arr
    parents = reference.units["commune"].reindex(codes_arr).to_numpy()
    return np.where(present, codes_arr, parents)


def unit_polygons(reference: Reference, zone: str, codes: Sequence[str]) -> np.ndarray:
    """Polygons (zone CRS) of ``codes``, an array aligned on ``codes`` (None where missing).

    Examples
    --------
    >>> unit_polygons(ref, "974", ["97411"])[0].geom_type  # doctest: +SKIP
    'Polygon'
    """
    geoms = reference.geometry(zone)
    keys = geometry_keys(reference, zone, codes)
    out = geoms.reindex(keys)
    return np.asarray(out.array, dtype=object)


def unit_areas(reference: Reference) -> pd.Series:
    """Area in km² of every finest unit, computed in its zone's CRS (NaN where unknown).

    Examples
    --------
    >>> round(unit_areas(ref)["13201"], 1)  # doctest: +SKIP
    2.4
    """
    cache = reference._geometry_cache
    if "__areas__" not in cache:
        parts = []
        for zone in reference.zones:
            geoms = reference.geometry(zone)
            parts.append(pd.Series(shapely.area(np.asarray(geoms.array)) / 1e6,
                                   index=geoms.index))
        areas = pd.concat(parts) if parts else pd.Series(dtype=float)
        cache["__areas__"] = areas.reindex(reference.finest.index)  # type: ignore[assignment]
    return cache["__areas__"]  # type: ignore[return-value]


def union_by_group(reference: Reference, zone: str, codes: Sequence[str],
                   groups: Sequence[object]) -> pd.Series:
    """Union of the units of each group with ``coverage_union`` (the layer is a clean coverage).

    Parameters
    ----------
    reference
        The reference data.
    zone
        The zone all ``codes`` belong to.
    codes, groups
        Aligned sequences: unit ``codes[i]`` belongs to group ``groups[i]``.

    Returns
    -------
    pandas.Series
        One polygon per group (zone CRS), indexed by group.

    Examples
    --------
    >>> union_by_group(ref, "metro", ["13201", "13202"], ["a", "a"]).size  # doctest: +SKIP
    1
    """
    polys = unit_polygons(reference, zone, codes)
    frame = pd.DataFrame({"g": np.asarray(groups, dtype=object),
                          "k": geometry_keys(reference, zone, codes)})
    frame["p"] = polys
    frame = frame.drop_duplicates(["g", "k"])  # arrondissements sharing their city's polygon
    frame = frame[~shapely.is_missing(frame["p"].to_numpy())]
    order = np.argsort(frame["g"].astype(str).to_numpy(), kind="stable")
    g_sorted = frame["g"].to_numpy()[order]
    p_sorted = frame["p"].to_numpy()[order]
    if len(g_sorted) == 0:
        return pd.Series(dtype=object)
    breaks = np.flatnonzero(g_sorted[1:] != g_sorted[:-1]) + 1
    starts = np.concatenate([[0], breaks])
    ends = np.concatenate([breaks, [len(g_sorted)]])
    out = []
    for a, b in zip(starts, ends, strict=True):
        chunk = p_sorted[a:b]
        out.append(chunk[0] if b - a == 1 else shapely.coverage_union_all(chunk))
    return pd.Series(out, index=pd.Index(g_sorted[starts], dtype=object), dtype=object)


def _label_components(n: int, left: np.ndarray, right: np.ndarray) -> np.ndarray:
    """Connected component label of each of ``n`` nodes given edges (left[i], right[i])."""
    labels = np.arange(n)
    if len(left) == 0:
        return labels
    while True:
        lo = np.minimum(labels[left], labels[right])
        new = labels.copy()
        np.minimum.at(new, left, lo)
        np.minimum.at(new, right, lo)
        new = new[new]  # pointer jumping
        if np.array_equal(new, labels):
            return labels
        labels = new


def adjacency(reference: Reference, zone: str, codes: Sequence[str], *,
              rook: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """Pairs (i, j), i < j, of units of ``codes`` that share a border (or a point if not rook).

    Examples
    --------
    >>> adjacency(ref, "metro", ["13201", "13202"])  # doctest: +SKIP
    (array([0]), array([1]))
    """
    polys = unit_polygons(reference, zone, codes)
    ok = ~shapely.is_missing(polys)
    idx = np.flatnonzero(ok)
    if len(idx) < 2:
        return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.int64)
    tree = shapely.STRtree(polys[idx])
    left, right = tree.query(polys[idx], predicate="intersects")
    keep = left < right
    left, right = left[keep], right[keep]
    if rook and len(left):
        shared = shapely.intersection(shapely.boundary(polys[idx][left]),
                                      shapely.boundary(polys[idx][right]))
        same = polys[idx][left] == polys[idx][right]  # arrondissements on their city's polygon
        keep = (shapely.length(shared) > 0) | same
        left, right = left[keep], right[keep]
    return idx[left], idx[right]


def components(reference: Reference, zone: str, codes: Sequence[str], *,
               rook: bool = True) -> list[list[str]]:
    """Group ``codes`` into contiguous parts (largest first).

    Two units are contiguous when they share a border (``rook``) or at least a point. Units
    without a polygon form parts of their own.

    Examples
    --------
    >>> components(ref, "metro", ["13201", "13202", "06088"])  # doctest: +SKIP
    [['13201', '13202'], ['06088']]
    """
    codes = list(codes)
    left, right = adjacency(reference, zone, codes, rook=rook)
    labels = _label_components(len(codes), left, right)
    groups: dict[int, list[str]] = {}
    for code, lab in zip(codes, labels, strict=True):
        groups.setdefault(int(lab), []).append(code)
    pop = reference.units["population"]
    return sorted(groups.values(), key=lambda g: (-len(g), -int(pop.reindex(g).sum()), g[0]))


def holes(polygon: shapely.Geometry) -> list[shapely.Geometry]:
    """The interior rings of a (multi)polygon, as polygons.

    Examples
    --------
    >>> outer = shapely.box(0, 0, 10, 10).difference(shapely.box(4, 4, 6, 6))
    >>> [h.area for h in holes(outer)]
    [4.0]
    """
    out = []
    for part in shapely.get_parts(polygon):
        out.extend(shapely.Polygon(r) for r in part.interiors)
    return out


def units_within(reference: Reference, zone: str, areas: Iterable[shapely.Geometry],
                 candidates: Sequence[str]) -> list[str]:
    """Codes among ``candidates`` whose polygon lies mostly inside one of ``areas``.

    Examples
    --------
    >>> units_within(ref, "metro", [], ["13201"])  # doctest: +SKIP
    []
    """
    areas = list(areas)
    if not areas or not len(candidates):
        return []
    polys = unit_polygons(reference, zone, candidates)
    ok = ~shapely.is_missing(polys)
    union = shapely.union_all(areas)
    inside = np.zeros(len(candidates), dtype=bool)
    inside[ok] = (shapely.area(shapely.intersection(polys[ok], union))
                  > 0.5 * shapely.area(polys[ok]))
    return [c for c, flag in zip(candidates, inside, strict=True) if flag]


__all__ += ["adjacency", "holes", "units_within"]
