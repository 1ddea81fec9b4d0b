"""The units of France: codes, population, région, département, zone, CRS and geometry.

:func:`load_reference` reads a reference data directory (:func:`locate_data`) into a
:class:`Reference`; :mod:`~cpts_geo.reference.codes` formats INSEE codes and follows the
historical crosswalk; :mod:`~cpts_geo.reference.geometry` cleans the unit polygons once and caches
them; :mod:`~cpts_geo.reference.fetch` builds the directory from the public sources.
"""

from typing import TYPE_CHECKING

from ..lazy import lazy_exports

if TYPE_CHECKING:
    from .locate import locate_data
    from .units import Reference, load_reference
    from .zones import ZONE_CRS, ZONE_NAMES, zone_of

# imported on first use: `cpts-geo check` must not import pandas (see cpts_geo.lazy)
__getattr__, __dir__ = lazy_exports(__name__, {
    "Reference": ".units",
    "ZONE_CRS": ".zones",
    "ZONE_NAMES": ".zones",
    "load_reference": ".units",
    "locate_data": ".locate",
    "zone_of": ".zones",
})

__all__ = ["ZONE_CRS", "ZONE_NAMES", "Reference", "load_reference", "locate_data", "zone_of"]
