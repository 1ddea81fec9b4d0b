"""Geometry of sets of units: areas, unions, adjacency and connected parts.

Everything is computed per zone in the zone's projected CRS, on the cleaned coverage of
:meth:`cpts_geo.reference.Reference.geometry`. Where the data directory has no arrondissement
polygons, an arrondissement borrows its city's polygon: its area is unknown (NaN) but adjacency
and maps still work.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import shapely

from .graph import holes, label_components

if TYPE_CHECKING:
    from ..reference import Reference

__all__ = [
    "adjacency",
    "components",
    "coverage_unions",
    "geometry_keys",
    "holes",
    "label_components",
    "near_polygons",
    "polygon_graph",
    "polygon_positions_from_finest",
    "polygon_units",
    "union_by_group",
    "union_plan_positions",
    "unit_areas",
    "unit_polygons",
    "units_within",
    "zone_tree",
    "zone_unit_polygons",
]


def geometry_keys(reference: Reference, zone: str, codes: Sequence[str]) -> np.ndarray:
    """Code of the polygon that stands for each unit (itself, or its city without arr. polygons).

    Examples
    --------
    >>> geometry_keys(ref, "metro", ["13201", "06088"]).tolist()
    ['13201', '06088']
    """
    index = reference.polygons(zone).index
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
    >>> unit_polygons(ref, "974", ["97411"])[0].geom_type
    'Polygon'
    """
    polys = reference.polygons(zone)
    return polys.take(polys.index.get_indexer(geometry_keys(reference, zone, codes)))


def unit_areas(reference: Reference) -> pd.Series:
    """Area in km² of every finest unit, computed in its zone's CRS (NaN where unknown).

    Examples
    --------
    >>> round(float(unit_areas(ref)["13201"]), 2)  # Marseille 1er arrondissement
    1.83
    """
    cache = reference.memo
    if "__areas__" not in cache:
        from ..reference.geometry import cached_arrays

        parts = []
        for zone in reference.zones:
            polys = reference.polygons(zone)
            areas = cached_arrays(reference, f"areas-a1-{zone}",
                                  lambda polys=polys: {"km2": shapely.area(polys.all()) / 1e6})
            km2 = areas["km2"] if len(areas["km2"]) == len(polys) else (
                shapely.area(polys.all()) / 1e6)
            parts.append(pd.Series(km2, index=polys.index))
        areas = pd.concat(parts) if parts else pd.Series(dtype=float)
        cache["__areas__"] = areas.reindex(reference.finest.index)  # type: ignore[assignment]
    return cache["__areas__"]  # type: ignore[return-value]


def zone_tree(reference: Reference, zone: str) -> shapely.STRtree:
    """Spatial index of the polygons of ``reference.geometry(zone)``, built once per reference.

    The tree returns positions in ``reference.geometry(zone).index``.

    Examples
    --------
    >>> geoms, tree = ref.geometry("974"), zone_tree(ref, "974")
    >>> geoms.index[tree.query(geoms["97411"].point_on_surface(), "within")].tolist()
    ['97411']
    """
    cache = reference.memo
    key = f"__tree__{zone}"
    if key not in cache:
        cache[key] = shapely.STRtree(reference.polygons(zone).all())  # type: ignore[assignment]
    return cache[key]  # type: ignore[return-value]


def near_polygons(reference: Reference, zone: str, box: tuple[float, float, float, float]
                  ) -> np.ndarray:
    """Positions of the polygons of ``zone`` whose extent meets ``box`` (minx, miny, maxx, maxy).

    A filter on the stored extents of the polygons, decoding none: candidates for an exact
    test on a few of them.

    Examples
    --------
    >>> polys = ref.polygons("metro")
    >>> x0, y0, x1, y1 = polys.bounds[polys.index.get_loc("13201")]
    >>> "13201" in polys.index[near_polygons(ref, "metro", (x0, y0, x1, y1))]
    True
    """
    b = reference.polygons(zone).bounds
    x0, y0, x1, y1 = box
    hit = (b[:, 0] <= x1) & (b[:, 2] >= x0) & (b[:, 1] <= y1) & (b[:, 3] >= y0)
    return np.flatnonzero(hit)


