"""The atlas: interactive HTML pages (folium) and static figures. Rendering only."""

from __future__ import annotations

from pathlib import Path
from typing import Any

__all__ = ["write_atlas"]


def write_atlas(analysis: Any, directory: Path, *, regions: list[str] | None = None,
                tiles: bool = False, png: bool = False, svg: bool = False) -> list[Path]:
    """Write the atlas pages into ``directory`` (placeholder until the atlas lands)."""
    raise NotImplementedError
