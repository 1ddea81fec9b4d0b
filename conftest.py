"""The doctest namespace: names every docstring example of ``cpts_geo`` may use unimported.

``pytest`` runs the examples of the package's docstrings (``--doctest-modules``, see
``[tool.pytest.ini_options]`` in ``pyproject.toml``) with these names defined:

Data, loaded once per session (shared by every example: read them, never modify them)

``ref``
    :class:`~cpts_geo.reference.Reference`, ``load_reference()`` of the reference data
    directory named by ``CPTS_GEO_DATA`` (``../shared/data`` when unset; CI sets it).
``reg``
    :class:`~cpts_geo.registry.Registry`, the embedded PACA registry of January 2026,
    ``read_any(None, ref)``: 70 CPTS, ``reg.remapped == {'05120': '05001'}``.
``members``
    :class:`pandas.DataFrame`, ``membership(reg, ref)``: one row per (CPTS, finest unit).
``analysis``
    :class:`~cpts_geo.analysis.Analysis` of PACA, ``analyse(reg, ref, region="93")``
    (``summary(analysis)["taux_couverture"] == 98.06``).
``national``
    :class:`~cpts_geo.analysis.Analysis` of France, ``analyse(reg, ref)``.

Per example

``tmp``
    :class:`pathlib.Path` of a new, empty temporary directory (pytest's ``tmp_path``): write
    files there, never in the working directory.

Modules and functions

``pd`` (pandas), ``np`` (numpy), ``shapely``, ``Path`` (:class:`pathlib.Path`),
``load_reference``, ``read_registry``, ``read_any``, ``default_registry_path``,
``membership``, ``analyse``, ``summary``, ``for_region``.

The names are added to the module's own globals (a name above wins over a module global of the
same name). Anything else an example needs, it imports, so that a reader can copy it.

``collect_ignore`` leaves out ``cpts_geo/__main__.py`` (importing it runs the command line).
No example uses ``# doctest: +SKIP``: a skipped example would hide a wrong one.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).parent
SHARED = Path(os.environ.get("CPTS_GEO_DATA", ROOT.parent / "shared" / "data"))

collect_ignore = ["cpts_geo/__main__.py"]


@pytest.fixture(scope="session")
def _doctest_data() -> dict[str, Any]:
    """The session-wide part of the doctest namespace (data loaded once)."""
    if not (SHARED / "population").is_dir():
        pytest.fail(f"reference data not found at {SHARED}: set CPTS_GEO_DATA to the shared "
                    "data directory (e.g. CPTS_GEO_DATA=../shared/data)", pytrace=False)
    os.environ.setdefault("CPTS_GEO_DATA", str(SHARED))

    import numpy as np
    import pandas as pd
    import shapely

    from cpts_geo import load_reference
    from cpts_geo.analysis import analyse, for_region, summary
    from cpts_geo.registry import default_registry_path, membership, read_any, read_registry

    ref = load_reference(SHARED)
    reg = read_any(None, ref)
    return {
        "ref": ref,
        "reg": reg,
        "members": membership(reg, ref),
        "analysis": analyse(reg, ref, region="93"),
        "national": analyse(reg, ref),
        "pd": pd,
        "np": np,
        "shapely": shapely,
        "Path": Path,
        "load_reference": load_reference,
        "read_registry": read_registry,
        "read_any": read_any,
        "default_registry_path": default_registry_path,
        "membership": membership,
        "analyse": analyse,
        "summary": summary,
        "for_region": for_region,
    }


@pytest.fixture(autouse=True)
def _doctest_names(request: pytest.FixtureRequest) -> None:
    """Fill ``doctest_namespace`` before each doctest; nothing for other tests."""
    if not isinstance(request.node, pytest.DoctestItem):
        return
    namespace = request.getfixturevalue("doctest_namespace")
    namespace.update(request.getfixturevalue("_doctest_data"))
    namespace["tmp"] = request.getfixturevalue("tmp_path")
