"""France-scale benchmark of cpts_geo, against what a user would do without it.

One run, on one generated registry (about 1,000 CPTS over the 34,875 communes of France, see
``generate_registry.py``):

* each stage of the pipeline timed in a fresh worker process: imports, load reference, clean
  (cold: the cleaned coverage built into an empty ``CPTS_GEO_CACHE``; warm: read back), read
  registry, membership, dissolve, conflicts, coverage, analyse, atlas written, tables written;
  with the peak memory (``ru_maxrss``) of that process after each stage;
* the whole pipeline as a user runs it: ``cpts-geo atlas --registry FILE --out DIR``, and
  ``cpts-geo check PROJECT --registry FILE --json`` (and the same check in-process, after
  start-up), each in its own subprocess with its own peak memory (``os.wait4``);
* baselines on the same data: geopandas ``dissolve(by="cpts_id")`` with its defaults on the member
  communes joined from the raw ``metro_l93`` layer, ``geopandas.overlay(how="intersection")``
  between the territories it gives (to find overlaps), and mapshaper's ``-dissolve cpts_id`` on
  the same member communes written as a shapefile (mapshaper is installed with npm into a cache
  directory when npm is present).

* issue 13, side by side in one run (``side_by_side.py``): the naive script, the whole job
  (``cpts-geo coverage --out`` then ``cpts-geo atlas``, warm caches, and again on a registry
  never analysed), ``cpts-geo check`` and mapshaper, alternating for ``--rounds`` rounds, as
  whole processes with their peak memory: the job / naive, job / mapshaper and check / naive
  ratios from the medians;
* the size of the national page and of the largest région page written by ``cpts-geo atlas``,
  and their first render in headless Chromium (``atlas_budget.render_times``).

It prints one table (stage, time, peak MB, baseline, baseline time, ratio), the side-by-side
medians, spreads and ratios, the pages, says which targets hold, and writes the same as JSON to
``benchmarks/results/latest.json`` (not committed). Exit code 0 unless the script itself
crashes. Run::

    CPTS_GEO_DATA=/path/to/data python benchmarks/run.py [--registry FILE] [--repeat 3] \
        [--rounds 5] [--render-runs 5]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
RESULTS = HERE / "results" / "latest.json"

#: The issue's targets (2-core machine, whole France, warm cache).
TARGET_PIPELINE_S = 10.0
TARGET_DISSOLVE_RATIO = 10.0
TARGET_CHECK_S = 0.5
TARGET_PEAK_MB = 1500.0
#: Issue 13: the whole job (coverage --out + atlas) at most the naive script's time, check at
#: most 0.15 of it (medians of the same side-by-side run).
TARGET_JOB_RATIO = 1.0
TARGET_CHECK_RATIO = 0.15

PROJECT_ID = "PROJET-BENCH"
PROJECT_NAME = "Projet de CPTS (benchmark)"


# ------------------------------------------------------------------------------------------
# measuring


def _peak_mb() -> float:
    """High-water mark of this process's resident memory, in MB (Linux: ru_maxrss in kB)."""
    import resource

    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return rss / (1024 * 1024) if sys.platform == "darwin" else rss / 1024


def run_measured(cmd: list[str], *, env: dict[str, str] | None = None,
                 timeout: float | None = None, log: Path | None = None) -> dict[str, Any]:
    """Run ``cmd``; return its wall time, exit code, own peak memory and output tail.

    The child's resource usage comes from ``os.wait4`` on its pid, so each subprocess has its
    own peak memory. On timeout its process group is killed.
    """
    out = tempfile.TemporaryFile()  # noqa: SIM115 - closed below, after wait4
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, env=env,
                            start_new_session=True)
    timed_out = threading.Event()

    def kill() -> None:
        timed_out.set()
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)

    timer = threading.Timer(timeout, kill) if timeout else None
    if timer:
        timer.start()
    try:
        _, status, usage = os.wait4(proc.pid, 0)
    finally:
        if timer:
            timer.cancel()
    wall = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    out.seek(0)
    text = out.read().decode("utf-8", "replace")
    out.close()
    if log is not None:
        log.write_text(text, encoding="utf-8")
    rss = usage.ru_maxrss / (1024 * 1024 if sys.platform == "darwin" else 1024)
    return {"wall_s": wall, "returncode": proc.returncode, "peak_mb": rss,
            "timed_out": timed_out.is_set(), "output": text[-3000:]}


