"""Static maps of each région for reports (PNG, SVG), with the colours and legend of the atlas.

A figure shows the territories of the CPTS touching a région filled by stage
(:data:`cpts_geo.registry.stages.COLOURS`, :data:`~cpts_geo.registry.stages.LABELS`), units in
conflict outlined and cross-hatched in red, communes shared below commune level outlined in dashes,
zones blanches in white with a grey hatch, département boundaries, a scale bar in km, the région's
coverage in the title and the sources. It is drawn in the zone's projected CRS (metres), never in
degrees.

Rendering only: everything shown comes from an :class:`~cpts_geo.analysis.Analysis`. Figures
are built with :class:`matplotlib.figure.Figure` on the Agg canvas, never through
:mod:`matplotlib.pyplot`, and settings are applied in a :func:`matplotlib.rc_context`, so the
caller's global matplotlib state is left alone. Output is deterministic: two runs on the same
inputs give byte-identical SVG (``svg.hashsalt`` fixed, no date in the metadata). Each file is
written to a temporary file beside it, then moved into place with :func:`os.replace`.
"""

from __future__ import annotations

import math
import re
import textwrap
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import shapely

from ..errors import CptsGeoError
from ..outputs.fmt import fmt_int, fmt_pct
from ..outputs.layer_styles import CONFLICT_COLOUR, GAP_COLOUR
from ..registry.stages import COLOURS, LABELS, STAGES

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure
    from matplotlib.path import Path as MplPath

    from ..analysis import Analysis
    from ..reference import Reference

__all__ = ["DPI", "FIGSIZE", "RC", "RegionMap", "draw_region_map", "legend_handles",
           "region_analysis", "region_codes", "region_figure", "sources", "write_figures"]

#: Figure size in inches (width, height); with :data:`DPI` a PNG is 1800 × 1275 pixels.
FIGSIZE: tuple[float, float] = (12.0, 8.5)
#: Resolution of the PNG files, in dots per inch.
DPI: int = 150

#: Position of the map in the figure (left, bottom, width, height, in figure fraction).
_MAP_BOX = (0.015, 0.075, 0.655, 0.815)
_CONFLICT = CONFLICT_COLOUR  # the same colours as the GeoPackage styles
_GAP_HATCH = GAP_COLOUR
_OUTSIDE = "#e4e4e4"
_SEA = "#f3f6f9"
_DEPT_EDGE = "#3c3c3c"
_REGION_EDGE = "#141414"
_SHARE_EDGE = "#202020"
_TEXT = "#1a1a1a"
_MUTED = "#5a5a5a"

#: The matplotlib settings every figure and report is drawn with (fonts, hatches, ids).
RC: dict[Any, Any] = {
    "font.family": "DejaVu Sans",  # shipped with matplotlib: same glyphs on every machine
    "svg.fonttype": "none",  # text stays text in SVG: searchable and editable in reports
    "svg.hashsalt": "cpts_geo",  # fixed ids for clip paths and hatches: deterministic SVG
    "hatch.linewidth": 0.7,
    "path.simplify": True,
    "text.parse_math": False,  # names from inputs may hold "$": text, never TeX
}


# --------------------------------------------------------------------------------------------
# French formatting


def _plural(n: int, one: str, many: str) -> str:
    return f"{n} {one if n <= 1 else many}"


# --------------------------------------------------------------------------------------------
# geometry → matplotlib


def _mpl_path(geom: shapely.Geometry | None) -> MplPath | None:
    """A compound matplotlib path of the polygons in ``geom`` (holes kept), or ``None``."""
    from matplotlib.path import Path as MplPath

    if geom is None or shapely.is_missing(geom) or shapely.is_empty(geom):
        return None
    verts: list[np.ndarray] = []
    codes: list[np.ndarray] = []
    oriented = shapely.orient_polygons(geom)  # exterior CCW, holes CW: nonzero fill keeps holes
    for part in shapely.get_parts(oriented):
        if shapely.get_type_id(part) != 3 or shapely.is_empty(part):  # 3 = Polygon
            continue
        for ring in (part.exterior, *part.interiors):
            xy = shapely.get_coordinates(ring)
            if len(xy) < 4:
                continue
            c = np.full(len(xy), MplPath.LINETO, dtype=MplPath.code_type)
            c[0] = MplPath.MOVETO
            c[-1] = MplPath.CLOSEPOLY
            verts.append(xy)
            codes.append(c)
    if not verts:
        return None
    return MplPath(np.concatenate(verts), np.concatenate(codes))


