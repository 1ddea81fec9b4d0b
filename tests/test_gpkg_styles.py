"""cpts.gpkg carries its QGIS styles: read with sqlite3, as QGIS reads them, on the real PACA data.

QGIS takes a layer's default style from the ``layer_styles`` table (one row per layer with
``useAsDefault`` set, matched on ``f_table_name`` and ``f_geometry_column``) and applies its
``styleQML``. These tests check the table with plain sqlite3 and the QML/SLD with ElementTree;
the expected colours and labels are read from ``registry/stages.py`` and turned into QGIS's
``r,g,b,a`` notation here, independently of the module under test. (QGIS 3.22 itself, run
headless, loads these styles; that check is not part of the suite, which must not need QGIS.)
"""

from __future__ import annotations

import sqlite3
import xml.etree.ElementTree as ET

import numpy as np
import pyogrio
import pytest

from cpts_geo.analysis import analyse
from cpts_geo.outputs import geo_layers, write_gpkg, write_results
from cpts_geo.outputs.layer_styles import layer_qml, write_layer_styles
from cpts_geo.registry.stages import COLOURS, LABELS, STAGES

LAYERS = ("territoires", "conflits", "zones_blanches")
SE = "{http://www.opengis.net/se}"


def _rgb(hex_colour: str) -> str:
    return f"{int(hex_colour[1:3], 16)},{int(hex_colour[3:5], 16)},{int(hex_colour[5:7], 16)}"


def _props(layer: ET.Element) -> dict[str, str]:
    options = layer.find("Option")
    assert options is not None, "symbol layer without its <Option type='Map'> properties"
    return {o.get("name"): o.get("value") for o in options.findall("Option")}


@pytest.fixture(scope="module")
def gpkg(paca_analysis, tmp_path_factory):
    out = tmp_path_factory.mktemp("gpkg")
    write_results(paca_analysis, out, xlsx=False)
    return out / "cpts.gpkg"


@pytest.fixture(scope="module")
def styles(gpkg):
    with sqlite3.connect(gpkg) as db:
        db.row_factory = sqlite3.Row
        return [dict(r) for r in db.execute("SELECT * FROM layer_styles ORDER BY id")]


def test_one_default_style_per_layer_in_the_table_qgis_reads(gpkg, styles):
    with sqlite3.connect(gpkg) as db:
        columns = [r[1] for r in db.execute("PRAGMA table_info(layer_styles)")]
        geometry = dict(db.execute("SELECT table_name, column_name FROM gpkg_geometry_columns"))
        contents = dict(db.execute("SELECT table_name, data_type FROM gpkg_contents"))
    assert columns == ["id", "f_table_catalog", "f_table_schema", "f_table_name",
                       "f_geometry_column", "styleName", "styleQML", "styleSLD", "useAsDefault",
                       "description", "owner", "ui", "update_time"]
    assert contents == {"territoires": "features", "conflits": "features",
                        "zones_blanches": "features", "layer_styles": "attributes"}
    assert sorted(s["f_table_name"] for s in styles) == sorted(LAYERS)
    for s in styles:
        assert s["useAsDefault"] == 1
        assert s["f_table_schema"] == "" and s["f_table_catalog"] == ""
        assert s["f_geometry_column"] == geometry[s["f_table_name"]]
        assert s["styleQML"].startswith("<!DOCTYPE qgis")
        ET.fromstring(s["styleQML"].split("\n", 1)[1])  # well-formed XML after the doctype
        ET.fromstring(s["styleSLD"])
        assert s["update_time"]


def test_territories_are_categorised_by_stage_with_the_atlas_colours(styles):
    qml = next(s["styleQML"] for s in styles if s["f_table_name"] == "territoires")
    for stage in STAGES:
        assert _rgb(COLOURS[stage]) + ",255" in qml
    root = ET.fromstring(qml.split("\n", 1)[1])
    renderer = root.find("renderer-v2")
    assert renderer.get("type") == "categorizedSymbol" and renderer.get("attr") == "stade"
    categories = renderer.findall("categories/category")
    # every stage, even those no PACA CPTS is at (the real registry gives no stage at all)
    assert [c.get("value") for c in categories] == list(STAGES)
    assert [c.get("label") for c in categories] == [LABELS[s] for s in STAGES]
    symbols = {s.get("name"): s for s in renderer.findall("symbols/symbol")}
    for category in categories:
        fill = _props(symbols[category.get("symbol")].find("layer"))
        assert fill["color"] == _rgb(COLOURS[category.get("value")]) + ",255"
        assert fill["style"] == "solid"


