"""Outputs: tables (CSV, XLSX, GeoPackage with QGIS styles), terminal reports, French numbers.

Everything is written into a staging directory and published in one step
(:func:`staging`), so that a failed run leaves the previous outputs as they were. Long loops
show a progress bar on a terminal (:func:`progress`).
"""

from .directories import prepare_out_dir, publish, staging
from .progress_bar import progress
from .spreadsheet import write_xlsx
from .tables import geo_layers, neutralise, result_tables, write_gpkg, write_results, write_table

__all__ = [
    "geo_layers",
    "neutralise",
    "prepare_out_dir",
    "progress",
    "publish",
    "result_tables",
    "staging",
    "write_gpkg",
    "write_results",
    "write_table",
    "write_xlsx",
]
