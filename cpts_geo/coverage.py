"""Coverage gaps (*zones blanches*) and coverage against the 100 % target.

A **gap** is a finest unit claimed by no CPTS: an unclaimed arrondissement is a gap even when
the other arrondissements of its city are covered. Contiguous gap units form a *zone blanche*.
Coverage is the population of claimed units over the population of all units, nationally, by
région and by département, at the three stage thresholds of the ministry's panorama
(:data:`cpts_geo.stages.THRESHOLDS`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

import pandas as pd

from .stages import STAGES, THRESHOLDS
from .topology import components, unit_areas

if TYPE_CHECKING:
    from .reference import Reference

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
    >>> "13213" in gap_codes(membership(reg, ref), ref)  # doctest: +SKIP
    False
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
    >>> zb = zones_blanches(membership(reg, ref), ref, scope=paca)  # doctest: +SKIP
    >>> int(zb["population"].sum()) > 0  # doctest: +SKIP
    True
    """
    gaps = gap_codes(members, reference, scope)
    units = reference.units
    finest = reference.finest.loc[gaps]
    areas = unit_areas(reference)
    rows = []
    for (zone, _region), sub in finest.groupby(["zone", "region"], sort=False):
        for part in components(reference, str(zone), list(sub.index)):
            u = units.loc[part]
            pop = u.groupby("region")["population"].sum()
            rows.append({
                "codes": part,
                "communes": list(u["nom"]),
                "n_unites": len(part),
                "population": int(u["population"].sum()),
                "superficie_km2": round(float(areas.reindex(part).sum(min_count=1)), 2),
                "region": str(pop.idxmax()) if len(pop) else "",
                "departements": ";".join(sorted(set(u["departement"]))),
                "zone": str(zone),
            })
    out = pd.DataFrame(rows, columns=list(ZONE_COLUMNS[1:]))
    out = out.sort_values(["population", "n_unites"], ascending=False, kind="stable")
    rank = out.groupby("region").cumcount() + 1
    out.insert(0, "zone_blanche", [f"ZB-{r}-{i:03d}" for r, i in zip(out["region"], rank,
                                                                     strict=True)])
    return out.reset_index(drop=True)


def coverage_table(members: pd.DataFrame, reference: Reference, *,
                   level: Literal["france", "region", "departement"] = "region",
                   scope: pd.Index | None = None) -> pd.DataFrame:
    """Coverage of the population by level, as the ministry's panorama reports it.

    For each group (France, each région or each département): its population, the number of
    CPTS at each stage present in it, and for each stage threshold of
    :data:`~cpts_geo.stages.THRESHOLDS` the population covered and the rate in percent.

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
    >>> t = coverage_table(membership(reg, ref), ref, level="region")  # doctest: +SKIP
    >>> float(t.loc["93", "taux_tous_stades"]) > 90  # doctest: +SKIP
    True
    """
    allowed = ("france", "region", "departement")
    if level not in allowed:
        raise ValueError(f"`level` was {level!r} but is expected to be in {allowed}")
    units = _scope_units(reference, scope)
    key = pd.Series("FR", index=units.index) if level == "france" else units[level]
    m = members[members["code"].isin(units.index)]
    m_key = key.reindex(m["code"]).to_numpy()
    table = pd.DataFrame({"population_totale": units.groupby(key)["population"].sum()})
    cpts_stage = m.assign(g=m_key).drop_duplicates(["g", "cpts_id"])
    counts = pd.crosstab(cpts_stage["g"], cpts_stage["stade"]).reindex(
        index=table.index, columns=list(STAGES), fill_value=0)
    table["n_cpts"] = counts.sum(axis=1).astype(int)
    for stage in STAGES:
        table[f"n_cpts_{stage}"] = counts[stage].astype(int)
    for name, stages in THRESHOLDS.items():
        covered_codes = m.loc[m["stade"].isin(stages), "code"].unique()
        covered = units.index.isin(covered_codes)
        pop = units["population"].where(covered, 0).groupby(key).sum()
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


