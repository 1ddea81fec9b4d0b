"""The proposal layers of the atlas: gap units in the colour of their proposed CPTS, disputed units.

Two layers, drawn from one :class:`~cpts_geo.analysis.proposals.Proposals` (computed once per
atlas run, :func:`cpts_geo.atlas.write_atlas` with ``proposals=``):

* ``propositions`` (*Propositions de rattachement*): each unit of a zone blanche that the
  proposal gives to a CPTS, hatched in that CPTS's colour. On a région page, one feature per
  unit; on the national page, one per (zone blanche, CPTS), so that the page stays light.
* ``conciliations`` (*territoires en cours de conciliation*): each unit claimed by several CPTS
  without a declared share, hatched in the colour of the CPTS the proposal gives it to.

Both are proposals, not facts: off by default, said so in the legend. What several features
share travels once, in two tables of the page data beside the layers:

``propositions_cpts``
    ``cpts_id`` → ``n`` name, ``f`` its colouring properties today (``s`` stage, ``t`` ACI
    tier, ``p`` population, ``d`` density: the territory's, read by ``colours.fill``), ``e`` the
    effect of the whole proposal on it (``pa``/``pb`` population before/after, ``ta``/``tb`` ACI
    tier, ``ca``/``cb`` ceiling in euros, ``x`` change of ceiling, ``sa``/``sb`` in one piece,
    ``n`` units added, ``m`` units removed; ``null`` when the proposal leaves it unchanged).
``propositions_zb``
    zone blanche → ``p`` population, ``u`` number of units, ``o`` its candidates, each
    ``[cpts_id, name, tier before, tier after, change of ceiling, in one piece, eligible]`` if it
    took the whole zone (longest shared boundary first).

Feature properties (compact keys, read by ``static/layers.js``):

``propositions``
    ``i`` the feature's id (the unit's code on a région page, ``zone blanche|cpts_id`` on the
    national page), ``zb`` zone blanche, ``k`` proposed ``cpts_id``, ``l`` units ``[name, code,
    population]`` (the first :data:`NAMES_SHOWN`), ``u`` their number, ``p`` their population,
    ``r`` the round of the rule that gave them, ``z`` zone.
``conciliations``
    ``c`` code, ``n`` name, ``p`` population, ``z`` zone; ``k`` proposed ``cpts_id``; ``cl``
    claimants ``[cpts_id, name]``; ``kp`` names of the other CPTS keeping a declared share,
    ``rl`` names of those losing the unit; ``r`` round, ``m`` boundary (metres) with the
    winner's territory; ``cc`` the conciliations (pairs of CPTS) disputing the unit, each
    ``{"i", "a": [id, name], "b": [id, name], "u", "p", "pr", "oa", "ob"}`` where ``oa`` is the
    effect on B if A keeps the units and ``ob`` the effect on A if B keeps them:
    ``[population before, after, tier before, after, ceiling before, after, in one piece
    after]``.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import pandas as pd

from ..outputs.fmt import fmt_int
from .assets import script_json
from .codec import encode_geometries

if TYPE_CHECKING:
    from ..analysis.proposals import Proposals
    from ..reference import Reference
    from .display import Display

__all__ = ["LAYER_KEYS", "NAMES_SHOWN", "TABLE_KEYS", "proposal_layers", "proposal_legend"]

#: Data keys of the two layers (``OVERLAYS`` entries in ``static/layers.js``).
LAYER_KEYS = ("propositions", "conciliations")
#: Data keys of the tables the layers share (see the module docstring).
TABLE_KEYS = ("propositions_cpts", "propositions_zb")
#: Units named in a grouped feature's tooltip (the rest are counted).
NAMES_SHOWN = 12


def _fill_properties(table: pd.DataFrame, proposals: Proposals) -> dict[str, dict[str, Any]]:
    """``cpts_id`` → what ``colours.fill`` reads of a territory (same values as its feature).

    From the territories table of the analysis; a CPTS outside it (a proposal made over more
    régions than the analysis) falls back on the proposal's figures, without a density.
    """
    out: dict[str, dict[str, Any]] = {}
    for cid, stage, pop, taille, area in zip(table.index, table["stade"], table["population"],
                                             table["taille"], table["superficie_km2"],
                                             strict=True):
        a = float(area)
        out[str(cid)] = {"s": str(stage), "t": int(taille), "p": int(pop),
                         "d": round(float(pop) / a) if a == a and a > 0 else None}
    for r in proposals.effets.itertuples(index=False):
        out.setdefault(str(r.cpts_id), {"s": str(r.stade), "t": int(r.taille_avant),
                                        "p": int(r.population_avant), "d": None})
    for r in proposals.candidats.itertuples(index=False):
        out.setdefault(str(r.cpts_id), {"s": str(r.stade), "t": int(r.taille_avant),
                                        "p": int(r.population_avant), "d": None})
    return out


def _effects(proposals: Proposals) -> dict[str, dict[str, Any]]:
    return {str(r.cpts_id): {
        "pa": int(r.population_avant), "pb": int(r.population_apres),
        "ta": int(r.taille_avant), "tb": int(r.taille_apres),
        "ca": int(r.plafond_avant), "cb": int(r.plafond_apres),
        "x": int(r.effet_financement),
        "sa": bool(r.d_un_seul_tenant_avant), "sb": bool(r.d_un_seul_tenant_apres),
        "n": len(r.codes_ajoutes), "m": len(r.codes_retires)}
        for r in proposals.effets.itertuples(index=False)}


def _candidates(proposals: Proposals) -> dict[str, list[list[Any]]]:
    out: dict[str, list[list[Any]]] = {}
    for r in proposals.candidats.itertuples(index=False):
        out.setdefault(str(r.zone_blanche), []).append(
            [str(r.cpts_id), str(r.cpts_nom), int(r.taille_avant), int(r.taille_apres),
             int(r.effet_financement), bool(r.d_un_seul_tenant), bool(r.eligible)])
    return out


def _features(geometries: Sequence[list | None], properties: Sequence[dict[str, Any]]) -> str:
    """A FeatureCollection of encoded geometries (``g``) and escaped properties."""
    return '{"type":"FeatureCollection","features":[' + ",".join(
        f'{{"type":"Feature","properties":{script_json(p)},"g":{script_json(g)}}}'
        for g, p in zip(geometries, properties, strict=True) if g is not None) + "]}"


def _gap_features(proposals: Proposals, reference: Reference, display: Display,
                  region: str | None) -> str:
    a = _given(proposals, region)
    if a.empty:
        return _features([], [])
    zone_of = reference.units["zone"]
    codes = [str(c) for c in a["code"]]
    if region is not None:  # one feature per unit
        keys: list[Any] = codes
        geoms = encode_geometries(display.unit_geometry(codes), display.decimals)
    else:  # one per (zone blanche, CPTS)
        keys = [f"{z}|{k}" for z, k in zip(a["zone_blanche"], a["cpts_id"], strict=True)]
        unions = display.union(codes, keys)
        texts = dict(zip(unions.index, encode_geometries(unions.to_numpy(), display.decimals),
                         strict=True))
    props: list[dict[str, Any]] = []
    order: list[Any] = []
    for key, rows in a.groupby(pd.Index(keys), sort=False):
        first = rows.iloc[0]
        cid, zb = str(first["cpts_id"]), str(first["zone_blanche"])
        props.append({
            "i": str(key), "zb": zb, "k": cid,
            "l": [[str(n), str(c), int(p)] for n, c, p in zip(
                rows["nom"][:NAMES_SHOWN], rows["code"][:NAMES_SHOWN],
                rows["population"][:NAMES_SHOWN], strict=True)],
            "u": len(rows), "p": int(rows["population"].sum()), "r": int(rows["tour"].min()),
            "z": str(zone_of.get(str(first["code"]), "")),
        })
        order.append(key)
    if region is not None:
        by_code = dict(zip(codes, geoms, strict=True))
        return _features([by_code[k] for k in order], props)
    return _features([texts.get(k) for k in order], props)


def _option(c: Any, side: str) -> list[Any]:
    """Effect on CPTS ``side`` of losing the disputed units: before, after."""
    return [int(getattr(c, f"population_{side}")), int(getattr(c, f"population_{side}_sans")),
            int(getattr(c, f"taille_{side}")), int(getattr(c, f"taille_{side}_sans")),
            int(getattr(c, f"plafond_{side}")), int(getattr(c, f"plafond_{side}_sans")),
            bool(getattr(c, f"d_un_seul_tenant_{side}_sans"))]


def _disputes(proposals: Proposals, reference: Reference, region: str | None) -> pd.DataFrame:
    """The resolutions of the units of ``region`` (all when ``None``)."""
    res = proposals.resolutions
    if region is not None:
        res = res[reference.units["region"].reindex(res["code"]).to_numpy() == region]
    return res


def _given(proposals: Proposals, region: str | None) -> pd.DataFrame:
    """The assignments of the units of ``region`` (all when ``None``) given to a CPTS."""
    a = proposals.assignments
    a = a[a["cpts_id"].notna()]
    return a[a["region"] == region] if region is not None else a


def _dispute_features(proposals: Proposals, reference: Reference, display: Display,
                      region: str | None) -> str:
    res = _disputes(proposals, reference, region)
    units = reference.units
    if res.empty:
        return _features([], [])
    names = proposals.registry.cpts["cpts_nom"].astype(str).to_dict()
    pairs: dict[str, list[dict[str, Any]]] = {}
    for c in proposals.conciliations.itertuples(index=False):
        entry = {"i": str(c.conciliation), "a": [str(c.cpts_a), str(c.nom_a)],
                 "b": [str(c.cpts_b), str(c.nom_b)], "u": int(c.n_unites),
                 "p": int(c.population), "pr": str(c.proposition),
                 "oa": _option(c, "b"), "ob": _option(c, "a")}
        for code in c.codes:
            pairs.setdefault(str(code), []).append(entry)
    codes = [str(c) for c in res["code"]]
    geoms = encode_geometries(display.unit_geometry(codes), display.decimals)
    props = []
    for r in res.itertuples(index=False):
        winner = str(r.cpts_id)
        props.append({
            "c": str(r.code), "n": str(r.nom), "p": int(r.population),
            "z": str(units.at[r.code, "zone"]),
            "k": winner,
            "cl": [[str(k), names.get(str(k), str(k))] for k in r.cpts],
            "kp": [names.get(str(k), str(k)) for k in r.conserve if str(k) != winner],
            "rl": [names.get(str(k), str(k)) for k in r.retire],
            "r": int(r.tour), "m": round(float(r.longueur_frontiere_m)),
            "cc": pairs.get(str(r.code), []),
        })
    return _features(geoms, props)


def proposal_layers(proposals: Proposals, table: pd.DataFrame, reference: Reference,
                    display: Display, *, region: str | None = None) -> dict[str, str]:
    """The page data of the two proposal layers and of the tables they share, serialised.

    Parameters
    ----------
    proposals
        The proposal of the run (:func:`cpts_geo.analysis.proposals.propose`).
    table
        The territories table of the national analysis (for the colours of the CPTS).
    reference
        The reference data.
    display
        The page's display geometry (:class:`~cpts_geo.atlas.display.Display`).
    region
        The région of the page: its units, one feature each; ``None`` for the national page
        (gap units grouped by zone blanche and CPTS).

    Returns
    -------
    dict
        JSON text by data key: the FeatureCollections :data:`LAYER_KEYS` (geometry encoded by
        :func:`~cpts_geo.atlas.codec.encode_geometries` under ``g``) and the tables
        :data:`TABLE_KEYS` (see the module docstring).

    Examples
    --------
    >>> import json
    >>> from cpts_geo.analysis.proposals import propose
    >>> from cpts_geo.atlas.display import Display
    >>> p = propose(reg, ref)
    >>> d = Display(ref, tolerance=100, decimals=5)
    >>> data = {k: json.loads(v) for k, v in proposal_layers(
    ...     p, national.territories.table, ref, d, region="93").items()}
    >>> gaps = data["propositions"]["features"]
    >>> len(gaps) == int(p.assignments["cpts_id"].notna().sum())  # one per unit given
    True
    >>> first = [f["properties"] for f in gaps if f["properties"]["l"][0][1] == "13201"][0]
    >>> first["zb"], first["k"]  # Marseille 1er, proposed to PACA-010
    ('ZB-93-001', 'PACA-010')
    >>> cpts = data["propositions_cpts"]["PACA-010"]
    >>> cpts["e"]["pa"], cpts["e"]["pb"], cpts["e"]["x"]  # its tier and ceiling do not change
    (82407, 120006, 0)
    >>> data["conciliations"]["features"]  # no conflict in this registry
    []
    """
    given = _given(proposals, region)
    disputes = _disputes(proposals, reference, region)
    ids = {*given["cpts_id"].astype(str)}
    for r in disputes.itertuples(index=False):
        ids.update(str(k) for k in r.cpts)
    zones = set(given["zone_blanche"].astype(str))
    candidates = _candidates(proposals)
    for z in zones:
        ids.update(c[0] for c in candidates.get(z, []))
    fills = _fill_properties(table, proposals)
    effects = _effects(proposals)
    names = proposals.registry.cpts["cpts_nom"].astype(str).to_dict()
    props = proposals.propositions.set_index("zone_blanche")
    cpts = {c: {"n": names.get(c, c), "f": fills.get(c), "e": effects.get(c)}
            for c in sorted(ids)}
    zb = {z: {"p": int(props.at[z, "population"]), "u": int(props.at[z, "n_unites"]),
              "o": candidates.get(z, [])} for z in sorted(zones)}
    return {
        "propositions": _gap_features(proposals, reference, display, region),
        "conciliations": _dispute_features(proposals, reference, display, region),
        "propositions_cpts": script_json(cpts),
        "propositions_zb": script_json(zb),
    }


def _item(key: str, swatch: str, label: str, count: int) -> str:
    e = html.escape
    return (f'<li data-layer="{e(key)}" data-count="{count}"><label><input type="checkbox" '
            f'data-atlas-layer="{e(key)}"><span class="atlas-swatch {e(swatch)}"></span>'
            f'<span class="atlas-label">{e(label)}</span><span class="atlas-count">'
            f'{e(fmt_int(count))}{chr(0xA0)}{"communes" if count > 1 else "commune"}'
            "</span></label></li>")


def proposal_legend(proposals: Proposals, reference: Reference,
                    region: str | None = None) -> str:
    """The legend block of the proposal layers: two switches, off, and what they are.

    Parameters
    ----------
    proposals
        The proposal of the run.
    reference
        The reference data.
    region
        The page's région (its units are counted), ``None`` for the national page.

    Returns
    -------
    str
        HTML (every text escaped).

    Examples
    --------
    >>> from cpts_geo.analysis.proposals import propose
    >>> block = proposal_legend(propose(reg, ref), ref, "93")
    >>> 'data-atlas-layer="propositions"' in block, " checked" in block
    (True, False)
    >>> "ce ne sont pas des décisions" in block
    True
    """
    a = _given(proposals, region)
    res = _disputes(proposals, reference, region)
    return (
        '<h3 class="atlas-legend-title">Propositions (à discuter)</h3>'
        '<ul class="atlas-legend atlas-legend-propositions">'
        + _item("propositions", "atlas-swatch-proposition",
                "Propositions de rattachement (zones blanches)", len(a))
        + _item("conciliations", "atlas-swatch-conciliation",
                "Conciliations (communes revendiquées par plusieurs CPTS)", len(res))
        + "</ul>"
        '<p class="atlas-help" id="atlas-propositions-note">Calculées par cpts-geo selon une '
        "règle écrite (<code>cpts-geo propose</code>) : ce ne sont pas des décisions. "
        "Hachurées aux couleurs de la CPTS proposée ; survoler une commune pour l'effet sur "
        "la population, la taille ACI et le financement.</p>")
