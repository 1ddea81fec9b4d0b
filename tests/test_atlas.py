"""The atlas pages (no browser): files written, offline assets, escaping, data, display geometry.

The atlas is written once per session from a registry made from the real PACA one
(:func:`hostile_registry`): stages spread over the 70 CPTS, one CPTS renamed
``<img src=x onerror=alert(1)>``, one arrondissement claimed twice (a conflict) and one CPTS in
La Réunion, so that every layer, a DROM page and escaping are exercised. The browser tests
(``test_atlas_browser.py``) open the same pages.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import shapely
from click.testing import CliRunner

from cpts_geo.analysis import Analysis, analyse, for_region
from cpts_geo.atlas import atlas_regions, write_atlas
from cpts_geo.atlas.assets import STATIC, escape_script_text, script_json
from cpts_geo.atlas.codec import decode_geometry
from cpts_geo.atlas.display import (
    NATIONAL_TOLERANCE_M,
    REGION_DECIMALS,
    REGION_TOLERANCE_M,
    Display,
    simplified_units,
)
from cpts_geo.errors import CptsGeoError
from cpts_geo.outputs.fmt import fmt_int, fmt_pct
from cpts_geo.registry import Registry
from cpts_geo.registry.stages import STAGES

HOSTILE = "<img src=x onerror=alert(1)>"
HOSTILE_ID = "PACA-040"
CONFLICT_CODE = "13205"
REUNION_ID = "RUN-001"
REUNION_CODES = ("97411", "97415", "97422")
MB = 1024 * 1024


def hostile_registry(paca: Registry) -> Registry:
    """The real PACA registry, made to exercise every layer of the atlas.

    Stages go round the 70 CPTS in order; ``PACA-040`` is renamed :data:`HOSTILE`; the
    arrondissement 13205 (claimed by ``PACA-002``) is also claimed, not shared, by
    ``PACA-003``; and a CPTS ``RUN-001`` claims three communes of La Réunion.
    """
    claims = paca.claims.copy()
    ids = sorted(claims["cpts_id"].unique())
    claims["stade"] = claims["cpts_id"].map({c: STAGES[i % len(STAGES)]
                                             for i, c in enumerate(ids)})
    claims.loc[claims["cpts_id"] == HOSTILE_ID, "cpts_nom"] = HOSTILE
    extra = claims[claims["cpts_id"] == "PACA-003"].iloc[[0]].assign(
        code=CONFLICT_CODE, partage=False)
    assert CONFLICT_CODE in set(claims.loc[claims["cpts_id"] == "PACA-002", "code"])
    reunion = pd.concat([claims.iloc[[0]]] * len(REUNION_CODES), ignore_index=True).assign(
        cpts_id=REUNION_ID, cpts_nom="CPTS Sud Réunion", stade="fonctionnement",
        code=list(REUNION_CODES), partage=False)
    claims = pd.concat([claims, extra, reunion], ignore_index=True)
    return Registry(claims, "registre<b>test</b>.csv")


@lru_cache(maxsize=2)
def _national(ref, paca) -> Analysis:
    return analyse(hostile_registry(paca), ref)


def atlas_build(ref, paca, base: Path) -> tuple[Analysis, Path, list[Path]]:
    """National analysis of :func:`hostile_registry` and its atlas in ``base/atlas`` (once)."""
    national = _national(ref, paca)
    out = base / "atlas"
    if not (out / "index.html").exists():
        write_atlas(national, out)
    pages = [out / "index.html", *sorted(out.glob("[0-9]*.html"))]
    pages = [p for p in pages if not p.name.endswith(".embed.html")]
    return national, out, pages


def page_data(path: Path) -> dict:
    """The JSON embedded in a page, its encoded geometries decoded to GeoJSON ``geometry``."""
    text = path.read_text(encoding="utf-8")
    m = re.search(r'<script type="application/json" id="atlas-data">(.*?)</script>', text, re.S)
    assert m, f"no atlas data in {path}"
    data = json.loads(m.group(1))
    layers = [*data["territoires"].values()] + [
        data[k] for k in ("zones_blanches", "conflits", "partages", "contexte")]
    for fc in layers:
        for f in fc["features"]:
            f["geometry"] = {"type": "MultiPolygon",
                             "coordinates": decode_geometry(f.pop("g"), data["decimals"])}
    return data


@pytest.fixture(scope="session")
def atlas(ref, paca, tmp_path_factory):
    return atlas_build(ref, paca, tmp_path_factory.getbasetemp())


def test_import_cpts_geo_does_not_import_folium():
    code = ("import sys, cpts_geo, cpts_geo.atlas, cpts_geo.analysis, cpts_geo.cli; "
            "bad = [m for m in ('folium', 'branca', 'jinja2') if m in sys.modules]; "
            "assert not bad, bad")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


def test_pages_written(atlas):
    national, out, pages = atlas
    assert [p.name for p in pages] == ["index.html", "04.html", "93.html"]
    assert atlas_regions(national) == ["04", "93"]
    names = sorted(p.name for p in out.iterdir())
    assert names == ["04.embed.html", "04.html", "93.embed.html", "93.html", "index.embed.html",
                     "index.html"]  # one file per page: nothing to copy beside it
    index = (out / "index.html").read_text(encoding="utf-8")
    assert 'href="93.html"' in index and 'href="04.html"' in index
    assert 'href="11.html"' not in index  # no CPTS in Île-de-France: no page, no link
    assert '<html lang="fr">' in index


def test_write_atlas_returns_pages_in_order(atlas, tmp_path):
    national, _, _ = atlas
    pages = write_atlas(national, tmp_path / "one", regions=["93"])
    assert [p.name for p in pages] == ["index.html", "93.html"]
    assert all(p.is_file() for p in pages)
    index = pages[0].read_text(encoding="utf-8")
    assert 'href="93.html"' in index and 'href="04.html"' not in index


def test_unknown_region_is_refused(atlas, tmp_path):
    national, _, _ = atlas
    with pytest.raises(CptsGeoError, match=r"'99' is not a région code.*93 \(Provence"):
        write_atlas(national, tmp_path / "bad", regions=["99"])
    assert not (tmp_path / "bad").exists()
    assert atlas_regions(national, ["4", " 93 ", "93"]) == ["04", "93"]


_EXTERNAL = re.compile(
    r"""(?:\b(?:src|href)\s*=\s*["']?\s*(?:https?:)?//)|(?:url\(\s*["']?\s*(?:https?:)?//)"""
    r"""|(?:@import)""", re.I)


@pytest.mark.parametrize("name", ["index.html", "93.html", "04.html"])
def test_no_external_resource(atlas, name):
    _, out, _ = atlas
    text = (out / name).read_text(encoding="utf-8")
    leaflet = (STATIC / "leaflet" / "leaflet.js").read_text(encoding="utf-8")
    assert f"<script>{leaflet}</script>" in text  # inlined as shipped...
    text = text.replace(leaflet, "")  # ...whose attribution links to leafletjs.com
    assert not re.findall(r"<script[^>]*\bsrc=|<link\b", text)  # nothing loaded beside
    assert not _EXTERNAL.findall(text)
    for cdn in ("cdn.jsdelivr", "cdnjs", "code.jquery", "bootstrap", "netdna", "fontawesome"):
        assert cdn not in text
    assert "http://" not in text.replace("http://www.w3.org/", "")


def test_tiles_add_only_the_basemap(atlas, tmp_path):
    national, _, _ = atlas
    page = write_atlas(national, tmp_path / "tiles", regions=["93"], tiles=True)[1]
    text = page.read_text(encoding="utf-8")
    assert "tile.openstreetmap.org" in text
    assert not re.findall(r"<(?:script|link)[^>]+(?:src|href)=\"https?:", text)


def test_input_text_is_escaped(atlas):
    _, out, pages = atlas
    for path in pages:
        text = path.read_text(encoding="utf-8")
        assert "<img" not in text, path
        assert "registre<b>" not in text, path
        assert "</script><" not in text.split('id="atlas-data">', 1)[-1].split("</script>")[0]
    page = (out / "93.html").read_text(encoding="utf-8")
    assert "\\u003cimg src=x onerror=alert(1)\\u003e" in page  # the name is data, escaped
    assert "registre&lt;b&gt;test&lt;/b&gt;.csv" in page  # the source is text, escaped
    data = page_data(out / "93.html")
    names = {f["properties"]["i"]: f["properties"]["n"]
             for s in STAGES for f in data["territoires"][s]["features"]}
    assert names[HOSTILE_ID] == HOSTILE  # and it reads back unchanged


def test_script_json_escapes_markup():
    value = {"n": "</script><script>alert(1)</script>", "e": "a & b \u2028"}
    text = script_json(value)
    assert "<" not in text and ">" not in text and "&" not in text and "\u2028" not in text
    assert json.loads(text) == value
    assert escape_script_text('{"a":1}') == '{"a":1}'


def test_region_page_data_matches_analysis(atlas):
    national, out, _ = atlas
    region = for_region(national, "93")
    data = page_data(out / "93.html")
    table = region.territories.table
    for stage in STAGES:
        ids = sorted(f["properties"]["i"] for f in data["territoires"][stage]["features"])
        assert ids == sorted(table.index[table["stade"] == stage]), stage
    assert sum(len(data["territoires"][s]["features"]) for s in STAGES) == len(table) == 70
    zb = data["zones_blanches"]["features"]
    assert sorted(f["properties"]["i"] for f in zb) == sorted(region.zones_blanches[
        "zone_blanche"])
    assert sum(f["properties"]["p"] for f in zb) == int(region.zones_blanches["population"].sum())
    assert [f["properties"]["c"] for f in data["conflits"]["features"]] == [CONFLICT_CODE]
    assert data["conflits"]["features"][0]["properties"]["k"] == ["PACA-002", "PACA-003"]
    assert sorted(f["properties"]["n"] for f in data["partages"]["features"]) == ["Nice",
                                                                                   "Toulon"]
    assert len(data["contexte"]["features"]) == 6  # the six départements of PACA
    units = data["units"]
    own = [c for c, r in zip(units["c"], units["r"], strict=True) if r == "0"]
    assert set(region.scope) <= set(own)  # the région, and units of its CPTS beyond it
    at = units["c"].index("04209")
    assert units["n"][at] == "Sisteron" and units["k"][at] == []  # in a zone blanche
    assert data["zb"][units["zb"][str(at)]][0] in set(region.zones_blanches["zone_blanche"])
    nice = units["c"].index("06088")
    assert sorted(data["cpts"][-1 - k][0] for k in units["k"][nice]) == [
        "PACA-028", "PACA-029", "PACA-030"]  # claims declared shared are negative


def test_region_panel_figures_match_analysis(atlas):
    national, out, _ = atlas
    region = for_region(national, "93")
    row = region.couverture["france"].iloc[0]
    page = (out / "93.html").read_text(encoding="utf-8")
    for key in ("tous_stades", "jusqu_projet_valide", "fonctionnement"):
        assert f'id="atlas-taux-{key}">{fmt_pct(row[f"taux_{key}"])}<' in page
        assert (f'id="atlas-pop-{key}">{fmt_int(row[f"population_couverte_{key}"])}<'
                in page)
    counts = region.territories.table["stade"].value_counts()
    for stage in STAGES:
        assert f'data-stage="{stage}" data-count="{int(counts.get(stage, 0))}"' in page


def test_national_page_data(atlas):
    national, out, _ = atlas
    data = page_data(out / "index.html")
    n = sum(len(data["territoires"][s]["features"]) for s in STAGES)
    assert n == len(national.territories.table) == 71
    assert [i["zone"] for i in data["insets"]] == ["971", "972", "973", "974", "976"]
    run = next(f for f in data["territoires"]["fonctionnement"]["features"]
               if f["properties"]["i"] == REUNION_ID)
    assert run["properties"]["z"] == "974"
    n_regions = national.reference.finest["region"].nunique()
    assert len(data["contexte"]["features"]) == n_regions
    # the registry speaks of PACA and La Réunion: the other régions are outside its perimeter
    assert national.perimeter == ("04", "93")
    outside = sorted(f["properties"]["c"] for f in data["hors_registre"]["features"])
    assert outside == sorted(set(national.reference.finest["region"]) - {"04", "93"})
    assert len(data["zones_blanches"]["features"]) == len(national.zones_blanches)
    assert {z[3:5] for z in national.zones_blanches["zone_blanche"]} <= {"04", "93"}
    page = (out / "index.html").read_text(encoding="utf-8")
    assert page.count('<tr data-region="') == n_regions
    assert page.count('class="atlas-hors"') == n_regions - 2


def test_budget_on_paca(atlas):
    _, out, _ = atlas
    assert (out / "93.html").stat().st_size < 1.5 * MB
    assert (out / "index.html").stat().st_size < 3 * MB


# ------------------------------------------------------------------------------------------
# display geometry


def _coords(geom) -> np.ndarray:
    return shapely.get_coordinates(geom)


def test_simplified_units_are_a_valid_coverage(ref):
    units = ref.finest
    paca = units.index[units["region"] == "93"]
    clean = ref.geometry("metro").reindex(paca).to_numpy()
    simple = simplified_units(ref, "metro", NATIONAL_TOLERANCE_M).reindex(paca).to_numpy()
    assert bool(shapely.coverage_is_valid(simple))
    assert shapely.get_num_coordinates(simple).sum() < shapely.get_num_coordinates(clean).sum()
    # simplification as a coverage moves edges but keeps the area of the whole
    total = shapely.area(shapely.coverage_union_all(clean))
    assert abs(shapely.area(shapely.coverage_union_all(simple)) - total) / total < 0.01


@pytest.mark.parametrize("tolerance", [REGION_TOLERANCE_M, NATIONAL_TOLERANCE_M])
def test_display_unions_share_edges(ref, tolerance):
    """Départements of PACA drawn from simplified units: no gap, no overlap, after rounding."""
    units = ref.finest
    paca = units[units["region"] == "93"]
    display = Display(ref, tolerance=tolerance, decimals=REGION_DECIMALS)
    depts = display.union(paca.index, paca["departement"])
    assert list(depts.index) == ["04", "05", "06", "13", "83", "84"]
    parts = depts.to_numpy()
    assert bool(shapely.coverage_is_valid(parts))
    whole = display.union(paca.index, ["93"] * len(paca)).iloc[0]
    assert abs(sum(shapely.area(parts)) - shapely.area(whole)) < 1e-9
    # a vertex on the border of two départements is the same vertex on both sides
    a, b = depts["04"], depts["05"]
    border = shapely.intersection(a.boundary, b.boundary)
    assert border.length > 0
    shared = {tuple(c) for c in _coords(a)} & {tuple(c) for c in _coords(b)}
    assert len(shared) >= 3
    assert all(round(x, REGION_DECIMALS) == x for x, _ in list(shared)[:50])


def test_territories_drawn_without_gaps(atlas):
    """Territories and zones blanches of PACA tile the région: nothing lost, no overlap."""
    national, out, _ = atlas
    data = page_data(out / "93.html")
    shapes = [shapely.from_geojson(json.dumps(f["geometry"]))
              for s in STAGES for f in data["territoires"][s]["features"]
              if f["properties"]["i"] in {"PACA-010", "PACA-011", "PACA-012", "PACA-013"}]
    shapes += [shapely.from_geojson(json.dumps(f["geometry"]))
               for f in data["zones_blanches"]["features"]]
    tree = shapely.STRtree(shapes)
    left, right = tree.query(shapes, predicate="intersects")
    pairs = [(i, j) for i, j in zip(left, right, strict=True) if i < j]
    for i, j in pairs:  # neighbours touch along an edge but do not overlap
        assert shapely.area(shapely.intersection(shapes[i], shapes[j])) < 1e-9
    display = Display(national.reference, tolerance=REGION_TOLERANCE_M,
                      decimals=REGION_DECIMALS)
    units = national.reference.finest
    region = display.union(units.index[units["region"] == "93"],
                           ["93"] * int((units["region"] == "93").sum())).iloc[0]
    every = [shapely.from_geojson(json.dumps(f["geometry"]))
             for s in STAGES for f in data["territoires"][s]["features"]]
    every += [shapely.from_geojson(json.dumps(f["geometry"]))
              for f in data["zones_blanches"]["features"]]
    missing = shapely.difference(region, shapely.union_all(every))
    assert shapely.area(missing) < 1e-9 * shapely.area(region)


def test_simplified_layer_cached_on_disk(monkeypatch, tmp_path):
    from cpts_geo import load_reference

    monkeypatch.setenv("CPTS_GEO_CACHE", str(tmp_path))
    first = simplified_units(load_reference(), "972", 200.0)
    files = sorted(p.name for p in tmp_path.glob("display-*-972-t200-*.npz"))
    assert len(files) == 1
    again = simplified_units(load_reference(), "972", 200.0)
    assert again.index.equals(first.index)
    assert all(shapely.equals_exact(again.to_numpy(), first.to_numpy(), 0))


def test_cli_atlas_default_registry(tmp_path):
    from cpts_geo.cli import main

    result = CliRunner().invoke(main, ["atlas", "--out", str(tmp_path / "out"), "--region",
                                       "93"])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "out" / "index.html").is_file()
    assert (tmp_path / "out" / "93.html").is_file()
    data = page_data(tmp_path / "out" / "93.html")
    assert len(data["territoires"]["non_renseigne"]["features"]) == 70


