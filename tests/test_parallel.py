"""Work shared between processes gives the same bytes as a serial run (issue 13).

The atlas's pages, figures and reports, and the tables, are written with one worker and with
two, and every file is compared byte for byte; and two runs in a row give the same bytes (no
random element names in the pages).
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

from cpts_geo.outputs.parallel import run_tasks, worker_count

from conftest import PACA_DIR


def digests(directory: Path) -> dict[str, str]:
    return {str(p.relative_to(directory)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(directory.rglob("*")) if p.is_file()
            and p.name != ".cpts-geo-output"}


def test_tasks_come_back_in_order_from_workers():
    tasks = [lambda i=i: (i, os.getpid()) for i in range(12)]
    out = run_tasks(tasks, workers=2)
    assert [i for i, _ in out] == list(range(12))
    assert {pid for _, pid in out} != {os.getpid()}  # done in other processes
    assert {pid for _, pid in run_tasks(tasks, workers=1)} == {os.getpid()}


def test_worker_count_follows_the_environment(monkeypatch):
    monkeypatch.setenv("CPTS_GEO_WORKERS", "1")
    assert worker_count(10) == 1
    monkeypatch.setenv("CPTS_GEO_WORKERS", "3")
    assert worker_count(10) == 3 and worker_count(2) == 2


def test_atlas_and_tables_are_the_same_bytes_with_one_worker_or_two(tmp_path):
    """The whole ``cpts-geo atlas --png --pdf`` output, with one worker, two, and two again.

    Each run in its own process with its own hash seed; ``SOURCE_DATE_EPOCH`` fixes the time
    the workbook and the GeoPackage carry (as it does for reproducible builds)."""
    registry = PACA_DIR / "cpts-communes.csv"
    runs = {}
    for seed, (tag, workers) in enumerate((("serial", "1"), ("parallel", "2"),
                                           ("again", "2"))):
        out = tmp_path / tag
        env = dict(os.environ, CPTS_GEO_WORKERS=workers, PYTHONHASHSEED=str(seed),
                   SOURCE_DATE_EPOCH="1767225600", PYTHONPATH=str(Path(__file__).parents[1]))
        done = subprocess.run([sys.executable, "-m", "cpts_geo", "atlas", "--registry",
                               str(registry), "--out", str(out), "--png", "--pdf"], env=env,
                              capture_output=True, text=True, timeout=600)
        assert done.returncode == 0, done.stderr
        runs[tag] = digests(out)
    assert {"index.html", "93.html", "93.png", "93.pdf", "couverture.xlsx", "cpts.gpkg",
            "territoires.csv"} <= set(runs["serial"])
    assert runs["parallel"] == runs["serial"]
    assert runs["again"] == runs["serial"]


def test_atlas_from_an_empty_cache_and_a_warm_one_is_the_same_bytes(tmp_path):
    """Pages and tables computed (empty cache) and read back from the caches (the display
    geometry, the analysis and what the pages derive from it) are the same files."""
    registry = PACA_DIR / "cpts-communes.csv"
    cache = tmp_path / "cache"
    runs = {}
    for tag in ("cold", "warm"):
        out = tmp_path / tag
        env = dict(os.environ, CPTS_GEO_CACHE=str(cache), SOURCE_DATE_EPOCH="1767225600",
                   PYTHONPATH=str(Path(__file__).parents[1]))
        done = subprocess.run([sys.executable, "-m", "cpts_geo", "atlas", "--registry",
                               str(registry), "--out", str(out)], env=env,
                              capture_output=True, text=True, timeout=600)
        assert done.returncode == 0, done.stderr
        runs[tag] = digests(out)
        if tag == "cold":  # the derived caches were written
            assert list((cache / "analyses").glob("*-features-*.npz"))
            assert list((cache / "analyses").glob("*-layers-93-*.npz"))
    assert {"index.html", "93.html", "couverture.xlsx", "cpts.gpkg"} <= set(runs["cold"])
    assert runs["warm"] == runs["cold"]
