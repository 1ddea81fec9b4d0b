"""The proposal layers of the atlas (issue 11, point 5): data, legend, and in headless Chromium.

Pages are written with ``write_atlas(..., proposals=True)`` from the real PACA registry, and from
the registry of ``test_atlas.hostile_registry`` (an injected conflict on Marseille 5e, stages
spread, ``PACA-040`` named ``<img src=x onerror=alert(1)>``) with one more claimant of the
conflict renamed to markup. Expectations come from :func:`cpts_geo.analysis.proposals.propose`
run by the test on the same registry, from the territory paths drawn on the page (their fill)
and from the palette; the browser is Debian's Chromium with the network cut (see
``test_atlas_browser.py``).
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
import shapely
from click.testing import CliRunner
from test_atlas_browser import (  # noqa: F401  (fixtures)
    ARTIFACTS,
    _norm,
    _screen_point,
    browser,
    visit,
)

from cpts_geo.analysis import analyse
from cpts_geo.analysis.proposals import propose
from cpts_geo.atlas import write_atlas
from cpts_geo.atlas.assets import html_script
from cpts_geo.atlas.codec import decode_geometry
from cpts_geo.atlas.palette import TIER_COLOURS
from cpts_geo.cli import main
from cpts_geo.outputs.fmt import fmt_int
from cpts_geo.registry import Registry

from test_atlas import CONFLICT_CODE, HOSTILE, HOSTILE_ID, hostile_registry

#: A second claimant of the conflict renamed to markup (it must show as text).
HOSTILE_B = '<b onmouseover="alert(2)">Aix</b>'
HOSTILE_B_ID = "PACA-003"


def conflict_registry(paca: Registry) -> Registry:
    """:func:`hostile_registry` with ``PACA-003`` (claiming Marseille 5e too) renamed."""
    base = hostile_registry(paca)
    claims = base.claims.copy()
    claims.loc[claims["cpts_id"] == HOSTILE_B_ID, "cpts_nom"] = HOSTILE_B
    return Registry(claims, base.source)


def page_json(path: Path) -> dict:
    text = path.read_text(encoding="utf-8")
    m = re.search(r'<script type="application/json" id="atlas-data">(.*?)</script>', text, re.S)
    assert m
    return json.loads(m.group(1))


def geometry(feature: dict, decimals: int) -> shapely.Geometry:
    coords = decode_geometry(feature["g"], decimals)
    return shapely.from_geojson(json.dumps({"type": "MultiPolygon", "coordinates": coords}))


@pytest.fixture(scope="module")
def real(ref, paca, tmp_path_factory):
    """The atlas of the real PACA registry with its proposal, and the proposal itself."""
    out = tmp_path_factory.mktemp("prop-real") / "atlas"
    national = analyse(paca, ref)
    write_atlas(national, out, proposals=True)
    return national, out, propose(paca, ref)


@pytest.fixture(scope="module")
def disputed(ref, paca, tmp_path_factory):
    """The atlas of :func:`conflict_registry` with its proposal, and the proposal itself."""
    reg = conflict_registry(paca)
    out = tmp_path_factory.mktemp("prop-conflict") / "atlas"
    national = analyse(reg, ref)
    write_atlas(national, out, proposals=True)
    return national, out, propose(reg, ref)


def given(p: Any, region: str | None = None) -> Any:
    a = p.assignments[p.assignments["cpts_id"].notna()]
    return a if region is None else a[a["region"] == region]


# ------------------------------------------------------------------------------------------
# page data and legend (no browser)


def test_page_data_has_one_feature_per_unit_given(real):
    _, out, p = real
    data = page_json(out / "93.html")
    features = data["propositions"]["features"]
    expected = given(p, "93").set_index("code")
    assert sorted(f["properties"]["i"] for f in features) == sorted(expected.index)
    for f in features:
        props = f["properties"]
        code = props["l"][0][1]
        assert props["u"] == 1 and code == props["i"]
        assert props["k"] == expected.at[code, "cpts_id"]
        assert props["zb"] == expected.at[code, "zone_blanche"]
        assert props["p"] == expected.at[code, "population"]
    # what the tooltips read: the proposal's effect on each CPTS, each zone blanche's candidates
    effets = p.effets.set_index("cpts_id")
    for cid, row in data["propositions_cpts"].items():
        if cid in effets.index:
            e = effets.loc[cid]
            assert [row["e"][k] for k in ("pa", "pb", "ta", "tb", "ca", "cb", "x")] == [
                int(e[c]) for c in ("population_avant", "population_apres", "taille_avant",
                                    "taille_apres", "plafond_avant", "plafond_apres",
                                    "effet_financement")]
    cand = p.candidats[p.candidats["zone_blanche"] == "ZB-93-002"]
    assert [c[0] for c in data["propositions_zb"]["ZB-93-002"]["o"]] == list(cand["cpts_id"])
    assert data["conciliations"]["features"] == []  # the real registry has no conflict


def test_legend_switches_are_off_and_say_what_they_are(real):
    _, out, p = real
    text = (out / "93.html").read_text(encoding="utf-8")
    for key in ("propositions", "conciliations"):
        box = re.search(rf'<input type="checkbox" data-atlas-layer="{key}"[^>]*>', text)
        assert box and "checked" not in box.group(0)
    n = len(given(p, "93"))
    assert f'data-layer="propositions" data-count="{n}"' in text
    assert "ce ne sont pas des décisions" in text


def test_no_proposal_layers_unless_asked(ref, paca, tmp_path):
    pages = write_atlas(analyse(paca, ref), tmp_path / "atlas", regions=["93"])
    for page in pages:
        data = page_json(page)
        assert "propositions" not in data and "conciliations" not in data
        assert 'data-atlas-layer="propositions"' not in page.read_text(encoding="utf-8")


def test_cli_atlas_proposals(tmp_path):
    out = tmp_path / "atlas"
    done = CliRunner().invoke(main, ["atlas", "--region", "93", "--out", str(out),
                                     "--proposals"])
    assert done.exit_code == 0, done.output
    data = page_json(out / "93.html")
    assert len(data["propositions"]["features"]) > 0


def test_markup_in_names_is_escaped_in_the_data(disputed):
    _, out, _ = disputed
    text = (out / "93.html").read_text(encoding="utf-8")
    data = text[text.index('id="atlas-data"'):]
    data = data[:data.index("</script>")]
    assert HOSTILE not in data and HOSTILE_B not in data  # escaped as \u003c… in the JSON
    names = {c: r["n"] for c, r in page_json(out / "93.html")["propositions_cpts"].items()}
    assert names[HOSTILE_ID] == HOSTILE and names[HOSTILE_B_ID] == HOSTILE_B


def test_html_script_refuses_markup_that_would_end_it():
    with pytest.raises(ValueError, match=r"(?i)</script"):
        html_script("<td>x</SCRIPT></td>", "atlas-tables-html")
    assert html_script("<td>&lt;/script&gt;</td>", "t").count("</script>") == 1


# ------------------------------------------------------------------------------------------
# in the browser


@pytest.fixture
def opened(visit):  # noqa: F811  (the fixture of test_atlas_browser)
    """``test_atlas_browser``'s page opener: network cut, console errors and dialogs kept."""
    return visit

