"""The composer of the région page against ``cpts-geo check``, in headless Chromium.

The page of the real PACA registry (January 2026) is written once; its composer
(``window.cptsGeo.composer.select``) must give, key by key, what
:func:`cpts_geo.analysis.check.check_project` gives on the same codes: random selections,
contiguous ones grown over the real rook adjacency, selections with a hole (a unit and the ring
of its neighbours, without it), the shared communes of Nice and Toulon, and a revision of an
existing CPTS. The exported CSV (a real download) goes through ``python -m cpts_geo check`` and
is loaded back through the page's file input.
"""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import test_atlas_browser as _browser_tests

from cpts_geo.analysis import analyse
from cpts_geo.analysis.check import check_project
from cpts_geo.analysis.topology import adjacency
from cpts_geo.atlas import write_atlas
from cpts_geo.registry import registry_from_frame

pytestmark = pytest.mark.browser
ROOT = Path(__file__).parents[1]
browser = _browser_tests.browser  # the fixtures of the browser tests
visit = _browser_tests.visit
KEYS = ("cpts_id", "cpts_nom", "codes", "conflits", "population_totale", "population_ponderee",
        "population_nouvelle", "taille", "plafond_aci", "d_un_seul_tenant", "parties",
        "enclaves", "remplace", "homonyme")


@pytest.fixture(scope="module")
def paca_atlas(ref, paca, tmp_path_factory):
    out = tmp_path_factory.mktemp("composer") / "atlas"
    write_atlas(analyse(paca, ref), out, regions=["93"])
    return out / "93.html"


@pytest.fixture(scope="module")
def graph(ref):
    """PACA's units and their rook neighbours (computed here, apart from the page)."""
    finest = ref.finest
    codes = list(finest.index[finest["region"] == "93"])
    left, right = adjacency(ref, "metro", codes)
    nbrs: dict[str, set[str]] = {c: set() for c in codes}
    for i, j in zip(left.tolist(), right.tolist(), strict=True):
        nbrs[codes[i]].add(codes[j])
        nbrs[codes[j]].add(codes[i])
    return codes, nbrs


def _selections(codes: list[str], nbrs: dict[str, set[str]]) -> list[list[str]]:
    rng = random.Random(20260101)
    out: list[list[str]] = []
    for _ in range(8):  # scattered
        out.append(rng.sample(codes, rng.randint(1, 15)))
    for _ in range(9):  # contiguous, grown breadth first in a random order
        grown = [rng.choice(codes)]
        target = rng.randint(2, 15)
        while len(grown) < target:
            border = sorted({n for c in grown for n in nbrs[c]} - set(grown))
            if not border:
                break
            grown.append(rng.choice(border))
        out.append(grown)
    inland = [c for c in codes if len(nbrs[c]) >= 4]
    for centre in rng.sample(inland, 5):  # a hole: the ring around a unit, without it
        ring = sorted(nbrs[centre])
        rng.shuffle(ring)
        out.append(ring)
    out.append(["06088", "06004", "06083"])  # Nice, shared by three CPTS, and neighbours
    out.append(["83137", "83126"])  # Toulon (shared) and La Seyne-sur-Mer
    out.append(["13201", "13202", "13203", "13204", "13205", "13206"])  # Marseille 1er-6e
    return out


def _check(ref, paca, codes: list[str], *, revise: str | None = None,
           shared: set[str] = frozenset(), cpts_id: str = "PROJET",
           name: str = "Projet de CPTS") -> dict:
    frame = pd.DataFrame({"cpts_id": cpts_id, "cpts_nom": name, "code_commune": codes,
                          "partage": ["infra" if c in shared else "" for c in codes]})
    project = registry_from_frame(frame, ref)
    return check_project(project, paca, ref, revises=revise).to_dict()


def _same(page: dict, expected: dict) -> None:
    for key in KEYS:
        assert page[key] == expected[key], (key, page["codes"])


def test_composer_equals_check_on_random_selections(ref, paca, paca_atlas, graph, visit):
    codes, nbrs = graph
    v = visit(paca_atlas)
    selections = _selections(codes, nbrs)
    assert len(selections) == 25
    holes = 0
    for sel in selections:
        page = v.page.evaluate("c => cptsGeo.composer.select(c)", sel)
        expected = _check(ref, paca, sel)
        _same(page, expected)
        holes += bool(expected["enclaves"])
    assert holes >= 3  # most ring selections leave their centre as an enclave (not on the sea)
    nice = v.page.evaluate("c => cptsGeo.composer.select(c)", ["06088"])
    assert [c["cpts_id"] for c in nice["conflits"]] == ["PACA-028", "PACA-029", "PACA-030"]
    v.assert_clean()


