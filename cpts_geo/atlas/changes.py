"""The "changes since an older registry" layer of the atlas pages (``atlas --compare OLD``).

From a :class:`~cpts_geo.analysis.diff.Diff` of the older registry against the one drawn, each
page gets three overlays of the units whose CPTS changed (:attr:`Diff.unites`), each drawn its
own way so that no reader needs colour to tell them apart (Okabe & Ito colours, checked with
:func:`~cpts_geo.atlas.palette.min_distance` in the tests):

``changements_gagnees``
    units covered now and not before: blue, filled, solid outline;
``changements_perdues``
    units no longer covered: vermillion hatching, dashed outline;
``changements_changees``
    units covered by other CPTS: reddish purple, light fill, dotted outline.

Each unit's tooltip names its CPTS before and after and its population. The panel shows the
counts, the CPTS new and gone, and the coverage before and after at the three stage thresholds
(the page's région, or the whole perimeter on the national page). Layers are drawn by the
``OVERLAYS`` entries of ``static/layers.js``. Rendering only: every figure comes from the diff.
"""

from __future__ import annotations

import html
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from ..outputs.fmt import NBSP, fmt_int, fmt_pct
from .assets import script_json
from .codec import encode_geometries

if TYPE_CHECKING:
    from ..analysis.diff import Diff
    from .display import Display

__all__ = ["CHANGES", "change_layers", "changes_panel"]

#: The change layers: page data key → (``Diff.unites.changement``, French label, colour).
CHANGES: dict[str, tuple[str, str, str]] = {
    "changements_gagnees": ("gagnee", "Unités gagnées (couvertes, ne l'étaient pas)",
                            "#0072b2"),
    "changements_perdues": ("perdue", "Unités perdues (ne sont plus couvertes)", "#d55e00"),
    "changements_changees": ("changee", "Unités passées à une autre CPTS", "#cc79a7"),
}
_THRESHOLDS = {
    "tous_stades": "Tous stades confondus",
    "jusqu_projet_valide": "Jusqu'au projet de santé validé",
    "fonctionnement": "En fonctionnement (ACI signé)",
}
_DEFS = (
    '<svg class="atlas-defs" width="0" height="0" aria-hidden="true" focusable="false" '
    'style="position:absolute;width:0;height:0;overflow:hidden"><defs>'
    '<pattern id="atlas-hatch-perdue" patternUnits="userSpaceOnUse" width="6" height="6" '
    'patternTransform="rotate(-45)"><rect width="6" height="6" fill="#ffffff" '
    'fill-opacity="0.55"/><rect width="2.4" height="6" fill="#d55e00"/></pattern>'
    "</defs></svg>")
_SWATCH = {
    "changements_gagnees": "background:#0072b2;opacity:0.75;border:2px solid #0072b2",
    "changements_perdues": "background:repeating-linear-gradient(-45deg,#ffffff 0 2px,"
                           "#d55e00 2px 4.4px);border:2px dashed #d55e00",
    "changements_changees": "background:rgba(204,121,167,0.3);border:2px dotted #cc79a7",
}


def _e(text: object) -> str:
    return html.escape(str(text), quote=True)


def _old_name(diff: Diff) -> str:
    source = str(diff.ancien)
    return Path(source).name if Path(source).is_absolute() else source


def _names(diff: Diff) -> tuple[dict[str, str], dict[str, str]]:
    """``cpts_id`` → name, in the old registry and in the new one (as far as the diff says)."""
    pairs = diff.appariements
    old = dict(zip(pairs["ancienne"].astype(str), pairs["nom_ancienne"].astype(str),
                   strict=True))
    new = dict(zip(pairs["nouvelle"].astype(str), pairs["nom_nouvelle"].astype(str),
                   strict=True))
    old.update(zip(diff.disparues["cpts_id"].astype(str), diff.disparues["cpts_nom"].astype(str),
                   strict=True))
    new.update(zip(diff.nouvelles["cpts_id"].astype(str), diff.nouvelles["cpts_nom"].astype(str),
                   strict=True))
    return old, new


def _units(diff: Diff, region: str | None) -> pd.DataFrame:
    units = diff.unites
    return units if region is None else units[units["region"] == region]


def change_layers(diff: Diff | None, display: Display, region: str | None) -> dict[str, str]:
    """The page data of the three change layers: key → FeatureCollection (escaped JSON).

    Parameters
    ----------
    diff
        The diff of the older registry against the one drawn, or ``None`` (no layer).
    display
        The page's display geometry.
    region
        The page's région (its units only), or ``None`` (the national page: every unit).

    Returns
    -------
    dict
        Empty without a diff. Features: ``c`` code, ``n`` name, ``p`` population, ``a`` and
        ``b`` the names of its CPTS before and after, ``z`` zone; geometry encoded under ``g``.

    Examples
    --------
    >>> from cpts_geo.analysis.diff import diff_registries
    >>> from cpts_geo.atlas.display import Display
    >>> from cpts_geo.registry import Registry
    >>> claims = reg.claims[reg.claims["code"] != "06157"]  # Vence leaves the CPTS des Baous
    >>> d = diff_registries(reg, Registry(claims, "nouveau.csv"), ref)
    >>> layers = change_layers(d, Display(ref, tolerance=100.0, decimals=4), "93")
    >>> sorted(layers)
    ['changements_changees', 'changements_gagnees', 'changements_perdues']
    >>> import json
    >>> lost = json.loads(layers["changements_perdues"])["features"]
    >>> [(f["properties"]["n"], f["properties"]["a"], f["properties"]["b"]) for f in lost]
    [('Vence', ['CPTS des Baous'], [])]
    """
    if diff is None:
        return {}
    units = _units(diff, region)
    old, new = _names(diff)
    out = {}
    for key, (kind, _, _) in CHANGES.items():
        sub = units[units["changement"] == kind]
        codes = [str(c) for c in sub["code"]]
        texts = encode_geometries(display.unit_geometry(codes), display.decimals)
        features = []
        for text, r in zip(texts, sub.itertuples(index=False), strict=True):
            if text is None:
                continue
            props = {"c": str(r.code), "n": str(r.nom), "p": int(r.population),
                     "a": [old.get(str(i), str(i)) for i in r.avant],
                     "b": [new.get(str(i), str(i)) for i in r.apres], "z": str(r.zone)}
            features.append(f'{{"type":"Feature","properties":{script_json(props)},'
                            f'"g":{script_json(text)}}}')
        out[key] = '{"type":"FeatureCollection","features":[' + ",".join(features) + "]}"
    return out