def polygon_units(reference: Reference, zone: str) -> np.ndarray | None:
    """The finest unit code of each polygon of ``zone``, or ``None`` if one stands for several.

    A polygon stands for several units where arrondissements have no polygon of their own and
    stand on their city's.

    Examples
    --------
    >>> bool((polygon_units(ref, "974") == ref.polygons("974").index.to_numpy()).all())
    True
    """
    key = f"topology:polygon_units:{zone}"
    if key not in reference.memo:
        finest_pos, polygon_pos = zone_unit_polygons(reference, zone)
        out = None
        used = polygon_pos[polygon_pos >= 0]
        if len(np.unique(used)) == len(used):
            out = np.full(len(reference.polygons(zone)), None, dtype=object)
            out[used] = reference.finest.index.to_numpy(dtype=object)[
                finest_pos[polygon_pos >= 0]]
        reference.memo[key] = out
    return reference.memo[key]  # type: ignore[no-any-return]


def zone_unit_polygons(reference: Reference, zone: str) -> tuple[np.ndarray, np.ndarray]:
    """Positions of the units of ``zone`` in ``reference.finest`` and of their polygons.

    The polygon of a unit is its position in ``reference.geometry(zone)`` (-1: none; the
    city's polygon for an arrondissement without one). Computed once per reference.

    Examples
    --------
    >>> units, polygons = zone_unit_polygons(ref, "974")
    >>> len(units), len(polygons), bool((polygons >= 0).all())
    (24, 24, True)
    """
    cache = reference.memo
    key = f"__zone_units__{zone}"
    if key not in cache:
        finest = reference.finest
        finest_pos = np.flatnonzero((finest["zone"] == zone).to_numpy())
        codes = finest.index.to_numpy(dtype=object)[finest_pos]
        polygon_pos = polygon_positions_from_finest(reference, zone, finest_pos, codes)
        cache[key] = (finest_pos, polygon_pos)  # type: ignore[assignment]
    return cache[key]  # type: ignore[return-value]


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
    >>> u = union_by_group(ref, "metro", ["13201", "13202", "06088"], ["a", "a", "b"])
    >>> u.index.tolist(), u["a"].geom_type, round(u["a"].area / 1e6, 2)
    (['a', 'b'], 'Polygon', 5.18)
    """
    plan = _union_plan(reference, zone, codes, groups)
    if plan is None:
        return pd.Series(dtype=object)
    polys, starts, ends, index = plan
    return pd.Series(coverage_unions(polys, starts, ends),
                     index=pd.Index(index, dtype=object), dtype=object)


def _union_plan(reference: Reference, zone: str, codes: Sequence[str],
                groups: Sequence[object]
                ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray] | None:
    """What :func:`union_by_group` unions, or ``None`` when no unit has a polygon.

    The polygons sorted by group, the runs ``[start, end)`` of each group and the group of
    each run.

    The union itself (:func:`coverage_unions`) needs no pandas, so that a caller can run it
    in a thread while it computes something else.
    """
    pos = _polygon_positions(reference, zone, codes)  # -1 where the unit has no polygon
    group_codes, group_values = pd.factorize(np.asarray(groups, dtype=object))
    return union_plan_positions(reference, zone, pos, group_codes, group_values)


def union_plan_positions(reference: Reference, zone: str, pos: np.ndarray,
                          group_codes: np.ndarray, group_values: np.ndarray
                          ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray] | None:
    """What to union for each group, from polygon positions and factorized groups.

    Parameters
    ----------
    reference, zone
        The reference data and the zone of the units.
    pos
        Position of each unit's polygon in ``reference.geometry(zone)`` (-1: none).
    group_codes, group_values
        ``pandas.factorize`` of the unit's groups.

    Returns
    -------
    tuple or None
        The polygons sorted by group, the runs ``[start, end)`` of each group and the group of
        each run (for :func:`coverage_unions`); ``None`` when no unit has a polygon.

    Examples
    --------
    >>> pos = ref.geometry("metro").index.get_indexer(["13201", "13202", "06088"])
    >>> polys, starts, ends, groups = union_plan_positions(
    ...     ref, "metro", pos, np.array([0, 0, 1]), np.array(["a", "b"], dtype=object))
    >>> starts.tolist(), ends.tolist(), groups.tolist()
    ([0, 2], [2, 3], ['a', 'b'])
    """
    geoms = reference.polygons(zone)
    # one row per (group, polygon): arrondissements may share their city's polygon
    rows = np.flatnonzero(pos >= 0)
    pair = group_codes[rows].astype(np.int64) * (len(geoms) + 1) + pos[rows]
    rows = rows[np.sort(np.unique(pair, return_index=True)[1])]
    polys = geoms.take(pos[rows])
    keep = ~shapely.is_missing(polys)
    rows, polys = rows[keep], polys[keep]
    if len(rows) == 0:
        return None
    # groups in the order of their text, each group's units in input order
    labels = np.asarray([str(v) for v in group_values], dtype=object)
    rank = np.empty(len(labels), dtype=np.int64)
    rank[np.argsort(labels, kind="stable")] = np.arange(len(labels))
    g_rank = rank[group_codes[rows]]
    order = np.argsort(g_rank, kind="stable")
    g_sorted = g_rank[order]
    starts = np.flatnonzero(np.r_[True, g_sorted[1:] != g_sorted[:-1]])
    ends = np.r_[starts[1:], len(g_sorted)]
    index = np.asarray(group_values, dtype=object)[group_codes[rows][order][starts]]
    return polys[order], starts, ends, index


def _finest_to_polygon(reference: Reference, zone: str) -> np.ndarray:
    """Position in ``reference.geometry(zone)`` of each finest unit's own polygon (-1: none).

    Computed once per reference.
    """
    cache = reference.memo
    key = f"__finest_positions__{zone}"
    if key not in cache:
        cache[key] = reference.polygons(zone).index.get_indexer(  # type: ignore[assignment]
            reference.finest.index)
    return cache[key]  # type: ignore[return-value]


def polygon_positions_from_finest(reference: Reference, zone: str, finest_pos: np.ndarray,
                                   codes: np.ndarray) -> np.ndarray:
    """Position in ``reference.geometry(zone)`` of the polygon of each of ``codes`` (-1: none).

    ``finest_pos`` are the codes' positions in ``reference.finest`` (-1 for others); the city's
    polygon stands for an arrondissement that has none.

    Examples
    --------
    >>> codes = np.array(["13201", "06088"], dtype=object)
    >>> pos = polygon_positions_from_finest(ref, "metro", ref.finest.index.get_indexer(codes),
    ...                                     codes)
    >>> ref.geometry("metro").index[pos].tolist()
    ['13201', '06088']
    """
    pos = np.full(len(codes), -1, dtype=np.int64)
    known = finest_pos >= 0
    pos[known] = _finest_to_polygon(reference, zone)[finest_pos[known]]
    other = pos < 0
    if other.any():
        pos[other] = _polygon_positions(reference, zone, codes[other])
    return pos


def _polygon_positions(reference: Reference, zone: str, codes: Sequence[str]) -> np.ndarray:
    """Position in ``reference.geometry(zone)`` of the polygon of each unit (-1: none).

    The city's polygon stands for an arrondissement that has none (:func:`geometry_keys`).
    """
    index = reference.polygons(zone).index
    codes_arr = np.asarray(codes, dtype=object)
    pos = index.get_indexer(codes_arr)
    missing = pos < 0
    if missing.any():
        parents = reference.units["commune"].reindex(codes_arr[missing]).to_numpy()
        pos[missing] = index.get_indexer(parents)
    return pos


#: Cells of the padded (groups x members) array handed to GEOS in one call.
_UNION_BATCH_CELLS = 262_144
#: Below this many vertices, unions run in the calling thread.
_PARALLEL_MIN_VERTICES = 50_000


def _workers() -> int:
    """Threads for GEOS work: shapely releases the GIL inside GEOS, so the cores are used."""
    return max(1, min(4, os.cpu_count() or 1))


#: Below this many pairs, relate runs in the calling thread.
_PARALLEL_MIN_PAIRS = 20_000


def _parallel_relate(a: np.ndarray, b: np.ndarray, pattern: str) -> np.ndarray:
    """``shapely.relate_pattern(a, b, pattern)``, split between threads when large."""
    n_workers = _workers()
    if n_workers == 1 or len(a) < _PARALLEL_MIN_PAIRS:
        return shapely.relate_pattern(a, b, pattern)
    from concurrent.futures import ThreadPoolExecutor

    bounds = np.linspace(0, len(a), n_workers + 1).astype(np.int64)
    with ThreadPoolExecutor(n_workers) as pool:
        parts = pool.map(lambda k: shapely.relate_pattern(a[bounds[k]:bounds[k + 1]],
                                                          b[bounds[k]:bounds[k + 1]], pattern),
                         range(n_workers))
        return np.concatenate(list(parts))


def coverage_unions(polys: np.ndarray, starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
    """``coverage_union_all(polys[a:b])`` for each run ``[a, b)``, a polygon alone kept as is.

    Runs are padded into 2-D arrays (missing = ``None``) and unioned along the rows by one
    vectorised call per batch of similar sizes, instead of one Python-level call per group.
    Large jobs are split between threads (balanced by vertex count); each group's union is
    computed alone, so the result does not depend on the split.

    Examples
    --------
    >>> boxes = shapely.box([0, 1, 5], [0, 0, 5], [1, 2, 6], [1, 1, 6])
    >>> [g.area for g in coverage_unions(boxes, np.array([0, 2]), np.array([2, 3]))]
    [2.0, 1.0]
    """
    sizes = ends - starts
    out = np.empty(len(starts), dtype=object)
    single = sizes == 1
    out[single] = polys[starts[single]]
    multi = np.flatnonzero(~single)
    if not len(multi):
        return out
    multi = multi[np.argsort(-sizes[multi], kind="stable")]  # largest first: tight batches
    n_workers = _workers()
    if n_workers > 1:
        vertices = np.add.reduceat(shapely.get_num_coordinates(polys), starts)[multi]
        if vertices.sum() < _PARALLEL_MIN_VERTICES:
            n_workers = 1
    if n_workers == 1:
        _union_rows(polys, starts, sizes, multi, out)
        return out
    # longest-processing-time-first: each group to the least loaded thread
    load = np.zeros(n_workers)
    owner = np.empty(len(multi), dtype=np.int64)
    for i, v in enumerate(vertices.tolist()):
        owner[i] = int(np.argmin(load))
        load[owner[i]] += v
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(n_workers) as pool:
        jobs = [pool.submit(_union_rows, polys, starts, sizes, multi[owner == k], out)
                for k in range(n_workers)]
        for job in jobs:
            job.result()
    return out


def _union_rows(polys: np.ndarray, starts: np.ndarray, sizes: np.ndarray, rows_all: np.ndarray,
                out: np.ndarray) -> None:
    """Fill ``out[r]`` for the groups ``rows_all`` (largest first), batch by batch."""
    i = 0
    while i < len(rows_all):
        width = int(sizes[rows_all[i]])
        n_rows = max(1, _UNION_BATCH_CELLS // width)
        rows = rows_all[i:i + n_rows]
        pad = np.full((len(rows), width), None, dtype=object)
        lengths = sizes[rows]
        row_idx = np.repeat(np.arange(len(rows)), lengths)
        col_idx = np.arange(int(lengths.sum())) - np.repeat(np.cumsum(lengths) - lengths, lengths)
        src = np.repeat(starts[rows], lengths) + col_idx
        pad[row_idx, col_idx] = polys[src]
        out[rows] = shapely.coverage_union_all(pad, axis=1)
        i += len(rows)


def polygon_graph(reference: Reference, zone: str) -> tuple[np.ndarray, np.ndarray]:
    """Rook adjacency of every polygon of ``reference.geometry(zone)``, in CSR form.

    Computed once per data version (about half a second for the mainland's 35,000 units) and
    kept on disk beside the cleaned polygons (:func:`cpts_geo.reference.geometry.cached_arrays`);
    the adjacency of any set of units is then a look-up, not a geometric query.

    Returns
    -------
    tuple of numpy.ndarray
        ``(indptr, indices)``: the polygons bordering polygon ``p`` (a shared line, not a point)
        are ``indices[indptr[p]:indptr[p + 1]]``, ascending; positions in
        ``reference.geometry(zone)``.

    Examples
    --------
    >>> indptr, indices = polygon_graph(ref, "974")
    >>> geoms = ref.geometry("974")
    >>> p = geoms.index.get_loc("97411")
    >>> sorted(geoms.index[indices[indptr[p]:indptr[p + 1]]])[:2]
    ['97408', '97418']
    """
    key = f"topology:polygon_graph:{zone}"
    if key in reference.memo:
        return reference.memo[key]  # type: ignore[no-any-return]
    from ..reference.geometry import cached_arrays

    geoms = reference.polygons(zone)

    def build() -> dict[str, np.ndarray]:
        polys = geoms.all()
        left, right = _rook_pairs(polys, np.arange(len(polys)))
        src = np.concatenate([left, right])
        dst = np.concatenate([right, left])
        order = np.lexsort((dst, src))
        return {"n": np.asarray(len(polys)),
                "indptr": np.searchsorted(src[order], np.arange(len(polys) + 1)).astype(
                    np.int64),
                "indices": dst[order].astype(np.int64)}

    arrays = cached_arrays(reference, f"rook-g1-{zone}", build)
    if int(arrays["n"]) != len(geoms):  # a cache of another layer: rebuild
        arrays = build()
    result = (arrays["indptr"], arrays["indices"])
    reference.memo[key] = result
    return result


def _rook_pairs(polys: np.ndarray, pos: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Pairs ``(i, j)``, ``i < j``, of ``polys`` whose borders share a line.

    Rook: boundaries share a line (DE-9IM boundary/boundary of dimension 1), tested by one
    relate on the bounding-box candidates. Units whose ``pos`` is equal (arrondissements
    standing on their city's polygon) count as adjacent.
    """
    ok = ~shapely.is_missing(polys)
    idx = np.flatnonzero(ok)
    if len(idx) < 2:
        return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.int64)
    tree = shapely.STRtree(polys[idx])
    left, right = tree.query(polys[idx], predicate=None)
    keep = left < right
    left, right = left[keep], right[keep]
    if len(left):
        same = pos[idx][left] == pos[idx][right]  # arrondissements on their city's polygon
        keep = same.copy()
        keep[~same] = _parallel_relate(polys[idx][left[~same]], polys[idx][right[~same]],
                                       "****1****")
        left, right = left[keep], right[keep]
    return idx[left], idx[right]