def test_display_union_across_zones_and_missing_units(ref):
    display = Display(ref, tolerance=REGION_TOLERANCE_M, decimals=REGION_DECIMALS)
    out = display.union(["13201", "97411", "06088"], ["a", "a", "b"])
    assert sorted(out.index) == ["a", "b"]
    assert out["a"].geom_type == "MultiPolygon"
    lons = shapely.get_coordinates(out["a"])[:, 0]
    assert lons.min() < 10 < 50 < lons.max()  # Marseille and La Réunion in one feature
    info = display.unit_info(["06088", "XXXXX"])
    assert info.loc[0].notna().all() and info.loc[1].isna().all()
    assert display.unit_geojson(["XXXXX", "06088"])[0] is None


# ------------------------------------------------------------------------------------------
# palettes, geometry codec, inlined assets (issue 12)


@pytest.mark.parametrize("name", ["stage", "tier", "population", "density"])
def test_palettes_hold_for_colour_blind_readers(name):
    """Machado et al. (2009) simulation, CIE76 ΔE, WCAG contrast of text on the swatches."""
    from cpts_geo.atlas import palette
    from cpts_geo.registry.stages import COLOURS

    colours = {"stage": list(COLOURS.values()), "tier": list(palette.TIER_COLOURS.values()),
               "population": list(palette.POPULATION_COLOURS),
               "density": list(palette.DENSITY_COLOURS)}[name]
    assert len(set(colours)) == len(colours)
    d, vision, a, b = palette.min_distance(colours)
    assert d >= palette.MIN_DELTA_E, (vision, a, b, d)
    for colour in colours:
        assert palette.contrast_ratio(colour, palette.text_colour(colour)) >= 4.5, colour
    if name != "stage":  # sequential: lightness falls with the class, for every vision
        for vision in (None, "protanopie", "deuteranopie", "tritanopie"):
            lum = [float(np.array([0.2126, 0.7152, 0.0722]) @ palette.simulate(c, vision))
                   for c in colours]
            assert lum == sorted(lum, reverse=True), (name, vision)


