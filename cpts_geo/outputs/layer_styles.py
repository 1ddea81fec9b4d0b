"""QGIS styles stored in the GeoPackage, so that ``cpts.gpkg`` opens coloured in QGIS.

QGIS reads a layer's default style from the ``layer_styles`` table of its GeoPackage (the table
QGIS itself writes with *Save style → In database*). This module writes that table with the
schema QGIS creates: an attributes table registered in ``gpkg_contents``, integer primary key
``id``, then ``f_table_catalog``, ``f_table_schema``, ``f_table_name``, ``f_geometry_column``,
``styleName``, ``styleQML``, ``styleSLD``, ``useAsDefault`` (boolean), ``description``,
``owner``, ``ui`` and ``update_time``. It is written through GDAL (pyogrio), as QGIS does, so
the GeoPackage stays valid and its metadata tables consistent.

The styles, in QML (what QGIS applies) and SLD 1.1 (for other software, e.g. GeoServer):

- ``territoires``: categorised by ``stade``, one class per stage (every stage, even one no CPTS
  is at), the atlas's colours (:data:`~cpts_geo.registry.stages.COLOURS`) and French labels
  (:data:`~cpts_geo.registry.stages.LABELS`) in the legend, white outlines;
- ``zones_blanches``: no fill, a grey hatch and a dashed grey outline;
- ``conflits``: no fill, a red cross-hatch and a red outline.

Every style also gives the fields their French names (aliases, from
:func:`~cpts_geo.outputs.columns.column_title`) for the attribute table and the identify tool;
the data keep their machine names.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Mapping, Sequence
from pathlib import Path

from ..registry.stages import COLOURS, LABELS, STAGES
from .columns import column_title
from .directories import output_time

__all__ = ["CONFLICT_COLOUR", "GAP_COLOUR", "layer_qml", "layer_sld", "write_layer_styles"]

#: Hatch and outline of the units claimed by two CPTS (atlas figures and QGIS alike).
CONFLICT_COLOUR = "#d7191c"
#: Hatch and outline of the zones blanches.
GAP_COLOUR = "#8a8a8a"
_GAP_OUTLINE = "#5a5a5a"
_TERRITORY_OUTLINE = "#ffffff"

_DESCRIPTIONS = {
    "territoires": "Territoires des CPTS, colorés par stade (cpts_geo)",
    "zones_blanches": "Zones blanches : population hors de toute CPTS, hachurées (cpts_geo)",
    "conflits": "Unités revendiquées par deux CPTS, hachurées en rouge (cpts_geo)",
}
_PREVIEW = {"territoires": "cpts_nom", "zones_blanches": "zone_blanche", "conflits": "paire"}


def _rgba(colour: str) -> str:
    """``#rrggbb`` → ``r,g,b,255``, QGIS's colour notation."""
    return ",".join(str(int(colour[i:i + 2], 16)) for i in (1, 3, 5)) + ",255"


def _props(parent: ET.Element, props: Mapping[str, str]) -> None:
    """Symbol layer properties, both as QGIS ≥ 3.10 writes them (``Option``) and as before."""
    options = ET.SubElement(parent, "Option", type="Map")
    for key, value in props.items():
        ET.SubElement(options, "Option", name=key, type="QString", value=value)
    for key, value in props.items():
        ET.SubElement(parent, "prop", k=key, v=value)


def _symbol(parent: ET.Element, name: str, kind: str) -> ET.Element:
    return ET.SubElement(parent, "symbol", name=name, type=kind, alpha="1",
                         clip_to_extent="1", force_rhr="0")


def _layer(symbol: ET.Element, cls: str, props: Mapping[str, str]) -> ET.Element:
    layer = ET.SubElement(symbol, "layer", {"class": cls, "pass": "0", "enabled": "1",
                                            "locked": "0"})
    _props(layer, props)
    return layer


