"""``cpts-geo check`` without pandas: the check's inputs read straight from the cache.

A check against a registry already checked once needs nothing that pandas gives: the finest
units (codes, names, population, région, zone, rook adjacency, polygon extents) are kept in
``checks/`` in the cache directory, the registry's membership beside its cached claims
(``registries/KEY-check.npz``), and the unit polygons in their cache files, decoded for the
project's neighbourhood only. :func:`quick_check` reads them and runs
:func:`~cpts_geo.analysis.check_core.run_check`, the code :func:`cpts_geo.analysis.check
.check_project` runs too; importing pandas alone costs more than the whole check.

When anything is missing or unusual (a registry never checked, a project file the lean reader
:func:`cpts_geo.registry.quick.read_project` does not take, a date, a sheet), :func:`quick_check`
returns ``None`` and the command takes the full path, which stores what the next run needs
(:func:`cpts_geo.analysis.check.remember`).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import CptsGeoError
from ..reference.store import (
    ZonePolygons,
    cache_directory,
    prune_cache,
    read_arrays,
    save_arrays,
    touch_entry,
)
from .check_core import ProjectCheck, ProjectInput, RegistryView, Units, run_check

__all__ = ["KEEP_UNITS", "UNIT_ARRAYS", "quick_check", "quick_inputs", "read_units", "read_view",
           "registry_key",
           "save_units",
           "save_view", "units_path", "view_path"]

#: Versions of the unit arrays kept in ``checks/`` (the most recently used).
KEEP_UNITS = 4
_FORMAT = "k1"
#: The arrays of :class:`~cpts_geo.analysis.check_core.Units` kept on disk.
UNIT_ARRAYS = ("codes", "names", "population", "region", "zone", "polygon", "bounds", "indptr",
                "indices")


def units_path(tables_checksum: str, geometry_checksum: str) -> Path:
    """The file of the check's unit arrays for these reference tables and polygons.

    Examples
    --------
    >>> units_path("a" * 64, "b" * 64).parent.name
    'checks'
    """
    from ..version import code_fingerprint

    digest = hashlib.sha256(f"{_FORMAT}\0{code_fingerprint()}\0{tables_checksum}\0"
                            f"{geometry_checksum}".encode()).hexdigest()[:40]
    return cache_directory() / "checks" / f"{digest}.npz"


def save_units(path: Path, arrays: dict[str, np.ndarray]) -> None:
    """Store the unit arrays at ``path`` (a cache that cannot be written only costs time)."""
    if save_arrays(path, arrays):
        prune_cache(path.parent, KEEP_UNITS)


def read_units(path: Path, zone_polygons: Callable[[str], Any], *,
               arrays: dict[str, np.ndarray] | None = None) -> Units | None:
    """The :class:`~cpts_geo.analysis.check_core.Units` stored at ``path`` (or of ``arrays``).

    ``None`` when the file is missing or unreadable.

    Examples
    --------
    >>> read_units(tmp / "absent.npz", lambda zone: None) is None
    True
    """
    if arrays is None:
        arrays = read_arrays(path)
        if arrays is None or any(k not in arrays for k in UNIT_ARRAYS):
            return None
        touch_entry(path)
    return Units(**{k: arrays[k] for k in UNIT_ARRAYS}, zone_polygons=zone_polygons)


def view_path(registry_key: str) -> Path:
    """The file of a registry's membership arrays, beside its cached claims.

    Examples
    --------
    >>> view_path("0" * 40).name
    '0000000000000000000000000000000000000000-check.npz'
    """
    return cache_directory() / "registries" / f"{registry_key}-check.npz"


def save_view(path: Path, view: RegistryView) -> None:
    """Store ``view`` at ``path``; pruned with the registry's own entry."""
    meta = {"perimeter": list(view.perimeter), "source": view.source,
            "warnings": list(view.warnings)}
    save_arrays(path, {"pos": view.pos, "cpts": view.cpts, "partage": view.partage,
                       "ids": view.ids, "names": view.names, "stages": view.stages,
                       "meta": np.asarray(json.dumps(meta, ensure_ascii=False))})


def read_view(path: Path) -> RegistryView | None:
    """The view stored at ``path``, or ``None`` (missing or unreadable).

    Examples
    --------
    >>> read_view(tmp / "absent.npz") is None
    True
    """
    a = read_arrays(path)
    if a is None:
        return None
    try:
        meta = json.loads(str(a["meta"]))
        view = RegistryView(a["pos"], a["cpts"], a["partage"].astype(bool), a["ids"],
                            a["names"], a["stages"], tuple(meta["perimeter"]),
                            str(meta["source"]), tuple(meta["warnings"]))
    except (KeyError, ValueError, TypeError):
        return None
    touch_entry(path)
    return view


