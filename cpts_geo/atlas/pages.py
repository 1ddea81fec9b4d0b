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
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from ..outputs.fmt import NBSP, NNBSP, fmt_int, fmt_pct
from ..reference.zones import ZONE_NAMES
from ..registry.stages import COLOURS, LABELS, STAGES, TIER_CEILINGS, TIER_LABELS
from . import palette
from .assets import html_script, inline_assets, script_json
from .codec import encode_geometries
from .display import (
    NATIONAL_DECIMALS,
    NATIONAL_TOLERANCE_M,
    REGION_DECIMALS,
    REGION_TOLERANCE_M,
    Display,
)
from .proposal_layers import ProposalIndex, proposal_layers, proposal_legend

if TYPE_CHECKING:
    from ..analysis import Analysis
    from ..analysis.proposals import Proposals

__all__ = ["DATE_COLUMNS", "AtlasContext", "national_page", "region_page"]

#: How the coverage thresholds are shown, most inclusive first.
THRESHOLD_LABELS: dict[str, str] = {
    "tous_stades": "Tous stades confondus",
    "jusqu_projet_valide": "Jusqu'au projet de santé validé",
    "fonctionnement": "En fonctionnement (ACI signé)",
}
#: Names of the communes listed in a zone blanche's tooltip (the rest are counted).
GAP_NAMES_SHOWN = 12
#: Registry date columns shown on the CPTS card when the registry has them: column → label.
DATE_COLUMNS: dict[str, str] = {
    "date_lettre_intention": "Lettre d'intention",
    "date_projet_sante": "Projet de santé validé",
    "date_aci": "ACI signé",
}

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

    Everything a page needs that does not depend on the page (claims by unit, zones blanches by
    unit, the CPTS table with its dates, the population classes of the legend) is built once
    here, so that writing a page only selects from it.

    Parameters
    ----------
    analysis
        The national analysis.
    tiles
        Add an OpenStreetMap basemap (loaded from the network when the page is viewed).
    pages
        Région code → page file name, for the links of the national index.
    evolution
        The evolution of a dated registry (:func:`cpts_geo.analysis.timeline.evolution`):
        its chart in each page's panel (:mod:`~cpts_geo.atlas.charts`).
    compare
        The diff of an older registry against this one
        (:func:`cpts_geo.analysis.diff.diff_registries`): the changes layers and panel
        (:mod:`~cpts_geo.atlas.changes`).
    proposals
        The proposal of the run (:func:`cpts_geo.analysis.proposals.propose`), drawn as the
        layers of :mod:`~cpts_geo.atlas.proposal_layers`; ``None`` for none.

    Examples
    --------
    >>> ctx = AtlasContext(national, tiles=False, pages={"93": "93.html"})
    >>> ctx.fine.tolerance, ctx.coarse.tolerance  # metres, région pages and national page
    (100.0, 1000.0)
    >>> ctx.claims["06088"]  # Nice
    ['PACA-028', 'PACA-029', 'PACA-030']
    >>> ctx.default_mode  # the PACA listing gives no stage: the page opens on the ACI tiers
    'taille'
    """

    analysis: Analysis
    tiles: bool = False
    pages: dict[str, str] = field(default_factory=dict)
    evolution: Any = None  # analysis.timeline.Evolution: the chart of each panel
    compare: Any = None  # analysis.diff.Diff: the "changes since OLD" layers
    proposals: Proposals | None = None
    fine: Display = field(init=False)
    coarse: Display = field(init=False)
    _features: dict[int, dict[str, str]] = field(default_factory=dict, init=False)
    _claims: dict[str, list[tuple[str, bool]]] | None = field(default=None, init=False)
    _cpts_rows: dict[str, list[Any]] | None = field(default=None, init=False)
    _gaps: dict[str, str] | None = field(default=None, init=False)
    _proposal_index: ProposalIndex | None = field(default=None, init=False)

    def __post_init__(self) -> None:
        ref = self.analysis.reference
        self.fine = Display(ref, tolerance=REGION_TOLERANCE_M, decimals=REGION_DECIMALS)
        self.coarse = Display(ref, tolerance=NATIONAL_TOLERANCE_M, decimals=NATIONAL_DECIMALS)

    @property
    def proposal_index(self) -> ProposalIndex | None:
        """The run's proposal indexed for the pages (built once), ``None`` without one."""
        if self.proposals is not None and self._proposal_index is None:
            self._proposal_index = ProposalIndex(self.proposals, self.analysis.territories.table,
                                                 self.analysis.reference)
        return self._proposal_index

    @property
    def claim_rows(self) -> dict[str, list[tuple[str, bool]]]:
        """Finest unit code → ``(cpts_id, partage)`` of each claim on it (computed once)."""
        if self._claims is None:
            members = self.analysis.members
            claims: dict[str, list[tuple[str, bool]]] = {}
            for code, cpts, share in zip(members["code"].tolist(), members["cpts_id"].tolist(),
                                         members["partage"].tolist(), strict=True):
                claims.setdefault(str(code), []).append((str(cpts), bool(share)))
            self._claims = claims
        return self._claims

    @property
    def claims(self) -> dict[str, list[str]]:
        """Finest unit code → ``cpts_id`` of the CPTS claiming it."""
        return {c: [k for k, _ in rows] for c, rows in self.claim_rows.items()}

    @property
    def gaps(self) -> dict[str, str]:
        """Finest unit code → the zone blanche holding it (national analysis, computed once)."""
        if self._gaps is None:
            zb = self.analysis.zones_blanches
            self._gaps = {str(c): str(z) for z, cs in zip(zb["zone_blanche"], zb["codes"],
                                                           strict=True) for c in cs}
        return self._gaps

    @property
    def cpts_rows(self) -> dict[str, list[Any]]:
        """``cpts_id`` → the row of the CPTS card (computed once).

        ``[id, name, stage, population, weighted population, tier, ceiling, area km²,
        communes, units, dates]``; dates is ``{column: "YYYY-MM-DD"}`` for the columns of
        :data:`DATE_COLUMNS` the registry has, else ``{}``.
        """
        if self._cpts_rows is None:
            table = self.analysis.territories.table
            claims = self.analysis.registry.claims
            dates: dict[str, dict[str, str]] = {}
            for col in DATE_COLUMNS:
                if col not in claims.columns:
                    continue
                first = pd.to_datetime(claims[col], errors="coerce").groupby(
                    claims["cpts_id"]).min()
                for cid, value in first.dropna().items():
                    dates.setdefault(str(cid), {})[col] = value.strftime("%Y-%m-%d")
            rows = {}
            for cid, r in zip(table.index, table.itertuples(index=False), strict=True):
                area = float(r.superficie_km2)
                rows[str(cid)] = [str(cid), str(r.cpts_nom), str(r.stade), int(r.population),
                                  int(r.population_ponderee), int(r.taille), int(r.plafond_aci),
                                  round(area, 1) if area == area else None, int(r.n_communes),
                                  int(r.n_unites), dates.get(str(cid), {})]
            self._cpts_rows = rows
        return self._cpts_rows

    @property
    def default_mode(self) -> str:
        """``"taille"`` when the registry gives no stage at all, else ``"stade"``."""
        stages = self.analysis.territories.table["stade"]
        return "taille" if len(stages) and (stages == "non_renseigne").all() else "stade"

    def modes(self) -> dict[str, Any]:
        """The colour modes of the legend (same classes on every page of the run)."""
        table = self.analysis.territories.table
        return {
            "default": self.default_mode,
            "note": ("Stade non renseigné dans le registre : les territoires sont colorés par "
                     "taille ACI." if self.default_mode == "taille" else None),
            "labels": [[k, v] for k, v in palette.MODES.items()],
            "taille": [[str(t), label, colour] for t, (label, colour)
                       in zip(sorted(palette.TIER_COLOURS), palette.tier_legend(), strict=True)],
            "population": {"breaks": palette.population_breaks(table["population"].tolist()),
                           "colours": list(palette.POPULATION_COLOURS), "unit": "hab."},
            "densite": {"breaks": list(palette.DENSITY_BREAKS),
                        "colours": list(palette.DENSITY_COLOURS), "unit": "hab./km²"},
            "text": {c: palette.text_colour(c) for c in sorted({
                *COLOURS.values(), *palette.TIER_COLOURS.values()})},
        }

    def territory_features(self, display: Display) -> dict[str, str]:
        """Feature of every territory at ``display``'s detail (computed once).

        Properties: ``i`` id, ``n`` name, ``s`` stage, ``p`` population, ``c`` number of
        communes, ``t`` ACI tier, ``a`` area (km²), ``z`` zone; geometry encoded
        (:mod:`~cpts_geo.atlas.codec`) under ``g``.
        """
        key = id(display)
        if key not in self._features:
            self._features[key] = _derived_texts(
                self.analysis, f"features-t{display.tolerance:g}-r{display.decimals}",
                lambda: self._territory_features(display))
        return self._features[key]

    def _territory_features(self, display: Display) -> dict[str, str]:
        """:meth:`territory_features`, computed."""
        members = self.analysis.members
        unions = display.union(members["code"].to_numpy(), members["cpts_id"].to_numpy())
        texts = dict(zip(unions.index, encode_geometries(unions.to_numpy(),
                                                         display.decimals), strict=True))
        table = self.analysis.territories.table
        features = {}
        for i, nom, stade, pop, n_com, taille, area, zone in zip(
                table.index, table["cpts_nom"], table["stade"], table["population"],
                table["n_communes"], table["taille"], table["superficie_km2"],
                table["zone"], strict=True):
            geom = texts.get(i)
            if geom is None:
                continue
            props = {"i": str(i), "n": str(nom), "s": str(stade), "p": int(pop),
                     "c": int(n_com), "t": int(taille),
                     "a": round(float(area), 1) if area == area else None,
                     "d": _density(pop, area), "z": str(zone)}
            features[str(i)] = _feature(geom, props)
        return features


