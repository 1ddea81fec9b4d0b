"""Write results safely: tables (CSV, XLSX), GeoPackage, and atomic publication of a directory.

Every output is first written into a temporary directory beside its destination, then moved
into place in one step (:func:`publish`), so a run that fails or is killed half-way leaves the
previous outputs untouched. Cells that a spreadsheet would run as a formula (``=``, ``+``, ``-``,
``@`` first) are neutralised with a leading apostrophe.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from ..atomic import swap_directory
from ..errors import CptsGeoError

if TYPE_CHECKING:
    import geopandas as gpd

__all__ = ["neutralise", "prepare_out_dir", "publish", "staging", "write_gpkg", "write_table"]

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
MARKER = ".cpts-geo-output"


def neutralise(value: Any) -> Any:
    """Make a text cell safe for spreadsheets (no formula injection); other values unchanged.

    Examples
    --------
    >>> neutralise("=1+1"), neutralise("Nice"), neutralise(-3)
    ("'=1+1", 'Nice', -3)
    """
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def _flatten(frame: pd.DataFrame) -> pd.DataFrame:
    out = frame.copy()
    for col in out.columns:
        if out[col].dtype == object or str(out[col].dtype).startswith(("str", "string")):
            out[col] = out[col].map(
                lambda v: neutralise(";".join(map(str, v)) if isinstance(v, (list, tuple))
                                     else v))
    return out


_XLSX_CELL_MAX = 32_767


def _fit_cell(value: Any) -> Any:
    """Shorten text past Excel's cell limit, saying how much was left out (the CSV has all)."""
    if isinstance(value, str) and len(value) > _XLSX_CELL_MAX:
        cut = value[: _XLSX_CELL_MAX - 80]
        cut = cut[: cut.rfind(";")] if ";" in cut else cut
        rest = value.count(";") - cut.count(";")
        return f"{cut}; … (+{rest} autres, liste complète dans le fichier CSV)"
    return value


def write_table(frame: pd.DataFrame, path: Path, *, index: bool = False) -> Path:
    """Write ``frame`` as CSV (UTF-8 with BOM, ``;``, for Excel in French) or XLSX by suffix.

    Lists become ``;``-separated text and formula-looking text is neutralised.

    Examples
    --------
    >>> frame = pd.DataFrame({"cpts": ["=1+1"], "codes": [["06088", "06029"]]})
    >>> p = write_table(frame, tmp / "t.csv")
    >>> for line in p.read_text(encoding="utf-8-sig").splitlines():
    ...     print(line)
    cpts;codes
    '=1+1;"06088;06029"
    """
    flat = _flatten(frame)
    if path.suffix.lower() == ".xlsx":
        flat.to_excel(path, index=index, engine="openpyxl")
    else:
        flat.to_csv(path, index=index, sep=";", encoding="utf-8-sig")
    return path


def write_gpkg(layers: dict[str, gpd.GeoDataFrame], path: Path) -> Path:
    """Write several layers into one GeoPackage (lists flattened to text).

    Examples
    --------
    >>> import pyogrio
    >>> layers = geo_layers(analysis)
    >>> path = write_gpkg({"territoires": layers["territoires"]}, tmp / "cpts.gpkg")
    >>> [name for name, _ in pyogrio.list_layers(path)]
    ['territoires']
    >>> pyogrio.read_info(path, layer="territoires")["features"]
    70
    """
    import geopandas as gpd

    for name, frame in layers.items():
        flat = gpd.GeoDataFrame(_flatten(frame.drop(columns=frame.geometry.name)),
                                geometry=frame.geometry.to_numpy(), crs=frame.crs)
        flat.to_file(path, layer=name, driver="GPKG", engine="pyogrio")
    return path


def prepare_out_dir(out: Path, *, overwrite: bool, default: bool) -> Path:
    """Check that results may be written to ``out``.

    Existing outputs are replaced only with ``overwrite``, or when ``out`` is the tool's own
    output directory (``default``, or one it made before: it holds a marker file).

    Raises
    ------
    CptsGeoError
        When ``out`` is a file, or a non-empty directory not made by this tool, without
        ``overwrite``.

    Examples
    --------
    >>> prepare_out_dir(tmp / "atlas", overwrite=False, default=False) == tmp / "atlas"
    True
    >>> _ = (tmp / "notes.txt").write_text("à garder", encoding="utf-8")
    >>> prepare_out_dir(tmp, overwrite=False, default=False)
    Traceback (most recent call last):
    ...
    cpts_geo.errors.CptsGeoError: --out ... already holds files not written by cpts-geo; add
    --overwrite to replace them, or choose an empty directory
    >>> prepare_out_dir(tmp, overwrite=True, default=False) == tmp
    True
    """
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise CptsGeoError(f"--out {out} is a file; give a directory")
    if out.is_dir() and any(out.iterdir()) and not (overwrite or default
                                                    or (out / MARKER).exists()):
        raise CptsGeoError(f"--out {out} already holds files not written by cpts-geo; add "
                           "--overwrite to replace them, or choose an empty directory")
    return out


