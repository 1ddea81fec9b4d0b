"""cpts_geo: maps and checks of France's CPTS territories.

Load the reference units and a CPTS registry, dissolve members into territories, flag conflicts
and coverage gaps, render the atlas, and check a new project before approval.
"""

from .errors import CptsGeoError, Problem, ValidationError
from .reference import ZONE_CRS, Reference, load_reference, locate_data
from .reference.codes import format_code, normalise
from .registry.stages import LABELS, STAGES, ceiling, normalise_stage, tier
from .version import __version__

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
