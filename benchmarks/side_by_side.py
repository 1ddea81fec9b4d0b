"""The whole French job and ``check``, measured side by side with the naive script (issue 13).

In one run, alternating, as whole processes (``os.wait4``: wall time and each process's own
peak memory):

* **naive**: ``benchmarks/naive.py`` — read the commune layer, join the registry, ``dissolve()``,
  ``overlay()``, write a GeoPackage (what a GIS user writes; it gets DROM, arrondissements and
  shares wrong and computes no coverage, gap or atlas);
* **job**: ``cpts-geo coverage --registry R --out A`` followed by ``cpts-geo atlas --registry R
  --out B`` (the sum of the two processes);
* **job_new**: the same job on a registry never analysed before (one claim of R left out, a
  different one each round): the analysis, and what the pages derive from it, are computed
  rather than read from the cache;
* **check**: ``cpts-geo check PROJECT --registry R --json``, on a project never checked before
  (one unit of PROJECT left out, another each round): the quick path, without pandas, that a
  registry checked once takes (:mod:`cpts_geo.analysis.check_fast`);
* **check_full**: the same with ``-v``, which takes the full path (pandas, the registry read
  from its cache): for comparison, not a target;
* **mapshaper**: ``mapshaper members.shp -dissolve cpts_id -o ...`` (when npm is present).

Each round runs the four in a rotating order; the medians and the spread (min–max) are
reported, with the ratios job / naive, job / mapshaper and check / naive, computed from the
medians of the same run. The caches are warm (the first round is a warm-up, not counted).

Usage::

    CPTS_GEO_DATA=../shared/data python benchmarks/side_by_side.py REGISTRY.csv PROJECT.csv \\
        [--rounds 7] [--out DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
import tempfile
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))

from run import _bench_cache, _cli, _mapshaper, run_measured  # noqa: E402


def _commune_layer(data: Path) -> Path:
    return sorted((data / "communes").glob("communes-*.gpkg"))[-1]


def members_shapefile(registry: Path, data: Path, out: Path) -> Path:
    """The registry's member communes as a shapefile, for mapshaper."""
    import geopandas as gpd
    import pandas as pd

    layer = gpd.read_file(_commune_layer(data), layer="metro_l93")
    claims = pd.read_csv(registry, dtype=str, keep_default_na=False)
    city = {**{str(c): "75056" for c in range(75101, 75121)},
            **{str(c): "69123" for c in range(69381, 69390)},
            **{str(c): "13055" for c in range(13201, 13217)}}
    claims["code_commune"] = claims["code_commune"].map(lambda c: city.get(c, c))
    members = layer.merge(claims[["cpts_id", "code_commune"]], on="code_commune")
    path = out / "members.shp"
    members[["cpts_id", "geometry"]].to_file(path)
    return path


