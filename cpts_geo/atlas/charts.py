"""Charts of a dated registry's evolution: PNG/SVG files (matplotlib) and inline SVG for pages.

Both show, month by month, the share of the population covered at each stage threshold (one
line per threshold, each its own colour and dash, checked for colour-blind readers: see
``tests/test_timeline_outputs.py``) against the 100 % target, drawn as a line. The files
(:func:`write_evolution_charts`) add the number of CPTS by stage, stacked in the stage colours
of the atlas. The pages' chart (:func:`evolution_svg`) is plain SVG built here, with a title, a
description and a small table of its figures, and no script: it shows with no network.

Rendering only: every figure comes from an :class:`~cpts_geo.analysis.timeline.Evolution`.
Files are drawn with :class:`matplotlib.figure.Figure` on the Agg canvas inside
``matplotlib.rc_context(figures.RC)``, as the maps of :mod:`~cpts_geo.atlas.figures`: the same
inputs give the same SVG bytes.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from ..outputs.fmt import NBSP, fmt_int, fmt_pct
from ..registry.stages import COLOURS, LABELS, STAGES

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from ..analysis.timeline import Evolution

__all__ = ["LINES", "TARGET_COLOUR", "evolution_figure", "evolution_panel", "evolution_svg",
           "write_evolution_charts"]

#: The lines of the chart, most inclusive first: threshold → (French label, colour, dash).
LINES: dict[str, tuple[str, str, str]] = {
    "tous_stades": ("Tous stades confondus", "#0072B2", "solid"),
    "jusqu_projet_valide": ("Jusqu'au projet de santé validé", "#B35806", "dashed"),
    "fonctionnement": ("En fonctionnement (ACI signé)", "#1B7837", "dashdot"),
}
#: The 100 % target line.
TARGET_COLOUR = "#444444"
_SVG_DASH = {"solid": "", "dashed": "7 4", "dashdot": "9 3 2 3"}
_MONTHS = ("janv.", "févr.", "mars", "avr.", "mai", "juin", "juil.", "août", "sept.", "oct.",
           "nov.", "déc.")
_TEXT = "#1a1a1a"
_MUTED = "#5a5a5a"


def _month_label(date: Any, *, year: bool = True) -> str:
    return f"{_MONTHS[date.month - 1]} {date.year}" if year else _MONTHS[date.month - 1]


def _ticks(dates: Sequence[Any]) -> list[tuple[int, str]]:
    """Positions and labels of the x ticks: each January (a year), or each quarter if short."""
    n = len(dates)
    if n <= 24:
        step = 1 if n <= 6 else 3
        return [(i, _month_label(d)) for i, d in enumerate(dates) if i % step == 0]
    years = [(i, str(d.year)) for i, d in enumerate(dates) if d.month == 1]
    every = max(1, round(len(years) / 10))
    return years[::every]


def _period(frame: pd.DataFrame) -> str:
    first, last = frame["date"].iloc[0], frame["date"].iloc[-1]
    return f"{first:%m/%Y} – {last:%m/%Y}"


# --------------------------------------------------------------------------------------------
# files (matplotlib)


def evolution_figure(frame: pd.DataFrame, title: str, source: str = "") -> Figure:
    """The chart of one evolution table (one group's months): coverage rates and CPTS.

    Parameters
    ----------
    frame
        The rows of one group of :attr:`~cpts_geo.analysis.timeline.Evolution.tables`, in
        month order.
    title
        The chart's title (French).
    source
        The sources line at the bottom.

    Returns
    -------
    matplotlib.figure.Figure
        On the Agg canvas; draw or save it inside ``matplotlib.rc_context(figures.RC)``.

    Examples
    --------
    >>> from cpts_geo.analysis.timeline import evolution
    >>> from cpts_geo.outputs.fmt import NBSP
    >>> from cpts_geo.registry import Registry
    >>> dated = Registry(reg.claims.assign(date_aci=pd.Timestamp("2021-06-15"),
    ...                                    stade="fonctionnement"), "daté.csv")
    >>> frame = evolution(dated, ref, start="2021-01", end="2021-12").tables["france"]
    >>> fig = evolution_figure(frame, "Évolution des CPTS — PACA")
    >>> [line.get_label().replace(NBSP, " ") for line in fig.axes[0].get_lines()]
    ['Objectif : 100 % de la population', 'Tous stades confondus',
     "Jusqu'au projet de santé validé", 'En fonctionnement (ACI signé)']
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.ticker import FuncFormatter

    fig = Figure(figsize=(11.0, 7.0), dpi=150, facecolor="white")
    FigureCanvasAgg(fig)
    grid = fig.add_gridspec(2, 1, height_ratios=[2.2, 1], left=0.08, right=0.65, top=0.86,
                            bottom=0.12, hspace=0.28)
    rates, counts = fig.add_subplot(grid[0]), fig.add_subplot(grid[1])
    x = list(range(len(frame)))
    dates = list(frame["date"])
    rates.axhline(100, color=TARGET_COLOUR, linewidth=1.3, linestyle=(0, (5, 3)), zorder=1,
                  label=f"Objectif : 100{NBSP}% de la population", gid="objectif")
    rates.text(0, 101.5, f"Objectif : 100{NBSP}%", fontsize=8.5, color=TARGET_COLOUR,
               va="bottom", ha="left")
    for key, (label, colour, dash) in LINES.items():
        values = frame[f"taux_{key}"].to_numpy(dtype=float)
        rates.plot(x, values, color=colour, linestyle=dash, linewidth=2.2, label=label,
                   zorder=3, gid=f"courbe-{key}")
        if len(values):
            rates.annotate(fmt_pct(values[-1]), (x[-1], values[-1]), xytext=(6, 0),
                           textcoords="offset points", va="center", fontsize=8.5,
                           color=colour, annotation_clip=False)
    rates.set_ylim(0, 105)
    rates.set_yticks([0, 25, 50, 75, 100])
    rates.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:.0f}{NBSP}%"))
    rates.set_ylabel("Part de la population couverte", color=_TEXT)
    rates.grid(axis="y", color="#dddddd", linewidth=0.6)
    rates.legend(loc="upper left", bbox_to_anchor=(1.1, 1.0), frameon=False, fontsize=9,
                 title="Population couverte", title_fontsize=10, alignment="left")
    stacks = [frame[f"n_cpts_{s}"].to_numpy(dtype=float) for s in STAGES]
    shown = [i for i, s in enumerate(stacks) if s.any()]
    if shown:
        counts.stackplot(x, *[stacks[i] for i in shown],
                         colors=[COLOURS[STAGES[i]] for i in shown],
                         labels=[LABELS[STAGES[i]] for i in shown], alpha=0.95, linewidth=0)
    counts.set_ylabel("Nombre de CPTS", color=_TEXT)
    counts.yaxis.set_major_formatter(FuncFormatter(lambda v, _: fmt_int(v)))
    counts.grid(axis="y", color="#dddddd", linewidth=0.6)
    counts.legend(loc="upper left", bbox_to_anchor=(1.1, 1.0), frameon=False, fontsize=9,
                  title="CPTS par stade", title_fontsize=10, alignment="left")
    ticks = _ticks(dates)
    for ax in (rates, counts):
        ax.set_xlim(-0.5, max(len(x) - 0.5, 0.5))
        ax.set_xticks([t for t, _ in ticks], [label for _, label in ticks], fontsize=8.5)
        for side in ("top", "right"):
            ax.spines[side].set_visible(False)
    fig.text(0.08, 0.935, title, fontsize=15, fontweight="bold", color=_TEXT, va="bottom",
             gid="titre")
    if len(frame):
        fig.text(0.08, 0.895, f"Fin de chaque mois, {_period(frame)} · objectif : 100{NBSP}% "
                 "de la population dans une CPTS", fontsize=10.5, color=_MUTED, va="bottom",
                 gid="sous-titre")
    if source:
        fig.text(0.08, 0.025, source, fontsize=7.5, color=_MUTED, va="bottom", gid="sources")
    return fig