@contextlib.contextmanager
def staging(out: Path) -> Iterator[Path]:
    """Yield a temporary directory beside ``out``; on success publish it as ``out``.

    On any error the temporary directory is removed and ``out`` is left as it was. ``out`` is
    resolved first (``..``, symbolic links): the results land where the link points. The
    directory keeps the permissions of the one it replaces (a new one gets the usual ``0o755``
    less the umask), so a web server can still read a republished atlas.

    Examples
    --------
    >>> out = tmp / "atlas"
    >>> with staging(out) as work:
    ...     _ = (work / "index.html").write_text("<html></html>", encoding="utf-8")
    >>> sorted(p.name for p in out.iterdir())
    ['.cpts-geo-output', 'index.html']
    >>> with staging(out) as work:
    ...     _ = (work / "index.html").write_text("", encoding="utf-8")
    ...     raise RuntimeError("interrupted")
    Traceback (most recent call last):
    ...
    RuntimeError: interrupted
    >>> (out / "index.html").read_text(encoding="utf-8"), [p.name for p in tmp.iterdir()]
    ('<html></html>', ['atlas'])
    """
    out = Path(out).resolve()
    out.parent.mkdir(parents=True, exist_ok=True)
    _recover(out)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.tmp-{os.getpid()}-", dir=out.parent))
    try:
        umask = os.umask(0)
        os.umask(umask)
        mode = (out.stat().st_mode & 0o7777) if out.is_dir() else (0o755 & ~umask)
        os.chmod(tmp, mode)
        yield tmp
        written = sorted(p.name for p in tmp.iterdir())
        (tmp / MARKER).write_text(json.dumps({"tool": "cpts-geo", "files": written},
                                             ensure_ascii=False) + "\n", encoding="utf-8")
        publish(tmp, out)
        _remove_leftovers(out)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)


def _recover(out: Path) -> None:
    """Put back outputs that a run killed between the two renames of :func:`publish` left aside.

    Examples
    --------
    >>> aside = tmp / ".atlas.old-x" / "atlas"
    >>> aside.mkdir(parents=True); _ = (aside / "index.html").write_text("v1", encoding="utf-8")
    >>> _recover(tmp / "atlas"); (tmp / "atlas" / "index.html").read_text(encoding="utf-8")
    'v1'
    """
    if out.exists():
        return
    for aside in sorted(out.parent.glob(f".{out.name}.old-*/{out.name}")):
        os.replace(aside, out)
        return


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _remove_leftovers(out: Path) -> None:
    """Remove what a killed earlier run left beside ``out``.

    An old directory (``.name.old-*``) is removed at once; a staging one
    (``.name.tmp-PID-*``) only when the process that made it is gone, since another run may
    still be writing into it.
    """
    for stale in out.parent.glob(f".{out.name}.old-*"):
        shutil.rmtree(stale, ignore_errors=True)
    for stale in out.parent.glob(f".{out.name}.tmp-*"):
        pid = stale.name[len(f".{out.name}.tmp-"):].split("-", 1)[0]
        if pid.isdigit() and not _alive(int(pid)):
            shutil.rmtree(stale, ignore_errors=True)


def _previous_outputs(out: Path) -> set[str]:
    """Names of the files the previous run wrote into ``out`` (from its marker file)."""
    try:
        listed = json.loads((out / MARKER).read_text(encoding="utf-8")).get("files", [])
    except (OSError, ValueError, AttributeError):
        return set()
    return {str(name) for name in listed} if isinstance(listed, list) else set()


def publish(tmp: Path, out: Path) -> None:
    """Move the finished directory ``tmp`` into place as ``out``.

    Entries of an existing ``out`` that this run did not produce are carried over (another
    command's outputs, the user's own files), except those the previous run wrote, as listed in
    its marker file: they are outputs this run replaces or no longer makes. The old directory is
    then swapped out by renames and removed.

    Examples
    --------
    >>> out, new = tmp / "out", tmp / "new"
    >>> for directory, name in [(out, "carte.png"), (out, "index.html"), (new, "index.html")]:
    ...     directory.mkdir(exist_ok=True)
    ...     _ = (directory / name).write_text(directory.name, encoding="utf-8")
    >>> publish(new, out)
    >>> sorted(p.name for p in out.iterdir()), new.exists()
    (['carte.png', 'index.html'], False)
    >>> (out / "index.html").read_text(encoding="utf-8")  # the new one
    'new'
    >>> [p.name for p in tmp.iterdir()]  # the old directory is gone
    ['out']
    """
    swap_directory(tmp, out, skip=_previous_outputs(out))


