"""cpts_geo: maps and checks of France's CPTS territories.

Load the reference units and a CPTS registry, dissolve members into territories, flag conflicts
and coverage gaps, render the atlas, and check a new project before approval.
"""

from typing import TYPE_CHECKING

from .errors import CptsGeoError, Problem, ValidationError
from .lazy import lazy_exports
from .reference.codes import format_code, normalise
from .reference.locate import locate_data
from .reference.zones import ZONE_CRS
from .registry.stages import LABELS, STAGES, ceiling, normalise_stage, tier
from .version import __version__

if TYPE_CHECKING:
    from .reference.units import Reference, load_reference

# imported on first use: `cpts-geo check` must not import pandas (see cpts_geo.lazy)
__getattr__, __dir__ = lazy_exports(__name__, {"Reference": ".reference.units",
                                               "load_reference": ".reference.units"})

__all__ = [
    "LABELS",
    "STAGES",
    "ZONE_CRS",
    "CptsGeoError",
    "Problem",
    "Reference",
    "ValidationError",
    "__version__",
    "ceiling",
    "format_code",
    "load_reference",
    "locate_data",
    "normalise",
    "normalise_stage",
    "tier",
]