def adjacency(reference: Reference, zone: str, codes: Sequence[str], *,
              rook: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """Pairs (i, j), i < j, of units of ``codes`` that share a border (or a point if not rook).

    Rook adjacency is looked up in the zone's polygon graph (:func:`polygon_graph`).

    Examples
    --------
    >>> adjacency(ref, "metro", ["13201", "13202", "06088"])
    (array([0]), array([1]))
    """
    geoms = reference.polygons(zone)
    pos = geoms.index.get_indexer(geometry_keys(reference, zone, codes))
    found = pos[pos >= 0]
    if rook and len(np.unique(found)) == len(found):  # one polygon per unit: a look-up
        indptr, indices = polygon_graph(reference, zone)
        idx = np.flatnonzero(pos >= 0)
        code_of = np.full(len(geoms), -1, dtype=np.int64)
        code_of[pos[idx]] = idx
        counts = indptr[pos[idx] + 1] - indptr[pos[idx]]
        starts = np.repeat(indptr[pos[idx]], counts)
        offsets = np.arange(int(counts.sum())) - np.repeat(np.cumsum(counts) - counts, counts)
        left = np.repeat(idx, counts)
        right = code_of[indices[starts + offsets]]
        keep = (right >= 0) & (left < right)
        left, right = left[keep], right[keep]
        order = np.lexsort((right, left))
        return left[order], right[order]
    polys = geoms.take(pos)
    if rook:  # units sharing a polygon (arrondissements without their own): test directly
        return _rook_pairs(polys, pos)
    idx = np.flatnonzero(~shapely.is_missing(polys))
    if len(idx) < 2:
        return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.int64)
    left, right = shapely.STRtree(polys[idx]).query(polys[idx], predicate="intersects")
    keep = left < right
    return idx[left[keep]], idx[right[keep]]