def _add_geoms(ax: Axes, geoms: Sequence[Any], *, zorder: float, **style: Any) -> int:
    """Draw ``geoms`` as one patch collection with ``style``; returns how many were drawn."""
    from matplotlib.collections import PatchCollection
    from matplotlib.patches import PathPatch

    patches = [PathPatch(p) for p in map(_mpl_path, geoms) if p is not None]
    if patches:
        ax.add_collection(PatchCollection(patches, match_original=False, zorder=zorder,
                                          **style), autolim=False)
    return len(patches)


def _union_of(reference: Reference, zone: str, codes: Sequence[str]) -> shapely.Geometry | None:
    from ..analysis.topology import union_by_group

    codes = [c for c in codes if reference.units.at[c, "zone"] == zone]
    if not codes:
        return None
    unions = union_by_group(reference, zone, codes, ["_"] * len(codes))
    return unions.iloc[0] if len(unions) else None


def _parts_of(reference: Reference, zone: str, groups: dict[str, list[str]]
              ) -> list[shapely.Geometry]:
    """One union per group of unit codes (codes outside ``zone`` left out)."""
    from ..analysis.topology import union_by_group

    codes: list[str] = []
    keys: list[str] = []
    for key, members in groups.items():
        for c in members:
            if reference.units.at[c, "zone"] == zone:
                codes.append(c)
                keys.append(key)
    if not codes:
        return []
    return list(union_by_group(reference, zone, codes, keys))


def _small(geoms: Sequence[shapely.Geometry], width: float) -> list[shapely.Geometry]:
    """Those of ``geoms`` too small to see at the map's scale (under 1.2 % of its width)."""
    out: list[shapely.Geometry] = []
    for g in geoms:
        xmin, ymin, xmax, ymax = shapely.bounds(g)
        if max(xmax - xmin, ymax - ymin) < 0.012 * width:
            out.append(shapely.point_on_surface(g))
    return out


def _symbols(ax: Axes, points: Sequence[shapely.Geometry], *, colour: str, zorder: float) -> None:
    """A ringed circle on each point, for features too small to see."""
    if points:
        ax.plot([p.x for p in points], [p.y for p in points], linestyle="none", marker="o",
                markersize=9, markerfacecolor="white", markeredgecolor=colour,
                markeredgewidth=1.8, zorder=zorder)


# --------------------------------------------------------------------------------------------
# map furniture


def _nice_length(width_m: float) -> float:
    """A round scale-bar length (metres) of about a fifth of ``width_m``: 1, 2 or 5 × 10^k km."""
    target = max(width_m / 5.0, 1.0)
    exponent = math.floor(math.log10(target))
    for step in (5, 2, 1):
        length = step * 10.0**exponent
        if length <= target:
            return length
    return 10.0**exponent  # pragma: no cover - unreachable: step 1 always fits


def _km(metres: float) -> str:
    km = metres / 1000
    return (f"{km:g}" if km >= 1 else f"{km:.1f}").replace(".", ",")


def _scale_bar(ax: Axes, xlim: tuple[float, float], ylim: tuple[float, float]) -> None:
    """A two-segment black and white scale bar in km, bottom left of the map."""
    from matplotlib.patches import Rectangle

    width, height = xlim[1] - xlim[0], ylim[1] - ylim[0]
    length = _nice_length(width)
    x0 = xlim[0] + 0.035 * width
    y0 = ylim[0] + 0.035 * height
    bar_h = 0.009 * height
    ax.add_patch(Rectangle((x0 - 0.012 * width, y0 - 0.018 * height), length + 0.05 * width,
                           0.075 * height, facecolor="white", edgecolor="none", alpha=0.85,
                           zorder=9))
    half = length / 2
    for i, colour in enumerate(("#000000", "#ffffff")):
        ax.add_patch(Rectangle((x0 + i * half, y0), half, bar_h, facecolor=colour,
                               edgecolor="#000000", linewidth=0.8, zorder=10))
    for frac, label in ((0, "0"), (0.5, _km(half)), (1, f"{_km(length)} km")):
        ax.text(x0 + frac * length, y0 + bar_h + 0.008 * height, label, ha="center",
                va="bottom", fontsize=8, color=_TEXT, zorder=10)


