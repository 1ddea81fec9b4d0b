"""Dissolve the member units of each CPTS into one territory.

A territory has a polygon per zone (in the zone's projected CRS), its population (the sum over
its units: population is conserved), area in km², number of communes, the départements and
régions it crosses, its ACI size tier and funding ceiling.

A commune shared below commune level (``partage``) counts whole in ``population`` of each CPTS
sharing it, as the sum over its units must; the population it serves is estimated by
``population_ponderee``, where such a commune counts for its population divided by the number
of CPTS sharing it. The ACI tier and ceiling are those of ``population_ponderee``: three CPTS
sharing Nice are not each funded for all of Nice. Unions use ``coverage_union`` on the
cleaned unit coverage, so that a dissolve leaves no slivers or pinholes.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from ..reference.zones import ZONE_CRS
from ..registry.stages import TIER_CEILINGS, tier
from .topology import (
    coverage_unions,
    polygon_positions_from_finest,
    union_plan_positions,
    unit_areas,
)

if TYPE_CHECKING:
    import geopandas as gpd

    from ..reference import Reference

__all__ = ["TERRITORY_COLUMNS", "Territories", "dissolve", "shared_weights"]

TERRITORY_COLUMNS = (
    "cpts_nom", "stade", "population", "population_partagee", "population_ponderee",
    "superficie_km2", "n_communes",
    "n_unites", "departements", "regions", "region", "zone", "taille", "plafond_aci",
)


@dataclass(frozen=True, eq=False)
class Territories:
    """Territories of the CPTS of a registry.

    Attributes
    ----------
    table
        One row per CPTS, indexed by ``cpts_id``, with :data:`TERRITORY_COLUMNS`.
    geometry
        Zone → GeoSeries of territory polygons indexed by ``cpts_id``, in the zone's CRS.
    """

    table: pd.DataFrame
    geometry: dict[str, gpd.GeoSeries] = field(default_factory=dict)

    def to_geodataframe(self, crs: str = "EPSG:4326") -> gpd.GeoDataFrame:
        """All territories in one GeoDataFrame reprojected to ``crs`` (for export or maps).

        Examples
        --------
        >>> gdf = dissolve(members, reg.cpts, ref).to_geodataframe()
        >>> gdf.crs.to_epsg(), len(gdf), bool(gdf.geometry.notna().all())
        (4326, 70, True)
        """
        import geopandas as gpd

        parts = [gs.to_crs(crs) for gs in self.geometry.values() if len(gs)]
        geoms = (pd.concat(parts) if parts else gpd.GeoSeries([], crs=crs))
        table = self.table.copy()
        geoms = geoms[~geoms.index.duplicated()]
        return gpd.GeoDataFrame(table, geometry=geoms.reindex(table.index).to_numpy(), crs=crs)


def _join(values: pd.Series) -> str:
    return ";".join(sorted(set(values)))


_Ids = tuple[np.ndarray, np.ndarray]  # pd.factorize of the ids: codes, names


def _group_codes(ids: _Ids, values: pd.Series) -> tuple[np.ndarray, np.ndarray] | None:
    """Pair codes ``id * n_values + value`` (values coded in sorted order) and the values.

    ``None`` when a value is missing (left to the pandas path).
    """
    value_codes, uniques = pd.factorize(values.to_numpy(), sort=True)
    if (value_codes < 0).any() or (ids[0] < 0).any():
        return None
    return ids[0].astype(np.int64) * len(uniques) + value_codes, np.asarray(uniques,
                                                                             dtype=object)


def _joined_by_group(ids: pd.Series, values: pd.Series, coded_ids: _Ids) -> pd.Series:
    """``_join`` of ``values`` for each id (distinct values sorted, ``;``-separated).

    Computed on integer codes rather than one pandas call per group.
    """
    coded = _group_codes(coded_ids, values)
    if coded is None:
        return values.groupby(ids.to_numpy(), sort=False).agg(_join)
    pairs, uniques = coded
    n = len(uniques)
    key = np.unique(pairs)  # sorted by id, then value
    id_of, value_of = key // n, key % n
    starts = np.flatnonzero(np.r_[True, id_of[1:] != id_of[:-1]])
    ends = np.r_[starts[1:], len(key)]
    id_names = np.asarray(coded_ids[1], dtype=object)
    return pd.Series([";".join(uniques[value_of[a:b]]) for a, b in zip(starts, ends,
                                                                       strict=True)],
                     index=id_names[id_of[starts]])


def _main_value(ids: pd.Series, values: pd.Series, coded_ids: _Ids,
                weights: pd.Series | None = None) -> pd.Series:
    """The most frequent value for each id, the smallest on ties (``Series.mode().iloc[0]``).

    With ``weights``: the value with the largest sum of weights, the smallest on ties.
    """
    coded = _group_codes(coded_ids, values)
    if coded is None:
        if weights is None:
            return values.groupby(ids.to_numpy(), sort=False).agg(lambda z: z.mode().iloc[0])
        frame = pd.DataFrame({"i": ids.to_numpy(), "v": values.to_numpy(),
                              "w": weights.to_numpy()})
        return (frame.groupby(["i", "v"])["w"].sum().reset_index()
                .sort_values(["i", "w", "v"], ascending=[True, False, True])
                .drop_duplicates("i").set_index("i")["v"])
    pairs, uniques = coded
    n = len(uniques)
    key, inverse = np.unique(pairs, return_inverse=True)
    if weights is None:
        score = np.bincount(inverse, minlength=len(key)).astype(np.int64)
    else:
        score = np.bincount(inverse, weights=weights.to_numpy(dtype=np.float64),
                            minlength=len(key))
    id_of, value_of = key // n, key % n
    order = np.lexsort((value_of, -score, id_of))  # by id, best score, smallest value
    first = order[np.r_[True, id_of[order][1:] != id_of[order][:-1]]]
    id_names = np.asarray(coded_ids[1], dtype=object)
    return pd.Series(uniques[value_of[first]], index=id_names[id_of[first]])


def shared_weights(members: pd.DataFrame) -> np.ndarray:
    """Weight of each claim in the population a CPTS serves.

    A claim declared ``partage`` on a unit that ``k`` CPTS declare shared weighs ``1 / k``;
    every other claim weighs 1 (a conflict is not a share: it is reported, not split).

    Examples
    --------
    >>> m = pd.DataFrame({"cpts_id": ["A", "B", "C", "A"], "code": ["06088"] * 3 + ["06004"],
    ...                   "partage": [True, True, True, False]})
    >>> shared_weights(m).round(3).tolist()
    [0.333, 0.333, 0.333, 1.0]
    """
    partage = members["partage"].to_numpy(dtype=bool)
    k = members["code"].where(members["partage"]).map(
        members.loc[members["partage"], "code"].value_counts())
    return np.where(partage, 1.0 / k.fillna(1).to_numpy(dtype=float), 1.0)


def dissolve(members: pd.DataFrame, cpts: pd.DataFrame, reference: Reference, *,
             geometry: bool = True) -> Territories:
    """Dissolve member units into one territory per CPTS.

    Parameters
    ----------
    members
        One row per (CPTS, finest unit), from :func:`cpts_geo.registry.members`.
    cpts
        One row per CPTS indexed by ``cpts_id``, with ``cpts_nom`` and ``stade``
        (:attr:`cpts_geo.registry.Registry.cpts`).
    reference
        The reference data.
    geometry
        Also compute the territory polygons (maps, GeoPackage); the table alone needs none.

    Returns
    -------
    Territories

    Examples
    --------
    >>> t = dissolve(members, reg.cpts, ref)
    >>> t.table.at["PACA-001", "cpts_nom"]
    'CPTS Actes Santé'
    >>> t.table.loc["PACA-001", ["population", "taille", "plafond_aci"]].tolist()
    [155520, 3, 315000]
    """
    m = members.copy()
    units = reference.units
    areas = unit_areas(reference)  # also loads every zone's polygons, before any thread starts
    codes = m["code"].to_numpy(dtype=object)
    finest_pos = reference.finest.index.get_indexer(codes)  # members are finest units
    ids = pd.factorize(m["cpts_id"].to_numpy())
    # The polygon unions (GEOS, which releases the GIL) run in a thread while the table is
    # computed here; each is independent of the other.
    plans: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray] | None] = {}
    if geometry:
        zone_codes, zones = pd.factorize(m["zone"].to_numpy())  # as groupby(sort=False)
        for k, zone in enumerate(zones):
            rows = np.flatnonzero(zone_codes == k)
            pos = polygon_positions_from_finest(reference, str(zone), finest_pos[rows],
                                                 codes[rows])
            plans[str(zone)] = union_plan_positions(reference, str(zone), pos, ids[0][rows],
                                                     np.asarray(ids[1], dtype=object))
    with ThreadPoolExecutor(1) as pool:
        unions = {zone: pool.submit(coverage_unions, *plan[:3])
                  for zone, plan in plans.items() if plan is not None}
        table = _table(m, cpts, reference, units, areas, finest_pos, ids)
        polygons = {zone: job.result() for zone, job in unions.items()}
    geoms: dict[str, gpd.GeoSeries] = {}
    if geometry:
        import geopandas as gpd

        for zone, plan in plans.items():
            if plan is None:
                unions_zone = pd.Series(dtype=object)
            else:
                unions_zone = pd.Series(polygons[zone], index=pd.Index(plan[3], dtype=object),
                                        dtype=object)
            geoms[zone] = gpd.GeoSeries(unions_zone.to_numpy(), index=unions_zone.index.rename(
                "cpts_id"), crs=ZONE_CRS[zone])
    return Territories(table, geoms)


def _table(m: pd.DataFrame, cpts: pd.DataFrame, reference: Reference, units: pd.DataFrame,
           areas: pd.Series, pos: np.ndarray, coded: _Ids) -> pd.DataFrame:
    """The territory table of :func:`dissolve`.

    ``m`` is a copy of the members (modified here), ``pos`` the positions of its codes in the
    finest units, ``coded`` its factorized ids.
    """
    found = pos >= 0
    if found.all() and areas.index.equals(reference.finest.index):
        m["commune"] = reference.finest["commune"].to_numpy()[pos]
        m["superficie_km2"] = areas.to_numpy()[pos]
    else:
        m["commune"] = units["commune"].reindex(m["code"]).to_numpy()
        m["superficie_km2"] = areas.reindex(m["code"]).to_numpy()
    m["pop_partage"] = np.where(m["partage"], m["population"], 0)
    m["pop_ponderee"] = shared_weights(m) * m["population"]
    grouped = m.groupby("cpts_id", sort=False)
    table = pd.DataFrame({
        "population": grouped["population"].sum(),
        "population_partagee": grouped["pop_partage"].sum(),
        "population_ponderee": grouped["pop_ponderee"].sum().round().astype("int64"),
        "superficie_km2": grouped["superficie_km2"].sum(min_count=1).round(2),
        "n_communes": grouped["commune"].nunique(),
        "n_unites": grouped.size(),
    })
    if m.empty:  # keep the dtypes pandas gives an empty aggregation
        table["departements"] = grouped["departement"].agg(_join)
        table["regions"] = grouped["region"].agg(_join)
        table["zone"] = grouped["zone"].agg(lambda z: z.mode().iloc[0])
    else:  # vectorised: no Python call per CPTS
        ids = m["cpts_id"]
        table["departements"] = _joined_by_group(ids, m["departement"], coded).reindex(
            table.index)
        table["regions"] = _joined_by_group(ids, m["region"], coded).reindex(table.index)
        table["zone"] = _main_value(ids, m["zone"], coded).reindex(table.index)
    if m.empty:
        main_region = (m.groupby(["cpts_id", "region"])["population"].sum().reset_index()
                       .sort_values(["cpts_id", "population", "region"],
                                    ascending=[True, False, True])
                       .drop_duplicates("cpts_id").set_index("cpts_id")["region"])
    else:  # the région with the most population, the smallest code on ties
        main_region = _main_value(m["cpts_id"], m["region"], coded, weights=m["population"])
    table["region"] = main_region.reindex(table.index)
    table = table.join(cpts[["cpts_nom", "stade"]], how="left")
    table["taille"] = [tier(int(p)) for p in table["population_ponderee"]]
    table["plafond_aci"] = table["taille"].map(TIER_CEILINGS)
    table.index.name = "cpts_id"
    return table[list(TERRITORY_COLUMNS)]
