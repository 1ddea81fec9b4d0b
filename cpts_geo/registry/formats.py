"""Which format a registry file is in, and where the embedded default registry is."""

from __future__ import annotations

import codecs
from pathlib import Path

__all__ = ["default_registry_path", "sniff_format"]

_PACKAGE_DEFAULT = Path(__file__).parents[1] / "default" / "paca-2026-01.csv"


def default_registry_path() -> Path:
    """The embedded default registry: the real PACA listing of January 2026.

    Examples
    --------
    >>> default_registry_path().name
    'paca-2026-01.csv'
    """
    return _PACKAGE_DEFAULT


def sniff_format(path: Path, head: bytes) -> str:
    """The format of a registry file from its first bytes and its extension.

    One of ``csv``, ``json``, ``xlsx``, ``geo`` (GeoJSON, shapefile...), ``gpkg``, ``xls``,
    ``ods``.

    Examples
    --------
    >>> sniff_format(Path("a.csv"), b"cpts_nom;code_insee"), sniff_format(Path("b.gpkg"), b"")
    ('csv', 'geo')
    """
    suffix = path.suffix.lower()
    if head.startswith(b"PK\x03\x04"):
        if b"application/vnd.oasis.opendocument" in head[:200]:
            return "ods"
        return "xlsx"
    if head.startswith(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"):  # OLE2: Excel 97-2003
        return "xls"
    if head.startswith(b"SQLite format 3"):
        return "gpkg"
    if suffix in {".geojson", ".gpkg", ".shp", ".fgb"}:
        return "geo"
    stripped = head.lstrip(codecs.BOM_UTF8).lstrip()
    if stripped.startswith((b"{", b"[")) or suffix == ".json":
        return "json"
    if suffix in {".xls", ".ods"}:
        return suffix[1:]
    return "csv"
