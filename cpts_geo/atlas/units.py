"""The per-unit table of a région page: what the composer and the CPTS card compute from.

The page's scripts answer ``cpts-geo check`` questions (contiguity, enclaves, conflicts,
population) without geometry: they walk a graph built here once, in the zone's projected CRS,
from the same cleaned coverage the check uses (:meth:`cpts_geo.reference.Reference.geometry`).

* **Nodes** are the page's units: the région's finest units, the units of every CPTS claiming one
  of them (territories are drawn whole), and the *ring* of units bordering those (so that the
  neighbours of every drawn CPTS are known). The rook adjacency of the whole zone is computed
  once (:func:`zone_graph`) and each page takes its part of it.
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

from ..analysis.topology import adjacency, geometry_keys

if TYPE_CHECKING:
    from ..reference import Reference

__all__ = ["UnitGraph", "boundary_touch", "page_graph", "zone_graph"]


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
    from ..reference.geometry import cached_arrays

    index = reference.polygons(zone).index  # the polygons are decoded only to build
    arrays = cached_arrays(reference, f"boundary-b1-{zone}",
                           lambda: _boundary_arrays(reference.geometry(zone)))
    if len(arrays["outer"]) != len(index):  # a cache of another layer: rebuild
        arrays = _boundary_arrays(reference.geometry(zone))
    holes: list[tuple[int, ...]] = [()] * len(index)
    for g, h in zip(arrays["hole_unit"].tolist(), arrays["hole_number"].tolist(), strict=True):
        holes[g] = (*holes[g], h)
    result = (pd.Series(arrays["outer"].astype(bool), index=index),
              pd.Series(holes, index=index, dtype=object))
    reference.memo[key] = result
    return result


def _boundary_arrays(geoms: pd.Series) -> dict[str, np.ndarray]:
    """:func:`boundary_touch` as arrays: ``outer`` flags, and (unit, hole number) pairs."""
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
    pairs = sorted(set(zip(seg_geom[hole_of >= 0].tolist(), hole_of[hole_of >= 0].tolist(),
                           strict=True)))
    return {"outer": outer, "hole_unit": np.asarray([g for g, _ in pairs], dtype=np.int64),
            "hole_number": np.asarray([h for _, h in pairs], dtype=np.int64)}


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


def zone_graph(reference: Reference, zone: str) -> tuple[pd.Index, np.ndarray, np.ndarray]:
    """Rook adjacency of every finest unit of ``zone``, as a sparse row structure (once).

    Returns
    -------
    tuple
        ``(codes, indptr, indices)``: the neighbours of ``codes[i]`` are
        ``codes[indices[indptr[i]:indptr[i + 1]]]``, ascending.

    Examples
    --------
    >>> codes, indptr, indices = zone_graph(ref, "974")
    >>> i = codes.get_loc("97411")
    >>> int(indptr[i + 1] - indptr[i]) > 0
    True
    """
    key = f"atlas:zone_graph:{zone}"
    if key in reference.memo:
        return reference.memo[key]
    finest = reference.finest
    codes = finest.index[(finest["zone"] == zone).to_numpy()]
    left, right = adjacency(reference, zone, list(codes))
    src = np.concatenate([left, right])
    dst = np.concatenate([right, left])
    order = np.lexsort((dst, src))
    src, dst = src[order], dst[order]
    indptr = np.searchsorted(src, np.arange(len(codes) + 1)).astype(np.int64)
    result = (codes, indptr, dst.astype(np.int64))
    reference.memo[key] = result
    return result


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
    all_codes, indptr, indices = zone_graph(reference, zone)
    own = list(dict.fromkeys(str(c) for c in codes))
    own_pos = all_codes.get_indexer(own)
    if (own_pos < 0).any():
        missing = [c for c, p in zip(own, own_pos, strict=True) if p < 0]
        raise ValueError(f"`codes` hold units not in zone {zone!r}: {', '.join(missing[:10])}")
    def nbrs(pos: np.ndarray) -> np.ndarray:
        if not len(pos):
            return np.empty(0, dtype=np.int64)
        counts = indptr[pos + 1] - indptr[pos]
        starts = np.repeat(indptr[pos], counts)
        offsets = np.arange(int(counts.sum())) - np.repeat(np.cumsum(counts) - counts, counts)
        return indices[starts + offsets]

    in_own = np.zeros(len(all_codes), dtype=bool)
    in_own[own_pos] = True
    ring_pos = np.unique(nbrs(own_pos))
    ring_pos = ring_pos[~in_own[ring_pos]]
    pos = np.concatenate([own_pos, ring_pos]).astype(np.int64)
    local = np.full(len(all_codes), -1, dtype=np.int64)
    local[pos] = np.arange(len(pos))
    counts = indptr[pos + 1] - indptr[pos]
    src = np.repeat(np.arange(len(pos)), counts)
    dst = local[nbrs(pos)]
    beyond = np.zeros(len(pos), dtype=bool)
    beyond[src[dst < 0]] = True  # borders a unit the page does not hold
    keep = (dst >= 0) & (src < dst)
    kept_codes = [str(c) for c in all_codes[pos]]
    outer, holes = boundary_touch(reference, zone)
    gkeys = geometry_keys(reference, zone, kept_codes)
    touch = outer.reindex(gkeys).fillna(True).to_numpy(dtype=bool)  # no polygon: outside
    hole_list = [tuple(h) if isinstance(h, tuple) else () for h in holes.reindex(gkeys)]
    return UnitGraph(kept_codes, np.arange(len(pos)) >= len(own), touch | beyond, hole_list,
                     src[keep], dst[keep])
