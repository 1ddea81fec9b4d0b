"""Shared fixtures: the real reference data (``CPTS_GEO_DATA``) and the real PACA registry."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from cpts_geo import load_reference
from cpts_geo.registry import read_registry

SHARED = Path(os.environ.get("CPTS_GEO_DATA", Path(__file__).parents[2] / "shared" / "data"))
PACA_DIR = SHARED / "cpts" / "paca-2026-01"
TEST_DATA = Path(__file__).parent / "data"


def pytest_configure(config: pytest.Config) -> None:
    if not (SHARED / "population").is_dir():
        raise pytest.UsageError(
            f"reference data not found at {SHARED}: set CPTS_GEO_DATA to the shared data "
            "directory (e.g. CPTS_GEO_DATA=../shared/data)")
    os.environ.setdefault("CPTS_GEO_DATA", str(SHARED))


@pytest.fixture(scope="session")
def ref():
    """The real reference data, loaded once."""
    return load_reference(SHARED)


@pytest.fixture(scope="session")
def paca(ref):
    """The real PACA registry (CSV), read in place from the shared data."""
    return read_registry(PACA_DIR / "cpts-communes.csv", ref)


@pytest.fixture(scope="session")
def paca_json(ref):
    """The real PACA registry (JSON), read in place from the shared data."""
    return read_registry(PACA_DIR / "cpts.json", ref)


@pytest.fixture(scope="session")
def paca_analysis(ref, paca):
    from cpts_geo.analysis import analyse

    return analyse(paca, ref, region="93")