_PROPOSAL_FILLS = """key => {
    const G = window.cptsGeo;
    const territory = {};
    Object.keys(G.layers).filter(k => k.indexOf('stage:') === 0).forEach(k =>
        G.layers[k][0].layer.eachLayer(l => {
            territory[l.feature.properties.i] = l.getElement().getAttribute('fill'); }));
    return G.layers[key][0].layer.getLayers().map(l => {
        const fill = l.getElement().getAttribute('fill');
        const id = (fill.match(/^url\\(#(.+)\\)$/) || [])[1];
        const rects = id ? document.getElementById(id).querySelectorAll('rect') : [];
        return {i: l.feature.properties.i || l.feature.properties.c, k: l.feature.properties.k,
                ground: rects.length ? rects[0].getAttribute('fill') : null,
                stripe: rects.length > 1 ? rects[1].getAttribute('fill') : null,
                territory: territory[l.feature.properties.k] || null};
    });
}"""


def _switch_on(page: Any, key: str) -> None:
    box = page.locator(f'input[data-atlas-layer="{key}"]')
    assert not box.is_checked()
    box.check()


def test_proposals_drawn_on_demand_one_per_unit(real, opened):
    _, out, p = real
    v = opened(out / "93.html")
    page = v.page
    assert page.evaluate("cptsGeo.count('propositions')") == 0
    assert page.locator("path.atlas-proposition").count() == 0
    _switch_on(page, "propositions")
    expected = sorted(given(p, "93")["code"])
    assert sorted(page.evaluate("cptsGeo.ids('propositions')")) == expected
    assert page.locator(".leaflet-pane path.atlas-proposition").count() == len(expected)
    page.locator('input[data-atlas-layer="propositions"]').uncheck()
    assert page.locator("path.atlas-proposition").count() == 0
    v.assert_clean()


