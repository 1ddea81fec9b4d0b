"""The atlas of a dated registry in headless Chromium: the evolution chart and ``--compare``.

The registry is the real PACA registry with seeded dates (``dated_paca.py``); the older one it
is compared with differs from it in the three ways a change can be: the CPTS Actes Santé
(PACA-001, three arrondissements of Marseille) did not exist yet (its units are gained), a CPTS
``CPTS Estérel`` claimed the zone blanche of Mandelieu-la-Napoule, Théoule-sur-Mer and
Tanneron (lost), and Courmes and Tourrettes-sur-Loup were in the CPTS des Collines de Valbonne
(changed). Pages are opened from disk with every request other than ``file://`` aborted (see
``test_atlas_browser.py``).
"""

from __future__ import annotations

import json
import re

import pandas as pd
import pytest
import shapely
import test_atlas_browser as _browser_tests

from cpts_geo.analysis import analyse
from cpts_geo.analysis.diff import diff_registries
from cpts_geo.analysis.timeline import evolution
from cpts_geo.atlas import write_atlas
from cpts_geo.atlas.changes import CHANGES
from cpts_geo.atlas.codec import decode_geometry
from cpts_geo.outputs.fmt import fmt_int, fmt_pct
from cpts_geo.registry import read_registry

from dated_paca import HEADERS, dated_frame, write_dated_csv

pytestmark = pytest.mark.browser

browser = _browser_tests.browser  # the fixtures of the browser tests
visit = _browser_tests.visit
_inner_point, _norm = _browser_tests._inner_point, _browser_tests._norm
_screen_point = _browser_tests._screen_point

ESTEREL = ["06079", "06138", "83133"]  # the zone blanche ZB-93-002
MOVED = ["06049", "06148"]  # Courmes, Tourrettes-sur-Loup
BAOUS, VALBONNE = "PACA-055", "PACA-056"


def _older(path):
    frame = dated_frame()
    frame = frame[frame["cpts_id"] != "PACA-001"]
    valbonne = frame.loc[frame["cpts_id"] == VALBONNE, "cpts_nom"].iloc[0]
    moved = frame["code_commune"].isin(MOVED)
    frame.loc[moved, ["cpts_id", "cpts_nom"]] = [VALBONNE, valbonne]
    frame.loc[moved, ["statut", *HEADERS.values()]] = ""  # they take those of Valbonne
    extra = frame.iloc[[0] * len(ESTEREL)].assign(
        cpts_id="PACA-099", cpts_nom="CPTS Estérel", code_commune=ESTEREL,
        code_arrondissement="")
    pd.concat([frame, extra], ignore_index=True).to_csv(path, index=False)
    return path


@pytest.fixture(scope="module")
def timeline_atlas(ref, tmp_path_factory):
    base = tmp_path_factory.mktemp("timeline-atlas")
    new = read_registry(write_dated_csv(base / "paca-dates.csv"), ref)
    old = read_registry(_older(base / "paca-ancien.csv"), ref)
    diff = diff_registries(old, new, ref)
    evo = evolution(new, ref)
    out = base / "atlas"
    write_atlas(analyse(new, ref), out, evolution=evo, compare=diff)
    return out, diff, evo


def _layer(page_file, key):
    text = page_file.read_text(encoding="utf-8")
    data = json.loads(re.search(r'<script type="application/json" id="atlas-data">(.*?)'
                                r"</script>", text, re.S).group(1))
    return {f["properties"]["c"]: (f["properties"], shapely.from_geojson(json.dumps(
        {"type": "MultiPolygon", "coordinates": decode_geometry(f["g"], data["decimals"])})))
        for f in data[key]["features"]}


def test_the_evolution_chart_of_a_region_page(timeline_atlas, visit):
    out, _, evo = timeline_atlas
    table = evo.tables["region"]
    months = table[table["code"] == "93"].reset_index(drop=True)
    v = visit(out / "93.html")
    page = v.page
    chart = page.locator("#atlas-evolution-svg")
    chart.scroll_into_view_if_needed()
    assert chart.is_visible()
    box = chart.bounding_box()
    assert box["width"] > 200 and box["height"] > 100
    assert page.text_content("#atlas-evolution-heading") == "Évolution"
    assert _norm(page.text_content("#atlas-evolution-svg > title")) == (
        "Évolution de la couverture de la population — Provence-Alpes-Côte d'Azur")
    lines = page.locator("#atlas-evolution-svg polyline.atlas-evolution-line")
    assert lines.count() == 3
    for i in range(3):
        points = lines.nth(i).get_attribute("points").split()
        assert len(points) == len(months)
        # the line's last point is the last month's rate
        key = lines.nth(i).get_attribute("data-seuil")
        y = float(points[-1].split(",")[1])
        rate = float(months[f"taux_{key}"].iloc[-1])
        assert y == pytest.approx(14 + 166 * (1 - rate / 105), abs=0.06)
    target = page.locator(".atlas-evolution-objectif")  # the 100 % line, across the chart
    assert target.count() == 1 and target.bounding_box()["width"] > 0.8 * box["width"]
    assert float(target.get_attribute("y1")) == pytest.approx(14 + 166 * (1 - 100 / 105),
                                                              abs=0.06)
    desc = _norm(page.text_content("#atlas-evolution-desc"))
    last = months.iloc[-1]
    assert _norm(fmt_pct(last["taux_tous_stades"])) in desc
    # the figures table, opened
    page.locator("#atlas-evolution-donnees summary").click()
    cells = page.locator("#atlas-evolution-donnees tbody tr").last.locator("td")
    assert _norm(cells.nth(0).inner_text()) == _norm(fmt_int(last["n_cpts"]))
    assert _norm(cells.nth(3).inner_text()) == _norm(fmt_pct(last["taux_tous_stades"]))
    assert "3 CPTS du registre sans aucune date" in page.locator(
        "#atlas-evolution-note").inner_text()
    ids = page.evaluate("Array.from(document.querySelectorAll('[id]'), e => e.id)")
    assert len(ids) == len(set(ids))  # the chart's ids are its own
    page.screenshot(path=str(out / "evolution-93.png"))
    v.assert_clean()