class Recorder:
    """Stage timings of a worker, rewritten to a JSON file after each stage."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.data: dict[str, Any] = {"stages": {}}

    def add(self, name: str, seconds: float | None, **extra: Any) -> None:
        self.data["stages"][name] = {"s": seconds, "peak_mb": _peak_mb(), **extra}
        self.flush()

    def time(self, name: str, func: Any, *args: Any, **kwargs: Any) -> Any:
        start = time.perf_counter()
        result = func(*args, **kwargs)
        self.add(name, time.perf_counter() - start)
        return result

    def repeat(self, name: str, n: int, func: Any, *args: Any) -> None:
        times = []
        for _ in range(n):
            start = time.perf_counter()
            func(*args)
            times.append(time.perf_counter() - start)
        self.add(name, statistics.median(times), runs=times)

    def flush(self) -> None:
        self.path.write_text(json.dumps(self.data, indent=1, default=str), encoding="utf-8")


# ------------------------------------------------------------------------------------------
# workers (each runs in its own process: ``run.py --worker NAME ...``)


def worker_pipeline(args: argparse.Namespace) -> None:
    """Every stage in-process, as the atlas command chains them."""
    rec = Recorder(Path(args.json))
    start = time.perf_counter()
    from cpts_geo.analysis import analyse
    from cpts_geo.analysis.coverage import coverage_table, zones_blanches
    from cpts_geo.analysis.overlaps import conflict_units, conflicts, shared_communes
    from cpts_geo.analysis.territories import dissolve
    from cpts_geo.analysis.topology import union_by_group
    from cpts_geo.reference import load_reference
    from cpts_geo.registry import membership, read_registry

    rec.add("imports", time.perf_counter() - start)
    ref = rec.time("load", load_reference)
    rec.time("clean", lambda: [ref.geometry(z) for z in ref.zones])
    reg = rec.time("read", read_registry, args.registry, ref)
    members = rec.time("membership", membership, reg, ref)
    cpts = reg.cpts
    rec.time("dissolve", dissolve, members, cpts, ref)
    names = cpts["cpts_nom"]

    def all_conflicts() -> Any:
        return (conflicts(members, ref, names), conflict_units(members, ref),
                shared_communes(members, ref))

    def coverage() -> Any:
        return (zones_blanches(members, ref),
                [coverage_table(members, ref, level=lvl)
                 for lvl in ("france", "region", "departement")])

    conf = rec.time("conflicts", all_conflicts)
    zb, _ = rec.time("coverage", coverage)
    analysis = rec.time("analyse", analyse, reg, ref)
    try:
        from cpts_geo.atlas import write_atlas

        pages = rec.time("atlas", write_atlas, analysis, Path(args.out) / "atlas")
        rec.data["atlas_pages"] = len(pages)
    except (ImportError, NotImplementedError) as exc:
        rec.add("atlas", None, unavailable=f"{type(exc).__name__}: {exc}")
    try:
        from cpts_geo.outputs import write_results

        tables = Path(args.out) / "tables"
        tables.mkdir(parents=True, exist_ok=True)
        rec.time("tables", write_results, analysis, tables)
    except Exception as exc:  # another engineer's stage: report, go on
        rec.add("tables", None, unavailable=f"{type(exc).__name__}: {exc}")
    if args.repeat:
        rec.repeat("dissolve_median", args.repeat, dissolve, members, cpts, ref)
        rec.repeat("dissolve_table_median", args.repeat,
                   lambda: dissolve(members, cpts, ref, geometry=False))

        def unions() -> None:
            for zone, sub in members.groupby("zone", sort=False):
                union_by_group(ref, str(zone), list(sub["code"]), list(sub["cpts_id"]))

        rec.repeat("unions_median", args.repeat, unions)
        rec.repeat("conflicts_median", args.repeat, all_conflicts)
        rec.repeat("coverage_median", args.repeat, coverage)
    rec.data["registry"] = {
        "cpts": int(members["cpts_id"].nunique()), "claims": len(reg.claims),
        "members": len(members), "conflict_pairs": len(conf[0]),
        "shared_communes": len(conf[2]), "zones_blanches": len(zb),
        "units": len(ref.finest), "communes": int((ref.units["type"] == "commune").sum()),
    }
    if args.project:
        _write_project(ref, members, Path(args.project))
    rec.flush()


def _write_project(ref: Any, members: Any, path: Path) -> None:
    """A realistic project to check: the largest metropolitan CPTS redrawn by another team,
    without its most connected unit (an enclave) and with two units of a neighbour (a
    conflict)."""
    import numpy as np
    import pandas as pd

    from cpts_geo.analysis.topology import adjacency

    metro = members[members["zone"] == "metro"]
    sizes = metro.groupby("cpts_id").size().sort_values(kind="stable")
    cid = sizes.index[-1]
    codes = sorted(metro.loc[metro["cpts_id"] == cid, "code"])
    left, right = adjacency(ref, "metro", codes)
    degree = np.bincount(np.concatenate([left, right]), minlength=len(codes))
    dropped = codes[int(np.argmax(degree))]
    project = [c for c in codes if c != dropped]
    zone_codes = list(ref.finest.index[ref.finest["zone"] == "metro"])
    pos = {c: i for i, c in enumerate(zone_codes)}
    mine = {pos[c] for c in codes}
    le, ri = adjacency(ref, "metro", zone_codes)
    owner = metro.drop_duplicates("code").set_index("code")["cpts_id"]
    extra = []
    for a, b in zip(le.tolist(), ri.tolist(), strict=True):
        for inside, outside in ((a, b), (b, a)):
            code = zone_codes[outside]
            if (inside in mine and outside not in mine and code not in extra
                    and owner.get(code, cid) != cid):
                extra.append(code)
        if len(extra) >= 2:
            break
    frame = pd.DataFrame({"cpts_id": PROJECT_ID, "cpts_nom": PROJECT_NAME,
                          "stade": "Lettre d'intention validée",
                          "code_commune": project + extra[:2], "partage": ""})
    frame.to_csv(path, index=False)


def worker_check(args: argparse.Namespace) -> None:
    """``cpts-geo check`` in-process: after start-up = load + read registry and project + check."""
    rec = Recorder(Path(args.json))
    start = time.perf_counter()
    import geopandas  # noqa: F401 - the full path's start-up (the command line may take the quick one)

    from cpts_geo.analysis.check import check_project
    from cpts_geo.reference import load_reference
    from cpts_geo.registry import read_registry

    rec.add("imports", time.perf_counter() - start)
    begin = time.perf_counter()
    ref = rec.time("load", load_reference)
    reg = rec.time("read", read_registry, args.registry, ref)
    proj = rec.time("read_project", read_registry, args.project, ref)
    result = rec.time("check_project", check_project, proj, reg, ref)
    rec.add("after_startup", time.perf_counter() - begin)
    if args.repeat:
        rec.repeat("check_project_median", args.repeat, check_project, proj, reg, ref)
    out = result.to_dict()
    rec.data["result"] = {"conflits": [(c["cpts_id"], len(c["codes"])) for c in out["conflits"]],
                          "population_totale": out["population_totale"],
                          "parties": len(out["parties"]), "enclaves": out["enclaves"],
                          "units": len(out["codes"])}
    rec.flush()


def worker_geopandas(args: argparse.Namespace) -> None:
    """The user's way: read the raw layer, join the registry, ``dissolve(by="cpts_id")``."""
    rec = Recorder(Path(args.json))
    start = time.perf_counter()
    import geopandas as gpd
    import pandas as pd

    rec.add("imports", time.perf_counter() - start)
    gpkg = _commune_layer(Path(args.data))
    communes = rec.time("read", gpd.read_file, gpkg, layer="metro_l93")
    registry = pd.read_csv(args.registry, dtype=str, keep_default_na=False)
    # the raw layer has Paris, Lyon and Marseille whole: claims on an arrondissement go to
    # the city's polygon (a user would have to do this by hand)
    from cpts_geo.reference.codes import CITY_OF_ARRONDISSEMENT

    registry["code_commune"] = registry["code_commune"].map(
        lambda c: CITY_OF_ARRONDISSEMENT.get(c, c))
    members = rec.time("join", communes.merge, registry[["cpts_id", "code_commune"]],
                       on="code_commune")
    rec.data["members"] = len(members)
    times = []
    dissolved = None
    for _ in range(max(1, args.repeat)):
        t0 = time.perf_counter()
        dissolved = members.dissolve(by="cpts_id")
        times.append(time.perf_counter() - t0)
    rec.add("dissolve", times[0])
    rec.add("dissolve_median", statistics.median(times), runs=times)
    rec.data["territories"] = len(dissolved)
    members[["cpts_id", "geometry"]].to_file(Path(args.out) / "members.shp")
    dissolved.reset_index()[["cpts_id", "geometry"]].to_file(Path(args.out) / "territories.gpkg")
    rec.flush()


