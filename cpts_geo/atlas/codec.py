r"""Compact text encoding of polygon geometry for the pages (decoded by ``static/codec.js``).

GeoJSON spends about 18 characters on a vertex (``[7.12345,43.70481],``); the atlas pages carry
hundreds of thousands of vertices, all already rounded to a fixed number of decimals
(:func:`~cpts_geo.atlas.display.to_wgs84`). Each ring is written instead as the *encoded
polyline* of its integer coordinates (the scheme of Google's polyline format: first vertex,
then differences, each number zig-zagged and written in 5-bit groups as characters ``?`` to
``~``), without the closing vertex. A typical vertex then takes 4 to 6 characters, and the
numbers decode exactly: the page shows the same vertices as GeoJSON would, a vertex shared by
two polygons stays shared.

A geometry is a list of polygons, each a list of ring strings (exterior first), the structure
of GeoJSON ``MultiPolygon`` coordinates. The alphabet (ASCII 63–126) holds no ``<``, ``>`` or
``&``; ``\\`` is escaped by JSON.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import shapely

__all__ = ["decode_geometry", "decode_ring", "encode_geometries", "encode_integers"]


def _encode_values(values: np.ndarray) -> tuple[bytes, np.ndarray]:
    """Polyline characters of every integer of ``values`` and the characters used by each."""
    v = values.astype(np.int64)
    z = np.where(v < 0, ~(v << 1), v << 1).astype(np.uint64)  # zig-zag
    n = np.ones(len(z), dtype=np.int64)
    rest = z >> np.uint64(5)
    while rest.any():
        n += rest > 0
        rest >>= np.uint64(5)
    owner = np.repeat(np.arange(len(z)), n)
    start = np.cumsum(n) - n
    k = np.arange(int(n.sum())) - np.repeat(start, n)
    chunk = (z[owner] >> (np.uint64(5) * k.astype(np.uint64))) & np.uint64(31)
    last = k == n[owner] - 1
    chars = (chunk | np.where(last, np.uint64(0), np.uint64(32))) + np.uint64(63)
    return chars.astype(np.uint8).tobytes(), n


def encode_geometries(geoms: Sequence[object] | np.ndarray, decimals: int) -> list[list | None]:
    """Encode (multi)polygons, already rounded to ``decimals``, as nested lists of strings.

    Parameters
    ----------
    geoms
        Polygons or multipolygons (``None`` where missing), coordinates in degrees rounded to
        ``decimals`` (other geometry types are refused).
    decimals
        Decimals of the coordinates: each is written as the integer ``round(x * 10**decimals)``.

    Returns
    -------
    list
        Per geometry: a list of polygons, each a list of encoded rings (exterior first), or
        ``None`` where the geometry is missing or empty.

    Raises
    ------
    ValueError
        When a geometry is not a polygon or multipolygon.

    Examples
    --------
    >>> square = shapely.box(5.0, 43.0, 5.001, 43.001)
    >>> encode_geometries([square, None], 3)
    [[['qwHo~rA?A@??@']], None]
    >>> decode_geometry(encode_geometries([square], 3)[0], 3)[0][0]
    [[5.001, 43.0], [5.001, 43.001], [5.0, 43.001], [5.0, 43.0], [5.001, 43.0]]
    """
    arr = np.asarray(geoms, dtype=object)
    out: list[list | None] = [None] * len(arr)
    ok = np.flatnonzero(~shapely.is_missing(arr) & ~shapely.is_empty(arr))
    if not len(ok):
        return out
    kinds = set(shapely.get_type_id(arr[ok]).tolist())
    if not kinds <= {3, 6}:
        raise ValueError(f"`geoms` hold geometry types {sorted(kinds)} but only Polygon (3) and "
                         "MultiPolygon (6) can be encoded")
    _, coords, (ring_off, poly_off, geom_off) = _ragged(arr[ok])
    scale = 10.0 ** decimals
    ints = np.rint(coords * scale).astype(np.int64)
    starts, ends = ring_off[:-1], ring_off[1:] - 1  # drop each ring's closing vertex
    lengths = ends - starts
    keep = np.repeat(starts, lengths) + (np.arange(int(lengths.sum()))
                                         - np.repeat(np.cumsum(lengths) - lengths, lengths))
    pts = ints[keep]
    first = np.zeros(len(pts), dtype=bool)
    first[np.cumsum(lengths) - lengths] = True
    deltas = pts.copy()
    deltas[1:] -= pts[:-1]
    deltas[first] = pts[first]
    text, n = _encode_values(deltas.reshape(-1))
    per_vertex = n.reshape(-1, 2).sum(axis=1)
    ring_chars = np.add.reduceat(per_vertex, np.cumsum(lengths) - lengths) if len(pts) else []
    bounds = np.concatenate([[0], np.cumsum(ring_chars)]).astype(np.int64)
    rings = [text[bounds[i]:bounds[i + 1]].decode("ascii") for i in range(len(lengths))]
    for g, i in enumerate(ok.tolist()):
        polys = []
        for p in range(geom_off[g], geom_off[g + 1]):
            polys.append(rings[poly_off[p]:poly_off[p + 1]])
        out[i] = polys
    return out


def _ragged(geoms: np.ndarray) -> tuple[object, np.ndarray, tuple[np.ndarray, ...]]:
    """``shapely.to_ragged_array`` of polygons as multipolygons (ring, polygon, geometry)."""
    kind, coords, offsets = shapely.to_ragged_array(geoms)
    if len(offsets) == 2:  # polygons only: one polygon per geometry
        offsets = (offsets[0], offsets[1], np.arange(len(offsets[1])))
    return kind, coords, offsets


def decode_ring(text: str, decimals: int) -> list[list[float]]:
    """Decode one ring written by :func:`encode_geometries` (closed again).

    Examples
    --------
    >>> decode_ring("qwHo~rA?A@??@", 3)[:2]
    [[5.001, 43.0], [5.001, 43.001]]
    """
    values: list[int] = []
    shift = acc = 0
    for ch in text:
        b = ord(ch) - 63
        acc |= (b & 31) << shift
        shift += 5
        if b < 32:
            values.append(~(acc >> 1) if acc & 1 else acc >> 1)
            shift = acc = 0
    scale = 10 ** decimals
    x = y = 0
    ring = []
    for i in range(0, len(values), 2):
        x += values[i]
        y += values[i + 1]
        ring.append([x / scale, y / scale])
    if ring:
        ring.append(list(ring[0]))
    return ring


def decode_geometry(encoded: list, decimals: int) -> list[list[list[list[float]]]]:
    """GeoJSON ``MultiPolygon`` coordinates of a geometry written by :func:`encode_geometries`.

    Examples
    --------
    >>> g = encode_geometries([shapely.box(0, 0, 1, 1)], 0)[0]
    >>> shapely.MultiPolygon([shapely.Polygon(r[0], r[1:]) for r in decode_geometry(g, 0)]).area
    1.0
    """
    return [[decode_ring(r, decimals) for r in poly] for poly in encoded]


def encode_integers(values: Sequence[int]) -> str:
    """Integers as one encoded-polyline string (zig-zag, 5-bit groups, ``?`` to ``~``).

    Examples
    --------
    >>> encode_integers([0, 1, -1, 1000])
    '?A@o}@'
    """
    text, _ = _encode_values(np.asarray(list(values), dtype=np.int64))
    return text.decode("ascii")
