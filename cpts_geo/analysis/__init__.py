"""Analysis of a registry against the reference: territories, conflicts, gaps, coverage.

:func:`analyse` wires the modules of this package together; :func:`summary` gives the
``coverage --json`` object and :func:`for_region` slices a national analysis to one région.
"""

from typing import TYPE_CHECKING

from ..lazy import lazy_exports

if TYPE_CHECKING:
    from .core import Analysis, analyse, for_region, summary

# imported on first use: `cpts-geo check` must not import pandas (see cpts_geo.lazy)
__getattr__, __dir__ = lazy_exports(__name__, {
    "Analysis": ".core",
    "analyse": ".core",
    "for_region": ".core",
    "summary": ".core",
})

__all__ = ["Analysis", "analyse", "for_region", "summary"]
