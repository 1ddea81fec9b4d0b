"""Closing the gaps: how to reach one CPTS per territory and no zone blanche, and what it costs.

For every zone blanche, the CPTS that border it and what each would become if it took the whole
zone (population, ACI tier and ceiling, one piece or not); for every conflict, its two options
with their effect; and one complete proposal, made by the written rule below, with the registry
it gives (:attr:`Proposals.registry`), which every command reads.

**The rule** (:data:`RULE`, printed in every report):

1. *Conflicts first.* Each unit claimed by two or more CPTS without a declared share goes to one
   of its claimants: the one whose undisputed territory shares the longest boundary with it;
   ties go to the least populated claimant (``population_ponderee``), then to the smallest
   identifier. Units resolved at one round count as territory at the next (rounds, as below),
   so a block of disputed units is resolved from its edges inwards; a unit that borders no
   claimant's territory at all is settled last, by the tie rule. When the winner declared the
   unit shared (``partage``), the other claimants that declared it shared keep their share.
2. *Then the zones blanches, grown from the existing territories, by rounds.* At each round,
   every unit of a zone blanche that borders at least one eligible CPTS goes to the eligible
   CPTS with which it shares the longest boundary; ties go to the least populated CPTS
   (``population_ponderee`` at that moment), then to the smallest identifier. The units assigned
   at one round are part of their CPTS's territory at the next, so the units deep inside a large
   zone blanche are reached through those assigned before them, and growth goes only through
   units of the same zone blanche. Each unit added borders its CPTS: a territory in one piece
   stays in one piece.
3. *Options.* ``keep_tier``: a CPTS takes a unit only if its ACI size tier stays the one it has
   once the conflicts are resolved; the unit goes to the next candidate, or stays unassigned.
   ``exclude_stages``: CPTS at these stages take no unit of a zone blanche (they keep their
   disputed units under rule 1, which options do not change).
4. A unit that no eligible CPTS can reach stays unassigned, with the reason: a zone blanche
   bordered by no CPTS (an island, a région with no CPTS), every bordering CPTS excluded by the
   options, or a unit enclosed by other unassigned units.

*Bordering* means sharing a line of boundary, not merely a point, in the zone's projected CRS
(:mod:`~cpts_geo.analysis.borders`); boundary lengths are in metres in that CRS. Populations
follow the tool's rule: ``population`` counts every unit whole, ``population_ponderee`` counts a
commune shared below commune level by ``k`` CPTS for ``1/k``, and the ACI tier and ceiling
(:data:`~cpts_geo.registry.stages.TIER_CEILINGS`) come from ``population_ponderee``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from ..errors import CptsGeoError
from ..registry import Registry, membership, perimeter
from ..registry.columns import fold_column
from ..registry.stages import LABELS, STAGES, ceiling, normalise_stage, tier
from .borders import BorderGraph, border_graph, count_parts, neighbouring_units
from .coverage import zones_blanches
from .overlaps import conflict_units, conflicts
from .territories import dissolve, shared_weights

if TYPE_CHECKING:
    from ..reference import Reference

__all__ = ["RULE", "Proposals", "propose", "stages_option"]

#: The rule of the proposal, in French, as printed in the reports and the JSON (``regle``).
RULE = (
    "Règle de la proposition. 1) Conflits : chaque commune (ou arrondissement) revendiquée par "
    "plusieurs CPTS sans partage déclaré va à celle dont le reste du territoire partage avec "
    "elle la plus longue frontière ; à égalité, à la moins peuplée (population pondérée), puis à "
    "l'identifiant le plus petit ; si la gagnante l'avait déclarée partagée, les autres CPTS qui "
    "l'avaient déclarée partagée gardent leur part. 2) Zones blanches : on part des territoires "
    "existants et on avance par tours ; à chaque tour, chaque commune d'une zone blanche qui "
    "partage une frontière (une ligne, pas un simple point) avec une CPTS éligible est rattachée "
    "à la CPTS avec laquelle elle partage la plus longue frontière ; à égalité, à la moins "
    "peuplée, puis à l'identifiant le plus petit. Les communes rattachées à un tour comptent dans "
    "le territoire de leur CPTS au tour suivant, si bien que chaque territoire d'un seul tenant le "
    "reste. 3) Options : « taille inchangée » écarte une CPTS dont la taille ACI changerait ; "
    "« stades exclus » écarte les CPTS à ces stades. 4) Une commune qu'aucune CPTS éligible ne "
    "peut atteindre reste non rattachée (île, région sans CPTS, CPTS voisines écartées)."
)

CANDIDATE_COLUMNS = (
    "zone_blanche", "cpts_id", "cpts_nom", "stade", "longueur_frontiere_m", "population_ajoutee",
    "population_avant", "population_apres", "population_ponderee_avant",
    "population_ponderee_apres", "taille_avant", "taille_apres", "plafond_avant",
    "plafond_apres", "effet_financement", "d_un_seul_tenant_avant", "d_un_seul_tenant",
    "eligible", "motif",
)
PROPOSITION_COLUMNS = (
    "zone_blanche", "region", "codes", "communes", "n_unites", "population", "departements",
    "candidats", "statut", "rattachement", "codes_non_rattaches",
)
ASSIGNMENT_COLUMNS = (
    "code", "nom", "population", "zone_blanche", "region", "cpts_id", "cpts_nom", "tour",
    "longueur_frontiere_m", "motif", "raison",
)
RESOLUTION_COLUMNS = (
    "code", "nom", "population", "cpts", "cpts_id", "conserve", "retire", "tour",
    "longueur_frontiere_m",
)
_FIGURES = ("population", "population_ponderee", "taille", "plafond", "d_un_seul_tenant")
CONCILIATION_COLUMNS = (
    "conciliation", "cpts_a", "nom_a", "stade_a", "cpts_b", "nom_b", "stade_b", "codes",
    "communes", "n_unites", "population", "frontiere_a_m", "frontiere_b_m",
    *(f"{f}_a" for f in _FIGURES), *(f"{f}_a_sans" for f in _FIGURES),
    *(f"{f}_b" for f in _FIGURES), *(f"{f}_b_sans" for f in _FIGURES),
    "proposition", "codes_a", "codes_b", "codes_autres",
)
EFFECT_COLUMNS = (
    "cpts_id", "cpts_nom", "stade", "codes_ajoutes", "codes_retires", "population_avant",
    "population_apres", "population_ponderee_avant", "population_ponderee_apres",
    "taille_avant", "taille_apres", "plafond_avant", "plafond_apres", "effet_financement",
    "d_un_seul_tenant_avant", "d_un_seul_tenant_apres",
)

#: Why a unit of a zone blanche stays unassigned (``motif``) and what the reports say.
REASONS = {
    "sans_cpts_limitrophe": "aucune CPTS ne borde cette zone blanche (île, ou région sans CPTS)",
    "cpts_ecartees": "les CPTS limitrophes sont écartées par les options",
    "sans_chemin": "entourée de communes qui restent non rattachées",
}

# extra columns of a registry that the new rows fill in (folded names)
_UNIT_NAME_COLUMNS = {"nom_commune", "commune_nom", "libelle_commune", "nom_de_la_commune",
                      "nom_unite", "nom_arrondissement"}
_DEPARTEMENT_COLUMNS = {"departement", "dep", "code_departement", "num_departement",
                        "numero_departement", "code_dep"}


def stages_option(values: Iterable[object]) -> tuple[str, ...]:
    """The stages named by ``values`` (keys of :data:`STAGES` or labels such as "émergence").

    Raises
    ------
    CptsGeoError
        For a value that names no stage, listing the accepted ones.

    Examples
    --------
    >>> stages_option(["emergence", "Lettre d'intention"])
    ('lettre_intention', 'emergence')
    >>> stages_option(["dormante"])
    Traceback (most recent call last):
    ...
    cpts_geo.errors.CptsGeoError: --exclude-stage 'dormante' is not a stage; use one of:
    fonctionnement, projet_valide, lettre_intention, emergence, non_renseigne
    """
    found = set()
    for value in values:
        text = str(value).strip()
        stage = text if text in STAGES else (normalise_stage(text) if text else None)
        if stage is None:
            raise CptsGeoError(f"--exclude-stage {text!r} is not a stage; use one of: "
                               f"{', '.join(STAGES)}")
        found.add(stage)
    return tuple(s for s in STAGES if s in found)


@dataclass(frozen=True, eq=False)
class Proposals:
    """What :func:`propose` found: options for each gap and conflict, and one full proposal.

    Attributes
    ----------
    regions
        The régions worked on.
    keep_tier, exclude_stages
        The options used (see the module docstring).
    propositions
        One row per zone blanche (:data:`PROPOSITION_COLUMNS`): its units and population, its
        candidates (``cpts_id``, longest shared boundary first), ``statut`` (``candidats`` or
        ``sans_cpts_limitrophe``), ``rattachement`` (``cpts_id`` → codes proposed) and the
        codes left unassigned.
    candidats
        One row per (zone blanche, bordering CPTS) (:data:`CANDIDATE_COLUMNS`): the figures if
        that CPTS took the whole zone blanche, ``eligible`` under the options and ``motif``.
    assignments
        One row per unit of a zone blanche (:data:`ASSIGNMENT_COLUMNS`): the proposed
        ``cpts_id`` (``None`` when unassigned, with ``motif`` and ``raison``), the ``tour``
        (round) and the boundary length that decided it.
    conciliations
        One row per conflicting pair of CPTS (:data:`CONCILIATION_COLUMNS`): the disputed units,
        each CPTS as it is (``_a``, ``_b``) and without them (``_a_sans``, ``_b_sans``), and the
        proposed resolution (``proposition``: the ``cpts_id`` keeping them, ``codes_a`` /
        ``codes_b``: the units each keeps).
    resolutions
        One row per disputed unit (:data:`RESOLUTION_COLUMNS`): its claimants, the proposed
        ``cpts_id``, those who keep (``conserve``) or lose it (``retire``).
    effets
        One row per CPTS the proposal changes (:data:`EFFECT_COLUMNS`), before and after.
    registry
        The registry with the proposal applied: the input's claims with the losing claims
        removed and one claim per assigned unit.
    source
        The input registry's source.
    population_totale, population_couverte_avant, population_couverte_apres
        Population of the régions, covered today and with the proposal.
    """

    regions: tuple[str, ...]
    keep_tier: bool
    exclude_stages: tuple[str, ...]
    propositions: pd.DataFrame
    candidats: pd.DataFrame
    assignments: pd.DataFrame
    conciliations: pd.DataFrame
    resolutions: pd.DataFrame
    effets: pd.DataFrame
    registry: Registry
    source: str
    population_totale: int
    population_couverte_avant: int
    population_couverte_apres: int
    warnings: tuple[str, ...] = ()

    @property
    def regle(self) -> str:
        """The rule of the proposal, in French (:data:`RULE`)."""
        return RULE

    @property
    def taux_avant(self) -> float:
        """Coverage today, in percent (2 decimals)."""
        return _rate(self.population_couverte_avant, self.population_totale)

    @property
    def taux_apres(self) -> float:
        """Coverage with the proposal, in percent (2 decimals)."""
        return _rate(self.population_couverte_apres, self.population_totale)

    @property
    def effet_financement(self) -> int:
        """Change of the sum of the ACI ceilings of the CPTS changed, in euros per year."""
        return int(self.effets["effet_financement"].sum()) if len(self.effets) else 0

    def to_dict(self, reference: Reference | None = None) -> dict[str, Any]:
        """The ``propose --json`` object.

        Keys: ``perimetre``, ``regions``, ``registre``, ``regle``, ``options``,
        ``population_totale``, ``population_couverte_avant`` / ``_apres``,
        ``taux_couverture_avant`` / ``_apres``, ``effet_financement``, ``propositions`` (one
        per zone blanche, with its ``candidats``), ``conciliations`` (one per conflict, with its
        two ``options``), ``rattachements``, ``non_rattachees``, ``effets`` and
        ``avertissements``.

        Examples
        --------
        >>> d = propose(reg, ref, region="93").to_dict(ref)
        >>> d["perimetre"], d["taux_couverture_avant"], d["taux_couverture_apres"]
        ("93 Provence-Alpes-Côte d'Azur", 98.06, 100.0)
        >>> first = d["propositions"][0]
        >>> first["zone_blanche"], first["codes"], [c["cpts_id"] for c in first["candidats"]]
        ('ZB-93-001', ['13201'], ['PACA-010', 'PACA-002', 'PACA-069', 'PACA-027'])
        """
        perimetre = ", ".join(
            f"{r} {reference.region_name(r)}" if reference is not None else r
            for r in self.regions) or "aucune région"
        cand = self.candidats
        by_zone = {z: g for z, g in cand.groupby("zone_blanche", sort=False)}
        props = []
        for r in self.propositions.itertuples(index=False):
            rows = by_zone.get(r.zone_blanche, cand.iloc[0:0])
            props.append({
                "zone_blanche": r.zone_blanche, "region": r.region, "codes": list(r.codes),
                "communes": list(r.communes), "population": int(r.population),
                "statut": r.statut,
                "candidats": [_candidate_dict(c) for c in rows.itertuples(index=False)],
                "rattachement": {k: list(v) for k, v in r.rattachement.items()},
                "codes_non_rattaches": list(r.codes_non_rattaches),
            })
        assigned = self.assignments[self.assignments["cpts_id"].notna()]
        left = self.assignments[self.assignments["cpts_id"].isna()]
        return {
            "perimetre": perimetre,
            "regions": list(self.regions),
            "registre": self.source,
            "regle": RULE,
            "options": {"taille_inchangee": self.keep_tier,
                        "stades_exclus": list(self.exclude_stages)},
            "population_totale": self.population_totale,
            "population_couverte_avant": self.population_couverte_avant,
            "population_couverte_apres": self.population_couverte_apres,
            "taux_couverture_avant": self.taux_avant,
            "taux_couverture_apres": self.taux_apres,
            "effet_financement": self.effet_financement,
            "propositions": props,
            "conciliations": [_conciliation_dict(c)
                              for c in self.conciliations.itertuples(index=False)],
            "rattachements": [
                {"code": a.code, "nom": a.nom, "population": int(a.population),
                 "zone_blanche": a.zone_blanche, "cpts_id": a.cpts_id, "cpts_nom": a.cpts_nom,
                 "tour": int(a.tour), "longueur_frontiere_m": _metres(a.longueur_frontiere_m)}
                for a in assigned.itertuples(index=False)],
            "non_rattachees": [
                {"code": a.code, "nom": a.nom, "population": int(a.population),
                 "zone_blanche": a.zone_blanche, "motif": a.motif, "raison": a.raison}
                for a in left.itertuples(index=False)],
            "effets": [
                {"cpts_id": e.cpts_id, "cpts_nom": e.cpts_nom, "stade": e.stade,
                 "codes_ajoutes": list(e.codes_ajoutes), "codes_retires": list(e.codes_retires),
                 **{k: _plain(getattr(e, k)) for k in EFFECT_COLUMNS[5:]}}
                for e in self.effets.itertuples(index=False)],
            "avertissements": list(self.warnings),
        }


def _rate(part: int, total: int) -> float:
    return round(100.0 * part / total, 2) if total else 0.0


def _plain(value: Any) -> Any:
    if isinstance(value, (np.bool_, bool)):
        return bool(value)
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (np.floating, float)):
        return None if np.isnan(value) else float(value)
    return value


def _metres(value: Any) -> float | None:
    return None if value is None or pd.isna(value) else round(float(value), 1)


def _candidate_dict(c: Any) -> dict[str, Any]:
    out = {k: _plain(getattr(c, k)) for k in CANDIDATE_COLUMNS[1:]}
    out["longueur_frontiere_m"] = _metres(c.longueur_frontiere_m)
    return out


def _conciliation_dict(c: Any) -> dict[str, Any]:
    def figures(suffix: str) -> dict[str, Any]:
        return {f: _plain(getattr(c, f"{f}_{suffix}")) for f in _FIGURES}

    return {
        "conciliation": c.conciliation, "cpts_a": c.cpts_a, "nom_a": c.nom_a,
        "stade_a": c.stade_a, "cpts_b": c.cpts_b, "nom_b": c.nom_b, "stade_b": c.stade_b,
        "codes": list(c.codes), "communes": list(c.communes), "population": int(c.population),
        "frontiere_a_m": _metres(c.frontiere_a_m), "frontiere_b_m": _metres(c.frontiere_b_m),
        "options": [
            {"option": "A", "garde": c.cpts_a, "perd": c.cpts_b,
             "effets": {c.cpts_a: figures("a"), c.cpts_b: figures("b_sans")}},
            {"option": "B", "garde": c.cpts_b, "perd": c.cpts_a,
             "effets": {c.cpts_a: figures("a_sans"), c.cpts_b: figures("b")}},
        ],
        "proposition": c.proposition, "codes_a": list(c.codes_a), "codes_b": list(c.codes_b),
        "codes_autres": list(c.codes_autres),
    }


# --------------------------------------------------------------------------------------------
# the growth engine


_Choose = Callable[[int, dict[str, float]], "tuple[str, ...] | None"]


def _grow(todo: Sequence[int], codes: np.ndarray, nbrs: list[list[tuple[int, float]]],
          fixed: dict[int, tuple[str, ...]], choose: _Choose, *,
          group: dict[int, object] | None = None, force: bool = False
          ) -> dict[int, tuple[tuple[str, ...], int, float]]:
    """Assign the nodes ``todo`` by rounds, growing from the territories ``fixed``.

    At each round, every node of ``todo`` still pending that borders a territory (a node of
    ``fixed`` or one assigned at an earlier round; with ``group``, only those of its own group)
    is offered the CPTS it borders with their shared boundary lengths (``choose(node, scores)``,
    which returns the CPTS that hold the node, the first being the one chosen, or ``None``).
    With ``force``, when a round assigns nothing, the first pending node (by code) is offered no
    score at all, and growth goes on.

    Returns
    -------
    dict
        Node → (holders, round, length of the boundary with the chosen CPTS).
    """
    pending = set(todo)
    held: dict[int, tuple[str, ...]] = {}
    out: dict[int, tuple[tuple[str, ...], int, float]] = {}
    check = sorted(pending, key=lambda n: codes[n])
    round_no = 0
    while pending:
        round_no += 1
        batch: list[tuple[float, str, int, dict[str, float]]] = []
        for u in check:
            scores: dict[str, float] = {}
            for v, length in nbrs[u]:
                if v in pending:
                    continue
                if v in held:
                    if group is not None and group.get(v) != group.get(u):
                        continue
                    owners = held[v]
                else:
                    owners = fixed.get(v, ())
                for c in owners:
                    scores[c] = scores.get(c, 0.0) + length
            if scores:
                batch.append((-max(scores.values()), str(codes[u]), u, scores))
        batch.sort(key=lambda t: (t[0], t[1]))
        done: list[int] = []
        for _, _, u, scores in batch:
            holders = choose(u, scores)
            if holders:
                out[u] = (holders, round_no, float(scores.get(holders[0], 0.0)))
                done.append(u)
        if not done and force and pending:
            u = min(pending, key=lambda n: codes[n])
            holders = choose(u, {})
            if holders:
                out[u] = (holders, round_no, 0.0)
                done.append(u)
        if not done:
            break
        for u in done:
            held[u] = out[u][0]
            pending.discard(u)
        check = sorted({v for u in done for v, _ in nbrs[u] if v in pending},
                       key=lambda n: codes[n])
    return out


def _ranked(scores: dict[str, float], allowed: Iterable[str], population: dict[str, float]
            ) -> list[str]:
    """``allowed`` by the rule: longest boundary, then smallest population, then identifier."""
    return sorted(allowed, key=lambda c: (-scores.get(c, 0.0), population.get(c, 0.0), c))


# --------------------------------------------------------------------------------------------
# the proposal


def propose(registry: Registry, reference: Reference, *, region: str | None = None,
            keep_tier: bool = False, exclude_stages: Iterable[str] = ()) -> Proposals:
    """Propose how to close the zones blanches and settle the conflicts of a registry.

    The rule is the module's (see :data:`RULE`): conflicts first, each disputed unit to the
    claimant sharing the longest boundary with it; then every unit of a zone blanche, by rounds
    from the existing territories, to the bordering CPTS with the longest shared boundary (ties:
    the least populated, then the smallest identifier). The result is the same on every run.

    Parameters
    ----------
    registry
        The CPTS registry.
    reference
        The reference data (with the unit polygons).
    region
        A région code: work on its zones blanches and conflicts only. By default, every région
        where the registry claims at least one unit.
    keep_tier
        Never assign a unit of a zone blanche to a CPTS whose ACI size tier would change.
    exclude_stages
        Stages (keys of :data:`~cpts_geo.registry.stages.STAGES`, or labels) whose CPTS take no
        unit of a zone blanche.

    Returns
    -------
    Proposals

    Raises
    ------
    CptsGeoError
        When ``region`` is not a région code or a stage is unknown.

    Examples
    --------
    >>> p = propose(reg, ref, region="93")
    >>> p.propositions[["zone_blanche", "statut"]].head(2).to_numpy().tolist()
    [['ZB-93-001', 'candidats'], ['ZB-93-002', 'candidats']]
    >>> a = p.assignments.set_index("code")
    >>> a.at["13201", "cpts_id"], int(a.at["13201", "tour"])
    ('PACA-010', 1)
    >>> p.taux_avant, p.taux_apres, p.conciliations.empty
    (98.06, 100.0, True)

    The candidates of Marseille 1er (37 599 inhabitants), longest boundary first; with
    ``keep_tier``, those whose ACI tier would change are not eligible:

    >>> k = propose(reg, ref, region="93", keep_tier=True)
    >>> c = k.candidats[k.candidats["zone_blanche"] == "ZB-93-001"]
    >>> for row in c[["cpts_id", "taille_avant", "taille_apres", "eligible"]].to_numpy():
    ...     print(*row)
    PACA-010 3 3 True
    PACA-002 3 3 True
    PACA-069 1 2 False
    PACA-027 1 2 False
    """
    excluded = stages_option(exclude_stages)
    finest = reference.finest
    members = membership(registry, reference)
    if region is not None:
        regions: tuple[str, ...] = (reference.region_code(region),)
    else:
        regions = perimeter(registry, reference, members)
    scope = finest.index[finest["region"].isin(regions)]
    cpts = registry.cpts
    before = dissolve(members, cpts, reference, geometry=False).table
    pp0 = before["population_ponderee"].astype(float).to_dict()
    stage_of = cpts["stade"].to_dict()
    scoped = members[members["code"].isin(scope)]
    disputed = conflict_units(scoped, reference)
    pairs = conflicts(scoped, reference, cpts["cpts_nom"])
    zb = zones_blanches(members, reference, scope=scope)
    gap_codes = [c for codes in zb["codes"] for c in codes]
    disputed_codes = list(disputed["code"])

    # the borders around the gaps and the disputed units, with every unit of the CPTS there
    near = neighbouring_units(reference, gap_codes + disputed_codes)
    around = set(members.loc[members["code"].isin(near + disputed_codes), "cpts_id"])
    nodes = list(dict.fromkeys(gap_codes + disputed_codes + near + list(
        members.loc[members["cpts_id"].isin(around), "code"])))
    graph = border_graph(reference, nodes, measure=gap_codes + disputed_codes)
    codes = graph.codes
    nbrs = graph.neighbour_lists()
    position = dict(zip(codes.tolist(), range(len(codes)), strict=True))
    owners = _owners(members, position)

    # 1. conflicts
    claims_of: dict[str, dict[str, bool]] = {}
    for code, cid, share in members.loc[members["code"].isin(disputed_codes),
                                        ["code", "cpts_id", "partage"]].itertuples(index=False):
        claims_of.setdefault(code, {})[cid] = bool(share)

    def choose_dispute(u: int, scores: dict[str, float]) -> tuple[str, ...] | None:
        claim = claims_of[str(codes[u])]
        allowed = [c for c in claim if c in scores] if scores else list(claim)
        if not allowed:
            return None
        winner = _ranked(scores, allowed, pp0)[0]
        if claim[winner]:
            return (winner, *sorted(c for c, s in claim.items() if s and c != winner))
        return (winner,)

    fixed = {n: o for n, o in owners.items() if str(codes[n]) not in claims_of}
    disputed_nodes = [position[c] for c in disputed_codes]
    settled = _grow(disputed_nodes, codes, nbrs, fixed, choose_dispute, force=True)
    removed: set[tuple[str, str]] = set()
    resolution_rows = []
    units = reference.units
    for c in disputed_codes:
        holders, round_no, length = settled[position[c]]
        lost = sorted(set(claims_of[c]) - set(holders))
        removed.update((cid, c) for cid in lost)
        resolution_rows.append({
            "code": c, "nom": units.at[c, "nom"], "population": int(units.at[c, "population"]),
            "cpts": sorted(claims_of[c]), "cpts_id": holders[0], "conserve": list(holders),
            "retire": lost, "tour": round_no, "longueur_frontiere_m": length})
    resolutions = pd.DataFrame(resolution_rows, columns=list(RESOLUTION_COLUMNS))

    # 2. zones blanches, from the territories once the conflicts are resolved
    resolved = members[[(cid, c) not in removed for cid, c in
                        zip(members["cpts_id"], members["code"], strict=True)]]
    pp = dissolve(resolved, cpts, reference, geometry=False).table[
        "population_ponderee"].astype(float).to_dict()
    start_tier = {c: tier(int(p)) for c, p in pp.items()}
    fixed_after = dict(fixed)
    for c in disputed_codes:
        fixed_after[position[c]] = settled[position[c]][0]
    zone_of = {position[c]: z for z, cs in zip(zb["zone_blanche"], zb["codes"], strict=True)
               for c in cs}
    population = units["population"].reindex(codes).fillna(0).to_numpy(dtype=np.int64)
    blocked: dict[int, dict[str, str]] = {}

    def choose_gap(u: int, scores: dict[str, float]) -> tuple[str, ...] | None:
        for c in _ranked(scores, scores, pp):
            if stage_of.get(c) in excluded:
                blocked.setdefault(u, {})[c] = f"stade {LABELS[stage_of[c]].lower()} exclu"
                continue
            if keep_tier and tier(int(pp.get(c, 0) + population[u])) != start_tier.get(c, 1):
                blocked.setdefault(u, {})[c] = "changerait de taille ACI"
                continue
            pp[c] = pp.get(c, 0.0) + float(population[u])
            return (c,)
        return None

    grown = _grow([position[c] for c in gap_codes], codes, nbrs, fixed_after, choose_gap,
                  group=zone_of)

    # the proposed registry, and the members it gives
    new_claims = {str(codes[n]): holders[0] for n, (holders, _, _) in grown.items()}
    proposed = _proposed_registry(registry, reference, members, removed, new_claims)
    after_members = membership(proposed, reference)
    after = dissolve(after_members, proposed.cpts, reference, geometry=False).table

    # candidates of each zone blanche: the CPTS bordering it today
    candidats, propositions, assignments = _zone_tables(
        zb, graph, nbrs, owners, position, before, members, stage_of, excluded, keep_tier,
        grown, blocked, units)
    conc = _conciliations(pairs, members, before, graph, position, nbrs, owners, settled,
                          stage_of, reference)
    effets = _effects(members, after_members, before, after, graph, stage_of, cpts)
    covered_before = int(units["population"].reindex(
        pd.Index(scoped["code"].unique())).sum())
    after_scoped = after_members[after_members["code"].isin(scope)]
    covered_after = int(units["population"].reindex(
        pd.Index(after_scoped["code"].unique())).sum())
    total = int(finest.loc[scope, "population"].sum())
    return Proposals(regions, keep_tier, excluded, propositions, candidats, assignments, conc,
                     resolutions, effets, proposed, registry.source, total, covered_before,
                     covered_after, tuple(registry.warnings))


def _owners(members: pd.DataFrame, position: dict[str, int]) -> dict[int, tuple[str, ...]]:
    """Node → the CPTS claiming it (sorted), for the units of the graph that are claimed."""
    frame = members.loc[members["code"].isin(position), ["code", "cpts_id"]]
    frame = frame.sort_values(["code", "cpts_id"], kind="stable")
    owners: dict[int, list[str]] = {}
    for code, cid in zip(frame["code"].tolist(), frame["cpts_id"].tolist(), strict=True):
        owners.setdefault(position[code], []).append(cid)
    return {n: tuple(ids) for n, ids in owners.items()}


def _codes_by_cpts(members: pd.DataFrame, ids: Iterable[str]) -> dict[str, list[str]]:
    """``cpts_id`` → its codes (in members order), for the CPTS ``ids``."""
    wanted = set(ids)
    sub = members.loc[members["cpts_id"].isin(wanted), ["cpts_id", "code"]]
    out: dict[str, list[str]] = {c: [] for c in wanted}
    for cid, code in zip(sub["cpts_id"].tolist(), sub["code"].tolist(), strict=True):
        out[cid].append(code)
    return out


def _figures(population: float, weighted: float, parts: int) -> dict[str, Any]:
    served = round(float(weighted))
    return {"population": round(float(population)), "population_ponderee": served,
            "taille": tier(served), "plafond": ceiling(served),
            "d_un_seul_tenant": bool(parts <= 1)}


def _zone_tables(zb: pd.DataFrame, graph: BorderGraph, nbrs: list[list[tuple[int, float]]],
                 owners: dict[int, tuple[str, ...]], position: dict[str, int],
                 before: pd.DataFrame, members: pd.DataFrame, stage_of: dict[str, str],
                 excluded: tuple[str, ...], keep_tier: bool,
                 grown: dict[int, tuple[tuple[str, ...], int, float]],
                 blocked: dict[int, dict[str, str]], units: pd.DataFrame
                 ) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """The candidates, propositions and assignments tables of :func:`propose`."""
    rows: list[dict[str, Any]] = []
    scenario_group: list[str] = []
    scenario_code: list[str] = []
    for z, zone_codes in zip(zb["zone_blanche"], zb["codes"], strict=True):
        length: dict[str, float] = {}
        for c in zone_codes:
            for v, d in nbrs[position[c]]:
                for cid in owners.get(v, ()):
                    length[cid] = length.get(cid, 0.0) + d
        for cid in length:
            rows.append({"zone_blanche": z, "cpts_id": cid, "longueur_frontiere_m": length[cid]})
            scenario_group.extend([f"{z}|{cid}"] * len(zone_codes))
            scenario_code.extend(zone_codes)
    cand = pd.DataFrame(rows, columns=["zone_blanche", "cpts_id", "longueur_frontiere_m"])
    own = members.loc[members["cpts_id"].isin(cand["cpts_id"]), ["cpts_id", "code"]]
    parts_now = count_parts(graph, own.rename(columns={"cpts_id": "group"}))
    if len(cand):
        territory = cand.merge(own, on="cpts_id")
        groups = pd.concat([pd.DataFrame({"group": territory["zone_blanche"] + "|"
                                          + territory["cpts_id"], "code": territory["code"]}),
                            pd.DataFrame({"group": scenario_group, "code": scenario_code})],
                           ignore_index=True)
        parts_after = count_parts(graph, groups)
    else:
        parts_after = pd.Series(dtype="int64")
    zone_pop = dict(zip(zb["zone_blanche"], zb["population"].astype(int), strict=True))
    figures = before.to_dict("index")
    out = []
    for r in cand.itertuples(index=False):
        b = figures[r.cpts_id]
        added = zone_pop[r.zone_blanche]
        pp_before, pp_after = int(b["population_ponderee"]), int(b["population_ponderee"]) + added
        stage = stage_of.get(r.cpts_id, "non_renseigne")
        motif = None
        if stage in excluded:
            motif = f"stade {LABELS[stage].lower()} exclu"
        elif keep_tier and tier(pp_after) != tier(pp_before):
            motif = "changerait de taille ACI"
        out.append({
            "zone_blanche": r.zone_blanche, "cpts_id": r.cpts_id, "cpts_nom": b["cpts_nom"],
            "stade": stage, "longueur_frontiere_m": round(float(r.longueur_frontiere_m), 1),
            "population_ajoutee": added, "population_avant": int(b["population"]),
            "population_apres": int(b["population"]) + added,
            "population_ponderee_avant": pp_before, "population_ponderee_apres": pp_after,
            "taille_avant": tier(pp_before), "taille_apres": tier(pp_after),
            "plafond_avant": ceiling(pp_before), "plafond_apres": ceiling(pp_after),
            "effet_financement": ceiling(pp_after) - ceiling(pp_before),
            "d_un_seul_tenant_avant": bool(parts_now.get(r.cpts_id, 1) <= 1),
            "d_un_seul_tenant": bool(parts_after.get(f"{r.zone_blanche}|{r.cpts_id}", 1) <= 1),
            "eligible": motif is None, "motif": motif,
        })
    candidats = pd.DataFrame(out, columns=list(CANDIDATE_COLUMNS))
    if len(candidats):
        order = np.lexsort((candidats["cpts_id"].to_numpy(),
                            candidats["population_ponderee_avant"].to_numpy(),
                            -candidats["longueur_frontiere_m"].to_numpy(),
                            candidats["zone_blanche"].map(
                                {z: i for i, z in enumerate(zb["zone_blanche"])}).to_numpy()))
        candidats = candidats.iloc[order].reset_index(drop=True)

    assign_rows = []
    with_candidates = set(candidats["zone_blanche"])
    all_codes = [c for codes in zb["codes"] for c in codes]
    name_of = dict(zip(all_codes, units["nom"].reindex(all_codes).tolist(), strict=True))
    pop_of = dict(zip(all_codes, units["population"].reindex(all_codes).tolist(), strict=True))
    for z, zone_codes, region in zip(zb["zone_blanche"], zb["codes"], zb["region"],
                                     strict=True):
        has_candidates = z in with_candidates
        for c in zone_codes:
            n = position[c]
            row: dict[str, Any] = {"code": c, "nom": name_of[c],
                                   "population": int(pop_of[c]),
                                   "zone_blanche": z, "region": region, "cpts_id": None,
                                   "cpts_nom": None, "tour": None,
                                   "longueur_frontiere_m": None, "motif": None, "raison": None}
            if n in grown:
                holders, round_no, length = grown[n]
                row.update(cpts_id=holders[0], cpts_nom=figures[holders[0]]["cpts_nom"],
                           tour=round_no, longueur_frontiere_m=round(length, 1))
            elif not has_candidates:
                row.update(motif="sans_cpts_limitrophe", raison=REASONS["sans_cpts_limitrophe"])
            elif n in blocked:
                shown = "; ".join(f"{cid} ({why})" for cid, why in sorted(blocked[n].items()))
                row.update(motif="cpts_ecartees",
                           raison=f"{REASONS['cpts_ecartees']} : {shown}")
            else:
                row.update(motif="sans_chemin", raison=REASONS["sans_chemin"])
            assign_rows.append(row)
    assignments = pd.DataFrame(assign_rows, columns=list(ASSIGNMENT_COLUMNS))
    assignments["tour"] = assignments["tour"].astype("Int64")

    prop_rows = []
    given: dict[str, dict[str, list[str]]] = {}
    left: dict[str, list[str]] = {}
    for z, code, cid in zip(assignments["zone_blanche"].tolist(), assignments["code"].tolist(),
                            assignments["cpts_id"].tolist(), strict=True):
        if cid is None or cid != cid:
            left.setdefault(z, []).append(code)
        else:
            given.setdefault(z, {}).setdefault(cid, []).append(code)
    cands_of: dict[str, list[str]] = {}
    for z, cid in zip(candidats["zone_blanche"].tolist(), candidats["cpts_id"].tolist(),
                      strict=True):
        cands_of.setdefault(z, []).append(cid)
    for r in zb.itertuples(index=False):
        ratt = dict(sorted(given.get(r.zone_blanche, {}).items()))
        cands = cands_of.get(r.zone_blanche, [])
        prop_rows.append({
            "zone_blanche": r.zone_blanche, "region": r.region, "codes": list(r.codes),
            "communes": list(r.communes), "n_unites": int(r.n_unites),
            "population": int(r.population), "departements": r.departements,
            "candidats": cands, "statut": "candidats" if cands else "sans_cpts_limitrophe",
            "rattachement": ratt,
            "codes_non_rattaches": left.get(r.zone_blanche, []),
        })
    propositions = pd.DataFrame(prop_rows, columns=list(PROPOSITION_COLUMNS))
    return candidats, propositions, assignments


def _conciliations(pairs: pd.DataFrame, members: pd.DataFrame, before: pd.DataFrame,
                   graph: BorderGraph, position: dict[str, int],
                   nbrs: list[list[tuple[int, float]]], owners: dict[int, tuple[str, ...]],
                   settled: dict[int, tuple[tuple[str, ...], int, float]],
                   stage_of: dict[str, str], reference: Reference) -> pd.DataFrame:
    """One row per conflicting pair: each CPTS with and without the disputed units."""
    if pairs.empty:
        return pd.DataFrame(columns=list(CONCILIATION_COLUMNS))
    involved = set(pairs["cpts_a"]) | set(pairs["cpts_b"])
    sub = members[members["cpts_id"].isin(involved)]
    weight_all = shared_weights(members)[members["cpts_id"].isin(involved).to_numpy()]
    weights = dict(zip(zip(sub["cpts_id"].tolist(), sub["code"].tolist(), strict=True),
                       weight_all.tolist(), strict=True))
    pops = reference.units["population"]
    disputed_all = {str(graph.codes[n]) for n in settled}
    own_codes = _codes_by_cpts(members, involved)
    # each pair's territories without the pair's disputed units, for the one-piece test
    group_ids: list[str] = []
    group_codes: list[str] = []
    for k, r in enumerate(pairs.itertuples(index=False)):
        for side in (r.cpts_a, r.cpts_b):
            kept = [c for c in own_codes[side] if c not in set(r.codes)]
            group_ids.extend([f"{k}|{side}"] * len(kept))
            group_codes.extend(kept)
    for side in sorted(involved):
        group_ids.extend([side] * len(own_codes[side]))
        group_codes.extend(own_codes[side])
    parts = count_parts(graph, pd.DataFrame({"group": group_ids, "code": group_codes}))
    rows = []
    numbers: dict[str, int] = {}
    for k, r in enumerate(pairs.itertuples(index=False)):
        region = str(reference.units.at[r.codes[0], "region"])
        numbers[region] = numbers.get(region, 0) + 1
        row: dict[str, Any] = {
            "conciliation": f"CC-{region}-{numbers[region]:03d}", "cpts_a": r.cpts_a,
            "nom_a": r.nom_a,
            "stade_a": stage_of.get(r.cpts_a), "cpts_b": r.cpts_b, "nom_b": r.nom_b,
            "stade_b": stage_of.get(r.cpts_b), "codes": list(r.codes),
            "communes": list(r.communes), "n_unites": int(r.n_unites),
            "population": int(r.population)}
        for side, key in ((r.cpts_a, "a"), (r.cpts_b, "b")):
            b = before.loc[side]
            lost_pop = float(pops.reindex(r.codes).sum())
            lost_pp = float(sum(weights.get((side, c), 1.0) * pops[c] for c in r.codes))
            now = _figures(b["population"], b["population_ponderee"], parts.get(side, 1))
            without = _figures(b["population"] - lost_pop, b["population_ponderee"] - lost_pp,
                               parts.get(f"{k}|{side}", 0))
            if not [c for c in own_codes[side] if c not in set(r.codes)]:
                without["d_un_seul_tenant"] = False  # nothing left
            for f in _FIGURES:
                row[f"{f}_{key}"] = now[f]
                row[f"{f}_{key}_sans"] = without[f]
            # boundary of the pair's units with the undisputed rest of this territory
            row[f"frontiere_{key}_m"] = round(sum(
                d for c in r.codes for v, d in nbrs[position[c]]
                if side in owners.get(v, ()) and str(graph.codes[v]) not in disputed_all), 1)
        winners = {c: settled[position[c]][0] for c in r.codes}
        row["codes_a"] = [c for c in r.codes if r.cpts_a in winners[c]]
        row["codes_b"] = [c for c in r.codes if r.cpts_b in winners[c]]
        row["codes_autres"] = [c for c in r.codes
                               if r.cpts_a not in winners[c] and r.cpts_b not in winners[c]]
        keepers = {winners[c][0] for c in r.codes}
        row["proposition"] = keepers.pop() if len(keepers) == 1 else "répartie"
        rows.append(row)
    return pd.DataFrame(rows, columns=list(CONCILIATION_COLUMNS))


def _effects(members: pd.DataFrame, after_members: pd.DataFrame, before: pd.DataFrame,
             after: pd.DataFrame, graph: BorderGraph, stage_of: dict[str, str],
             cpts: pd.DataFrame) -> pd.DataFrame:
    """One row per CPTS whose units the proposal changes, before and after."""
    # only CPTS that gained or lost a unit can have changed: compare their sets of units
    gained = after_members[~after_members["code"].isin(set(members["code"]))]["cpts_id"]
    moved = set(members["cpts_id"]) - set(after_members["cpts_id"])
    disputed = members[members.duplicated("code", keep=False)]["cpts_id"]
    touched = set(gained) | moved | set(disputed)
    old = {c: set(v) for c, v in _codes_by_cpts(members, touched).items()}
    new = {c: set(v) for c, v in _codes_by_cpts(after_members, touched).items()}
    changed = sorted(c for c in old if old[c] != new.get(c, set()))
    if not changed:
        return pd.DataFrame(columns=list(EFFECT_COLUMNS))
    parts_before = count_parts(graph, members.loc[members["cpts_id"].isin(changed),
                                                  ["cpts_id", "code"]].rename(
                                                      columns={"cpts_id": "group"}))
    parts_after = count_parts(graph, after_members.loc[after_members["cpts_id"].isin(changed),
                                                       ["cpts_id", "code"]].rename(
                                                           columns={"cpts_id": "group"}))
    rows = []
    for c in changed:
        b = before.loc[c]
        a = after.loc[c] if c in after.index else None
        pp_a = int(a["population_ponderee"]) if a is not None else 0
        rows.append({
            "cpts_id": c, "cpts_nom": b["cpts_nom"], "stade": stage_of.get(c),
            "codes_ajoutes": sorted(new.get(c, set()) - old[c]),
            "codes_retires": sorted(old[c] - new.get(c, set())),
            "population_avant": int(b["population"]),
            "population_apres": int(a["population"]) if a is not None else 0,
            "population_ponderee_avant": int(b["population_ponderee"]),
            "population_ponderee_apres": pp_a,
            "taille_avant": int(b["taille"]), "taille_apres": tier(pp_a),
            "plafond_avant": int(b["plafond_aci"]), "plafond_apres": ceiling(pp_a),
            "effet_financement": ceiling(pp_a) - int(b["plafond_aci"]),
            "d_un_seul_tenant_avant": bool(parts_before.get(c, 1) <= 1),
            "d_un_seul_tenant_apres": bool(a is not None and parts_after.get(c, 1) <= 1),
        })
    return pd.DataFrame(rows, columns=list(EFFECT_COLUMNS))


def _proposed_registry(registry: Registry, reference: Reference, members: pd.DataFrame,
                       removed: set[tuple[str, str]], new_claims: dict[str, str]) -> Registry:
    """The input's claims with the losing claims removed and one claim per assigned unit.

    A claim on a whole city that loses one arrondissement becomes one claim per arrondissement
    it keeps. New claims are placed after the last claim of their CPTS, by code.
    """
    claims = registry.claims.reset_index(drop=True)
    units = reference.units
    extra = [c for c in claims.columns if c not in {"cpts_id", "cpts_nom", "stade", "code",
                                                    "partage", "ligne"}]
    keys = pd.MultiIndex.from_arrays([claims["cpts_id"], claims["code"]])
    drop = keys.isin(list(removed)) if removed else np.zeros(len(claims), dtype=bool)
    losers = {cid for cid, _ in removed}
    whole = (~claims["code"].isin(reference.finest.index) & claims["cpts_id"].isin(losers)
             & ~drop).to_numpy()
    pieces = [claims[~drop & ~whole].assign(_pos=np.flatnonzero(~drop & ~whole), _sub=0,
                                             _code="")]
    for i in np.flatnonzero(whole).tolist():  # a city claimed whole that loses arrondissements
        rec = claims.iloc[[i]]
        cid, city = rec["cpts_id"].iloc[0], rec["code"].iloc[0]
        kept = [u for u in reference.expand(city) if (cid, u) not in removed]
        pieces.append(pd.concat([rec] * len(kept), ignore_index=True).assign(
            code=kept, _pos=i, _sub=np.arange(len(kept)), _code=""))
    if new_claims:
        last = claims.reset_index().groupby("cpts_id")["index"].max()
        new_codes = sorted(new_claims, key=lambda c: (new_claims[c], c))
        ids = [new_claims[c] for c in new_codes]
        cpts = registry.cpts
        new = pd.DataFrame({"cpts_id": ids,
                            "cpts_nom": cpts["cpts_nom"].reindex(ids).to_numpy(),
                            "stade": cpts["stade"].reindex(ids).to_numpy(),
                            "code": new_codes, "partage": False,
                            "ligne": pd.array([pd.NA] * len(ids), dtype="Int64")})
        for col in extra:
            folded = fold_column(col)
            if folded in _UNIT_NAME_COLUMNS:
                new[col] = units["nom"].reindex(new_codes).to_numpy()
            elif folded in _DEPARTEMENT_COLUMNS:
                new[col] = units["departement"].reindex(new_codes).to_numpy()
            else:
                new[col] = ""
        pieces.append(new.assign(_pos=last.reindex(ids).fillna(len(claims)).to_numpy(),
                                 _sub=1_000_000, _code=new_codes))
    frame = pd.concat(pieces, ignore_index=True).sort_values(["_pos", "_sub", "_code"],
                                                             kind="stable")
    frame = frame.drop(columns=["_pos", "_sub", "_code"]).reset_index(drop=True)
    for col in claims.columns:
        frame[col] = frame[col].astype(claims[col].dtype)
    return Registry(frame[list(claims.columns)], f"{registry.source} (proposition)", (),
                    dict(registry.remapped))
