"""Time ``cpts-geo propose`` on the France-scale registry, as a user runs it.

The registry is made by ``generate_registry.py`` (1,000 CPTS, seed 0, unless ``--registry``).
Measured, each the median of ``--repeat`` runs after one warm-up run (the cleaned geometry and
the validated registry are cached, as on a user's machine after the first command):

* ``cpts-geo propose --registry FILE --json`` as a whole process (start-up included);
* the same with ``--out DIR --overwrite`` (the CSV, XLSX and ``registre_propose.csv`` written);
* in one process: ``propose()`` alone, after ``load_reference`` and ``read_registry``.

Not a test: nothing here fails a build. Run::

    CPTS_GEO_DATA=../shared/data python benchmarks/propose.py [--repeat 5] [--registry FILE]

The table is printed and written to ``benchmarks/results/propose.json`` (not committed).
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

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))

from run import run_checked  # noqa: E402

RESULTS = HERE / "results" / "propose.json"
#: The issue's target: propose on France in a few seconds at most.
TARGET_S = 5.0


def _in_process(registry: Path, repeat: int) -> dict[str, float]:
    code = (
        "import json, statistics, sys, time\n"
        "from cpts_geo.reference import load_reference\n"
        "from cpts_geo.registry import read_registry\n"
        "from cpts_geo.analysis.proposals import propose\n"
        "t = time.perf_counter(); ref = load_reference(); reg = read_registry(sys.argv[1], ref)\n"
        "startup = time.perf_counter() - t\n"
        "runs = []\n"
        "for _ in range(int(sys.argv[2]) + 1):\n"
        "    t = time.perf_counter(); p = propose(reg, ref); runs.append(time.perf_counter() - t)\n"
        "print(json.dumps({'load_and_read_s': startup, 'propose_first_s': runs[0],\n"
        "                  'propose_median_s': statistics.median(runs[1:]),\n"
        "                  'zones_blanches': len(p.propositions),\n"
        "                  'conciliations': len(p.conciliations),\n"
        "                  'rattachees': int(p.assignments['cpts_id'].notna().sum()),\n"
        "                  'non_rattachees': int(p.assignments['cpts_id'].isna().sum()),\n"
        "                  'taux_avant': p.taux_avant, 'taux_apres': p.taux_apres}))\n")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    out = subprocess.run([sys.executable, "-c", code, str(registry), str(repeat)],
                         capture_output=True, text=True, env=env, check=True)
    return json.loads(out.stdout)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--registry", type=Path, default=None,
                        help="Registry to use (default: generated, 1,000 CPTS, seed 0).")
    parser.add_argument("--repeat", type=int, default=5, help="Timed runs of each row.")
    parser.add_argument("--n", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    with tempfile.TemporaryDirectory(prefix="cpts-propose-bench-") as tmp:
        registry = args.registry
        if registry is None:
            registry = Path(tmp) / "france.csv"
            subprocess.run([sys.executable, str(HERE / "generate_registry.py"), "--out",
                            str(registry), "--seed", str(args.seed), "--n", str(args.n)],
                           check=True, env=env, capture_output=True)
        cli = [sys.executable, "-m", "cpts_geo", "propose", "--registry", str(registry)]
        rows: dict[str, float] = {}
        for name, cmd in (("propose --json (process)", [*cli, "--json"]),
                          ("propose --out (process)", [*cli, "--json", "--out",
                                                       str(Path(tmp) / "out"), "--overwrite"])):
            run_checked(cmd, env=env)  # warm-up: caches
            rows[name] = statistics.median(run_checked(cmd, env=env)["wall_s"]
                                           for _ in range(args.repeat))
        inner = _in_process(registry, args.repeat)
    rows["propose() alone, median (in-process)"] = inner["propose_median_s"]
    rows["propose() alone, first call"] = inner["propose_first_s"]
    rows["load_reference + read_registry"] = inner["load_and_read_s"]
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    made = registry.name if args.registry else f"generated n={args.n} seed={args.seed}"
    print(f"registry: {made}; {args.repeat} runs each; load average {load:.2f} on "
          f"{os.cpu_count()} cores")
    for name, seconds in rows.items():
        print(f"  {name:<42} {seconds:6.2f} s")
    print(f"  zones blanches {inner['zones_blanches']}, conciliations {inner['conciliations']}, "
          f"units assigned {inner['rattachees']}, left {inner['non_rattachees']}, coverage "
          f"{inner['taux_avant']} % -> {inner['taux_apres']} %")
    whole = rows["propose --json (process)"]
    print(f"target: propose on France in under {TARGET_S:.0f} s as a whole process: "
          f"{'met' if whole < TARGET_S else 'NOT met'} ({whole:.2f} s)")
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps({"rows_s": rows, "result": inner, "load_average": load},
                                  indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