def write_evolution_charts(evolution: Evolution, directory: Path, *, png: bool = True,
                           svg: bool = True, name: str = "evolution") -> list[Path]:
    """Write the chart of an evolution's perimeter: ``evolution.png`` and/or ``evolution.svg``.

    Examples
    --------
    >>> from cpts_geo.analysis.timeline import evolution
    >>> from cpts_geo.registry import Registry
    >>> dated = Registry(reg.claims.assign(date_aci=pd.Timestamp("2021-06-15"),
    ...                                    stade="fonctionnement"), "daté.csv")
    >>> paths = write_evolution_charts(evolution(dated, ref, start="2021-01", end="2021-12"),
    ...                                tmp)
    >>> [p.name for p in paths]
    ['evolution.png', 'evolution.svg']
    >>> paths[1].read_bytes() == write_evolution_charts(
    ...     evolution(dated, ref, start="2021-01", end="2021-12"), tmp / "b", png=False)[0
    ...     ].read_bytes()
    True
    """
    import matplotlib

    from ..atomic import atomic_write
    from .figures import RC

    formats = [fmt for fmt, wanted in (("png", png), ("svg", svg)) if wanted]
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    frame = evolution.tables["france"]
    title = f"Évolution des CPTS — {evolution.label}"
    registry = Path(str(evolution.source)).name or str(evolution.source)
    source = (f"Sources : registre CPTS ({registry}), INSEE populations légales. Réalisation : "
              "cpts_geo.")
    written = []
    with matplotlib.rc_context(RC):
        fig = evolution_figure(frame, title, source)
        try:
            for fmt in formats:
                path = directory / f"{name}.{fmt}"
                metadata: dict[str, Any] = {"Title": title}
                if fmt == "svg":
                    metadata["Date"] = None
                with atomic_write(path) as fh:
                    fig.savefig(fh, format=fmt, dpi=150, metadata=metadata, facecolor="white")
                written.append(path)
        finally:
            fig.clear()
    return written


