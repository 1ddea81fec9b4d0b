"""The check of a new CPTS project, computed on plain arrays (no pandas).

:func:`run_check` answers what ``cpts-geo check`` answers (see :mod:`cpts_geo.analysis.check`)
from three inputs: the finest units (:class:`Units`: codes, names, population, région, zone,
their rook adjacency and their polygons), the registry's membership (:class:`RegistryView`) and
the project's units (:class:`ProjectInput`). :func:`cpts_geo.analysis.check.check_project`
builds them from a loaded reference and registry; :mod:`cpts_geo.analysis.check_fast` reads them
from the cache without importing pandas. Both give the same :class:`ProjectCheck`, computed once,
here.

Around the zones blanches: the units claimed by nobody that border the project (it could take
them in), and the *new enclaves of zone blanche* it would leave. Only the units of the régions
of the registry's perimeter (and of the project) count. A group of contiguous unclaimed units is
enclosed when its whole outline is shared with claimed units (no coastline, no border of France:
every metre of each unit's boundary is shared with a neighbour, measured in the zone's CRS); it
is a new enclave when the project closes it, that is when the project takes a unit of the zone
blanche it was part of, or when the units it leaves out of a revised CPTS are enclosed. A group
of more than :data:`ENCLAVE_MAX_UNITS` units is not an enclave.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from ..errors import Problem, ValidationError
from ..registry.stages import ceiling, tier
from .graph import holes, label_components

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["ENCLAVE_MAX_UNITS", "ProjectCheck", "ProjectInput", "RegistryView", "Units",
           "run_check"]

#: A group of unclaimed units larger than this is not counted as an enclave of zone blanche.
ENCLAVE_MAX_UNITS = 1_000
#: Metres of a unit's boundary shared with no other unit above which it touches the outside.
_FREE_BOUNDARY_M = 1.0

_CONFLICT_COLUMNS = ["cpts_id", "cpts_nom", "stade", "codes", "communes", "population"]
_ADJACENT_UNIT_COLUMNS = ["code", "nom", "population"]
_ADJACENT_ZONE_COLUMNS = ["codes", "n_unites", "population", "codes_adjacents", "enclave"]


@dataclass(eq=False)
class Units:
    """The finest units of the reference as arrays, with their adjacency and polygons.

    Attributes
    ----------
    codes, names, population, region, zone
        One value per finest unit, in the order of ``Reference.finest``.
    polygon
        Position of each unit's polygon among its zone's polygons (-1: none; the city's polygon
        for an arrondissement without one of its own).
    bounds
        ``(minx, miny, maxx, maxy)`` of each unit's polygon in its zone's CRS (NaN: none).
    indptr, indices
        Rook adjacency (a shared line of boundary) in CSR form: the units bordering unit ``u``
        are ``indices[indptr[u]:indptr[u + 1]]``. Units of different zones never border.
    zone_polygons
        ``zone -> polygons`` with a ``take(positions)`` method
        (:class:`cpts_geo.reference.store.ZonePolygons`).

    Examples
    --------
    >>> from cpts_geo.analysis.check import units_of
    >>> units = units_of(ref)
    >>> u = units.position()["13201"]
    >>> sorted(units.code_list(units.neighbours(np.array([u]))))[:3]
    ['13202', '13203', '13204']
    """

    codes: np.ndarray
    names: np.ndarray
    population: np.ndarray
    region: np.ndarray
    zone: np.ndarray
    polygon: np.ndarray
    bounds: np.ndarray
    indptr: np.ndarray
    indices: np.ndarray
    zone_polygons: Callable[[str], Any]
    _position: dict[str, int] | None = field(default=None, repr=False)

    def position(self) -> dict[str, int]:
        """Each finest code's position (built once)."""
        if self._position is None:
            self._position = {c: i for i, c in enumerate(self.codes.tolist())}
        return self._position

    def neighbours(self, pos: np.ndarray) -> np.ndarray:
        """The units bordering any of ``pos`` and not in it, ascending positions."""
        _, nbrs = self._edges(pos)
        out = np.unique(nbrs)
        return out[~np.isin(out, pos)]

    def _edges(self, pos: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``(source, neighbour)`` of each adjacency of the units ``pos`` (source: index in pos)."""
        pos = np.asarray(pos, dtype=np.int64)
        counts = self.indptr[pos + 1] - self.indptr[pos]
        total = int(counts.sum())
        starts = np.repeat(self.indptr[pos], counts)
        offsets = np.arange(total) - np.repeat(np.cumsum(counts) - counts, counts)
        return np.repeat(np.arange(len(pos)), counts), self.indices[starts + offsets]

    def pairs(self, pos: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Pairs ``(i, j)``, ``i < j``, of indices into ``pos`` of bordering units, sorted."""
        pos = np.asarray(pos, dtype=np.int64)
        local = np.full(len(self.codes), -1, dtype=np.int64)
        local[pos] = np.arange(len(pos))
        left, nbrs = self._edges(pos)
        right = local[nbrs]
        keep = right > left
        left, right = left[keep], right[keep]
        order = np.lexsort((right, left))
        return left[order], right[order]

    def polygons(self, pos: np.ndarray) -> np.ndarray:
        """The polygons of the units ``pos`` (zone CRS; ``None`` where a unit has none)."""
        pos = np.asarray(pos, dtype=np.int64)
        out = np.full(len(pos), None, dtype=object)
        zones = self.zone[pos]
        for zone in dict.fromkeys(zones.tolist()):
            sel = np.flatnonzero(zones == zone)
            out[sel] = self.zone_polygons(str(zone)).take(self.polygon[pos[sel]])
        return out

    def code_list(self, pos: Sequence[int] | np.ndarray) -> list[str]:
        """The codes of ``pos``, as ``str``."""
        return [str(c) for c in self.codes[np.asarray(pos, dtype=np.int64)].tolist()]


@dataclass(frozen=True, eq=False)
class RegistryView:
    """A registry's membership as arrays over :class:`Units`.

    Attributes
    ----------
    pos, cpts, partage
        One value per (CPTS, finest unit) claim: the unit's position, the CPTS's position in
        ``ids`` and whether the unit is declared shared below commune level.
    ids, names, stages
        Each CPTS's identifier, name and stage, in the order of ``Registry.cpts``.
    perimeter
        The régions the registry speaks of (:func:`cpts_geo.registry.perimeter`).
    source, warnings
        The file, for messages, and the registry's warnings.
    """

    pos: np.ndarray
    cpts: np.ndarray
    partage: np.ndarray
    ids: np.ndarray
    names: np.ndarray
    stages: np.ndarray
    perimeter: tuple[str, ...]
    source: str
    warnings: tuple[str, ...] = ()


@dataclass(frozen=True, eq=False)
class ProjectInput:
    """The project: its identifier and name, and its units (positions, in claim order)."""

    cpts_id: str
    cpts_nom: str
    pos: np.ndarray
    partage: np.ndarray


def _frame(rows: Sequence[Mapping[str, Any]], columns: list[str], **kwargs: Any) -> pd.DataFrame:
    import pandas as pd

    return pd.DataFrame(list(rows), columns=columns, **kwargs)


@dataclass(frozen=True, eq=False)
class ProjectCheck:
    """What :func:`cpts_geo.analysis.check.check_project` found about a candidate CPTS.

    Attributes
    ----------
    cpts_id, cpts_nom
        The project's identifier and name.
    conflicts
        One dict per existing CPTS in conflict: ``cpts_id``, ``cpts_nom``, ``stade``,
        ``codes``, ``communes``, ``population``, largest population first (as a table:
        :attr:`conflits`).
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
    codes
        The project's units.
    homonyme
        ``cpts_id`` of an existing CPTS with the project's identifier or name when the project
        is not declared a revision of it (it is compared like any other), or ``None``.
    population_ponderee
        ``population_totale`` where a commune the project declares shared below commune level
        counts for its population divided by the number of CPTS sharing it (see
        :func:`cpts_geo.analysis.territories.shared_weights`).
    enclaves_zone_blanche
        Units claimed by nobody that the project would leave enclosed by claimed territory: new
        enclaves of zone blanche (see the module docstring).
    adjacent_units
        Units claimed by nobody (once the project is added) that border the project, which it
        could take in: ``code``, ``nom``, ``population`` (as a table:
        :attr:`unites_blanches_adjacentes`).
    adjacent_zones
        The zones blanches those units belong to once the project is added (contiguous
        unclaimed units): ``codes``, ``n_unites``, ``population``, ``codes_adjacents`` (those
        bordering the project) and ``enclave`` (a new enclave). A zone of more than
        :data:`ENCLAVE_MAX_UNITS` units is not listed unit by unit: ``codes`` is empty and
        ``n_unites`` and ``population`` are ``None`` (as a table:
        :attr:`zones_blanches_adjacentes`).
    noms
        The name of each unit the check mentions, for reports.
    """

    cpts_id: str
    cpts_nom: str
    conflicts: tuple[dict[str, Any], ...]
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
    adjacent_units: tuple[dict[str, Any], ...] = ()
    adjacent_zones: tuple[dict[str, Any], ...] = ()
    noms: Mapping[str, str] = field(default_factory=dict)

    @property
    def conflits(self) -> pd.DataFrame:
        """The conflicts as a table (``cpts_id``, ``cpts_nom``, ``stade``, ``codes``, ...)."""
        return _frame(self.conflicts, _CONFLICT_COLUMNS)

    @property
    def unites_blanches_adjacentes(self) -> pd.DataFrame:
        """The bordering unclaimed units as a table (``code``, ``nom``, ``population``)."""
        import pandas as pd

        rows = self.adjacent_units
        return pd.DataFrame({
            "code": [r["code"] for r in rows],
            "nom": np.asarray([r["nom"] for r in rows], dtype=object),
            "population": np.asarray([r["population"] for r in rows], dtype="int64")},
            columns=_ADJACENT_UNIT_COLUMNS)

    @property
    def zones_blanches_adjacentes(self) -> pd.DataFrame:
        """The bordering zones blanches as a table (see :attr:`adjacent_zones`)."""
        return _frame(self.adjacent_zones, _ADJACENT_ZONE_COLUMNS, dtype=object)

    @property
    def d_un_seul_tenant(self) -> bool:
        """Whether the territory is in one piece."""
        return len(self.parties) <= 1

    @property
    def has_conflict(self) -> bool:
        """Whether the project conflicts with an existing CPTS (exit code 1)."""
        return bool(self.conflicts)

    def to_dict(self) -> dict[str, Any]:
        """The ``check --json`` object.

        Examples
        --------
        >>> from cpts_geo.analysis.check import check_project
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
                {"cpts_id": r["cpts_id"], "cpts_nom": r["cpts_nom"], "stade": r["stade"],
                 "codes": list(r["codes"]), "communes": list(r["communes"]),
                 "population": int(r["population"])}
                for r in self.conflicts
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
                {"code": r["code"], "nom": r["nom"], "population": int(r["population"])}
                for r in self.adjacent_units],
            "zones_blanches_adjacentes": [
                {"codes": list(r["codes"]),
                 "n_unites": None if r["n_unites"] is None else int(r["n_unites"]),
                 "population": None if r["population"] is None else int(r["population"]),
                 "codes_adjacents": list(r["codes_adjacents"]), "enclave": bool(r["enclave"])}
                for r in self.adjacent_zones],
        }


def _find(view: RegistryView, cpts_id: str, name: str) -> int | None:
    """Position of the first CPTS with identifier ``cpts_id`` or name ``name`` (case ignored)."""
    folded = name.casefold()
    for i, (cid, nom) in enumerate(zip(view.ids.tolist(), view.names.tolist(), strict=True)):
        if cid == cpts_id or (isinstance(nom, str) and nom.casefold() == folded):
            return i
    return None


def run_check(units: Units, registry: RegistryView, project: ProjectInput, *,
              revises: str | None = None, geometry: bool = True) -> ProjectCheck:
    """Check ``project`` against ``registry`` (see :func:`cpts_geo.analysis.check.check_project`).

    Examples
    --------
    >>> from cpts_geo.analysis.check import registry_view, units_of
    >>> units = units_of(ref)
    >>> pos = np.array([units.position()[c] for c in ("13201", "13202")])
    >>> chk = run_check(units, registry_view(reg, ref),
    ...                 ProjectInput("M", "Marseille", pos, np.zeros(2, dtype=bool)))
    >>> [(c["cpts_id"], c["codes"]) for c in chk.conflicts], chk.parties
    ([('PACA-010', ['13202'])], [['13201', '13202']])
    """
    pid, pname = project.cpts_id, project.cpts_nom
    same = _find(registry, pid, pname)
    remplace: str | None = None
    existing = np.ones(len(registry.pos), dtype=bool)
    if revises is not None:
        found = _find(registry, str(revises), str(revises))
        if found is None:
            raise ValidationError([Problem(registry.source, f"--revise {revises!r}: no CPTS with "
                                           "this identifier or name in the registry",
                                           value=revises)])
        remplace = str(registry.ids[found])
        existing = registry.cpts != found
    homonyme = str(registry.ids[same]) if same is not None and remplace is None else None
    n = len(units.codes)
    ppos = np.asarray(project.pos, dtype=np.int64)
    ppart = np.asarray(project.partage, dtype=bool)
    epos, ecpts, epart = registry.pos[existing], registry.cpts[existing], registry.partage[existing]
    conflicts = _conflicts(units, registry, ppos, ppart, epos, ecpts, epart)
    pop = units.population
    codes = units.code_list(ppos)
    total = int(pop[ppos].sum())
    covered_now = np.zeros(n, dtype=bool)
    covered_now[registry.pos] = True  # by no CPTS today, a revised one included
    new = int(pop[ppos][~covered_now[ppos]].sum())
    shared = np.bincount(np.concatenate([ppos[ppart], epos[epart]]), minlength=n)
    weights = np.where(ppart, 1.0 / np.maximum(shared[ppos], 1), 1.0)
    weighted = round(float((weights * pop[ppos]).sum()))
    noms: dict[str, str] = {}
    if geometry:
        parties, enclaves = _parts_and_enclaves(units, ppos)
        claimed_after = np.zeros(n, dtype=bool)
        claimed_after[epos] = True
        claimed_after[ppos] = True
        regions = set(registry.perimeter) | set(units.region[ppos].tolist())
        gap = ~claimed_after & np.isin(units.region, sorted(regions))
        gap_enclaves, adjacent_units, adjacent_zones = _zone_blanche_around(
            units, ppos, covered_now, claimed_after, gap)
        mentioned = [*enclaves, *gap_enclaves, *(c for z in adjacent_zones
                                                   for c in z["codes_adjacents"])]
        position = units.position()
        noms = {c: str(units.names[position[c]]) for c in mentioned}
    else:
        parties, enclaves, gap_enclaves, adjacent_units, adjacent_zones = [codes], [], [], (), ()
    noms.update(zip(codes, (str(x) for x in units.names[ppos].tolist()), strict=True))
    return ProjectCheck(pid, pname, conflicts, total, new, tier(weighted), ceiling(weighted),
                        parties, sorted(enclaves), remplace, codes, homonyme, weighted,
                        gap_enclaves, adjacent_units, adjacent_zones, noms)


def _conflicts(units: Units, registry: RegistryView, ppos: np.ndarray, ppart: np.ndarray,
               epos: np.ndarray, ecpts: np.ndarray, epart: np.ndarray
               ) -> tuple[dict[str, Any], ...]:
    """One row per existing CPTS claiming a unit of the project (both sharing it: no conflict)."""
    where = np.full(len(units.codes), -1, dtype=np.int64)
    where[ppos] = np.arange(len(ppos))
    k = where[epos]
    hit = k >= 0
    hit[hit] = ~(ppart[k[hit]] & epart[hit])
    by_cpts: dict[int, list[int]] = {}
    for c, u in zip(ecpts[hit].tolist(), epos[hit].tolist(), strict=True):
        by_cpts.setdefault(c, []).append(u)
    rows = []
    for c, claimed in by_cpts.items():
        found = sorted(claimed, key=lambda u: units.codes[u])
        rows.append({"cpts_id": str(registry.ids[c]), "cpts_nom": str(registry.names[c]),
                     "stade": str(registry.stages[c]),
                     "codes": units.code_list(found),
                     "communes": [str(x) for x in units.names[found].tolist()],
                     "population": int(units.population[found].sum())})
    rows.sort(key=lambda r: (-r["population"], r["cpts_id"]))  # identifiers are unique
    return tuple(rows)


def _components(units: Units, pos: np.ndarray) -> list[list[str]]:
    """The contiguous parts of the units ``pos`` (one zone), largest first.

    Sorted by size, then population, then the first unit's code; each part's units in the
    order of ``pos``.
    """
    left, right = units.pairs(pos)
    labels = label_components(len(pos), left, right)
    codes = units.code_list(pos)
    groups: dict[int, list[str]] = {}
    for code, lab in zip(codes, labels.tolist(), strict=True):
        groups.setdefault(lab, []).append(code)
    part_pop = np.bincount(labels, weights=units.population[pos].astype(np.float64),
                           minlength=len(pos))
    keys = {lab: (-len(g), -int(part_pop[lab]), g[0]) for lab, g in groups.items()}
    return [groups[lab] for lab in sorted(groups, key=keys.__getitem__)]


def _union(units: Units, pos: np.ndarray) -> Any | None:
    """The union of the polygons of ``pos`` (one zone), each polygon once; ``None``: none."""
    import shapely

    poly_pos = units.polygon[pos]
    rows = np.flatnonzero(poly_pos >= 0)
    rows = rows[np.sort(np.unique(poly_pos[rows], return_index=True)[1])]
    polys = units.polygons(pos[rows])
    polys = polys[~shapely.is_missing(polys)]
    if not len(polys):
        return None
    if len(polys) == 1:
        return polys[0]
    return shapely.coverage_union_all(polys)


def _parts_and_enclaves(units: Units, ppos: np.ndarray) -> tuple[list[list[str]], list[str]]:
    """The project's parts (largest first) and the units its territory surrounds."""
    import shapely

    parties: list[list[str]] = []
    enclaves: list[str] = []
    zones = units.zone[ppos]
    for zone in dict.fromkeys(zones.tolist()):
        pos = ppos[zones == zone]
        parties.extend(_components(units, pos))
        union = _union(units, pos)
        hole_polys = holes(union) if union is not None else []
        if not hole_polys:
            continue
        # candidates: the zone's other units whose extent meets the holes' (no other polygon
        # is decoded)
        x0, y0, x1, y1 = shapely.total_bounds(np.asarray(hole_polys, dtype=object))
        in_zone = np.flatnonzero(units.zone == zone)
        b = units.bounds[in_zone]
        near = (b[:, 0] <= x1) & (b[:, 2] >= x0) & (b[:, 1] <= y1) & (b[:, 3] >= y0)
        candidates = in_zone[near & ~np.isin(in_zone, pos)]
        if not len(candidates):
            continue
        polys = units.polygons(candidates)
        ok = ~shapely.is_missing(polys)
        area = shapely.union_all(hole_polys)
        inside = np.zeros(len(candidates), dtype=bool)
        inside[ok] = (shapely.area(shapely.intersection(polys[ok], area))
                      > 0.5 * shapely.area(polys[ok]))
        enclaves.extend(units.code_list(candidates[inside]))
    parties.sort(key=lambda g: -len(g))
    return parties, enclaves


def _enclosed(units: Units, group: set[int], around: set[int]) -> bool:
    """Whether every metre of the boundary of each unit of ``group`` is shared with a unit.

    ``around`` are the units bordering ``group`` from outside (one zone).
    """
    import shapely

    by_code = units.codes
    inside = np.asarray(sorted(group, key=lambda u: by_code[u]), dtype=np.int64)
    nodes = np.concatenate([inside, np.asarray(sorted(around, key=lambda u: by_code[u]),
                                               dtype=np.int64)])
    left, right = units.pairs(nodes)
    measured = (left < len(inside)) | (right < len(inside))
    left, right = left[measured], right[measured]
    polys = units.polygons(nodes)
    bounds = shapely.boundary(polys)
    lengths = np.asarray(shapely.length(shapely.intersection(bounds[left], bounds[right])),
                         dtype=np.float64)
    same = units.polygon[nodes[left]] == units.polygon[nodes[right]]
    lengths[same] = 0.0
    shared = np.zeros(len(nodes))
    lengths = np.nan_to_num(lengths)
    np.add.at(shared, left, lengths)
    np.add.at(shared, right, lengths)
    perimeter = shapely.length(polys[: len(inside)])
    free = perimeter - shared[: len(inside)]
    return bool(np.all(np.isfinite(perimeter)) and not (free > _FREE_BOUNDARY_M).any())


def _zone_blanche_around(units: Units, ppos: np.ndarray, claimed_before: np.ndarray,
                         claimed_after: np.ndarray, gap: np.ndarray
                         ) -> tuple[list[str], tuple[dict[str, Any], ...],
                                    tuple[dict[str, Any], ...]]:
    """New enclaves of zone blanche, and the unclaimed units and zones bordering the project.

    ``gap`` marks the units that can be a zone blanche: claimed by nobody once the project is
    added, in the perimeter. A unit claimed by nobody outside it is outside the registry's
    view, and a group of unclaimed units that borders one is not enclosed. Each group of
    contiguous gap units bordering the project is explored breadth first (at most
    :data:`ENCLAVE_MAX_UNITS` units), then tested with :func:`_enclosed`.
    """
    codes = units.codes
    near = units.neighbours(ppos)
    adjacent = sorted((int(u) for u in near[gap[near]]), key=lambda u: codes[u])
    adjacent_units = tuple({"code": str(codes[u]), "nom": str(units.names[u]),
                            "population": int(units.population[u])} for u in adjacent)
    enclaves: list[str] = []
    zone_rows: list[dict[str, Any]] = []
    seen: set[int] = set()
    for start in adjacent:
        if start in seen:
            continue
        group, frontier, around, too_big, open_ = {start}, [start], set(), False, False
        while frontier:
            ring = units.neighbours(np.asarray(frontier, dtype=np.int64))
            around.update(ring[claimed_after[ring]].tolist())
            open_ = open_ or bool((~claimed_after[ring] & ~gap[ring]).any())
            frontier = [u for u in ring[gap[ring]].tolist() if u not in group]
            group.update(frontier)
            if len(group) > ENCLAVE_MAX_UNITS:
                too_big = True
                break
        seen |= group
        enclave = False
        if not too_big and not open_ and _enclosed(units, group, around):
            # closed by the project: it took a unit of this zone blanche, or a revision left
            # these units out
            enclave = (any(not claimed_before[u] for u in around)
                       or any(claimed_before[u] for u in group))
        members = sorted(units.code_list(sorted(group)))
        if enclave:
            enclaves.extend(members)
        zone_rows.append({
            "codes": [] if too_big else members,
            "n_unites": None if too_big else len(members),
            "population": None if too_big else int(units.population[sorted(group)].sum()),
            "codes_adjacents": [str(codes[u]) for u in adjacent if u in group],
            "enclave": enclave})
    return sorted(enclaves), adjacent_units, tuple(zone_rows)
