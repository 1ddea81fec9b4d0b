"""One call from a registry to every analysis result: territories, conflicts, gaps, coverage.

:func:`analyse` wires :mod:`~cpts_geo.analysis.territories`, :mod:`~cpts_geo.analysis.overlaps`
and :mod:`~cpts_geo.analysis.coverage` together for a registry, nationally or for one région; the
command line and the atlas read its :class:`Analysis`. :func:`summary` gives the
``coverage --json`` object.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from ..registry import membership, scope_regions
from ..registry.stages import STAGES, THRESHOLDS
from .coverage import coverage_table, zones_blanches
from .model import Analysis
from .overlaps import conflict_units, conflicts, shared_communes
from .territories import Territories, dissolve

if TYPE_CHECKING:
    from ..reference import Reference
    from ..registry import Registry

__all__ = ["Analysis", "analyse", "for_region", "summary"]




def analyse(registry: Registry, reference: Reference, *, region: str | None = None,
            france: bool = False, geometry: bool = True, cache: bool = True) -> Analysis:
    """Analyse a registry: territories, conflicts, shared communes, zones blanches, coverage.

    Parameters
    ----------
    registry
        The CPTS registry.
    reference
        The reference data.
    region
        A région code (``93`` for PACA) to restrict the analysis to. Without it, the analysis
        covers the registry's perimeter: the régions where its CPTS are (a regional registry
        says nothing of the rest of France).
    france
        Analyse all of France, whatever the registry's perimeter (ignored with ``region``).
    geometry
        Compute polygons (territories, areas, zones blanches). Without it, zones blanches are
        not grouped (one per unit) and areas are left out.
    cache
        Read the analysis from the cache directory when the same registry was analysed the
        same way with the same reference data and tool (:mod:`cpts_geo.analysis.cache`), and
        store it there otherwise.

    Returns
    -------
    Analysis

    Raises
    ------
    CptsGeoError
        When ``region`` is not a région code.

    Examples
    --------
    >>> paca = analyse(reg, ref, region="93")
    >>> len(paca.territories.table), paca.conflits.empty, paca.partages["nom"].tolist()
    (70, True, ['Nice', 'Toulon'])
    >>> gap = paca.zones_blanches.iloc[0]  # the most populated zone blanche
    >>> gap["zone_blanche"], gap["communes"], int(gap["population"])
    ('ZB-93-001', ['Marseille 1er Arrondissement'], 37599)
    >>> analyse(reg, ref, region="99")
    Traceback (most recent call last):
    ...
    cpts_geo.errors.CptsGeoError: --region '99' is not a région code; use one of: 01
    (Guadeloupe), 02 (Martinique), ...
    """
    if region is not None:
        region = reference.region_code(region)
    if not cache:
        return _analyse(registry, reference, region, france, geometry)
    from .cache import analysis_key, load_analysis, store_analysis

    key = analysis_key(registry, reference, region=region, france=france, geometry=geometry)
    found = load_analysis(key, registry, reference)
    if found is not None:
        found.memo["cache_key"] = key  # what is derived from it may be cached under its key
        return found
    result = _analyse(registry, reference, region, france, geometry)
    store_analysis(key, result)
    result.memo["cache_key"] = key
    return result


def _analyse(registry: Registry, reference: Reference, region: str | None, france: bool,
             geometry: bool) -> Analysis:
    """:func:`analyse`, computed."""
    finest = reference.finest
    all_members = membership(registry, reference)
    regions = scope_regions(registry, reference, all_members, region=region, france=france)
    if regions is None:
        members = all_members
        scope = None
    else:
        scope = finest.index[finest["region"].isin(regions)]
        inside = all_members.loc[all_members["region"].isin(regions), "cpts_id"].unique()
        members = all_members[all_members["cpts_id"].isin(inside)]
    cpts = registry.cpts
    territories = dissolve(members, cpts.loc[members["cpts_id"].unique()], reference,
                           geometry=geometry)
    scoped = members if scope is None else members[members["code"].isin(scope)]
    names = cpts["cpts_nom"]
    conf = conflicts(scoped, reference, names)
    conf_units = conflict_units(scoped, reference)
    shares = shared_communes(scoped, reference)
    if geometry:
        zb = zones_blanches(members, reference, scope=scope)
    else:
        zb = _ungrouped_gaps(members, reference, scope)
    levels = {lvl: coverage_table(members, reference, level=lvl, scope=scope)  # type: ignore[arg-type]
              for lvl in ("france", "region", "departement")}
    return Analysis(reference, registry, region, members, territories, conf, conf_units, shares,
                    zb, levels, regions)


def _ungrouped_gaps(members: pd.DataFrame, reference: Reference,
                    scope: pd.Index | None) -> pd.DataFrame:
    from .coverage import gap_codes

    gaps = gap_codes(members, reference, scope)
    u = reference.units.loc[gaps]
    return pd.DataFrame({
        "zone_blanche": [f"ZB-{r}-{i:03d}" for r, i in zip(
            u["region"], u.groupby("region").cumcount() + 1, strict=True)],
        "codes": [[c] for c in u.index], "communes": [[n] for n in u["nom"]],
        "n_unites": 1, "population": u["population"].to_numpy(),
        "superficie_km2": float("nan"), "region": u["region"].to_numpy(),
        "departements": u["departement"].to_numpy(), "zone": u["zone"].to_numpy()})


def summary(analysis: Analysis) -> dict[str, Any]:
    """The ``coverage --json`` object of an analysis.

    Keys: ``perimetre`` (the régions the figures are about, in words), ``perimetre_regions``
    (their codes), ``regions_hors_perimetre`` (régions where CPTS of the registry claim units
    but that are outside the perimeter: a CPTS crossing a border), ``population_totale``,
    ``population_couverte``, ``taux_couverture`` (percent, every stage, 2 decimals),
    ``par_stade`` (the three figures at each stage threshold, and the number of CPTS at each
    stage), ``zones_blanches`` (``codes``, ``population``...), ``conflits`` (``cpts_a``,
    ``cpts_b``, ``codes``, ``population``...), ``partages`` (``code``, ``cpts``),
    ``communes_par_nom`` (units given by name: ``ligne``, ``valeur``, ``code``, ``nom``, ``par``),
    ``non_cpts`` (units listed as covered by no CPTS) and ``avertissements`` (every warning).

    Examples
    --------
    >>> s = summary(analysis)  # analyse(reg, ref, region="93")
    >>> s["perimetre"], s["n_cpts"], s["population_totale"], s["taux_couverture"]
    ("93 Provence-Alpes-Côte d'Azur", 70, 5218960, 98.06)
    >>> s["par_stade"]["fonctionnement"]["taux_couverture"], len(s["zones_blanches"])
    (0.0, 7)
    >>> s["partages"][0]
    {'code': '06088', 'nom': 'Nice', 'cpts': ['PACA-028', 'PACA-029', 'PACA-030']}
    """
    row = analysis.couverture["france"].iloc[0]
    reference = analysis.reference
    par_stade: dict[str, Any] = {}
    for name in THRESHOLDS:
        par_stade[name] = {
            "population_totale": int(row["population_totale"]),
            "population_couverte": int(row[f"population_couverte_{name}"]),
            "taux_couverture": float(row[f"taux_{name}"]),
        }
    cpts_in_scope = analysis.territories.table
    scope_regions = sorted(set(reference.finest.loc[analysis.scope, "region"]))
    claimed_regions = set(analysis.members["region"])
    names = analysis.registry.names
    return {
        "perimetre": analysis.label,
        "perimetre_regions": scope_regions,
        "regions_hors_perimetre": sorted(claimed_regions - set(scope_regions)),
        "region": analysis.region,
        "registre": analysis.registry.source,
        "n_cpts": len(cpts_in_scope),
        "n_cpts_par_stade": {s: int((cpts_in_scope["stade"] == s).sum()) for s in STAGES},
        "population_totale": int(row["population_totale"]),
        "population_couverte": int(row["population_couverte_tous_stades"]),
        "taux_couverture": float(row["taux_tous_stades"]),
        "par_stade": par_stade,
        "zones_blanches": [
            {"zone_blanche": r.zone_blanche, "codes": list(r.codes), "communes": list(r.communes),
             "population": int(r.population),
             "superficie_km2": None if pd.isna(r.superficie_km2) else float(r.superficie_km2)}
            for r in analysis.zones_blanches.itertuples(index=False)
        ],
        "conflits": [
            {"cpts_a": r.cpts_a, "nom_a": r.nom_a, "cpts_b": r.cpts_b, "nom_b": r.nom_b,
             "codes": list(r.codes), "communes": list(r.communes),
             "population": int(r.population)}
            for r in analysis.conflits.itertuples(index=False)
        ],
        "partages": [
            {"code": r.code, "nom": r.nom, "cpts": list(r.cpts)}
            for r in analysis.partages.itertuples(index=False)
        ],
        "communes_par_nom": [
            {"ligne": None if pd.isna(r.ligne) else int(r.ligne), "valeur": str(r.valeur),
             "code": str(r.code), "nom": str(r.nom), "par": str(r.par)}
            for r in names.itertuples(index=False)
        ],
        "non_cpts": list(analysis.registry.unclaimed),
        "avertissements": list(analysis.registry.warnings),
    }


def for_region(analysis: Analysis, region: str) -> Analysis:
    """Slice a national analysis to one région without recomputing it.

    Territories of the CPTS touching the région are kept whole and zones blanches (already cut
    at région borders) are filtered, not recomputed; conflicts, shared communes and coverage,
    which need no geometry, are computed on the région's units. The result is the
    same as ``analyse(registry, reference, region=region)``, faster when many régions are needed.

    Examples
    --------
    >>> paca = for_region(national, "93")  # national = analyse(reg, ref)
    >>> float(paca.couverture["france"]["taux_tous_stades"].iloc[0])
    98.06
    >>> summary(paca) == summary(analyse(reg, ref, region="93"))
    True
    """
    slices = analysis.memo.setdefault("for_region", {})
    if region in slices:
        return slices[region]  # type: ignore[no-any-return]
    reference = analysis.reference
    members = analysis.members
    by_region = analysis.memo.get("members_by_region")
    if by_region is None:  # the members' rows of each région, grouped once
        by_region = analysis.memo["members_by_region"] = members.groupby(
            "region", sort=False).indices
    rows = by_region.get(region, np.empty(0, dtype=np.int64))
    ids = pd.unique(members["cpts_id"].to_numpy()[rows])
    members = members[members["cpts_id"].isin(ids)]
    t = analysis.territories
    table = t.table.loc[t.table.index.isin(ids)]
    geoms = {z: g[g.index.isin(ids)] for z, g in t.geometry.items() if g.index.isin(ids).any()}
    scoped = members[(members["region"] == region).to_numpy()]
    names = analysis.registry.cpts["cpts_nom"]
    zb = analysis.zones_blanches
    zb = zb[zb["region"] == region].reset_index(drop=True)
    outside = analysis.perimeter is not None and region not in analysis.perimeter
    if outside or region not in analysis.couverture["region"].index:
        # a région the analysis did not cover: its gaps and figures, computed here
        scope = reference.finest_in("region", region)
        if outside:
            zb = zones_blanches(members, reference, scope=scope)
        couverture = {
            "france": coverage_table(members, reference, level="france", scope=scope),
            "region": coverage_table(members, reference, level="region", scope=scope),
            "departement": coverage_table(members, reference, level="departement",
                                          scope=scope),
        }
    else:
        # the région's own rows of the tables already computed: the same figures (a CPTS
        # present in one of its départements is present in the région)
        couverture = _region_rows(analysis, region)
    if outside:
        units_in_conflict = conflict_units(scoped, reference)
        shared = shared_communes(scoped, reference)
    else:
        # whether a unit is in conflict or shared depends on its own claims only: the rows
        # of the région's units, taken from the wider analysis
        units_in_conflict = _of_region(analysis.conflict_units, reference, region)
        shared = _of_region(analysis.partages, reference, region)
    out = Analysis(reference, analysis.registry, region, members, Territories(table, geoms),
                   conflicts(scoped, reference, names), units_in_conflict, shared, zb,
                   couverture, (region,))
    slices[region] = out
    return out


def _of_region(frame: pd.DataFrame, reference: Reference, region: str) -> pd.DataFrame:
    """The rows of ``frame`` (one per unit, ``code``) whose unit is in ``region``."""
    inside = reference.units["region"].reindex(frame["code"]).to_numpy() == region
    return frame[inside].reset_index(drop=True)


def _region_rows(analysis: Analysis, region: str) -> dict[str, pd.DataFrame]:
    """The coverage tables of one région, taken from those of a wider analysis."""
    region_table = analysis.couverture["region"].loc[[region]]
    top = region_table.rename(index={region: "FR"})
    top["nom"] = "France"
    top.index.name = "code"
    deps = analysis.couverture["departement"]
    of_region = analysis.reference.finest.loc[
        analysis.reference.finest["region"] == region, "departement"].unique()
    return {"france": top, "region": region_table,
            "departement": deps.loc[deps.index.isin(of_region)]}