# --------------------------------------------------------------------------------------------
# the pages' chart (plain SVG)

_W, _H = 360, 210
_LEFT, _RIGHT, _TOP, _BOTTOM = 40, 12, 14, 30


def _e(text: object) -> str:
    return html.escape(str(text), quote=True)


def evolution_svg(frame: pd.DataFrame, place: str, *, chart_id: str = "atlas-evolution"
                  ) -> str:
    """The evolution chart of a page's panel: inline SVG, its key and a table of its figures.

    Parameters
    ----------
    frame
        One group's rows of :attr:`~cpts_geo.analysis.timeline.Evolution.tables`, in month
        order.
    place
        What the figures are about, for the title (``Provence-Alpes-Côte d'Azur``).
    chart_id
        The ``id`` of the figure (its parts take it as a prefix).

    Returns
    -------
    str
        A ``<figure>``: the SVG (``role="img"``, ``<title>`` and ``<desc>`` saying the first
        and last figures), one polyline per threshold with ``data-seuil`` and one point per
        month, the 100 % line, a key, and in ``<details>`` a table of the figures at the end of
        each year and of the last month. Every text is escaped.

    Examples
    --------
    >>> from cpts_geo.analysis.timeline import evolution
    >>> from cpts_geo.registry import Registry
    >>> dated = Registry(reg.claims.assign(date_aci=pd.Timestamp("2021-06-15"),
    ...                                    stade="fonctionnement"), "daté.csv")
    >>> frame = evolution(dated, ref, start="2021-01", end="2021-12").tables["france"]
    >>> svg = evolution_svg(frame, "Provence-Alpes-Côte d'Azur")
    >>> svg.count("<polyline"), 'data-seuil="fonctionnement"' in svg, "Objectif 100" in svg
    (3, True, True)
    >>> "Provence-Alpes-Côte d&#x27;Azur" in svg
    True
    """
    n = len(frame)
    width = _W - _LEFT - _RIGHT
    height = _H - _TOP - _BOTTOM

    def px(i: int) -> float:
        return _LEFT + (width * i / (n - 1) if n > 1 else width / 2)

    def py(rate: float) -> float:
        return _TOP + height * (1 - max(0.0, min(105.0, rate)) / 105)

    dates = list(frame["date"])
    title = f"Évolution de la couverture de la population — {place}"
    parts = [f'<svg id="{_e(chart_id)}-svg" class="atlas-evolution-svg" viewBox="0 0 {_W} {_H}"'
             f' width="100%" role="img" aria-labelledby="{_e(chart_id)}-title '
             f'{_e(chart_id)}-desc" data-mois="{n}" xmlns="http://www.w3.org/2000/svg">',
             f'<title id="{_e(chart_id)}-title">{_e(title)}</title>',
             f'<desc id="{_e(chart_id)}-desc">{_e(_describe(frame))}</desc>']
    for rate in (0, 25, 50, 75):
        y = py(rate)
        parts.append(f'<line x1="{_LEFT}" x2="{_W - _RIGHT}" y1="{y:.1f}" y2="{y:.1f}" '
                     'stroke="#dddddd" stroke-width="0.6"/>'
                     f'<text x="{_LEFT - 4}" y="{y + 3:.1f}" text-anchor="end" font-size="9" '
                     f'fill="{_MUTED}">{rate}{NBSP}%</text>')
    y100 = py(100)
    parts.append(f'<line class="atlas-evolution-objectif" x1="{_LEFT}" x2="{_W - _RIGHT}" '
                 f'y1="{y100:.1f}" y2="{y100:.1f}" stroke="{TARGET_COLOUR}" stroke-width="1.2" '
                 'stroke-dasharray="3 3"/>'
                 f'<text x="{_LEFT - 4}" y="{y100 + 3:.1f}" text-anchor="end" font-size="9" '
                 f'fill="{_MUTED}">100{NBSP}%</text>'
                 f'<text x="{_W - _RIGHT}" y="{y100 - 3:.1f}" text-anchor="end" font-size="9" '
                 f'fill="{TARGET_COLOUR}">Objectif 100{NBSP}%</text>')
    base = _TOP + height
    parts.append(f'<line x1="{_LEFT}" x2="{_W - _RIGHT}" y1="{base}" y2="{base}" '
                 'stroke="#999999" stroke-width="0.8"/>')
    for i, label in _ticks(dates):
        x = px(i)
        parts.append(f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{base}" y2="{base + 3}" '
                     'stroke="#999999" stroke-width="0.8"/>'
                     f'<text x="{x:.1f}" y="{base + 13}" text-anchor="middle" font-size="9" '
                     f'fill="{_MUTED}">{_e(label)}</text>')
    for key, (label, colour, dash) in LINES.items():
        values = frame[f"taux_{key}"].to_numpy(dtype=float)
        points = " ".join(f"{px(i):.1f},{py(v):.1f}" for i, v in enumerate(values))
        dasharray = f' stroke-dasharray="{_SVG_DASH[dash]}"' if _SVG_DASH[dash] else ""
        parts.append(f'<polyline class="atlas-evolution-line" data-seuil="{_e(key)}" '
                     f'fill="none" stroke="{colour}" stroke-width="2"{dasharray} '
                     f'points="{points}"><title>{_e(label)}</title></polyline>')
    parts.append("</svg>")
    key_items = "".join(
        f'<li><svg width="26" height="8" aria-hidden="true" focusable="false"><line x1="0" '
        f'x2="26" y1="4" y2="4" stroke="{colour}" stroke-width="2.5"'
        + (f' stroke-dasharray="{_SVG_DASH[dash]}"' if _SVG_DASH[dash] else "")
        + f'/></svg> {_e(label)}</li>' for label, colour, dash in LINES.values())
    key_items += (f'<li><svg width="26" height="8" aria-hidden="true" focusable="false"><line '
                  f'x1="0" x2="26" y1="4" y2="4" stroke="{TARGET_COLOUR}" stroke-width="1.2" '
                  'stroke-dasharray="3 3"/></svg> Objectif : 100 % de la population</li>')
    return (f'<figure class="atlas-evolution" id="{_e(chart_id)}">'
            + "".join(parts)
            + f'<figcaption><ul class="atlas-evolution-key">{key_items}</ul>'
            f'<p class="atlas-help">Fin de chaque mois, {_e(_period(frame)) if n else ""}.</p>'
            "</figcaption>"
            + _figures_table(frame, chart_id)
            + "</figure>")


