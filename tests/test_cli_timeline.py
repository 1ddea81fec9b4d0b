"""The command line over time: ``--at`` on coverage, check and atlas, and ``cpts-geo evolution``.

Registries are the real PACA registry with seeded dates (``dated_paca.py``), as CSV and XLSX;
expected figures are computed by hand from the raw CSV and the population file
(``dated_paca.expected_at``).
"""

from __future__ import annotations

import datetime as dt
import json
import re

import openpyxl
import pandas as pd
import pytest
from click.testing import CliRunner

from cpts_geo.analysis.diff import diff_registries
from cpts_geo.cli import main
from cpts_geo.outputs.fmt import fmt_pct
from cpts_geo.registry import read_registry
from cpts_geo.registry.stages import THRESHOLDS

from conftest import PACA_DIR
from dated_paca import (
    HEADERS,
    dated_frame,
    draw_dates,
    expected_at,
    rows,
    write_dated_csv,
    write_dated_xlsx,
)

PACA_CSV = PACA_DIR / "cpts-communes.csv"


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args))
    assert result.exception is None or isinstance(result.exception, SystemExit), (
        result.exception)
    assert "Traceback" not in result.output
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture(scope="module")
def dates():
    return draw_dates()


@pytest.fixture(scope="module")
def dated_csv(tmp_path_factory, dates):
    return write_dated_csv(tmp_path_factory.mktemp("cli-dates") / "paca-dates.csv", dates)


@pytest.fixture(scope="module")
def dated_xlsx(tmp_path_factory, dates):
    return write_dated_xlsx(tmp_path_factory.mktemp("cli-dates") / "paca-dates.xlsx", dates)


# ---- --at -----------------------------------------------------------------------------------

@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
@pytest.mark.parametrize("day", [dt.date(2019, 9, 1), dt.date(2022, 12, 31)])
def test_coverage_at_a_date(dated_csv, dated_xlsx, dates, fmt, day):
    path = dated_csv if fmt == "csv" else dated_xlsx
    code, out, _ = run("coverage", "--registry", str(path), "--at", day.isoformat(), "--json")
    assert code == 0
    s = json.loads(out)
    expected = expected_at(day, dates)
    assert s["date"] == day.isoformat()
    assert s["registre"] == f"{path} au {day:%d/%m/%Y}"
    assert s["n_cpts"] == expected["n_cpts"]
    assert s["n_cpts_par_stade"] == expected["n_cpts_par_stade"]
    for key in THRESHOLDS:
        assert s["par_stade"][key]["population_couverte"] == expected["population_couverte"][key]
        assert s["par_stade"][key]["taux_couverture"] == expected["taux"][key]
    assert any("have no date" in w for w in s["avertissements"])


def test_coverage_at_report(dated_csv, dates):
    day = dt.date(2021, 6, 30)
    code, out, err = run("coverage", "--registry", str(dated_csv), "--at", "30/06/2021")
    assert code == 0
    assert f"Registre : {dated_csv} au 30/06/2021" in out
    expected = expected_at(day, dates)
    assert f"CPTS : {expected['n_cpts']}  (" in out
    assert fmt_pct(expected["taux"]["fonctionnement"]) in out
    assert "3 CPTS have no date" in err  # the rule for undated CPTS, said once


def test_at_needs_a_dated_registry():
    for cmd in (["coverage"], ["atlas", "--out", "x"], ["check", str(PACA_CSV)]):
        code, _, err = run(*cmd, "--registry", str(PACA_CSV), "--at", "2021-06-30")
        assert code == 2
        assert "Error: --at needs a dated registry" in err
        assert "date_lettre_intention" in err and "Date signature ACI" in err


def test_a_bad_date_on_the_command_line_is_a_usage_error(dated_csv):
    code, _, err = run("coverage", "--registry", str(dated_csv), "--at", "30/02/2021")
    assert code == 2
    assert "Invalid value for '--at': '30/02/2021' is not a date" in err
    code, _, err = run("evolution", "--registry", str(dated_csv), "--from", "bientôt")
    assert code == 2 and "Invalid value for '--from'" in err


def test_a_registry_with_bad_dates_exits_2_naming_the_cell(tmp_path):
    frame = dated_frame()
    frame.loc[7, HEADERS["aci"]] = "31/09/2022"
    path = tmp_path / "mauvaise-date.csv"
    frame.to_csv(path, index=False)
    for cmd in (["coverage"], ["evolution"]):
        code, _, err = run(*cmd, "--registry", str(path))
        assert code == 2
        assert (f"{path}, row 9, column '{HEADERS['aci']}', value '31/09/2022': not a date"
                in err)


