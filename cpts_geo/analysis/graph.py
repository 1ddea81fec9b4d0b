"""Connected parts without pandas: of a graph given by its edges, and the holes of a polygon."""

from __future__ import annotations

import numpy as np
import shapely

__all__ = ["holes", "label_components"]


def label_components(n: int, left: np.ndarray, right: np.ndarray) -> np.ndarray:
    """Connected component label (its smallest member) of each of ``n`` nodes.

    The edges are ``(left[i], right[i])``; labels are propagated by array operations with
    pointer jumping.

    Examples
    --------
    >>> label_components(5, np.array([0, 3]), np.array([1, 4])).tolist()
    [0, 0, 2, 3, 3]
    """
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
