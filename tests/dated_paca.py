"""Dated registries made from the real PACA registry, and the figures they give, by hand.

The 70 CPTS of the real listing (``cpts-communes.csv``) get dates drawn with a seeded random
generator (:func:`draw_dates`): a lettre d'intention between 2018 and 2024, then for most a
projet de santé validé and for most of those an ACI signature, each some months after the step
before. A few CPTS are made to test the rules of a registry read at a date
(``cpts_geo.analysis.timeline``): three have no date at all (at stage émergence), two are
at stage "ACI signé" with only the date of their lettre d'intention, and some dates are given as
a month only (``juin 2021``: taken as the first day).

:func:`expected_at` computes what the registry says at a date with plain pandas over the raw
CSV and the population file of the reference data, independently of the library: the CPTS
present (their first date on or before the day), the stage of each (the latest dated step by
then, never beyond the stage the registry gives), and the population covered at each stage
threshold, summed over the finest units of région 93 (Marseille by arrondissement, 05120 mapped
to 05001).
"""

from __future__ import annotations

import csv
import datetime as dt
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd

from conftest import PACA_DIR, SHARED

PACA_CSV = PACA_DIR / "cpts-communes.csv"
REMAP = {"05120": "05001"}  # Ristolas, now part of Abriès-Ristolas
#: Stages, most advanced first (as the library orders them), and the labels written.
ORDER = ("fonctionnement", "projet_valide", "lettre_intention", "emergence", "non_renseigne")
LABEL = {"fonctionnement": "ACI signé", "projet_valide": "Projet de santé validé",
         "lettre_intention": "Lettre d'intention validée", "emergence": "Émergence"}
STEP_STAGE = {"li": "lettre_intention", "ps": "projet_valide", "aci": "fonctionnement"}
THRESHOLDS = {"fonctionnement": {"fonctionnement"},
              "jusqu_projet_valide": {"fonctionnement", "projet_valide"},
              "tous_stades": set(ORDER)}
#: Headers as real listings write them.
HEADERS = {"li": "date_lettre_intention", "ps": "Date validation projet de santé",
           "aci": "Date signature ACI"}
UNDATED = ("PACA-010", "PACA-020", "PACA-033")  # émergence, no date at all
BEYOND = ("PACA-015", "PACA-047")  # "ACI signé" but only a lettre d'intention date
MONTH_ONLY = ("PACA-005", "PACA-061")  # their lettre d'intention given as "<mois> <année>"
MONTHS_FR = ("janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août",
             "septembre", "octobre", "novembre", "décembre")


def raw() -> pd.DataFrame:
    """The real PACA registry as a user's table: one row per (CPTS, commune or arrondissement)."""
    return pd.read_csv(PACA_CSV, dtype=str, keep_default_na=False)


@lru_cache(maxsize=1)
def population() -> dict[str, int]:
    """Legal population of every finest unit (communes, and the arrondissements)."""
    with open(SHARED / "population" / "communes-2026.csv", encoding="utf-8") as fh:
        return {r["code"]: int(r["population"]) for r in csv.DictReader(fh)
                if r["type"] in {"commune-actuelle", "arrondissement-municipal"}
                and r["zone"] != "com"}


@lru_cache(maxsize=1)
def region_93_units() -> frozenset[str]:
    """The finest units of région 93: its communes, Marseille replaced by its arrondissements."""
    with open(SHARED / "population" / "communes-2026.csv", encoding="utf-8") as fh:
        rows = [r for r in csv.DictReader(fh) if r["region"] == "93" and r["zone"] != "com"]
    cities = {r["commune_parente"] for r in rows if r["type"] == "arrondissement-municipal"}
    return frozenset(r["code"] for r in rows
                     if (r["type"] == "commune-actuelle" and r["code"] not in cities)
                     or r["type"] == "arrondissement-municipal")


@lru_cache(maxsize=1)
def departements() -> dict[str, str]:
    """The département of every unit of the population file."""
    with open(SHARED / "population" / "communes-2026.csv", encoding="utf-8") as fh:
        return {r["code"]: r["departement"] for r in csv.DictReader(fh)}


def unit_codes(frame: pd.DataFrame) -> pd.Series:
    code = frame["code_arrondissement"].where(frame["code_arrondissement"] != "",
                                              frame["code_commune"])
    return code.replace(REMAP)


def draw_dates(seed: int = 7) -> pd.DataFrame:
    """One row per CPTS: ``li``, ``ps``, ``aci`` (``datetime.date`` or ``None``) and ``stade``.

    ``stade`` is the stage the registry gives: the latest dated step, except for
    :data:`UNDATED` (émergence) and :data:`BEYOND` (fonctionnement).
    """
    ids = sorted(raw()["cpts_id"].unique())
    rng = np.random.default_rng(seed)
    rows = []
    for cid in ids:
        li = dt.date(2018, 1, 1) + dt.timedelta(days=int(rng.integers(0, 7 * 365)))
        ps = aci = None
        if rng.random() < 0.75:
            ps = li + dt.timedelta(days=int(rng.integers(60, 500)))
            if rng.random() < 0.7:
                aci = ps + dt.timedelta(days=int(rng.integers(30, 400)))
        if cid in MONTH_ONLY:
            li = li.replace(day=1)
        if cid in BEYOND:
            ps = aci = None
        stade = "fonctionnement" if aci else "projet_valide" if ps else "lettre_intention"
        if cid in UNDATED:
            li = ps = aci = None
            stade = "emergence"
        if cid in BEYOND:
            stade = "fonctionnement"
        rows.append({"cpts_id": cid, "li": li, "ps": ps, "aci": aci, "stade": stade})
    out = pd.DataFrame(rows).set_index("cpts_id").astype(object)
    return out.where(out.notna(), None)  # None, not NaN, where a step has no date


