"""The analysis of a registry: everything the tool answers about it, as one frozen record."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import pandas as pd

if TYPE_CHECKING:
    from ..reference import Reference
    from ..registry import Registry
    from .territories import Territories

__all__ = ["Analysis"]


@dataclass(frozen=True, eq=False)
class Analysis:
    """Everything the tool answers about a registry, over its perimeter, one région or France.

    Attributes
    ----------
    region
        The région code analysed (``--region``), or ``None``.
    perimeter
        The régions analysed: the registry's perimeter (see
        :func:`cpts_geo.registry.members.perimeter`), the one région asked for, or ``None``
        for all of France (``--france``).
    members
        One row per (CPTS, finest unit) within scope (CPTS touching the région, whole).
    territories
        Territories of the CPTS in scope (whole, even where they cross the région's border).
    conflits
        Conflicts per pair of CPTS (units in scope).
    conflict_units
        Units in conflict with the CPTS claiming them.
    partages
        Communes declared shared below commune level.
    zones_blanches
        Contiguous gaps in scope.
    couverture
        ``france`` / ``region`` / ``departement`` → coverage table.
    """

    reference: Reference
    registry: Registry
    region: str | None
    members: pd.DataFrame
    territories: Territories
    conflits: pd.DataFrame
    conflict_units: pd.DataFrame
    partages: pd.DataFrame
    zones_blanches: pd.DataFrame
    couverture: dict[str, pd.DataFrame]
    perimeter: tuple[str, ...] | None = None
    memo: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @property
    def scope(self) -> pd.Index:
        """Finest unit codes analysed."""
        finest = self.reference.finest
        if self.perimeter is None:
            return finest.index
        if "scope" not in self.memo:
            self.memo["scope"] = finest.index[finest["region"].isin(self.perimeter)]
        return self.memo["scope"]

    @property
    def label(self) -> str:
        """What the figures are about, in French: ``France``, or the régions of the scope.

        Examples
        --------
        >>> analysis.label
        "93 Provence-Alpes-Côte d'Azur"
        """
        if self.perimeter is None:
            return "France"
        ref = self.reference
        return ", ".join(f"{r} {ref.region_name(r)}" for r in self.perimeter)
