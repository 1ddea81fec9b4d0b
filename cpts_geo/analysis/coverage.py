"""Coverage gaps (*zones blanches*) and coverage against the 100 % target.

A **gap** is a finest unit claimed by no CPTS: an unclaimed arrondissement is a gap even when
the other arrondissements of its city are covered. Contiguous gap units form a *zone blanche*.
Coverage is the population of claimed units over the population of all units, nationally, by
région and by département, at the three stage thresholds of the ministry's panorama
(:data:`cpts_geo.registry.stages.THRESHOLDS`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

import numpy as np
import pandas as pd

from ..registry.stages import STAGES, THRESHOLDS
from .topology import components, unit_areas

if TYPE_CHECKING:
    from ..reference import Reference

__all__ = ["coverage_table", "gap_codes", "zones_blanches"]

ZONE_COLUMNS = ("zone_blanche", "codes", "communes", "n_unites", "population", "superficie_km2",
                "region", "departements", "zone")


def _scope_units(reference: Reference, scope: pd.Index | None) -> pd.DataFrame:
    finest = reference.finest
    return finest if scope is None else finest[finest.index.isin(scope)]


def gap_codes(members: pd.DataFrame, reference: Reference,
              scope: pd.Index | None = None) -> pd.Index:
    """Finest units of ``scope`` (default: all of France) claimed by no CPTS.

    Examples
    --------
    >>> paca = ref.finest.index[ref.finest["region"] == "93"]
    >>> gaps = gap_codes(members, ref, paca)
    >>> len(gaps), "13201" in gaps, "13202" in gaps
    (46, True, False)
    """
    units = _scope_units(reference, scope)
    return units.index[~units.index.isin(members["code"])]


def zones_blanches(members: pd.DataFrame, reference: Reference, *,
                   scope: pd.Index | None = None) -> pd.DataFrame:
    """Group the gaps into *zones blanches*: contiguous units claimed by no CPTS.

    Zones blanches are cut at région borders (each ARS sees its own), and numbered by région,
    largest population first: ``ZB-93-001`` is the most populated zone blanche of PACA.

    Parameters
    ----------
    members
        One row per (CPTS, finest unit).
    reference
        The reference data (needs the unit polygons for contiguity).
    scope
        Finest unit codes to consider (e.g. one région); all of France by default.

    Returns
    -------
    pandas.DataFrame
        One row per zone blanche, largest population first: ``zone_blanche`` (``ZB-93-001``),
        ``codes`` (list), ``communes`` (names), ``n_unites``, ``population``,
        ``superficie_km2``, ``region`` (main), ``departements``, ``zone``.

    Examples
    --------
    >>> paca = ref.finest.index[ref.finest["region"] == "93"]
    >>> zb = zones_blanches(members, ref, scope=paca)
    >>> zb["zone_blanche"][0], zb["codes"].head(2).tolist(), zb["population"].head(2).tolist()
    ('ZB-93-001', [['13201'], ['06079', '06138', '83133']], [37599, 24867])
    """
    gaps = gap_codes(members, reference, scope)
    units = reference.units
    finest = reference.finest.loc[gaps]
    areas = unit_areas(reference)
    # Zones blanches are cut at région borders: the parts of each (zone, région) in turn, in
    # order of first appearance, largest first; one adjacency query per zone serves them all.
    rank = finest.groupby(["zone", "region"], sort=False).ngroup().to_numpy()
    parts: list[list[str]] = []
    part_zone: list[str] = []
    part_rank: list[int] = []
    for zone, sub in finest.groupby("zone", sort=False):
        codes = list(sub.index)
        zone_rank = rank[finest.index.get_indexer(codes)]
        first = dict(zip(codes, zone_rank.tolist(), strict=True))
        zone_parts = components(reference, str(zone), codes, split=zone_rank)
        parts.extend(zone_parts)
        part_zone.extend([str(zone)] * len(zone_parts))
        part_rank.extend(first[p[0]] for p in zone_parts)
    order = np.argsort(np.asarray(part_rank, dtype=np.int64), kind="stable")
    rows = _part_rows([parts[i] for i in order], units, areas, [part_zone[i] for i in order])
    out = pd.DataFrame(rows, columns=list(ZONE_COLUMNS[1:]))
    out = out.sort_values(["population", "n_unites"], ascending=False, kind="stable")
    rank = out.groupby("region").cumcount() + 1
    out.insert(0, "zone_blanche", [f"ZB-{r}-{i:03d}" for r, i in zip(out["region"], rank,
                                                                     strict=True)])
    return out.reset_index(drop=True)


def _part_rows(parts: list[list[str]], units: pd.DataFrame, areas: pd.Series,
               zones: list[str]) -> list[dict[str, object]]:
    """One zone blanche row per part, from arrays looked up once for all parts' units."""
    if not parts:
        return []
    flat = [c for part in parts for c in part]
    lengths = np.fromiter((len(p) for p in parts), dtype=np.int64, count=len(parts))
    ends = np.cumsum(lengths)
    starts = ends - lengths
    u = units.loc[flat]
    names = u["nom"].to_numpy(dtype=object)
    pops = u["population"].to_numpy(dtype=np.int64)
    area = areas.reindex(flat).to_numpy(dtype=np.float64)
    part_id = np.repeat(np.arange(len(parts)), lengths)
    frame = pd.DataFrame({"p": part_id, "region": u["region"].to_numpy(dtype=object),
                          "dep": u["departement"].to_numpy(dtype=object), "pop": pops})
    # main région: the most populous, the smallest code on ties (``Series.idxmax`` order)
    by_region = frame.groupby(["p", "region"], sort=True)["pop"].sum().reset_index()
    by_region = by_region.sort_values(["p", "pop"], ascending=[True, False], kind="stable")
    main_region = by_region.drop_duplicates("p")["region"].to_numpy(dtype=object)
    deps = frame[["p", "dep"]].drop_duplicates().sort_values(["p", "dep"], kind="stable")
    dep_p, dep_v = deps["p"].to_numpy(), deps["dep"].to_numpy(dtype=object)
    dep_ends = np.searchsorted(dep_p, np.arange(len(parts)), side="right")
    dep_starts = np.searchsorted(dep_p, np.arange(len(parts)), side="left")
    pop_sum = np.add.reduceat(pops, starts)
    rows = []
    for i, part in enumerate(parts):
        a, b = starts[i], ends[i]
        part_area = area[a:b]
        nan = np.isnan(part_area)
        rows.append({
            "codes": part,
            "communes": names[a:b].tolist(),
            "n_unites": len(part),
            "population": int(pop_sum[i]),
            # as ``Series.sum(min_count=1)``: NaN read as 0, all NaN gives NaN
            "superficie_km2": (float("nan") if nan.all()
                               else round(float(np.where(nan, 0.0, part_area).sum()), 2)),
            "region": str(main_region[i]),
            "departements": ";".join(dep_v[dep_starts[i]:dep_ends[i]].tolist()),
            "zone": zones[i],
        })
    return rows


