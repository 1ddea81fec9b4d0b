"""Shared boundaries between units: who borders whom, over how many metres, and in how many parts.

Two units *border* each other when their boundaries share a line, not merely a point: the rook
adjacency of :func:`~cpts_geo.analysis.topology.adjacency` (DE-9IM boundary/boundary of
dimension 1), computed in the zone's projected CRS. The length of a shared boundary is measured
in that CRS, in metres, as ``length(intersection(boundary(a), boundary(b)))``; the unit polygons
are a cleaned coverage, so that two neighbours' boundaries run along the same vertices. Where an
arrondissement has no polygon of its own (it borrows its city's), it borders the other
arrondissements of its city over an unknown length, counted as 0.

:class:`BorderGraph` holds the borders of a set of units once; :func:`count_parts` counts the
contiguous parts of many groups of its units (a territory, a territory with a zone blanche added)
in one vectorised pass.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import shapely

from .topology import (
    adjacency,
    geometry_keys,
    label_components,
    near_polygons,
    polygon_graph,
    polygon_units,
    unit_polygons,
    zone_unit_polygons,
)

if TYPE_CHECKING:
    from ..reference import Reference

__all__ = ["BorderGraph", "border_graph", "count_parts", "neighbouring_units"]


@dataclass(frozen=True, eq=False)
class BorderGraph:
    """The borders between a set of units.

    Attributes
    ----------
    codes
        The units (finest unit codes), in the order of the graph's nodes.
    left, right
        Node positions of each pair of bordering units (``left < right``).
    length
        Shared boundary length of each pair in metres, in the zone's CRS (NaN where it was not
        measured; 0 where it is unknown, see the module docstring).

    Examples
    --------
    >>> g = border_graph(ref, ["13201", "13202", "06088"])
    >>> g.pairs()
    [('13201', '13202')]
    >>> float(g.length[0]) > 1000  # metres of boundary between Marseille 1er and 2e
    True
    """

    codes: np.ndarray
    left: np.ndarray
    right: np.ndarray
    length: np.ndarray

    def positions(self, codes: Iterable[str]) -> np.ndarray:
        """Node position of each of ``codes`` (-1 when not in the graph).

        Examples
        --------
        >>> border_graph(ref, ["13201", "13202"]).positions(["13202", "06088"]).tolist()
        [1, -1]
        """
        return pd.Index(self.codes).get_indexer(list(codes))

    def pairs(self) -> list[tuple[str, str]]:
        """The bordering pairs as codes.

        Examples
        --------
        >>> border_graph(ref, ["13202", "13201"]).pairs()
        [('13202', '13201')]
        """
        return [(str(self.codes[i]), str(self.codes[j]))
                for i, j in zip(self.left.tolist(), self.right.tolist(), strict=True)]

    def neighbour_lists(self) -> list[list[tuple[int, float]]]:
        """For each node, its ``(neighbour, shared length in metres)``, neighbours in order.

        Examples
        --------
        >>> g = border_graph(ref, ["13201", "13202", "06088"])
        >>> [[n for n, _ in nbrs] for nbrs in g.neighbour_lists()]
        [[1], [0], []]
        """
        out: list[list[tuple[int, float]]] = [[] for _ in range(len(self.codes))]
        lengths = np.nan_to_num(self.length, nan=0.0).tolist()
        for i, j, d in zip(self.left.tolist(), self.right.tolist(), lengths, strict=True):
            out[i].append((j, d))
            out[j].append((i, d))
        for nbrs in out:
            nbrs.sort()
        return out


def _zone_of(reference: Reference, codes: np.ndarray) -> np.ndarray:
    return reference.units["zone"].reindex(codes).to_numpy(dtype=object)


def neighbouring_units(reference: Reference, codes: Sequence[str]) -> list[str]:
    """Finest units not in ``codes`` that border one of ``codes`` (share a line of boundary).

    Looked up in the zone's polygon graph (:func:`~cpts_geo.analysis.topology.polygon_graph`);
    where a polygon stands for several units, candidates are found from the polygons' extents
    and tested like :func:`~cpts_geo.analysis.topology.adjacency`.

    Examples
    --------
    >>> neighbouring_units(ref, ["13201"])  # the arrondissements around Marseille 1er
    ['13202', '13203', '13204', '13205', '13206', '13207']
    """
    codes_arr = np.asarray(list(dict.fromkeys(codes)), dtype=object)
    if not len(codes_arr):
        return []
    finest = reference.finest
    zones = _zone_of(reference, codes_arr)
    found: set[str] = set()
    for zone in sorted({z for z in zones.tolist() if isinstance(z, str)}):
        own = codes_arr[zones == zone]
        by_polygon = polygon_units(reference, zone)
        if by_polygon is not None:  # one polygon per unit: the graph says it
            indptr, indices = polygon_graph(reference, zone)
            pos = reference.polygons(zone).index.get_indexer(
                geometry_keys(reference, zone, list(own)))
            pos = pos[pos >= 0]
            counts = indptr[pos + 1] - indptr[pos]
            starts = np.repeat(indptr[pos], counts)
            near = by_polygon[indices[starts + np.arange(int(counts.sum()))
                                      - np.repeat(np.cumsum(counts) - counts, counts)]]
            found.update(str(c) for c in near if c is not None and c not in set(own))
            continue
        polys = unit_polygons(reference, zone, list(own))
        polys = polys[~shapely.is_missing(polys)]
        if not len(polys):
            continue
        hits = near_polygons(reference, zone, tuple(shapely.total_bounds(polys)))
        finest_pos, polygon_pos = zone_unit_polygons(reference, zone)
        near = finest.index.to_numpy(dtype=object)[finest_pos[np.isin(polygon_pos, hits)]]
        near = near[~pd.Index(near).isin(own)]
        both = list(own) + list(near)
        left, right = adjacency(reference, zone, both)
        n_own = len(own)
        cross = (left < n_own) != (right < n_own)
        found.update(both[k] for k in np.r_[left[cross], right[cross]].tolist() if k >= n_own)
    return sorted(found)


def _measure(reference: Reference, zone: str, codes: np.ndarray, left: np.ndarray,
             right: np.ndarray) -> np.ndarray:
    """Shared boundary length in metres of each pair (0 where both use the same polygon)."""
    if not len(left):
        return np.empty(0, dtype=np.float64)
    keys = geometry_keys(reference, zone, list(codes))
    polys = unit_polygons(reference, zone, list(codes))
    bounds = shapely.boundary(polys)
    out = shapely.length(shapely.intersection(bounds[left], bounds[right]))
    out[keys[left] == keys[right]] = 0.0
    return np.asarray(out, dtype=np.float64)


def border_graph(reference: Reference, codes: Sequence[str], *,
                 measure: Iterable[str] | None = None) -> BorderGraph:
    """The borders between ``codes`` (each zone in its CRS), with their lengths in metres.

    Parameters
    ----------
    reference
        The reference data.
    codes
        Finest unit codes (any zones; units of different zones never border).
    measure
        Measure only the pairs with at least one unit in ``measure`` (the others get NaN);
        every pair by default. Measuring is the costly part on large sets.

    Returns
    -------
    BorderGraph

    Examples
    --------
    >>> g = border_graph(ref, ["13201", "13202", "13203"], measure=["13201"])
    >>> g.pairs(), [bool(np.isnan(x)) for x in g.length]
    ([('13201', '13202'), ('13201', '13203'), ('13202', '13203')], [False, False, True])
    """
    codes_arr = np.asarray(list(dict.fromkeys(codes)), dtype=object)
    zones = _zone_of(reference, codes_arr)
    wanted = None if measure is None else pd.Index(list(measure))
    lefts, rights, lengths = [], [], []
    for zone in sorted({z for z in zones.tolist() if isinstance(z, str)}):
        pos = np.flatnonzero(zones == zone)
        sub = codes_arr[pos]
        left, right = adjacency(reference, zone, list(sub))
        length = np.full(len(left), np.nan)
        todo = (np.ones(len(left), dtype=bool) if wanted is None
                else pd.Index(sub).isin(wanted)[left] | pd.Index(sub).isin(wanted)[right])
        length[todo] = _measure(reference, zone, sub, left[todo], right[todo])
        lefts.append(pos[left])
        rights.append(pos[right])
        lengths.append(length)
    if not lefts:
        empty = np.empty(0, dtype=np.int64)
        return BorderGraph(codes_arr, empty, empty.copy(), np.empty(0, dtype=np.float64))
    left, right = np.concatenate(lefts), np.concatenate(rights)
    swap = left > right
    left[swap], right[swap] = right[swap], left[swap]
    order = np.lexsort((right, left))
    return BorderGraph(codes_arr, left[order], right[order], np.concatenate(lengths)[order])


def count_parts(graph: BorderGraph, groups: pd.DataFrame) -> pd.Series:
    """Number of contiguous parts of each group of units.

    Parameters
    ----------
    graph
        The borders between (at least) every unit of the groups.
    groups
        One row per (group, unit): columns ``group`` and ``code``. A unit missing from the
        graph is a part of its own.

    Returns
    -------
    pandas.Series
        Group → number of parts (1: in one piece), in order of first appearance.

    Examples
    --------
    >>> g = border_graph(ref, ["13201", "13202", "06088"])
    >>> groups = pd.DataFrame({"group": ["a", "a", "b", "b"],
    ...                        "code": ["13201", "13202", "13201", "06088"]})
    >>> count_parts(g, groups).to_dict()
    {'a': 1, 'b': 2}
    """
    frame = groups[["group", "code"]].drop_duplicates().reset_index(drop=True)
    if frame.empty:
        return pd.Series(dtype="int64")
    node = graph.positions(frame["code"])
    gid, names = pd.factorize(frame["group"], sort=False)
    rows = pd.DataFrame({"g": gid, "node": node, "row": np.arange(len(frame))})
    known = rows[rows["node"] >= 0]
    edges = pd.DataFrame({"a": graph.left, "b": graph.right})
    # edges whose two ends are in the same group, as pairs of rows of ``frame``
    ea = edges.merge(known, left_on="a", right_on="node")[["b", "g", "row"]]
    eb = ea.merge(known, left_on=["b", "g"], right_on=["node", "g"], suffixes=("_a", "_b"))
    labels = label_components(len(frame), eb["row_a"].to_numpy(dtype=np.int64),
                     eb["row_b"].to_numpy(dtype=np.int64))
    parts = pd.DataFrame({"g": gid, "label": labels}).drop_duplicates().groupby("g").size()
    return pd.Series(parts.reindex(np.arange(len(names))).to_numpy(dtype=np.int64),
                     index=pd.Index(names, dtype=object))