def _derived_texts(analysis: Analysis, name: str,
                   build: Callable[[], dict[str, str]]) -> dict[str, str]:
    """Texts derived from ``analysis`` alone, kept on disk under the analysis's cache key.

    An analysis read from or stored in the analysis cache (:mod:`cpts_geo.analysis.cache`)
    carries its key, which digests the claims, the reference data, the scope and the tool's
    code: what the pages derive from it (the territories drawn at one level of detail) is the
    same for the same key, and is kept beside it. Without a key, or when the file cannot be
    read, ``build`` computes the texts.
    """
    from ..reference.geometry import cache_directory, read_texts, save_texts

    key = analysis.memo.get("cache_key")
    if not key:
        return build()
    path = cache_directory() / "analyses" / f"{key}-{name}.npz"
    found = read_texts(path)
    if found is not None:
        return dict(zip(*found, strict=True))
    texts = build()
    save_texts(path, list(texts), list(texts.values()))
    return texts


# ------------------------------------------------------------------------------------------
# data of a page


def _fmt_dec(value: float) -> str:
    """One decimal, decimal comma, French thousands (areas in km²)."""
    return f"{float(value):,.1f}".replace(",", NNBSP).replace(".", ",")


def _density(population: object, area: object) -> int | None:
    """Inhabitants per km², rounded (``None`` without an area): the map's and the table's."""
    a = float(area)  # type: ignore[arg-type]
    return round(float(population) / a) if a == a and a > 0 else None  # type: ignore[arg-type]


