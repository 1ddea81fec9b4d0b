"""Write the tables of a registry's evolution: one CSV per level and one XLSX workbook.

Files: ``evolution.csv`` (the perimeter, month by month), ``evolution_regions.csv`` and
``evolution_departements.csv`` (one row per group and month), and ``evolution.xlsx`` with the
three on their own sheets (French titles, rates as percentages, dates ``dd/mm/yyyy``: see
:mod:`~cpts_geo.outputs.spreadsheet`). The chart is drawn by
:func:`cpts_geo.atlas.charts.write_evolution_charts`. Callers write into a staging directory
(:func:`cpts_geo.outputs.staging`).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from .tables import write_table, write_workbook

if TYPE_CHECKING:
    from ..analysis.timeline import Evolution

__all__ = ["EVOLUTION_FILES", "evolution_tables", "write_evolution"]

#: The CSV file of each level of :attr:`~cpts_geo.analysis.timeline.Evolution.tables`.
EVOLUTION_FILES: dict[str, str] = {
    "france": "evolution.csv",
    "region": "evolution_regions.csv",
    "departement": "evolution_departements.csv",
}
_SHEETS = {"france": "perimetre", "region": "par_region", "departement": "par_departement"}


def evolution_tables(evolution: Evolution) -> dict[str, pd.DataFrame]:
    """The tables of an evolution, by sheet name of ``evolution.xlsx``.

    Examples
    --------
    >>> from cpts_geo.analysis.timeline import evolution
    >>> from cpts_geo.registry import Registry
    >>> dated = Registry(reg.claims.assign(date_aci=pd.Timestamp("2021-06-15")), "d.csv")
    >>> tables = evolution_tables(evolution(dated, ref, start="2021-05", end="2021-06"))
    >>> {name: len(t) for name, t in tables.items()}
    {'perimetre': 2, 'par_region': 2, 'par_departement': 12}
    """
    return {_SHEETS[level]: evolution.tables[level] for level in EVOLUTION_FILES}


def write_evolution(evolution: Evolution, directory: Path) -> list[Path]:
    """Write the evolution tables into ``directory`` (which must exist); returns the files.

    Examples
    --------
    >>> from cpts_geo.analysis.timeline import evolution
    >>> from cpts_geo.registry import Registry
    >>> dated = Registry(reg.claims.assign(date_aci=pd.Timestamp("2021-06-15")), "d.csv")
    >>> paths = write_evolution(evolution(dated, ref, start="2021-05", end="2021-06"), tmp)
    >>> [p.name for p in paths]
    ['evolution.csv', 'evolution_regions.csv', 'evolution_departements.csv', 'evolution.xlsx']
    >>> pd.read_csv(paths[0], sep=";", encoding="utf-8-sig")[["mois", "date", "n_cpts"]
    ...                                                     ].values.tolist()
    [['2021-05', '2021-05-31', 0], ['2021-06', '2021-06-30', 70]]
    """
    directory = Path(directory)
    written = [write_table(evolution.tables[level], directory / name)
               for level, name in EVOLUTION_FILES.items()]
    written.append(write_workbook(evolution_tables(evolution), directory / "evolution.xlsx"))
    return written