def test_check_at_a_date(dated_csv, dates, tmp_path):
    """A project on the territory of a CPTS: no conflict before its first date, one after."""
    cid, start = max(((c, r["li"]) for c, r in rows(dates).items() if r["li"]),
                     key=lambda x: x[1])  # the last CPTS to start
    frame = dated_frame()
    frame["unit"] = frame["code_arrondissement"].where(frame["code_arrondissement"] != "",
                                                       frame["code_commune"])
    claimed_once = frame["unit"].map(frame["unit"].value_counts()) == 1
    code_ = frame.loc[(frame["cpts_id"] == cid) & claimed_once, "unit"].iloc[0]
    project = tmp_path / "projet.csv"
    project.write_text(f"cpts_nom;code_insee\nProjet;{code_}\n", encoding="utf-8")
    before = (start - dt.timedelta(days=1)).isoformat()
    code, out, _ = run("check", str(project), "--registry", str(dated_csv), "--at", before,
                       "--json")
    assert code == 0
    payload = json.loads(out)
    assert payload["conflits"] == [] and payload["date"] == before
    code, out, _ = run("check", str(project), "--registry", str(dated_csv), "--at",
                       start.isoformat(), "--json")
    assert code == 1
    assert [c["cpts_id"] for c in json.loads(out)["conflits"]] == [cid]
    code, out, _ = run("check", str(project), "--registry", str(dated_csv), "--at",
                       start.isoformat())
    assert code == 1
    n = expected_at(start, dates)["n_cpts"]
    assert out.startswith(f"Registre tel qu'au {start:%d/%m/%Y} : {n} CPTS ")


# ---- evolution --------------------------------------------------------------------------------

def test_evolution_report(dated_csv, dates):
    code, out, err = run("evolution", "--registry", str(dated_csv))
    assert code == 0
    assert out.startswith("Évolution des CPTS — 93 Provence-Alpes-Côte d'Azur\n")
    assert "chiffres au dernier jour de chaque mois" in out
    assert "Par mois (fin de chaque trimestre) :" in out
    line = next(x for x in out.splitlines() if x.startswith("2021-06 "))
    expected = expected_at(dt.date(2021, 6, 30), dates)
    assert line.split()[1] == str(expected["n_cpts"])
    assert line.endswith(fmt_pct(expected["taux"]["tous_stades"]))
    assert "Par département, au " in out
    assert "3 CPTS have no date" in err


def test_evolution_json_and_files(dated_csv, dates, tmp_path):
    out_dir = tmp_path / "evo"
    code, out, _ = run("evolution", "--registry", str(dated_csv), "--from", "2020-01",
                       "--to", "2022-12", "--json", "--out", str(out_dir))
    assert code == 0
    d = json.loads(out)
    assert {"registre", "perimetre", "perimetre_regions", "debut", "fin", "regle", "mois",
            "par_region", "par_departement", "avertissements"} <= set(d)
    assert (d["debut"], d["fin"], len(d["mois"])) == ("2020-01", "2022-12", 36)
    month = next(m for m in d["mois"] if m["mois"] == "2021-09")
    expected = expected_at(dt.date(2021, 9, 30), dates)
    assert month["n_cpts_par_stade"] == expected["n_cpts_par_stade"]
    assert {k: v["population_couverte"] for k, v in month["par_stade"].items()} == \
        expected["population_couverte"]
    names = sorted(p.name for p in out_dir.iterdir() if not p.name.startswith("."))
    assert names == ["evolution.csv", "evolution.png", "evolution.svg",
                     "evolution.xlsx", "evolution_departements.csv", "evolution_regions.csv"]
    csv_ = pd.read_csv(out_dir / "evolution.csv", sep=";", encoding="utf-8-sig",
                       dtype={"code": str})
    row = csv_[csv_["mois"] == "2021-09"].iloc[0]
    assert row["date"] == "2021-09-30"
    for key in THRESHOLDS:
        assert row[f"population_couverte_{key}"] == expected["population_couverte"][key]
    deps = pd.read_csv(out_dir / "evolution_departements.csv", sep=";", encoding="utf-8-sig",
                       dtype={"code": str})
    assert len(deps) == 36 * 6
    d13 = deps[(deps["mois"] == "2021-09") & (deps["code"] == "13")].iloc[0]
    assert d13["population_couverte_tous_stades"] == \
        expected["par_departement"]["13"]["population_couverte"]["tous_stades"]
    book = openpyxl.load_workbook(out_dir / "evolution.xlsx")
    assert book.sheetnames == ["perimetre", "par_region", "par_departement"]
    ws = book["perimetre"]
    header = [c.value for c in ws[1]]
    assert header[:2] == ["Mois", "Date (fin de mois)"]
    rate = ws.cell(row=2, column=header.index("Taux de couverture (tous stades)") + 1)
    assert rate.number_format == "0.00 %" and rate.value == pytest.approx(
        float(csv_.iloc[0]["taux_tous_stades"]) / 100)
    date = ws.cell(row=2, column=2)
    assert date.number_format == "dd/mm/yyyy" and date.value.date() == dt.date(2020, 1, 31)
    svg = (out_dir / "evolution.svg").read_text(encoding="utf-8")
    assert "Évolution des CPTS — 93 Provence-Alpes-Côte d'Azur" in svg  # text stays text
    assert 'id="objectif"' in svg and "Tous stades confondus" in svg
    assert all(f'id="courbe-{key}"' in svg for key in THRESHOLDS)
    # the same inputs give the same chart
    again = tmp_path / "evo2"
    run("evolution", "--registry", str(dated_csv), "--from", "2020-01", "--to", "2022-12",
        "--out", str(again))
    assert (again / "evolution.svg").read_bytes() == (out_dir / "evolution.svg").read_bytes()


