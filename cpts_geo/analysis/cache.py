"""Analyses kept on disk: a second command on the same registry does not analyse it again.

``cpts-geo coverage``, ``atlas`` and ``propose`` analyse the same registry in turn; each would
dissolve its territories, find its conflicts and zones blanches and compute its coverage
again. An analysis is therefore stored in the cache directory
(:func:`cpts_geo.reference.geometry.cache_directory`) as plain arrays (``numpy.savez``, no
pickle: lists as JSON text, polygons packed as the geometry cache packs them), keyed by what it
is a function of: the registry's claims (a digest of every column), the reference data (tables
and polygons), the scope asked for and the tool's own code
(:func:`cpts_geo.version.code_fingerprint`). Any change to one of them analyses again; a cache
that cannot be written or read only costs time.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from ..reference.geometry import (
    cache_directory,
    input_checksum,
    pack_geometries,
    prune_cache,
    read_arrays,
    save_arrays,
    touch_entry,
    unpack_geometries,
)
from ..reference.zones import ZONE_CRS

if TYPE_CHECKING:
    from ..reference import Reference
    from ..registry import Registry
    from .model import Analysis

__all__ = ["KEEP_ANALYSES", "analysis_key", "load_analysis", "store_analysis"]

#: Analyses kept in the cache (the most recently used; each with what is derived from it).
KEEP_ANALYSES = 32

_FORMAT = "n1"
_FRAMES = ("members", "table", "conflits", "conflict_units", "partages", "zones_blanches",
           "cov_france", "cov_region", "cov_departement")


def analysis_key(registry: Registry, reference: Reference, *, region: str | None,
                 france: bool, geometry: bool) -> str:
    """The cache key of an analysis of ``registry`` with these options.

    Examples
    --------
    >>> k = analysis_key(reg, ref, region="93", france=False, geometry=True)
    >>> len(k), k == analysis_key(reg, ref, region=None, france=False, geometry=True)
    (40, False)
    """
    from ..version import code_fingerprint

    claims = registry.claims
    digest = hashlib.sha256()
    for part in (_FORMAT, code_fingerprint(), reference.tables_checksum,
                 input_checksum(reference) if geometry else "-", repr(region), repr(france),
                 repr(geometry), registry.source, json.dumps(list(registry.unclaimed)),
                 repr(registry.regions),
                 json.dumps([str(c) for c in claims.columns])):
        digest.update(part.encode("utf-8", "surrogatepass") + b"\0")
    hashed = pd.util.hash_pandas_object(claims.astype(str), index=False)
    digest.update(hashed.to_numpy().tobytes())
    return digest.hexdigest()[:40]


def _path(key: str) -> Path:
    return cache_directory() / "analyses" / f"{key}.npz"


def _dtype_name(series: pd.Series) -> str:
    return str(series.dtype)


def _pack_frame(name: str, frame: pd.DataFrame, arrays: dict[str, np.ndarray],
                meta: dict[str, Any]) -> None:
    """Add ``frame`` to ``arrays`` (one array per column and the index) and describe it."""
    columns = []
    for i, col in enumerate(frame.columns):
        series = frame[col]
        key = f"{name}__{i}"
        values = series.to_numpy(dtype=object) if series.dtype == object else series.to_numpy()
        kind = _dtype_name(series)
        if series.dtype == object and any(isinstance(v, (list, tuple)) for v in values):
            arrays[key] = np.asarray([json.dumps(list(v), ensure_ascii=False)
                                      for v in values], dtype=str)
            kind = "list"
        elif series.dtype.kind in "biuf" and kind not in ("Int64", "boolean"):
            arrays[key] = np.asarray(values)
        else:  # text, possibly missing: text and a mask
            missing = pd.isna(series).to_numpy()
            arrays[key] = np.asarray(["" if m else str(v) for v, m in zip(values, missing,
                                                                          strict=True)],
                                     dtype=str)
            arrays[f"{key}__na"] = missing
        columns.append([str(col), kind])
    index = frame.index
    if index.dtype.kind in "iuf":
        arrays[f"{name}__index"] = index.to_numpy()
    else:
        arrays[f"{name}__index"] = np.asarray([str(v) for v in index], dtype=str)
    rng = ([index.start, index.step] if isinstance(index, pd.RangeIndex) else None)
    meta[name] = {"columns": columns, "index": str(index.dtype), "index_name": index.name,
                  "range": rng}


def _unpack_frame(name: str, arrays: Any, meta: dict[str, Any]) -> pd.DataFrame:
    desc = meta[name]
    data = {}
    for i, (col, kind) in enumerate(desc["columns"]):
        key = f"{name}__{i}"
        values = arrays[key]
        if kind == "list":
            out = np.empty(len(values), dtype=object)
            out[:] = [json.loads(v) for v in values.tolist()]
            data[col] = pd.Series(out, dtype=object)
        elif f"{key}__na" in arrays:
            text = values.astype(object)
            text[arrays[f"{key}__na"]] = None
            series = pd.Series(text, dtype=object)
            data[col] = series.astype(kind) if kind not in ("object",) else series
        else:
            data[col] = pd.Series(values, dtype=kind)
    frame = pd.DataFrame(data, columns=[c for c, _ in desc["columns"]])
    if desc["range"] is not None:
        start, step = desc["range"]
        frame.index = pd.RangeIndex(start, start + step * len(frame), step,
                                    name=desc["index_name"])
    elif arrays[f"{name}__index"].dtype.kind in "iuf":
        frame.index = pd.Index(arrays[f"{name}__index"], name=desc["index_name"])
    else:
        index = arrays[f"{name}__index"].astype(object)
        frame.index = pd.Index(index, name=desc["index_name"], dtype=desc["index"]
                               if desc["index"] != "object" else object)
    return frame


def store_analysis(key: str, analysis: Analysis) -> None:
    """Write ``analysis`` under ``key``, atomically; never raises on I/O.

    Examples
    --------
    >>> import os
    >>> saved = os.environ.get("CPTS_GEO_CACHE")
    >>> os.environ["CPTS_GEO_CACHE"] = str(tmp)
    >>> store_analysis("a" * 40, analysis)
    >>> back = load_analysis("a" * 40, reg, ref)
    >>> back.zones_blanches.equals(analysis.zones_blanches), back.perimeter
    (True, ('93',))
    >>> if saved is None:
    ...     del os.environ["CPTS_GEO_CACHE"]
    ... else:
    ...     os.environ["CPTS_GEO_CACHE"] = saved
    """
    arrays: dict[str, np.ndarray] = {}
    meta: dict[str, Any] = {"region": analysis.region,
                            "perimeter": None if analysis.perimeter is None
                            else list(analysis.perimeter), "zones": []}
    frames = {"members": analysis.members, "table": analysis.territories.table,
              "conflits": analysis.conflits, "conflict_units": analysis.conflict_units,
              "partages": analysis.partages, "zones_blanches": analysis.zones_blanches,
              **{f"cov_{k}": v for k, v in analysis.couverture.items()}}
    for name, frame in frames.items():
        _pack_frame(name, frame, arrays, meta)
    for zone, series in analysis.territories.geometry.items():
        meta["zones"].append(zone)
        arrays[f"geom_{zone}__index"] = np.asarray([str(v) for v in series.index], dtype=str)
        for k, v in pack_geometries(np.asarray(series.array, dtype=object)).items():
            arrays[f"geom_{zone}__{k}"] = v
    arrays["meta"] = np.asarray(json.dumps(meta, ensure_ascii=False))
    path = _path(key)
    try:
        written = save_arrays(path, arrays)
    except (TypeError, ValueError):  # a column numpy cannot store: not cached
        return
    if written:
        prune_cache(path.parent, KEEP_ANALYSES)


def load_analysis(key: str, registry: Registry, reference: Reference) -> Analysis | None:
    """The analysis stored under ``key``, or ``None`` (missing or unreadable).

    Examples
    --------
    >>> load_analysis("0" * 40, reg, ref) is None
    True
    """
    from .model import Analysis
    from .territories import Territories

    path = _path(key)
    arrays = read_arrays(path)
    if arrays is None:
        return None
    try:
        meta = json.loads(str(arrays["meta"]))
        frames = {name: _unpack_frame(name, arrays, meta) for name in _FRAMES}
        geometry = {}
        if meta["zones"]:
            import geopandas as gpd

            for zone in meta["zones"]:
                prefix = f"geom_{zone}__"
                packed = {k[len(prefix):]: v for k, v in arrays.items()
                          if k.startswith(prefix) and k != f"{prefix}index"}
                index = pd.Index(arrays[f"{prefix}index"].astype(object), name="cpts_id",
                                 dtype=object)
                geometry[zone] = gpd.GeoSeries(unpack_geometries(packed), index=index,
                                               crs=ZONE_CRS[zone])
    except (OSError, ValueError, KeyError, TypeError, json.JSONDecodeError):
        return None
    touch_entry(path)  # recently used: kept when the cache is pruned
    perimeter = None if meta["perimeter"] is None else tuple(meta["perimeter"])
    return Analysis(reference, registry, meta["region"], frames["members"],
                    Territories(frames["table"], geometry), frames["conflits"],
                    frames["conflict_units"], frames["partages"], frames["zones_blanches"],
                    {"france": frames["cov_france"], "region": frames["cov_region"],
                     "departement": frames["cov_departement"]}, perimeter)
