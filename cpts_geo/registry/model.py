"""The registry model: one row per claim of a CPTS on a unit."""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

__all__ = ["CLAIM_COLUMNS", "Registry"]

#: The columns every claims table has, in order (then ``ligne`` and the source's extra columns).
CLAIM_COLUMNS = ("cpts_id", "cpts_nom", "stade", "code", "partage")

@dataclass(frozen=True, eq=False)
class Registry:
    """A CPTS registry: one row per claim.

    Attributes
    ----------
    claims
        ``cpts_id``, ``cpts_nom``, ``stade``, ``code`` (a current unit code: a commune, an
        arrondissement municipal, or a whole city), ``partage`` (bool: the CPTS holds this commune
        only in part, by design), ``ligne`` (row in the source), then any extra source columns.
    source
        The file read (or a description of the source).
    warnings
        Things that were fixed and that the user should know: remapped codes, duplicate rows.
    remapped
        Historical code → current code, for each code the crosswalk changed.

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

    @property
    def cpts(self) -> pd.DataFrame:
        """One row per CPTS, indexed by ``cpts_id``: ``cpts_nom``, ``stade``, ``n_claims``."""
        grouped = self.claims.groupby("cpts_id", sort=False)
        frame = grouped[["cpts_nom", "stade"]].first()
        frame["n_claims"] = grouped.size()
        return frame

    def __len__(self) -> int:
        return int(self.claims["cpts_id"].nunique())
