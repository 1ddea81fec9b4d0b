"""Command line: ``cpts-geo atlas | coverage | check | propose | diff | evolution | fetch``.

A thin layer: each command wires options to library calls and turns the project's errors into
one clean message and exit code 2 (bad input). No logic of its own.
"""

from __future__ import annotations

import json
import os
import sys
import traceback
from collections.abc import Callable
from functools import wraps
from pathlib import Path
from typing import Any, TypeVar

import click

from .errors import CptsGeoError

F = TypeVar("F", bound=Callable[..., Any])

DEFAULT_OUT = Path("outputs")


def _fail(message: str, code: int = 2) -> None:
    click.echo(f"Error: {message}", err=True)
    sys.exit(code)


def _guard(func: F) -> F:
    """Turn library errors into a clean message and exit code 2; bugs into exit code 3."""

    @wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except CptsGeoError as exc:
            _fail(str(exc))
        except KeyboardInterrupt:
            _fail("interrupted; previous outputs were left as they were", 130)
        except MemoryError:
            _fail("out of memory; try --region CODE to work on one région", 2)
        except OSError as exc:
            _fail(f"{exc.strerror or exc} ({exc.filename or ''})".strip(), 2)
        except Exception as exc:  # a bug: say so, keep the traceback out of the user's way
            if os.environ.get("CPTS_GEO_DEBUG"):
                traceback.print_exc()
            _fail(f"internal error ({type(exc).__name__}: {exc}). This is a bug in cpts-geo; "
                  "rerun with CPTS_GEO_DEBUG=1 to see the traceback and report it.", 3)
        return None

    return wrapper  # type: ignore[return-value]


def _common(func: F) -> F:
    func = click.option("-v", "--verbose", is_flag=True,
                        help="List every warning (by default: one line per kind).")(func)
    func = click.option("--data", "data", type=click.Path(path_type=Path), default=None,
                        help="Reference data directory (default: $CPTS_GEO_DATA, then "
                        "data/communes/).")(func)
    return func


def _scope_opts(func: F) -> F:
    func = click.option("--france", is_flag=True,
                        help="Figures over all of France (default: over the registry's "
                        "perimeter, the régions where its CPTS are).")(func)
    func = click.option("--region", default=None,
                        help="Only this région (INSEE code, e.g. 93).")(func)
    return func


def _registry_opts(func: F) -> F:
    func = click.option("--sheet", default=None,
                        help="XLSX registry: sheet name or number (default: the first).")(func)
    func = click.option("--registry", "registry", type=click.Path(path_type=Path),
                        default=None, help="CPTS registry file (CSV, XLSX, JSON, GeoJSON, "
                        "GPKG). Default: the embedded PACA registry of January 2026.")(func)
    return func


def _date_option(ctx: click.Context, param: click.Parameter, value: str | None) -> Any:
    """A date option (``--at``, ``--from``, ``--to``) read at once: a bad date is a usage error."""
    if value is None:
        return None
    from .analysis.timeline import as_day

    try:
        return as_day(value)
    except CptsGeoError:
        raise click.BadParameter(f"{value!r} is not a date: give it as yyyy-mm-dd (2024-02-01),"
                                 " dd/mm/yyyy or a month (02/2024)", ctx=ctx,
                                 param=param) from None


def _at_option(func: F) -> F:
    return click.option("--at", "at", default=None, metavar="DATE", callback=_date_option,
                        help="Read the registry as it stood on this day (yyyy-mm-dd, dd/mm/yyyy "
                        "or a month, 06/2021): the CPTS there by then (first date on or "
                        "before it), each at the stage reached. Needs a registry with dates."
                        )(func)


def _registry_at(reg: Any, ref: Any, at: Any, quiet: bool, verbose: bool) -> Any:
    """The registry as it stood on ``at`` (unchanged without it); its new warnings printed."""
    if at is None:
        return reg
    from .analysis.timeline import registry_at

    out = registry_at(reg, at, ref)
    if not quiet:
        _warn(out.notices[len(reg.notices):], verbose)
    return out


def _warn(notices: Any, verbose: bool) -> None:
    """Print warnings: one line per kind with the first ones, or every one with ``-v``."""
    from .errors import summarise

    lines = [str(n) for n in notices] if verbose else summarise(notices)
    for line in lines:
        click.echo(f"Warning: {line}", err=True)
    if lines and not verbose and len(lines) < len(list(notices)):
        click.echo("Warning: (-v lists every warning; --json always does)", err=True)