def coverage_table(members: pd.DataFrame, reference: Reference, *,
                   level: Literal["france", "region", "departement"] = "region",
                   scope: pd.Index | None = None) -> pd.DataFrame:
    """Coverage of the population by level, as the ministry's panorama reports it.

    For each group (France, each région or each département): its population, the number of
    CPTS at each stage present in it, and for each stage threshold of
    :data:`~cpts_geo.registry.stages.THRESHOLDS` the population covered and the rate in percent.

    Parameters
    ----------
    members
        One row per (CPTS, finest unit) with ``stade``.
    reference
        The reference data.
    level
        ``france``, ``region`` or ``departement``.
    scope
        Finest unit codes to consider; all of France by default.

    Returns
    -------
    pandas.DataFrame
        Indexed by the group code, with ``nom``, ``population_totale``, ``n_cpts`` and
        ``n_cpts_<stade>``, ``population_couverte_<seuil>`` and ``taux_<seuil>`` (percent, two
        decimals) for each threshold.

    Examples
    --------
    >>> t = coverage_table(members, ref, level="region")
    >>> int(t.loc["93", "population_couverte_tous_stades"]), float(t.loc["93", "taux_tous_stades"])
    (5117871, 98.06)
    """
    allowed = ("france", "region", "departement")
    if level not in allowed:
        raise ValueError(f"`level` was {level!r} but is expected to be in {allowed}")
    units = _scope_units(reference, scope)
    key = pd.Series("FR", index=units.index) if level == "france" else units[level]
    # positions of the claims in ``units`` (hash lookups on the cached index, once)
    pos = units.index.get_indexer(members["code"])
    inside = pos >= 0
    m = members[inside]
    pos = pos[inside]
    key_values = key.to_numpy()
    m_key = key_values[pos]
    table = pd.DataFrame({"population_totale": units.groupby(key)["population"].sum()})
    cpts_stage = m.assign(g=m_key).drop_duplicates(["g", "cpts_id"])
    if cpts_stage.empty:
        counts = pd.DataFrame(0, index=table.index, columns=list(STAGES), dtype="int64")
    else:
        counts = (cpts_stage.groupby(["g", "stade"]).size().unstack(fill_value=0)
                  .reindex(index=table.index, columns=list(STAGES), fill_value=0))
    table["n_cpts"] = counts.sum(axis=1).astype(int)
    for stage in STAGES:
        table[f"n_cpts_{stage}"] = counts[stage].astype(int)
    stage_codes, stage_names = pd.factorize(m["stade"].to_numpy())
    group_codes, group_names = pd.factorize(key_values)
    population = units["population"].to_numpy(dtype=np.int64)
    known_stage = stage_codes >= 0
    in_group = group_codes >= 0
    for name, stages in THRESHOLDS.items():
        counted = np.isin(np.asarray(stage_names, dtype=object), list(stages))
        claim_counted = np.zeros(len(stage_codes), dtype=bool)
        claim_counted[known_stage] = counted[stage_codes[known_stage]]
        covered = np.zeros(len(units), dtype=bool)
        covered[pos[claim_counted]] = True
        sums = np.bincount(group_codes[in_group],
                           weights=np.where(covered, population, 0)[in_group],
                           minlength=len(group_names))
        pop = pd.Series(np.rint(sums).astype(np.int64), index=group_names)
        table[f"population_couverte_{name}"] = pop.reindex(table.index).fillna(0).astype("int64")
        rate = 100 * table[f"population_couverte_{name}"] / table["population_totale"].where(
            table["population_totale"] > 0)
        table[f"taux_{name}"] = rate.fillna(0.0).round(2)
    if level == "france":
        names = pd.Series({"FR": "France"})
    elif level == "region":
        names = reference.regions["nom"]
    else:
        names = reference.departements["nom"]
    table.insert(0, "nom", names.reindex(table.index).fillna(pd.Series(
        table.index, index=table.index)).to_numpy())
    table.index.name = "code"
    return table.sort_index()