def _describe(frame: pd.DataFrame) -> str:
    if not len(frame):
        return "Aucun mois."
    first, last = frame.iloc[0], frame.iloc[-1]
    parts = [f"{LINES[k][0].lower()} de {fmt_pct(first[f'taux_{k}'])} à "
             f"{fmt_pct(last[f'taux_{k}'])}" for k in LINES]
    return (f"Part de la population couverte, de {_month_label(first['date'])} à "
            f"{_month_label(last['date'])} : " + " ; ".join(parts)
            + f". CPTS : de {fmt_int(first['n_cpts'])} à {fmt_int(last['n_cpts'])}. "
            "Objectif : 100 % de la population.")


def _figures_table(frame: pd.DataFrame, chart_id: str) -> str:
    """The figures at each December and at the last month, as an accessible table."""
    if not len(frame):
        return ""
    keep = np.array([d.month == 12 for d in frame["date"]], dtype=bool)
    keep[-1] = True
    rows = "".join(
        f'<tr><th scope="row">{_e(f"{r.date:%m/%Y}")}</th>'
        f'<td class="num">{_e(fmt_int(r.n_cpts))}</td>'
        f'<td class="num">{_e(fmt_pct(r.taux_fonctionnement))}</td>'
        f'<td class="num">{_e(fmt_pct(r.taux_jusqu_projet_valide))}</td>'
        f'<td class="num">{_e(fmt_pct(r.taux_tous_stades))}</td></tr>'
        for r in frame[keep].itertuples(index=False))
    return (f'<details class="atlas-tables" id="{_e(chart_id)}-donnees"><summary>Chiffres du '
            'graphique</summary><table class="atlas-table"><caption>Population couverte, fin '
            'de mois</caption><thead><tr><th scope="col">Mois</th>'
            '<th scope="col" class="num">CPTS</th>'
            '<th scope="col" class="num">ACI signé</th>'
            '<th scope="col" class="num"><abbr title="Jusqu\'au projet de santé validé">'
            "≤ projet</abbr></th>"
            '<th scope="col" class="num">Tous stades</th></tr></thead><tbody>'
            + rows + "</tbody></table></details>")