def _load(data: Path | None, registry: Path | None, sheet: str | None, quiet: bool = False,
          verbose: bool = False) -> tuple[Any, Any]:
    from .reference import load_reference
    from .registry import read_any

    ref = load_reference(data)
    reg = read_any(registry, ref, sheet=sheet)
    if not quiet:
        _warn([*ref.warnings, *(reg.notices or reg.warnings)], verbose)
    return ref, reg


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="cpts_geo", prog_name="cpts-geo")
def main() -> None:
    """Maps and checks of France's CPTS territories.

    CPTS: Communautés Professionnelles Territoriales de Santé. Coverage against the 100 %
    target, conflicts, zones blanches, the regional atlas, the check of a new project, a
    proposal to close the gaps, and time: two vintages compared (diff), a dated registry read
    as it stood on a day (--at) and followed month by month (evolution).
    """


@main.command()
@_registry_opts
@_scope_opts
@click.option("--out", type=click.Path(path_type=Path), default=None,
              help="Output directory (default: outputs/atlas).")
@click.option("--overwrite", is_flag=True, help="Replace existing files in --out.")
@click.option("--tiles", is_flag=True, help="Add an OpenStreetMap basemap (needs network "
              "when viewing; pages work offline without it).")
@click.option("--png", is_flag=True, help="Also write a PNG figure of each région.")
@click.option("--svg", is_flag=True, help="Also write an SVG figure of each région.")
@click.option("--pdf", is_flag=True, help="Also write a one-page PDF report of each région "
              "(map, key figures and tables).")
@_at_option
@click.option("--compare", "compare", type=click.Path(path_type=Path), default=None,
              metavar="OLD", help="An older registry (any format): add a layer of the units "
              "whose CPTS changed since it (gained, lost, changed CPTS) and the changes of "
              "coverage to each page.")
@click.option("--compare-sheet", default=None, help="XLSX: sheet of OLD (default: --sheet).")
@click.option("--proposals", is_flag=True, help="Also draw the proposals of 'cpts-geo "
              "propose' (zones blanches given to a bordering CPTS, conflicts settled), off by "
              "default in the pages' legend; adds about 1.5 s for all of France.")
@_common
@_guard
def atlas(registry: Path | None, sheet: str | None, region: str | None, france: bool,
          out: Path | None, overwrite: bool, tiles: bool, png: bool, svg: bool, pdf: bool,
          at: Any, compare: Path | None, compare_sheet: str | None, proposals: bool,
          data: Path | None, verbose: bool) -> None:
    """Write the interactive atlas: a national index and one page per région.

    With a dated registry, each page's panel shows the evolution of coverage month by month
    (up to --at when given).
    """
    from .analysis import analyse
    from .atlas import write_atlas
    from .outputs import prepare_out_dir, staging
    from .outputs.tables import result_tasks

    target = prepare_out_dir(out or DEFAULT_OUT / "atlas", overwrite=overwrite,
                             default=out is None)
    ref, reg = _load(data, registry, sheet, verbose=verbose)
    shown = _registry_at(reg, ref, at, False, verbose)
    analysis = analyse(shown, ref, france=france)
    evolution = changes = None
    if reg.dated and not reg.claims[list(reg.dated)].isna().all().all():
        from .analysis.timeline import evolution as make_evolution

        evolution = make_evolution(reg, ref, france=france, end=at)
    if compare is not None:
        from .analysis.diff import diff_registries
        from .registry import read_registry

        old = read_registry(compare, ref, sheet=compare_sheet or sheet)
        changes = diff_registries(old, shown, ref)
    with staging(target) as tmp:
        tables = result_tasks(analysis if region is None else _region(analysis, region), tmp)
        pages = write_atlas(analysis, tmp, regions=[region] if region else None, tiles=tiles,
                            png=png, svg=svg, pdf=pdf, evolution=evolution, compare=changes,
                            proposals=proposals, also=tables)
    click.echo(f"Atlas written to {target}/ ({len(pages)} page(s)); open "
               f"{target / 'index.html'}")


def _region(analysis: Any, region: str) -> Any:
    from .analysis import for_region

    return for_region(analysis, analysis.reference.region_code(region))


@main.command()
@_registry_opts
@_scope_opts
@click.option("--out", type=click.Path(path_type=Path), default=None,
              help="Also write CSV, XLSX and GeoPackage tables into this directory.")