def _feature(geometry: list | None, properties: dict[str, Any]) -> str:
    """A feature from an encoded geometry and a property dict (escaped JSON)."""
    return (f'{{"type":"Feature","properties":{script_json(properties)},'
            f'"g":{script_json(geometry)}}}')


def _features(features: Iterable[str]) -> str:
    return '{"type":"FeatureCollection","features":[' + ",".join(features) + "]}"


def _collection(geometries: Sequence[list | None], properties: Sequence[dict[str, Any]]) -> str:
    """A FeatureCollection from encoded geometries and property dicts (escaped)."""
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
    texts = dict(zip(unions.index, encode_geometries(unions.to_numpy(), display.decimals),
                     strict=True))
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
    texts = encode_geometries(display.unit_geometry(codes), display.decimals)
    zones = reference.units["zone"].reindex(codes).to_numpy()
    props = [
        {"c": c, "n": str(n), "p": int(p), "k": [str(x) for x in k], "z": str(z)}
        for c, n, p, k, z in zip(codes, frame["nom"], frame["population"], frame["cpts"], zones,
                                 strict=True)
    ]
    return _collection(texts, props)


def _gap_and_unit_layers(ctx: AtlasContext, display: Display, analysis: Analysis,
                         code: str | None) -> dict[str, str]:
    """The zones blanches, conflicts and shared communes of a page (``code``: its région).

    Derived from the run's analysis alone: kept under its cache key (:func:`_derived_texts`).
    """
    ref = analysis.reference

    def build() -> dict[str, str]:
        return {"zones_blanches": _gap_layer(display, analysis.zones_blanches, ref),
                "conflits": _unit_layer(display, analysis.conflict_units, ref),
                "partages": _unit_layer(display, analysis.partages, ref)}

    name = f"layers-{code or 'france'}-t{display.tolerance:g}-r{display.decimals}"
    return _derived_texts(ctx.analysis, name, build)


def _outline_layer(display: Display, codes: pd.Index, keys: pd.Series,
                   names: pd.Series, reference: Any) -> str:
    """Outlines of groups of units (départements, régions), non-interactive context."""
    if len(codes) == 0:
        return _collection([], [])
    groups = keys.reindex(codes)
    # whole départements or régions of the reference: their outlines, computed once
    whole = (keys.name in ("departement", "region")
             and groups.equals(reference.finest[keys.name].reindex(codes))
             and all(len(reference.finest_in(str(keys.name), g)) == n
                     for g, n in groups.value_counts().items()))
    if whole:
        outlines = display.outlines(str(keys.name))
        unions = outlines[outlines.index.isin(groups.unique())]
    else:
        unions = display.union(codes.to_numpy(), groups.to_numpy())
    zones = reference.finest.loc[codes].groupby(keys.reindex(codes).to_numpy())["zone"].first()
    props = [{"c": str(k), "n": str(names.get(k, k)), "z": str(zones.get(k, ""))}
             for k in unions.index]
    return _collection(encode_geometries(unions.to_numpy(), display.decimals), props)


def _change_layers(ctx: AtlasContext, display: Display, code: str | None) -> dict[str, str]:
    """The "changes since OLD" layers of a page (none without ``ctx.compare``)."""
    from .changes import change_layers

    return change_layers(ctx.compare, display, code)


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


def _sparse(values: Iterable[Any]) -> dict[str, Any]:
    """``{position: value}`` of the truthy values (most units have none)."""
    return {str(i): v for i, v in enumerate(values) if v}


