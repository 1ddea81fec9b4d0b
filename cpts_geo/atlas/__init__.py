"""The atlas: interactive HTML pages (folium) and static figures. Rendering only.

:func:`write_atlas` writes a national index (``index.html``) and one page per région
(``<code>.html``) from an :class:`~cpts_geo.analysis.Analysis`. Each page is one self-contained
file (Leaflet, the page scripts and the data inlined): it opens with no network, copied alone or
in a sandboxed frame. Modules: :mod:`~cpts_geo.atlas.pages` (the pages),
:mod:`~cpts_geo.atlas.display` (display geometry: coverage simplification, unions),
:mod:`~cpts_geo.atlas.codec` (compact geometry text), :mod:`~cpts_geo.atlas.units` (the unit
graph of the composer), :mod:`~cpts_geo.atlas.palette` (colour modes and their checks),
:mod:`~cpts_geo.atlas.assets` (inlined assets, safe JSON embedding). folium is imported only
when pages are written. :mod:`~cpts_geo.atlas.figures` draws PNG/SVG maps and
:mod:`~cpts_geo.atlas.reports` one-page PDF reports. A progress bar is drawn on a terminal
(:func:`cpts_geo.outputs.progress`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..analysis import Analysis
    from ..analysis.diff import Diff
    from ..analysis.proposals import Proposals
    from ..analysis.timeline import Evolution

__all__ = ["atlas_regions", "write_atlas"]


def atlas_regions(analysis: Analysis, regions: list[str] | None = None) -> list[str]:
    """The régions that get a page: ``regions`` checked, or every région with a CPTS.

    Parameters
    ----------
    analysis
        The national analysis.
    regions
        Région codes asked for (``"93"``, ``"6"`` is read as ``"06"``); ``None`` for every
        région where at least one CPTS claims a unit.

    Returns
    -------
    list of str
        Région codes, sorted, without duplicates.

    Raises
    ------
    CptsGeoError
        When a code is not a région of the reference data; the message lists the codes.

    Examples
    --------
    >>> atlas_regions(national)  # national = analyse(reg, ref); only PACA has CPTS
    ['93']
    >>> atlas_regions(national, ["93", "6", "93"])
    ['06', '93']
    >>> atlas_regions(national, ["99"])
    Traceback (most recent call last):
    ...
    cpts_geo.errors.CptsGeoError: --region '99' is not a région code; use one of: 01
    (Guadeloupe), ...
    """
    known = set(analysis.reference.finest["region"])
    if regions is None:
        table = analysis.couverture["region"]
        return sorted(str(c) for c in table.index[table["n_cpts"] > 0] if str(c) in known)
    return sorted({analysis.reference.region_code(raw) for raw in regions})


def write_atlas(analysis: Analysis, directory: Path, *, regions: list[str] | None = None,
                tiles: bool = False, png: bool = False, svg: bool = False,
                pdf: bool = False, evolution: Evolution | None = None,
                compare: Diff | None = None, proposals: bool | Proposals = False,
                workers: int | None = None,
                also: Sequence[Callable[[], Any]] = ()) -> list[Path]:
    """Write the atlas into ``directory``: ``index.html``, one page per région, embed snippets.

    Parameters
    ----------
    analysis
        The national analysis (:func:`cpts_geo.analysis.analyse` without ``region``); each
        région's page is drawn from :func:`cpts_geo.analysis.for_region`.
    directory
        Where to write (created if needed). Files are written in place: callers that need an
        atomic update write into a staging directory (:func:`cpts_geo.outputs.staging`).
    regions
        Région codes to draw; ``None`` for every région with at least one CPTS.
    tiles
        Add an OpenStreetMap basemap to the pages (needs the network when viewed; without it
        the pages load nothing from the network).
    png, svg
        Also write static figures (PNG / SVG) of each région.
    pdf
        Also write a one-page PDF report of each région (``<code>.pdf``,
        :func:`cpts_geo.atlas.reports.write_reports`).
    workers
        Worker processes for the pages, figures and reports (see
        :func:`cpts_geo.outputs.parallel.run_tasks`; ``1``: none). The files are the same
        bytes whatever the number.
    also
        Other independent tasks to share out with the pages (the tables the atlas command
        writes beside them, :func:`cpts_geo.outputs.tables.result_tasks`).
    evolution
        The evolution of a dated registry (:func:`cpts_geo.analysis.timeline.evolution`):
        each page's panel shows its chart (:func:`cpts_geo.atlas.charts.evolution_panel`).
    compare
        The diff of an older registry against the one drawn
        (:func:`cpts_geo.analysis.diff.diff_registries`): each page gets the layers of the
        units gained, lost and changed, and the panel the changes of coverage
        (:mod:`cpts_geo.atlas.changes`).
    proposals
        Also draw the proposal layers (:mod:`cpts_geo.atlas.proposal_layers`, off by default
        in each page's legend): ``True`` to compute :func:`cpts_geo.analysis.proposals.propose`
        once for the run, from the analysis's registry and scope (about 1.5 s for all of
        France, more than a third of the time of writing every page: hence off by default), or a
        :class:`~cpts_geo.analysis.proposals.Proposals` already computed for the same registry
        (with options such as ``keep_tier``).

    Returns
    -------
    list of Path
        The HTML pages written: ``index.html`` first, then ``<code>.html`` by région code.

    Raises
    ------
    CptsGeoError
        When a région code is unknown, or figures are asked for but unavailable.

    Examples
    --------
    >>> pages = write_atlas(national, tmp / "atlas", regions=["93"])
    >>> [p.name for p in pages]
    ['index.html', '93.html']
    >>> sorted(p.name for p in (tmp / "atlas").iterdir())
    ['93.embed.html', '93.html', 'index.embed.html', 'index.html']
    >>> pages = write_atlas(national, tmp / "avec", regions=["93"], proposals=True)
    >>> 'data-atlas-layer="propositions"' in pages[1].read_text(encoding="utf-8")
    True
    """
    from ..outputs.parallel import run_tasks
    from ..outputs.progress_bar import progress
    from .pages import AtlasContext, national_page, region_page

    directory = Path(directory)
    codes = atlas_regions(analysis, regions)
    directory.mkdir(parents=True, exist_ok=True)
    chosen = None
    if proposals is True:
        from ..analysis.proposals import propose

        chosen = propose(analysis.registry, analysis.reference, region=analysis.region)
    elif proposals is not False:
        chosen = proposals
    ctx = AtlasContext(analysis, tiles=tiles, pages={c: f"{c}.html" for c in codes},
                       evolution=evolution, compare=compare, proposals=chosen)
    _prepare(ctx, codes)  # what the pages share, computed once before the work is shared out
    pages = [directory / ctx.pages[c] for c in codes]
    index = directory / "index.html"
    # the longest first (the national page, the tables, then the région pages), so that the
    # workers end together
    tasks: list[Callable[[], Any]] = [
        partial(_write_page, index, partial(national_page, ctx)), *also,
        *(partial(_write_page, path, partial(region_page, ctx, code))
          for code, path in zip(codes, pages, strict=True)),
    ]
    if png or svg:
        from .figures import write_figures

        tasks += [partial(write_figures, analysis, directory, regions=[code], png=png, svg=svg)
                  for code in codes]
    if pdf:
        from .reports import write_reports

        tasks += [partial(write_reports, analysis, directory, regions=[code]) for code in codes]
    with progress(total=len(tasks), desc="Atlas", unit="step") as bar:
        run_tasks(tasks, workers=workers, done=lambda _: bar.update())
    pages.insert(0, index)
    from .embed import write_embed_snippets

    write_embed_snippets(directory, pages)
    return pages


def _write_page(path: Path, render: Callable[[], str]) -> None:
    """Render one page and write it (in whichever process runs the task)."""
    path.write_text(render(), encoding="utf-8")


def _prepare(ctx: Any, codes: list[str]) -> None:
    """Compute once, before pages are shared out between processes, what every page uses.

    Each worker would otherwise compute it again: the territories at the région pages' level
    of detail, the display geometry and extents of every zone, the claims, gaps and CPTS rows.
    What one page alone uses (its région's slice of the analysis, the national page's coarser
    territories) is left to the task that draws it.
    """
    ref = ctx.analysis.reference
    if codes:
        ctx.territory_features(ctx.fine)
    ctx.fine.unit_info(list(ref.finest.index))
    for name in ("claim_rows", "gaps", "cpts_rows", "proposal_index"):
        getattr(ctx, name, None)
