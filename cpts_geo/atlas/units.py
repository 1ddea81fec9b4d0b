"""The per-unit table of a région page: what the composer and the CPTS card compute from.

The page's scripts answer ``cpts-geo check`` questions (contiguity, enclaves, conflicts,
population) without geometry: they walk a graph built here once, in the zone's projected CRS,
from the same cleaned coverage the check uses (:meth:`cpts_geo.reference.Reference.geometry`).

* **Nodes** are the page's units: the région's finest units, the units of every CPTS claiming one
  of them (territories are drawn whole), and the *ring* of units bordering those (so that the
  neighbours of every drawn CPTS are known).
* **Edges** are rook adjacencies (:func:`cpts_geo.analysis.topology.adjacency`: the borders share
  a line), the relation :func:`~cpts_geo.analysis.topology.components` uses for a project's parts.
* **Outside**: a unit touching the outer boundary of the zone's coverage (the sea, a frontier),
  or bordering a unit the page does not hold, is flagged ``o``; a unit touching a hole of the
  coverage (a lake no commune holds) carries the hole's number. A group of unselected units
  rook-connected neither to an ``o`` unit nor, through a hole, to one is surrounded by the
  selection: what the check reports as enclaves (units lying in the holes of the project's
  union).

The boundary of the coverage is found by counting segments: in a clean coverage a segment shared
by two units appears twice, a boundary segment once.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import shapely

from ..analysis.topology import adjacency, geometry_keys, zone_tree

if TYPE_CHECKING:
    from ..reference import Reference

__all__ = ["UnitGraph", "boundary_touch", "page_graph"]


def _segment_keys(coords: np.ndarray, ring_offsets: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Undirected segment keys (void rows) of closed rings and the ring of each segment."""
    n = np.diff(ring_offsets) - 1
    start = np.repeat(ring_offsets[:-1], n) + (np.arange(int(n.sum()))
                                               - np.repeat(np.cumsum(n) - n, n))
    a, b = coords[start], coords[start + 1]
    swap = (a[:, 0] > b[:, 0]) | ((a[:, 0] == b[:, 0]) & (a[:, 1] > b[:, 1]))
    lo = np.where(swap[:, None], b, a)
    hi = np.where(swap[:, None], a, b)
    seg = np.ascontiguousarray(np.hstack([lo, hi]))
    keys = seg.view(np.dtype((np.void, seg.dtype.itemsize * 4))).ravel()
    return keys, np.repeat(np.arange(len(n)), n)


def boundary_touch(reference: Reference, zone: str) -> tuple[pd.Series, pd.Series]:
    """Which polygons of the zone's coverage touch its outer boundary, and which touch a hole.

    Computed once per reference and zone.

    Parameters
    ----------
    reference
        The reference data.
    zone
        ``metro`` or a DROM code.

    Returns
    -------
    tuple of pandas.Series
        Indexed by polygon code (:meth:`Reference.geometry`): ``outer`` (bool: a border of the
        unit is on the outer boundary of the coverage) and ``holes`` (tuple of the numbers of
        the coverage's holes the unit borders, empty for most).

    Examples
    --------
    >>> outer, holes = boundary_touch(ref, "metro")
    >>> bool(outer["06088"]), bool(outer["13201"]), bool(outer["04070"])  # Nice is on the sea
    (True, False, False)
    >>> holes["66181"]  # Sainte-Léocadie borders Llívia, a Spanish enclave: a hole of France
    (0,)
    """
    key = f"atlas:boundary:{zone}"
    if key in reference.memo:
        return reference.memo[key]
    geoms = reference.geometry(zone)
    arr = np.asarray(geoms.array, dtype=object)
    _, coords, offsets = shapely.to_ragged_array(arr)
    ring_off = offsets[0]
    if len(offsets) == 3:
        ring_geom = np.repeat(np.repeat(np.arange(len(offsets[2]) - 1), np.diff(offsets[2])),
                              np.diff(offsets[1]))
    else:
        ring_geom = np.repeat(np.arange(len(offsets[1]) - 1), np.diff(offsets[1]))
    keys, seg_ring = _segment_keys(coords, ring_off)
    _, inverse, counts = np.unique(keys, return_inverse=True, return_counts=True)
    once = counts[inverse.ravel()] == 1
    seg_geom = ring_geom[seg_ring]
    union = shapely.coverage_union_all(arr)
    hole_rings = [r for part in shapely.get_parts(union) for r in part.interiors]
    hole_of = np.full(len(keys), -1, dtype=np.int64)
    for h, ring in enumerate(hole_rings):
        hcoords = np.asarray(ring.coords)
        hkeys, _ = _segment_keys(hcoords, np.array([0, len(hcoords)]))
        hole_of[once & np.isin(keys, hkeys)] = h
    outer = np.zeros(len(arr), dtype=bool)
    outer[seg_geom[once & (hole_of < 0)]] = True
    holes: list[tuple[int, ...]] = [()] * len(arr)
    for g, h in sorted(set(zip(seg_geom[hole_of >= 0].tolist(),
                               hole_of[hole_of >= 0].tolist(), strict=True))):
        holes[g] = (*holes[g], h)
    result = (pd.Series(outer, index=geoms.index), pd.Series(holes, index=geoms.index,
                                                              dtype=object))
    reference.memo[key] = result
    return result