def _adjacency_values(n: int, left: np.ndarray, right: np.ndarray) -> list[int]:
    """The adjacency of :func:`_unit_table`, as integers.

    Per unit, its count of higher neighbours, then the gaps between them (the first from the
    unit itself).

    Examples
    --------
    >>> _adjacency_values(3, np.array([0, 0, 1]), np.array([1, 2, 2]))  # a triangle
    [2, 1, 1, 1, 1, 0]
    """
    lo, hi = np.minimum(left, right), np.maximum(left, right)
    order = np.lexsort((hi, lo))
    lo, hi = lo[order].astype(np.int64), hi[order].astype(np.int64)
    counts = np.bincount(lo, minlength=n).astype(np.int64)
    prev = np.empty_like(hi)
    if len(hi):
        prev[0] = lo[0]
        same = lo[1:] == lo[:-1]
        prev[1:] = np.where(same, hi[:-1], lo[1:])
    slots = np.cumsum(counts + 1) - (counts + 1)  # where each unit's count goes
    out = np.empty(n + len(hi), dtype=np.int64)
    out[slots] = counts
    rank = np.arange(len(hi)) - np.repeat(np.cumsum(counts) - counts, counts)
    out[slots[lo] + 1 + rank] = hi - prev
    return out.tolist()


def _unit_table(ctx: AtlasContext, display: Display, code: str,
                table: pd.DataFrame) -> tuple[dict[str, Any], dict[str, str]]:
    """The région's units for the composer and the CPTS card (see :mod:`.units`).

    Units: the région's, those of every CPTS of the page (drawn whole), then the ring of
    units bordering them (flagged ``r``: shown for neighbours, not selectable). Columns: ``c``
    code, ``n`` name, ``p`` population, ``a`` area (km², zone CRS), ``k`` claims (position in
    ``cpts``; ``-1 - position`` for a claim declared shared), ``r`` ring and ``o`` outside
    (strings of ``0``/``1``), ``h`` coverage holes bordered and ``zb`` zone blanche (position
    in ``zb``) and ``m`` parent city of an arrondissement (sparse). Adjacency: for each unit,
    the number of its neighbours of higher position then the gaps between them, as one
    encoded-polyline string.
    """
    from ..analysis.topology import unit_areas
    from ..reference.zones import ZONE_CRS
    from ..registry.columns import CODE_NAMES, ID_NAMES, NAME_NAMES
    from .codec import encode_integers
    from .units import page_graph

    ref = ctx.analysis.reference
    finest = ref.finest
    own = ref.finest_in("region", code)
    zone = str(finest.loc[own[0], "zone"]) if len(own) else "metro"
    members = ctx.analysis.members
    extra = members.loc[members["cpts_id"].isin(table.index) & (members["zone"] == zone), "code"]
    codes = list(dict.fromkeys([*map(str, own), *map(str, extra)]))
    graph = page_graph(ref, zone, codes)
    claim_rows = ctx.claim_rows
    cpts_ids: list[str] = []
    position: dict[str, int] = {}
    claims = []
    for c in graph.codes:
        row = []
        for cid, share in claim_rows.get(c, []):
            if cid not in position:
                position[cid] = len(cpts_ids)
                cpts_ids.append(cid)
            row.append(-1 - position[cid] if share else position[cid])
        claims.append(row)
    gaps = ctx.gaps
    zb_ids = list(dict.fromkeys(gaps[c] for c in graph.codes if c in gaps))
    zb_pos = {z: i for i, z in enumerate(zb_ids)}
    zb = ctx.analysis.zones_blanches.set_index("zone_blanche")
    units = ref.units.reindex(graph.codes)
    areas = unit_areas(ref).reindex(graph.codes).to_numpy(dtype=float)
    parents = units["commune"].fillna("").astype(str).tolist()
    values = _adjacency_values(len(graph.codes), graph.left, graph.right)
    rows = ctx.cpts_rows
    meta = {
        "zone": zone, "crs": ZONE_CRS[zone],
        "units": {
            "c": graph.codes, "n": [str(n) for n in units["nom"]],
            "p": [int(p) for p in units["population"].fillna(0)],
            "a": [round(float(a), 3) if a == a else None for a in areas],
            "k": claims,
            "r": "".join("1" if r else "0" for r in graph.ring),
            "o": "".join("1" if o else "0" for o in graph.outside),
            "h": _sparse(list(h) for h in graph.holes),
            "zb": {str(i): zb_pos[gaps[c]] for i, c in enumerate(graph.codes) if c in gaps},
            "m": _sparse(p if p != c else "" for p, c in zip(parents, graph.codes,
                                                              strict=True)),
        },
        "cpts": [rows[c] for c in cpts_ids],
        "columns": {"code": list(CODE_NAMES), "nom": list(NAME_NAMES), "id": list(ID_NAMES)},
        "zb": [[z, int(zb.at[z, "population"]), int(zb.at[z, "n_unites"]),
                round(float(zb.at[z, "superficie_km2"]), 1)] for z in zb_ids],
    }
    raw = {
        "adj": script_json(encode_integers(values)),
        "geom": "[" + ",".join(display.unit_texts(graph.codes)) + "]",
    }
    return meta, raw


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


