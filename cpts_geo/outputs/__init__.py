"""Outputs: tables (CSV, XLSX, GeoPackage), terminal reports and French number formats.

Everything is written into a staging directory and published in one step
(:func:`staging`), so that a failed run leaves the previous outputs as they were.
"""

from .directories import prepare_out_dir, publish, staging
from .tables import geo_layers, neutralise, write_gpkg, write_results, write_table

__all__ = [
    "geo_layers",
    "neutralise",
    "prepare_out_dir",
    "publish",
    "staging",
    "write_gpkg",
    "write_results",
    "write_table",
]
