"""Dissolve the member units of each CPTS into one territory.

A territory has a polygon per zone (in the zone's projected CRS), its population (the sum over
its units: population is conserved), area in km², number of communes, the départements and
régions it crosses, its ACI size tier and funding ceiling. Unions use ``coverage_union`` on the
cleaned unit coverage, so that a dissolve leaves no slivers or pinholes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from .stages import TIER_CEILINGS, tier
from .topology import union_by_group, unit_areas

if TYPE_CHECKING:
    import geopandas as gpd

    from .reference import Reference

__all__ = ["TERRITORY_COLUMNS", "Territories", "dissolve"]

TERRITORY_COLUMNS = (
    "cpts_nom", "stade", "population", "population_partagee", "superficie_km2", "n_communes",
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
        >>> dissolve(members, cpts, ref).to_geodataframe().crs.to_epsg()  # doctest: +SKIP
        4326
        """
        import geopandas as gpd

        parts = [gs.to_crs(crs) for gs in self.geometry.values() if len(gs)]
        geoms = (pd.concat(parts) if parts else gpd.GeoSeries([], crs=crs))
        table = self.table.copy()
        geoms = geoms[~geoms.index.duplicated()]
        return gpd.GeoDataFrame(table, geometry=geoms.reindex(table.index).to_numpy(), crs=crs)


def _join(values: pd.Series) -> str:
    return ";".join(sorted(set(values)))


def dissolve(members: pd.DataFrame, cpts: pd.DataFrame, reference: Reference, *,
             geometry: bool = True) -> Territories:
    """Dissolve member units into one territory per CPTS.

    Parameters
    ----------
    members
        One row per (CPTS, finest unit), from :func:`cpts_geo.registry.membership`.
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
    >>> reg = read_registry(default_registry_path(), ref)  # doctest: +SKIP
    >>> t = dissolve(membership(reg, ref), reg.cpts, ref)  # doctest: +SKIP
    >>> int(t.table["population"].sum()) >= 5_000_000  # doctest: +SKIP
    True
    """
    m = members.copy()
    units = reference.units
    m["commune"] = units["commune"].reindex(m["code"]).to_numpy()
    m["superficie_km2"] = unit_areas(reference).reindex(m["code"]).to_numpy()
    m["pop_partage"] = np.where(m["partage"], m["population"], 0)
    grouped = m.groupby("cpts_id", sort=False)
    table = pd.DataFrame({
        "population": grouped["population"].sum(),
        "population_partagee": grouped["pop_partage"].sum(),
        "superficie_km2": grouped["superficie_km2"].sum(min_count=1).round(2),
        "n_communes": grouped["commune"].nunique(),
        "n_unites": grouped.size(),
        "departements": grouped["departement"].agg(_join),
        "regions": grouped["region"].agg(_join),
        "zone": grouped["zone"].agg(lambda z: z.mode().iloc[0]),
    })
    main_region = (m.groupby(["cpts_id", "region"])["population"].sum().reset_index()
                   .sort_values(["cpts_id", "population", "region"],
                                ascending=[True, False, True])
                   .drop_duplicates("cpts_id").set_index("cpts_id")["region"])
    table["region"] = main_region.reindex(table.index)
    table = table.join(cpts[["cpts_nom", "stade"]], how="left")
    table["taille"] = [tier(int(p)) for p in table["population"]]
    table["plafond_aci"] = table["taille"].map(TIER_CEILINGS)
    table.index.name = "cpts_id"
    table = table[list(TERRITORY_COLUMNS)]
    geoms: dict[str, gpd.GeoSeries] = {}
    if geometry:
        import geopandas as gpd

        from .reference import ZONE_CRS

        for zone, sub in m.groupby("zone", sort=False):
            unions = union_by_group(reference, str(zone), list(sub["code"]), list(sub["cpts_id"]))
            geoms[str(zone)] = gpd.GeoSeries(unions.to_numpy(), index=unions.index.rename(
                "cpts_id"), crs=ZONE_CRS[str(zone)])
    return Territories(table, geoms)