def _simple_fill(symbol: ET.Element, *, fill: str | None, outline: str, width: float,
                 dashed: bool = False) -> None:
    _layer(symbol, "SimpleFill", {
        "color": _rgba(fill) if fill else "255,255,255,0",
        "style": "solid" if fill else "no",
        "outline_color": _rgba(outline),
        "outline_style": "dash" if dashed else "solid",
        "outline_width": f"{width:g}",
        "outline_width_unit": "MM",
        "joinstyle": "round",
    })


def _hatch(symbol: ET.Element, name: str, *, colour: str, angle: float, distance: float,
           width: float) -> None:
    """Parallel lines across the polygon (QGIS "line pattern fill")."""
    layer = _layer(symbol, "LinePatternFill", {
        "angle": f"{angle:g}",
        "color": _rgba(colour),
        "distance": f"{distance:g}",
        "distance_unit": "MM",
        "line_width": f"{width:g}",
        "line_width_unit": "MM",
    })
    line = _symbol(layer, name, "line")
    _layer(line, "SimpleLine", {
        "line_color": _rgba(colour),
        "line_style": "solid",
        "line_width": f"{width:g}",
        "line_width_unit": "MM",
        "capstyle": "flat",
    })


def _fields(root: ET.Element, columns: Sequence[str]) -> None:
    aliases = ET.SubElement(root, "aliases")
    for column in columns:
        ET.SubElement(aliases, "alias", field=column, name=column_title(column))


def layer_qml(layer: str, columns: Sequence[str] = ()) -> str:
    """The QGIS style (QML) of layer ``layer`` of ``cpts.gpkg``.

    Parameters
    ----------
    layer
        ``territoires``, ``zones_blanches`` or ``conflits``.
    columns
        The layer's attribute columns, which get French aliases.

    Raises
    ------
    ValueError
        When ``layer`` is none of the three.

    Examples
    --------
    >>> import xml.etree.ElementTree as ET
    >>> root = ET.fromstring(layer_qml("territoires", ["cpts_nom", "population"]))
    >>> renderer = root.find("renderer-v2")
    >>> renderer.get("type"), renderer.get("attr")
    ('categorizedSymbol', 'stade')
    >>> [c.get("label") for c in renderer.iter("category")][:2]
    ['En fonctionnement (ACI signé)', 'Projet de santé validé']
    >>> [a.get("name") for a in root.iter("alias")]
    ['Nom de la CPTS', 'Population']
    """
    if layer not in _DESCRIPTIONS:
        raise ValueError(f"`layer` was {layer!r} but is expected to be in {sorted(_DESCRIPTIONS)}")
    root = ET.Element("qgis", version="3.22.0", styleCategories="Symbology|Fields")
    if layer == "territoires":
        renderer = ET.SubElement(root, "renderer-v2", type="categorizedSymbol", attr="stade",
                                 forceraster="0", symbollevels="0", enableorderby="0",
                                 referencescale="-1")
        categories = ET.SubElement(renderer, "categories")
        symbols = ET.SubElement(renderer, "symbols")
        for i, stage in enumerate(STAGES):
            ET.SubElement(categories, "category", value=stage, symbol=str(i),
                          label=LABELS[stage], render="true", type="string")
            _simple_fill(_symbol(symbols, str(i), "fill"), fill=COLOURS[stage],
                         outline=_TERRITORY_OUTLINE, width=0.26)
    else:
        renderer = ET.SubElement(root, "renderer-v2", type="singleSymbol", forceraster="0",
                                 symbollevels="0", enableorderby="0", referencescale="-1")
        symbol = _symbol(ET.SubElement(renderer, "symbols"), "0", "fill")
        if layer == "zones_blanches":
            _hatch(symbol, "@0@0", colour=GAP_COLOUR, angle=45, distance=2.0, width=0.3)
            _simple_fill(symbol, fill=None, outline=_GAP_OUTLINE, width=0.4, dashed=True)
        else:
            _hatch(symbol, "@0@0", colour=CONFLICT_COLOUR, angle=45, distance=1.6, width=0.3)
            _hatch(symbol, "@0@1", colour=CONFLICT_COLOUR, angle=135, distance=1.6, width=0.3)
            _simple_fill(symbol, fill=None, outline=CONFLICT_COLOUR, width=0.6)
    columns = [c for c in columns if c not in ("geometry", "geom")]
    _fields(root, columns)
    if _PREVIEW[layer] in columns:
        ET.SubElement(root, "previewExpression").text = f'"{_PREVIEW[layer]}"'
    ET.SubElement(root, "layerGeometryType").text = "2"  # polygons
    ET.indent(root, space=" ")
    return "<!DOCTYPE qgis PUBLIC 'http://mrcc.com/qgis.dtd' 'SYSTEM'>\n" + ET.tostring(
        root, encoding="unicode") + "\n"