def test_proposals_take_the_colour_of_their_cpts_in_every_mode(real, opened):
    national, out, p = real
    table = national.territories.table
    owner = given(p, "93").set_index("code")["cpts_id"]
    v = opened(out / "93.html")
    page = v.page
    _switch_on(page, "propositions")
    seen = {}
    for mode in ("taille", "population", "densite", "stade"):
        page.locator(f'input[name="atlas-mode"][value="{mode}"]').check()
        fills = page.evaluate(_PROPOSAL_FILLS, "propositions")
        assert len(fills) == len(owner)
        for f in fills:
            assert f["k"] == owner[f["i"]]
            assert f["stripe"] == "#ffffff"  # hatched: a proposal, not a territory
            assert f["ground"] == f["territory"] is not None, (mode, f)
            if mode == "taille":  # independently: the palette's colour of the CPTS's tier
                assert f["ground"] == TIER_COLOURS[int(table.at[f["k"], "taille"])]
        seen[mode] = {f["i"]: f["ground"] for f in fills}
    assert seen["taille"] != seen["population"] != seen["densite"]
    assert set(seen["stade"].values()) == {"#8c8c8c"}  # no stage in the real listing
    v.assert_clean()


def _hover(page: Any, key: str, feature_id: str, shape: shapely.Geometry) -> str:
    """Zoom on a feature of layer ``key``, hover a point well inside it, return the tooltip."""
    page.evaluate("""([key, id]) => {
        const l = cptsGeo.layers[key][0].layer.getLayers().find(x =>
            (x.feature.properties.i || x.feature.properties.c) === id);
        cptsGeo.map.fitBounds(l.getBounds(), {maxZoom: 13, animate: false, padding: [80, 80]});
    }""", [key, feature_id])
    inner = shapely.point_on_surface(shape.buffer(-0.0005) or shape)
    x, y = _screen_point(page, inner.x, inner.y)
    page.mouse.move(x - 4, y - 4)
    page.mouse.move(x, y)
    tooltip = page.locator(".leaflet-tooltip")
    tooltip.wait_for(state="visible", timeout=5_000)
    assert tooltip.count() == 1
    assert tooltip.locator("img, b, script").count() == 0  # names are text, never markup
    return _norm(tooltip.inner_text())


def test_proposal_tooltip_gives_the_effect(real, opened):
    _, out, p = real
    data = page_json(out / "93.html")
    shapes = {f["properties"]["i"]: geometry(f, data["decimals"])
              for f in data["propositions"]["features"]}
    a = given(p, "93").set_index("code")
    code = max(shapes, key=lambda c: shapes[c].area)  # the largest unit given: easy to hover
    cid, zb = a.at[code, "cpts_id"], a.at[code, "zone_blanche"]
    e = p.effets.set_index("cpts_id").loc[cid]
    zone = p.propositions.set_index("zone_blanche").loc[zb]
    v = opened(out / "93.html")
    _switch_on(v.page, "propositions")
    text = _hover(v.page, "propositions", code, shapes[code])
    assert "Proposition de rattachement" in text
    assert _norm(f"{a.at[code, 'nom']} ({code}) — {fmt_int(a.at[code, 'population'])} hab.") in text
    assert _norm(f"{zb} — {fmt_int(zone['population'])} hab.") in text
    assert e["cpts_nom"] in text
    assert _norm(f"{fmt_int(e['population_avant'])} hab. → "
                 f"{fmt_int(e['population_apres'])} hab.") in text
    tiers = (f"taille {e['taille_avant']} (inchangée)" if e["taille_avant"] == e["taille_apres"]
             else f"taille {e['taille_avant']} → taille {e['taille_apres']}")
    assert tiers in text
    if e["plafond_avant"] == e["plafond_apres"]:
        assert _norm(f"{fmt_int(e['plafond_avant'])} € (inchangé)") in text
        assert "aucun (0 €)" in _norm(text)
    else:
        assert _norm(f"{fmt_int(e['plafond_avant'])} € → {fmt_int(e['plafond_apres'])} €") in text
        sign = "+" if e["effet_financement"] > 0 else "−"
        assert _norm(f"{sign}{fmt_int(abs(e['effet_financement']))} € par an") in text
    assert "D'un seul tenant" in text
    for c in p.candidats[p.candidats["zone_blanche"] == zb].itertuples():
        effect = ("aucun (0 €)" if c.effet_financement == 0 else
                  f"{'+' if c.effet_financement > 0 else '−'}"
                  f"{fmt_int(abs(c.effet_financement))} € par an")
        assert _norm(f"{c.cpts_nom} : taille {c.taille_avant}") in text
        assert _norm(effect) in text
    v.page.screenshot(path=str(ARTIFACTS / "atlas-93-proposition.png"))
    v.assert_clean()


