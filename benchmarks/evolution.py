"""Time ``cpts-geo evolution`` on a France-scale dated registry, over ten years of months.

The registry is made by ``generate_registry.py`` (1,000 CPTS, seed 0, unless ``--registry``)
with dates added (:func:`add_dates`, seeded): each CPTS's lettre d'intention falls between
January 2015 and December 2024, its projet de santé 2 to 23 months later and its ACI 1 to 16
months after that, each date written only for the steps its stage has reached (an "Émergence"
or empty stage has none: left out at every date, as the rule says). Measured, each the median
of ``--repeat`` runs after one warm-up run (caches warm, as on a user's machine):

* ``cpts-geo evolution --registry FILE --from 2015-01 --to 2024-12 --json`` (120 months) as a
  whole process, start-up included, and the same with ``--out DIR`` (CSV, XLSX, PNG, SVG);
* in one process: ``evolution()`` alone, after ``load_reference`` and ``read_registry``, over
  the perimeter (all of France here) and with ``france=True``.

Not a test: nothing here fails a build. Run::

    CPTS_GEO_DATA=../shared/data python benchmarks/evolution.py [--repeat 5] [--registry FILE]

The table is printed and written to ``benchmarks/results/evolution.json`` (not committed).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))

from run import run_checked  # noqa: E402

RESULTS = HERE / "results" / "evolution.json"
#: The issue's target: a France-scale dated registry over 10 years in a few seconds at most.
TARGET_S = 5.0


def add_dates(frame: pd.DataFrame, seed: int = 0) -> pd.DataFrame:
    """The generated registry with ``date_lettre_intention``, ``date_projet_sante``,
    ``date_aci`` columns (``dd/mm/yyyy``) for the steps each CPTS's stage has reached."""
    rng = np.random.default_rng(seed)
    ids = pd.unique(frame["cpts_id"])
    li = pd.Timestamp("2015-01-01") + pd.to_timedelta(rng.integers(0, 3652, len(ids)), "D")
    ps = li + pd.to_timedelta(rng.integers(60, 700, len(ids)), "D")
    aci = ps + pd.to_timedelta(rng.integers(30, 480, len(ids)), "D")
    pos = pd.Series(np.arange(len(ids)), index=ids)[frame["cpts_id"]].to_numpy()
    stage = frame["stade"].fillna("").to_numpy()
    reached = {"li": np.isin(stage, ["ACI signé", "Projet de santé validé",
                                     "Lettre d'intention validée"]),
               "ps": np.isin(stage, ["ACI signé", "Projet de santé validé"]),
               "aci": stage == "ACI signé"}
    out = frame.copy()
    for col, key, dates in (("date_lettre_intention", "li", li), ("date_projet_sante", "ps", ps),
                            ("date_aci", "aci", aci)):
        text = np.asarray(dates.strftime("%d/%m/%Y"), dtype=object)[pos]
        out[col] = np.where(reached[key], text, "")
    return out


def _in_process(registry: Path, repeat: int) -> dict[str, float]:
    code = (
        "import json, statistics, sys, time\n"
        "from cpts_geo.reference import load_reference\n"
        "from cpts_geo.registry import read_registry\n"
        "from cpts_geo.analysis.timeline import evolution\n"
        "t = time.perf_counter(); ref = load_reference(); reg = read_registry(sys.argv[1], ref)\n"
        "startup = time.perf_counter() - t\n"
        "out = {'load_and_read_s': startup}\n"
        "for name, kw in (('perimetre', {}), ('france', {'france': True})):\n"
        "    runs = []\n"
        "    for _ in range(int(sys.argv[2]) + 1):\n"
        "        t = time.perf_counter()\n"
        "        e = evolution(reg, ref, start='2015-01', end='2024-12', **kw)\n"
        "        runs.append(time.perf_counter() - t)\n"
        "    out[name + '_first_s'] = runs[0]\n"
        "    out[name + '_median_s'] = statistics.median(runs[1:])\n"
        "last = e.tables['france'].iloc[-1]\n"
        "out.update(months=len(e.months), n_cpts=int(last['n_cpts']),\n"
        "           undated=len(e.undated), rows_departement=len(e.tables['departement']),\n"
        "           taux_fin=float(last['taux_tous_stades']),\n"
        "           taux_fonctionnement_fin=float(last['taux_fonctionnement']))\n"
        "print(json.dumps(out))\n")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    out = subprocess.run([sys.executable, "-c", code, str(registry), str(repeat)],
                         capture_output=True, text=True, env=env, check=True)
    return json.loads(out.stdout)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--registry", type=Path, default=None,
                        help="Dated registry to use (default: generated, 1,000 CPTS, seed 0, "
                        "dates added).")
    parser.add_argument("--repeat", type=int, default=5, help="Timed runs of each row.")
    parser.add_argument("--n", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    sys.path.insert(0, str(ROOT))
    with tempfile.TemporaryDirectory(prefix="cpts-evolution-bench-") as tmp:
        registry = args.registry
        if registry is None:
            plain = Path(tmp) / "france.csv"
            subprocess.run([sys.executable, str(HERE / "generate_registry.py"), "--out",
                            str(plain), "--seed", str(args.seed), "--n", str(args.n)],
                           check=True, env=env, capture_output=True)
            registry = Path(tmp) / "france-dates.csv"
            add_dates(pd.read_csv(plain, dtype=str, keep_default_na=False),
                      args.seed).to_csv(registry, index=False)
        cli = [sys.executable, "-m", "cpts_geo", "evolution", "--registry", str(registry),
               "--from", "2015-01", "--to", "2024-12"]
        rows: dict[str, float] = {}
        for name, cmd in (("evolution --json (process)", [*cli, "--json"]),
                          ("evolution --out (process)", [*cli, "--json", "--out",
                                                         str(Path(tmp) / "out"),
                                                         "--overwrite"])):
            run_checked(cmd, env=env)  # warm-up: caches
            rows[name] = statistics.median(run_checked(cmd, env=env)["wall_s"]
                                           for _ in range(args.repeat))
        inner = _in_process(registry, args.repeat)
    rows["evolution() alone, median (in-process)"] = inner["perimetre_median_s"]
    rows["evolution() alone, first call"] = inner["perimetre_first_s"]
    rows["evolution(france=True), median"] = inner["france_median_s"]
    rows["load_reference + read_registry"] = inner["load_and_read_s"]
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    made = registry.name if args.registry else f"generated n={args.n} seed={args.seed}"
    print(f"registry: {made}; {inner['months']} months; {args.repeat} runs each; load average "
          f"{load:.2f} on {os.cpu_count()} cores")
    for name, seconds in rows.items():
        print(f"  {name:<42} {seconds:6.2f} s")
    print(f"  last month: {inner['n_cpts']} CPTS ({inner['undated']} undated, left out), "
          f"coverage {inner['taux_fin']} % (ACI signé {inner['taux_fonctionnement_fin']} %); "
          f"{inner['rows_departement']} rows by département")
    whole = rows["evolution --json (process)"]
    print(f"target: evolution of France over 10 years in under {TARGET_S:.0f} s as a whole "
          f"process: {'met' if whole < TARGET_S else 'NOT met'} ({whole:.2f} s)")
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps({"rows_s": rows, "result": inner, "load_average": load},
                                  indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