def _touching(frame: pd.DataFrame, scope: set[str] | None) -> int:
    if scope is None:
        return len(frame)
    return sum(1 for codes in frame["codes"] if scope.intersection(map(str, codes)))


def changes_panel(diff: Diff | None, region: str | None,
                  scope: Iterable[str] | None = None) -> str:
    """The panel section "Changements depuis OLD": switches, counts, coverage before/after.

    Parameters
    ----------
    diff
        The diff, or ``None`` (an empty string).
    region
        The page's région, or ``None`` for the national page (the whole perimeter compared).
    scope
        The page's unit codes (CPTS new and gone are counted when they claim one of them).

    Examples
    --------
    >>> from cpts_geo.analysis.diff import diff_registries
    >>> from cpts_geo.registry import Registry
    >>> claims = reg.claims[reg.claims["code"] != "06157"]
    >>> panel = changes_panel(diff_registries(reg, Registry(claims, "nouveau.csv"), ref), "93")
    >>> '<h2 id="atlas-changes-title">Changements depuis paca-2026-01.csv</h2>' in panel
    True
    >>> 'data-atlas-layer="changements_perdues"' in panel, 'data-count="1"' in panel
    (True, True)
    """
    if diff is None:
        return ""
    units = _units(diff, region)
    codes = None if scope is None else {str(c) for c in scope}
    items = []
    for key, (kind, label, _) in CHANGES.items():
        sub = units[units["changement"] == kind]
        n = len(sub)
        pop = int(sub["population"].sum()) if n else 0
        items.append(
            f'<li data-layer="{_e(key)}" data-count="{n}"><label><input type="checkbox" '
            f'data-atlas-layer="{_e(key)}" checked><span class="atlas-swatch" '
            f'style="{_SWATCH[key]}"></span><span class="atlas-label">{_e(label)}</span>'
            f'<span class="atlas-count">{_e(fmt_int(n))} ({_e(fmt_int(pop))}{NBSP}hab.)</span>'
            "</label></li>")
    cov = diff.couverture
    if region is None:
        row = cov[cov["niveau"] == "perimetre"]
    else:
        row = cov[(cov["niveau"] == "region") & (cov["code"].astype(str) == region)]
    table = ""
    if len(row):
        r = row.iloc[0]
        lines = "".join(
            f'<tr data-seuil="{_e(k)}"><th scope="row">{_e(label)}</th>'
            f'<td class="num">{_e(fmt_pct(r[f"taux_avant_{k}"]))}</td>'
            f'<td class="num">{_e(fmt_pct(r[f"taux_apres_{k}"]))}</td>'
            f'<td class="num">{_e(_points(r[f"ecart_{k}"]))}</td></tr>'
            for k, label in _THRESHOLDS.items())
        table = ('<table class="atlas-table" id="atlas-changes-coverage"><caption>Couverture '
                 'de la population</caption><thead><tr><th scope="col">Seuil</th>'
                 '<th scope="col" class="num">Avant</th><th scope="col" class="num">Après</th>'
                 '<th scope="col" class="num">Écart</th></tr></thead><tbody>' + lines
                 + "</tbody></table>")
    new, gone = _touching(diff.nouvelles, codes), _touching(diff.disparues, codes)
    figures = (
        '<dl class="atlas-keyfigs" id="atlas-changes-figures">'
        f'<dt>CPTS nouvelles</dt><dd id="atlas-changes-nouvelles">{_e(fmt_int(new))}</dd>'
        f'<dt>CPTS disparues</dt><dd id="atlas-changes-disparues">{_e(fmt_int(gone))}</dd>'
        "</dl>")
    return (f'<section id="atlas-changes" class="atlas-changes">{_DEFS}'
            f'<h2 id="atlas-changes-title">Changements depuis {_e(_old_name(diff))}</h2>'
            f'<p class="atlas-help">Unités dont la CPTS a changé entre {_e(_old_name(diff))} '
            "et le registre de la carte.</p>"
            f'<ul class="atlas-legend" aria-labelledby="atlas-changes-title">{"".join(items)}'
            f"</ul>{figures}{table}</section>")


def _points(value: Any) -> str:
    return f"{float(value):+.2f}".replace(".", ",").replace("-", "−") + NBSP + "pt"
