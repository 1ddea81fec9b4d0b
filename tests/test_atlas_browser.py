"""The atlas pages in headless Chromium, opened from disk with the network blocked.

Pages are those of ``test_atlas.py`` (the PACA registry with stages spread, a hostile CPTS name,
a conflict and a CPTS in La Réunion), written once per session. Each test opens a page in a
fresh browser context whose every request other than ``file://`` is aborted and recorded, and
collects console errors, page errors and dialogs. Screenshots go to ``tests/artifacts/``; with
``CPTS_GEO_DOCS_SCREENSHOT=1`` the PACA page of the real registry is also saved as
``docs/atlas-paca.png``.

Chromium is Debian's (``/usr/bin/chromium``, or ``CPTS_GEO_CHROMIUM``); Python Playwright drives
it.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import shapely

from cpts_geo.analysis import analyse, for_region
from cpts_geo.atlas import write_atlas
from cpts_geo.outputs.fmt import fmt_int, fmt_pct
from cpts_geo.registry.stages import LABELS, STAGES

from test_atlas import HOSTILE, HOSTILE_ID, REUNION_ID, atlas_build, page_data

pytestmark = pytest.mark.browser

CHROMIUM = Path(os.environ.get("CPTS_GEO_CHROMIUM", "/usr/bin/chromium"))
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]
ARTIFACTS = Path(__file__).parent / "artifacts"
DOCS = Path(__file__).parents[1] / "docs"
VIEWPORT = {"width": 1400, "height": 850}


@dataclass
class Visit:
    """A page opened from disk, with what it tried to do."""

    page: Any
    requests: list[str] = field(default_factory=list)
    blocked: list[str] = field(default_factory=list)
    console_errors: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)
    dialogs: list[str] = field(default_factory=list)

    def assert_clean(self) -> None:
        assert self.blocked == [], f"requests left file://: {self.blocked}"
        assert all(u.startswith(("file://", "data:")) for u in self.requests), self.requests
        assert self.console_errors == []
        assert self.page_errors == []
        assert self.dialogs == []


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not CHROMIUM.exists():
        pytest.skip(f"no Chromium at {CHROMIUM} (apt install chromium, or set "
                    "CPTS_GEO_CHROMIUM)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield chromium
        chromium.close()


@pytest.fixture(scope="module")
def built(ref, paca, tmp_path_factory):
    return atlas_build(ref, paca, tmp_path_factory.getbasetemp())


@pytest.fixture
def visit(browser) -> Iterator[Callable[..., Visit]]:
    contexts = []

    def open_page(path: Path, viewport: dict[str, int] | None = None, *,
                  ready: bool = True) -> Visit:
        context = browser.new_context(viewport=viewport or VIEWPORT, service_workers="block")
        contexts.append(context)
        page = context.new_page()
        v = Visit(page)

        def route(r: Any) -> None:
            url = r.request.url
            if url.startswith(("file://", "data:")):
                r.continue_()
            else:
                v.blocked.append(url)
                r.abort()

        def dialog(d: Any) -> None:
            v.dialogs.append(d.message)
            d.dismiss()

        context.route("**/*", route)
        page.on("request", lambda r: v.requests.append(r.url))
        page.on("console", lambda m: v.console_errors.append(m.text) if m.type == "error"
                else None)
        page.on("pageerror", lambda e: v.page_errors.append(str(e)))
        page.on("dialog", dialog)
        page.goto(path.as_uri())
        if ready:
            page.wait_for_function("window.__atlasReady === true", timeout=15_000)
        return v

    yield open_page
    for context in contexts:
        context.close()


def _screen_point(page: Any, lon: float, lat: float) -> tuple[float, float]:
    """Page coordinates of a longitude/latitude on the main map (which must show it)."""
    x, y, inside = page.evaluate(
        """([lat, lon]) => {
            const m = CptsAtlas.map, p = m.latLngToContainerPoint([lat, lon]);
            const r = m.getContainer().getBoundingClientRect();
            return [r.left + p.x, r.top + p.y, m.getBounds().contains([lat, lon])];
        }""", [lat, lon])
    assert inside
    return x, y


def _inner_point(target: shapely.Geometry, others: list[shapely.Geometry]) -> shapely.Point:
    """A point of ``target`` covered by none of ``others``, well inside it."""
    free = shapely.difference(target, shapely.union_all(others)) if others else target
    parts = sorted(shapely.get_parts(free), key=lambda g: g.area)
    return shapely.point_on_surface(parts[-1].buffer(-0.002) or parts[-1])


def _geoms(data: dict, layer: str) -> dict[str, shapely.Geometry]:
    fc = data[layer]
    return {str(f["properties"].get("i", f["properties"].get("c"))):
            shapely.from_geojson(json.dumps(f["geometry"])) for f in fc["features"]}


def _norm(text: str) -> str:
    return " ".join(text.replace("\u00a0", " ").split())


def test_region_page_opens_offline(built, visit):
    _, out, _ = built
    v = visit(out / "93.html")
    ARTIFACTS.mkdir(exist_ok=True)
    v.page.screenshot(path=str(ARTIFACTS / "atlas-93.png"))
    v.assert_clean()
    assert v.requests == [(out / "93.html").as_uri()]  # one file: nothing else is loaded
    assert v.page.title() == "Atlas des CPTS — Provence-Alpes-Côte d'Azur (93)"


def test_one_polygon_per_territory_in_each_stage_layer(built, visit):
    national, out, _ = built
    table = for_region(national, "93").territories.table
    v = visit(out / "93.html")
    for stage in STAGES:
        expected = sorted(table.index[table["stade"] == stage])
        assert sorted(v.page.evaluate("k => CptsAtlas.ids(k)", f"stage:{stage}")) == expected
        drawn = v.page.locator(f".leaflet-pane path.atlas-stage-{stage}").count()
        assert drawn == len(expected) > 0, stage
    assert v.page.locator("path.atlas-conflit").count() == 1
    assert v.page.locator("path.atlas-partage").count() == 2
    assert v.page.locator("path.atlas-zb").count() == len(for_region(national, "93")
                                                          .zones_blanches)
    v.assert_clean()


def test_legend_and_summary_match_analysis(built, visit):
    national, out, _ = built
    region = for_region(national, "93")
    counts = region.territories.table["stade"].value_counts()
    row = region.couverture["france"].iloc[0]
    v = visit(out / "93.html")
    page = v.page
    for stage in STAGES:
        item = page.locator(f'.atlas-legend li[data-stage="{stage}"]')
        assert _norm(item.locator(".atlas-label").inner_text()) == LABELS[stage]
        assert _norm(item.locator(".atlas-count").inner_text()) == _norm(
            f"{fmt_int(counts.get(stage, 0))} CPTS")
        assert item.locator("input").is_checked()
    for key in ("tous_stades", "jusqu_projet_valide", "fonctionnement"):
        assert _norm(page.inner_text(f"#atlas-taux-{key}")) == _norm(fmt_pct(row[f"taux_{key}"]))
        assert _norm(page.inner_text(f"#atlas-pop-{key}")) == _norm(
            fmt_int(row[f"population_couverte_{key}"]))
    assert _norm(page.inner_text("#atlas-population-totale")) == _norm(
        fmt_int(row["population_totale"]) + " hab.")
    assert _norm(page.inner_text("#atlas-n-cpts")) == "70"
    v.assert_clean()


def test_layers_switch_off_and_on(built, visit):
    _, out, _ = built
    v = visit(out / "93.html")
    page = v.page
    paths = page.locator(".leaflet-pane path.atlas-stage-fonctionnement")
    n = paths.count()
    box = page.locator('input[data-atlas-layer="stage:fonctionnement"]')
    box.uncheck()
    assert paths.count() == 0
    box.check()
    assert paths.count() == n
    page.locator('input[data-atlas-layer="zones_blanches"]').uncheck()
    assert page.locator("path.atlas-zb").count() == 0
    v.assert_clean()


def test_tooltip_shows_hostile_name_as_text(built, visit):
    _, out, _ = built
    data = page_data(out / "93.html")
    territories = {k: g for s in STAGES for k, g in _geoms({"t": data["territoires"][s]},
                                                            "t").items()}
    others = [g for k, g in territories.items() if k != HOSTILE_ID]
    others += list(_geoms(data, "partages").values()) + list(_geoms(data, "conflits").values())
    point = _inner_point(territories[HOSTILE_ID], others)
    v = visit(out / "93.html")
    page = v.page
    x, y = _screen_point(page, point.x, point.y)
    page.mouse.move(x - 3, y - 3)
    page.mouse.move(x, y)
    tooltip = page.locator(".leaflet-tooltip", has_text="Taille ACI")
    tooltip.wait_for(state="visible", timeout=5_000)
    assert page.locator(".leaflet-tooltip").count() == 1
    text = tooltip.inner_text()
    assert HOSTILE in text  # the markup is shown as text...
    assert tooltip.locator("img").count() == 0  # ...and never parsed
    assert page.evaluate("document.querySelectorAll('img[src=\"x\"]').length") == 0
    assert "Stade" in text and "Taille ACI" in text and "Communes" in text
    page.wait_for_timeout(100)
    page.screenshot(path=str(ARTIFACTS / "atlas-93-tooltip.png"))
    v.assert_clean()  # in particular: no alert dialog


def test_tooltip_on_a_zone_blanche(built, visit):
    national, out, _ = built
    region = for_region(national, "93")
    zb = region.zones_blanches
    biggest = zb.loc[zb["superficie_km2"].idxmax()]  # large enough to hover at this zoom
    data = page_data(out / "93.html")
    gaps = _geoms(data, "zones_blanches")
    point = _inner_point(gaps[biggest["zone_blanche"]], [])
    v = visit(out / "93.html")
    x, y = _screen_point(v.page, point.x, point.y)
    v.page.mouse.move(x - 3, y - 3)
    v.page.mouse.move(x, y)
    tooltip = v.page.locator(".leaflet-tooltip")
    tooltip.wait_for(state="visible", timeout=5_000)
    assert tooltip.count() == 1
    text = _norm(tooltip.inner_text())
    assert "Zone blanche" in text
    assert _norm(fmt_int(biggest["population"]) + " hab.") in text
    pop = national.reference.units["population"]
    first = biggest["codes"][0]
    assert _norm(f"{biggest['communes'][0]} — {fmt_int(pop[first])} hab.") in text
    v.assert_clean()


def test_search_finds_a_commune(built, visit):
    _, out, _ = built
    v = visit(out / "93.html")
    page = v.page
    zoom = page.evaluate("CptsAtlas.map.getZoom()")
    page.fill("#atlas-search", "eze")  # accents are ignored: Èze
    results = page.locator("#atlas-search-results .atlas-result")
    results.first.wait_for()
    assert any("Èze (06059)" in t for t in results.all_inner_texts())
    page.fill("#atlas-search", "sisteron")
    results.first.wait_for()
    assert results.first.inner_text().startswith("Sisteron (04209)")
    page.press("#atlas-search", "Enter")
    popup = page.locator(".leaflet-popup-content")
    popup.wait_for()
    text = _norm(popup.inner_text())
    assert "Sisteron (04209)" in text and "zone blanche" in text
    page.locator("path.atlas-highlight").wait_for()  # its outline, from the page's units
    assert page.evaluate("CptsAtlas.map.getZoom()") > zoom + 2
    page.screenshot(path=str(ARTIFACTS / "atlas-93-search.png"))
    v.assert_clean()


def test_commune_outlines_on_demand(built, visit):
    _, out, _ = built
    units = page_data(out / "93.html")["units"]
    n_units = units["r"].count("0")  # the région's units and those of its CPTS beyond it
    v = visit(out / "93.html")
    page = v.page
    assert page.locator("path.atlas-commune").count() == 0
    box = page.locator('input[data-atlas-layer="communes"]')
    assert not box.is_checked()
    box.check()
    page.wait_for_function(f"document.querySelectorAll('path.atlas-commune').length === "
                           f"{n_units}")
    box.uncheck()
    assert page.locator("path.atlas-commune").count() == 0
    v.assert_clean()


def test_drom_page(built, visit):
    _, out, _ = built
    v = visit(out / "04.html")
    assert v.page.evaluate("CptsAtlas.ids('stage:fonctionnement')") == [REUNION_ID]
    assert v.page.locator("path.atlas-stage-fonctionnement").count() == 1
    v.assert_clean()


def test_national_page(built, visit):
    national, out, _ = built
    table = national.territories.table
    v = visit(out / "index.html")
    page = v.page
    page.screenshot(path=str(ARTIFACTS / "atlas-index.png"))
    for stage in STAGES:
        assert page.evaluate("k => CptsAtlas.count(k)", f"stage:{stage}") == int(
            (table["stade"] == stage).sum())
    insets = page.locator(".atlas-inset")
    assert insets.count() == 5
    reunion = page.locator('.atlas-inset[data-zone="974"]')
    assert reunion.locator("path.atlas-stage-fonctionnement").count() == 1
    rows = page.locator("#atlas-regions tbody tr[data-region]")
    assert rows.count() == national.reference.finest["region"].nunique()
    # régions outside the registry's perimeter: drawn grey as "hors registre", not counted
    outside = set(national.reference.finest["region"]) - set(national.perimeter)
    assert page.evaluate("k => CptsAtlas.count(k)", "hors_registre") == len(outside)
    assert page.locator("path.atlas-hors").count() >= len(outside)
    idf = page.locator('#atlas-regions tr[data-region="11"]')
    assert "hors registre" in idf.inner_text()
    assert page.locator("#atlas-perimetre").is_visible()
    paca = page.locator('#atlas-regions tr[data-region="93"]')
    assert "Provence-Alpes-Côte d'Azur" in paca.inner_text()
    assert _norm(paca.locator("td").nth(2).inner_text()) == _norm(
        fmt_pct(national.couverture["region"].loc["93", "taux_tous_stades"]))
    assert page.locator('#atlas-regions tr[data-region="11"] a').count() == 0
    v.assert_clean()
    paca.locator("a").click()
    page.wait_for_url("**/93.html")
    page.wait_for_function("window.__atlasReady === true")
    assert page.inner_text("h1") == "Provence-Alpes-Côte d'Azur"
    v.assert_clean()


def test_docs_screenshot(ref, paca, visit, tmp_path):
    """The PACA page of the real registry (January 2026), with a territory's tooltip.

    Saved in tests/artifacts/; with CPTS_GEO_DOCS_SCREENSHOT=1 it also refreshes the README's
    docs/atlas-paca.png.
    """
    out = tmp_path / "atlas"
    write_atlas(analyse(paca, ref), out, regions=["93"])
    v = visit(out / "93.html", viewport={"width": 1280, "height": 800})
    data = page_data(out / "93.html")
    shown = _geoms({"t": data["territoires"]["non_renseigne"]}, "t")
    point = _inner_point(shown["PACA-047"], [g for k, g in shown.items() if k != "PACA-047"])
    x, y = _screen_point(v.page, point.x, point.y)
    v.page.mouse.move(x - 3, y - 3)
    v.page.mouse.move(x, y)
    v.page.locator(".leaflet-tooltip").wait_for(state="visible")
    shot = ARTIFACTS / "atlas-paca.png"
    shot.parent.mkdir(exist_ok=True)
    v.page.screenshot(path=str(shot))
    v.assert_clean()
    assert "PACA-047" in shown
    with open(shot, "rb") as fh:
        head = fh.read(24)
    assert head[:8] == b"\x89PNG\r\n\x1a\n"
    assert int.from_bytes(head[16:20], "big") == 1280
    if os.environ.get("CPTS_GEO_DOCS_SCREENSHOT"):
        DOCS.mkdir(exist_ok=True)
        shutil.copyfile(shot, DOCS / "atlas-paca.png")


# ------------------------------------------------------------------------------------------
# pages that travel alone, colour modes, CPTS search and card, keyboard (issue 12)


@pytest.fixture(scope="module")
def real(ref, paca, tmp_path_factory):
    """The atlas of the real PACA registry (no stage given) and its national analysis."""
    national = analyse(paca, ref)
    out = tmp_path_factory.mktemp("real") / "atlas"
    write_atlas(national, out, regions=["93"])
    return national, out


def test_region_page_copied_alone_renders(built, visit, tmp_path):
    national, out, _ = built
    alone = tmp_path / "ailleurs" / "carte PACA.html"
    alone.parent.mkdir()
    shutil.copyfile(out / "93.html", alone)
    v = visit(alone)
    table = for_region(national, "93").territories.table
    assert v.page.locator(".leaflet-pane path.atlas-stage").count() == len(table)
    v.page.locator('input[data-atlas-layer="communes"]').check()
    assert v.page.locator("path.atlas-commune").count() > len(table)
    assert v.requests == [alone.as_uri()]
    v.assert_clean()


def test_embed_snippet_opened_from_disk_shows_the_map(built, visit):
    national, out, _ = built
    snippet = (out / "93.embed.html").read_text(encoding="utf-8")
    assert 'sandbox="allow-scripts"' in snippet  # opaque origin: no sub-resource may load
    v = visit(out / "93.embed.html", ready=False)
    frame = v.page.frame_locator("iframe")
    frame.locator("path.atlas-stage").first.wait_for(timeout=15_000)
    n = len(for_region(national, "93").territories.table)
    assert frame.locator(".leaflet-pane path.atlas-stage").count() == n
    v.assert_clean()


def _fills(page: Any) -> list[str]:
    return page.evaluate("""() => Array.from(document.querySelectorAll(
        '.leaflet-pane path.atlas-stage')).map(p => p.getAttribute('fill'))""")


def test_colour_modes(real, visit):
    national, out = real
    table = national.territories.table
    v = visit(out / "93.html")
    page = v.page
    # no stage in the PACA listing: the page opens on the ACI tiers and says why
    assert page.locator('input[name="atlas-mode"][value="taille"]').is_checked()
    assert "Stade non renseigné dans le registre" in page.inner_text("#atlas-mode-note")
    tiers = _fills(page)
    assert len(set(tiers)) == table["taille"].nunique() > 1
    keys = page.locator("#atlas-key .atlas-key-item")
    counts = [int(_norm(t).split()[0]) for t in keys.locator(".atlas-count").all_inner_texts()]
    assert counts == [int((table["taille"] == t).sum()) for t in (1, 2, 3, 4)]
    page.locator('input[name="atlas-mode"][value="stade"]').check()
    assert set(_fills(page)) == {"#8c8c8c"}  # every stage unknown: one grey
    page.locator('input[name="atlas-mode"][value="densite"]').check()
    dense = _fills(page)
    assert len(set(dense)) >= 4 and dense != tiers
    page.locator('input[name="atlas-mode"][value="population"]').check()
    assert len(set(_fills(page))) >= 4
    v.assert_clean()


def test_cpts_search_and_card(real, visit):
    national, out = real
    row = national.territories.table.loc["PACA-055"]
    v = visit(out / "93.html")
    page = v.page
    page.fill("#atlas-search", "baous")
    option = page.locator("#atlas-search-results [role=option]").first
    option.wait_for()
    assert option.inner_text().startswith("CPTS des Baous")
    page.press("#atlas-search", "ArrowDown")
    assert option.get_attribute("aria-selected") == "true"
    page.press("#atlas-search", "Enter")
    card = page.locator("#atlas-card")
    card.wait_for(state="visible")
    assert page.evaluate("document.activeElement.id") == "atlas-card"
    assert page.inner_text("#atlas-card-title") == "CPTS des Baous"

    def field(name: str) -> str:
        return _norm(card.locator(f'dd[data-field="{name}"]').inner_text())

    assert field("population") == _norm(fmt_int(row["population"]) + " hab.")
    assert field("taille").startswith(f"Taille {row['taille']}")
    assert field("plafond_aci") == _norm(fmt_int(row["plafond_aci"]) + " €")
    assert field("superficie_km2") == _norm(f"{row['superficie_km2']:.1f}".replace(".", ",")
                                            + " km²")
    assert field("stade") == LABELS["non_renseigne"]
    members = national.members
    names = national.reference.units["nom"]
    expected = sorted(names[members.loc[members["cpts_id"] == "PACA-055", "code"]])
    shown = card.locator(".atlas-card-communes li").all_inner_texts()
    assert sorted(shown) == expected
    voisines = card.locator(".atlas-card-voisines li").all_inner_texts()
    assert voisines and "CPTS des Baous" not in voisines
    page.keyboard.press("Escape")
    assert card.is_hidden()
    assert page.evaluate("document.activeElement.id") == "atlas-search"  # focus given back
    v.assert_clean()


def test_card_neighbours_match_the_geometry(real, ref, visit):
    """Neighbouring CPTS on the card: those whose units border (or share) the CPTS's units."""
    from cpts_geo.analysis.topology import adjacency

    national, out = real
    members = national.members
    mine = set(members.loc[members["cpts_id"] == "PACA-055", "code"])
    codes = sorted(set(members["code"]) | mine)
    left, right = adjacency(ref, "metro", codes)
    near = set(mine)
    for i, j in zip(left.tolist(), right.tolist(), strict=True):
        if codes[i] in mine or codes[j] in mine:
            near |= {codes[i], codes[j]}
    expected = set(members.loc[members["code"].isin(near), "cpts_id"]) - {"PACA-055"}
    v = visit(out / "93.html")
    v.page.evaluate("cptsGeo.card.open('PACA-055')")
    shown = set(v.page.locator("#atlas-card .atlas-card-voisines li").all_inner_texts())
    table = national.territories.table
    assert shown == set(table.loc[sorted(expected), "cpts_nom"])
    v.assert_clean()