def _north_arrow(ax: Axes) -> None:
    ax.annotate("N", xy=(0.965, 0.965), xytext=(0.965, 0.885), xycoords="axes fraction",
                textcoords="axes fraction", ha="center", va="top", fontsize=10,
                fontweight="bold", color=_TEXT, zorder=10,
                arrowprops={"arrowstyle": "-|>", "color": _TEXT, "linewidth": 1.2})


def _view(bounds: np.ndarray, box_w: float, box_h: float, margin: float = 0.04
          ) -> tuple[tuple[float, float], tuple[float, float]]:
    """Axis limits around ``bounds`` with ``margin``, fitted to the aspect of the map box."""
    xmin, ymin, xmax, ymax = (float(v) for v in bounds)
    dx, dy = max(xmax - xmin, 1.0), max(ymax - ymin, 1.0)
    cx, cy = (xmin + xmax) / 2, (ymin + ymax) / 2
    dx, dy = dx * (1 + 2 * margin), dy * (1 + 2 * margin)
    ratio = box_h / box_w
    if dy / dx < ratio:
        dy = dx * ratio
    else:
        dx = dy / ratio
    return (cx - dx / 2, cx + dx / 2), (cy - dy / 2, cy + dy / 2)


def _data_year(reference: Reference) -> str:
    years = sorted(re.findall(r"communes-(\d{4})\.csv$", p.name)[0]
                   for p in (reference.root / "population").glob("communes-*.csv")
                   if re.search(r"communes-\d{4}\.csv$", p.name))
    return years[-1] if years else ""


def sources(analysis: Analysis) -> str:
    """The sources line of a figure or report: the registry's file, IGN, INSEE and its year.

    Examples
    --------
    >>> sources(analysis)
    'Sources : registre CPTS (paca-2026-01.csv), IGN ADMIN EXPRESS, INSEE populations légales
     ...'
    """
    registry = Path(str(analysis.registry.source)).name or str(analysis.registry.source)
    year = _data_year(analysis.reference)
    insee = f"INSEE populations légales {year}" if year else "INSEE populations légales"
    return (f"Sources : registre CPTS ({registry}), IGN ADMIN EXPRESS, {insee}. "
            "Réalisation : cpts_geo.")


# --------------------------------------------------------------------------------------------
# the figure


def region_codes(analysis: Analysis, regions: list[str] | None) -> list[str]:
    """The région codes to draw: ``regions`` checked against the analysis, or all of its own.

    ``None`` gives the analysis's région, or for a national analysis every région where a CPTS
    claims a unit.

    Raises
    ------
    CptsGeoError
        When a code is not a région code, or lies outside a regional analysis.

    Examples
    --------
    >>> region_codes(national, None), region_codes(national, ["6", "93", "06"])
    (['93'], ['06', '93'])
    >>> region_codes(analysis, ["11"])  # analyse(reg, ref, region="93")
    Traceback (most recent call last):
    ...
    cpts_geo.errors.CptsGeoError: région '11' is outside this analysis, which covers région 93
    only; pass the national analysis (analyse(registry, reference)) to draw other régions
    """
    if regions is None:
        if analysis.region is not None:
            return [analysis.region]
        return sorted(set(analysis.members["region"]))
    out: list[str] = []
    for raw in regions:
        code = analysis.reference.region_code(raw)
        if analysis.region is not None and code != analysis.region:
            raise CptsGeoError(
                f"région {code!r} is outside this analysis, which covers région "
                f"{analysis.region} only; pass the national analysis (analyse(registry, "
                "reference)) to draw other régions")
        if code not in out:
            out.append(code)
    return out


def region_analysis(analysis: Analysis, region: str) -> Analysis:
    """The analysis of ``region``: ``analysis`` itself if it is that région's, else a slice.

    Examples
    --------
    >>> region_analysis(national, "93").region, region_analysis(analysis, "93") is analysis
    ('93', True)
    """
    from ..analysis import for_region

    return analysis if analysis.region == region else for_region(analysis, region)


