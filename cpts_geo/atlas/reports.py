"""One-page PDF report of each région, for the files and meetings of ARS and Assurance Maladie.

An A4 landscape page: the région's map (drawn by :func:`~cpts_geo.atlas.figures.draw_region_map`,
the same as the PNG/SVG figures) with its legend, and beside it the key figures: the population
covered at the three stage thresholds against the 100 % target, the CPTS by stage, the CPTS by
ACI size tier with their funding ceilings, the most populated zones blanches and the conflicts.
Labels are in French, numbers formatted the French way (:mod:`cpts_geo.outputs.fmt`).

The page is a matplotlib figure saved with the PDF backend: fonts embedded as TrueType (text can
be searched and copied), no creation date in the metadata, so that the same inputs give the
same bytes. Each file is written to a temporary file and moved into place.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..outputs.fmt import NBSP, fmt_eur, fmt_int, fmt_pct
from ..registry.stages import COLOURS, LABELS, STAGES, TIER_CEILINGS, TIER_LABELS
from ..version import __version__
from .figures import RC, draw_region_map, legend_handles, region_analysis, region_codes, sources

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from ..analysis import Analysis

__all__ = ["PAGE_SIZE", "region_report", "write_reports"]

#: A4 landscape, in inches (297 × 210 mm).
PAGE_SIZE: tuple[float, float] = (297 / 25.4, 210 / 25.4)

_MAP_BOX = (0.025, 0.19, 0.5, 0.705)
_RIGHT = (0.565, 0.975)  # left and right edges of the column of figures
_TEXT = "#1a1a1a"
_MUTED = "#5a5a5a"
_RULE = "#9a9a9a"
_BAR = "#1b7837"
_TARGET = "#d7191c"
_ROWS = 4  # rows of the zones blanches and conflicts tables

_THRESHOLDS = (
    ("fonctionnement", "ACI signé"),
    ("jusqu_projet_valide", "Jusqu'au projet validé"),
    ("tous_stades", "Tous stades"),
)


def _plural(n: int, one: str, many: str) -> str:
    return f"{fmt_int(n)} {one if n <= 1 else many}"


def _short(text: str, size: int) -> str:
    return text if len(text) <= size else text[: size - 1].rstrip() + "…"


def _names(communes: Sequence[str]) -> str:
    names = [str(c) for c in communes]
    if not names:
        return ""
    return names[0] if len(names) == 1 else f"{names[0]} et {len(names) - 1} autres"


def _more(n: int, one: str, many: str, table: str) -> str | None:
    """The line saying how many rows a table of the report left out, or ``None``."""
    rest = n - _ROWS
    if rest <= 0:
        return None
    return f"… et {_plural(rest, 'autre ' + one, 'autres ' + many)} (voir {table})"


class _Column:
    """Text laid out from the top of the right-hand column down, in figure coordinates."""

    def __init__(self, fig: Figure, top: float) -> None:
        self.fig = fig
        self.y = top
        self.height = float(fig.get_size_inches()[1]) * 72  # points

    def down(self, points: float) -> None:
        self.y -= points / self.height

    def heading(self, text: str) -> None:
        self.fig.text(_RIGHT[0], self.y, text, fontsize=9.5, fontweight="bold", color=_TEXT,
                      va="top")
        self.down(13)

    def line(self, text: str, *, size: float = 8, colour: str = _TEXT) -> None:
        self.fig.text(_RIGHT[0], self.y, text, fontsize=size, color=colour, va="top")
        self.down(size * 1.4)

    def rule(self, weight: float = 0.5) -> None:
        from matplotlib.lines import Line2D

        self.fig.add_artist(Line2D(list(_RIGHT), [self.y, self.y], linewidth=weight,
                                   color=_RULE, transform=self.fig.transFigure))

    def table(self, headers: Sequence[str], rows: Sequence[Sequence[str]],
              widths: Sequence[float], *, swatches: Sequence[str | None] = (),
              total: Sequence[str] | None = None, text_columns: int = 1,
              note: str | None = None) -> None:
        """Columns of ``widths`` (fractions of the column): text left-aligned, numbers right.

        The first ``text_columns`` columns hold text, the others numbers.
        """
        from matplotlib.patches import Rectangle

        left, right = _RIGHT
        span = right - left
        edges = [left]
        for w in widths:
            edges.append(edges[-1] + w * span)
        size = 7.5

        def put(cells: Sequence[str], *, bold: bool = False, colour: str = _TEXT) -> None:
            for i, cell in enumerate(cells):
                x, ha = (edges[i], "left") if i < text_columns else (edges[i + 1], "right")
                self.fig.text(x, self.y, cell, fontsize=size, color=colour, va="top", ha=ha,
                              fontweight="bold" if bold else "normal")
            self.down(size * 1.4)

        put(headers, bold=True, colour=_MUTED)
        self.down(1)
        self.rule()
        self.down(3)
        for i, row in enumerate(rows):
            swatch = swatches[i] if i < len(swatches) else None
            if swatch:
                w = size / (float(self.fig.get_size_inches()[0]) * 72)
                h = size / self.height
                self.fig.add_artist(Rectangle((left, self.y - h * 0.95), w, h * 0.9,
                                              facecolor=swatch, edgecolor="none",
                                              transform=self.fig.transFigure))
                row = ["     " + row[0], *row[1:]]
            put(row)
        if total is not None:
            self.rule()
            self.down(3)
            put(total, bold=True)
        if note:
            self.fig.text(left, self.y, note, fontsize=6.5, color=_MUTED, va="top")
            self.down(9)
        self.down(6)


def _coverage_bars(fig: Figure, col: _Column, row: Any) -> None:
    """Three bars, the population covered at each threshold, against the 100 % target."""
    height = 48 / col.height
    ax = fig.add_axes((_RIGHT[0] + 0.13, col.y - height, _RIGHT[1] - _RIGHT[0] - 0.19, height))
    labels = [label for _, label in _THRESHOLDS]
    values = [float(row[f"taux_{key}"]) for key, _ in _THRESHOLDS]
    ys = list(range(len(values)))[::-1]
    ax.barh(ys, [100] * len(values), height=0.62, color="#e9ecef", zorder=1)
    ax.barh(ys, values, height=0.62, color=_BAR, zorder=2)
    ax.axvline(100, color=_TARGET, linewidth=1.2, linestyle=(0, (3, 2)), zorder=3)
    ax.set_xlim(0, 100)
    ax.set_ylim(-0.6, len(values) - 0.4)
    ax.set_yticks(ys, labels, fontsize=8)
    ax.set_xticks([])
    ax.tick_params(axis="y", length=0, pad=4)
    for spine in ax.spines.values():
        spine.set_visible(False)
    for y, value in zip(ys, values, strict=True):
        ax.text(101.5, y, fmt_pct(value), va="center", ha="left", fontsize=8, color=_TEXT,
                clip_on=False)
    ax.text(100, -0.65, f"objectif 100{NBSP}%", ha="center", va="top", fontsize=7, color=_TARGET,
            clip_on=False)
    col.down(48 + 16)


def _build(sub: Analysis, region: str) -> Figure:
    from matplotlib.backends.backend_pdf import FigureCanvasPdf
    from matplotlib.figure import Figure

    reference = sub.reference
    row = sub.couverture["region"].loc[region]
    name = reference.region_name(region)
    table = sub.territories.table

    fig = Figure(figsize=PAGE_SIZE, facecolor="white")
    FigureCanvasPdf(fig)
    fig.text(_MAP_BOX[0], 0.955, f"{name} ({region}) — les CPTS de la région", fontsize=17,
             fontweight="bold", color=_TEXT, va="bottom")
    fig.text(_MAP_BOX[0], 0.918,
             f"Couverture : {fmt_pct(float(row['taux_tous_stades']))} de la population "
             f"(tous stades), pour un objectif de 100{NBSP}%", fontsize=11.5, color=_TEXT,
             va="bottom")

    drawn = draw_region_map(fig, _MAP_BOX, sub, region)
    fig.legend(handles=legend_handles(drawn), loc="upper left",
               bbox_to_anchor=(_MAP_BOX[0], _MAP_BOX[1] - 0.012), ncols=2, frameon=False,
               fontsize=7, handlelength=2.0, handleheight=1.1, columnspacing=1.5,
               labelspacing=0.45, borderaxespad=0)

    col = _Column(fig, 0.895)
    total = int(row["population_totale"])
    covered = int(row["population_couverte_tous_stades"])
    col.heading("Population couverte")
    col.line(f"Population de la région : {fmt_int(total)} hab.")
    col.line(f"Population couverte (tous stades) : {fmt_int(covered)} hab.")
    col.down(4)
    _coverage_bars(fig, col, row)

    col.heading("CPTS par stade")
    stages = table["stade"].value_counts()
    col.table(["Stade", "CPTS", "Population"],
              [[LABELS[s], fmt_int(int(stages.get(s, 0))),
                fmt_int(int(table.loc[table["stade"] == s, "population_ponderee"].sum()))]
               for s in STAGES],
              [0.56, 0.12, 0.32], swatches=[COLOURS[s] for s in STAGES],
              total=["Total", fmt_int(len(table)), ""])

    col.heading("CPTS par taille (ACI)")
    tiers = table["taille"].value_counts()
    col.table(["Taille", "CPTS", "Plafond annuel cumulé"],
              [[TIER_LABELS[t], fmt_int(int(tiers.get(t, 0))),
                fmt_eur(int(tiers.get(t, 0)) * TIER_CEILINGS[t])] for t in sorted(TIER_LABELS)],
              [0.56, 0.12, 0.32],
              total=["Total", fmt_int(len(table)), fmt_eur(int(table["plafond_aci"].sum()))],
              note="Plafond : financement annuel maximal de l'ACI (parts fixe et variable), "
                   "une fois l'ACI signé.")

    zb = sub.zones_blanches
    gap_pop = int(zb["population"].sum()) if len(zb) else 0
    if len(zb):
        col.heading(f"Zones blanches : {_plural(len(zb), 'zone', 'zones')}, "
                    f"{fmt_int(gap_pop)} hab.")
        top = zb.sort_values(["population", "zone_blanche"], ascending=[False, True],
                             kind="stable").head(_ROWS)
        col.table(["Zone blanche", "Communes", "Population"],
                  [[str(z), _short(_names(list(c)), 40), fmt_int(int(p))]
                   for z, c, p in zip(top["zone_blanche"], top["communes"], top["population"],
                                      strict=True)],
                  [0.22, 0.58, 0.20], text_columns=2,
                  note=_more(len(zb), "zone", "zones", "zones_blanches.csv"))
    else:
        col.heading("Zones blanches : aucune")
        col.down(6)

    conf = sub.conflits
    if len(conf):
        units = sub.conflict_units
        col.heading(f"Conflits : {_plural(len(units), 'unité', 'unités')}, "
                    f"{fmt_int(int(units['population'].sum()))} hab.")
        top = conf.sort_values(["population", "cpts_a", "cpts_b"],
                               ascending=[False, True, True], kind="stable").head(_ROWS)
        col.table(["CPTS en conflit", "Unités", "Population"],
                  [[_short(f"{a} / {b}", 52), fmt_int(int(n)), fmt_int(int(p))]
                   for a, b, n, p in zip(top["nom_a"], top["nom_b"], top["n_unites"],
                                         top["population"], strict=True)],
                  [0.64, 0.14, 0.22],
                  note=_more(len(conf), "paire", "paires", "conflits.csv"))
    else:
        col.heading("Conflits : aucun")

    fig.text(_MAP_BOX[0], 0.022, sources(sub), fontsize=6.5, color=_MUTED, va="bottom")
    return fig


def region_report(analysis: Analysis, region: str) -> Figure:
    """The one-page report of ``region`` as a matplotlib figure (A4 landscape, PDF canvas).

    Parameters
    ----------
    analysis
        The national analysis, or the analysis of ``region`` itself, with polygons.
    region
        The région code, e.g. ``"93"``.

    Returns
    -------
    matplotlib.figure.Figure
        :data:`PAGE_SIZE` inches; :func:`write_reports` saves it.

    Raises
    ------
    CptsGeoError
        When ``region`` is not a région code, or lies outside a regional analysis.

    Examples
    --------
    >>> fig = region_report(analysis, "93")  # analyse(reg, ref, region="93")
    >>> fig.texts[0].get_text()
    "Provence-Alpes-Côte d'Azur (93) — les CPTS de la région"
    >>> [round(float(x) * 25.4) for x in fig.get_size_inches()]
    [297, 210]
    """
    import matplotlib

    with matplotlib.rc_context({**RC, "pdf.fonttype": 42}):
        (code,) = region_codes(analysis, [region])
        return _build(region_analysis(analysis, code), code)


def write_reports(analysis: Analysis, directory: Path, *, regions: list[str] | None = None
                  ) -> list[Path]:
    """Write the one-page PDF report of each région: ``<région>.pdf``.

    Parameters
    ----------
    analysis
        The national analysis (:func:`cpts_geo.analysis.analyse` without ``region``), with
        polygons; an analysis of one région reports on that région only.
    directory
        Where to write (created if missing).
    regions
        Région codes; ``None`` for every région with at least one CPTS.

    Returns
    -------
    list of Path
        The files written, by région.

    Raises
    ------
    CptsGeoError
        When a code is not a région code, or lies outside a regional analysis.

    Examples
    --------
    >>> [p.name for p in write_reports(analysis, tmp)]  # analyse(reg, ref, region="93")
    ['93.pdf']
    >>> (tmp / "93.pdf").read_bytes()[:5]
    b'%PDF-'
    """
    import matplotlib

    from ..atomic import atomic_write

    codes = region_codes(analysis, regions)
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    with matplotlib.rc_context({**RC, "pdf.fonttype": 42}):
        for code in codes:
            sub = region_analysis(analysis, code)
            fig = _build(sub, code)
            rate = fmt_pct(float(sub.couverture["region"].loc[code, "taux_tous_stades"]))
            name = sub.reference.region_name(code)
            metadata = {
                "Title": f"{name} ({code}) — CPTS : couverture {rate} de la population",
                "Subject": "Couverture de la population par les CPTS, conflits et zones "
                           "blanches",
                "Keywords": "CPTS; couverture; zones blanches; ACI",
                "Creator": f"cpts_geo {__version__}",
                "CreationDate": None,
            }
            path = directory / f"{code}.pdf"
            try:
                with atomic_write(path) as fh:
                    fig.savefig(fh, format="pdf", metadata=metadata, facecolor="white")
            finally:
                fig.clear()
            written.append(path)
    return written
