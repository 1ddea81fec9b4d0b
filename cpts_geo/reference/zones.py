"""The zones of France and their projected CRS: the mainland and each overseas département.

Areas, adjacency and unions are computed in the zone's own projected CRS, never in degrees; a
frame holds one CRS, so geometry is held per zone.
"""

from __future__ import annotations

__all__ = ["GAP_WIDTH_M", "ZONE_CRS", "ZONE_NAMES", "zone_of"]

#: Projected CRS of each zone: areas, adjacency and unions are computed in it.
ZONE_CRS: dict[str, str] = {
    "metro": "EPSG:2154",
    "971": "EPSG:5490",
    "972": "EPSG:5490",
    "973": "EPSG:2972",
    "974": "EPSG:2975",
    "976": "EPSG:4471",
}
ZONE_NAMES: dict[str, str] = {
    "metro": "France métropolitaine",
    "971": "Guadeloupe",
    "972": "Martinique",
    "973": "Guyane",
    "974": "La Réunion",
    "976": "Mayotte",
}
#: Gaps narrower than this (metres) between simplified commune polygons are closed when cleaning.
GAP_WIDTH_M = 60.0


def zone_of(departement: str) -> str:
    """Zone of a département: ``metro`` or the DROM code.

    Examples
    --------
    >>> zone_of("2A"), zone_of("974")
    ('metro', '974')
    """
    return departement if departement.startswith("97") else "metro"
