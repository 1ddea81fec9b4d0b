"""The check of a new CPTS project against the registry, before approval.

What ``cpts-geo check`` answers: the conflicts with each existing CPTS, the population newly
covered, the total and weighted population with the ACI tier and ceiling, whether the territory
is in one piece (or its parts), the enclaves it would leave, and the zones blanches around it
(the units claimed by nobody that border it, and the new enclaves of zone blanche it would
leave; see :mod:`cpts_geo.analysis.check_core`). Geometry is touched only in the project's
neighbourhood.

:func:`check_project` turns the reference and the registry into the arrays of
:mod:`~cpts_geo.analysis.check_core` (:func:`units_of`, kept on disk, and
:func:`registry_view`) and computes the check there: the same code the command line runs
without pandas (:mod:`~cpts_geo.analysis.check_fast`).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from ..errors import Problem, ValidationError
from .check_core import (
    ENCLAVE_MAX_UNITS,
    ProjectCheck,
    ProjectInput,
    RegistryView,
    Units,
    run_check,
)
from .check_fast import (
    UNIT_ARRAYS,
    read_units,
    registry_key,
    save_units,
    save_view,
    units_path,
    view_path,
)

if TYPE_CHECKING:
    from ..reference import Reference
    from ..registry import Registry

__all__ = ["ENCLAVE_MAX_UNITS", "ProjectCheck", "check_project", "registry_view", "remember",
           "units_of"]


def units_of(reference: Reference) -> Units:
    """The finest units of ``reference`` as the arrays of the check, kept on disk.

    Built once per version of the reference tables, the polygons and the tool (about a second
    for France: the rook adjacency comes from the polygon graph), then read back.

    Examples
    --------
    >>> units = units_of(ref)
    >>> len(units.codes) == len(ref.finest), units.code_list([units.position()["13201"]])
    (True, ['13201'])
    """
    key = "check:units"
    if key in reference.memo:
        return reference.memo[key]  # type: ignore[no-any-return]
    from ..reference.geometry import input_checksum

    path = units_path(reference.tables_checksum, input_checksum(reference))
    units = read_units(path, reference.polygons)
    if units is None or len(units.codes) != len(reference.finest):
        arrays = _unit_arrays(reference)
        save_units(path, arrays)
        units = read_units(path, reference.polygons, arrays=arrays)
    assert units is not None
    reference.memo[key] = units  # type: ignore[assignment]
    return units


def _unit_arrays(reference: Reference) -> dict[str, np.ndarray]:
    from .topology import adjacency, zone_unit_polygons

    finest = reference.finest
    n = len(finest)
    polygon = np.full(n, -1, dtype=np.int64)
    bounds = np.full((n, 4), np.nan)
    src, dst = [], []
    codes = finest.index.to_numpy(dtype=object)
    for zone in reference.zones:
        finest_pos, polygon_pos = zone_unit_polygons(reference, zone)
        if not len(finest_pos):
            continue
        polygon[finest_pos] = polygon_pos
        ok = polygon_pos >= 0
        bounds[finest_pos[ok]] = reference.polygons(zone).bounds[polygon_pos[ok]]
        left, right = adjacency(reference, zone, list(codes[finest_pos]))
        src += [finest_pos[left], finest_pos[right]]
        dst += [finest_pos[right], finest_pos[left]]
    s = np.concatenate(src) if src else np.empty(0, dtype=np.int64)
    d = np.concatenate(dst) if dst else np.empty(0, dtype=np.int64)
    order = np.lexsort((d, s))
    return {"codes": codes.astype(str), "names": finest["nom"].to_numpy(dtype=object).astype(str),
            "population": finest["population"].to_numpy(dtype=np.int64),
            "region": finest["region"].to_numpy(dtype=object).astype(str),
            "zone": finest["zone"].to_numpy(dtype=object).astype(str),
            "polygon": polygon, "bounds": bounds,
            "indptr": np.searchsorted(s[order], np.arange(n + 1)).astype(np.int64),
            "indices": d[order].astype(np.int64)}


def registry_view(registry: Registry, reference: Reference) -> RegistryView:
    """The membership of ``registry`` as the arrays of the check.

    Examples
    --------
    >>> view = registry_view(reg, ref)
    >>> len(view.ids) == len(reg), view.perimeter
    (True, ('93',))
    """
    from ..registry import membership
    from ..registry import perimeter as registry_perimeter

    members = membership(registry, reference)
    cpts = registry.cpts
    ids = cpts.index.to_numpy(dtype=object)
    return RegistryView(
        pos=reference.finest.index.get_indexer(members["code"]).astype(np.int64),
        cpts=pd.Index(ids).get_indexer(members["cpts_id"]).astype(np.int64),
        partage=members["partage"].to_numpy(dtype=bool),
        ids=ids.astype(str), names=cpts["cpts_nom"].to_numpy(dtype=object).astype(str),
        stages=cpts["stade"].to_numpy(dtype=object).astype(str),
        perimeter=tuple(registry_perimeter(registry, reference, members)),
        source=registry.source, warnings=tuple(registry.warnings))


def check_project(project: Registry, registry: Registry, reference: Reference, *,
                  revises: str | None = None, geometry: bool = True) -> ProjectCheck:
    """Check a candidate CPTS against the current registry before approval.

    Parameters
    ----------
    project
        A registry holding exactly one CPTS (codes or a perimeter).
    registry
        The current registry.
    reference
        The reference data.
    revises
        Identifier (or name) of the existing CPTS the project revises: it is left out of the
        comparison. Never guessed: a project that merely shares an existing CPTS's name is
        compared with it like with any other, and the match is reported (``homonyme``).
    geometry
        Compute contiguity and enclaves (needs the unit polygons).

    Returns
    -------
    ProjectCheck

    Raises
    ------
    ValidationError
        When ``project`` holds no CPTS or more than one, or ``revises`` is not in the registry.

    Examples
    --------
    A project on the zone blanche of Mandelieu-la-Napoule, Théoule-sur-Mer and Tanneron:

    >>> from cpts_geo.registry import registry_from_frame
    >>> zb = pd.DataFrame({"cpts_nom": "Estérel", "code_insee": ["06079", "06138", "83133"]})
    >>> chk = check_project(registry_from_frame(zb, ref), reg, ref)
    >>> chk.has_conflict, chk.population_nouvelle, chk.taille, chk.plafond_aci
    (False, 24867, 1, 185000)

    One on Marseille 1er and 2e, the 2e being claimed already:

    >>> mrs = pd.DataFrame({"cpts_nom": "Marseille", "code_insee": ["13201", "13202"]})
    >>> chk = check_project(registry_from_frame(mrs, ref), reg, ref)
    >>> chk.conflits[["cpts_id", "codes", "population"]].to_numpy().tolist()
    [['PACA-010', ['13202'], 24378]]
    >>> chk.population_totale, chk.population_nouvelle, chk.parties
    (61977, 37599, [['13201', '13202']])
    """
    from ..registry import membership

    ids = project.claims["cpts_id"].unique()
    if len(ids) != 1:
        raise ValidationError([Problem(project.source, f"a project file must describe exactly one"
                                       f" CPTS; found {len(ids)}: {', '.join(map(str, ids[:10]))}."
                                       " Split it, one project per file.")])
    proj = membership(project, reference)
    units = units_of(reference)
    project_input = ProjectInput(
        str(ids[0]), str(project.claims["cpts_nom"].iloc[0]),
        reference.finest.index.get_indexer(proj["code"]).astype(np.int64),
        proj["partage"].to_numpy(dtype=bool))
    return run_check(units, registry_view(registry, reference), project_input,
                     revises=revises, geometry=geometry)


def remember(path: Path | None, sheet: object, registry: Registry, reference: Reference) -> None:
    """Store what the quick check needs to check projects against this registry next time.

    See :func:`~cpts_geo.analysis.check_fast.quick_check`.

    ``path`` is the registry file (``None``: the embedded default registry).
    """
    from ..reference.geometry import input_checksum
    from ..reference.store import remembered_digest, save_geometries, zone_polygons_path
    from ..reference.tables_cache import store_tables, stored_checksum, tables_key
    from ..registry.formats import default_registry_path

    units = units_path(reference.tables_checksum, input_checksum(reference))
    if not units.exists():  # built in another cache directory: stored in this one
        built = units_of(reference)
        save_units(units, {k: getattr(built, k) for k in UNIT_ARRAYS})
    # what the quick path reads without the reference: the tables' checksum, the polygons'
    # digest and files (already there, unless the cache directory changed since they were read)
    if stored_checksum(reference.root) != reference.tables_checksum:
        store_tables(reference, tables_key(reference.root))
    checksum = input_checksum(reference)
    remembered_digest([reference.commune_layer_path, reference.arrondissement_layer_path],
                      lambda: checksum)
    for zone in reference.zones:
        polygons_file = zone_polygons_path(checksum, zone)
        if not polygons_file.exists():
            polys = reference.polygons(zone)
            save_geometries(polygons_file, polys.index, polys.all())
    try:
        key = registry_key(Path(path) if path is not None else default_registry_path(), sheet,
                            reference.tables_checksum)
    except OSError:
        return
    if key is not None and not view_path(key).exists():
        save_view(view_path(key), registry_view(registry, reference))