def region_figure(analysis: Analysis, region: str) -> Figure:
    """The static map of one région, as a :class:`matplotlib.figure.Figure` on the Agg canvas.

    The figure is built without :mod:`matplotlib.pyplot` (nothing global is touched, nothing
    needs closing); :func:`write_figures` saves it. Text is set with the settings of
    :func:`write_figures`, so draw or save it inside the same ``rc_context`` to get the same
    result.

    Parameters
    ----------
    analysis
        The national analysis (or the analysis of ``region`` itself), with polygons
        (``analyse(..., geometry=True)``).
    region
        The région code, e.g. ``"93"``.

    Returns
    -------
    matplotlib.figure.Figure
        :data:`FIGSIZE` inches. Its title texts carry the ``gid`` ``titre`` and ``sous-titre``
        (group ids in the SVG), the legend ``legende``, the source line ``sources``.

    Raises
    ------
    CptsGeoError
        When ``region`` is not a région code, or the analysis has no polygons.

    Examples
    --------
    >>> fig = region_figure(analysis, "93")  # analyse(reg, ref, region="93")
    >>> print(fig.texts[0].get_text())
    Provence-Alpes-Côte d'Azur (93) — CPTS par stade
    >>> fig.texts[1].get_text().split()
    ['Couverture', ':', '98,06', '%', 'de', 'la', 'population', '(tous', 'stades)']
    >>> [float(x) for x in fig.get_size_inches()]
    [12.0, 8.5]
    """
    import matplotlib

    with matplotlib.rc_context(RC):
        (code,) = region_codes(analysis, [region])
        return _build(region_analysis(analysis, code), code)


@dataclass(frozen=True)
class RegionMap:
    """What :func:`draw_region_map` drew, for the legend and the key figures beside the map.

    Attributes
    ----------
    stages
        Stage → number of CPTS drawn at that stage (stages with no CPTS left out).
    gaps, conflicts, shares, outside
        Whether zones blanches, units in conflict, shared communes and units of other régions
        were drawn.
    small_gaps, small_conflicts
        Whether some were too small to see and got a symbol instead.
    """

    stages: dict[str, int]
    gaps: bool
    conflicts: bool
    shares: bool
    outside: bool
    small_gaps: bool
    small_conflicts: bool


