"""Budget of the atlas on France-scale data: time to write, page sizes, first render.

Builds a France-scale registry (``benchmarks/generate_registry.py``: 1,000 CPTS over the real
communes; a simple stand-in when that module is missing), analyses it, writes the whole atlas
(national index + every région), then opens the national page in headless Chromium from disk
with the network blocked and times its first render: from navigation start to the moment the
page's script has added every layer of the main map and a frame has been drawn
(``window.__atlasFirstRenderAt``; pages of earlier versions, which have no such mark, give
``window.__atlasReadyAt``). The time until the page is complete (DROM insets and accessible
tables added after the first frame, ``window.__atlasReadyAt``) is reported beside it. Render
times are medians with their spread (min–max) and the load average, since the machine may be
shared.

Prints a table and exits 1 when a budget is exceeded:

* a région page under 1.5 MB, the national page under 3 MB;
* first render of the national page under 0.45 s (median of ``--runs``);
* analysis + writing every page under 10 s (with the display-geometry cache warm; the first run
  on a new data directory also simplifies the unit coverage once, reported apart).

With ``--proposals`` the pages also carry the proposal layers (``write_atlas(...,
proposals=...)``, off by default in the pages); ``propose()`` is timed apart.

Usage::

    CPTS_GEO_DATA=../shared/data python benchmarks/atlas_budget.py [--n 1000] [--seed 0]
        [--out DIR] [--runs 5] [--chromium /usr/bin/chromium] [--proposals]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

MB = 1024 * 1024
BUDGET_REGION_BYTES = 1.5 * MB
BUDGET_NATIONAL_BYTES = 3 * MB
BUDGET_RENDER_S = 0.45
BUDGET_PIPELINE_S = 10.0
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]


def stand_in_registry(reference, n_cpts: int = 1000) -> pd.DataFrame:
    """Communes of each département split into chunks by code order (about ``n_cpts``)."""
    units = reference.finest.sort_index()
    per = len(units) / n_cpts
    rows = []
    stages = ["ACI signé", "Projet de santé validé", "Lettre d'intention validée", "Émergence", ""]
    k = 0
    for dept, sub in units.groupby("departement", sort=True):
        n = max(1, round(len(sub) / per))
        chunk = np.arange(len(sub)) * n // len(sub)
        for i in range(n):
            k += 1
            for code in sub.index[chunk == i]:
                rows.append({"cpts_id": f"B{k:04d}", "cpts_nom": f"CPTS {dept}-{i + 1}",
                             "stade": stages[k % len(stages)], "code_commune": code,
                             "partage": ""})
    return pd.DataFrame(rows)


def france_registry(reference, n_cpts: int, seed: int) -> tuple[pd.DataFrame, str]:
    sys.path.insert(0, str(Path(__file__).parent))
    try:
        from generate_registry import generate_registry
    except ImportError:
        return stand_in_registry(reference, n_cpts), "stand-in (communes by code order)"
    return generate_registry(reference, n_cpts=n_cpts, seed=seed), "generate_registry"


def render_times(page: Path, chromium: str, runs: int) -> tuple[list[float], list[float]]:
    """Seconds from navigation start to the main map drawn, and to the page complete.

    One fresh browser context per run.
    """
    from playwright.sync_api import sync_playwright

    times: list[float] = []
    complete: list[float] = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium, args=ARGS)
        try:
            for _ in range(runs):
                context = browser.new_context(viewport={"width": 1400, "height": 850})
                blocked: list[str] = []

                def route(r, blocked=blocked):
                    if r.request.url.startswith("file://"):
                        r.continue_()
                    else:
                        blocked.append(r.request.url)
                        r.abort()

                context.route("**/*", route)
                tab = context.new_page()
                errors: list[str] = []
                tab.on("pageerror", lambda e, errors=errors: errors.append(str(e)))
                tab.goto(page.as_uri())
                tab.wait_for_function("window.__atlasReady === true", timeout=30_000)
                first, ready = tab.evaluate(
                    "[window.__atlasFirstRenderAt || window.__atlasReadyAt, window.__atlasReadyAt]")
                times.append(first / 1000)
                complete.append(ready / 1000)
                context.close()
                if blocked or errors:
                    raise SystemExit(f"{page.name}: blocked {blocked}, errors {errors}")
        finally:
            browser.close()
    return times, complete


def main_thread_cpu(page: Path, chromium: str, runs: int) -> list[float]:
    """Seconds of CPU of the renderer's main thread from navigation to the first render.

    Read from a Chromium trace (``tdur`` of the main thread's tasks): it moves far less than
    wall time with the load of a shared machine. Traced runs are apart from the timed ones
    (tracing slows the page).
    """
    import json

    from playwright.sync_api import sync_playwright

    out: list[float] = []
    with sync_playwright() as pw, tempfile.TemporaryDirectory() as tmp:
        browser = pw.chromium.launch(executable_path=chromium, args=ARGS)
        try:
            for _ in range(runs):
                context = browser.new_context(viewport={"width": 1400, "height": 850})
                context.route("**/*", lambda r: r.continue_() if r.request.url.startswith(
                    "file://") else r.abort())
                tab = context.new_page()
                trace = Path(tmp) / "trace.json"
                browser.start_tracing(page=tab, path=str(trace), categories=[
                    "devtools.timeline", "blink.user_timing",
                    "disabled-by-default-devtools.timeline"])
                tab.goto(page.as_uri())
                tab.wait_for_function("window.__atlasReady === true", timeout=60_000)
                first = tab.evaluate("window.__atlasFirstRenderAt || window.__atlasReadyAt")
                browser.stop_tracing()
                context.close()
                events = json.loads(trace.read_text())
                events = events["traceEvents"] if isinstance(events, dict) else events
                nav = [e for e in events if e.get("name") == "navigationStart" and str(
                    e.get("args", {}).get("data", {}).get("documentLoaderURL", "")
                ).startswith("file:")][-1]
                start, end = nav["ts"], nav["ts"] + first * 1000
                out.append(sum(e.get("tdur", 0) for e in events
                               if e.get("name") == "RunTask" and e.get("ph") == "X"
                               and (e["pid"], e["tid"]) == (nav["pid"], nav["tid"])
                               and start - 1000 <= e["ts"] < end) / 1e6)
        finally:
            browser.close()
    return out


def spread(values: list[float]) -> str:
    """``median s [min–max]``, milliseconds precision."""
    return (f"{statistics.median(values):.3f} s [{min(values):.3f}–{max(values):.3f}]")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", default=None, help="reference data directory")
    parser.add_argument("--n", type=int, default=1000, help="number of CPTS")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=None, help="keep the atlas here")
    parser.add_argument("--runs", type=int, default=5, help="render runs (median)")
    parser.add_argument("--chromium", default="/usr/bin/chromium")
    parser.add_argument("--proposals", action="store_true",
                        help="also draw the proposal layers (propose() timed apart)")
    args = parser.parse_args(argv)

    from cpts_geo import load_reference
    from cpts_geo.analysis import analyse
    from cpts_geo.atlas import write_atlas
    from cpts_geo.atlas.assets import inline_assets
    from cpts_geo.atlas.display import NATIONAL_TOLERANCE_M, REGION_TOLERANCE_M, simplified_units
    from cpts_geo.registry import registry_from_frame

    t0 = time.perf_counter()
    ref = load_reference(args.data)
    for zone in ref.zones:  # cleaned and simplified coverage: cached on disk after a first run
        for tol in (REGION_TOLERANCE_M, NATIONAL_TOLERANCE_M):
            simplified_units(ref, zone, tol)
    t_geometry = time.perf_counter() - t0
    frame, origin = france_registry(ref, args.n, args.seed)
    registry = registry_from_frame(frame, ref, source=f"France synthétique ({origin})")

    from cpts_geo import load_reference as _fresh  # a cold Reference: only disk caches help

    ref = _fresh(args.data)
    registry = registry_from_frame(frame, ref, source=f"France synthétique ({origin})")
    t0 = time.perf_counter()
    analysis = analyse(registry, ref)
    t_analyse = time.perf_counter() - t0
    out = args.out or Path(tempfile.mkdtemp(prefix="atlas-budget-"))
    proposals = None
    t_propose = 0.0
    if args.proposals:
        from cpts_geo.analysis.proposals import propose

        t0 = time.perf_counter()
        proposals = propose(registry, ref)
        t_propose = time.perf_counter() - t0
    t0 = time.perf_counter()
    pages = write_atlas(analysis, out, **({"proposals": proposals} if args.proposals else {}))
    t_write = time.perf_counter() - t0

    index = pages[0]
    regions = pages[1:]
    sizes = {p.name: p.stat().st_size for p in regions}
    biggest = max(sizes, key=sizes.__getitem__)
    national = index.stat().st_size
    lib = sum(f.stat().st_size for f in (out / "lib").rglob("*") if f.is_file())
    communes = max((f.stat().st_size for f in out.glob("*-communes.js")), default=0)
    inlined = len(inline_assets().encode("utf-8"))
    load_before = os.getloadavg()
    renders, completes = render_times(index, args.chromium, args.runs)
    render = statistics.median(renders)
    region_renders, _ = render_times(out / biggest, args.chromium, 3)
    load_after = os.getloadavg()
    cpu = main_thread_cpu(index, args.chromium, 5)

    n_cpts = len(analysis.territories.table)
    t_pipeline = t_analyse + t_propose + t_write
    print(f"registry: {n_cpts} CPTS, {len(registry.claims)} claims ({origin}); "
          f"{len(regions)} région pages in {out}")
    print(f"{'measure':<46}{'value':>14}{'budget':>12}  ok")
    checks = [
        ("geometry ready (clean + simplify, cached)", f"{t_geometry:.2f} s", "", True),
        ("analyse (France)", f"{t_analyse:.2f} s", "", True),
        ("write_atlas (index + every région)", f"{t_write:.2f} s", "", True),
        *([("propose() (once per run, --proposals)", f"{t_propose:.2f} s", "", True)]
          if args.proposals else []),
        ("pipeline: analyse + write_atlas" + (" + propose" if args.proposals else ""),
         f"{t_pipeline:.2f} s", f"{BUDGET_PIPELINE_S:.0f} s", t_pipeline < BUDGET_PIPELINE_S),
        (f"largest région page ({biggest})", f"{sizes[biggest] / MB:.2f} MB",
         f"{BUDGET_REGION_BYTES / MB:.1f} MB", sizes[biggest] < BUDGET_REGION_BYTES),
        ("national page (index.html)", f"{national / MB:.2f} MB",
         f"{BUDGET_NATIONAL_BYTES / MB:.1f} MB", national < BUDGET_NATIONAL_BYTES),
        ("files beside the pages (lib/, *-communes.js)", f"{(lib + communes) / MB:.2f} MB",
         "", True),
        ("inlined in each page (Leaflet + page scripts)", f"{inlined / MB:.2f} MB", "", True),
        (f"first render index.html (median of {len(renders)})", f"{render:.3f} s",
         f"{BUDGET_RENDER_S:.2f} s", render < BUDGET_RENDER_S),
        ("index.html complete (insets, tables)", f"{statistics.median(completes):.3f} s", "",
         True),
        ("index.html main-thread CPU to first render", f"{statistics.median(cpu):.3f} s", "",
         True),
        (f"first render {biggest} (median of 3)", f"{statistics.median(region_renders):.3f} s",
         "", True),
    ]
    for name, value, budget, ok in checks:
        print(f"{name:<46}{value:>14}{budget:>12}  {'yes' if ok else 'NO'}")
    print(f"first render index.html: {spread(renders)}; complete: {spread(completes)}; "
          f"{biggest}: {spread(region_renders)}; main-thread CPU (5 traced runs): {spread(cpu)}")
    print("load average (1, 5, 15 min) before the renders: "
          + ", ".join(f"{x:.2f}" for x in load_before) + "; after: "
          + ", ".join(f"{x:.2f}" for x in load_after) + f" ({os.cpu_count()} cores)")
    print("région pages: " + ", ".join(f"{k} {v / MB:.2f}" for k, v in sorted(sizes.items()))
          + " (MB)")
    return 0 if all(ok for *_, ok in checks) else 1


if __name__ == "__main__":
    sys.exit(main())