@dataclass(frozen=True)
class UnitGraph:
    """Units of a page with their rook adjacency and outside flags.

    Attributes
    ----------
    codes
        Finest unit codes: the page's own units first (in the given order), then the ring.
    ring
        Whether each unit is only in the ring (not selectable, only for neighbours).
    outside
        Whether each unit touches the coverage's outer boundary or a unit the page lacks.
    holes
        Numbers of the coverage holes each unit borders (tuples).
    left, right
        Rook-adjacent pairs of positions in ``codes`` (``left < right``).
    """

    codes: list[str]
    ring: np.ndarray
    outside: np.ndarray
    holes: list[tuple[int, ...]]
    left: np.ndarray
    right: np.ndarray

    def neighbours(self) -> list[list[int]]:
        """Positions of the rook neighbours of each unit, ascending."""
        out: list[list[int]] = [[] for _ in self.codes]
        for i, j in zip(self.left.tolist(), self.right.tolist(), strict=True):
            out[i].append(j)
            out[j].append(i)
        return [sorted(n) for n in out]


def _ring_of(reference: Reference, zone: str, codes: Sequence[str]) -> list[str]:
    """Finest units of ``zone`` not in ``codes`` whose polygon meets one of ``codes``'s."""
    geoms = reference.geometry(zone)
    finest = reference.finest
    pos = geoms.index.get_indexer(geometry_keys(reference, zone, list(codes)))
    polys = np.asarray(geoms.array, dtype=object)[pos[pos >= 0]]
    if not len(polys):
        return []
    hits = np.unique(zone_tree(reference, zone).query(polys, predicate="intersects")[1])
    hit_codes = set(geoms.index[hits])
    units = finest.index[(finest["zone"] == zone).to_numpy()]
    keys = geometry_keys(reference, zone, list(units))
    have = set(codes)
    return [c for c, k in zip(units, keys, strict=True) if k in hit_codes and c not in have]


def page_graph(reference: Reference, zone: str, codes: Sequence[str]) -> UnitGraph:
    """The unit graph of a page holding ``codes`` (all in ``zone``), with its ring.

    Parameters
    ----------
    reference
        The reference data.
    zone
        The zone of the units.
    codes
        The page's units (finest codes, no duplicates).

    Returns
    -------
    UnitGraph

    Examples
    --------
    >>> g = page_graph(ref, "metro", ["13201", "13202", "13203"])
    >>> g.codes[:3], int(g.ring.sum()) > 0, g.outside[:3].tolist()  # the 2e is on the sea
    (['13201', '13202', '13203'], True, [False, True, False])
    >>> [g.codes[j] for j in g.neighbours()[0] if not g.ring[j]]  # 1er borders 2e and 3e
    ['13202', '13203']
    """
    own = list(dict.fromkeys(str(c) for c in codes))
    ring = _ring_of(reference, zone, own)
    beyond = _ring_of(reference, zone, own + ring)
    everything = own + ring + beyond
    left, right = adjacency(reference, zone, everything)
    n, m = len(own), len(own) + len(ring)
    # a ring unit bordering a unit beyond the ring touches what the page does not hold
    out_edge = np.zeros(len(everything), dtype=bool)
    cross = (left < m) & (right >= m)
    out_edge[left[cross]] = True
    inside = right < m
    left, right = left[inside], right[inside]
    # keep only ring units that really border an own unit (bounding boxes overestimate)
    touching = np.zeros(m, dtype=bool)
    touching[:n] = True
    touching[right[left < n]] = True
    keep = np.flatnonzero(touching)
    new_pos = np.full(m, -1, dtype=np.int64)
    new_pos[keep] = np.arange(len(keep))
    pair = (new_pos[left] >= 0) & (new_pos[right] >= 0)
    # a ring unit dropped here borders no own unit; an own unit bordering it is still fine
    dropped_neighbour = np.zeros(m, dtype=bool)
    dropped_neighbour[left[~pair & (new_pos[left] >= 0)]] = True
    dropped_neighbour[right[~pair & (new_pos[right] >= 0)]] = True
    kept_codes = [everything[i] for i in keep]
    outer, holes = boundary_touch(reference, zone)
    gkeys = geometry_keys(reference, zone, kept_codes)
    touch = outer.reindex(gkeys).fillna(True).to_numpy(dtype=bool)  # no polygon: outside
    outside = touch | out_edge[keep] | dropped_neighbour[keep]
    hole_list = [tuple(h) if isinstance(h, tuple) else () for h in holes.reindex(gkeys)]
    return UnitGraph(kept_codes, np.arange(len(keep)) >= n, outside, hole_list,
                     new_pos[left[pair]], new_pos[right[pair]])
