"""The cache directory and what is kept in it, readable without pandas.

Plain arrays (``numpy.savez``, no pickle) written atomically, the keyed entries pruned to the
most recently used, and the cleaned unit polygons as ragged coordinate arrays decoded on demand
(:class:`ZonePolygons`). ``cpts-geo check`` reads its inputs from here without importing pandas
(see :mod:`cpts_geo.analysis.check_fast`); :mod:`~cpts_geo.reference.geometry` builds the
polygons and re-exports these names.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import os
import re
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import shapely

from ..atomic import atomic_write

__all__ = [
    "CACHE_FORMAT",
    "ZonePolygons",
    "cache_directory",
    "layer_stamp",
    "pack_geometries",
    "prune_cache",
    "read_arrays",
    "read_geometries",
    "read_texts",
    "read_zone_polygons",
    "remembered_digest",
    "save_arrays",
    "save_geometries",
    "save_texts",
    "touch_entry",
    "unpack_geometries",
    "zone_polygons_path",
]

#: Version of the cleaned-geometry cache files (v2: ragged coordinate arrays; v1: WKB only).
CACHE_FORMAT = "v2"


def cache_directory() -> Path:
    """Where cleaned geometry is cached: ``CPTS_GEO_CACHE`` or ``~/.cache/cpts_geo``.

    Examples
    --------
    >>> saved = os.environ.pop("CPTS_GEO_CACHE", None)
    >>> os.environ["CPTS_GEO_CACHE"] = "/srv/cache-cpts"
    >>> cache_directory()
    PosixPath('/srv/cache-cpts')
    >>> del os.environ["CPTS_GEO_CACHE"]
    >>> cache_directory().name
    'cpts_geo'
    >>> if saved is not None:
    ...     os.environ["CPTS_GEO_CACHE"] = saved
    """
    env = os.environ.get("CPTS_GEO_CACHE")
    if env:
        return Path(env)
    base = os.environ.get("XDG_CACHE_HOME") or (Path.home() / ".cache")
    return Path(base) / "cpts_geo"


def prune_cache(directory: Path, keep: int, *, prefix: str = "") -> list[Path]:
    """Delete all but the ``keep`` most recently used entries of a keyed cache directory.

    An entry is every file whose name, after ``prefix``, starts with the same key (the part
    before the first ``-`` or ``.``): an analysis and what is derived from it go together.
    Files whose name does not start with ``prefix`` are left alone. "Used" is the newest
    modification time of its files (:func:`touch_entry` refreshes it on a read). Never raises:
    a file that cannot be deleted is left.

    Returns
    -------
    list of Path
        The files deleted.

    Examples
    --------
    >>> d = tmp / "pruned"
    >>> d.mkdir()
    >>> for i, key in enumerate(["a" * 40, "b" * 40, "c" * 40]):
    ...     for suffix in (".npz", "-extra.npz"):
    ...         _ = (d / f"{key}{suffix}").write_bytes(b"x")
    ...         os.utime(d / f"{key}{suffix}", (1000 + i, 1000 + i))
    >>> len(prune_cache(d, 2)), sorted(p.name[:1] for p in d.iterdir())
    (2, ['b', 'b', 'c', 'c'])
    """
    try:
        files = [p for p in directory.iterdir() if p.is_file()]
    except OSError:
        return []
    entries: dict[str, list[tuple[float, Path]]] = {}
    for path in files:
        if not path.name.startswith(prefix):
            continue
        key = re.split(r"[-.]", path.name[len(prefix):], maxsplit=1)[0]
        try:
            entries.setdefault(key, []).append((path.stat().st_mtime, path))
        except OSError:
            continue
    if len(entries) <= keep:
        return []
    newest = sorted(entries, key=lambda k: max(t for t, _ in entries[k]), reverse=True)
    removed = []
    for key in newest[keep:]:
        for _, path in entries[key]:
            try:
                path.unlink()
                removed.append(path)
            except OSError:
                pass
    return removed


def touch_entry(path: Path) -> None:
    """Mark a cache file as just used (its modification time), for :func:`prune_cache`."""
    with contextlib.suppress(OSError):
        os.utime(path)


def _ranges(starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
    """The concatenated ``arange(starts[i], ends[i])``."""
    lengths = ends - starts
    total = int(lengths.sum())
    return np.repeat(starts - np.cumsum(lengths) + lengths, lengths) + np.arange(total)


class ZonePolygons:
    """The cleaned polygons of a zone, decoded on demand: all of them, or the few asked for.

    A project check touches a few hundred units of the 35,000 of the mainland: decoding only
    those (and reading every unit's extent from the stored coordinates) saves the tenth of a
    second decoding them all costs. Built by :func:`zone_polygons`.

    Attributes
    ----------
    index
        Unit codes, in the order of the polygons (the index of :meth:`Reference.geometry`).
    crs
        The zone's projected CRS.

    Examples
    --------
    >>> from cpts_geo.reference.geometry import zone_polygons
    >>> polys = zone_polygons(ref, "974")
    >>> "97411" in polys.index, polys.take(np.array([0, -1]))[1] is None
    (True, True)
    >>> bool(np.allclose(polys.bounds[0], shapely.bounds(polys.all()[0])))
    True
    """

    def __init__(self, index: Any, crs: str, *, arrays: dict[str, np.ndarray] | None = None,
                 geoms: np.ndarray | None = None) -> None:
        self.index = index
        self.crs = crs
        self._arrays = arrays
        self._all = geoms

    def __len__(self) -> int:
        return len(self.index)

    def all(self) -> np.ndarray:
        """Every polygon, in index order (decoded once)."""
        if self._all is None:
            assert self._arrays is not None
            self._all = unpack_geometries(self._arrays)
        return self._all

    def take(self, positions: np.ndarray) -> np.ndarray:
        """The polygons at ``positions`` (``None`` where a position is ``-1``)."""
        pos = np.asarray(positions, dtype=np.int64)
        out = np.full(len(pos), None, dtype=object)
        ok = pos >= 0
        if self._all is not None or self._arrays is None:
            out[ok] = self.all()[pos[ok]]
            return out
        a = self._arrays
        for name, kind in _RAGGED.items():
            where = a[f"{name}_pos"]
            if not len(where):
                continue
            j = np.searchsorted(where, pos)
            hit = ok & (j < len(where))
            hit[hit] = where[j[hit]] == pos[hit]
            if not hit.any():
                continue
            out[hit] = self._ragged(name, kind, j[hit])
        rest = a["wkb_pos"]
        if len(rest):
            j = np.searchsorted(rest, pos)
            hit = ok & (j < len(rest))
            hit[hit] = rest[j[hit]] == pos[hit]
            if hit.any():
                buf, offsets = a["wkb"].tobytes(), a["offsets"]
                out[hit] = shapely.from_wkb([buf[offsets[k]:offsets[k + 1]] for k in j[hit]])
        return out

    def _ragged(self, name: str, kind: shapely.GeometryType, j: np.ndarray) -> np.ndarray:
        """Decode geometries ``j`` of the ragged block ``name`` only."""
        a = self._arrays
        assert a is not None
        off0 = a[f"{name}_off0"]  # ring -> coordinates
        off1 = a[f"{name}_off1"]  # polygon -> rings
        if kind == shapely.GeometryType.MULTIPOLYGON:
            off2 = a[f"{name}_off2"]  # multipolygon -> polygons
            polys = _ranges(off2[j], off2[j + 1])
            new2 = np.concatenate([[0], np.cumsum(off2[j + 1] - off2[j])])
        else:
            polys = j
        rings = _ranges(off1[polys], off1[polys + 1])
        new1 = np.concatenate([[0], np.cumsum(off1[polys + 1] - off1[polys])])
        coords = a[f"{name}_coords"][_ranges(off0[rings], off0[rings + 1])]
        new0 = np.concatenate([[0], np.cumsum(off0[rings + 1] - off0[rings])])
        offsets = (new0, new1, new2) if kind == shapely.GeometryType.MULTIPOLYGON else (
            new0, new1)
        return shapely.from_ragged_array(kind, coords, offsets)

    @property
    def bounds(self) -> np.ndarray:
        """``(minx, miny, maxx, maxy)`` of every polygon (NaN where none), from the coordinates."""
        if getattr(self, "_bounds", None) is None:
            if self._arrays is None:
                self._bounds = shapely.bounds(self.all())
            else:
                self._bounds = self._stored_bounds()
        return self._bounds

    def _stored_bounds(self) -> np.ndarray:
        a = self._arrays
        assert a is not None
        out = np.full((len(self.index), 4), np.nan)
        for name, kind in _RAGGED.items():
            where = a[f"{name}_pos"]
            if not len(where):
                continue
            coords = a[f"{name}_coords"]
            off0, off1 = a[f"{name}_off0"], a[f"{name}_off1"]
            if kind == shapely.GeometryType.MULTIPOLYGON:
                off2 = a[f"{name}_off2"]
                start, end = off0[off1[off2[:-1]]], off0[off1[off2[1:]]]
            else:
                start, end = off0[off1[:-1]], off0[off1[1:]]
            keep = end > start
            s = start[keep]
            out[where[keep], 0] = np.minimum.reduceat(coords[:, 0], s)[: len(s)]
            out[where[keep], 1] = np.minimum.reduceat(coords[:, 1], s)[: len(s)]
            out[where[keep], 2] = np.maximum.reduceat(coords[:, 0], s)[: len(s)]
            out[where[keep], 3] = np.maximum.reduceat(coords[:, 1], s)[: len(s)]
        rest = a["wkb_pos"]
        if len(rest):
            out[rest] = shapely.bounds(self.take(rest))
        return out


def save_arrays(path: Path, arrays: Mapping[str, np.ndarray]) -> bool:
    """Write ``arrays`` at ``path`` (``numpy.savez``), atomically; never raises on I/O.

    Returns ``False`` when the file could not be written: a cache that cannot be written only
    costs time.

    Examples
    --------
    >>> save_arrays(tmp / "a.npz", {"x": np.arange(3)}), read_arrays(tmp / "a.npz")["x"].tolist()
    (True, [0, 1, 2])
    """
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with atomic_write(path) as fh:
            np.savez(fh, **arrays)
    except OSError:
        return False
    return True


def read_arrays(path: Path) -> dict[str, np.ndarray] | None:
    """The arrays written by :func:`save_arrays`; ``None`` if missing or unreadable (no pickle).

    Examples
    --------
    >>> read_arrays(tmp / "absent.npz") is None
    True
    """
    if not path.exists():
        return None
    try:
        with np.load(path, allow_pickle=False) as npz:
            return {k: npz[k] for k in npz.files}
    except (OSError, ValueError, KeyError):
        return None  # unreadable cache: the caller rebuilds it


def save_texts(path: Path, keys: Sequence[str], texts: Sequence[str]) -> bool:
    """Write ``texts`` (aligned on ``keys``) at ``path`` as one UTF-8 blob; never raises on I/O.

    Examples
    --------
    >>> save_texts(tmp / "t.npz", ["a", "b"], ['{"n":"Été"}', "[]"])
    True
    >>> read_texts(tmp / "t.npz")
    (['a', 'b'], ['{"n":"Été"}', '[]'])
    """
    encoded = [t.encode("utf-8") for t in texts]
    return save_arrays(path, {
        "blob": np.frombuffer(b"".join(encoded), dtype=np.uint8),
        "ends": np.cumsum([len(e) for e in encoded], dtype=np.int64),
        "keys": np.asarray(list(keys), dtype=str)})


def read_texts(path: Path) -> tuple[list[str], list[str]] | None:
    """The keys and texts written by :func:`save_texts`; ``None`` if missing or unreadable."""
    arrays = read_arrays(path)
    if arrays is None:
        return None
    try:
        blob, ends = arrays["blob"].tobytes(), arrays["ends"].tolist()
        keys = [str(k) for k in arrays["keys"].tolist()]
        texts = [blob[a:b].decode("utf-8") for a, b in zip([0, *ends[:-1]], ends, strict=True)]
    except (KeyError, ValueError, UnicodeDecodeError):
        return None
    return (keys, texts) if len(keys) == len(texts) else None


def read_geometries(path: Path) -> tuple[np.ndarray, np.ndarray] | None:
    """Codes and geometries cached by :func:`save_geometries`; ``None`` if missing or unreadable.

    Examples
    --------
    >>> read_geometries(tmp / "absent.npz") is None
    True
    """
    if not path.exists():
        return None
    try:
        with np.load(path, allow_pickle=False) as npz:
            codes = npz["codes"].astype(object)
            geoms = unpack_geometries(npz)
    except (OSError, ValueError, KeyError, shapely.errors.GEOSException):
        return None  # unreadable cache: the caller rebuilds it
    return codes, geoms


def save_geometries(path: Path, codes: Any, geoms: np.ndarray) -> None:
    """Cache ``geoms`` (aligned on ``codes``) at ``path``, atomically; never raises on I/O.

    Examples
    --------
    >>> save_geometries(tmp / "g.npz", ["a"], np.asarray([shapely.box(0, 0, 1, 1)]))
    >>> codes, geoms = read_geometries(tmp / "g.npz"); list(codes), geoms[0].area
    (['a'], 1.0)
    """
    save_arrays(path, {"codes": np.asarray(codes, dtype=str),
                       **pack_geometries(np.asarray(geoms, dtype=object))})


#: Geometry types stored as ragged coordinate arrays (decoded ~1.5x faster than WKB); anything
#: else (empty or other geometries) is stored as WKB.
_RAGGED = {"poly": shapely.GeometryType.POLYGON, "multi": shapely.GeometryType.MULTIPOLYGON}


def pack_geometries(geoms: np.ndarray) -> dict[str, np.ndarray]:
    """Arrays for ``np.savez`` holding ``geoms``, read back by :func:`unpack_geometries`.

    Per geometry type: the positions, coordinates and offsets of ``shapely.to_ragged_array``;
    WKB for the rest. Decoding gives the same coordinates.

    Examples
    --------
    >>> geoms = np.array([shapely.box(0, 0, 1, 1), None, shapely.Point(1, 2)], dtype=object)
    >>> back = unpack_geometries(pack_geometries(geoms))
    >>> [None if g is None else g.wkt for g in back]
    ['POLYGON ((1 0, 1 1, 0 1, 0 0, 1 0))', None, 'POINT (1 2)']
    """
    kinds = shapely.get_type_id(geoms)
    missing = shapely.is_missing(geoms)  # left None when read back
    rest = (shapely.is_empty(geoms) | ~np.isin(kinds, [int(t) for t in _RAGGED.values()])) & (
        ~missing)
    out: dict[str, np.ndarray] = {}
    for name, kind in _RAGGED.items():
        pos = np.flatnonzero((kinds == int(kind)) & ~rest)
        out[f"{name}_pos"] = pos
        if len(pos):
            _, coords, offsets = shapely.to_ragged_array(geoms[pos])
            out[f"{name}_coords"] = coords
            for i, off in enumerate(offsets):
                out[f"{name}_off{i}"] = off
    pos = np.flatnonzero(rest)
    wkb = shapely.to_wkb(geoms[pos]) if len(pos) else np.empty(0, dtype=object)
    lengths = np.fromiter((len(w) for w in wkb), dtype=np.int64, count=len(wkb))
    out["wkb_pos"] = pos
    out["wkb"] = np.frombuffer(b"".join(wkb), dtype=np.uint8)
    out["offsets"] = np.concatenate([[0], np.cumsum(lengths)])
    out["n"] = np.asarray(len(geoms))
    return out


def unpack_geometries(npz: Any) -> np.ndarray:
    """The geometries written by :func:`pack_geometries`, in their order.

    Examples
    --------
    >>> unpack_geometries(pack_geometries(np.array([shapely.box(0, 0, 2, 1)])))[0].area
    2.0
    """
    geoms = np.empty(int(npz["n"]), dtype=object)
    for name, kind in _RAGGED.items():
        pos = npz[f"{name}_pos"]
        if len(pos):
            n_off = 2 if kind == shapely.GeometryType.POLYGON else 3
            offsets = tuple(npz[f"{name}_off{i}"] for i in range(n_off))
            geoms[pos] = shapely.from_ragged_array(kind, npz[f"{name}_coords"], offsets)
    pos = npz["wkb_pos"]
    if len(pos):
        buf, offsets = npz["wkb"].tobytes(), npz["offsets"]
        geoms[pos] = shapely.from_wkb([buf[a:b] for a, b in itertools.pairwise(offsets)])
    return geoms


def zone_polygons_path(checksum: str, zone: str) -> Path:
    """The cache file of the cleaned polygons of ``zone`` for the inputs of ``checksum``.

    Examples
    --------
    >>> zone_polygons_path("ab" * 32, "974").name
    'units-v2-abababababababababab-974.npz'
    """
    return cache_directory() / f"units-{CACHE_FORMAT}-{checksum[:20]}-{zone}.npz"


def read_zone_polygons(checksum: str, zone: str) -> ZonePolygons | None:
    """The cached polygons of ``zone`` (see :func:`zone_polygons_path`), ``None`` if unreadable.

    Their ``index`` is the array of unit codes, in the order of the polygons.

    Examples
    --------
    >>> read_zone_polygons("0" * 64, "974") is None
    True
    """
    from .zones import ZONE_CRS

    arrays = read_arrays(zone_polygons_path(checksum, zone))
    if arrays is None or "codes" not in arrays:
        return None
    return ZonePolygons(arrays.pop("codes"), ZONE_CRS[zone], arrays=arrays)


def layer_stamp(paths: Sequence[Path | None]) -> str:
    """What identifies the polygon files ``paths`` without reading them: path, size and times.

    Raises ``OSError`` when one cannot be looked at.

    Examples
    --------
    >>> layer_stamp([None])
    '[null]'
    """
    stats: list[Any] = []
    for p in paths:
        st = os.stat(p) if p is not None else None
        stats.append(None if st is None else [str(Path(p).resolve()), st.st_size,
                                              st.st_mtime_ns, st.st_ctime_ns, st.st_ino])
    return json.dumps(stats)


def remembered_digest(paths: Sequence[Path | None],
                      compute: Callable[[], str] | None = None) -> str | None:
    """The SHA-256 of the polygon files ``paths``, remembered in ``checksums.json``.

    Later processes do not re-hash the files while they are unchanged (same size, mtime, ctime
    and inode). Without ``compute``, only a remembered digest is returned (``None`` when there
    is none); with it, a digest not remembered is computed and remembered.

    Examples
    --------
    >>> remembered_digest([tmp / "absent.gpkg"]) is None
    True
    """
    try:
        key = layer_stamp(paths)
    except OSError:
        return compute() if compute is not None else None
    index = cache_directory() / "checksums.json"
    try:
        table = json.loads(index.read_text(encoding="utf-8"))
        if not isinstance(table, dict):
            table = {}
    except (OSError, ValueError):
        table = {}
    digest = table.get(key)
    if isinstance(digest, str) and len(digest) == 64:
        return digest
    if compute is None:
        return None
    digest = compute()
    table = dict(list(table.items())[-15:])  # a few data directories, not an ever-growing file
    table[key] = digest
    try:
        index.parent.mkdir(parents=True, exist_ok=True)
        with atomic_write(index, "w") as fh:
            json.dump(table, fh)
    except OSError:
        pass
    return digest
