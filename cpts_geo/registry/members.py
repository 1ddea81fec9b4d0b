"""Membership: the claims of a registry expanded to the finest units of the reference.

The table every analysis starts from: one row per (CPTS, finest unit), with the unit's
population, région, département and zone.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from ..errors import CptsGeoError
from .model import Registry

if TYPE_CHECKING:
    from ..reference import Reference

__all__ = ["membership", "perimeter", "scope_regions"]

def membership(registry: Registry, reference: Reference) -> pd.DataFrame:
    """Expand claims to the finest units: one row per (CPTS, finest unit).

    A claim on Paris, Lyon or Marseille as a whole stands for each of its arrondissements.

    Returns
    -------
    pandas.DataFrame
        ``cpts_id``, ``code`` (finest unit), ``partage``, ``stade``, ``population``, ``region``,
        ``departement``, ``zone``.

    Examples
    --------
    >>> m = membership(reg, ref)
    >>> sorted(m.loc[m["code"] == "06088", "cpts_id"])  # Nice, shared by three CPTS
    ['PACA-028', 'PACA-029', 'PACA-030']
    >>> int(m.drop_duplicates("code")["population"].sum())  # population covered
    5117871

    A claim on a city as a whole stands for its arrondissements:

    >>> from cpts_geo.registry import registry_from_frame
    >>> marseille = registry_from_frame(
    ...     pd.DataFrame({"cpts_nom": ["CPTS Marseille"], "code_insee": ["13055"]}), ref)
    >>> m = membership(marseille, ref)
    >>> len(m), m["code"].iloc[0], int(m["population"].sum())
    (16, '13201', 886040)
    """
    claims = registry.claims
    codes = claims["code"].to_numpy(dtype=object)
    finest = reference.finest
    pos = finest.index.get_indexer(codes)  # most claims are on a finest unit already
    if (pos >= 0).all():
        rep = np.arange(len(claims))
        flat = codes
    else:  # claims on Paris, Lyon or Marseille whole stand for their arrondissements
        expanded = [(c,) if p >= 0 else reference.expand(c) for c, p in zip(
            codes.tolist(), pos.tolist(), strict=True)]
        lengths = np.fromiter((len(e) for e in expanded), dtype=np.int64, count=len(expanded))
        rep = np.repeat(np.arange(len(claims)), lengths)
        flat = np.asarray([c for e in expanded for c in e], dtype=object)
        pos = finest.index.get_indexer(flat)
    out = pd.DataFrame({
        "cpts_id": claims["cpts_id"].to_numpy()[rep],
        "code": pd.Series(flat, dtype=object),
        "partage": claims["partage"].to_numpy()[rep],
        "stade": claims["stade"].to_numpy()[rep],
    })
    # a CPTS claiming a city whole and one of its arrondissements: keep one row per unit
    pair = out.duplicated(["cpts_id", "code"], keep=False).to_numpy()
    if pair.any():
        keep = ~out.sort_values("partage", kind="stable").duplicated(
            ["cpts_id", "code"], keep="first").sort_index().to_numpy()
        out, pos = out[keep], pos[keep]
    lost = pos < 0
    if lost.any():  # a code the reference cannot place: never drop it silently
        missing = sorted(set(out.loc[lost, "code"]))
        raise CptsGeoError(f"{registry.source}: codes with no unit in the reference data "
                           f"{reference.root}: {', '.join(missing[:10])}. Check that the "
                           "reference data directory is complete (rebuild it with `cpts-geo "
                           "fetch`).")
    for col in ("population", "region", "departement", "zone"):
        out[col] = finest[col].to_numpy()[pos]
    return out.reset_index(drop=True)


def perimeter(registry: Registry, reference: Reference,
              members: pd.DataFrame | None = None) -> tuple[str, ...]:
    """The régions a registry speaks of: those where at least one of its CPTS has its main région.

    A CPTS's main région is the one holding most of its population. A CPTS that crosses a
    border brings the units it claims beyond it, not the neighbouring région: a registry of PACA
    with a CPTS spilling into the Drôme is a statement about PACA. Régions where the registry
    lists units as covered by no CPTS (``HORS CPTS`` rows or features) are in the perimeter too.
    A registry whose régions are fixed (:attr:`~cpts_geo.registry.model.Registry.regions`, e.g.
    a registry read at a past date) has those.

    Parameters
    ----------
    registry
        The registry.
    reference
        The reference data.
    members
        ``membership(registry, reference)`` when already computed.

    Returns
    -------
    tuple of str
        Région codes, sorted.

    Examples
    --------
    >>> perimeter(reg, ref)  # the PACA listing
    ('93',)
    """
    if registry.regions is not None:
        return tuple(sorted(registry.regions))
    m = membership(registry, reference) if members is None else members
    regions: set[str] = set()
    if len(m):
        by_region = (m.groupby(["cpts_id", "region"], sort=False)["population"].sum()
                     .reset_index()
                     .sort_values(["cpts_id", "population", "region"],
                                  ascending=[True, False, True]))
        regions |= set(by_region.drop_duplicates("cpts_id")["region"].astype(str))
    if registry.unclaimed:
        regions |= set(reference.units["region"].reindex(list(registry.unclaimed)).dropna()
                       .astype(str))
    return tuple(sorted(regions))


def scope_regions(registry: Registry, reference: Reference, members: pd.DataFrame | None = None,
                  *, region: str | None = None, france: bool = False) -> tuple[str, ...] | None:
    """The régions the figures are over: ``region`` alone, all of France, or the perimeter.

    Parameters
    ----------
    registry, reference, members
        As for :func:`perimeter`.
    region
        A région code (already checked): only it.
    france
        All of France (``None``), whatever the registry's perimeter (ignored with ``region``).

    Examples
    --------
    >>> scope_regions(reg, ref), scope_regions(reg, ref, region="84")
    (('93',), ('84',))
    >>> scope_regions(reg, ref, france=True) is None
    True
    """
    if region is not None:
        return (region,)
    if france:
        return None
    return perimeter(registry, reference, members)