def registry_key(path: Path, sheet: object, tables_checksum: str) -> str | None:
    """The registry cache key of the file at ``path`` (``None``: a format that is not cached).

    Raises ``OSError`` when the file cannot be read.

    Examples
    --------
    >>> from cpts_geo.registry import default_registry_path
    >>> len(registry_key(default_registry_path(), None, ref.tables_checksum))
    40
    """
    from ..registry.cache import key_for
    from ..registry.formats import sniff_format

    raw = path.read_bytes()
    if sniff_format(path, raw[:4096]) not in {"csv", "json", "xlsx"}:
        return None
    return key_for(raw, str(path), sheet, tables_checksum)


class _Unavailable(Exception):
    """A cache file the quick path needs is not there: take the full path."""


def _zone_polygons(geometry_checksum: str) -> Callable[[str], ZonePolygons]:
    from ..reference.store import read_zone_polygons

    loaded: dict[str, ZonePolygons] = {}

    def get(zone: str) -> ZonePolygons:
        if zone not in loaded:
            found = read_zone_polygons(geometry_checksum, zone)
            if found is None:
                raise _Unavailable(zone)
            loaded[zone] = found
        return loaded[zone]

    return get


def quick_inputs(project: Path, registry: Path | None, data: Path | None
                 ) -> tuple[Units, RegistryView, ProjectInput] | None:
    """The inputs of :func:`~cpts_geo.analysis.check_core.run_check`, read from the cache alone.

    ``None`` when the full path is needed (see the module docstring). The polygons of the
    project's zones are loaded here: the check itself then reads nothing more.

    Parameters
    ----------
    project
        The project file.
    registry
        The registry file (``None``: the embedded default registry).
    data
        The reference data directory (``--data``), found as :func:`load_reference` finds it.

    Examples
    --------
    >>> quick_inputs(tmp / "absent.csv", None, ref.root) is None
    True
    """
    from ..reference.locate import arrondissement_layer, commune_layer, locate_data
    from ..reference.store import remembered_digest
    from ..reference.tables_cache import stored_checksum
    from ..registry.formats import default_registry_path
    from ..registry.quick import read_project

    try:
        root = locate_data(data)
    except CptsGeoError:
        return None  # the full path says what is wrong
    tables = stored_checksum(root)
    geometry = remembered_digest([commune_layer(root), arrondissement_layer(root)])
    if tables is None or geometry is None:
        return None
    units = read_units(units_path(tables, geometry), _zone_polygons(geometry))
    if units is None:
        return None
    position = units.position()
    found = read_project(project, position)  # before the registry: a project it does not
    if found is None:  # take costs nothing more
        return None
    try:
        key = registry_key(registry if registry is not None else default_registry_path(),
                            None, tables)
    except OSError:
        return None
    view = read_view(view_path(key)) if key is not None else None
    if view is None:
        return None
    pos = np.asarray([position[c] for c in found.codes], dtype=np.int64)
    try:
        for zone in dict.fromkeys(units.zone[pos].tolist()):
            units.zone_polygons(str(zone))  # every polygon the check may read is there
    except _Unavailable:
        return None
    return units, view, ProjectInput(found.cpts_id, found.cpts_nom, pos,
                                     np.asarray(found.partage, dtype=bool))


def quick_check(project: Path, registry: Path | None, data: Path | None,
                revise: str | None = None) -> tuple[ProjectCheck, RegistryView] | None:
    """Check ``project`` from the cache alone, or ``None`` when the full path is needed.

    Parameters
    ----------
    project, registry, data
        As for :func:`quick_inputs`.
    revise
        As ``check --revise``.

    Returns
    -------
    tuple or None
        The check and the registry's view (its source and warnings), as the full path gives
        them.

    Examples
    --------
    >>> from cpts_geo.analysis.check import check_project, remember
    >>> f = tmp / "projet.csv"
    >>> rows = ["cpts_nom;code_insee", "Marseille;13201", "Marseille;13202"]
    >>> _ = f.write_text(chr(10).join(rows))
    >>> remember(None, None, reg, ref)  # what the first, full check stores
    >>> fast, view = quick_check(f, None, ref.root)
    >>> fast.to_dict() == check_project(read_registry(f, ref), reg, ref).to_dict()
    True
    """
    inputs = quick_inputs(project, registry, data)
    if inputs is None:
        return None
    units, view, project_input = inputs
    return run_check(units, view, project_input, revises=revise), view
