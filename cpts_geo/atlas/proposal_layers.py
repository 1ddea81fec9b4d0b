"""The proposal layers of the atlas: gap units in the colour of their proposed CPTS, disputed units.

Two layers, drawn from one :class:`~cpts_geo.analysis.proposals.Proposals` (computed once per
atlas run, :func:`cpts_geo.atlas.write_atlas` with ``proposals=``) through a
:class:`ProposalIndex` (also built once per run; each page then only selects its units):

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

__all__ = ["LAYER_KEYS", "NAMES_SHOWN", "TABLE_KEYS", "ProposalIndex", "proposal_layers",
           "proposal_legend"]

#: Data keys of the two layers (``OVERLAYS`` entries in ``static/layers.js``).
LAYER_KEYS = ("propositions", "conciliations")
#: Data keys of the tables the layers share (see the module docstring).
TABLE_KEYS = ("propositions_cpts", "propositions_zb")
#: Units named in a grouped feature's tooltip (the rest are counted).
NAMES_SHOWN = 12


def _option(c: Any, side: str) -> list[Any]:
    """Effect on CPTS ``side`` of losing the disputed units: before, after."""
    return [int(getattr(c, f"population_{side}")), int(getattr(c, f"population_{side}_sans")),
            int(getattr(c, f"taille_{side}")), int(getattr(c, f"taille_{side}_sans")),
            int(getattr(c, f"plafond_{side}")), int(getattr(c, f"plafond_{side}_sans")),
            bool(getattr(c, f"d_un_seul_tenant_{side}_sans"))]


class ProposalIndex:
    """A proposal made ready for the pages: what every page reads of it, computed once.

    Parameters
    ----------
    proposals
        The proposal of the run (:func:`cpts_geo.analysis.proposals.propose`).
    table
        The territories table of the national analysis: the colouring properties of each
        CPTS, the same values as its territory's feature (``s``, ``t``, ``p``, ``d``). A CPTS
        outside it (a proposal made over more régions than the analysis) gets the proposal's
        figures, without a density.
    reference
        The reference data (région and zone of the disputed units).

    Examples
    --------
    >>> from cpts_geo.analysis.proposals import propose
    >>> index = ProposalIndex(propose(reg, ref), national.territories.table, ref)
    >>> len(index.given("93")), len(index.disputed("93"))  # units given, units disputed
    (46, 0)
    >>> index.cpts["PACA-010"]["f"]["t"], index.cpts["PACA-010"]["e"]["pb"]
    (3, 120006)
    """

    def __init__(self, proposals: Proposals, table: pd.DataFrame, reference: Reference) -> None:
        self.proposals = proposals
        a = proposals.assignments
        self._given = a[a["cpts_id"].notna()]
        res = proposals.resolutions
        self._disputed = res
        self._disputed_region = reference.units["region"].reindex(res["code"]).to_numpy()
        self.zone_of: dict[str, str] = reference.units["zone"].astype(str).to_dict()
        names = proposals.registry.cpts["cpts_nom"].astype(str).to_dict()
        self.names: dict[str, str] = {str(k): v for k, v in names.items()}
        fills: dict[str, dict[str, Any]] = {}
        for cid, stage, pop, taille, area in zip(
                table.index, table["stade"], table["population"], table["taille"],
                table["superficie_km2"], strict=True):
            km2 = float(area)
            fills[str(cid)] = {"s": str(stage), "t": int(taille), "p": int(pop),
                               "d": round(float(pop) / km2) if km2 == km2 and km2 > 0 else None}
        for frame in (proposals.effets, proposals.candidats):
            for r in frame.itertuples(index=False):
                fills.setdefault(str(r.cpts_id), {"s": str(r.stade), "t": int(r.taille_avant),
                                                  "p": int(r.population_avant), "d": None})
        effects = {str(r.cpts_id): {
            "pa": int(r.population_avant), "pb": int(r.population_apres),
            "ta": int(r.taille_avant), "tb": int(r.taille_apres),
            "ca": int(r.plafond_avant), "cb": int(r.plafond_apres),
            "x": int(r.effet_financement),
            "sa": bool(r.d_un_seul_tenant_avant), "sb": bool(r.d_un_seul_tenant_apres),
            "n": len(r.codes_ajoutes), "m": len(r.codes_retires)}
            for r in proposals.effets.itertuples(index=False)}
        #: ``cpts_id`` → ``{"n", "f", "e"}`` (the ``propositions_cpts`` table).
        self.cpts: dict[str, dict[str, Any]] = {
            c: {"n": self.names.get(c, c), "f": f, "e": effects.get(c)} for c, f in fills.items()}
        candidates: dict[str, list[list[Any]]] = {}
        for r in proposals.candidats.itertuples(index=False):
            candidates.setdefault(str(r.zone_blanche), []).append(
                [str(r.cpts_id), str(r.cpts_nom), int(r.taille_avant), int(r.taille_apres),
                 int(r.effet_financement), bool(r.d_un_seul_tenant), bool(r.eligible)])
        #: zone blanche → ``{"p", "u", "o"}`` (the ``propositions_zb`` table).
        self.zones: dict[str, dict[str, Any]] = {
            str(z): {"p": int(pop), "u": int(n), "o": candidates.get(str(z), [])}
            for z, pop, n in zip(proposals.propositions["zone_blanche"],
                                 proposals.propositions["population"],
                                 proposals.propositions["n_unites"], strict=True)}
        #: disputed code → the conciliations (pairs of CPTS) disputing it.
        self.pairs: dict[str, list[dict[str, Any]]] = {}
        for c in proposals.conciliations.itertuples(index=False):
            entry = {"i": str(c.conciliation), "a": [str(c.cpts_a), str(c.nom_a)],
                     "b": [str(c.cpts_b), str(c.nom_b)], "u": int(c.n_unites),
                     "p": int(c.population), "pr": str(c.proposition),
                     "oa": _option(c, "b"), "ob": _option(c, "a")}
            for code in c.codes:
                self.pairs.setdefault(str(code), []).append(entry)

    def given(self, region: str | None = None) -> pd.DataFrame:
        """The assignments of units given to a CPTS, in ``region`` (all when ``None``)."""
        a = self._given
        return a[(a["region"] == region).to_numpy()] if region is not None else a

    def disputed(self, region: str | None = None) -> pd.DataFrame:
        """The resolutions of the disputed units in ``region`` (all when ``None``)."""
        res = self._disputed
        return res[self._disputed_region == region] if region is not None else res


def _features(geometries: Sequence[list | None], properties: Sequence[dict[str, Any]]) -> str:
    """A FeatureCollection of encoded geometries (``g``) and escaped properties."""
    return '{"type":"FeatureCollection","features":[' + ",".join(
        f'{{"type":"Feature","properties":{script_json(p)},"g":{script_json(g)}}}'
        for g, p in zip(geometries, properties, strict=True) if g is not None) + "]}"


def _gap_features(index: ProposalIndex, a: pd.DataFrame, display: Display,
                  region: str | None) -> str:
    if a.empty:
        return _features([], [])
    codes = a["code"].astype(str).tolist()
    names, pops = a["nom"].astype(str).tolist(), a["population"].astype(int).tolist()
    ids, zbs = a["cpts_id"].astype(str).tolist(), a["zone_blanche"].astype(str).tolist()
    rounds = a["tour"].astype(int).tolist()
    if region is not None:  # one feature per unit
        keys = codes
        encoded = encode_geometries(display.unit_geometry(codes), display.decimals)
        geom_of = dict(zip(codes, encoded, strict=True))
    else:  # one per (zone blanche, CPTS)
        keys = [f"{z}|{k}" for z, k in zip(zbs, ids, strict=True)]
        unions = display.union(codes, keys)
        geom_of = dict(zip(unions.index, encode_geometries(unions.to_numpy(), display.decimals),
                           strict=True))
    rows_of: dict[str, list[int]] = {}
    for i, key in enumerate(keys):
        rows_of.setdefault(key, []).append(i)
    props = []
    for key, rows in rows_of.items():
        first = rows[0]
        props.append({
            "i": key, "zb": zbs[first], "k": ids[first],
            "l": [[names[i], codes[i], pops[i]] for i in rows[:NAMES_SHOWN]],
            "u": len(rows), "p": sum(pops[i] for i in rows), "r": min(rounds[i] for i in rows),
            "z": index.zone_of.get(codes[first], ""),
        })
    return _features([geom_of.get(k) for k in rows_of], props)


def _dispute_features(index: ProposalIndex, res: pd.DataFrame, display: Display) -> str:
    if res.empty:
        return _features([], [])
    names = index.names
    codes = res["code"].astype(str).tolist()
    geoms = encode_geometries(display.unit_geometry(codes), display.decimals)
    props = []
    for r in res.itertuples(index=False):
        winner = str(r.cpts_id)
        props.append({
            "c": str(r.code), "n": str(r.nom), "p": int(r.population),
            "z": index.zone_of.get(str(r.code), ""), "k": winner,
            "cl": [[str(k), names.get(str(k), str(k))] for k in r.cpts],
            "kp": [names.get(str(k), str(k)) for k in r.conserve if str(k) != winner],
            "rl": [names.get(str(k), str(k)) for k in r.retire],
            "r": int(r.tour), "m": round(float(r.longueur_frontiere_m)),
            "cc": index.pairs.get(str(r.code), []),
        })
    return _features(geoms, props)


def proposal_layers(index: ProposalIndex, display: Display, *,
                    region: str | None = None) -> dict[str, str]:
    """The page data of the two proposal layers and of the tables they share, serialised.

    Parameters
    ----------
    index
        The proposal of the run, indexed (:class:`ProposalIndex`).
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
        :data:`TABLE_KEYS` (only the CPTS and zones blanches the page's features name; see the
        module docstring).

    Examples
    --------
    >>> import json
    >>> from cpts_geo.analysis.proposals import propose
    >>> from cpts_geo.atlas.display import Display
    >>> p = propose(reg, ref)
    >>> index = ProposalIndex(p, national.territories.table, ref)
    >>> d = Display(ref, tolerance=100, decimals=5)
    >>> data = {k: json.loads(v) for k, v in proposal_layers(index, d, region="93").items()}
    >>> gaps = data["propositions"]["features"]
    >>> len(gaps) == int(p.assignments["cpts_id"].notna().sum())  # one per unit given
    True
    >>> first = [f["properties"] for f in gaps if f["properties"]["i"] == "13201"][0]
    >>> first["zb"], first["k"]  # Marseille 1er, proposed to PACA-010
    ('ZB-93-001', 'PACA-010')
    >>> cpts = data["propositions_cpts"]["PACA-010"]
    >>> cpts["e"]["pa"], cpts["e"]["pb"], cpts["e"]["x"]  # its tier and ceiling do not change
    (82407, 120006, 0)
    >>> data["conciliations"]["features"]  # no conflict in this registry
    []
    """
    given = index.given(region)
    disputes = index.disputed(region)
    zones = sorted(set(given["zone_blanche"].astype(str)))
    ids = set(given["cpts_id"].astype(str))
    for claimants in disputes["cpts"]:
        ids.update(str(k) for k in claimants)
    for z in zones:
        ids.update(c[0] for c in index.zones[z]["o"])
    empty = {"n": None, "f": None, "e": None}
    return {
        "propositions": _gap_features(index, given, display, region),
        "conciliations": _dispute_features(index, disputes, display),
        "propositions_cpts": script_json({c: index.cpts.get(c, {**empty, "n": c})
                                          for c in sorted(ids)}),
        "propositions_zb": script_json({z: index.zones[z] for z in zones}),
    }


def _item(key: str, swatch: str, label: str, count: int) -> str:
    e = html.escape
    return (f'<li data-layer="{e(key)}" data-count="{count}"><label><input type="checkbox" '
            f'data-atlas-layer="{e(key)}"><span class="atlas-swatch {e(swatch)}"></span>'
            f'<span class="atlas-label">{e(label)}</span><span class="atlas-count">'
            f'{e(fmt_int(count))}{chr(0xA0)}{"communes" if count > 1 else "commune"}'
            "</span></label></li>")


def proposal_legend(index: ProposalIndex, region: str | None = None) -> str:
    """The legend block of the proposal layers: two switches, off, and what they are.

    Parameters
    ----------
    index
        The proposal of the run, indexed (:class:`ProposalIndex`).
    region
        The page's région (its units are counted), ``None`` for the national page.

    Returns
    -------
    str
        HTML (every text escaped).

    Examples
    --------
    >>> from cpts_geo.analysis.proposals import propose
    >>> index = ProposalIndex(propose(reg, ref), national.territories.table, ref)
    >>> block = proposal_legend(index, "93")
    >>> 'data-atlas-layer="propositions"' in block, " checked" in block
    (True, False)
    >>> "ce ne sont pas des décisions" in block
    True
    """
    return (
        '<h3 class="atlas-legend-title">Propositions (à discuter)</h3>'
        '<ul class="atlas-legend atlas-legend-propositions">'
        + _item("propositions", "atlas-swatch-proposition",
                "Propositions de rattachement (zones blanches)", len(index.given(region)))
        + _item("conciliations", "atlas-swatch-conciliation",
                "Conciliations (communes revendiquées par plusieurs CPTS)",
                len(index.disputed(region)))
        + "</ul>"
        '<p class="atlas-help" id="atlas-propositions-note">Calculées par cpts-geo selon une '
        "règle écrite (<code>cpts-geo propose</code>) : ce ne sont pas des décisions. "
        "Hachurées aux couleurs de la CPTS proposée ; survoler une commune pour l'effet sur "
        "la population, la taille ACI et le financement.</p>")