def worker_overlay(args: argparse.Namespace) -> None:
    """The user's way to find overlaps: ``geopandas.overlay(t, t, how="intersection")``."""
    import warnings

    rec = Recorder(Path(args.json))
    import geopandas as gpd

    territories = gpd.read_file(Path(args.out) / "territories.gpkg")
    if args.subset:
        keep = sorted(territories["cpts_id"].str[5:7].unique())
        chosen, n = [], 0
        for region in keep:  # whole régions until the subset is reached
            if n >= args.subset:
                break
            chosen.append(region)
            n += int((territories["cpts_id"].str[5:7] == region).sum())
        territories = territories[territories["cpts_id"].str[5:7].isin(chosen)]
    rec.data["territories"] = len(territories)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        t0 = time.perf_counter()
        over = gpd.overlay(territories, territories, how="intersection")
        rec.add("overlay", time.perf_counter() - t0)
    over = over[over["cpts_id_1"] < over["cpts_id_2"]]
    rec.data["pairs"] = int((over.area > 1.0).sum())  # m²: slivers of the raw layer included
    rec.flush()


def _commune_layer(data: Path) -> Path:
    files = sorted((data / "communes").glob("communes-*.gpkg"))
    if not files:
        raise SystemExit(f"no communes/communes-*.gpkg under {data}")
    return files[-1]