def _proposal_legend(ctx: AtlasContext, region: str | None) -> str:
    """The switches of the proposal layers, when the run has proposals."""
    index = ctx.proposal_index
    return "" if index is None else proposal_legend(index, region)


def _proposal_data(ctx: AtlasContext, display: Display, region: str | None) -> dict[str, str]:
    """The proposal layers' page data, when the run has proposals."""
    index = ctx.proposal_index
    return {} if index is None else proposal_layers(index, display, region=region)


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


def _mode_switch(ctx: AtlasContext) -> str:
    """Radio buttons of the colour modes, the key filled by the page script, the mode note."""
    modes = ctx.modes()
    radios = "".join(
        f'<label class="atlas-mode"><input type="radio" name="atlas-mode" value="{_e(k)}"'
        f'{" checked" if k == modes["default"] else ""}> {_e(v)}</label>'
        for k, v in palette.MODES.items())
    note = (f'<p class="atlas-mode-note" id="atlas-mode-note">{_e(modes["note"])}</p>'
            if modes["note"] else "")
    return ('<fieldset class="atlas-modes"><legend>Colorer les territoires par</legend>'
            f"{radios}</fieldset>{note}"
            '<ul class="atlas-key" id="atlas-key" aria-label="Clé des couleurs"></ul>')


def _search_box(label: str, placeholder: str) -> str:
    return (
        '<div class="atlas-search-box">'
        f'<label class="atlas-visually-hidden" for="atlas-search">{_e(label)}</label>'
        '<input id="atlas-search" type="search" role="combobox" aria-autocomplete="list" '
        'aria-expanded="false" aria-controls="atlas-search-results" '
        f'placeholder="{_e(placeholder)}" autocomplete="off" spellcheck="false">'
        '<ul id="atlas-search-results" role="listbox" aria-label="Résultats"></ul>'
        '<p class="atlas-visually-hidden" id="atlas-search-status" aria-live="polite"></p>'
        "</div>")


_COMPOSER = (
    '<h2 id="atlas-composer-title">Composer un projet</h2>'
    '<div id="atlas-composer" class="atlas-composer">'
    '<button type="button" class="atlas-button" id="atlas-composer-toggle" aria-pressed="false"'
    ' aria-controls="atlas-composer-body">Composer un projet</button>'
    '<div id="atlas-composer-body" hidden>'
    '<p class="atlas-help">Cliquer sur les communes de la carte pour les ajouter ou les retirer,'
    " ou les ajouter au clavier ci-dessous. Les chiffres sont ceux de "
    "<code>cpts-geo check</code>.</p>"
    '<label for="atlas-composer-name">Nom du projet</label>'
    '<input id="atlas-composer-name" type="text" value="Projet de CPTS" autocomplete="off">'
    '<label for="atlas-composer-start">Partir de</label>'
    '<select id="atlas-composer-start"><option value="">Sélection vide</option></select>'
    '<label for="atlas-composer-add">Ajouter une commune</label>'
    '<div class="atlas-search-box"><input id="atlas-composer-add" type="search" role="combobox"'
    ' aria-autocomplete="list" aria-expanded="false" aria-controls="atlas-composer-add-results"'
    ' placeholder="Nom ou code de la commune…" autocomplete="off" spellcheck="false">'
    '<ul id="atlas-composer-add-results" role="listbox" aria-label="Communes à ajouter"></ul>'
    "</div>"
    '<div id="atlas-composer-figures" class="atlas-composer-figures" aria-live="polite"'
    ' aria-atomic="true"></div>'
    '<p id="atlas-composer-message" class="atlas-composer-message" role="status"></p>'
    '<div class="atlas-composer-actions">'
    '<button type="button" class="atlas-button" id="atlas-composer-export">Exporter en CSV'
    "</button>"
    '<label class="atlas-button atlas-file">Charger un CSV'
    '<input id="atlas-composer-file" type="file" accept=".csv,.txt,text/csv"></label>'
    '<button type="button" class="atlas-button" id="atlas-composer-clear">Vider</button></div>'
    '<h3>Unités du projet</h3><ul id="atlas-composer-list" class="atlas-composer-list"></ul>'
    "</div></div>")

_CARD = (
    '<section id="atlas-card" class="atlas-card" role="dialog" aria-modal="false" '
    'aria-labelledby="atlas-card-title" tabindex="-1" hidden>'
    '<button type="button" class="atlas-card-close" id="atlas-card-close" '
    'aria-label="Fermer la fiche">×</button>'
    '<h2 id="atlas-card-title"></h2><div id="atlas-card-body"></div></section>')


