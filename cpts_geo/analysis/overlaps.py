"""Conflicts between CPTS and declared shared communes.

A **conflict** is a unit claimed by two or more CPTS where at least one claim is not declared
``partage``; it is reported per pair of CPTS. Communes that several CPTS declare shared below
commune level are listed apart (:func:`shared_communes`). Everything is computed on the
membership table; geometry is touched only for areas.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pandas as pd

from .topology import unit_areas

if TYPE_CHECKING:
    from ..reference import Reference

__all__ = ["CONFLICT_COLUMNS", "conflict_units", "conflicts", "shared_communes"]

CONFLICT_COLUMNS = ("cpts_a", "nom_a", "cpts_b", "nom_b", "codes", "communes", "n_unites",
                    "population", "superficie_km2")


def _pairs(members: pd.DataFrame) -> pd.DataFrame:
    """Pairs of claims on the same unit (a < b), with whether the pair is a declared share."""
    multi = members[members.duplicated("code", keep=False)]
    cols = ["code", "cpts_id", "partage"]
    pairs = multi[cols].merge(multi[cols], on="code", suffixes=("_a", "_b"))
    pairs = pairs[pairs["cpts_id_a"] < pairs["cpts_id_b"]]
    pairs = pairs.assign(declare=pairs["partage_a"] & pairs["partage_b"])
    return pairs.reset_index(drop=True)


def conflicts(members: pd.DataFrame, reference: Reference,
              names: pd.Series | None = None) -> pd.DataFrame:
    """Conflicts per pair of CPTS: the units both claim without a declared share.

    Parameters
    ----------
    members
        One row per (CPTS, finest unit) (:func:`cpts_geo.registry.members`).
    reference
        The reference data (unit names, population, area).
    names
        ``cpts_id`` → name, for the ``nom_a`` / ``nom_b`` columns.

    Returns
    -------
    pandas.DataFrame
        One row per conflicting pair: ``cpts_a``, ``nom_a``, ``cpts_b``, ``nom_b``, ``codes``
        (list), ``communes`` (names), ``n_unites``, ``population``, ``superficie_km2``; largest
        population first.

    Examples
    --------
    >>> conflicts(members, ref).empty  # PACA
    True
    >>> from cpts_geo.registry import registry_from_frame
    >>> two = registry_from_frame(pd.DataFrame({"cpts_nom": ["A", "B"],
    ...                                         "code_insee": ["13201", "13201"]}), ref)
    >>> conflicts(membership(two, ref), ref).loc[0, ["cpts_a", "cpts_b", "codes"]].tolist()
    ['A', 'B', ['13201']]
    """
    pairs = _pairs(members)
    pairs = pairs[~pairs["declare"]]
    if pairs.empty:
        return pd.DataFrame(columns=list(CONFLICT_COLUMNS))
    units = reference.units
    pairs = pairs.assign(population=units["population"].reindex(pairs["code"]).to_numpy(),
                         area=unit_areas(reference).reindex(pairs["code"]).to_numpy(),
                         nom=units["nom"].reindex(pairs["code"]).to_numpy())
    pairs = pairs.sort_values("code")
    grouped = pairs.groupby(["cpts_id_a", "cpts_id_b"], sort=False)
    out = pd.DataFrame({
        "codes": grouped["code"].agg(list),
        "communes": grouped["nom"].agg(list),
        "n_unites": grouped.size(),
        "population": grouped["population"].sum(),
        "superficie_km2": grouped["area"].sum(min_count=1).round(2),
    }).reset_index().rename(columns={"cpts_id_a": "cpts_a", "cpts_id_b": "cpts_b"})
    names = names if names is not None else pd.Series(dtype=object)
    out["nom_a"] = names.reindex(out["cpts_a"]).to_numpy()
    out["nom_b"] = names.reindex(out["cpts_b"]).to_numpy()
    out = out.sort_values(["population", "cpts_a", "cpts_b"], ascending=[False, True, True])
    return out[list(CONFLICT_COLUMNS)].reset_index(drop=True)


def shared_communes(members: pd.DataFrame, reference: Reference) -> pd.DataFrame:
    """Units declared shared below commune level by two or more CPTS (not conflicts).

    Returns
    -------
    pandas.DataFrame
        ``code``, ``nom``, ``population``, ``cpts`` (list of ``cpts_id``), one row per unit.

    Examples
    --------
    >>> shared_communes(members, ref)["nom"].tolist()
    ['Nice', 'Toulon']
    """
    shared = members[members["partage"]]
    shared = shared[shared.duplicated("code", keep=False)]
    if shared.empty:
        return pd.DataFrame(columns=["code", "nom", "population", "cpts"])
    grouped = shared.sort_values("cpts_id").groupby("code")
    out = pd.DataFrame({"cpts": grouped["cpts_id"].agg(list)}).reset_index()
    out.insert(1, "nom", reference.units["nom"].reindex(out["code"]).to_numpy())
    out.insert(2, "population", reference.units["population"].reindex(out["code"]).to_numpy())
    return out


def conflict_units(members: pd.DataFrame, reference: Reference) -> pd.DataFrame:
    """Units in at least one conflict, with every CPTS claiming them (for maps and exports).

    Returns
    -------
    pandas.DataFrame
        ``code``, ``nom``, ``population``, ``zone``, ``cpts`` (list), one row per unit.

    Examples
    --------
    >>> conflict_units(members, ref).empty
    True
    """
    pairs = _pairs(members)
    codes = pairs.loc[~pairs["declare"], "code"].unique()
    sub = members[members["code"].isin(codes)].sort_values("cpts_id")
    if sub.empty:
        return pd.DataFrame(columns=["code", "nom", "population", "zone", "cpts"])
    out = pd.DataFrame({"cpts": sub.groupby("code")["cpts_id"].agg(list)}).reset_index()
    units = reference.units.reindex(out["code"])
    out.insert(1, "nom", units["nom"].to_numpy())
    out.insert(2, "population", units["population"].to_numpy())
    out.insert(3, "zone", units["zone"].to_numpy())
    return out
