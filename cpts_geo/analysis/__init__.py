"""Analysis of a registry against the reference: territories, conflicts, gaps, coverage.

:func:`analyse` wires the modules of this package together; :func:`summary` gives the
``coverage --json`` object and :func:`for_region` slices a national analysis to one région.
"""

from .core import Analysis, analyse, for_region, summary

__all__ = ["Analysis", "analyse", "for_region", "summary"]
