"""The atlas pages: the national index and one page per région, built with folium.

A page is a folium map beside a summary panel (figures, legend with one switch per layer,
commune search). Its data is embedded once, as JSON in ``<script type="application/json">``
(:func:`~cpts_geo.atlas.assets.script_json`): one GeoJSON collection per stage, the zones
blanches, the conflicts, the shared communes and the outlines of départements (région page) or
régions (national page). ``lib/atlas.js`` draws them, one Leaflet GeoJSON layer per stage with a
single style. Commune outlines are a script beside the page (``<code>-communes.js``), loaded the
first time they are switched on.

Nothing is computed here beyond what drawing needs: figures come from the
:class:`~cpts_geo.analysis.Analysis`, geometry from :mod:`~cpts_geo.atlas.display`. Every text
taken from the inputs is escaped: :func:`html.escape` in the panel, escaped JSON in the data, and
``textContent`` in the browser.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from ..outputs.fmt import NBSP, fmt_int, fmt_pct
from ..reference.zones import ZONE_NAMES
from ..registry.stages import COLOURS, LABELS, STAGES, TIER_LABELS
from .assets import CSS, JS, script_json
from .display import (
    NATIONAL_DECIMALS,
    NATIONAL_TOLERANCE_M,
    REGION_DECIMALS,
    REGION_TOLERANCE_M,
    Display,
    geojson,
)

if TYPE_CHECKING:
    from ..analysis import Analysis

__all__ = ["AtlasContext", "communes_file", "communes_script", "national_page", "region_page"]

#: How the coverage thresholds are shown, most inclusive first.
THRESHOLD_LABELS: dict[str, str] = {
    "tous_stades": "Tous stades confondus",
    "jusqu_projet_valide": "Jusqu'au projet de santé validé",
    "fonctionnement": "En fonctionnement (ACI signé)",
}
#: Names of the communes listed in a zone blanche's tooltip (the rest are counted).
GAP_NAMES_SHOWN = 12

_HATCHES = (
    '<svg class="atlas-defs" width="0" height="0" aria-hidden="true" focusable="false" '
    'style="position:absolute;width:0;height:0;overflow:hidden"><defs>'
    '<pattern id="atlas-hatch-conflit" patternUnits="userSpaceOnUse" width="7" height="7" '
    'patternTransform="rotate(45)"><rect width="7" height="7" fill="#ffffff" '
    'fill-opacity="0.6"/><rect width="3" height="7" fill="#d7191c"/></pattern>'
    '<pattern id="atlas-hatch-zb" patternUnits="userSpaceOnUse" width="7" height="7" '
    'patternTransform="rotate(-45)"><rect width="7" height="7" fill="#ffffff"/>'
    '<rect width="1.6" height="7" fill="#7a7a7a"/></pattern>'
    "</defs></svg>"
)


@dataclass
class AtlasContext:
    """What the pages of one run share: the analysis, two levels of display geometry, caches.

    Parameters
    ----------
    analysis
        The national analysis.
    tiles
        Add an OpenStreetMap basemap (loaded from the network when the page is viewed).
    pages
        Région code → page file name, for the links of the national index.

    Examples
    --------
    >>> ctx = AtlasContext(national, tiles=False, pages={"93": "93.html"})
    >>> ctx.fine.tolerance, ctx.coarse.tolerance  # metres, région pages and national page
    (100.0, 1000.0)
    >>> ctx.claims["06088"]  # Nice
    ['PACA-028', 'PACA-029', 'PACA-030']
    """

    analysis: Analysis
    tiles: bool = False
    pages: dict[str, str] = field(default_factory=dict)
    fine: Display = field(init=False)
    coarse: Display = field(init=False)
    _features: dict[int, dict[str, str]] = field(default_factory=dict, init=False)
    _claims: dict[str, list[str]] | None = field(default=None, init=False)

    def __post_init__(self) -> None:
        ref = self.analysis.reference
        self.fine = Display(ref, tolerance=REGION_TOLERANCE_M, decimals=REGION_DECIMALS)
        self.coarse = Display(ref, tolerance=NATIONAL_TOLERANCE_M, decimals=NATIONAL_DECIMALS)

    @property
    def claims(self) -> dict[str, list[str]]:
        """Finest unit code → ``cpts_id`` of the CPTS claiming it (computed once)."""
        if self._claims is None:
            members = self.analysis.members
            claims: dict[str, list[str]] = {}
            for code, cpts in zip(members["code"].tolist(), members["cpts_id"].tolist(),
                                  strict=True):
                claims.setdefault(str(code), []).append(str(cpts))
            self._claims = claims
        return self._claims

    def territory_features(self, display: Display) -> dict[str, str]:
        """GeoJSON feature of every territory at ``display``'s detail (computed once).

        Properties: ``i`` id, ``n`` name, ``s`` stage, ``p`` population, ``c`` number of
        communes, ``t`` ACI tier, ``z`` zone.
        """
        key = id(display)
        if key not in self._features:
            members = self.analysis.members
            unions = display.union(members["code"].to_numpy(), members["cpts_id"].to_numpy())
            texts = dict(zip(unions.index, geojson(unions.to_numpy()), strict=True))
            table = self.analysis.territories.table
            features = {}
            for i, nom, stade, pop, n_com, taille, zone in zip(
                    table.index, table["cpts_nom"], table["stade"], table["population"],
                    table["n_communes"], table["taille"], table["zone"], strict=True):
                geom = texts.get(i)
                if geom is None:
                    continue
                props = {"i": str(i), "n": str(nom), "s": str(stade), "p": int(pop),
                         "c": int(n_com), "t": int(taille), "z": str(zone)}
                features[str(i)] = _feature(geom, props)
            self._features[key] = features
        return self._features[key]


# ------------------------------------------------------------------------------------------
# data of a page


def _feature(geometry: str, properties: dict[str, Any]) -> str:
    """A GeoJSON Feature from a geometry text and a property dict (escaped)."""
    return f'{{"type":"Feature","properties":{script_json(properties)},"geometry":{geometry}}}'


def _features(features: Iterable[str]) -> str:
    return '{"type":"FeatureCollection","features":[' + ",".join(features) + "]}"


def _collection(geometries: Sequence[str | None], properties: Sequence[dict[str, Any]]) -> str:
    """A GeoJSON FeatureCollection from geometry texts and property dicts (escaped)."""
    return _features(_feature(g, p) for g, p in zip(geometries, properties, strict=True)
                     if g is not None)


def _payload(meta: dict[str, Any], raw: dict[str, str]) -> str:
    """``meta`` as escaped JSON with the already serialised ``raw`` members added."""
    text = script_json(meta)
    extra = ",".join(f"{script_json(k)}:{v}" for k, v in raw.items())
    if not extra:
        return text
    return text[:-1] + ("," if len(text) > 2 else "") + extra + "}"


def _territory_layers(ctx: AtlasContext, display: Display, table: pd.DataFrame) -> str:
    """``{stage: FeatureCollection}`` of the territories of ``table``."""
    features = ctx.territory_features(display)
    by_stage = {
        stage: _features(features[str(i)] for i in table.index[table["stade"] == stage]
                         if str(i) in features)
        for stage in STAGES
    }
    return "{" + ",".join(f"{script_json(s)}:{fc}" for s, fc in by_stage.items()) + "}"


def _flatten(frame: pd.DataFrame, key: str) -> tuple[list[str], list[object]]:
    codes: list[str] = []
    groups: list[object] = []
    for k, cs in zip(frame[key], frame["codes"], strict=True):
        codes.extend(cs)
        groups.extend([k] * len(cs))
    return codes, groups


def _gap_layer(display: Display, zb: pd.DataFrame, reference: Any) -> str:
    if zb.empty:
        return _collection([], [])
    codes, groups = _flatten(zb, "zone_blanche")
    unions = display.union(codes, groups)
    texts = dict(zip(unions.index, geojson(unions.to_numpy()), strict=True))
    pop = reference.units["population"]
    props = []
    for r in zb.itertuples(index=False):
        shown = list(r.codes[:GAP_NAMES_SHOWN])
        names = list(r.communes[:GAP_NAMES_SHOWN])
        props.append({
            "i": str(r.zone_blanche), "p": int(r.population), "u": int(r.n_unites),
            "l": [[str(n), int(pop.get(c, 0))] for n, c in zip(names, shown, strict=True)],
            "z": str(r.zone)})
    return _collection([texts.get(r) for r in zb["zone_blanche"]], props)


def _unit_layer(display: Display, frame: pd.DataFrame, reference: Any) -> str:
    """Conflicts or shared communes: one feature per unit, with the CPTS claiming it."""
    if frame.empty:
        return _collection([], [])
    codes = [str(c) for c in frame["code"]]
    texts = geojson(display.unit_geometry(codes))
    zones = reference.units["zone"].reindex(codes).to_numpy()
    props = [
        {"c": c, "n": str(n), "p": int(p), "k": [str(x) for x in k], "z": str(z)}
        for c, n, p, k, z in zip(codes, frame["nom"], frame["population"], frame["cpts"], zones,
                                 strict=True)
    ]
    return _collection(texts, props)


def _outline_layer(display: Display, codes: pd.Index, keys: pd.Series,
                   names: pd.Series, reference: Any) -> str:
    """Outlines of groups of units (départements, régions), non-interactive context."""
    if len(codes) == 0:
        return _collection([], [])
    unions = display.union(codes.to_numpy(), keys.reindex(codes).to_numpy())
    zones = reference.finest.loc[codes].groupby(keys.reindex(codes).to_numpy())["zone"].first()
    props = [{"c": str(k), "n": str(names.get(k, k)), "z": str(zones.get(k, ""))}
             for k in unions.index]
    return _collection(geojson(unions.to_numpy()), props)


def _tiers() -> dict[str, str]:
    """ACI tier labels, numbers kept on one line (``40 000`` with a no-break space)."""
    return {str(k): re.sub(r"(\d) (\d)", "\\1" + NBSP + "\\2", v)
            for k, v in TIER_LABELS.items()}


def _bounds(display: Display, codes: Iterable[str]) -> list[list[float]]:
    """``[[south, west], [north, east]]`` of units (metropolitan France when none)."""
    info = display.unit_info(list(codes))
    if info["minx"].isna().all():
        return [[41.3, -5.2], [51.1, 9.6]]
    return [[float(info["miny"].min()), float(info["minx"].min())],
            [float(info["maxy"].max()), float(info["maxx"].max())]]


def _search_rows(ctx: AtlasContext, display: Display, codes: pd.Index) -> list[list[Any]]:
    """Search index of units: code, name, population, bbox, CPTS ids, a point inside."""
    units = ctx.analysis.reference.units.loc[codes]
    info = display.unit_info(list(codes))
    claims = ctx.claims
    rows = []
    for code, nom, pop, x0, y0, x1, y1, px, py in zip(
            codes.tolist(), units["nom"].tolist(), units["population"].tolist(),
            *(info[c].tolist() for c in ("minx", "miny", "maxx", "maxy", "px", "py")),
            strict=True):
        if x0 != x0:  # no polygon
            continue
        rows.append([str(code), str(nom), int(pop), [x0, y0, x1, y1],
                     claims.get(str(code), []), [px, py]])
    return rows


# ------------------------------------------------------------------------------------------
# summary panel (HTML; every dynamic text escaped)


def _e(text: object) -> str:
    return html.escape(str(text), quote=True)


def _rates(row: pd.Series) -> str:
    total = int(row["population_totale"])
    out = []
    for key, label in THRESHOLD_LABELS.items():
        rate = float(row[f"taux_{key}"])
        covered = int(row[f"population_couverte_{key}"])
        width = max(0.0, min(100.0, rate))
        out.append(
            f'<div class="atlas-rate" data-seuil="{_e(key)}">'
            f'<div class="atlas-rate-head"><span>{_e(label)}</span>'
            f'<span class="atlas-rate-value" id="atlas-taux-{_e(key)}">{_e(fmt_pct(rate))}'
            "</span></div>"
            f'<div class="atlas-bar" role="img" aria-label="{_e(fmt_pct(rate))} sur un objectif '
            f'de 100 %"><span style="width:{width:.2f}%"></span></div>'
            f'<div class="atlas-rate-detail"><span id="atlas-pop-{_e(key)}">'
            f"{_e(fmt_int(covered))}</span> hab. couverts sur {_e(fmt_int(total))} "
            "(objectif 100 %)</div></div>")
    return "".join(out)


def _keyfigs(analysis: Analysis, row: pd.Series, scope_label: str) -> str:
    zb = analysis.zones_blanches
    items = [
        (f"Population {scope_label}", fmt_int(row["population_totale"]) + NBSP + "hab.",
         "atlas-population-totale"),
        ("CPTS", fmt_int(len(analysis.territories.table)), "atlas-n-cpts"),
        ("Zones blanches", f"{fmt_int(len(zb))} ({fmt_int(zb['population'].sum())}{NBSP}hab.)",
         "atlas-n-zb"),
        ("Communes en conflit", fmt_int(len(analysis.conflict_units)), "atlas-n-conflits"),
        ("Communes partagées (infra-communal)", fmt_int(len(analysis.partages)),
         "atlas-n-partages"),
    ]
    return ('<dl class="atlas-keyfigs">' + "".join(
        f'<dt>{_e(k)}</dt><dd id="{_e(i)}">{_e(v)}</dd>' for k, v, i in items) + "</dl>")


def _legend_item(key: str, swatch: str, label: str, count: str, *, checked: bool = True,
                 attrs: str = "", status: str = "") -> str:
    return (f'<li {attrs}><label><input type="checkbox" data-atlas-layer="{_e(key)}"'
            f'{" checked" if checked else ""}>{swatch}<span class="atlas-label">{_e(label)}'
            f'{status}</span><span class="atlas-count">{_e(count)}</span></label></li>')


def _legend(analysis: Analysis, context_label: str, communes: bool,
            outside: bool = False) -> str:
    table = analysis.territories.table
    counts = table["stade"].value_counts()
    items = []
    for stage in STAGES:
        n = int(counts.get(stage, 0))
        swatch = f'<span class="atlas-swatch" style="background:{_e(COLOURS[stage])}"></span>'
        items.append(_legend_item(f"stage:{stage}", swatch, LABELS[stage], f"{fmt_int(n)} CPTS",
                                  attrs=f'data-stage="{_e(stage)}" data-count="{n}"'))
    zb = analysis.zones_blanches
    items.append(_legend_item("zones_blanches", '<span class="atlas-swatch atlas-swatch-zb">'
                              "</span>", "Zones blanches (aucune CPTS)", fmt_int(len(zb)),
                              attrs=f'data-layer="zones_blanches" data-count="{len(zb)}"'))
    n_conf = len(analysis.conflict_units)
    items.append(_legend_item("conflits", '<span class="atlas-swatch atlas-swatch-conflit">'
                              "</span>", "Conflits (commune revendiquée deux fois)",
                              fmt_int(n_conf),
                              attrs=f'data-layer="conflits" data-count="{n_conf}"'))
    n_share = len(analysis.partages)
    items.append(_legend_item("partages", '<span class="atlas-swatch atlas-swatch-partage">'
                              "</span>", "Communes partagées (infra-communal)",
                              fmt_int(n_share),
                              attrs=f'data-layer="partages" data-count="{n_share}"'))
    items.append(_legend_item("contexte", '<span class="atlas-swatch atlas-swatch-line">'
                              "</span>", context_label, "", attrs='data-layer="contexte"'))
    if outside and analysis.perimeter is not None:
        n_out = len(set(analysis.reference.finest["region"]) - set(analysis.perimeter))
        items.append(_legend_item(
            "hors_registre", '<span class="atlas-swatch atlas-swatch-hors"></span>',
            "Hors registre (régions dont le registre ne dit rien)", fmt_int(n_out),
            attrs=f'data-layer="hors_registre" data-count="{n_out}"'))
    if communes:
        items.append(_legend_item(
            "communes", '<span class="atlas-swatch atlas-swatch-commune"></span>',
            "Contours des communes", "", checked=False, attrs='data-layer="communes"',
            status=' <span id="atlas-communes-status" class="atlas-count"></span>'))
    return '<ul class="atlas-legend">' + "".join(items) + "</ul>"


def _note(analysis: Analysis, extra: str = "") -> str:
    from ..version import __version__

    source = str(analysis.registry.source)
    if Path(source).is_absolute():  # the file's name, not where it sits on this machine
        source = Path(source).name
    return (
        '<div class="atlas-note">'
        f"<p>Registre : {_e(source)}</p>"
        f"{extra}"
        "<p>Contours simplifiés pour l'affichage ; chiffres calculés sur les contours "
        "complets. Population : populations légales INSEE.</p>"
        f"<p>Produit par cpts-geo {_e(__version__)}.</p></div>")


def _region_side(analysis: Analysis, code: str, name: str) -> str:
    row = analysis.couverture["france"].iloc[0]
    n = len(analysis.territories.table)
    return (
        '<aside class="atlas-side" id="atlas-side" data-page="region" '
        f'data-region="{_e(code)}">'
        '<nav class="atlas-nav"><a href="index.html">← France entière</a></nav>'
        f"<h1>{_e(name)}</h1>"
        f'<p class="atlas-sub">Atlas des CPTS · région {_e(code)} · {_e(fmt_int(n))} CPTS</p>'
        "<h2>Couverture de la population</h2>"
        f"{_rates(row)}{_keyfigs(analysis, row, 'de la région')}"
        "<h2>Légende et couches</h2>"
        f"{_legend(analysis, 'Limites des départements', communes=True)}"
        "<h2>Rechercher une commune</h2>"
        '<div class="atlas-search-box"><input id="atlas-search" type="search" '
        'placeholder="Nom de la commune…" autocomplete="off" spellcheck="false" '
        'aria-label="Rechercher une commune par son nom">'
        '<ul id="atlas-search-results" aria-live="polite"></ul></div>'
        + _note(analysis, "<p>Les CPTS ayant au moins une commune dans la région sont "
                "représentées entières, y compris au-delà de ses limites.</p>")
        + "</aside>")


def _region_table(ctx: AtlasContext) -> str:
    analysis = ctx.analysis
    table = analysis.couverture["region"]
    france = analysis.couverture["france"].iloc[0]
    head = ('<table class="atlas-table" id="atlas-regions"><thead><tr><th>Région</th>'
            '<th class="num">CPTS</th>'
            '<th class="num" title="Part de la population couverte, tous stades confondus">'
            "Couverture</th>"
            '<th class="num" title="Part de la population couverte par une CPTS au stade projet '
            'de santé validé ou en fonctionnement">Projet validé</th>'
            '<th class="num" title="Part de la population couverte par une CPTS en '
            'fonctionnement (ACI signé)">ACI signé</th></tr></thead><tbody>')
    rows = []
    ref = analysis.reference
    for code in sorted(set(ref.finest["region"])):
        name = _e(ref.region_name(code))
        if code not in table.index:  # outside the registry's perimeter: nothing is said of it
            rows.append(f'<tr data-region="{_e(code)}" class="atlas-hors"><td>{name}</td>'
                        '<td class="num" colspan="4">hors registre</td></tr>')
            continue
        r = table.loc[code]
        page = ctx.pages.get(str(code))
        cell = f'<a href="{_e(page)}">{name}</a>' if page else name
        rows.append(
            f'<tr data-region="{_e(code)}"><td>{cell}</td>'
            f'<td class="num">{_e(fmt_int(r["n_cpts"]))}</td>'
            f'<td class="num">{_e(fmt_pct(r["taux_tous_stades"]))}</td>'
            f'<td class="num">{_e(fmt_pct(r["taux_jusqu_projet_valide"]))}</td>'
            f'<td class="num">{_e(fmt_pct(r["taux_fonctionnement"]))}</td></tr>')
    total = "France" if analysis.perimeter is None else "Périmètre du registre"
    rows.append(
        f'<tr class="atlas-total"><td>{_e(total)}</td>'
        f'<td class="num">{_e(fmt_int(len(analysis.territories.table)))}</td>'
        f'<td class="num">{_e(fmt_pct(france["taux_tous_stades"]))}</td>'
        f'<td class="num">{_e(fmt_pct(france["taux_jusqu_projet_valide"]))}</td>'
        f'<td class="num">{_e(fmt_pct(france["taux_fonctionnement"]))}</td></tr>')
    return head + "".join(rows) + "</tbody></table>"


def _national_side(ctx: AtlasContext) -> str:
    analysis = ctx.analysis
    row = analysis.couverture["france"].iloc[0]
    n = len(analysis.territories.table)
    title = "France" if analysis.region is None else (
        f"{analysis.reference.region_name(analysis.region)}")
    perimeter = ("" if analysis.perimeter is None else
                 '<p class="atlas-sub" id="atlas-perimetre">Chiffres sur le périmètre du '
                 f"registre : {_e(analysis.label)} ; les autres régions sont hors registre.</p>")
    return (
        '<aside class="atlas-side atlas-wide" id="atlas-side" data-page="national">'
        f"<h1>{_e(title)}</h1>"
        f'<p class="atlas-sub">Atlas des CPTS · {_e(fmt_int(n))} CPTS · métropole et '
        "départements d'outre-mer</p>"
        f"{perimeter}<h2>Couverture de la population</h2>"
        f"{_rates(row)}{_keyfigs(analysis, row, 'totale')}"
        "<h2>Légende et couches</h2>"
        f"{_legend(analysis, 'Limites des régions', communes=False, outside=True)}"
        "<h2>Régions</h2>"
        f"{_region_table(ctx)}"
        + _note(analysis, "<p>Cliquer sur une région du tableau pour ouvrir sa carte ; "
                "cliquer sur un encart pour centrer la carte sur un département "
                "d'outre-mer.</p>")
        + "</aside>")


# ------------------------------------------------------------------------------------------
# pages


def _render(title: str, side: str, payload: str, centre: Sequence[float], *,
            tiles: bool) -> str:
    """The page: folium map (no CDN), summary panel, hatch patterns, data, init call."""
    import folium
    from branca.element import Element, Figure, MacroElement
    from jinja2 import Template

    class _Raw(Element):  # content passed as a value, never parsed as a template
        _template = Template("{{ this.content }}")

        def __init__(self, content: str) -> None:
            super().__init__()
            self.content = content

    class _Init(MacroElement):
        _template = Template(
            "{% macro script(this, kwargs) %}"
            "CptsAtlas.init({{ this._parent.get_name() }}, "
            "JSON.parse(document.getElementById('atlas-data').textContent));"
            "{% endmacro %}")

    figure = Figure(title=html.escape(title))
    figure.html.add_child(_Raw(side))
    figure.html.add_child(_Raw(_HATCHES))
    figure.html.add_child(_Raw(
        f'<script type="application/json" id="atlas-data">{payload}</script>'))
    fmap = folium.Map(location=list(centre), zoom_start=6, tiles=None, control_scale=False,
                      zoom_snap=0.25, zoom_delta=0.5)
    fmap.default_js = list(JS)
    fmap.default_css = list(CSS)
    if tiles:
        folium.TileLayer("OpenStreetMap", name="OpenStreetMap", control=False).add_to(fmap)
    figure.add_child(fmap)
    fmap.add_child(_Init())
    text = figure.render()
    return text.replace("<html>", '<html lang="fr">', 1)


def region_page(ctx: AtlasContext, code: str) -> tuple[str, str]:
    """The HTML page of région ``code`` and the script of its commune outlines.

    Parameters
    ----------
    ctx
        The shared context of the run (national analysis, display geometry).
    code
        The région code (``93``).

    Returns
    -------
    tuple of str
        The page's HTML, and the JavaScript of ``<code>-communes.js`` (loaded on demand).

    Examples
    --------
    >>> page, communes = region_page(AtlasContext(national), "93")
    >>> "<title>Atlas des CPTS — Provence-Alpes-Côte d&#x27;Azur (93)</title>" in page
    True
    >>> communes.startswith('(window.CptsAtlasCommunes=window.CptsAtlasCommunes||{})["93"]=')
    True
    """
    from ..analysis import for_region

    analysis = for_region(ctx.analysis, code)
    ref = analysis.reference
    display = ctx.fine
    name = ref.region_name(code)
    scope = analysis.scope
    finest = ref.finest.loc[scope]
    bounds = _bounds(display, scope)
    meta = {
        "page": "region", "code": code, "nom": name, "bounds": bounds, "tiles": ctx.tiles,
        "stages": [[s, LABELS[s], COLOURS[s]] for s in STAGES],
        "tiers": _tiers(),
        "communes": {"src": communes_file(code), "key": code},
        "search": _search_rows(ctx, display, scope),
        "insets": [],
    }
    raw = {
        "territoires": _territory_layers(ctx, display, analysis.territories.table),
        "zones_blanches": _gap_layer(display, analysis.zones_blanches, ref),
        "conflits": _unit_layer(display, analysis.conflict_units, ref),
        "partages": _unit_layer(display, analysis.partages, ref),
        "contexte": _outline_layer(display, scope, finest["departement"],
                                   ref.departements["nom"], ref),
    }
    centre = [(bounds[0][0] + bounds[1][0]) / 2, (bounds[0][1] + bounds[1][1]) / 2]
    page = _render(f"Atlas des CPTS — {name} ({code})", _region_side(analysis, code, name),
                   _payload(meta, raw), centre, tiles=ctx.tiles)
    return page, communes_script(display, code, scope)


def communes_file(code: str) -> str:
    """File name of the commune outlines of région ``code``, beside its page.

    Examples
    --------
    >>> communes_file("93")
    '93-communes.js'
    """
    return f"{code}-communes.js"


def communes_script(display: Display, key: str, codes: pd.Index) -> str:
    """JavaScript registering the outlines of ``codes`` under ``key`` for the page to load.

    Examples
    --------
    >>> display = Display(ref, tolerance=100, decimals=5)
    >>> script = communes_script(display, "93", pd.Index(["06088"]))
    >>> script[:70]
    '(window.CptsAtlasCommunes=window.CptsAtlasCommunes||{})["93"]={"type":'
    >>> script.count('"Feature"'), '"c":"06088"' in script
    (1, True)
    """
    texts = display.unit_geojson(list(codes))
    fc = _collection(texts, [{"c": str(c)} for c in codes])
    return (f"(window.CptsAtlasCommunes=window.CptsAtlasCommunes||{{}})[{script_json(key)}]="
            f"{fc};\n")


def national_page(ctx: AtlasContext) -> str:
    """The national index: France and the DROM, with each région's figures linked to its page.

    Examples
    --------
    >>> page = national_page(AtlasContext(national, pages={"93": "93.html"}))
    >>> "<title>Atlas des CPTS — France</title>" in page, 'href="93.html"' in page
    (True, True)
    """
    analysis = ctx.analysis
    ref = analysis.reference
    display = ctx.coarse
    scope = ref.finest.index  # the page shows France; figures are over the analysis's scope
    finest = ref.finest
    zones = [z for z in ref.zones if (finest["zone"] == z).any()]
    main = "metro" if "metro" in zones else (zones[0] if zones else "metro")
    # extents from the région pages' geometry (already at hand; the difference is invisible)
    bounds = _bounds(ctx.fine, finest.index[finest["zone"] == main])
    insets = [{"zone": z, "nom": ZONE_NAMES.get(z, z),
               "bounds": _bounds(ctx.fine, finest.index[finest["zone"] == z])}
              for z in zones if z != main]
    meta = {
        "page": "national", "code": None, "nom": "France", "bounds": bounds,
        "tiles": ctx.tiles,
        "stages": [[s, LABELS[s], COLOURS[s]] for s in STAGES],
        "tiers": _tiers(),
        "communes": None, "search": None, "insets": insets,
    }
    raw = {
        "territoires": _territory_layers(ctx, display, analysis.territories.table),
        "zones_blanches": _gap_layer(display, analysis.zones_blanches, ref),
        "conflits": _unit_layer(display, analysis.conflict_units, ref),
        "partages": _unit_layer(display, analysis.partages, ref),
        "contexte": _outline_layer(display, scope, finest["region"], ref.regions["nom"], ref),
        "hors_registre": _outline_layer(
            display, finest.index[~finest["region"].isin(analysis.perimeter or ())]
            if analysis.perimeter is not None else finest.index[:0],
            finest["region"], ref.regions["nom"], ref),
    }
    centre = [(bounds[0][0] + bounds[1][0]) / 2, (bounds[0][1] + bounds[1][1]) / 2]
    return _render("Atlas des CPTS — France", _national_side(ctx), _payload(meta, raw), centre,
                   tiles=ctx.tiles)