def _data_tables(ctx: AtlasContext, analysis: Analysis) -> str:
    """The accessible tables of the page's CPTS and zones blanches (the map's figures).

    HTML with every text escaped, carried as script text and inserted as is by the page
    script into :data:`_TABLES_BOX`.
    """
    rows = ctx.cpts_rows
    table = analysis.territories.table.sort_values("cpts_nom", kind="stable")
    body = []
    for cid in table.index:
        r = rows[str(cid)]
        density = _density(r[3], r[7])
        body.append(
            f'<tr data-cpts="{_e(cid)}"><th scope="row">{_e(r[1])}</th>'
            f"<td>{_e(LABELS.get(r[2], r[2]))}</td>"
            f'<td class="num">{_e(fmt_int(r[3]))}</td><td class="num">{_e(r[5])}</td>'
            f'<td class="num">{_e(fmt_int(r[6]))}</td>'
            f'<td class="num">{_e("" if r[7] is None else _fmt_dec(r[7]))}</td>'
            f'<td class="num">{_e("" if density is None else fmt_int(density))}</td>'
            f'<td class="num">{_e(fmt_int(r[8]))}</td></tr>')
    cpts = (
        '<table class="atlas-table" id="atlas-table-cpts"><caption>CPTS ('
        f"{_e(fmt_int(len(table)))})</caption><thead><tr>"
        '<th scope="col">CPTS</th><th scope="col">Stade</th>'
        '<th scope="col" class="num">Population</th><th scope="col" class="num">Taille ACI</th>'
        '<th scope="col" class="num">Plafond ACI (€)</th>'
        '<th scope="col" class="num">Superficie (km²)</th>'
        '<th scope="col" class="num">Densité (hab./km²)</th>'
        '<th scope="col" class="num">Communes</th></tr></thead><tbody>'
        + "".join(body) + "</tbody></table>")
    zb = analysis.zones_blanches
    zrows = "".join(
        f'<tr data-zb="{_e(r.zone_blanche)}"><th scope="row">{_e(r.zone_blanche)}</th>'
        f'<td class="num">{_e(fmt_int(r.population))}</td>'
        f'<td class="num">{_e(fmt_int(r.n_unites))}</td>'
        f'<td class="num">{_e(_fmt_dec(r.superficie_km2))}</td>'
        f"<td>{_e(', '.join(map(str, r.communes[:GAP_NAMES_SHOWN])))}"
        f"{_e(' …' if len(r.communes) > GAP_NAMES_SHOWN else '')}</td></tr>"
        for r in zb.itertuples(index=False))
    gaps = (
        '<table class="atlas-table" id="atlas-table-zb"><caption>Zones blanches ('
        f"{_e(fmt_int(len(zb)))})</caption><thead><tr>"
        '<th scope="col">Zone blanche</th><th scope="col" class="num">Population</th>'
        '<th scope="col" class="num">Communes</th>'
        '<th scope="col" class="num">Superficie (km²)</th><th scope="col">Communes (noms)</th>'
        "</tr></thead><tbody>" + zrows + "</tbody></table>")
    return cpts + gaps


#: Where the tables go: their HTML travels as the text of a ``<script type="text/html">``
#: (:func:`_data_tables`, :func:`~cpts_geo.atlas.assets.html_script`) and the page script puts
#: it here after the first frame (a thousand rows parsed after the map is drawn, not before),
#: or as soon as the box is opened.
_TABLES_BOX = ('<details class="atlas-tables" id="atlas-tables"><summary>Tableaux des CPTS et '
               "des zones blanches</summary></details>")


def _region_side(ctx: AtlasContext, analysis: Analysis, code: str, name: str) -> str:
    row = analysis.couverture["france"].iloc[0]
    n = len(analysis.territories.table)
    return (
        '<aside class="atlas-side" id="atlas-side" data-page="region" '
        f'data-region="{_e(code)}">'
        '<nav class="atlas-nav"><a href="index.html">← France entière</a></nav>'
        f"<h1>{_e(name)}</h1>"
        f'<p class="atlas-sub">Atlas des CPTS · région {_e(code)} · {_e(fmt_int(n))} CPTS</p>'
        "<h2>Rechercher une commune ou une CPTS</h2>"
        + _search_box("Rechercher une commune ou une CPTS par son nom",
                      "Commune ou CPTS…")
        + _CARD
        + "<h2>Couverture de la population</h2>"
        f"{_rates(row)}{_keyfigs(analysis, row, 'de la région')}"
        + _time_sections(ctx, code, analysis.scope)
        + "<h2>Légende et couches</h2>"
        f"{_mode_switch(ctx)}"
        f"{_legend(analysis, 'Limites des départements', communes=True)}"
        f"{_proposal_legend(ctx, code)}"
        + _COMPOSER
        + _TABLES_BOX
        + _note(analysis, "<p>Les CPTS ayant au moins une commune dans la région sont "
                "représentées entières, y compris au-delà de ses limites.</p>")
        + "</aside>")


def _time_sections(ctx: AtlasContext, code: str | None, scope: Iterable[str] | None) -> str:
    """The evolution chart (dated registry) and the changes since an older registry."""
    from .changes import changes_panel
    from .charts import evolution_panel

    return evolution_panel(ctx.evolution, code) + changes_panel(ctx.compare, code, scope)


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
        f"{perimeter}"
        "<h2>Rechercher une CPTS</h2>"
        + _search_box("Rechercher une CPTS par son nom", "Nom de la CPTS…")
        + _CARD
        + "<h2>Couverture de la population</h2>"
        f"{_rates(row)}{_keyfigs(analysis, row, 'totale')}"
        + _time_sections(ctx, None, None)
        + "<h2>Légende et couches</h2>"
        f"{_mode_switch(ctx)}"
        f"{_legend(analysis, 'Limites des régions', communes=False, outside=True)}"
        f"{_proposal_legend(ctx, None)}"
        "<h2>Régions</h2>"
        f"{_region_table(ctx)}"
        + _TABLES_BOX
        + _note(analysis, "<p>Cliquer sur une région du tableau pour ouvrir sa carte ; "
                "cliquer sur un encart pour centrer la carte sur un département "
                "d'outre-mer.</p>")
        + "</aside>")


