"""What the evolution and the changes look like: charts, page sections, colours, escaping.

The chart files (``atlas/charts.py``) are deterministic and French; the pages' inline SVG holds
one point per month at the right height, escapes every text taken from the inputs and shows
the 100 % target; the colours of the lines and of the change layers stay apart for colour-blind
readers and contrast with white (``atlas/palette.py``).
"""

from __future__ import annotations

import re

import pandas as pd
import pytest

from cpts_geo.analysis.diff import diff_registries
from cpts_geo.analysis.timeline import evolution
from cpts_geo.atlas.changes import CHANGES, changes_panel
from cpts_geo.atlas.charts import (
    LINES,
    TARGET_COLOUR,
    evolution_panel,
    evolution_svg,
    write_evolution_charts,
)
from cpts_geo.atlas.palette import MIN_DELTA_E, contrast_ratio, min_distance
from cpts_geo.outputs.evolution import write_evolution
from cpts_geo.outputs.report import evolution_report
from cpts_geo.registry import Registry

HOSTILE = "<img src=x onerror=alert(1)>"


@pytest.fixture(scope="module")
def dated(paca):
    """Every PACA CPTS at lettre d'intention from 2020, half of them signing in 2021."""
    ids = sorted(paca.cpts.index)
    signed = {c: pd.Timestamp("2021-03-15") if i % 2 else pd.NaT for i, c in enumerate(ids)}
    claims = paca.claims.assign(
        date_lettre_intention=pd.Timestamp("2020-01-10"),
        date_aci=paca.claims["cpts_id"].map(signed).astype("datetime64[ns]"),
        stade=paca.claims["cpts_id"].map(
            {c: "fonctionnement" if pd.notna(d) else "lettre_intention"
             for c, d in signed.items()}))
    return Registry(claims, "registre-daté.csv")


def test_line_and_change_colours_are_told_apart_and_contrast():
    lines = [colour for _, colour, _ in LINES.values()]
    changes = [colour for _, _, colour in CHANGES.values()]
    for palette in (lines, changes):
        distance, vision, a, b = min_distance(palette)
        assert distance >= MIN_DELTA_E, (vision, a, b)
        assert all(contrast_ratio(c, "#ffffff") >= 3.0 for c in palette)
    assert contrast_ratio(TARGET_COLOUR, "#ffffff") >= 4.5
    assert len({dash for _, _, dash in LINES.values()}) == 3  # told apart without colour too


def test_the_pages_chart_points(ref, dated):
    frame = evolution(dated, ref, start="2019-12", end="2021-06").tables["france"]
    svg = evolution_svg(frame, "PACA")
    assert 'data-mois="19"' in svg
    for key in LINES:
        points = re.search(rf'data-seuil="{key}"[^>]*points="([^"]+)"', svg).group(1).split()
        assert len(points) == 19
        ys = [float(p.split(",")[1]) for p in points]
        rates = frame[f"taux_{key}"].tolist()
        assert ys == pytest.approx([14 + 166 * (1 - r / 105) for r in rates], abs=0.06)
        xs = [float(p.split(",")[0]) for p in points]
        assert xs == sorted(xs) and xs[0] == 40 and xs[-1] == 348
    # every lettre d'intention in January 2020, half the ACI in March 2021
    rates = frame.set_index("mois")
    assert rates.loc["2019-12", "taux_tous_stades"] == 0
    assert rates.loc["2020-01", "taux_tous_stades"] == 98.06
    assert rates.loc["2021-02", "taux_fonctionnement"] == 0
    assert 0 < rates.loc["2021-03", "taux_fonctionnement"] < 98.06
    assert "Objectif 100" in svg and 'class="atlas-evolution-objectif"' in svg
    # the table: each December and the last month
    assert re.findall(r'<th scope="row">([^<]+)</th>', svg) == ["12/2019", "12/2020", "06/2021"]


def test_the_pages_chart_escapes_its_texts(ref, dated):
    frame = evolution(dated, ref, start="2021-01", end="2021-02").tables["france"]
    svg = evolution_svg(frame, HOSTILE)
    assert HOSTILE not in svg and "&lt;img src=x onerror=alert(1)&gt;" in svg
    assert "<img" not in svg


def test_panel_sections_are_empty_without_their_data(ref, dated, paca):
    e = evolution(dated, ref, start="2021-01", end="2021-02")
    assert evolution_panel(None, "93") == "" and changes_panel(None, "93") == ""
    assert evolution_panel(e, "84") == ""  # Auvergne-Rhône-Alpes: outside the perimeter
    assert 'id="atlas-evolution"' in evolution_panel(e, None)
    claims = paca.claims.copy()
    claims.loc[claims["cpts_id"] == "PACA-040", "cpts_nom"] = HOSTILE
    panel = changes_panel(diff_registries(paca, Registry(claims, f"{HOSTILE}.csv"), ref), "93")
    assert HOSTILE not in panel and "<img" not in panel


def test_chart_files_are_deterministic_and_french(ref, dated, tmp_path):
    e = evolution(dated, ref, start="2019-06", end="2021-12")
    first = write_evolution_charts(e, tmp_path / "a")
    second = write_evolution_charts(e, tmp_path / "b")
    assert [p.name for p in first] == ["evolution.png", "evolution.svg"]
    assert first[1].read_bytes() == second[1].read_bytes()
    svg = first[1].read_text(encoding="utf-8")
    for text in ("Part de la population couverte", "Nombre de CPTS", "CPTS par stade",
                 "Objectif", "Lettre d'intention validée", "En fonctionnement (ACI signé)",
                 "98,06", "06/2019 – 12/2021"):
        assert text in svg, text
    from PIL import Image

    with Image.open(first[0]) as png:
        assert png.size == (1650, 1050)


def test_tables_and_report(ref, dated, tmp_path):
    e = evolution(dated, ref, start="2019-12", end="2021-06")
    paths = write_evolution(e, tmp_path)
    table = pd.read_csv(paths[0], sep=";", encoding="utf-8-sig")
    assert table["mois"].tolist()[:2] == ["2019-12", "2020-01"] and len(table) == 19
    assert table["n_cpts"].tolist()[:2] == [0, 70]
    report = evolution_report(e)
    assert "Période : 12/2019 à 06/2021 (19 mois)" in report
    assert "Par mois :" in report  # 19 months: every one is shown
    assert sum(1 for line in report.splitlines() if re.match(r"20\d\d-\d\d ", line)) == 19
    assert "Par département, au 30/06/2021 :" in report
