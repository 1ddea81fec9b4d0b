"""Where the reference data is: the data directory and its polygon files (no pandas needed)."""

from __future__ import annotations

import os
from pathlib import Path

from ..errors import CptsGeoError

__all__ = ["ENV_VAR", "arrondissement_layer", "commune_layer", "latest", "locate_data"]

#: The environment variable naming the reference data directory.
ENV_VAR = "CPTS_GEO_DATA"


def locate_data(data: str | os.PathLike[str] | None = None) -> Path:
    """Find the reference data directory.

    Parameters
    ----------
    data
        Directory given by the user (``--data``). When ``None``: the ``CPTS_GEO_DATA``
        environment variable, then ``data/communes/`` under the working directory.

    Returns
    -------
    Path
        The directory; it holds ``population/communes-*.csv``.

    Raises
    ------
    CptsGeoError
        When no candidate holds reference data; the message lists where it looked and how to
        get the data (``cpts-geo fetch``).

    Examples
    --------
    >>> import os
    >>> locate_data(os.environ["CPTS_GEO_DATA"]) == ref.root
    True
    >>> locate_data(tmp)  # an empty directory
    Traceback (most recent call last):
    ...
    cpts_geo.errors.CptsGeoError: No reference data found in ... (--data). Point --data or the
    CPTS_GEO_DATA variable at a reference data directory ...
    """
    tried: list[str] = []
    candidates: list[tuple[str, Path]] = []
    if data is not None:
        candidates.append(("--data", Path(data)))
    elif os.environ.get(ENV_VAR):
        candidates.append((ENV_VAR, Path(os.environ[ENV_VAR])))
    else:
        candidates.append(("default", Path("data") / "communes"))
    for origin, path in candidates:
        if any(path.glob("population/communes-*.csv")):
            return path.resolve()
        tried.append(f"{path} ({origin})")
    raise CptsGeoError(
        "No reference data found in " + ", ".join(tried) + ". Point --data or the "
        f"{ENV_VAR} variable at a reference data directory (it holds "
        "population/communes-YYYY.csv and communes/communes-YYYY.gpkg), or build one with "
        "`cpts-geo fetch` on a machine with internet."
    )


def latest(directory: Path, pattern: str) -> Path | None:
    """The last of the files of ``directory`` matching ``pattern`` (by name), or ``None``.

    Examples
    --------
    >>> latest(ref.root / "population", "communes-*.csv").name.startswith("communes-")
    True
    """
    files = sorted(directory.glob(pattern))
    return files[-1] if files else None




def commune_layer(root: Path) -> Path | None:
    """The commune polygon file of data directory ``root``, or ``None`` when it has none.

    Examples
    --------
    >>> commune_layer(ref.root).suffix
    '.gpkg'
    """
    return latest(root / "communes", "communes-*.gpkg")


def arrondissement_layer(root: Path) -> Path | None:
    """The arrondissement polygon file of ``root``, or ``None`` when it has none.

    Examples
    --------
    >>> arrondissement_layer(ref.root).name
    'arrondissements-municipaux.gpkg'
    """
    path = root / "communes" / "arrondissements-municipaux.gpkg"
    return path if path.exists() else None
