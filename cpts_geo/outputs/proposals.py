"""Write the tables of a proposal (``cpts-geo propose --out DIR``).

Files: ``propositions.csv`` (one row per zone blanche and bordering CPTS, with the figures if
that CPTS took the whole zone, and what the proposal gives it), ``rattachements.csv`` (one row
per unit of a zone blanche: the proposed CPTS, or why none), ``conciliations.csv`` (one row per
conflict: both options and the proposed resolution), ``effets.csv`` (each CPTS the proposal
changes, before and after), ``propositions.xlsx`` (the same tables and the rule, one sheet
each) and ``registre_propose.csv`` (the registry with the proposal applied, given as a table by
the caller). Lists become ``;``-separated text and cells a spreadsheet would run as formulas are
neutralised, as in :mod:`~cpts_geo.outputs.tables`.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from .spreadsheet import write_xlsx
from .tables import neutralise, write_table

if TYPE_CHECKING:
    from ..analysis.proposals import Proposals

__all__ = ["propositions_table", "write_proposals"]

_ZONE_COLUMNS = ("zone_blanche", "region", "codes", "communes", "population", "statut")


def propositions_table(proposals: Proposals) -> pd.DataFrame:
    """One row per (zone blanche, bordering CPTS); a zone with no candidate has one row.

    ``codes_proposes`` are the units of the zone the proposal gives that CPTS.

    Examples
    --------
    >>> from cpts_geo.analysis.proposals import propose
    >>> t = propositions_table(propose(reg, ref, region="93"))
    >>> t.loc[t["zone_blanche"] == "ZB-93-001", ["cpts_id", "codes_proposes"]].to_numpy().tolist()
    [['PACA-010', ['13201']], ['PACA-002', []], ['PACA-069', []], ['PACA-027', []]]
    """
    zones = proposals.propositions
    cand = proposals.candidats
    base = zones[list(_ZONE_COLUMNS)].rename(columns={"population": "population_zone",
                                                       "codes": "codes_zone"})
    table = base.merge(cand.drop(columns=["zone_blanche"]).assign(
        zone_blanche=cand["zone_blanche"]), on="zone_blanche", how="left")
    given = {(z, cid): codes for z, ratt in zip(zones["zone_blanche"], zones["rattachement"],
                                                strict=True) for cid, codes in ratt.items()}
    table["codes_proposes"] = [list(given.get((z, c), [])) if isinstance(c, str) else []
                               for z, c in zip(table["zone_blanche"], table["cpts_id"],
                                               strict=True)]
    return table.reset_index(drop=True)


def _flat(frame: pd.DataFrame) -> pd.DataFrame:
    out = frame.copy()
    for col in out.columns:
        if out[col].dtype == object:
            out[col] = out[col].map(lambda v: neutralise(_text(v)))
    return out


def _text(value: Any) -> Any:
    if isinstance(value, (list, tuple)):
        return ";".join(map(str, value))
    if isinstance(value, dict):
        return " | ".join(f"{k}: {';'.join(map(str, v))}" for k, v in value.items())
    return value


def write_proposals(proposals: Proposals, directory: Path,
                    registry_table: pd.DataFrame | None = None) -> list[Path]:
    """Write the tables of ``proposals`` into ``directory`` (which must exist).

    Parameters
    ----------
    proposals
        The result of :func:`cpts_geo.analysis.proposals.propose`.
    directory
        Where to write (a staging directory, see :func:`cpts_geo.outputs.staging`).
    registry_table
        The proposed registry as a table
        (:func:`cpts_geo.registry.write.registry_table`), written as
        ``registre_propose.csv``.

    Examples
    --------
    >>> from cpts_geo.analysis.proposals import propose
    >>> from cpts_geo.registry.write import registry_table
    >>> p = propose(reg, ref, region="93")
    >>> paths = write_proposals(p, tmp, registry_table(p.registry, ref))
    >>> [path.name for path in paths]
    ['propositions.csv', 'rattachements.csv', 'conciliations.csv', 'effets.csv',
     'propositions.xlsx', 'registre_propose.csv']
    >>> pd.read_csv(tmp / "rattachements.csv", sep=";", dtype=str).iloc[0, :2].tolist()
    ['13201', 'Marseille 1er Arrondissement']
    """
    tables = {
        "propositions": propositions_table(proposals),
        "rattachements": proposals.assignments,
        "conciliations": proposals.conciliations,
        "effets": proposals.effets,
    }
    written = [write_table(_flat(frame), directory / f"{name}.csv")
               for name, frame in tables.items()]
    written.append(write_xlsx({**{name: _flat(frame) for name, frame in tables.items()},
                               "regle": pd.DataFrame({"regle": [proposals.regle]})},
                              directory / "propositions.xlsx"))
    if registry_table is not None:
        written.append(write_table(registry_table, directory / "registre_propose.csv"))
    return written
