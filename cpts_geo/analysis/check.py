"""The check of a new CPTS project against the registry, before approval.

What ``cpts-geo check`` answers: the conflicts with each existing CPTS, the population newly
covered, the total and weighted population with the ACI tier and ceiling, whether the territory
is in one piece (or its parts), and the enclaves it would leave. Geometry is touched only in the
project's neighbourhood.

Around the zones blanches: the units claimed by nobody that border the project (it could take
them in), and the *new enclaves of zone blanche* it would leave. Only the units of the régions
where the registry or the project claims a unit count (the registry's perimeter): beyond it,
the registry says nothing. These are computed with the
polygons in the zone's CRS: a group of contiguous unclaimed units is enclosed when its whole
outline is shared with claimed units (no coastline, no border of France: every metre of each
unit's boundary is shared with a neighbour); it is a new enclave when the project closes it,
that is when the project takes a unit of the zone blanche it was part of, or when the units it
leaves out of a revised CPTS are enclosed. A group of more than :data:`ENCLAVE_MAX_UNITS` units is
not an enclave.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import pandas as pd

from ..errors import Problem, ValidationError
from ..registry.stages import ceiling, tier
from .borders import border_graph, neighbouring_units
from .territories import shared_weights
from .topology import components, holes, union_by_group, unit_polygons, units_within

if TYPE_CHECKING:
    from ..reference import Reference
    from ..registry import Registry

__all__ = ["ENCLAVE_MAX_UNITS", "ProjectCheck", "check_project"]

#: A group of unclaimed units larger than this is not counted as an enclave of zone blanche.
ENCLAVE_MAX_UNITS = 1_000
#: Metres of a unit's boundary shared with no other unit above which it touches the outside.
_FREE_BOUNDARY_M = 1.0

_ADJACENT_UNIT_COLUMNS = ["code", "nom", "population"]
_ADJACENT_ZONE_COLUMNS = ["codes", "n_unites", "population", "codes_adjacents", "enclave"]


@dataclass(frozen=True, eq=False)
class ProjectCheck:
    """What :func:`check_project` found about a candidate CPTS.

    Attributes
    ----------
    cpts_id, cpts_nom
        The project's identifier and name.
    conflits
        One row per existing CPTS in conflict: ``cpts_id``, ``cpts_nom``, ``stade``, ``codes``,
        ``communes``, ``population``.
    population_totale
        Population of the project's units.
    population_nouvelle
        Population of its units claimed by no CPTS today (when the project revises an existing
        CPTS, the units it already held are not new).
    taille, plafond_aci
        ACI size tier and funding ceiling for ``population_ponderee``.
    parties
        The project's contiguous parts (lists of codes, largest first).
    enclaves
        Units outside the project but surrounded by it.
    remplace
        ``cpts_id`` of the existing CPTS the project revises (``revises``), left out of the
        comparison, or ``None``.
    population_ponderee
        ``population_totale`` where a commune the project declares shared below commune level
        counts for its population divided by the number of CPTS sharing it (see
        :func:`cpts_geo.analysis.territories.shared_weights`).
    homonyme
        ``cpts_id`` of an existing CPTS with the project's identifier or name when the project
        is not declared a revision of it (it is compared like any other), or ``None``.
    enclaves_zone_blanche
        Units claimed by nobody that the project would leave enclosed by claimed territory: new
        enclaves of zone blanche (see the module docstring).
    unites_blanches_adjacentes
        Units claimed by nobody (once the project is added) that border the project, which it
        could take in: ``code``, ``nom``, ``population``.
    zones_blanches_adjacentes
        The zones blanches those units belong to once the project is added (contiguous
        unclaimed units): ``codes``, ``n_unites``, ``population``, ``codes_adjacents`` (those
        bordering the project) and ``enclave`` (a new enclave). A zone of more than
        :data:`ENCLAVE_MAX_UNITS` units is not listed unit by unit: ``codes`` is empty and
        ``n_unites`` and ``population`` are ``None``.
    """

    cpts_id: str
    cpts_nom: str
    conflits: pd.DataFrame
    population_totale: int
    population_nouvelle: int
    taille: int
    plafond_aci: int
    parties: list[list[str]]
    enclaves: list[str]
    remplace: str | None = None
    codes: list[str] = field(default_factory=list)
    homonyme: str | None = None
    population_ponderee: int | None = None
    enclaves_zone_blanche: list[str] = field(default_factory=list)
    unites_blanches_adjacentes: pd.DataFrame = field(
        default_factory=lambda: pd.DataFrame(columns=_ADJACENT_UNIT_COLUMNS))
    zones_blanches_adjacentes: pd.DataFrame = field(
        default_factory=lambda: pd.DataFrame(columns=_ADJACENT_ZONE_COLUMNS))

    @property
    def d_un_seul_tenant(self) -> bool:
        """Whether the territory is in one piece."""
        return len(self.parties) <= 1

    @property
    def has_conflict(self) -> bool:
        """Whether the project conflicts with an existing CPTS (exit code 1)."""
        return not self.conflits.empty

    def to_dict(self) -> dict[str, Any]:
        """The ``check --json`` object.

        Examples
        --------
        >>> from cpts_geo.registry import registry_from_frame
        >>> zb = pd.DataFrame({"cpts_nom": "Estérel", "code_insee": ["06079", "06138", "83133"]})
        >>> d = check_project(registry_from_frame(zb, ref), reg, ref).to_dict()
        >>> d["conflits"], d["population_totale"], d["d_un_seul_tenant"], d["enclaves"]
        ([], 24867, True, [])
        >>> d["enclaves_zone_blanche"], d["zones_blanches_adjacentes"]
        ([], [])

        Without Tanneron, the project would leave it enclosed, a new enclave of zone blanche:

        >>> d = check_project(registry_from_frame(zb.iloc[:2], ref), reg, ref).to_dict()
        >>> d["enclaves_zone_blanche"], d["unites_blanches_adjacentes"]
        (['83133'], [{'code': '83133', 'nom': 'Tanneron', 'population': 1750}])
        >>> d["zones_blanches_adjacentes"]
        [{'codes': ['83133'], 'n_unites': 1, 'population': 1750, 'codes_adjacents': ['83133'],
          'enclave': True}]
        """
        return {
            "cpts_id": self.cpts_id,
            "cpts_nom": self.cpts_nom,
            "codes": self.codes,
            "conflits": [
                {"cpts_id": r.cpts_id, "cpts_nom": r.cpts_nom, "stade": r.stade,
                 "codes": list(r.codes), "communes": list(r.communes),
                 "population": int(r.population)}
                for r in self.conflits.itertuples(index=False)
            ],
            "population_totale": self.population_totale,
            "population_ponderee": self.population_ponderee,
            "population_nouvelle": self.population_nouvelle,
            "taille": self.taille,
            "plafond_aci": self.plafond_aci,
            "d_un_seul_tenant": self.d_un_seul_tenant,
            "parties": self.parties,
            "enclaves": self.enclaves,
            "remplace": self.remplace,
            "homonyme": self.homonyme,
            "enclaves_zone_blanche": list(self.enclaves_zone_blanche),
            "unites_blanches_adjacentes": [
                {"code": r.code, "nom": r.nom, "population": int(r.population)}
                for r in self.unites_blanches_adjacentes.itertuples(index=False)],
            "zones_blanches_adjacentes": [
                {"codes": list(r.codes),
                 "n_unites": None if pd.isna(r.n_unites) else int(r.n_unites),
                 "population": None if pd.isna(r.population) else int(r.population),
                 "codes_adjacents": list(r.codes_adjacents), "enclave": bool(r.enclave)}
                for r in self.zones_blanches_adjacentes.itertuples(index=False)],
        }



def _near_units(reference: Reference, zone: str, areas: list[Any],
                exclude: list[str]) -> list[str]:
    """Finest units of ``zone`` not in ``exclude`` whose extent meets the extent of ``areas``.

    Filters the stored extents of the zone's polygons (:func:`~.topology.near_polygons`):
    no polygon beyond the project's neighbourhood is decoded.
    """
    import numpy as np
    import shapely

    from .topology import near_polygons, zone_unit_polygons

    finest_pos, polygon_pos = zone_unit_polygons(reference, zone)
    hits = near_polygons(reference, zone, tuple(shapely.total_bounds(np.asarray(
        areas, dtype=object))))
    near = np.isin(polygon_pos, hits)
    excluded = reference.finest.index.get_indexer(list(exclude))
    near &= ~np.isin(finest_pos, excluded[excluded >= 0])
    return list(reference.finest.index[finest_pos[near]])



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
    from ..registry import perimeter as registry_perimeter

    ids = project.claims["cpts_id"].unique()
    if len(ids) != 1:
        raise ValidationError([Problem(project.source, f"a project file must describe exactly one"
                                       f" CPTS; found {len(ids)}: {', '.join(map(str, ids[:10]))}."
                                       " Split it, one project per file.")])
    pid = str(ids[0])
    pname = str(project.claims["cpts_nom"].iloc[0])
    existing = membership(registry, reference)
    everyone = existing  # the registry as it is, a revised CPTS included
    covered_now = existing["code"]  # newly covered means: by no CPTS today, its old self included
    cpts = registry.cpts
    same = cpts.index[(cpts.index == pid) | (cpts["cpts_nom"].str.casefold() == pname.casefold())]
    remplace: str | None = None
    if revises is not None:
        found = cpts.index[(cpts.index == revises)
                           | (cpts["cpts_nom"].str.casefold() == str(revises).casefold())]
        if not len(found):
            raise ValidationError([Problem(registry.source, f"--revise {revises!r}: no CPTS with "
                                           "this identifier or name in the registry",
                                           value=revises)])
        remplace = str(found[0])
        existing = existing[existing["cpts_id"] != remplace]
    homonyme = str(same[0]) if len(same) and remplace is None else None
    proj = membership(project, reference)
    units = reference.units
    merged = proj[["code", "partage"]].merge(existing[["code", "cpts_id", "partage"]],
                                             on="code", suffixes=("_p", "_e"))
    merged = merged[~(merged["partage_p"] & merged["partage_e"])]
    rows = []
    for cid, sub in merged.sort_values("code").groupby("cpts_id", sort=True):
        codes = list(sub["code"])
        rows.append({"cpts_id": cid, "cpts_nom": cpts.at[cid, "cpts_nom"],
                     "stade": cpts.at[cid, "stade"], "codes": codes,
                     "communes": list(units["nom"].reindex(codes)),
                     "population": int(units["population"].reindex(codes).sum())})
    conflits = pd.DataFrame(rows, columns=["cpts_id", "cpts_nom", "stade", "codes", "communes",
                                           "population"])
    if not conflits.empty:
        conflits = conflits.sort_values(["population", "cpts_id"], ascending=[False, True])
        conflits = conflits.reset_index(drop=True)
    codes = list(proj["code"])
    total = int(proj["population"].sum())
    both = pd.concat([proj[["cpts_id", "code", "partage"]],
                      existing[["cpts_id", "code", "partage"]]], ignore_index=True)
    weighted = round(float((shared_weights(both)[: len(proj)]
                            * proj["population"].to_numpy()).sum()))
    new = int(proj.loc[~proj["code"].isin(covered_now), "population"].sum())
    parties: list[list[str]] = []
    enclaves: list[str] = []
    if geometry:
        for zone, sub in proj.groupby("zone", sort=False):
            zone_codes = list(sub["code"])
            parties.extend(components(reference, str(zone), zone_codes))
            union = union_by_group(reference, str(zone), zone_codes, ["p"] * len(zone_codes))
            if len(union):
                hole_polys = holes(union.iloc[0])
                if hole_polys:
                    enclaves.extend(units_within(reference, str(zone), hole_polys,
                                                 _near_units(reference, str(zone), hole_polys,
                                                             zone_codes)))
        parties.sort(key=lambda g: -len(g))
        claimed_before = set(covered_now)
        claimed_after = set(existing["code"]) | set(codes)
        # the registry's régions (and the project's): a regional registry says nothing of the
        # communes beyond them
        regions = set(registry_perimeter(registry, reference, everyone)) | set(proj["region"])
        gap_enclaves, adjacent_units, adjacent_zones = _zone_blanche_around(
            reference, codes, claimed_before, claimed_after, regions)
    else:
        parties = [codes]
        gap_enclaves = []
        adjacent_units = pd.DataFrame(columns=_ADJACENT_UNIT_COLUMNS)
        adjacent_zones = pd.DataFrame(columns=_ADJACENT_ZONE_COLUMNS)
    return ProjectCheck(pid, pname, conflits, total, new, tier(weighted), ceiling(weighted),
                        parties, sorted(enclaves), remplace, codes, homonyme, weighted,
                        gap_enclaves, adjacent_units, adjacent_zones)


def _enclosed(reference: Reference, group: set[str], around: set[str]) -> bool:
    """Whether every metre of the boundary of each unit of ``group`` is shared with a unit.

    ``around`` are the units bordering ``group`` from outside.
    """
    import numpy as np
    import shapely

    inside = sorted(group)
    graph = border_graph(reference, inside + sorted(around), measure=inside)
    shared = np.zeros(len(graph.codes))
    lengths = np.nan_to_num(graph.length)
    np.add.at(shared, graph.left, lengths)
    np.add.at(shared, graph.right, lengths)
    zones = reference.units["zone"].reindex(inside).to_numpy()
    for zone in set(zones.tolist()):
        sub = [c for c, z in zip(inside, zones, strict=True) if z == zone]
        perimeter = shapely.length(unit_polygons(reference, str(zone), sub))
        free = perimeter - shared[graph.positions(sub)]
        if not np.all(np.isfinite(perimeter)) or (free > _FREE_BOUNDARY_M).any():
            return False
    return True


def _zone_blanche_around(reference: Reference, codes: list[str], claimed_before: set[str],
                         claimed_after: set[str], perimeter: set[str]
                         ) -> tuple[list[str], pd.DataFrame, pd.DataFrame]:
    """New enclaves of zone blanche, and the unclaimed units and zones bordering the project.

    Only units of the ``perimeter`` (the régions where the registry or the project claims a
    unit) can be a zone blanche: an unclaimed unit outside it is outside the registry's view,
    and a group of unclaimed units that borders one is not enclosed. Each group of contiguous
    unclaimed units bordering the project is explored breadth first (at most
    :data:`ENCLAVE_MAX_UNITS` units), then tested with :func:`_enclosed`.
    """
    units = reference.units
    region_of = units["region"]

    def gap(code: str) -> bool:
        return code not in claimed_after and region_of.get(code) in perimeter

    adjacent = [c for c in neighbouring_units(reference, codes) if gap(c)]
    adjacent_units = pd.DataFrame({
        "code": adjacent, "nom": units["nom"].reindex(adjacent).to_numpy(dtype=object),
        "population": units["population"].reindex(adjacent).to_numpy(dtype="int64")},
        columns=_ADJACENT_UNIT_COLUMNS)
    enclaves: list[str] = []
    zone_rows: list[dict[str, Any]] = []
    seen: set[str] = set()
    for start in adjacent:
        if start in seen:
            continue
        group, frontier, around, too_big, open_ = {start}, [start], set(), False, False
        while frontier:
            near = neighbouring_units(reference, frontier)
            around.update(c for c in near if c in claimed_after)
            open_ = open_ or any(c not in claimed_after and not gap(c) for c in near)
            frontier = [c for c in near if gap(c) and c not in group]
            group.update(frontier)
            if len(group) > ENCLAVE_MAX_UNITS:
                too_big = True
                break
        seen |= group
        enclave = False
        if not too_big and not open_ and _enclosed(reference, group, around):
            # closed by the project: it took a unit of this zone blanche, or a revision left
            # these units out
            enclave = (any(c not in claimed_before for c in around)
                       or any(c in claimed_before for c in group))
        if enclave:
            enclaves.extend(group)
        members = sorted(group)
        zone_rows.append({
            "codes": [] if too_big else members,
            "n_unites": None if too_big else len(members),
            "population": None if too_big else int(units["population"].reindex(members).sum()),
            "codes_adjacents": [c for c in adjacent if c in group], "enclave": enclave})
    adjacent_zones = pd.DataFrame(zone_rows, columns=_ADJACENT_ZONE_COLUMNS, dtype=object)
    return sorted(enclaves), adjacent_units, adjacent_zones