def evolution_panel(evolution: Evolution | None, region: str | None) -> str:
    """The panel section "Évolution" of a page: the chart of its région (or of the perimeter).

    Empty without an evolution, or when the région has no figures in it.

    Examples
    --------
    >>> from cpts_geo.analysis.timeline import evolution
    >>> from cpts_geo.registry import Registry
    >>> dated = Registry(reg.claims.assign(date_aci=pd.Timestamp("2021-06-15"),
    ...                                    stade="fonctionnement"), "daté.csv")
    >>> e = evolution(dated, ref, start="2021-01", end="2021-12")
    >>> '<h2 id="atlas-evolution-heading">Évolution</h2>' in evolution_panel(e, "93")
    True
    >>> evolution_panel(e, "11"), evolution_panel(None, "93")  # no figures for Île-de-France
    ('', '')
    """
    if evolution is None:
        return ""
    if region is None:
        frame, place = evolution.tables["france"], evolution.label
    else:
        table = evolution.tables["region"]
        frame = table[table["code"].astype(str) == str(region)]
        place = str(frame["nom"].iloc[0]) if len(frame) else ""
    if not len(frame):
        return ""
    notes = []
    if evolution.undated:
        n = len(evolution.undated)
        verb = "n'est comptée" if n == 1 else "ne sont comptées"
        notes.append(f"{fmt_int(n)} CPTS du registre sans aucune date {verb} à aucun mois du "
                     "graphique.")
    if evolution.beyond:
        n = len(evolution.beyond)
        notes.append(f"{fmt_int(n)} CPTS à un stade que " + (
            "ses dates n'atteignent pas est comptée à sa dernière étape datée." if n == 1 else
            "leurs dates n'atteignent pas sont comptées à leur dernière étape datée."))
    note = (f'<p class="atlas-help" id="atlas-evolution-note">{_e(" ".join(notes))}</p>'
            if notes else "")
    return ('<section class="atlas-evolution-section" aria-labelledby="atlas-evolution-heading">'
            '<h2 id="atlas-evolution-heading">Évolution</h2>'
            + evolution_svg(frame.reset_index(drop=True), place) + note + "</section>")