@click.option("--overwrite", is_flag=True, help="Replace existing files in --out.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object (for scripts).")
@_at_option
@_common
@_guard
def coverage(registry: Path | None, sheet: str | None, region: str | None, france: bool,
             out: Path | None, overwrite: bool, as_json: bool, at: Any,
             data: Path | None, verbose: bool) -> None:
    """Coverage against the 100 % target, conflicts and zones blanches of a registry.

    Without --region, the figures are over the registry's perimeter: the régions where its
    CPTS are (a regional registry says nothing of the rest of France); --france counts all of
    France.
    """
    from .analysis import analyse, summary
    from .outputs import prepare_out_dir, staging, write_results
    from .outputs.report import coverage_report

    target = prepare_out_dir(out, overwrite=overwrite, default=False) if out else None
    ref, reg = _load(data, registry, sheet, quiet=as_json, verbose=verbose)
    reg = _registry_at(reg, ref, at, as_json, verbose)
    analysis = analyse(reg, ref, region=region, france=france)
    if target is not None:
        with staging(target) as tmp:
            write_results(analysis, tmp)
    if as_json:
        payload = summary(analysis)
        if at is not None:
            payload["date"] = at.isoformat()
        click.echo(json.dumps(payload, ensure_ascii=False, indent=2))
    else:
        click.echo(coverage_report(analysis))
        if target is not None:
            click.echo(f"\nTables written to {target}/")


@main.command()
@click.argument("project", type=click.Path(path_type=Path))
@_registry_opts
@click.option("--project-sheet", default=None,
              help="XLSX project: sheet name or number (default: the first).")
@click.option("--revise", default=None, metavar="CPTS_ID",
              help="The project revises this existing CPTS (identifier or name): leave it out "
              "of the comparison.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object (for scripts).")
@_at_option
@_common
@_guard
def check(project: Path, registry: Path | None, sheet: str | None, project_sheet: str | None,
          revise: str | None, as_json: bool, at: Any, data: Path | None,
          verbose: bool) -> None:
    """Check a new CPTS project against the registry before approval.

    PROJECT is a registry-format file (CSV, XLSX, JSON, GeoJSON, GPKG) describing one CPTS.
    With --at, it is checked against the registry as it stood on that day.
    Exit code: 0 no conflict, 1 conflict with an existing CPTS, 2 bad input.
    """
    if at is None and sheet is None and project_sheet is None and not verbose:
        # a registry checked before and a plain project file: read from the cache, no pandas
        from .analysis.check_core import run_check
        from .analysis.check_fast import quick_inputs

        quick = quick_inputs(project, registry, data)
        if quick is not None:
            units, view, project_input = quick
            if not as_json and registry is not None:
                _registry_warnings(view.source, view.warnings)
            _check_out(run_check(units, view, project_input, revises=revise), as_json, (),
                       view.warnings, None)
            return
    from .analysis.check import check_project, remember
    from .registry import read_registry

    # the registry's own warnings are about the registry, not the project: with the embedded
    # registry they are known and not shown; with another, one line says how many (-v: all)
    ref, reg = _load(data, registry, sheet, quiet=True)
    dated = _registry_at(reg, ref, at, True, verbose)
    proj = read_registry(project, ref, sheet=project_sheet)
    if not as_json:
        _warn(proj.notices or proj.warnings, verbose)
        if verbose:
            _warn(dated.notices or dated.warnings, True)
        elif registry is not None:
            _registry_warnings(dated.source, dated.warnings)
    result = check_project(proj, dated, ref, revises=revise)
    if at is None:
        remember(registry, sheet, reg, ref)  # the next check of a project takes the quick path
    else:
        if not as_json:
            click.echo(f"Registre tel qu'au {at:%d/%m/%Y} : {len(dated)} CPTS ({dated.source})")
    _check_out(result, as_json, proj.warnings, dated.warnings, at, ref)


def _registry_warnings(source: str, warnings: Any) -> None:
    """The one line ``check`` prints about the registry's own warnings (none: nothing)."""
    if warnings:
        click.echo(f"Warning: the registry {source} has {len(warnings)} warning(s) "
                   "(-v to list them)", err=True)


def _check_out(result: Any, as_json: bool, warnings: Any, registry_warnings: Any, at: Any,
               ref: Any = None) -> None:
    """Print the check (report or JSON) and exit: 1 on a conflict, else 0."""
    from .outputs.check_report import check_report

    if as_json:
        payload = result.to_dict()
        payload["avertissements"] = list(warnings)
        payload["avertissements_registre"] = list(registry_warnings)
        if at is not None:
            payload["date"] = at.isoformat()
        click.echo(json.dumps(payload, ensure_ascii=False, indent=2))
    else:
        click.echo(check_report(result, ref))
    sys.exit(1 if result.has_conflict else 0)