def test_gaps_are_grey_hatched_with_a_dashed_outline_and_conflicts_red_hatched(styles):
    by_layer = {s["f_table_name"]: ET.fromstring(s["styleQML"].split("\n", 1)[1])
                for s in styles}
    gaps = by_layer["zones_blanches"].find("renderer-v2/symbols/symbol")
    kinds = [layer.get("class") for layer in gaps.findall("layer")]
    assert kinds == ["LinePatternFill", "SimpleFill"]
    hatch, outline = (_props(layer) for layer in gaps.findall("layer"))
    assert hatch["color"] == "138,138,138,255" and hatch["angle"] == "45"  # the figures' grey
    assert outline["style"] == "no" and outline["outline_style"] == "dash"

    conflicts = by_layer["conflits"].find("renderer-v2/symbols/symbol")
    layers = conflicts.findall("layer")
    assert [layer.get("class") for layer in layers] == ["LinePatternFill", "LinePatternFill",
                                                         "SimpleFill"]
    angles = sorted(float(_props(layer)["angle"]) for layer in layers[:2])
    assert angles == [45.0, 135.0]  # a cross-hatch
    red = "215,25,28,255"
    assert all(_props(layer)["color"] == red for layer in layers[:2])
    assert _props(layers[2])["outline_color"] == red
    for layer in layers[:2]:  # the hatch lines themselves are drawn by a red line sub-symbol
        line = layer.find("symbol/layer")
        assert line.get("class") == "SimpleLine" and _props(line)["line_color"] == red


def test_fields_get_french_aliases_matching_the_layer_columns(gpkg, styles):
    for s in styles:
        root = ET.fromstring(s["styleQML"].split("\n", 1)[1])
        aliases = {a.get("field"): a.get("name") for a in root.iter("alias")}
        fields = list(pyogrio.read_info(gpkg, layer=s["f_table_name"])["fields"])
        assert list(aliases) == fields
    terr = next(s for s in styles if s["f_table_name"] == "territoires")
    aliases = {a.get("field"): a.get("name")
               for a in ET.fromstring(terr["styleQML"].split("\n", 1)[1]).iter("alias")}
    assert aliases["cpts_nom"] == "Nom de la CPTS"
    assert aliases["superficie_km2"] == "Superficie (km²)"
    assert aliases["plafond_aci"].startswith("Plafond ACI")


def test_sld_has_one_rule_per_stage_with_french_titles(styles):
    sld = ET.fromstring(next(s["styleSLD"] for s in styles
                             if s["f_table_name"] == "territoires"))
    rules = list(sld.iter(SE + "Rule"))
    assert [r.find(SE + "Description/" + SE + "Title").text for r in rules] == [
        LABELS[s] for s in STAGES]
    fills = [r.find(f"{SE}PolygonSymbolizer/{SE}Fill/{SE}SvgParameter").text for r in rules]
    assert fills == [COLOURS[s] for s in STAGES]


def test_geopackage_stays_readable_by_gdal(gpkg, paca_analysis):
    layers = {str(name): geom for name, geom in pyogrio.list_layers(gpkg)}
    assert layers.pop("layer_styles") is None  # an attributes table, as QGIS writes it
    # one polygon type per layer, even the empty conflicts layer of PACA (else QGIS opens it
    # as a table without geometry, and without its style)
    assert layers == dict.fromkeys(LAYERS, "MultiPolygon")
    expected = {"territoires": len(paca_analysis.territories.table),
                "conflits": len(paca_analysis.conflits),
                "zones_blanches": len(paca_analysis.zones_blanches)}
    drawn = geo_layers(paca_analysis)
    for name in LAYERS:
        frame = pyogrio.read_dataframe(gpkg, layer=name)
        assert len(frame) == expected[name]
        assert frame.crs.to_epsg() == 2154
        # the same shapes as the analysis's (polygons made multi, nothing lost)
        assert np.allclose(frame.area, drawn[name].area)
    with sqlite3.connect(gpkg) as db:
        assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        assert db.execute("PRAGMA foreign_key_check").fetchall() == []


def test_national_geopackage_across_zones_is_styled_too(ref, paca, tmp_path):
    national = analyse(paca, ref)  # EPSG:4326: the territories of France lie in several zones
    path = write_gpkg(geo_layers(national), tmp_path / "cpts.gpkg")
    with sqlite3.connect(path) as db:
        rows = db.execute("SELECT f_table_name, useAsDefault FROM layer_styles").fetchall()
    assert sorted(rows) == sorted((name, 1) for name in LAYERS)


def test_restyling_replaces_its_layers_and_keeps_the_others(gpkg, tmp_path):
    path = tmp_path / "copy.gpkg"
    path.write_bytes(gpkg.read_bytes())
    with sqlite3.connect(path) as db:  # a style a user saved from QGIS for another layer
        db.execute("INSERT INTO layer_styles (f_table_catalog, f_table_schema, f_table_name, "
                   "f_geometry_column, styleName, styleQML, useAsDefault) "
                   "VALUES ('', '', 'mes_communes', 'geom', 'perso', '<qgis/>', 1)")
    write_layer_styles(path, {"territoires": ["cpts_nom"]})
    with sqlite3.connect(path) as db:
        rows = db.execute("SELECT f_table_name, styleName FROM layer_styles").fetchall()
    assert sorted(rows) == sorted([("territoires", "territoires"), ("conflits", "conflits"),
                                   ("zones_blanches", "zones_blanches"),
                                   ("mes_communes", "perso")])


def test_unknown_layer_is_refused_with_the_known_names():
    with pytest.raises(ValueError, match=r"'communes' but is expected to be in \['conflits'"):
        layer_qml("communes")