_SLD = "http://www.opengis.net/sld"
_SE = "http://www.opengis.net/se"
_OGC = "http://www.opengis.net/ogc"
for _prefix, _uri in (("", _SLD), ("se", _SE), ("ogc", _OGC)):  # the prefixes QGIS writes
    ET.register_namespace(_prefix, _uri)


def _se(parent: ET.Element, tag: str, text: str | None = None, **attrs: str) -> ET.Element:
    el = ET.SubElement(parent, f"{{{_SE}}}{tag}", attrs)
    if text is not None:
        el.text = text
    return el


def _sld_fill(rule: ET.Element, fill: str | None, stroke: str, width: float,
              dash: str | None = None) -> None:
    sym = _se(rule, "PolygonSymbolizer")
    if fill:
        _se(_se(sym, "Fill"), "SvgParameter", fill, name="fill")
    st = _se(sym, "Stroke")
    _se(st, "SvgParameter", stroke, name="stroke")
    _se(st, "SvgParameter", f"{width:g}", name="stroke-width")
    if dash:
        _se(st, "SvgParameter", dash, name="stroke-dasharray")


def _sld_hatch(rule: ET.Element, colour: str, angle: float) -> None:
    graphic = _se(_se(_se(_se(rule, "PolygonSymbolizer"), "Fill"), "GraphicFill"), "Graphic")
    mark = _se(graphic, "Mark")
    _se(mark, "WellKnownName", "horline")
    stroke = _se(mark, "Stroke")
    _se(stroke, "SvgParameter", colour, name="stroke")
    _se(stroke, "SvgParameter", "1", name="stroke-width")
    _se(graphic, "Size", "7")
    rotation = _se(graphic, "Rotation")
    ET.SubElement(rotation, f"{{{_OGC}}}Literal").text = f"{angle:g}"


def layer_sld(layer: str) -> str:
    """The same style as :func:`layer_qml` in OGC SLD 1.1 (for GeoServer and others).

    Examples
    --------
    >>> import xml.etree.ElementTree as ET
    >>> root = ET.fromstring(layer_sld("territoires"))
    >>> se = "{http://www.opengis.net/se}"
    >>> [t.text for t in root.iter(se + "Title")][:1]
    ['En fonctionnement (ACI signé)']
    >>> len(list(root.iter(se + "Rule")))
    5
    """
    if layer not in _DESCRIPTIONS:
        raise ValueError(f"`layer` was {layer!r} but is expected to be in {sorted(_DESCRIPTIONS)}")
    root = ET.Element(f"{{{_SLD}}}StyledLayerDescriptor", version="1.1.0")
    named = ET.SubElement(root, f"{{{_SLD}}}NamedLayer")
    _se(named, "Name", layer)
    user = ET.SubElement(named, f"{{{_SLD}}}UserStyle")
    _se(user, "Name", layer)
    fts = _se(user, "FeatureTypeStyle")
    if layer == "territoires":
        for stage in STAGES:
            rule = _se(fts, "Rule")
            _se(rule, "Name", stage)
            _se(_se(rule, "Description"), "Title", LABELS[stage])
            flt = ET.SubElement(rule, f"{{{_OGC}}}Filter")
            eq = ET.SubElement(flt, f"{{{_OGC}}}PropertyIsEqualTo")
            ET.SubElement(eq, f"{{{_OGC}}}PropertyName").text = "stade"
            ET.SubElement(eq, f"{{{_OGC}}}Literal").text = stage
            _sld_fill(rule, COLOURS[stage], _TERRITORY_OUTLINE, 1)
    else:
        rule = _se(fts, "Rule")
        _se(rule, "Name", layer)
        title = "Zone blanche (aucune CPTS)" if layer == "zones_blanches" else (
            "Unité en conflit entre CPTS")
        _se(_se(rule, "Description"), "Title", title)
        if layer == "zones_blanches":
            _sld_hatch(rule, GAP_COLOUR, 45)
            _sld_fill(rule, None, _GAP_OUTLINE, 1.5, dash="4 2")
        else:
            _sld_hatch(rule, CONFLICT_COLOUR, 45)
            _sld_hatch(rule, CONFLICT_COLOUR, 135)
            _sld_fill(rule, None, CONFLICT_COLOUR, 2)
    ET.indent(root, space=" ")
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