def side_by_side(registry: Path, project: Path, *, rounds: int, work: Path,
                 env: dict[str, str]) -> dict[str, Any]:
    """Run the rounds; return every measurement, the medians, spreads and ratios."""
    data = Path(env["CPTS_GEO_DATA"])
    cli = _cli()
    notes: list[str] = []
    mapshaper = _mapshaper(_bench_cache(), notes)
    shp = None
    if mapshaper:  # in a process of its own: geopandas would stay in this one's memory, and
        # each command's peak memory (os.wait4) counts what it inherits when forked
        import subprocess

        subprocess.run([sys.executable, str(Path(__file__).resolve()), "--shapefile",
                        str(registry), str(data), str(work)], check=True, env=env)
        shp = work / "members.shp"

    def naive() -> dict[str, Any]:
        return run_measured([sys.executable, str(HERE / "naive.py"), str(registry),
                             str(_commune_layer(data)), str(work / "naive")], env=env,
                            timeout=900)

    def whole_job(reg: Path, tag: str) -> dict[str, Any]:
        runs = [run_measured([*cli, "coverage", "--registry", str(reg), "--out",
                              str(work / f"{tag}-tables"), "--overwrite"], env=env, timeout=900),
                run_measured([*cli, "atlas", "--registry", str(reg), "--out",
                              str(work / f"{tag}-atlas"), "--overwrite"], env=env, timeout=900)]
        return {"wall_s": sum(r["wall_s"] for r in runs),
                "parts_s": [r["wall_s"] for r in runs],
                "peak_mb": max(r["peak_mb"] for r in runs),
                "returncode": max(r["returncode"] for r in runs),
                "output": runs[-1]["output"]}

    def job() -> dict[str, Any]:
        return whole_job(registry, "job")

    lines = registry.read_bytes().splitlines(keepends=True)
    fresh = iter(range(1, len(lines)))

    def job_new() -> dict[str, Any]:
        # a registry never analysed before: one claim left out, another each time (the
        # analysis and what is derived from it are computed, not read from the cache)
        k = next(fresh)
        variant = work / f"variant-{k}.csv"
        variant.write_bytes(b"".join(lines[:k] + lines[k + 1:]))
        return whole_job(variant, "new")

    project_lines = project.read_bytes().splitlines(keepends=True)
    fresh_project = iter(range(1, len(project_lines)))

    def check(*extra: str) -> dict[str, Any]:
        # a project never checked before: one unit left out, another each time
        k = next(fresh_project)
        variant = work / f"project-{k}.csv"
        variant.write_bytes(b"".join(project_lines[:k] + project_lines[k + 1:]))
        r = run_measured([*cli, "check", str(variant), "--registry", str(registry), "--json",
                          *extra], env=env, timeout=300)
        r["returncode"] = 0 if r["returncode"] in (0, 1) else r["returncode"]
        return r

    def check_full() -> dict[str, Any]:
        return check("-v")  # -v: the full path (pandas, the registry read from its cache)

    def dissolve() -> dict[str, Any]:
        assert mapshaper is not None and shp is not None
        return run_measured([*mapshaper, str(shp), "-dissolve", "cpts_id", "-o",
                             str(work / "ms-dissolved.shp"), "force"], timeout=600)

    commands = {"naive": naive, "job": job, "job_new": job_new, "check": check,
                "check_full": check_full}
    if mapshaper:
        commands["mapshaper"] = dissolve
    names = list(commands)
    for name in names:  # warm-up: caches filled, not counted
        first = commands[name]()
        if first["returncode"] != 0:
            raise SystemExit(f"{name} failed:\n{first['output'][-2000:]}")
    runs: dict[str, list[dict[str, Any]]] = {n: [] for n in names}
    for k in range(rounds):
        order = names[k % len(names):] + names[:k % len(names)]
        for name in order:
            runs[name].append(commands[name]())
            print(f"  round {k + 1}/{rounds} {name}: {runs[name][-1]['wall_s']:.2f} s",
                  file=sys.stderr)
    summary: dict[str, Any] = {}
    for name, rs in runs.items():
        walls = [r["wall_s"] for r in rs]
        summary[name] = {"median_s": statistics.median(walls), "min_s": min(walls),
                         "max_s": max(walls), "peak_mb": max(r["peak_mb"] for r in rs),
                         "runs_s": walls}
        if name in ("job", "job_new"):
            summary[name]["coverage_median_s"] = statistics.median(r["parts_s"][0] for r in rs)
            summary[name]["atlas_median_s"] = statistics.median(r["parts_s"][1] for r in rs)
    naive_s = summary["naive"]["median_s"]
    summary["ratios"] = {
        "job_over_naive": summary["job"]["median_s"] / naive_s,
        "new_registry_job_over_naive": summary["job_new"]["median_s"] / naive_s,
        "check_over_naive": summary["check"]["median_s"] / naive_s,
        "full_check_over_naive": summary["check_full"]["median_s"] / naive_s,
        "job_over_mapshaper": (summary["job"]["median_s"] / summary["mapshaper"]["median_s"]
                               if "mapshaper" in summary else None),
    }
    summary["notes"] = notes
    return summary


def print_summary(summary: dict[str, Any]) -> None:
    """The medians, spreads and ratios as a table."""
    print(f"{'process':<34} {'median (s)':>10} {'min-max (s)':>14} {'peak MB':>8}")
    labels = {"naive": "naive script (read, join, dissolve, overlay)",
              "job": "cpts-geo coverage --out + atlas",
              "job_new": "the same, registry never analysed",
              "check": "cpts-geo check --json",
              "check_full": "cpts-geo check --json -v (full)",
              "mapshaper": "mapshaper -dissolve"}
    for name, label in labels.items():
        if name not in summary:
            continue
        s = summary[name]
        print(f"{label[:34]:<34} {s['median_s']:>10.2f} "
              f"{s['min_s']:>6.2f}-{s['max_s']:<6.2f} {s['peak_mb']:>8.0f}")
    for name in ("job", "job_new"):
        if name in summary:
            print(f"  {name}: coverage --out median {summary[name]['coverage_median_s']:.2f} s, "
                  f"atlas median {summary[name]['atlas_median_s']:.2f} s")
    r = summary["ratios"]
    print(f"ratio job / naive      {r['job_over_naive']:.2f}  (target <= 1.0)")
    print(f"  the same, new registry {r['new_registry_job_over_naive']:.2f}")
    print(f"ratio check / naive    {r['check_over_naive']:.3f} (target <= 0.15)")
    print(f"  the full path (-v)     {r['full_check_over_naive']:.3f}")
    if r["job_over_mapshaper"] is not None:
        print(f"ratio job / mapshaper  {r['job_over_mapshaper']:.2f}")


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["--shapefile"]:
        members_shapefile(Path(argv[1]), Path(argv[2]), Path(argv[3]))
        return 0
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("registry", type=Path)
    parser.add_argument("project", type=Path)
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--out", type=Path, default=None, help="keep the work files here")
    args = parser.parse_args(argv)
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)  # an installed tool runs from compiled bytecode
    env.setdefault("CPTS_GEO_DATA", str(ROOT.parent / "shared" / "data"))
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    work = args.out or Path(tempfile.mkdtemp(prefix="cpts-side-"))
    work.mkdir(parents=True, exist_ok=True)
    try:
        summary = side_by_side(args.registry.resolve(), args.project.resolve(),
                               rounds=args.rounds, work=work, env=env)
    finally:
        if args.out is None:
            shutil.rmtree(work, ignore_errors=True)
    print_summary(summary)
    print(json.dumps(summary["ratios"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