# ------------------------------------------------------------------------------------------
# pages


#: Tokens of the page skeleton, replaced by each page's own content (see :func:`_skeleton`).
_TOKENS = ("\x00cpts-title\x00", "\x00cpts-side\x00", "\x00cpts-data\x00",
           "\x00cpts-centre\x00")
_SKELETONS: dict[bool, tuple[list[str], list[int]]] = {}


def _render(title: str, side: str, payload: str, centre: Sequence[float], *,
            tiles: bool, tables: str = "") -> str:
    """The page: folium map, summary panel, hatch patterns, data, init call; one file.

    Leaflet, the page scripts and the style sheets are inlined
    (:func:`~cpts_geo.atlas.assets.inline_assets`): the page loads nothing, so it works
    copied alone, attached to an e-mail or in a sandboxed ``<iframe>`` opened from disk.

    Every page has the same folium skeleton (:func:`_skeleton`, rendered once per run), with
    the page's title, panel, data and centre put in its place: the same bytes as rendering
    each page with folium, at a fraction of the cost, and the same bytes on every run (folium's
    random element names are fixed).

    Examples
    --------
    >>> page = _render("Atlas — <Test>", "<aside>panneau</aside>", '{"n":1}', [43.5, 5.25],
    ...                tiles=False)
    >>> "<title>Atlas — &lt;Test&gt;</title>" in page, page.count("<aside>panneau</aside>")
    (True, 1)
    >>> "[43.5, 5.25]" in page, page == _render("Atlas — <Test>", "<aside>panneau</aside>",
    ...                                         '{"n":1}', [43.5, 5.25], tiles=False)
    (True, True)
    """
    if tiles not in _SKELETONS:
        _SKELETONS[tiles] = _skeleton(tiles)
    pieces, order = _SKELETONS[tiles]
    if tables:  # the accessible tables, inserted by the page after its first frame
        side += html_script(tables, "atlas-tables-html")
    values = {0: html.escape(title), 1: side, 2: payload,
              3: "[" + ", ".join(repr(float(c)) for c in centre) + "]"}
    out = [pieces[0]]
    for token, piece in zip(order, pieces[1:], strict=True):
        out.append(values[token])
        out.append(piece)
    return "".join(out)


def _skeleton(tiles: bool) -> tuple[list[str], list[int]]:
    """The folium page with tokens in place of its content: its pieces and the tokens' order.

    The page folium renders is kept in the cache directory, keyed by the versions of folium,
    branca and jinja2, the page scripts and style sheets inlined and the hatch patterns: a
    run whose skeleton is cached does not import folium at all.
    """
    import hashlib
    from importlib.metadata import version

    from ..atomic import atomic_write
    from ..reference.geometry import cache_directory

    head = inline_assets()
    digest = hashlib.sha256()
    for part in (*(version(p) for p in ("folium", "branca", "jinja2")), head, _HATCHES,
                 str(tiles), "s1"):
        digest.update(part.encode("utf-8") + b"\0")
    path = cache_directory() / "pages" / f"skeleton-{digest.hexdigest()[:24]}.html"
    try:
        text = path.read_bytes().decode("utf-8")
    except (OSError, UnicodeDecodeError):
        text = _folium_page(_TOKENS[0], _TOKENS[1], _TOKENS[2], tiles=tiles)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            with atomic_write(path) as fh:
                fh.write(text.encode("utf-8"))
        except OSError:
            pass  # a cache that cannot be written only costs time
    centre = "[11.1111, 22.2222]"
    if text.count(centre) != 1:
        raise RuntimeError("folium page skeleton: the map's centre was not found once")
    text = text.replace(centre, _TOKENS[3])
    found = sorted((text.index(tok), i) for i, tok in enumerate(_TOKENS))
    if any(text.count(tok) != 1 for tok in _TOKENS):
        raise RuntimeError("folium page skeleton: a token was not found once")
    pieces, start = [], 0
    for at, i in found:
        pieces.append(text[start:at])
        start = at + len(_TOKENS[i])
    pieces.append(text[start:])
    return pieces, [i for _, i in found]


