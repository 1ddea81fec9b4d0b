"""CPTS registries: which CPTS claims which unit, at which stage, read from the files ARS have.

:func:`read_registry` reads any supported format into a :class:`Registry` (one row per claim);
:func:`membership` expands the claims to the finest units, the table every analysis starts from.
"""

from .read import (
    CLAIM_COLUMNS,
    Registry,
    default_registry_path,
    membership,
    read_any,
    read_registry,
    registry_from_frame,
    registry_from_records,
)

__all__ = [
    "CLAIM_COLUMNS",
    "Registry",
    "default_registry_path",
    "membership",
    "read_any",
    "read_registry",
    "registry_from_frame",
    "registry_from_records",
]