WORKERS = {"pipeline": worker_pipeline, "check": worker_check, "geopandas": worker_geopandas,
           "overlay": worker_overlay}


# ------------------------------------------------------------------------------------------
# driver


def _worker(name: str, tmp: Path, env: dict[str, str], timeout: float, **opts: Any
            ) -> tuple[dict[str, Any], dict[str, Any]]:
    """Run a worker in its own process; return (its JSON, the subprocess measurement)."""
    out = tmp / f"{name}-{opts.pop('tag', '')}.json"
    cmd = [sys.executable, str(Path(__file__).resolve()), "--worker", name, "--json", str(out)]
    for key, value in opts.items():
        if value is not None:
            cmd += [f"--{key.replace('_', '-')}", str(value)]
    proc = run_measured(cmd, env=env, timeout=timeout)
    data = json.loads(out.read_text(encoding="utf-8")) if out.exists() else {"stages": {}}
    if proc["returncode"] != 0:
        print(f"  ! worker {name} exited {proc['returncode']}"
              f"{' (timed out)' if proc['timed_out'] else ''}:\n{proc['output'][-1500:]}",
              file=sys.stderr)
    return data, proc


def _stage(data: dict[str, Any], name: str) -> dict[str, Any]:
    return data.get("stages", {}).get(name) or {}


def run_checked(cmd: list[str], *, env: dict[str, str] | None = None,
                timeout: float | None = None) -> dict[str, Any]:
    """:func:`run_measured`, stopping the benchmark with the output's tail when ``cmd`` fails."""
    r = run_measured(cmd, env=env, timeout=timeout)
    if r["returncode"] != 0:
        raise SystemExit(f"{' '.join(cmd)} exited {r['returncode']}: {r['output'][-500:]}")
    return r


def _cli() -> list[str]:
    exe = shutil.which("cpts-geo")
    return [exe] if exe else [sys.executable, "-m", "cpts_geo"]


def _mapshaper(cache: Path, log: list[str]) -> list[str] | None:
    """The mapshaper command, installed with npm into ``cache`` when missing."""
    node, npm = shutil.which("node"), shutil.which("npm")
    if not node or not npm:
        log.append("mapshaper: npm or node not found, baseline skipped")
        return None
    prefix = cache / "npm"
    exe = prefix / "node_modules" / "mapshaper" / "bin" / "mapshaper"
    if not exe.exists():
        print(f"  installing mapshaper with npm into {prefix} ...", file=sys.stderr)
        prefix.mkdir(parents=True, exist_ok=True)
        try:
            subprocess.run([npm, "install", "--prefix", str(prefix), "mapshaper", "--no-audit",
                            "--no-fund", "--loglevel=error"], check=True, timeout=900,
                           stdout=subprocess.DEVNULL)
        except (subprocess.SubprocessError, OSError) as exc:
            log.append(f"mapshaper: npm install failed ({exc}), baseline skipped")
            return None
    return [node, str(exe)] if exe.exists() else None


def _bench_cache() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "cpts_geo" / "bench"