def components(reference: Reference, zone: str, codes: Sequence[str], *, rook: bool = True,
               split: np.ndarray | None = None) -> list[list[str]]:
    """Group ``codes`` into contiguous parts (largest first).

    Two units are contiguous when they share a border (``rook``) or at least a point. Units
    without a polygon form parts of their own. With ``split`` (a label per code), a part never
    joins two labels (zones blanches are cut at région borders).

    Examples
    --------
    >>> components(ref, "metro", ["13201", "13202", "06088"])
    [['13201', '13202'], ['06088']]
    >>> components(ref, "metro", ["13201", "13202"], split=np.array([1, 2]))
    [['13201'], ['13202']]
    """
    codes = list(codes)
    left, right = adjacency(reference, zone, codes, rook=rook)
    if split is not None:
        keep = split[left] == split[right]
        left, right = left[keep], right[keep]
    labels = label_components(len(codes), left, right)
    groups: dict[int, list[str]] = {}
    for code, lab in zip(codes, labels.tolist(), strict=True):
        groups.setdefault(lab, []).append(code)
    pop = reference.units["population"].reindex(codes).fillna(0).to_numpy(dtype=np.float64)
    part_pop = np.bincount(labels, weights=pop, minlength=len(codes))
    keys = {lab: (-len(g), -int(part_pop[lab]), g[0]) for lab, g in groups.items()}
    return [groups[lab] for lab in sorted(groups, key=keys.__getitem__)]


def units_within(reference: Reference, zone: str, areas: Iterable[shapely.Geometry],
                 candidates: Sequence[str]) -> list[str]:
    """Codes among ``candidates`` whose polygon lies mostly inside one of ``areas``.

    Examples
    --------
    >>> area = unit_polygons(ref, "metro", ["13202"])[0]
    >>> units_within(ref, "metro", [area], ["13201", "13202"])
    ['13202']
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

