"""Command line: ``cpts-geo atlas | coverage | check | fetch``.

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
    func = click.option("--data", "data", type=click.Path(path_type=Path), default=None,
                        help="Reference data directory (default: $CPTS_GEO_DATA, then "
                        "data/communes/).")(func)
    return func


def _registry_opts(func: F) -> F:
    func = click.option("--sheet", default=None,
                        help="XLSX registry: sheet name or number (default: the first).")(func)
    func = click.option("--registry", "registry", type=click.Path(path_type=Path),
                        default=None, help="CPTS registry file (CSV, XLSX, JSON, GeoJSON, "
                        "GPKG). Default: the embedded PACA registry of January 2026.")(func)
    return func


def _load(data: Path | None, registry: Path | None, sheet: str | None, quiet: bool = False
          ) -> tuple[Any, Any]:
    from .reference import load_reference
    from .registry import read_any

    ref = load_reference(data)
    reg = read_any(registry, ref, sheet=sheet)
    if not quiet:
        for w in (*ref.warnings, *reg.warnings):
            click.echo(f"Warning: {w}", err=True)
    return ref, reg


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="cpts_geo", prog_name="cpts-geo")
def main() -> None:
    """Maps and checks of France's CPTS territories.

    CPTS: Communautés Professionnelles Territoriales de Santé. Coverage against the 100 %
    target, conflicts, zones blanches, the regional atlas, and the check of a new project.
    """


@main.command()
@_registry_opts
@click.option("--region", default=None, help="Only this région (INSEE code, e.g. 93).")
@click.option("--out", type=click.Path(path_type=Path), default=None,
              help="Output directory (default: outputs/atlas).")
@click.option("--overwrite", is_flag=True, help="Replace existing files in --out.")
@click.option("--tiles", is_flag=True, help="Add an OpenStreetMap basemap (needs network "
              "when viewing; pages work offline without it).")
@click.option("--png", is_flag=True, help="Also write a PNG figure of each région.")
@click.option("--svg", is_flag=True, help="Also write an SVG figure of each région.")
@click.option("--pdf", is_flag=True, help="Also write a one-page PDF report of each région "
              "(map, key figures and tables).")
@_common
@_guard
def atlas(registry: Path | None, sheet: str | None, region: str | None, out: Path | None,
          overwrite: bool, tiles: bool, png: bool, svg: bool, pdf: bool,
          data: Path | None) -> None:
    """Write the interactive atlas: a national index and one page per région."""
    from .analysis import analyse
    from .atlas import write_atlas
    from .outputs import prepare_out_dir, staging, write_results

    target = prepare_out_dir(out or DEFAULT_OUT / "atlas", overwrite=overwrite,
                             default=out is None)
    ref, reg = _load(data, registry, sheet)
    analysis = analyse(reg, ref)
    with staging(target) as tmp:
        pages = write_atlas(analysis, tmp, regions=[region] if region else None, tiles=tiles,
                            png=png, svg=svg, pdf=pdf)
        write_results(analysis if region is None else _region(analysis, region), tmp)
    click.echo(f"Atlas written to {target}/ ({len(pages)} page(s)); open "
               f"{target / 'index.html'}")


def _region(analysis: Any, region: str) -> Any:
    from .analysis import for_region

    return for_region(analysis, analysis.reference.region_code(region))


@main.command()
@_registry_opts
@click.option("--region", default=None, help="Only this région (INSEE code, e.g. 93).")
@click.option("--out", type=click.Path(path_type=Path), default=None,
              help="Also write CSV, XLSX and GeoPackage tables into this directory.")
@click.option("--overwrite", is_flag=True, help="Replace existing files in --out.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object (for scripts).")
@_common
@_guard
def coverage(registry: Path | None, sheet: str | None, region: str | None, out: Path | None,
             overwrite: bool, as_json: bool, data: Path | None) -> None:
    """Coverage against the 100 % target, conflicts and zones blanches of a registry."""
    from .analysis import analyse, summary
    from .outputs import prepare_out_dir, staging, write_results
    from .outputs.report import coverage_report

    target = prepare_out_dir(out, overwrite=overwrite, default=False) if out else None
    ref, reg = _load(data, registry, sheet, quiet=as_json)
    analysis = analyse(reg, ref, region=region)
    if target is not None:
        with staging(target) as tmp:
            write_results(analysis, tmp)
    if as_json:
        click.echo(json.dumps(summary(analysis), ensure_ascii=False, indent=2))
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
@_common
@_guard
def check(project: Path, registry: Path | None, sheet: str | None, project_sheet: str | None,
          revise: str | None, as_json: bool, data: Path | None) -> None:
    """Check a new CPTS project against the registry before approval.

    PROJECT is a registry-format file (CSV, XLSX, JSON, GeoJSON, GPKG) describing one CPTS.
    Exit code: 0 no conflict, 1 conflict with an existing CPTS, 2 bad input.
    """
    from .analysis.check import check_project
    from .outputs.report import check_report
    from .registry import read_registry

    ref, reg = _load(data, registry, sheet, quiet=as_json)
    proj = read_registry(project, ref, sheet=project_sheet)
    if not as_json:
        for w in proj.warnings:
            click.echo(f"Warning: {w}", err=True)
    result = check_project(proj, reg, ref, revises=revise)
    if as_json:
        payload = result.to_dict()
        payload["avertissements"] = list(proj.warnings)
        payload["avertissements_registre"] = list(reg.warnings)
        click.echo(json.dumps(payload, ensure_ascii=False, indent=2))
    else:
        click.echo(check_report(result, ref))
    sys.exit(1 if result.has_conflict else 0)


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
