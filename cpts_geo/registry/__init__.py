"""CPTS registries: which CPTS claims which unit, at which stage, read from the files ARS have.

:func:`read_registry` reads any supported format into a :class:`Registry` (one row per claim);
:func:`membership` expands the claims to the finest units, the table every analysis starts from.
Modules: one per input format (:mod:`~.text`, :mod:`~.xlsx`, :mod:`~.listing`,
:mod:`~.perimeters`), :mod:`~.columns` (column matching), :mod:`~.table` (table rows into
records), :mod:`~.resolve` (commune resolution), :mod:`~.validate` (every problem at once),
:mod:`~.model` (the :class:`Registry`), :mod:`~.members` (:func:`membership`), :mod:`~.cache`
(validated registries cached by checksum) and :mod:`~.stages` (stages and ACI tiers).
"""

from typing import TYPE_CHECKING

from ..lazy import lazy_exports

if TYPE_CHECKING:
    from .members import membership, perimeter, scope_regions
    from .model import CLAIM_COLUMNS, Registry
    from .read import default_registry_path, read_any, read_registry, registry_from_frame
    from .validate import registry_from_raw, registry_from_records

# imported on first use: `cpts-geo check` must not import pandas (see cpts_geo.lazy)
__getattr__, __dir__ = lazy_exports(__name__, {
    "CLAIM_COLUMNS": ".model",
    "Registry": ".model",
    "default_registry_path": ".read",
    "membership": ".members",
    "perimeter": ".members",
    "read_any": ".read",
    "read_registry": ".read",
    "registry_from_frame": ".read",
    "registry_from_raw": ".validate",
    "registry_from_records": ".validate",
    "scope_regions": ".members",
})

__all__ = [
    "CLAIM_COLUMNS",
    "Registry",
    "default_registry_path",
    "membership",
    "perimeter",
    "read_any",
    "read_registry",
    "registry_from_frame",
    "registry_from_raw",
    "registry_from_records",
    "scope_regions",
]