def draw_region_map(fig: Figure, box: tuple[float, float, float, float], sub: Analysis,
                    region: str) -> RegionMap:
    """Draw the map of ``region`` in a new axes of ``fig`` at ``box`` (figure fraction).

    The territories touching the région filled by stage, zones blanches hatched in grey, units
    in conflict hatched in red, shared communes in dashes, département and région boundaries
    with the départements' names, a scale bar and a north arrow, in the zone's projected CRS.
    Call it inside ``matplotlib.rc_context(RC)`` for the atlas's fonts and hatches.

    Parameters
    ----------
    fig
        The figure to draw on.
    box
        ``(left, bottom, width, height)`` of the map in figure fraction.
    sub
        The analysis of the région (:func:`cpts_geo.analysis.for_region`), with polygons.
    region
        The région code.

    Returns
    -------
    RegionMap
        What was drawn, for :func:`legend_handles`.

    Raises
    ------
    CptsGeoError
        When the analysis has no polygons.

    Examples
    --------
    >>> import matplotlib
    >>> from matplotlib.figure import Figure
    >>> fig = Figure(figsize=(6, 6))
    >>> with matplotlib.rc_context(RC):
    ...     drawn = draw_region_map(fig, (0, 0, 1, 1), analysis, "93")
    >>> drawn.stages, drawn.gaps, drawn.conflicts
    ({'non_renseigne': 70}, True, False)
    """
    from matplotlib.patheffects import withStroke

    from ..analysis.topology import union_by_group

    reference = sub.reference
    if not sub.territories.geometry and len(sub.territories.table):
        raise CptsGeoError("this analysis has no polygons: run analyse(..., geometry=True) "
                           "to draw figures")
    finest = reference.finest
    units = finest[finest["region"] == region]
    zone = str(units["zone"].value_counts().index[0])
    units = units[units["zone"] == zone]
    geoms = reference.geometry(zone)

    ax = fig.add_axes(box)
    ax.set_facecolor(_SEA)
    ax.set_xticks([])
    ax.set_yticks([])
    for spine in ax.spines.values():
        spine.set_edgecolor("#b0b0b0")
        spine.set_linewidth(0.6)

    # région and départements
    codes = list(units.index)
    depts = union_by_group(reference, zone, codes, list(units["departement"]))
    region_geom = shapely.coverage_union_all(depts.to_numpy())
    fig_w, fig_h = (float(v) for v in fig.get_size_inches())
    box_w = fig_w * box[2]
    box_h = fig_h * box[3]
    xlim, ylim = _view(shapely.bounds(region_geom), box_w, box_h)
    ax.set_xlim(*xlim)
    ax.set_ylim(*ylim)
    ax.set_aspect("equal", adjustable="box")

    # context: units of other régions in view
    view = shapely.box(xlim[0], ylim[0], xlim[1], ylim[1])
    near = geoms.sindex.query(view, predicate="intersects")
    outside = geoms.index[near].difference(units.index)
    outside = [c for c in outside if c in finest.index]
    if outside:
        out_depts = union_by_group(reference, zone, outside,
                                   list(finest.loc[outside, "departement"]))
        _add_geoms(ax, list(out_depts), zorder=1, facecolor=_OUTSIDE, edgecolor="white",
                   linewidth=0.8)

    # territories, filled by stage (least advanced first, so advanced ones sit on top)
    table = sub.territories.table
    terr = sub.territories.geometry.get(zone)
    present: dict[str, int] = {}
    for stage in reversed(STAGES):
        ids = table.index[table["stade"] == stage]
        if not len(ids):
            continue
        present[stage] = len(ids)
        if terr is not None:
            _add_geoms(ax, list(terr.reindex(ids).dropna()), zorder=2,
                       facecolor=COLOURS[stage], edgecolor="white", linewidth=0.5)

    # zones blanches
    zb = sub.zones_blanches
    gap_codes = [c for cs in zb["codes"] for c in cs] if len(zb) else []
    gap_geom = _union_of(reference, zone, gap_codes)
    width = xlim[1] - xlim[0]
    small_gaps = _small(_parts_of(reference, zone, dict(zip(zb["zone_blanche"], zb["codes"],
                                                            strict=True))), width)
    _symbols(ax, small_gaps, colour=_GAP_HATCH, zorder=8)
    if gap_geom is not None:
        _add_geoms(ax, [gap_geom], zorder=3, facecolor="white", edgecolor="none")
        _add_geoms(ax, [gap_geom], zorder=3.1, facecolor="none", edgecolor=_GAP_HATCH,
                   hatch="////", linewidth=0)
        _add_geoms(ax, [gap_geom], zorder=3.2, facecolor="none", edgecolor=_GAP_HATCH,
                   linewidth=0.6)

    # communes shared below commune level (by design: not conflicts)
    shares = sub.partages
    share_geom = _union_of(reference, zone, list(shares["code"])) if len(shares) else None
    if share_geom is not None:
        _add_geoms(ax, list(shapely.get_parts(share_geom)), zorder=4, facecolor="none",
                   edgecolor=_SHARE_EDGE, linewidth=1.1, linestyle=(0, (3, 2)))

    # conflicts
    cu = sub.conflict_units
    conflict_geom = _union_of(reference, zone, list(cu["code"])) if len(cu) else None
    small_conflicts = _small(_parts_of(reference, zone, {c: [c] for c in cu["code"]}), width)
    _symbols(ax, small_conflicts, colour=_CONFLICT, zorder=8.1)
    if conflict_geom is not None:
        _add_geoms(ax, [conflict_geom], zorder=5, facecolor="none", edgecolor=_CONFLICT,
                   hatch="xxx", linewidth=0)
        _add_geoms(ax, [conflict_geom], zorder=5.1, facecolor="none", edgecolor=_CONFLICT,
                   linewidth=1.4)

    # boundaries and département names
    _add_geoms(ax, list(depts), zorder=6, facecolor="none", edgecolor=_DEPT_EDGE,
               linewidth=0.6)
    _add_geoms(ax, [region_geom], zorder=6.1, facecolor="none", edgecolor=_REGION_EDGE,
               linewidth=1.3)
    halo = [withStroke(linewidth=2.5, foreground="white")]
    for dept, geom in depts.items():
        point = shapely.point_on_surface(geom)
        ax.text(point.x, point.y, f"{reference.departement_name(str(dept))} ({dept})",
                ha="center", va="center", fontsize=7.5, fontstyle="italic", color=_MUTED,
                zorder=7, path_effects=halo, clip_on=True)

    _scale_bar(ax, xlim, ylim)
    _north_arrow(ax)
    return RegionMap(stages=present, gaps=gap_geom is not None,
                     conflicts=conflict_geom is not None, shares=share_geom is not None,
                     outside=bool(outside), small_gaps=bool(small_gaps),
                     small_conflicts=bool(small_conflicts))


