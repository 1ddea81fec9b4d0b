"""Outputs: tables (CSV, XLSX, GeoPackage with QGIS styles), terminal reports, French numbers.

Everything is written into a staging directory and published in one step
(:func:`staging`), so that a failed run leaves the previous outputs as they were. Long loops
show a progress bar on a terminal (:func:`progress`).
"""

from typing import TYPE_CHECKING

from ..lazy import lazy_exports

if TYPE_CHECKING:
    from .directories import prepare_out_dir, publish, staging
    from .progress_bar import progress
    from .spreadsheet import write_xlsx
    from .tables import (
        geo_layers,
        neutralise,
        result_tables,
        write_gpkg,
        write_results,
        write_table,
    )

# imported on first use: `cpts-geo check` must not import pandas (see cpts_geo.lazy)
__getattr__, __dir__ = lazy_exports(__name__, {
    "geo_layers": ".tables",
    "neutralise": ".tables",
    "prepare_out_dir": ".directories",
    "progress": ".progress_bar",
    "publish": ".directories",
    "result_tables": ".tables",
    "staging": ".directories",
    "write_gpkg": ".tables",
    "write_results": ".tables",
    "write_table": ".tables",
    "write_xlsx": ".spreadsheet",
})

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
