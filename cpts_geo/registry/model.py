"""The registry model: one row per claim of a CPTS on a unit."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from ..errors import Notice
from .dates import DATE_COLUMNS

__all__ = ["CLAIM_COLUMNS", "Registry"]

#: The columns every claims table has, in order (then ``ligne``, the dates the source has, and
#: the source's extra columns).
CLAIM_COLUMNS = ("cpts_id", "cpts_nom", "stade", "code", "partage")


def _empty_names() -> pd.DataFrame:
    return pd.DataFrame(columns=["ligne", "valeur", "code", "nom", "par"])


@dataclass(frozen=True, eq=False)
class Registry:
    """A CPTS registry: one row per claim.

    Attributes
    ----------
    claims
        ``cpts_id``, ``cpts_nom``, ``stade``, ``code`` (a current unit code: a commune, an
        arrondissement municipal, or a whole city), ``partage`` (bool: the CPTS holds this commune
        only in part, by design), ``ligne`` (row in the source), the dates the source gives
        (``date_lettre_intention``, ``date_projet_sante``, ``date_aci``: ``datetime64``, the same
        on every row of a CPTS; only the columns the source has), then any extra source columns.
    source
        The file read (or a description of the source).
    warnings
        Things that were fixed and that the user should know: remapped codes, duplicate rows
        (the messages of ``notices``).
    remapped
        Historical code → current code, for each code the crosswalk changed.
    notices
        The same warnings with their kind (:class:`~cpts_geo.errors.Notice`), for summaries.
    names
        The units given by name: ``ligne``, ``valeur`` (as written), ``code``, ``nom``, ``par``
        (how it was resolved: ``nom``, ``nom sans article``, ``code postal``, ``ancien nom``).
    unclaimed
        Units that rows or features named as no CPTS (``HORS CPTS``, ``Zone blanche``...)
        declare uncovered: counted in zones blanches, and in the registry's perimeter.
    regions
        The régions the registry speaks of when they are fixed rather than found from its
        claims (see :func:`~cpts_geo.registry.members.perimeter`): a registry read as it
        stood at a date (:func:`cpts_geo.analysis.timeline.registry_at`) keeps the perimeter of
        the whole registry, so that a région is not left out of the figures for having had no
        CPTS yet. ``None`` (the default): found from the claims.

    Examples
    --------
    >>> len(reg), len(reg.claims), reg.remapped
    (70, 918, {'05120': '05001'})
    >>> reg.cpts.loc["PACA-003"].to_dict()
    {'cpts_nom': 'CPTS Aix Sainte Victoire', 'stade': 'non_renseigne', 'n_claims': 6}
    >>> sorted(set(reg.claims.loc[reg.claims["partage"], "code"]))  # shared by design
    ['06088', '83137']
    """

    claims: pd.DataFrame
    source: str
    warnings: tuple[str, ...] = ()
    remapped: dict[str, str] = field(default_factory=dict)
    notices: tuple[Notice, ...] = ()
    names: pd.DataFrame = field(default_factory=_empty_names)
    unclaimed: tuple[str, ...] = ()
    regions: tuple[str, ...] | None = None
    _memo: dict[str, Any] = field(default_factory=dict, init=False, repr=False, compare=False)

    @property
    def dated(self) -> tuple[str, ...]:
        """The date columns of the claims (``date_lettre_intention``...), in step order.

        Examples
        --------
        >>> reg.dated  # the PACA listing gives no dates
        ()
        """
        return tuple(c for c in DATE_COLUMNS if c in self.claims.columns)

    @property
    def cpts(self) -> pd.DataFrame:
        """One row per CPTS, indexed by ``cpts_id``: ``cpts_nom``, ``stade``, ``n_claims``.

        Registries with dates also have their date columns (one date per CPTS).
        """
        if "cpts" not in self._memo:  # the claims are never changed in place
            grouped = self.claims.groupby("cpts_id", sort=False)
            frame = grouped[["cpts_nom", "stade", *self.dated]].first()
            frame.insert(2, "n_claims", grouped.size())
            self._memo["cpts"] = frame[["cpts_nom", "stade", "n_claims", *self.dated]]
        return self._memo["cpts"].copy()

    def __len__(self) -> int:
        return int(self.claims["cpts_id"].nunique())