def legend_handles(drawn: RegionMap) -> list[Any]:
    """The legend entries of a map: the stages drawn (with their count), then the symbols.

    Examples
    --------
    >>> drawn = RegionMap(stages={"fonctionnement": 3}, gaps=True, conflicts=False,
    ...                   shares=False, outside=False, small_gaps=False, small_conflicts=False)
    >>> [h.get_label() for h in legend_handles(drawn)]
    ['En fonctionnement (ACI signé) (3)', 'Zone blanche (aucune CPTS)', 'Limite de département',
     'Limite de région']
    """
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    handles: list[Any] = []
    for stage in STAGES:
        if stage in drawn.stages:
            handles.append(Patch(facecolor=COLOURS[stage], edgecolor="white",
                                 label=f"{LABELS[stage]} ({drawn.stages[stage]})"))
    if drawn.gaps:
        handles.append(Patch(facecolor="white", edgecolor=_GAP_HATCH, hatch="////",
                             label="Zone blanche (aucune CPTS)"))
    if drawn.conflicts:
        handles.append(Patch(facecolor="white", edgecolor=_CONFLICT, hatch="xxx",
                             linewidth=1.2, label="Commune en conflit entre CPTS"))
    if drawn.small_gaps:
        handles.append(Line2D([], [], linestyle="none", marker="o", markersize=9,
                              markerfacecolor="white", markeredgecolor=_GAP_HATCH,
                              markeredgewidth=1.8, label="Petite zone blanche (symbole)"))
    if drawn.small_conflicts:
        handles.append(Line2D([], [], linestyle="none", marker="o", markersize=9,
                              markerfacecolor="white", markeredgecolor=_CONFLICT,
                              markeredgewidth=1.8, label="Petite commune en conflit (symbole)"))
    if drawn.shares:
        handles.append(Line2D([], [], color=_SHARE_EDGE, linewidth=1.1, linestyle=(0, (3, 2)),
                              label="Commune partagée par plusieurs CPTS"))
    handles.append(Line2D([], [], color=_DEPT_EDGE, linewidth=0.6,
                          label="Limite de département"))
    handles.append(Line2D([], [], color=_REGION_EDGE, linewidth=1.3, label="Limite de région"))
    if drawn.outside:
        handles.append(Patch(facecolor=_OUTSIDE, edgecolor="white", label="Hors région"))
    return handles


def _build(sub: Analysis, region: str) -> Figure:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    reference = sub.reference
    fig = Figure(figsize=FIGSIZE, dpi=DPI, facecolor="white")
    FigureCanvasAgg(fig)
    drawn = draw_region_map(fig, _MAP_BOX, sub, region)
    table = sub.territories.table
    zb = sub.zones_blanches
    gap_pop = int(zb["population"].sum()) if len(zb) else 0
    cu = sub.conflict_units
    shares = sub.partages

    # title and coverage
    row = sub.couverture["region"].loc[region]
    name = reference.region_name(region)
    fig.text(_MAP_BOX[0], 0.955, f"{name} ({region}) — CPTS par stade", fontsize=16,
             fontweight="bold", color=_TEXT, va="bottom", gid="titre")
    fig.text(_MAP_BOX[0], 0.915,
             f"Couverture : {fmt_pct(float(row['taux_tous_stades']))} de la population "
             "(tous stades)", fontsize=12, color=_TEXT, va="bottom", gid="sous-titre")

    # legend
    handles = legend_handles(drawn)
    legend = fig.legend(handles=handles, loc="upper left", bbox_to_anchor=(0.69, 0.89),
                        frameon=False, fontsize=9, title="Légende", title_fontsize=10.5,
                        alignment="left", handlelength=2.2, handleheight=1.3,
                        labelspacing=0.7, borderaxespad=0)
    legend.set_gid("legende")

    # key figures
    total = int(row["population_totale"])
    lines = ["Population couverte", f"  ACI signé : {fmt_pct(float(row['taux_fonctionnement']))}",
             "  Jusqu'au projet validé : "
             f"{fmt_pct(float(row['taux_jusqu_projet_valide']))}",
             f"  Tous stades : {fmt_pct(float(row['taux_tous_stades']))}",
             f"  Population de la région : {fmt_int(total)} hab.",
             "",
             f"{_plural(len(table), 'CPTS', 'CPTS')} touchant la région"]
    lines.append(f"{_plural(len(zb), 'zone blanche', 'zones blanches')}"
                 + (f" ({fmt_int(gap_pop)} hab.)" if len(zb) else ""))
    if len(zb):
        top = zb.sort_values("population", ascending=False, kind="stable").iloc[0]
        names = list(top["communes"])
        label = names[0] if len(names) == 1 else f"{names[0]} et {len(names) - 1} autres"
        lines.append(f"  la plus peuplée : {label} ({fmt_int(int(top['population']))} hab.)")
    if len(cu):
        lines.append(f"Conflits : {_plural(len(cu), 'unité', 'unités')} "
                     f"({fmt_int(int(cu['population'].sum()))} hab.)")
    else:
        lines.append("Conflits : aucun")
    if len(shares):
        names = list(map(str, shares["nom"]))
        more = f" et {len(names) - 5} autres" if len(names) > 5 else ""
        lines.append("Communes partagées : " + ", ".join(names[:5]) + more)
    lines = [textwrap.fill(line, width=48, subsequent_indent="    ") if line else line
             for line in lines]
    fig.text(0.69, 0.085, "\n".join(lines), fontsize=9, color=_TEXT, va="bottom",
             linespacing=1.45, gid="chiffres")

    fig.text(_MAP_BOX[0], 0.03, sources(sub), fontsize=7.5, color=_MUTED, va="bottom",
             gid="sources")
    return fig


