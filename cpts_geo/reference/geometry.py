"""Read the unit polygons once, clean them as a coverage, and cache the result on disk.

Commune polygons simplified for display leave small gaps and overlaps along shared edges, and the
arrondissements municipaux were simplified apart from their city. Both are fixed here, once:
arrondissements are fitted to their city's outline, then each zone is cleaned as a coverage
(shapely ``coverage_clean``), so that any union of units is free of slivers and pinholes and
``coverage_union`` can be used. The cleaned layer is written to the cache directory
(``CPTS_GEO_CACHE``, else ``~/.cache/cpts_geo``) keyed by the SHA-256 of the input files, and
read back in a fraction of a second on later runs.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import shapely

from ..errors import CptsGeoError
from .codes import ARRONDISSEMENTS
from .store import (
    CACHE_FORMAT,
    ZonePolygons,
    cache_directory,
    pack_geometries,
    prune_cache,
    read_arrays,
    read_geometries,
    read_texts,
    read_zone_polygons,
    remembered_digest,
    save_arrays,
    save_geometries,
    save_texts,
    touch_entry,
    unpack_geometries,
    zone_polygons_path,
)
from .zones import GAP_WIDTH_M, ZONE_CRS

if TYPE_CHECKING:
    import geopandas as gpd

    from .units import Reference

__all__ = [
    "CACHE_FORMAT",
    "ZonePolygons",
    "cache_directory",
    "cached_arrays",
    "input_checksum",
    "load_zone_geometry",
    "pack_geometries",
    "prune_cache",
    "read_arrays",
    "read_geometries",
    "read_texts",
    "save_arrays",
    "save_geometries",
    "save_texts",
    "touch_entry",
    "unpack_geometries",
    "zone_polygons",
]

_CODE_COLUMNS = ("code_commune", "code", "insee_com", "code_insee", "insee", "codgeo")
_ZONE_LAYER = re.compile(r"^(metro|dom(97[1-6]))_")


def zone_polygons(ref: Reference, zone: str) -> ZonePolygons:
    """The cleaned polygons of ``zone``, from the cache when there (decoded on demand).

    Examples
    --------
    >>> len(zone_polygons(ref, "974")), zone_polygons(ref, "974").crs
    (24, 'EPSG:2975')
    """
    checksum = input_checksum(ref)
    found = read_zone_polygons(checksum, zone)
    if found is not None:
        found.index = pd.Index(found.index.astype(object), name="code")
        return found
    path = zone_polygons_path(checksum, zone)  # missing or unreadable: rebuilt
    series = _build_zone(ref, zone)
    geoms = np.asarray(series.array, dtype=object)
    save_geometries(path, series.index, geoms)
    return ZonePolygons(series.index, ZONE_CRS[zone], geoms=geoms)


def load_zone_geometry(ref: Reference, zone: str) -> gpd.GeoSeries:
    """Cleaned polygons of the finest units of ``zone`` in the zone's CRS, indexed by code.

    Parameters
    ----------
    ref
        The loaded reference data.
    zone
        ``metro`` or ``971`` ... ``976``.

    Returns
    -------
    geopandas.GeoSeries
        One (multi)polygon per finest unit that has a polygon. When arrondissement polygons
        are missing, the three cities appear under their commune code instead.

    Examples
    --------
    >>> geoms = load_zone_geometry(ref, "974")  # La Réunion
    >>> len(geoms), geoms.crs.to_epsg(), geoms.index[0][:3]
    (24, 2975, '974')
    """
    import geopandas as gpd

    polys = ref.polygons(zone)
    return gpd.GeoSeries(polys.all(), index=polys.index, crs=ZONE_CRS[zone])


def cached_arrays(ref: Reference, name: str,
                  build: Callable[[], dict[str, np.ndarray]]) -> dict[str, np.ndarray]:
    """Arrays derived from the unit polygons, computed once per data version and kept on disk.

    The file is keyed by the input files' checksum (:func:`input_checksum`) and ``name``
    (which should carry the zone and a format version); a missing or unreadable file is
    rebuilt with ``build`` and written atomically (a cache that cannot be written only costs
    time). Numeric arrays only: no pickle.

    Examples
    --------
    >>> import os
    >>> saved = os.environ.get("CPTS_GEO_CACHE")
    >>> os.environ["CPTS_GEO_CACHE"] = str(tmp)
    >>> calls = []
    >>> def build():
    ...     calls.append(1)
    ...     return {"x": np.arange(3)}
    >>> cached_arrays(ref, "example-a1", build)["x"].tolist(), cached_arrays(
    ...     ref, "example-a1", build)["x"].tolist(), len(calls)
    ([0, 1, 2], [0, 1, 2], 1)
    >>> if saved is None:
    ...     del os.environ["CPTS_GEO_CACHE"]
    ... else:
    ...     os.environ["CPTS_GEO_CACHE"] = saved
    """
    path = cache_directory() / f"{name}-{CACHE_FORMAT}-{input_checksum(ref)[:20]}.npz"
    found = read_arrays(path)
    if found is not None:
        return found
    arrays = build()
    save_arrays(path, arrays)
    return arrays


def input_checksum(ref: Reference) -> str:
    """``ref.checksum()``, hashed once per loaded reference and remembered across processes.

    Later processes do not re-hash the input files while they are unchanged (same size, mtime,
    ctime and inode): the digest is remembered in ``checksums.json`` in the cache directory.

    Examples
    --------
    >>> input_checksum(ref) == ref.checksum()
    True
    """
    memo = ref.memo
    if "__checksum__" not in memo:
        memo["__checksum__"] = _remembered_checksum(ref)  # type: ignore[assignment]
    return memo["__checksum__"]  # type: ignore[return-value]


def _remembered_checksum(ref: Reference) -> str:
    digest = remembered_digest([ref.commune_layer_path, ref.arrondissement_layer_path],
                               ref.checksum)
    assert digest is not None  # computed when not remembered
    return digest


def _code_column(columns: list[str], path: Path) -> str:
    for name in _CODE_COLUMNS:
        if name in columns:
            return name
    raise CptsGeoError(f"{path}: no commune code column; expected one of {list(_CODE_COLUMNS)}")


def _read_communes(ref: Reference, zone: str) -> gpd.GeoDataFrame:
    import geopandas as gpd
    import pyogrio

    path = ref.commune_layer_path
    if path is None:
        raise CptsGeoError(
            f"{ref.root}: no commune polygons (communes/communes-YYYY.gpkg); maps and areas "
            "need them. Build the reference data with `cpts-geo fetch`."
        )
    layers = [str(name) for name, _ in pyogrio.list_layers(path)]
    wanted = "metro" if zone == "metro" else f"dom{zone}"
    zone_layers = [n for n in layers if (m := _ZONE_LAYER.match(n)) and m.group(1) == wanted]
    if zone_layers:
        frame = pyogrio.read_dataframe(path, layer=zone_layers[0])
    else:
        candidates = [n for n in layers if "wgs84" in n] or layers
        frame = pyogrio.read_dataframe(path, layer=candidates[0])
        if frame.crs is None:
            raise CptsGeoError(f"{path}: layer {candidates[0]!r} has no CRS")
    col = _code_column(list(frame.columns), path)
    codes = frame[col].astype(str).map(lambda c: ref.crosswalk.get(c, c))
    frame = gpd.GeoDataFrame({"code": codes.to_numpy()}, geometry=frame.geometry.to_numpy(),
                             crs=frame.crs)
    units = ref.units
    in_zone = units.index[(units["zone"] == zone) & (units["type"] == "commune")]
    frame = frame[frame["code"].isin(in_zone)]
    if frame.crs is None:
        raise CptsGeoError(f"{path}: commune layer has no CRS")
    frame = frame.to_crs(ZONE_CRS[zone])
    if frame["code"].duplicated().any():  # merged communes still drawn apart
        frame = frame.dissolve("code", as_index=False)
    return frame


def _fit_arrondissements(city: shapely.Geometry, arrs: np.ndarray) -> np.ndarray:
    """Clip ``arrs`` to ``city`` and give each leftover piece of the city to a neighbour."""
    arrs = shapely.make_valid(shapely.intersection(arrs, city))
    # remove any overlap between arrondissements: earlier ones win
    taken = shapely.Polygon()
    for i in range(len(arrs)):
        arrs[i] = shapely.difference(arrs[i], taken)
        taken = shapely.union(taken, arrs[i])
    rest = shapely.difference(city, taken)
    for part in shapely.get_parts(rest):
        if part.is_empty or part.area == 0:
            continue
        shared = shapely.length(shapely.intersection(part.boundary, arrs))
        i = int(np.argmax(shared)) if shared.max() > 0 else int(np.argmin(
            shapely.distance(part, arrs)))
        arrs[i] = shapely.union(arrs[i], part)
    return np.asarray([shapely.make_valid(a) for a in arrs], dtype=object)


def _build_zone(ref: Reference, zone: str) -> gpd.GeoSeries:
    import geopandas as gpd
    import pyogrio

    frame = _read_communes(ref, zone)
    codes = list(frame["code"])
    geoms = np.asarray(frame.geometry.array, dtype=object)
    arr_path = ref.arrondissement_layer_path
    cities = [c for c in ARRONDISSEMENTS if c in set(codes)]
    if cities and arr_path is not None:
        arr_frame = pyogrio.read_dataframe(arr_path).to_crs(ZONE_CRS[zone])
        col = _code_column(list(arr_frame.columns), arr_path)
        arr_frame[col] = arr_frame[col].astype(str)
        for city in cities:
            wanted = [a for a in ARRONDISSEMENTS[city] if a in ref.units.index]
            sub = arr_frame.set_index(col).reindex(wanted)
            if sub.geometry.isna().any():
                continue  # incomplete: keep the city whole
            pos = codes.index(city)
            fitted = _fit_arrondissements(geoms[pos], np.asarray(sub.geometry.array))
            del codes[pos]
            geoms = np.delete(geoms, pos)
            codes.extend(wanted)
            geoms = np.concatenate([geoms, fitted])
    geoms = shapely.make_valid(shapely.set_precision(geoms, 0.01))
    geoms = np.asarray([_polygonal(g) for g in geoms], dtype=object)
    cleaned = shapely.coverage_clean(geoms, gap_width=GAP_WIDTH_M)
    empty = shapely.is_empty(cleaned)
    cleaned[empty] = geoms[empty]  # never lose a unit, even a sliver of one
    return gpd.GeoSeries(cleaned, index=pd.Index(codes, name="code", dtype=object),
                         crs=ZONE_CRS[zone])


def _polygonal(geom: shapely.Geometry) -> shapely.Geometry:
    """Keep the polygonal part of ``geom`` (make_valid may return collections)."""
    if geom.geom_type in ("Polygon", "MultiPolygon"):
        return geom
    parts = [p for p in shapely.get_parts(geom) if p.geom_type in ("Polygon", "MultiPolygon")]
    return shapely.union_all(parts) if parts else shapely.Polygon()
