"""Time to read a registry: the real PACA listing, and 30,000-row France-scale registries.

Reads, each in a fresh process (so that nothing read before is in memory), with the registry
cache empty (*first read*: parse, validate, resolve, store in the cache) and then full (*cached
read*):

* the real PACA registry of January 2026 (918 rows, codes);
* a France-scale registry of about 31,000 rows given by INSEE code (``generate_registry.py``,
  seed 0);
* the same registry given by commune **name** and département (names written as listings
  write them: upper case, ``St`` for ``Saint``, the article after the name), which every row
  resolves through the name index.

Usage::

    CPTS_GEO_DATA=../shared/data python benchmarks/read_registry.py [--repeat 5]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent

_PROBE = """
import json, sys, time
t0 = time.perf_counter()
from cpts_geo.reference import load_reference
from cpts_geo.registry import read_registry
ref = load_reference()
ref.tables_checksum
t1 = time.perf_counter()
reg = read_registry(sys.argv[1], ref)
t2 = time.perf_counter()
print(json.dumps({"read_s": t2 - t1, "claims": len(reg.claims), "cpts": len(reg),
                  "by_name": len(reg.names)}))
"""


def named_twin(source: Path, target: Path, data: Path) -> Path:
    """``source`` (a registry by code) with every unit given by name and département."""
    import pandas as pd

    pop = pd.read_csv(data / "population" / "communes-2026.csv", dtype=str,
                      keep_default_na=False)
    pop = pop[pop["type"].isin(["commune-actuelle", "arrondissement-municipal"])]
    name = dict(zip(pop["code"], pop["nom"], strict=True))
    dep = dict(zip(pop["code"], pop["departement"], strict=True))
    rng = random.Random(0)

    def spelt(text: str) -> str:
        if text.startswith("Saint-") and rng.random() < 0.5:
            text = "St-" + text[len("Saint-"):]
        for article in ("Le ", "La ", "Les "):
            if text.startswith(article) and rng.random() < 0.5:
                text = f"{text[len(article):]} ({article.strip()})"
        return text.upper() if rng.random() < 0.3 else text

    claims = pd.read_csv(source, dtype=str, keep_default_na=False)
    code = claims["code_commune"]
    out = pd.DataFrame({"cpts_id": claims["cpts_id"], "cpts_nom": claims["cpts_nom"],
                        "stade": claims["stade"], "commune": [spelt(name[c]) for c in code],
                        "departement": [dep[c] for c in code], "partage": claims["partage"]})
    out.to_csv(target, index=False)
    return target


def timed_read(path: Path, env: dict[str, str]) -> dict[str, float]:
    done = subprocess.run([sys.executable, "-c", _PROBE, str(path)], env=env,
                          capture_output=True, text=True, timeout=600, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def measure(files: dict[str, Path], env: dict[str, str], repeat: int) -> dict[str, dict]:
    """First and cached read of each file, ``repeat`` times each (median)."""
    results = {}
    for label, path in files.items():
        first, cached = [], []
        for _ in range(repeat):
            with tempfile.TemporaryDirectory() as cache:
                e = dict(env, CPTS_GEO_CACHE=cache)
                # reference and geometry caches warm: only the registry's is empty
                timed_read(path, dict(e))  # fills the reference tables cache
                for f in Path(cache, "registries").glob("*.npz"):
                    f.unlink()
                first.append(timed_read(path, e))
                cached.append(timed_read(path, e))
        results[label] = {
            "rows": first[0]["claims"], "cpts": first[0]["cpts"], "by_name": first[0]["by_name"],
            "first_s": statistics.median(r["read_s"] for r in first),
            "first_spread": [min(r["read_s"] for r in first), max(r["read_s"] for r in first)],
            "cached_s": statistics.median(r["read_s"] for r in cached)}
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--registry", type=Path, default=None,
                        help="France-scale registry by code (default: generated, seed 0)")
    args = parser.parse_args(argv)
    env = dict(os.environ)
    data = Path(env.setdefault("CPTS_GEO_DATA", str(ROOT.parent / "shared" / "data")))
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    with tempfile.TemporaryDirectory(prefix="cpts-read-") as tmp:
        work = Path(tmp)
        france = args.registry
        if france is None:
            france = work / "france.csv"
            subprocess.run([sys.executable, str(HERE / "generate_registry.py"), "--out",
                            str(france), "--seed", "0"], env=env, check=True,
                           capture_output=True)
        files = {"PACA, January 2026 (codes)": data / "cpts" / "paca-2026-01" /
                 "cpts-communes.csv",
                 "France, 31,000 rows (codes)": france,
                 "France, 31,000 rows (names + département)": named_twin(
                     france, work / "france-par-nom.csv", data)}
        results = measure(files, env, args.repeat)
    print(f"{'registry':<44} {'rows':>7} {'by name':>8} {'first read':>11} {'cached':>8}")
    for label, r in results.items():
        print(f"{label:<44} {r['rows']:>7} {r['by_name']:>8} {r['first_s']:>10.3f}s "
              f"{r['cached_s']:>7.3f}s   (first: {r['first_spread'][0]:.3f}-"
              f"{r['first_spread'][1]:.3f} s)")
    out = HERE / "results" / "read_registry.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