# --------------------------------------------------------------------------------------------
# writing


def _save(fig: Figure, path: Path, fmt: str, title: str) -> Path:
    """Save ``fig`` to ``path`` through a temporary file in the same directory."""
    metadata: dict[str, Any] = {"Title": title}
    if fmt == "svg":
        metadata["Date"] = None
    from ..atomic import atomic_write

    with atomic_write(path) as fh:
        fig.savefig(fh, format=fmt, dpi=DPI, metadata=metadata, facecolor="white")
    return path


def write_figures(analysis: Analysis, directory: Path, *, regions: list[str] | None = None,
                  png: bool = True, svg: bool = False) -> list[Path]:
    """Write a static map of each région for reports: ``<region>.png`` and/or ``<region>.svg``.

    Each map shows the territories of the CPTS touching the région filled by stage, units in
    conflict hatched in red, shared communes outlined in dashes, zones blanches in white with a
    grey hatch, département boundaries, a scale bar in km, the région's coverage in the title
    (``Couverture : 98,06 % de la population (tous stades)``), a French legend and the
    sources. Every file is written to a temporary file and moved into place, so an interrupted
    run never leaves a partial figure; the SVG is identical from one run to the next.

    Parameters
    ----------
    analysis
        The national analysis (:func:`cpts_geo.analysis.analyse` without ``region``), with
        polygons. An analysis of one région may be passed to draw that région only.
    directory
        Where to write the files (created if missing).
    regions
        Région codes to draw; ``None`` for every région with at least one CPTS.
    png, svg
        Formats to write. PNG is :data:`FIGSIZE` at :data:`DPI` (1800 × 1275 pixels).

    Returns
    -------
    list of Path
        The files written, région by région (PNG before SVG).

    Raises
    ------
    CptsGeoError
        When a code in ``regions`` is not a région code, or lies outside a regional analysis.

    Examples
    --------
    >>> files = write_figures(analysis, tmp / "figures", svg=True)  # PACA's analysis
    >>> [p.name for p in files]
    ['93.png', '93.svg']
    >>> from PIL import Image
    >>> with Image.open(files[0]) as png:
    ...     png.size
    (1800, 1275)
    """
    import matplotlib

    formats = [fmt for fmt, wanted in (("png", png), ("svg", svg)) if wanted]
    codes = region_codes(analysis, regions)
    if not formats or not codes:
        return []
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    with matplotlib.rc_context(RC):
        for code in codes:
            sub = region_analysis(analysis, code)
            fig = _build(sub, code)
            title = (f"{sub.reference.region_name(code)} ({code}) — CPTS par stade. "
                     "Couverture : "
                     f"{fmt_pct(float(sub.couverture['region'].loc[code, 'taux_tous_stades']))}"
                     " de la population (tous stades)")
            try:
                for fmt in formats:
                    written.append(_save(fig, directory / f"{code}.{fmt}", fmt, title))
            finally:
                fig.clear()
    return written

