"""Geometry for display: the unit coverage simplified once, unions of it, EPSG:4326 GeoJSON.

The atlas never simplifies a territory on its own: that would open gaps and overlaps between
neighbours. Instead the cleaned unit coverage of each zone (:meth:`Reference.geometry`) is
simplified *as a coverage* (shapely ``coverage_simplify``: shared edges are simplified once and
stay shared), and every polygon drawn — territories, zones blanches, conflicts, départements,
régions — is a ``coverage_union`` of simplified units. Unions only drop the edges inside a group
and never move a vertex, so two territories that share an edge still share it exactly. Geometry
is reprojected to EPSG:4326 and rounded last, vertex by vertex (a shared vertex is rounded the
same way on both sides).

The simplified layer is cached in memory on the :class:`~cpts_geo.reference.Reference` and on
disk beside the cleaned-geometry cache (:func:`cpts_geo.reference.geometry.cache_directory`), keyed
by the input files' checksum, the tolerance and the GEOS version.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import shapely

from ..analysis.topology import coverage_unions
from ..reference.zones import GAP_WIDTH_M, ZONE_CRS

if TYPE_CHECKING:
    import geopandas as gpd
    from pyproj import Transformer

    from ..reference import Reference

__all__ = [
    "NATIONAL_DECIMALS",
    "NATIONAL_TOLERANCE_M",
    "REGION_DECIMALS",
    "REGION_TOLERANCE_M",
    "Display",
    "geojson",
    "simplified_units",
    "union_groups",
]

#: Simplification tolerance (metres) of the région pages: below what a screen shows at zoom 12.
REGION_TOLERANCE_M = 100.0
#: Simplification tolerance (metres) of the national page (France and the DROM on one screen).
NATIONAL_TOLERANCE_M = 1000.0
#: Decimals of longitude/latitude kept on région pages (5 ≈ 1 m).
REGION_DECIMALS = 5
#: Decimals kept on the national page (4 ≈ 10 m).
NATIONAL_DECIMALS = 4

_FORMAT = "d2"  # d2: stored by geometry_cache.save_geometries


def _cache_path(reference: Reference, zone: str, tolerance: float) -> Any:
    from ..reference.geometry import CACHE_FORMAT as CLEAN_FORMAT
    from ..reference.geometry import cache_directory, input_checksum
    geos = shapely.geos_version_string.replace(".", "_")
    name = (f"display-{_FORMAT}-{CLEAN_FORMAT}-{input_checksum(reference)[:20]}-g{GAP_WIDTH_M:g}"
            f"-{zone}-t{tolerance:g}-geos{geos}.npz")
    return cache_directory() / name


def simplified_units(reference: Reference, zone: str, tolerance: float) -> gpd.GeoSeries:
    """The cleaned unit coverage of ``zone`` simplified as a coverage, in the zone's CRS.

    Parameters
    ----------
    reference
        The reference data.
    zone
        ``metro`` or a DROM code (``971`` ... ``976``).
    tolerance
        Simplification tolerance in metres (``shapely.coverage_simplify``); 0 keeps the
        cleaned polygons as they are.

    Returns
    -------
    geopandas.GeoSeries
        Indexed like :meth:`Reference.geometry` (unit code), zone CRS. Edges shared by two
        units are simplified once and stay identical on both sides.

    Examples
    --------
    >>> s = simplified_units(ref, "974", 100.0)
    >>> bool(shapely.coverage_is_valid(s.to_numpy())), s.crs.to_epsg(), len(s)
    (True, 2975, 24)
    >>> [int(shapely.get_num_coordinates(simplified_units(ref, "974", t).to_numpy()).sum())
    ...  for t in (0, 1000.0)]  # vertices of La Réunion, as cleaned and at the national level
    [1149, 377]
    """
    import geopandas as gpd

    from ..reference.geometry import read_geometries, save_geometries

    key = f"display:{zone}:{tolerance:g}"
    cache = reference.memo
    if key in cache:
        return cache[key]
    if tolerance <= 0:
        source = reference.geometry(zone)
        cache[key] = source
        return source
    polygons = reference.polygons(zone)  # the cleaned polygons, decoded only if needed
    path = _cache_path(reference, zone, tolerance)
    found = read_geometries(path)
    if found is not None and len(found[0]) == len(polygons) and (
            pd.Index(found[0]).equals(polygons.index)):
        geoms = found[1]
    else:
        cleaned = np.asarray(polygons.all(), dtype=object)
        geoms = shapely.coverage_simplify(cleaned, tolerance, simplify_boundary=True)
        bad = shapely.is_empty(geoms) | ~shapely.is_valid(geoms)
        geoms[bad] = cleaned[bad]  # never lose a unit
        save_geometries(path, polygons.index, geoms)
    series = gpd.GeoSeries(geoms, index=polygons.index, crs=ZONE_CRS[zone])
    cache[key] = series
    return series


def union_groups(polygons: np.ndarray, groups: Sequence[object]) -> pd.Series:
    """Coverage union of ``polygons`` by group (the polygons are part of one clean coverage).

    Parameters
    ----------
    polygons
        Polygons of one coverage (missing ones are skipped); a polygon appears at most once per
        group.
    groups
        Group of each polygon, aligned on ``polygons``.

    Returns
    -------
    pandas.Series
        One (multi)polygon per group, indexed by group in sorted order.

    Examples
    --------
    >>> union_groups(np.array([shapely.box(0, 0, 1, 1), shapely.box(1, 0, 2, 1)]),
    ...              ["a", "a"]).iloc[0].area
    2.0
    """
    polys = np.asarray(polygons, dtype=object)
    g = np.asarray(groups, dtype=object)
    ok = ~shapely.is_missing(polys)
    polys, g = polys[ok], g[ok]
    if len(g) == 0:
        return pd.Series(dtype=object)
    order = np.argsort(g.astype(str), kind="stable")
    g_sorted, p_sorted = g[order], polys[order]
    breaks = np.flatnonzero(g_sorted[1:] != g_sorted[:-1]) + 1
    starts = np.concatenate([[0], breaks]).astype(np.int64)
    ends = np.concatenate([breaks, [len(g_sorted)]]).astype(np.int64)
    out = coverage_unions(p_sorted, starts, ends)  # the union engine of the dissolve
    return pd.Series(out, index=pd.Index(g_sorted[starts], dtype=object), dtype=object)


@lru_cache(maxsize=16)
def _transformer(crs: str) -> Transformer:
    from pyproj import Transformer

    return Transformer.from_crs(crs, "EPSG:4326", always_xy=True)


def to_wgs84(geoms: np.ndarray, crs: str, decimals: int) -> np.ndarray:
    """Reproject ``geoms`` from ``crs`` to EPSG:4326 and round every vertex to ``decimals``.

    Each vertex is transformed and rounded on its own, so a vertex shared by two polygons
    stays shared.

    Examples
    --------
    >>> p = to_wgs84(np.array([shapely.Point(700000, 6600000)]), "EPSG:2154", 4)[0]
    >>> p.x, p.y
    (3.0, 46.5)
    """
    transformer = _transformer(crs)

    def project(coords: np.ndarray) -> np.ndarray:
        x, y = transformer.transform(coords[:, 0], coords[:, 1])
        return np.round(np.column_stack([x, y]), decimals)

    return np.asarray(shapely.transform(np.asarray(geoms, dtype=object), project), dtype=object)


def geojson(geoms: np.ndarray) -> list[str | None]:
    """GeoJSON geometry text of each geometry (``None`` where missing), no whitespace.

    Examples
    --------
    >>> geojson(np.array([shapely.Point(5.1, 43.25), None]))
    ['{"type":"Point","coordinates":[5.1,43.25]}', None]
    """
    arr = np.asarray(geoms, dtype=object)
    out: list[str | None] = [None] * len(arr)
    ok = np.flatnonzero(~shapely.is_missing(arr))
    if len(ok):
        texts = shapely.to_geojson(arr[ok])
        for i, text in zip(ok, texts, strict=True):
            out[int(i)] = str(text)
    return out


class Display:
    """Display geometry of a reference at one level of detail: simplified, EPSG:4326, rounded.

    Parameters
    ----------
    reference
        The reference data.
    tolerance
        Coverage simplification tolerance in metres.
    decimals
        Decimals of longitude and latitude kept.

    Examples
    --------
    >>> d = Display(ref, tolerance=100.0, decimals=5)
    >>> marseille = d.union(["13201", "13202"], ["1er-2e", "1er-2e"])
    >>> marseille.index.tolist(), marseille.iloc[0].geom_type
    (['1er-2e'], 'Polygon')
    """

    def __init__(self, reference: Reference, *, tolerance: float, decimals: int) -> None:
        self.reference = reference
        self.tolerance = float(tolerance)
        self.decimals = int(decimals)
        self._units: dict[str, pd.Series] = {}
        self._info: dict[str, pd.DataFrame] = {}
        self._geojson: dict[str, pd.Series] = {}
        self._texts: dict[str, pd.Series] = {}
        self._outlines: dict[str, pd.Series] = {}

    def projected(self, zone: str) -> gpd.GeoSeries:
        """Simplified units of ``zone`` in the zone's CRS (see :func:`simplified_units`)."""
        return simplified_units(self.reference, zone, self.tolerance)

    def _keys(self, zone: str, codes: np.ndarray) -> np.ndarray:
        """Polygon code standing for each unit: itself, or its city without arr. polygons."""
        complete = self.reference.memo.get(f"display:complete:{zone}:{self.tolerance:g}")
        if complete is None:  # whether every finest unit of the zone has its own polygon
            complete = bool(self.reference.finest_in("zone", zone).isin(self._index(zone)).all())
            self.reference.memo[f"display:complete:{zone}:{self.tolerance:g}"] = complete
        if complete:
            return codes
        present = pd.Index(codes).isin(self.projected(zone).index)
        if present.all():
            return codes
        parents = self.reference.units["commune"].reindex(codes).to_numpy()
        return np.where(present, codes, parents)

    def units(self, zone: str) -> pd.Series:
        """Simplified units of ``zone`` in EPSG:4326, rounded, indexed by polygon code.

        Reprojected once per data version and kept on disk beside the simplified layer.
        """
        if zone not in self._units:
            from ..reference.geometry import read_geometries, save_geometries

            proj = self.projected(zone)
            import pyproj

            path = _cache_path(self.reference, zone, self.tolerance).with_name(
                _cache_path(self.reference, zone, self.tolerance).stem
                + f"-wgs84-r{self.decimals}-proj{pyproj.proj_version_str}.npz")
            found = read_geometries(path)
            if found is not None and pd.Index(found[0]).equals(proj.index):
                geoms = found[1]
            else:
                geoms = to_wgs84(np.asarray(proj.array, dtype=object), ZONE_CRS[zone],
                                 self.decimals)
                save_geometries(path, proj.index, geoms)
            self._units[zone] = pd.Series(geoms, index=proj.index, dtype=object)
        return self._units[zone]

    def _index(self, zone: str) -> pd.Index:
        """Polygon codes of ``zone`` (the index of :meth:`projected`), no polygon decoded."""
        return self.reference.polygons(zone).index

    def _derived_path(self, zone: str, what: str) -> Any:
        """Cache file of a table derived from :meth:`units` (keyed like its own file)."""
        import pyproj

        base = _cache_path(self.reference, zone, self.tolerance)
        return base.with_name(f"{base.stem}-wgs84-r{self.decimals}-proj{pyproj.proj_version_str}"
                              f"-{what}.npz")

    def _zones_of(self, codes: np.ndarray) -> np.ndarray:
        return self.reference.units["zone"].reindex(codes).to_numpy()

    def unit_geometry(self, codes: Sequence[str]) -> np.ndarray:
        """EPSG:4326 polygon of each unit of ``codes`` (aligned; ``None`` where missing).

        Examples
        --------
        >>> d = Display(ref, tolerance=100, decimals=5)
        >>> nice, unknown = d.unit_geometry(["06088", "99999"])
        >>> nice.geom_type, unknown
        ('Polygon', None)
        """
        arr = np.asarray(list(codes), dtype=object)
        out = np.full(len(arr), None, dtype=object)
        zones = self._zones_of(arr)
        for zone in pd.unique(zones[pd.notna(zones)]):
            sel = zones == zone
            keys = self._keys(str(zone), arr[sel])
            out[sel] = self.units(str(zone)).reindex(keys).to_numpy()
        return out

    def union(self, codes: Sequence[str], groups: Sequence[object]) -> pd.Series:
        """Union of units by group, computed on the simplified coverage, in EPSG:4326.

        Parameters
        ----------
        codes, groups
            Aligned sequences: unit ``codes[i]`` belongs to group ``groups[i]``. Units of
            several zones may be mixed; a group spanning zones gets a multipolygon.

        Returns
        -------
        pandas.Series
            One (multi)polygon per group, indexed by group.

        Examples
        --------
        >>> d = Display(ref, tolerance=100, decimals=5)
        >>> u = d.union(["13201", "13202", "06088"], ["a", "a", "b"])
        >>> u.index.tolist(), [g.geom_type for g in u]
        (['a', 'b'], ['Polygon', 'Polygon'])
        """
        arr = np.asarray(list(codes), dtype=object)
        grp = np.asarray(list(groups), dtype=object)
        zones = self._zones_of(arr)
        parts: list[pd.Series] = []
        for zone in pd.unique(zones[pd.notna(zones)]):
            sel = zones == zone
            zone = str(zone)
            pairs = pd.DataFrame({"g": grp[sel], "k": self._keys(zone, arr[sel])})
            # arrondissements standing on their city's polygon: the polygon counts once
            pairs = pairs.drop_duplicates()
            polys = self.projected(zone).reindex(pairs["k"].to_numpy()).to_numpy()
            unions = union_groups(polys, pairs["g"].to_numpy())
            if len(unions):
                geoms = to_wgs84(unions.to_numpy(), ZONE_CRS[zone], self.decimals)
                parts.append(pd.Series(geoms, index=unions.index, dtype=object))
        if not parts:
            return pd.Series(dtype=object)
        both = pd.concat(parts)
        if not both.index.duplicated().any():
            return both
        return both.groupby(level=0, sort=False).agg(
            lambda s: shapely.multipolygons(shapely.get_parts(s.to_numpy())))

    def _per_unit(self, codes: Sequence[str], cache: dict[str, Any], build: Any) -> list[Any]:
        """Look ``codes`` up in a per-zone table built once by ``build(zone)``."""
        arr = np.asarray(list(codes), dtype=object)
        zones = self._zones_of(arr)
        parts = []
        for zone in pd.unique(zones[pd.notna(zones)]):
            zone = str(zone)
            if zone not in cache:
                cache[zone] = build(zone)
            sel = np.flatnonzero(zones == zone)
            parts.append((sel, cache[zone].reindex(self._keys(zone, arr[sel]))))
        return parts

    def unit_info(self, codes: Sequence[str]) -> pd.DataFrame:
        """Bounds and a point inside each unit, EPSG:4326, 4 decimals (NaN where missing).

        Returns
        -------
        pandas.DataFrame
            ``minx``, ``miny``, ``maxx``, ``maxy``, ``px``, ``py``, one row per code of
            ``codes`` in order.

        Examples
        --------
        >>> Display(ref, tolerance=100, decimals=5).unit_info(["06088"])  # Nice
             minx     miny    maxx     maxy      px       py
        0  7.1828  43.6459  7.3233  43.7609  7.2436  43.7048
        """
        def build(zone: str) -> pd.DataFrame:
            return self._zone_info(zone)

        out = pd.DataFrame(np.nan, index=range(len(list(codes))),
                           columns=["minx", "miny", "maxx", "maxy", "px", "py"])
        for sel, found in self._per_unit(codes, self._info, build):
            out.iloc[sel] = found.to_numpy()
        return out

    def _zone_info(self, zone: str) -> pd.DataFrame:
        """The table of :meth:`unit_info` for every unit of ``zone``, kept on disk."""
        from ..reference.geometry import read_arrays, save_arrays

        columns = ["minx", "miny", "maxx", "maxy", "px", "py"]
        index = self._index(zone)
        path = self._derived_path(zone, "info-i1")
        found = read_arrays(path)
        if found is not None and "values" in found and "codes" in found and pd.Index(
                found["codes"].astype(object)).equals(index):
            return pd.DataFrame(found["values"], index=index, columns=columns)
        arr = self.units(zone).to_numpy()
        bounds = shapely.bounds(arr)
        points = shapely.get_coordinates(shapely.point_on_surface(arr))
        frame = pd.DataFrame(np.column_stack([bounds, points]), index=index,
                             columns=columns).round(4)
        save_arrays(path, {"values": frame.to_numpy(dtype=float),
                           "codes": np.asarray(index, dtype=str)})
        return frame

    def unit_geojson(self, codes: Sequence[str]) -> list[str | None]:
        """GeoJSON geometry text of each unit (``None`` where missing), computed once per zone.

        Examples
        --------
        >>> d = Display(ref, tolerance=100, decimals=5)
        >>> nice, unknown = d.unit_geojson(["06088", "99999"])
        >>> nice[:36], unknown
        ('{"type":"Polygon","coordinates":[[[7', None)
        """
        def build(zone: str) -> pd.Series:
            geoms = self.units(zone)
            return pd.Series(geojson(geoms.to_numpy()), index=geoms.index, dtype=object)

        out: list[str | None] = [None] * len(list(codes))
        for sel, found in self._per_unit(codes, self._geojson, build):
            for i, text in zip(sel, found.tolist(), strict=True):
                out[int(i)] = text if isinstance(text, str) else None
        return out

    def unit_texts(self, codes: Sequence[str]) -> list[str]:
        """JSON text of each unit's encoded geometry (``null`` where missing).

        The text of :func:`~cpts_geo.atlas.codec.encode_geometries` for the unit, as
        :func:`~cpts_geo.atlas.assets.script_json` writes it: a list of these texts joined by
        commas is the JSON of the list. Encoded once per data version and zone, and kept on
        disk beside :meth:`units`.

        Examples
        --------
        >>> from cpts_geo.atlas.assets import script_json
        >>> from cpts_geo.atlas.codec import encode_geometries
        >>> d = Display(ref, tolerance=100, decimals=5)
        >>> nice, unknown = d.unit_texts(["06088", "99999"])
        >>> nice == script_json(encode_geometries(d.unit_geometry(["06088"]), 5)[0]), unknown
        (True, 'null')
        """
        def build(zone: str) -> pd.Series:
            return pd.Series(self._zone_texts(zone), index=self._index(zone), dtype=object)

        out = ["null"] * len(list(codes))
        for sel, found in self._per_unit(codes, self._texts, build):
            for i, text in zip(sel, found.tolist(), strict=True):
                out[int(i)] = text if isinstance(text, str) else "null"
        return out

    def _zone_texts(self, zone: str) -> list[str]:
        from ..reference.geometry import read_texts, save_texts
        from .assets import script_json
        from .codec import encode_geometries

        index = self._index(zone)
        path = self._derived_path(zone, "texts-x2")
        found = read_texts(path)
        if found is not None and pd.Index(found[0], dtype=object).equals(index):
            return found[1]
        geoms = self.units(zone)
        texts = [script_json(g) for g in encode_geometries(geoms.to_numpy(), self.decimals)]
        save_texts(path, [str(c) for c in index], texts)
        return texts

    def outlines(self, level: str) -> pd.Series:
        """Outline of every département or région (``level``), as :meth:`union` gives it.

        The union of all the units of France by ``level`` (``departement`` or ``region``),
        computed once per data version and kept on disk: the context layer of every page.

        Examples
        --------
        >>> d = Display(ref, tolerance=100, decimals=5)
        >>> o = d.outlines("departement")
        >>> len(o), o.index[0], o["06"].equals(d.union(
        ...     list(ref.finest.index[ref.finest["departement"] == "06"]), ["06"] * 163)["06"])
        (101, '01', True)
        """
        if level not in self._outlines:
            from ..reference.geometry import read_geometries, save_geometries

            path = self._derived_path("france", f"outlines-{level}-o1")
            found = read_geometries(path)
            if found is not None:
                series = pd.Series(found[1], index=pd.Index(found[0], dtype=object),
                                   dtype=object)
            else:
                finest = self.reference.finest
                series = self.union(list(finest.index), finest[level].tolist())
                save_geometries(path, series.index, series.to_numpy())
            self._outlines[level] = series
        return self._outlines[level]