def _stages_option(ctx: click.Context, param: click.Parameter, value: tuple[str, ...]
                   ) -> tuple[str, ...]:
    from .analysis.proposals import stages_option

    try:
        return stages_option(value)
    except CptsGeoError as exc:
        raise click.BadParameter(str(exc).removeprefix("--exclude-stage "), ctx=ctx,
                                 param=param) from None


@main.command()
@_registry_opts
@click.option("--region", default=None, help="Only this région (INSEE code, e.g. 93). "
              "Default: every région where the registry claims a unit.")
@click.option("--out", type=click.Path(path_type=Path), default=None,
              help="Also write propositions.csv, rattachements.csv, conciliations.csv, "
              "effets.csv, propositions.xlsx and registre_propose.csv into this directory.")
@click.option("--overwrite", is_flag=True, help="Replace existing files in --out.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object (for scripts).")
@click.option("--keep-tier", is_flag=True, help="Never give a unit to a CPTS whose ACI size "
              "tier would change.")
@click.option("--exclude-stage", "exclude_stages", multiple=True, metavar="STAGE",
              callback=_stages_option, help="CPTS at this stage take no unit of a zone blanche "
              "(repeatable): fonctionnement, projet_valide, lettre_intention, emergence, "
              "non_renseigne, or a label such as 'émergence'.")
@_common
@_guard
def propose(registry: Path | None, sheet: str | None, region: str | None, out: Path | None,
            overwrite: bool, as_json: bool, keep_tier: bool, exclude_stages: tuple[str, ...],
            data: Path | None, verbose: bool) -> None:
    """Propose how to close the zones blanches and settle the conflicts.

    For each zone blanche, the CPTS bordering it and what each would become if it took the
    zone (population, ACI tier and ceiling, one piece or not); for each conflict, both options;
    and one complete proposal by a written rule: each unit to the bordering CPTS with which it
    shares the longest boundary, by rounds from the existing territories (ties: the least
    populated CPTS). With --out, registre_propose.csv is the registry with the proposal
    applied, in the columns of the input table (canonical columns for JSON and perimeter
    files), readable by every command.
    """
    from .analysis.proposals import propose as make_proposals
    from .outputs import prepare_out_dir, staging
    from .outputs.proposals import write_proposals
    from .outputs.report import propose_report
    from .registry import default_registry_path
    from .registry.write import registry_table

    target = prepare_out_dir(out, overwrite=overwrite, default=False) if out else None
    ref, reg = _load(data, registry, sheet, quiet=as_json, verbose=verbose)
    result = make_proposals(reg, ref, region=region, keep_tier=keep_tier,
                            exclude_stages=exclude_stages)
    if target is not None:
        table = registry_table(result.registry, ref, like=registry or default_registry_path(),
                               sheet=sheet)
        with staging(target) as tmp:
            write_proposals(result, tmp, table)
    if as_json:
        click.echo(json.dumps(result.to_dict(ref), ensure_ascii=False, indent=2))
    else:
        click.echo(propose_report(result, ref))
        if target is not None:
            click.echo(f"\nTables written to {target}/ (registry with the proposal applied: "
                       f"{target / 'registre_propose.csv'})")


@main.command()
@click.argument("old", type=click.Path(path_type=Path))
@click.argument("new", type=click.Path(path_type=Path))
@click.option("--region", default=None, help="Only this région (INSEE code, e.g. 93). Default: "
              "the régions where either registry claims a commune.")
@click.option("--out", type=click.Path(path_type=Path), default=None,
              help="Also write the tables into this directory: diff_*.csv, diff.xlsx (one "
              "sheet per table) and diff.gpkg (the units whose CPTS changed, as polygons).")
@click.option("--overwrite", is_flag=True, help="Replace existing files in --out.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object (for scripts).")
@click.option("--sheet", default=None,
              help="XLSX registries: sheet name or number, for both files (default: the first).")