def _folium_page(title: str, side: str, payload: str, *, tiles: bool) -> str:
    """The page rendered by folium (centre ``[11.1111, 22.2222]``, element names fixed)."""
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
            "cptsGeo.init({{ this._parent.get_name() }}, "
            "JSON.parse(document.getElementById('atlas-data').textContent));"
            "{% endmacro %}")

    figure = Figure(title=title)
    figure.header.add_child(_Raw(inline_assets()))
    figure.html.add_child(_Raw(side))
    figure.html.add_child(_Raw(_HATCHES))
    figure.html.add_child(_Raw(
        f'<script type="application/json" id="atlas-data">{payload}</script>'))
    fmap = folium.Map(location=[11.1111, 22.2222], zoom_start=6, tiles=None,
                      control_scale=False, zoom_snap=0.25, zoom_delta=0.5)
    fmap.default_js = []
    fmap.default_css = []
    if tiles:
        folium.TileLayer("OpenStreetMap", name="OpenStreetMap", control=False).add_to(fmap)
    figure.add_child(fmap)
    fmap.add_child(_Init())
    # folium names elements with random ids: fixed names give the same bytes on every run
    for n, element in enumerate(_elements(figure)):
        element._id = f"cpts{n:02d}"
    text = figure.render()
    return text.replace("<html>", '<html lang="fr">', 1)


def _elements(root: Any) -> list[Any]:
    """``root`` and every element below it, depth first, in the order they were added."""
    out = [root]
    for child in list(getattr(root, "_children", {}).values()):
        out.extend(_elements(child))
    return out


def region_page(ctx: AtlasContext, code: str) -> str:
    """The HTML page of région ``code``: one self-contained file.

    Besides the layers it holds the région's units for the composer and the CPTS card
    (:func:`_unit_table`): their outlines, populations, claims and rook adjacency.

    Parameters
    ----------
    ctx
        The shared context of the run (national analysis, display geometry).
    code
        The région code (``93``).

    Returns
    -------
    str
        The page's HTML.

    Examples
    --------
    >>> page = region_page(AtlasContext(national), "93")
    >>> "<title>Atlas des CPTS — Provence-Alpes-Côte d&#x27;Azur (93)</title>" in page
    True
    >>> "<script src=" in page, "<link " in page  # nothing to load beside the page
    (False, False)
    """
    from ..analysis import for_region

    analysis = for_region(ctx.analysis, code)
    ref = analysis.reference
    display = ctx.fine
    name = ref.region_name(code)
    scope = analysis.scope
    finest = ref.finest.loc[scope]
    bounds = _bounds(display, scope)
    units_meta, units_raw = _unit_table(ctx, display, code, analysis.territories.table)
    meta = {
        "page": "region", "code": code, "nom": name, "bounds": bounds, "tiles": ctx.tiles,
        "decimals": display.decimals,
        "stages": [[s, LABELS[s], COLOURS[s]] for s in STAGES],
        "tiers": _tiers(), "ceilings": {str(k): v for k, v in TIER_CEILINGS.items()},
        "modes": ctx.modes(), "dates": DATE_COLUMNS,
        "insets": [],
        **units_meta,
    }
    raw = {
        "territoires": _territory_layers(ctx, display, analysis.territories.table),
        **_gap_and_unit_layers(ctx, display, analysis, code),
        "contexte": _outline_layer(display, scope, finest["departement"],
                                   ref.departements["nom"], ref),
        **units_raw,
        **_change_layers(ctx, display, code),
        **_proposal_data(ctx, display, code),
    }
    centre = [(bounds[0][0] + bounds[1][0]) / 2, (bounds[0][1] + bounds[1][1]) / 2]
    return _render(f"Atlas des CPTS — {name} ({code})", _region_side(ctx, analysis, code, name),
                   _payload(meta, raw), centre, tiles=ctx.tiles,
                   tables=_data_tables(ctx, analysis))


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
    table = analysis.territories.table
    region_of = {str(i): str(r) for i, r in zip(table.index, table["region"], strict=True)}
    meta = {
        "page": "national", "code": None, "nom": "France", "bounds": bounds,
        "tiles": ctx.tiles, "decimals": display.decimals,
        "stages": [[s, LABELS[s], COLOURS[s]] for s in STAGES],
        "tiers": _tiers(), "ceilings": {str(k): v for k, v in TIER_CEILINGS.items()},
        "modes": ctx.modes(), "dates": DATE_COLUMNS,
        "cpts": [ctx.cpts_rows[str(i)] for i in table.index],
        "pages": {str(i): ctx.pages.get(r) for i, r in region_of.items() if r in ctx.pages},
        "insets": insets,
    }
    raw = {
        "territoires": _territory_layers(ctx, display, analysis.territories.table),
        **_gap_and_unit_layers(ctx, display, analysis, None),
        "contexte": _outline_layer(display, scope, finest["region"], ref.regions["nom"], ref),
        "hors_registre": _outline_layer(
            display, finest.index[~finest["region"].isin(analysis.perimeter or ())]
            if analysis.perimeter is not None else finest.index[:0],
            finest["region"], ref.regions["nom"], ref),
        **_change_layers(ctx, display, None),
        **_proposal_data(ctx, display, None),
    }
    centre = [(bounds[0][0] + bounds[1][0]) / 2, (bounds[0][1] + bounds[1][1]) / 2]
    return _render("Atlas des CPTS — France", _national_side(ctx), _payload(meta, raw), centre,
                   tiles=ctx.tiles, tables=_data_tables(ctx, analysis))