def _fmt(value: float | None, digits: int = 2) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--registry", type=Path, default=None,
                        help="registry CSV to use (default: generate one)")
    parser.add_argument("--n", type=int, default=1000, help="CPTS to generate")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--repeat", type=int, default=5,
                        help="runs of the short stages and baselines (median reported)")
    parser.add_argument("--overlay-timeout", type=float, default=300.0)
    parser.add_argument("--no-baselines", action="store_true")
    parser.add_argument("--keep", type=Path, default=None,
                        help="keep the work directory here (default: a deleted temp dir)")
    parser.add_argument("--results", type=Path, default=RESULTS)
    parser.add_argument("--rounds", type=int, default=5,
                        help="alternating rounds of the side-by-side comparison (0: skip)")
    parser.add_argument("--render-runs", type=int, default=5,
                        help="first-render measurements of each page in Chromium (0: skip)")
    parser.add_argument("--chromium", default="/usr/bin/chromium")
    # worker mode
    parser.add_argument("--worker", choices=sorted(WORKERS), help=argparse.SUPPRESS)
    parser.add_argument("--json", help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    parser.add_argument("--project", help=argparse.SUPPRESS)
    parser.add_argument("--data", help=argparse.SUPPRESS)
    parser.add_argument("--subset", type=int, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    if args.worker:
        if args.registry is not None:
            args.registry = str(args.registry)
        WORKERS[args.worker](args)
        return 0
    if args.keep:
        args.keep.mkdir(parents=True, exist_ok=True)
        return _drive(args, args.keep)
    with tempfile.TemporaryDirectory(prefix="cpts-bench-") as tmp:
        return _drive(args, Path(tmp))


def _drive(args: argparse.Namespace, tmp: Path) -> int:
    from cpts_geo.reference import locate_data

    t_start = time.perf_counter()
    data = locate_data(None)
    env = dict(os.environ, CPTS_GEO_DATA=str(data))
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    notes: list[str] = []
    load_before = os.getloadavg()
    print(f"cpts_geo benchmark: data {data}, {os.cpu_count()} cores, load average "
          f"{load_before[0]:.2f}", file=sys.stderr)
    if load_before[0] > 0.7:
        notes.append(f"machine busy at start (load average {load_before[0]:.2f}): timings may "
                     "be inflated")

    # 1. registry
    gen = None
    if args.registry is None:
        registry = tmp / "france.csv"
        print("  generating the registry ...", file=sys.stderr)
        gen = run_measured([sys.executable, str(HERE / "generate_registry.py"), "--out",
                            str(registry), "--seed", str(args.seed), "--n", str(args.n)],
                           env=env, timeout=600)
        if gen["returncode"] != 0:
            print(gen["output"], file=sys.stderr)
            raise SystemExit("registry generation failed")
        notes.append(gen["output"].strip().splitlines()[-1])
    else:
        registry = args.registry.resolve()
    project = tmp / "project.csv"

    # 2. pipeline, cold then warm cache
    cache = tmp / "cache"
    cache.mkdir()
    env_cache = dict(env, CPTS_GEO_CACHE=str(cache))
    print("  pipeline, cold cache ...", file=sys.stderr)
    (tmp / "cold").mkdir()
    cold, cold_proc = _worker("pipeline", tmp, env_cache, 900, tag="cold", registry=registry,
                              out=tmp / "cold", repeat=0)
    print("  pipeline, warm cache ...", file=sys.stderr)
    (tmp / "warm").mkdir()
    warm, warm_proc = _worker("pipeline", tmp, env_cache, 900, tag="warm", registry=registry,
                              out=tmp / "warm", repeat=args.repeat, project=project)

    # 3. the commands as a user runs them
    print("  cpts-geo atlas ...", file=sys.stderr)
    atlas_cli = run_measured([*_cli(), "atlas", "--registry", str(registry), "--out",
                              str(tmp / "cli-atlas")], env=env_cache, timeout=900)
    if atlas_cli["returncode"] != 0:
        notes.append(f"cpts-geo atlas exited {atlas_cli['returncode']}: "
                     f"{atlas_cli['output'].strip().splitlines()[-1][:200]}")
    startup = [run_measured([sys.executable, "-c", "import geopandas, cpts_geo.cli, "
                             "cpts_geo.reference, cpts_geo.registry, cpts_geo.analysis.overlaps"],
                            env=env_cache)["wall_s"] for _ in range(max(1, args.repeat))]
    check_runs = []
    check, check_proc = {"stages": {}}, {}
    if project.exists():
        print("  cpts-geo check ...", file=sys.stderr)
        check, check_proc = _worker("check", tmp, env_cache, 300, tag="", registry=registry,
                                    project=project, repeat=args.repeat)
        for _ in range(max(1, args.repeat)):
            check_runs.append(run_measured([*_cli(), "check", str(project), "--registry",
                                            str(registry), "--json"], env=env_cache,
                                           timeout=300))
        if check_runs[0]["returncode"] not in (0, 1):
            notes.append(f"cpts-geo check exited {check_runs[0]['returncode']}: "
                         f"{check_runs[0]['output'][-300:]}")
    else:
        notes.append("no project file was written: check skipped")

    # 4. baselines
    gpd, gpd_proc, overlay, overlay_note, ms = {"stages": {}}, {}, {}, "", {}
    if not args.no_baselines:
        print("  geopandas dissolve ...", file=sys.stderr)
        (tmp / "gpd").mkdir()
        gpd, gpd_proc = _worker("geopandas", tmp, env, 900, tag="", registry=registry,
                                out=tmp / "gpd", data=data, repeat=args.repeat)
        if (tmp / "gpd" / "territories.gpkg").exists():
            print("  geopandas overlay ...", file=sys.stderr)
            over, over_proc = _worker("overlay", tmp, env, args.overlay_timeout, tag="full",
                                      out=tmp / "gpd")
            if over_proc["timed_out"] or _stage(over, "overlay").get("s") is None:
                sub, _ = _worker("overlay", tmp, env, args.overlay_timeout, tag="subset",
                                 out=tmp / "gpd", subset=150)
                s = _stage(sub, "overlay").get("s")
                n_sub, n_all = sub.get("territories") or 0, gpd.get("territories") or 0
                if s is not None and n_sub:
                    overlay = {"s": s * n_all / n_sub, "peak_mb": over_proc["peak_mb"],
                               "pairs": None}
                    overlay_note = (f"timed out after {args.overlay_timeout:.0f} s; "
                                    f"extrapolated from {n_sub} territories ({s:.2f} s)")
            else:
                overlay = {"s": _stage(over, "overlay")["s"], "peak_mb": over_proc["peak_mb"],
                           "pairs": over.get("pairs")}
        print("  mapshaper ...", file=sys.stderr)
        cmd = _mapshaper(_bench_cache(), notes)
        shp = tmp / "gpd" / "members.shp"
        if cmd and shp.exists():
            version = run_measured([*cmd, "-v"])["output"].strip()
            runs, io_runs = [], []
            for i in range(max(1, args.repeat)):
                runs.append(run_measured([*cmd, str(shp), "-dissolve", "cpts_id", "-o",
                                          str(tmp / "gpd" / f"ms-dissolved-{i}.shp")],
                                         timeout=600))
                io_runs.append(run_measured([*cmd, str(shp), "-o",
                                             str(tmp / "gpd" / f"ms-io-{i}.shp")],
                                            timeout=600))
            ok = [r for r in runs if r["returncode"] == 0]
            if ok:
                ms = {"s": statistics.median(r["wall_s"] for r in ok),
                      "io_s": statistics.median(r["wall_s"] for r in io_runs),
                      "peak_mb": max(r["peak_mb"] for r in ok), "version": version,
                      "runs": [r["wall_s"] for r in ok]}
            else:
                notes.append(f"mapshaper failed: {runs[0]['output'][-300:]}")

    # 5. issue 13: the whole job and check side by side with the naive script, alternating;
    # the pages' sizes and first render
    side = _side_by_side(args, registry, project, tmp, env)
    pages = _pages(tmp / "cli-atlas", args)

    # 6. the table
    w = warm
    rows: list[dict[str, Any]] = []

    def row(stage: str, s: float | None, mb: float | None = None, baseline: str = "",
            base_s: float | None = None, note: str = "") -> None:
        ratio = base_s / s if (s and base_s) else None
        rows.append({"stage": stage, "s": s, "peak_mb": mb, "baseline": baseline,
                     "baseline_s": base_s, "ratio": ratio, "note": note})

    if gen:
        row("generate registry (subprocess)", gen["wall_s"], gen["peak_mb"])
    for key, label in (("imports", "imports"), ("load", "load reference")):
        st = _stage(w, key)
        row(label, st.get("s"), st.get("peak_mb"))
    st = _stage(cold, "clean")
    row("clean, cold (build cleaned coverage + cache)", st.get("s"), st.get("peak_mb"))
    st = _stage(w, "clean")
    row("clean, warm (read cache)", st.get("s"), st.get("peak_mb"))
    for key, label in (("read", "read registry"), ("membership", "membership")):
        st = _stage(w, key)
        row(label, st.get("s"), st.get("peak_mb"))
    st = _stage(w, "dissolve")
    row("dissolve (first call)", st.get("s"), st.get("peak_mb"))
    gpd_d = _stage(gpd, "dissolve_median").get("s")
    st = _stage(w, "dissolve_median")
    row("dissolve (median)", st.get("s"), st.get("peak_mb"), "geopandas dissolve()", gpd_d,
        f"baseline: metro layer only ({gpd['territories']} territories)"
        if gpd.get("territories") else "")
    if ms:
        row("dissolve (median)", st.get("s"), st.get("peak_mb"), "mapshaper -dissolve", ms["s"],
            f"mapshaper {ms.get('version', '')}: total wall incl. node start-up and file I/O; "
            f"read+write alone {ms['io_s']:.2f} s")
        row("dissolve (median)", st.get("s"), st.get("peak_mb"),
            "mapshaper -dissolve minus I/O", max(ms["s"] - ms["io_s"], 1e-9))
    st = _stage(w, "unions_median")
    row("  of which polygon unions (median)", st.get("s"), st.get("peak_mb"))
    st = _stage(w, "dissolve_table_median")
    row("  table alone, no geometry (median)", st.get("s"), st.get("peak_mb"))
    st = _stage(w, "conflicts")
    stm = _stage(w, "conflicts_median")
    row("conflicts (first call)", st.get("s"), st.get("peak_mb"))
    row("conflicts (median)", stm.get("s"), stm.get("peak_mb"), "geopandas overlay()",
        overlay.get("s"), overlay_note or (f"overlay finds {overlay.get('pairs')} overlapping "
                                           f"pairs (slivers); the registry has "
                                           f"{w.get('registry', {}).get('conflict_pairs')}"
                                           if overlay else ""))
    st = _stage(w, "coverage")
    row("coverage: zones blanches + tables (first call)", st.get("s"), st.get("peak_mb"))
    st = _stage(w, "coverage_median")
    row("coverage (median)", st.get("s"), st.get("peak_mb"))
    st = _stage(w, "analyse")
    row("analyse (all of the above in one call)", st.get("s"), st.get("peak_mb"))
    st = _stage(w, "atlas")
    if st.get("s") is None:
        row("atlas: not available", None, None, note=str(st.get("unavailable", "")))
    else:
        row("atlas written (write_atlas)", st["s"], st["peak_mb"],
            note=f"{w.get('atlas_pages')} pages")
        cst = _stage(cold, "atlas")
        row("  atlas, cold cache", cst.get("s"), cst.get("peak_mb"))
    st = _stage(w, "tables")
    if st.get("s") is not None:
        row("tables written (write_results)", st["s"], st["peak_mb"])
    atlas_ok = atlas_cli["returncode"] == 0
    row("PIPELINE: cpts-geo atlas (subprocess, warm)", atlas_cli["wall_s"] if atlas_ok else None,
        atlas_cli["peak_mb"], note="" if atlas_ok else "failed (see notes)")
    row("start-up: python + imports (subprocess)", statistics.median(startup),
        note="interpreter, geopandas, cpts_geo")
    if check_runs:
        walls = [r["wall_s"] for r in check_runs]
        st = _stage(check, "check_project")
        row("check_project alone (first call)", st.get("s"), st.get("peak_mb"))
        st = _stage(check, "check_project_median")
        row("check_project alone (median, in-process)", st.get("s"), st.get("peak_mb"))
        st = _stage(check, "after_startup")
        row("CHECK after start-up (load + read + check)", st.get("s"), st.get("peak_mb"),
            note="the full path, in-process: " + ", ".join(
                f"{k} {_fmt(_stage(check, k).get('s'))}"
                for k in ("load", "read", "read_project", "check_project")))
        row("check: cpts-geo check --json (subprocess)", statistics.median(walls),
            max(r["peak_mb"] for r in check_runs),
            note="the quick path: no pandas, no geopandas (the start-up above is not paid)")
    if gpd.get("stages"):
        row("baseline: geopandas read + join", (_stage(gpd, "read").get("s") or 0)
            + (_stage(gpd, "join").get("s") or 0), gpd_proc.get("peak_mb"))

    # warm cache, as the targets say: the pipeline worker, the two commands
    peaks = [p for p in (warm_proc.get("peak_mb"), atlas_cli["peak_mb"],
                         check_proc.get("peak_mb"), *(r["peak_mb"] for r in check_runs)) if p]
    peak = max(peaks) if peaks else None
    d_ours = _stage(w, "dissolve_median").get("s")
    check_s = _stage(check, "after_startup").get("s")
    targets = {
        "pipeline_under_10s": {
            "measured_s": atlas_cli["wall_s"] if atlas_ok else None,
            "met": bool(atlas_ok and atlas_cli["wall_s"] < TARGET_PIPELINE_S)},
        "dissolve_10x_geopandas": {
            "ratio": (gpd_d / d_ours) if (gpd_d and d_ours) else None,
            "met": bool(gpd_d and d_ours and gpd_d / d_ours >= TARGET_DISSOLVE_RATIO)},
        "dissolve_faster_than_mapshaper": {
            "ratio": (ms["s"] / d_ours) if (ms and d_ours) else None,
            "ratio_without_io": ((ms["s"] - ms["io_s"]) / d_ours) if (ms and d_ours) else None,
            "met": bool(ms and d_ours and ms["s"] > d_ours)},
        "check_under_0.5s_after_startup": {
            "measured_s": check_s, "check_project_s": _stage(check, "check_project_median")
            .get("s"), "met": bool(check_s is not None and check_s < TARGET_CHECK_S)},
        "peak_memory_under_1.5GB": {"measured_mb": peak,
                                    "met": bool(peak is not None and peak < TARGET_PEAK_MB)},
    }
    if side:
        r = side["ratios"]
        targets["job_at_most_naive"] = {"ratio": r["job_over_naive"],
                                        "met": r["job_over_naive"] <= TARGET_JOB_RATIO}
        targets["check_at_most_0.15_naive"] = {"ratio": r["check_over_naive"],
                                               "met": r["check_over_naive"] <= TARGET_CHECK_RATIO}
    _print_table(rows)
    if side:
        print()
        from side_by_side import print_summary

        print(f"side by side, {args.rounds} alternating rounds, whole processes (median, "
              "min-max):")
        print_summary(side)
    if pages:
        print()
        print("atlas pages (cpts-geo atlas above):")
        for p in pages["pages"]:
            first = p.get("first_render_s")
            print(f"  {p['page']:<12} {p['mb']:6.2f} MB"
                  + (f"   first render {first:.3f} s (median of {p['runs']}, "
                     f"{p['min_s']:.3f}-{p['max_s']:.3f})" if first is not None else ""))
        if pages.get("note"):
            print(f"  note: {pages['note']}")
    print()
    for name, t in targets.items():
        detail = ", ".join(f"{k} {_fmt(v) if isinstance(v, float) else v}"
                           for k, v in t.items() if k != "met")
        print(f"  target {name}: {'MET' if t['met'] else 'NOT MET'} ({detail})")
    load_after = os.getloadavg()
    for note in notes:
        print(f"  note: {note}")
    total = time.perf_counter() - t_start
    print(f"  benchmark took {total:.0f} s; load average at end {load_after[0]:.2f}")
    result = {
        "when": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "seconds": total,
        "machine": {"cores": os.cpu_count(), "platform": platform.platform(),
                    "python": platform.python_version(), "load_before": load_before,
                    "load_after": load_after},
        "registry": str(registry), "registry_stats": w.get("registry"),
        "rows": rows, "targets": targets, "notes": notes,
        "cold_pipeline_peak_mb": cold_proc.get("peak_mb"),
        "check_result": check.get("result"), "mapshaper": ms or None,
        "side_by_side": side or None, "pages": pages or None,
        "versions": _versions(),
    }
    args.results.parent.mkdir(parents=True, exist_ok=True)
    args.results.write_text(json.dumps(result, indent=1, ensure_ascii=False, default=str),
                            encoding="utf-8")
    print(f"  results written to {args.results}")
    return 0


def _side_by_side(args: argparse.Namespace, registry: Path, project: Path, tmp: Path,
                  env: dict[str, str]) -> dict[str, Any]:
    """The rounds of ``side_by_side.py`` (naive script, job, check, mapshaper), or ``{}``."""
    if args.rounds <= 0 or not project.exists():
        return {}
    from side_by_side import side_by_side

    print(f"  side by side, {args.rounds} rounds ...", file=sys.stderr)
    work = tmp / "side"
    work.mkdir(exist_ok=True)
    clean = dict(env, CPTS_GEO_CACHE=str(tmp / "side-cache"))
    clean.pop("PYTHONDONTWRITEBYTECODE", None)  # an installed tool runs from bytecode
    return side_by_side(registry, project, rounds=args.rounds, work=work, env=clean)


def _pages(atlas: Path, args: argparse.Namespace) -> dict[str, Any]:
    """Size of the national page and of the largest région page, and their first render."""
    if not (atlas / "index.html").exists():
        return {}
    regions = sorted((p for p in atlas.glob("*.html") if p.name != "index.html"
                      and not p.name.endswith(".embed.html")), key=lambda p: -p.stat().st_size)
    chosen = [atlas / "index.html", *regions[:1]]
    out: dict[str, Any] = {"pages": [], "note": ""}
    chromium = shutil.which(args.chromium) or (args.chromium if Path(args.chromium).exists()
                                               else None)
    for page in chosen:
        row: dict[str, Any] = {"page": page.name, "mb": page.stat().st_size / 1e6}
        if chromium and args.render_runs > 0:
            try:
                from atlas_budget import render_times

                firsts, _ = render_times(page, chromium, args.render_runs)
                row.update(first_render_s=statistics.median(firsts), min_s=min(firsts),
                           max_s=max(firsts), runs=len(firsts))
            except Exception as exc:
                out["note"] = f"first render not measured: {exc}"
        out["pages"].append(row)
    if not chromium:
        out["note"] = f"first render not measured: no browser at {args.chromium}"
    return out


def _versions() -> dict[str, str]:
    out = {}
    for name in ("cpts_geo", "shapely", "geopandas", "pandas", "numpy", "pyogrio"):
        try:
            from importlib.metadata import version

            out[name] = version(name)
        except Exception:  # informative only
            out[name] = "?"
    try:
        import shapely

        out["geos"] = shapely.geos_version_string
    except ImportError:
        pass
    return out


def _print_table(rows: list[dict[str, Any]]) -> None:
    header = ("stage", "time (s)", "peak MB", "baseline", "baseline (s)", "ratio")
    cells = [(r["stage"], _fmt(r["s"], 3), _fmt(r["peak_mb"], 0), r["baseline"],
              _fmt(r["baseline_s"], 3), "" if r["ratio"] is None else f"{r['ratio']:.1f}x")
             for r in rows]
    widths = [max(len(str(c[i])) for c in [header, *cells]) for i in range(len(header))]
    line = "  ".join(f"{{:<{w}}}" if i in (0, 3) else f"{{:>{w}}}" for i, w in enumerate(widths))
    print(line.format(*header))
    print(line.format(*("-" * w for w in widths)))
    for r, c in zip(rows, cells, strict=True):
        print(line.format(*c) + (f"   {r['note']}" if r["note"] else ""))


if __name__ == "__main__":
    sys.exit(main())