@click.option("--old-sheet", default=None, help="XLSX: sheet of OLD (overrides --sheet).")
@click.option("--new-sheet", default=None, help="XLSX: sheet of NEW (overrides --sheet).")
@_common
@_guard
def diff(old: Path, new: Path, region: str | None, out: Path | None, overwrite: bool,
         as_json: bool, sheet: str | None, old_sheet: str | None, new_sheet: str | None,
         data: Path | None, verbose: bool) -> None:
    """Compare two vintages of a registry: what changed from OLD to NEW.

    OLD and NEW are registry files in any format (CSV, XLSX, JSON, GeoJSON, GPKG; a perimeter
    file against a table is fine). CPTS are paired by identifier when both files have the same
    identifiers, else by the territory they share. Reported: new, gone, renamed, split and
    merged CPTS, stage changes, communes added to and removed from each CPTS, population newly
    covered and no longer covered, conflicts that appeared and were resolved, zones blanches
    closed, opened or changed, coverage before/after by région and département.

    Exit code: 0 no change, 1 changes found, 2 bad input.
    """
    from .analysis.diff import diff_registries
    from .outputs import prepare_out_dir, staging
    from .outputs.diff import write_diff
    from .outputs.report import diff_report
    from .reference import load_reference
    from .registry import read_registry

    target = prepare_out_dir(out, overwrite=overwrite, default=False) if out else None
    ref = load_reference(data)
    before = read_registry(old, ref, sheet=old_sheet or sheet)
    after = read_registry(new, ref, sheet=new_sheet or sheet)
    result = diff_registries(before, after, ref, region=region)
    if not as_json:
        _warn([*ref.warnings, *(before.notices or before.warnings),
               *(after.notices or after.warnings), *result.avertissements], verbose)
    if target is not None:
        with staging(target) as tmp:
            write_diff(result, ref, tmp)
    if as_json:
        click.echo(json.dumps(result.to_dict(), ensure_ascii=False, indent=2))
    else:
        click.echo(diff_report(result, ref))
        if target is not None:
            click.echo(f"\nTables written to {target}/")
    sys.exit(1 if result.has_changes else 0)


@main.command()
@_registry_opts
@_scope_opts
@click.option("--from", "start", default=None, metavar="DATE", callback=_date_option,
              help="First month (any day of it: 2021-06, 06/2021, 2021-06-15). Default: the "
              "month of the registry's first date.")
@click.option("--to", "end", default=None, metavar="DATE", callback=_date_option,
              help="Last month. Default: the month of the registry's last date.")
@click.option("--out", type=click.Path(path_type=Path), default=None,
              help="Also write evolution.csv (the perimeter), evolution_regions.csv, "
              "evolution_departements.csv, evolution.xlsx and the chart (evolution.png, "
              "evolution.svg) into this directory.")
@click.option("--overwrite", is_flag=True, help="Replace existing files in --out.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object (for scripts).")
@_common
@_guard
def evolution(registry: Path | None, sheet: str | None, region: str | None, france: bool,
              start: Any, end: Any, out: Path | None, overwrite: bool,
              as_json: bool, data: Path | None, verbose: bool) -> None:
    """The evolution of a dated registry, month by month.

    At the end of each month: the number of CPTS by stage and the population covered at each
    stage threshold (ACI signé; up to projet de santé validé; every stage), over the
    registry's perimeter (or --region, or --france), by région and by département. A CPTS
    counts from its first date (lettre d'intention, projet de santé or ACI), at the stage of
    its latest step dated by then, never beyond the stage the registry gives; a CPTS with no
    date is counted at no date (a warning names it).
    """
    from functools import partial

    from .analysis.timeline import evolution as make_evolution
    from .outputs import prepare_out_dir, progress, staging
    from .outputs.evolution import write_evolution
    from .outputs.report import evolution_report

    target = prepare_out_dir(out, overwrite=overwrite, default=False) if out else None
    ref, reg = _load(data, registry, sheet, quiet=as_json, verbose=verbose)
    result = make_evolution(reg, ref, region=region, france=france, start=start, end=end,
                            steps=partial(progress, desc="Evolution", unit="level"))
    if not as_json:
        _warn(result.notices, verbose)
    if target is not None:
        from .atlas.charts import write_evolution_charts

        with staging(target) as tmp, progress(total=2, desc="Evolution files",
                                              unit="step") as bar:
            write_evolution(result, tmp)
            bar.update()
            write_evolution_charts(result, tmp, png=True, svg=True)
            bar.update()
    if as_json:
        click.echo(json.dumps(result.to_dict(), ensure_ascii=False, indent=2))
    else:
        click.echo(evolution_report(result))
        if target is not None:
            click.echo(f"\nTables and chart written to {target}/")


@main.command()
@click.option("--data", "data", type=click.Path(path_type=Path), default=None,
              help="Directory to build (default: data/communes/).")
@click.option("--year", type=int, default=None, help="COG year of the codes and populations "
              "(default: the latest published; contours of that year, else the year before).")
@_guard
def fetch(data: Path | None, year: int | None) -> None:
    """Build the reference data directory from the public sources (needs internet)."""
    from .reference.fetch import fetch_reference

    dest = fetch_reference(data or Path("data") / "communes", year=year,
                           progress=sys.stderr.isatty())
    click.echo(f"Reference data written to {dest}/")


if __name__ == "__main__":  # pragma: no cover
    main()