def test_conciliation_layer_shows_the_disputed_unit(disputed, opened):
    national, out, p = disputed
    res = p.resolutions.set_index("code").loc[CONFLICT_CODE]
    conc = p.conciliations.iloc[0]
    names = national.territories.table["cpts_nom"]
    data = page_json(out / "93.html")
    shapes = {f["properties"]["c"]: geometry(f, data["decimals"])
              for f in data["conciliations"]["features"]}
    assert list(shapes) == [CONFLICT_CODE]
    v = opened(out / "93.html")
    page = v.page
    assert page.locator("path.atlas-conciliation").count() == 0
    _switch_on(page, "conciliations")
    assert page.evaluate("cptsGeo.ids('conciliations')") == [CONFLICT_CODE]
    fill = page.evaluate(_PROPOSAL_FILLS, "conciliations")
    assert [(f["k"], f["ground"] == f["territory"] is not None) for f in fill] == [
        (res["cpts_id"], True)]
    text = _hover(page, "conciliations", CONFLICT_CODE, shapes[CONFLICT_CODE])
    assert _norm(f"Territoire en cours de conciliation : {res['nom']} ({CONFLICT_CODE})") in text
    for cid in res["cpts"]:
        assert _norm(names[cid]) in text
    assert HOSTILE_B in text  # shown as text
    assert _norm(f"rattachée à {names[res['cpts_id']]}") in text
    for keeper, other, side in ((conc["nom_a"], conc["nom_b"], "b"),
                                (conc["nom_b"], conc["nom_a"], "a")):
        before, after = conc[f"plafond_{side}"], conc[f"plafond_{side}_sans"]
        assert _norm(f"Si {keeper} la garde : {other} {fmt_int(conc[f'population_{side}'])} "
                     f"hab. → {fmt_int(conc[f'population_{side}_sans'])} hab., taille "
                     f"{conc[f'taille_{side}']}") in text
        if before != after:
            assert _norm(f"plafond {fmt_int(before)} € → {fmt_int(after)} € "
                         f"(−{fmt_int(before - after)} € par an)") in text
    assert page.evaluate("document.querySelectorAll('img[src=\"x\"]').length") == 0
    v.assert_clean()  # and no alert dialog


def test_hostile_cpts_name_in_a_proposal_tooltip(disputed, opened):
    _, out, p = disputed
    data = page_json(out / "93.html")
    mine = [f for f in data["propositions"]["features"] if f["properties"]["k"] == HOSTILE_ID]
    here = given(p, "93")
    assert len(mine) == int((here["cpts_id"] == HOSTILE_ID).sum()) > 0
    feature = max(mine, key=lambda f: geometry(f, data["decimals"]).area)
    v = opened(out / "93.html")
    _switch_on(v.page, "propositions")
    text = _hover(v.page, "propositions", feature["properties"]["i"],
                  geometry(feature, data["decimals"]))
    assert HOSTILE in text
    assert v.page.evaluate("document.querySelectorAll('img[src=\"x\"]').length") == 0
    v.assert_clean()


def test_national_page_proposals(disputed, opened):
    _, out, p = disputed
    a = given(p)
    groups = a.groupby(["zone_blanche", "cpts_id"]).size()
    v = opened(out / "index.html")
    page = v.page
    legend = page.locator('.atlas-legend li[data-layer="propositions"]')
    assert legend.get_attribute("data-count") == str(len(a))
    _switch_on(page, "propositions")
    assert sorted(page.evaluate("cptsGeo.ids('propositions')")) == sorted(
        f"{z}|{k}" for z, k in groups.index)
    reunion = page.locator('.atlas-inset[data-zone="974"]')  # RUN-001 takes units there
    assert reunion.locator("path.atlas-proposition").count() == a[a["region"] == "04"].groupby(
        ["zone_blanche", "cpts_id"]).ngroups > 0
    fills = page.evaluate(_PROPOSAL_FILLS, "propositions")
    assert all(f["ground"] == f["territory"] is not None for f in fills)
    _switch_on(page, "conciliations")
    assert page.evaluate("cptsGeo.ids('conciliations')") == list(p.resolutions["code"])
    page.locator('input[name="atlas-mode"][value="taille"]').check()
    fills = page.evaluate(_PROPOSAL_FILLS, "propositions")
    assert all(f["ground"] == f["territory"] for f in fills)
    v.assert_clean()