def _text(value: dt.date | None, form: int, month_only: bool) -> str:
    if value is None:
        return ""
    if month_only:
        return f"{MONTHS_FR[value.month - 1]} {value.year}"
    return value.strftime("%d/%m/%Y") if form % 2 else value.isoformat()


def dated_frame(dates: pd.DataFrame | None = None) -> pd.DataFrame:
    """The raw table with a ``statut`` column and three date columns, as text.

    Dates alternate between ``dd/mm/yyyy`` and ``yyyy-mm-dd`` from one CPTS to the next; every
    other CPTS has its dates on its first row only (the rows left empty take them).
    """
    dates = draw_dates() if dates is None else dates
    frame = raw()
    first = ~frame["cpts_id"].duplicated()
    order = {c: i for i, c in enumerate(dates.index)}
    frame["statut"] = frame["cpts_id"].map(lambda c: LABEL[dates.at[c, "stade"]])
    for key, header in HEADERS.items():
        values = []
        for cid, is_first in zip(frame["cpts_id"], first, strict=True):
            i = order[cid]
            if i % 4 == 1 and not is_first:
                values.append("")
                continue
            values.append(_text(dates.at[cid, key], i, key == "li" and cid in MONTH_ONLY))
        frame[header] = values
    return frame


def write_dated_csv(path: Path, dates: pd.DataFrame | None = None) -> Path:
    dated_frame(dates).to_csv(path, index=False)
    return path


def write_dated_xlsx(path: Path, dates: pd.DataFrame | None = None) -> Path:
    """The same table as a workbook whose dates are real Excel date cells (``dd/mm/yyyy``)."""
    import openpyxl

    dates = draw_dates() if dates is None else dates
    frame = dated_frame(dates)
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "CPTS"
    ws.append(list(frame.columns))
    for row in frame.itertuples(index=False):
        cells = list(row)
        cid = cells[0]
        for key, header in HEADERS.items():
            j = frame.columns.get_loc(header)
            value = dates.at[cid, key]
            if cells[j] == "" or value is None or (key == "li" and cid in MONTH_ONLY):
                continue  # empty, or a month written as text
            cells[j] = dt.datetime(value.year, value.month, value.day)
        ws.append(cells)
        for j, v in enumerate(cells, start=1):
            if isinstance(v, dt.datetime):
                ws.cell(row=ws.max_row, column=j).number_format = "DD/MM/YYYY"
    wb.save(path)
    return path


def rows(dates: pd.DataFrame) -> dict[str, dict]:
    """``cpts_id`` → its row as a dict (``None`` kept: ``iterrows`` would make it NaN)."""
    return dates.to_dict("index")


def stage_at(row: dict, when: dt.date) -> str | None:
    """The stage of one CPTS (a row of :func:`draw_dates`) on ``when``; ``None``: not there."""
    steps = [(row[k], STEP_STAGE[k]) for k in ("li", "ps", "aci") if row[k] is not None]
    if not steps or min(d for d, _ in steps) > when:
        return None
    reached = [s for d, s in steps if d <= when][-1]
    # never beyond the stage the registry gives (most advanced = smallest position)
    return max(reached, row["stade"], key=ORDER.index)


def expected_at(when: dt.date, dates: pd.DataFrame | None = None) -> dict:
    """What the registry says on ``when``, by hand: CPTS per stage, population per threshold."""
    dates = draw_dates() if dates is None else dates
    frame = raw()
    frame = frame.assign(unit=unit_codes(frame))
    stages = {cid: stage_at(r, when) for cid, r in rows(dates).items()}
    scope = region_93_units()
    pop = population()
    present = {c: s for c, s in stages.items() if s is not None}
    per_stage = {s: sum(1 for v in present.values() if v == s) for s in ORDER}
    covered = {}
    for key, counted in THRESHOLDS.items():
        ids = {c for c, s in present.items() if s in counted}
        units = set(frame.loc[frame["cpts_id"].isin(ids), "unit"]) & scope
        covered[key] = sum(pop[u] for u in units)
    total = sum(pop[u] for u in scope)
    deps = departements()
    by_dep = {}
    for dep in sorted({deps[u] for u in scope}):
        units_d = {u for u in scope if deps[u] == dep}
        in_dep = frame[frame["unit"].isin(units_d) & frame["cpts_id"].isin(present)]
        cov = {}
        for key, counted in THRESHOLDS.items():
            ids = {c for c, s in present.items() if s in counted}
            cov[key] = sum(pop[u] for u in set(in_dep.loc[in_dep["cpts_id"].isin(ids), "unit"]))
        by_dep[dep] = {"population_totale": sum(pop[u] for u in units_d),
                       "population_couverte": cov, "n_cpts": in_dep["cpts_id"].nunique()}
    return {"n_cpts": len(present), "n_cpts_par_stade": per_stage, "population_totale": total,
            "population_couverte": covered,
            "taux": {k: round(100 * v / total, 2) for k, v in covered.items()},
            "par_departement": by_dep, "stades": present}