def test_evolution_errors(dated_csv):
    code, _, err = run("evolution")
    assert code == 2 and "evolution needs a dated registry" in err
    code, _, err = run("evolution", "--registry", str(dated_csv), "--from", "2023-01",
                       "--to", "2021-01")
    assert code == 2 and "--from 01/2023 comes after --to 01/2021" in err
    code, _, err = run("evolution", "--registry", str(dated_csv), "--region", "99")
    assert code == 2 and "is not a région code" in err


def test_evolution_of_one_region_json(dated_csv):
    code, out, _ = run("evolution", "--registry", str(dated_csv), "--region", "93", "--json",
                       "--from", "2024-01", "--to", "2024-03")
    assert code == 0
    d = json.loads(out)
    assert d["region"] == "93" and [m["mois"] for m in d["mois"]] == ["2024-01", "2024-02",
                                                                       "2024-03"]
    assert [g["code"] for g in d["par_region"]] == ["93"]


# ---- atlas --------------------------------------------------------------------------------

def test_atlas_at_and_compare(ref, dated_csv, dates, tmp_path):
    old = tmp_path / "ancien.csv"
    frame = dated_frame()
    frame = frame[~frame["cpts_id"].isin(["PACA-001", "PACA-002"])]
    frame.to_csv(old, index=False)
    out = tmp_path / "atlas"
    code, text, _ = run("atlas", "--registry", str(dated_csv), "--at", "2025-06-30",
                        "--compare", str(old), "--out", str(out))
    assert code == 0, text
    page = (out / "93.html").read_text(encoding="utf-8")
    assert '<h2 id="atlas-evolution-heading">Évolution</h2>' in page
    assert "Changements depuis ancien.csv" in page
    # the chart ends at --at
    months = int(re.search(r'data-mois="(\d+)"', page).group(1))
    first = min(d for r in rows(dates).values() for d in (r["li"], r["ps"], r["aci"]) if d)
    assert months == (2025 - first.year) * 12 + 6 - first.month + 1
    # the coverage table of the page is the registry at that date
    expected = expected_at(dt.date(2025, 6, 30), dates)
    cov = pd.read_csv(out / "couverture.csv", sep=";", encoding="utf-8-sig", dtype={"code": str})
    row = cov[cov["code"] == "93"].iloc[0]
    assert row["population_couverte_tous_stades"] == expected["population_couverte"][
        "tous_stades"]
    # the changes counted in the panel are the diff's
    diff = diff_registries(read_registry(old, ref),
                           _at(read_registry(dated_csv, ref), "2025-06-30", ref), ref)
    for kind, key in (("gagnee", "changements_gagnees"), ("perdue", "changements_perdues"),
                      ("changee", "changements_changees")):
        n = int((diff.unites["changement"] == kind).sum())
        assert f'<li data-layer="{key}" data-count="{n}">' in page
    assert (diff.unites["changement"] == "gagnee").sum() > 0


def _at(reg, day, ref):
    from cpts_geo.analysis.timeline import registry_at

    return registry_at(reg, day, ref)