def write_layer_styles(path: Path, layers: Mapping[str, Sequence[str]]) -> Path:
    """Store the default QGIS style of each layer of the GeoPackage ``path`` in ``layer_styles``.

    Parameters
    ----------
    path
        A GeoPackage holding the layers (``territoires``, ``zones_blanches``, ``conflits``).
    layers
        Layer name → its attribute columns (for the French aliases). Layers of another name get
        no style.

    Returns
    -------
    Path
        ``path``. Styles stored earlier for other layers are kept; those of these layers are
        replaced.

    Examples
    --------
    >>> import sqlite3
    >>> from cpts_geo.outputs import geo_layers, write_gpkg
    >>> layers = geo_layers(analysis)  # analyse(reg, ref, region="93")
    >>> path = write_gpkg(layers, tmp / "cpts.gpkg", styles=False)
    >>> _ = write_layer_styles(path, {name: list(f.columns) for name, f in layers.items()})
    >>> with sqlite3.connect(path) as db:
    ...     db.execute("SELECT f_table_name, f_geometry_column, useAsDefault FROM layer_styles"
    ...                " ORDER BY id").fetchall()
    [('territoires', 'geom', 1), ('conflits', 'geom', 1), ('zones_blanches', 'geom', 1)]
    """
    import pandas as pd
    import pyogrio

    names = [name for name in layers if name in _DESCRIPTIONS]
    if not names:  # no layer this module knows how to style (the diff's units, say)
        return path
    rows = []
    for name in names:
        rows.append({
            "f_table_catalog": "",
            "f_table_schema": "",
            "f_table_name": name,
            "f_geometry_column": pyogrio.read_info(path, layer=name)["geometry_name"] or "geom",
            "styleName": name,
            "styleQML": layer_qml(name, list(layers[name])),
            "styleSLD": layer_sld(name),
            "useAsDefault": True,
            "description": _DESCRIPTIONS[name],
            "owner": "",
            "ui": None,
            "update_time": pd.Timestamp(output_time()),
        })
    table = pd.DataFrame(rows)
    existing = {str(n) for n, _ in pyogrio.list_layers(path)}
    if "layer_styles" in existing:
        before = pyogrio.read_dataframe(path, layer="layer_styles", read_geometry=False)
        kept = before[~before["f_table_name"].isin(names)].copy()
        kept["update_time"] = pd.to_datetime(kept["update_time"], utc=True)
        table = pd.concat([kept, table], ignore_index=True) if len(kept) else table
    table["useAsDefault"] = table["useAsDefault"].astype(bool)
    pyogrio.write_dataframe(table, path, layer="layer_styles", driver="GPKG",
                            layer_options={"FID": "id"})
    return path