def test_the_evolution_chart_on_the_national_page(timeline_atlas, visit):
    out, _, evo = timeline_atlas
    v = visit(out / "index.html")
    chart = v.page.locator("#atlas-evolution-svg")
    assert chart.count() == 1
    assert int(chart.get_attribute("data-mois")) == len(evo.tables["france"])
    v.assert_clean()


@pytest.mark.parametrize("page_name, region", [("93.html", "93"), ("index.html", None)])
def test_the_changes_layer_counts_the_diffs_units(timeline_atlas, visit, page_name, region):
    out, diff, _ = timeline_atlas
    units = diff.unites if region is None else diff.unites[diff.unites["region"] == region]
    v = visit(out / page_name)
    page = v.page
    assert page.text_content("#atlas-changes-title") == "Changements depuis paca-ancien.csv"
    for key, (kind, _, _) in CHANGES.items():
        expected = sorted(units.loc[units["changement"] == kind, "code"])
        assert len(expected) > 0, kind
        assert page.evaluate("k => cptsGeo.count(k)", key) == len(expected)
        assert sorted(page.evaluate("k => cptsGeo.ids(k)", key)) == expected
        item = page.locator(f'#atlas-changes li[data-layer="{key}"]')
        assert item.get_attribute("data-count") == str(len(expected))
    assert sorted(units.loc[units["changement"] == "perdue", "code"]) == sorted(ESTEREL)
    assert sorted(units.loc[units["changement"] == "changee", "code"]) == sorted(MOVED)
    # each kind drawn its own way, and switched off and on
    drawn = page.locator("path.atlas-change-perdue")
    assert drawn.count() == len(ESTEREL)
    assert drawn.first.get_attribute("stroke-dasharray") == "6 3"
    assert page.locator("path.atlas-change-gagnee").first.get_attribute(
        "stroke-dasharray") is None
    box = page.locator('input[data-atlas-layer="changements_perdues"]')
    box.uncheck()
    assert drawn.count() == 0
    box.check()
    assert drawn.count() == len(ESTEREL)
    # the coverage before and after, as the diff says
    cov = diff.couverture
    row = (cov[cov["niveau"] == "perimetre"] if region is None
           else cov[(cov["niveau"] == "region") & (cov["code"] == region)]).iloc[0]
    line = page.locator('#atlas-changes-coverage tr[data-seuil="tous_stades"] td')
    assert _norm(line.nth(0).inner_text()) == _norm(fmt_pct(row["taux_avant_tous_stades"]))
    assert _norm(line.nth(1).inner_text()) == _norm(fmt_pct(row["taux_apres_tous_stades"]))
    assert _norm(page.inner_text("#atlas-changes-nouvelles")) == str(len(diff.nouvelles))
    assert _norm(page.inner_text("#atlas-changes-disparues")) == str(len(diff.disparues))
    v.assert_clean()


def test_a_changed_units_tooltip_names_its_cpts_before_and_after(timeline_atlas, visit):
    out, diff, _ = timeline_atlas
    lost = _layer(out / "93.html", "changements_perdues")
    props, geom = lost["06079"]  # Mandelieu-la-Napoule
    assert props["a"] == ["CPTS Estérel"] and props["b"] == []
    point = _inner_point(geom, [g for c, (_, g) in lost.items() if c != "06079"])
    v = visit(out / "93.html")
    page = v.page
    x, y = _screen_point(page, point.x, point.y)
    page.mouse.move(x - 3, y - 3)
    page.mouse.move(x, y)
    tooltip = page.locator(".leaflet-tooltip", has_text="Changement")
    tooltip.wait_for(state="visible", timeout=5_000)
    text = _norm(tooltip.inner_text())
    population = int(diff.unites.set_index("code").at["06079", "population"])
    assert "Mandelieu-la-Napoule (06079)" in text
    assert "n'est plus couverte" in text
    assert _norm(f"Population {fmt_int(population)} hab.") in text
    assert "Avant CPTS Estérel" in text and "Après aucune CPTS" in text
    v.assert_clean()