def _single_crs(analysis_zones: set[str]) -> str:
    from ..reference import ZONE_CRS

    return ZONE_CRS[next(iter(analysis_zones))] if len(analysis_zones) == 1 else "EPSG:4326"


def write_results(analysis: Any, directory: Path, *, xlsx: bool = True,
                  gpkg: bool = True) -> list[Path]:
    """Write the analysis tables and GeoPackage into ``directory`` (which must exist).

    Files: ``couverture.csv`` (by région and département), ``territoires.csv``,
    ``conflits.csv``, ``zones_blanches.csv``, ``partages.csv``, ``couverture.xlsx`` (every table
    on its own sheet) and ``cpts.gpkg`` (layers ``territoires``, ``conflits``,
    ``zones_blanches``; in the zone's CRS when the analysis lies in one zone, else EPSG:4326).

    Examples
    --------
    >>> [p.name for p in write_results(analysis, tmp)]  # analyse(reg, ref, region="93")
    ['couverture.csv', 'territoires.csv', 'conflits.csv', 'zones_blanches.csv',
     'partages.csv', 'couverture.xlsx', 'cpts.gpkg']
    >>> pd.read_csv(tmp / "zones_blanches.csv", sep=";", encoding="utf-8-sig")["codes"][1]
    '06079;06138;83133'
    """
    from ..registry.stages import LABELS

    written: list[Path] = []
    cov = pd.concat([
        analysis.couverture["france"].assign(niveau="france"),
        analysis.couverture["region"].assign(niveau="region"),
        analysis.couverture["departement"].assign(niveau="departement"),
    ]).reset_index()
    cov = cov[["niveau", *[c for c in cov.columns if c != "niveau"]]]
    terr = analysis.territories.table.reset_index()
    terr.insert(3, "stade_libelle", terr["stade"].map(LABELS))
    tables = {
        "couverture": cov,
        "territoires": terr,
        "conflits": analysis.conflits,
        "zones_blanches": analysis.zones_blanches,
        "partages": analysis.partages,
    }
    for name, frame in tables.items():
        written.append(write_table(frame, directory / f"{name}.csv"))
    if xlsx:
        path = directory / "couverture.xlsx"
        with pd.ExcelWriter(path, engine="openpyxl") as writer:
            for name, frame in tables.items():
                _flatten(frame).map(_fit_cell).to_excel(writer, sheet_name=name[:31],
                                                        index=False)
        written.append(path)
    if gpkg and analysis.territories.geometry:
        written.append(write_gpkg(geo_layers(analysis), directory / "cpts.gpkg"))
    return written


def geo_layers(analysis: Any, crs: str | None = None) -> dict[str, gpd.GeoDataFrame]:
    """The GeoDataFrames of territories, conflicts and zones blanches of an analysis.

    Examples
    --------
    >>> layers = geo_layers(analysis)  # analyse(reg, ref, region="93")
    >>> {name: len(frame) for name, frame in layers.items()}
    {'territoires': 70, 'conflits': 0, 'zones_blanches': 7}
    >>> layers["territoires"].crs.to_epsg()  # the analysis lies in one zone: its CRS
    2154
    """
    import geopandas as gpd

    from ..reference import ZONE_CRS
    from ..analysis.topology import union_by_group

    reference = analysis.reference
    zones = set(analysis.territories.geometry) or {"metro"}
    crs = crs or _single_crs(zones)
    terr = analysis.territories.to_geodataframe(crs).reset_index()

    def unions(frame: pd.DataFrame, key: str) -> gpd.GeoDataFrame:
        if frame.empty:
            return gpd.GeoDataFrame(frame.copy(), geometry=[], crs=crs)
        codes, groups = [], []
        for k, cs in zip(frame[key], frame["codes"], strict=True):
            codes.extend(cs)
            groups.extend([k] * len(cs))
        zone_of = reference.units["zone"].reindex(codes).to_numpy()
        parts = []
        for zone in sorted(set(zone_of)):
            sel = zone_of == zone
            u = union_by_group(reference, zone, [c for c, s in zip(codes, sel, strict=True) if s],
                               [g for g, s in zip(groups, sel, strict=True) if s])
            parts.append(gpd.GeoSeries(u.to_numpy(), index=u.index, crs=ZONE_CRS[zone])
                         .to_crs(crs))
        geoms = pd.concat(parts)
        geoms = geoms[~geoms.index.duplicated()]
        return gpd.GeoDataFrame(frame.reset_index(drop=True),
                                geometry=geoms.reindex(frame[key]).to_numpy(), crs=crs)

    conf = analysis.conflits.copy()
    conf["paire"] = conf["cpts_a"].astype(str) + " / " + conf["cpts_b"].astype(str)
    return {
        "territoires": terr,
        "conflits": unions(conf, "paire"),
        "zones_blanches": unions(analysis.zones_blanches, "zone_blanche"),
    }


__all__ += ["geo_layers", "write_results"]