def test_revision_of_an_existing_cpts(ref, paca, paca_atlas, visit):
    """From PACA-028 (which shares Nice), minus one unit plus a neighbour's: check --revise."""
    members = paca.claims[paca.claims["cpts_id"] == "PACA-028"]
    shared = set(members.loc[members["partage"], "code"])
    assert shared == {"06088"}
    v = visit(paca_atlas)
    start = v.page.evaluate("() => cptsGeo.composer.startFrom('PACA-028')")
    assert start["remplace"] == "PACA-028" and start["conflits"] == []  # shares are kept
    codes = [*start["codes"][1:], "06004"]
    page = v.page.evaluate("c => cptsGeo.composer.select(c, {revise: 'PACA-028'})", codes)
    expected = _check(ref, paca, codes, revise="PACA-028", shared=shared & set(codes),
                      cpts_id="PACA-028", name=page["cpts_nom"])
    _same(page, expected)
    assert page["population_ponderee"] < page["population_totale"]  # Nice counts 1/3
    assert "check --revise PACA-028" in v.page.inner_text("#atlas-composer-figures")
    v.assert_clean()


def _cli_check(path: Path, *extra: str) -> tuple[int, dict]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    run = subprocess.run([sys.executable, "-m", "cpts_geo", "check", str(path), "--json",
                          *extra], capture_output=True, text=True, env=env, cwd=ROOT,
                         check=False)
    assert run.returncode in (0, 1), run.stderr
    return run.returncode, json.loads(run.stdout)


def test_conflict_export_and_load_round_trip(paca_atlas, visit, tmp_path):
    v = visit(paca_atlas)
    page = v.page
    page.click("#atlas-composer-toggle")
    assert page.get_attribute("#atlas-composer-toggle", "aria-pressed") == "true"
    # by keyboard: the add box, a name, arrow down, Enter
    page.fill("#atlas-composer-add", "mandelieu")
    page.press("#atlas-composer-add", "ArrowDown")
    page.press("#atlas-composer-add", "Enter")
    page.fill("#atlas-composer-add", "cannes")  # Cannes is claimed: a conflict
    page.press("#atlas-composer-add", "Enter")
    result = page.evaluate("cptsGeo.composer.compute()")
    assert result["codes"] == ["06079", "06029"]
    assert [c["codes"] for c in result["conflits"]] == [["06029"]]
    conflicts = page.locator(".atlas-composer-conflicts li")
    assert conflicts.count() == 1
    assert result["conflits"][0]["cpts_nom"] in conflicts.inner_text()
    with page.expect_download() as download:
        page.click("#atlas-composer-export")
    path = tmp_path / "projet.csv"
    download.value.save_as(path)
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbfcpts_id;cpts_nom;code_commune\r\n")
    code, cli = _cli_check(path)
    assert code == 1  # a conflict: exit 1
    for key in KEYS:
        assert cli[key] == result[key], key
    page.click("#atlas-composer-clear")
    assert page.evaluate("cptsGeo.composer.selection()") == []
    other = tmp_path / "autre.csv"  # comma, no BOM, another code column name, a bad code
    other.write_text("nom,code_insee\nEstérel,6079\nEstérel,06029\nEstérel,99999\n",
                     encoding="utf-8")
    page.set_input_files("#atlas-composer-file", str(other))
    page.wait_for_function("cptsGeo.composer.selection().length === 2")
    assert page.evaluate("cptsGeo.composer.selection()") == ["06079", "06029"]
    assert "99999" in page.inner_text("#atlas-composer-message")
    v.assert_clean()


def test_revision_csv_reproduced_by_check_revise(paca_atlas, visit, tmp_path):
    v = visit(paca_atlas)
    result = v.page.evaluate("() => cptsGeo.composer.startFrom('PACA-029')")
    path = tmp_path / "revision.csv"
    path.write_text(v.page.evaluate("cptsGeo.composer.toCsv()"), encoding="utf-8")
    code, cli = _cli_check(path, "--revise", "PACA-029")
    assert code == 0
    for key in KEYS:
        assert cli[key] == result[key], key
    v.assert_clean()
