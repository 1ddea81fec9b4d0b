"""The units of France: codes, population, région, département, zone, CRS and geometry.

:func:`load_reference` reads a reference data directory (:func:`locate_data`) into a
:class:`Reference`; :mod:`~cpts_geo.reference.codes` formats INSEE codes and follows the
historical crosswalk; :mod:`~cpts_geo.reference.geometry` cleans the unit polygons once and caches
them; :mod:`~cpts_geo.reference.fetch` builds the directory from the public sources.
"""

from .units import Reference, load_reference, locate_data
from .zones import ZONE_CRS, ZONE_NAMES, zone_of

__all__ = ["ZONE_CRS", "ZONE_NAMES", "Reference", "load_reference", "locate_data", "zone_of"]