def test_hatch_colours_contrast_with_white():
    from cpts_geo.atlas import palette

    for key, colour in palette.HATCH_COLOURS.items():
        assert palette.contrast_ratio(colour, "#ffffff") >= 3.0, key
    assert palette.contrast_ratio("#000000", "#ffffff") == pytest.approx(21.0)
    assert palette.delta_e("#1b7837", "#1b7837", "tritanopie") == 0.0


def test_codec_round_trips_real_outlines(ref):
    from cpts_geo.atlas.codec import encode_geometries, encode_integers

    display = Display(ref, tolerance=REGION_TOLERANCE_M, decimals=REGION_DECIMALS)
    geoms = display.unit_geometry(["06088", "13201", "2A004", "97411", "99999"])
    encoded = encode_geometries(geoms, REGION_DECIMALS)
    assert encoded[-1] is None
    for geom, enc in zip(geoms[:-1], encoded[:-1], strict=True):
        back = shapely.MultiPolygon([shapely.Polygon(p[0], p[1:])
                                     for p in decode_geometry(enc, REGION_DECIMALS)])
        assert shapely.equals_exact(back.normalize(), shapely.MultiPolygon(
            list(shapely.get_parts(geom))).normalize(), 0)
        assert len(json.dumps(enc)) < 0.4 * len(shapely.to_geojson(geom))
    assert encode_integers([]) == ""
    with pytest.raises(ValueError, match="Polygon"):
        encode_geometries([shapely.Point(0, 0)], 5)


def test_inlined_assets_cannot_close_their_element(monkeypatch, tmp_path):
    from cpts_geo.atlas import assets

    (tmp_path / "atlas.js").write_text("var s = '</SCRIPT>';", encoding="utf-8")
    monkeypatch.setattr(assets, "STATIC", tmp_path)
    with pytest.raises(ValueError, match="cannot be inlined"):
        assets._read("atlas.js")


def test_unit_graph_outside_flags_against_shapely(ref):
    """A unit is outside when its border meets the coverage's outer boundary (shapely)."""
    from cpts_geo.atlas.units import boundary_touch

    outer, holes = boundary_touch(ref, "metro")
    geoms = ref.geometry("metro")
    codes = ["06088", "13202", "13201", "04070", "83137", "05001", "04112"]
    union = shapely.coverage_union_all(np.asarray(geoms.array))
    shell = shapely.boundary(shapely.MultiPolygon(
        [shapely.Polygon(p.exterior) for p in shapely.get_parts(union)]))
    for code in codes:
        touching = shapely.length(shapely.intersection(geoms[code].boundary, shell)) > 1.0
        assert bool(outer[code]) == touching, code
    assert all(h == () for h in holes[codes])