def test_keyboard_reaches_search_and_layer_switches(built, visit):
    _, out, _ = built
    v = visit(out / "93.html")
    page = v.page
    reached: list[str] = []
    for _ in range(60):
        page.keyboard.press("Tab")
        reached.append(page.evaluate("""() => { const a = document.activeElement;
            return a.id || a.getAttribute('data-atlas-layer') || a.name || a.tagName; }"""))
    assert "atlas-search" in reached
    assert "stage:fonctionnement" in reached and "zones_blanches" in reached
    assert "atlas-mode" in reached
    assert reached.index("atlas-search") < reached.index("stage:fonctionnement")
    while page.evaluate("document.activeElement.getAttribute('data-atlas-layer')") != (
            "zones_blanches"):
        page.keyboard.press("Shift+Tab")
    page.keyboard.press("Space")  # a switch works from the keyboard
    assert page.locator("path.atlas-zb").count() == 0
    v.assert_clean()


def test_accessible_tables(real, visit):
    national, out = real
    table = national.territories.table
    v = visit(out / "93.html")
    page = v.page
    rows = page.locator("#atlas-table-cpts tbody tr")
    assert rows.count() == len(table)
    assert page.locator("#atlas-table-cpts caption").count() == 1
    assert page.locator('#atlas-table-cpts th[scope="col"]').count() == 8
    first = page.locator('#atlas-table-cpts tr[data-cpts="PACA-055"]')
    cells = first.locator("td")
    assert _norm(first.locator("th").text_content()) == "CPTS des Baous"  # in <details>
    assert _norm(cells.nth(1).text_content()) == _norm(fmt_int(table.at["PACA-055",
                                                                        "population"]))
    zb = page.locator("#atlas-table-zb tbody tr")
    assert zb.count() == len(for_region(national, "93").zones_blanches) == 7
    assert page.get_attribute("html", "lang") == "fr"
    assert page.get_attribute("#atlas-composer-figures", "aria-live") == "polite"
    v.assert_clean()
