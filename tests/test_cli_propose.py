"""``cpts-geo propose [--registry FILE] [--region CODE] [--out DIR] [--json]``.

Exit codes, the JSON keys of the issue, the files of ``--out`` and the proposed registry read
back by ``cpts-geo coverage``; figures are recomputed from the real PACA registry (``csv``
module) and the reference population file.
"""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from click.testing import CliRunner

from cpts_geo.cli import main

from conftest import PACA_DIR, SHARED

PACA_CSV = PACA_DIR / "cpts-communes.csv"
ROOT = Path(__file__).parents[1]
PROPOSITION_KEYS = {"zone_blanche", "codes", "population", "candidats"}
CANDIDATE_KEYS = {"cpts_id", "population_avant", "population_apres", "taille_avant",
                  "taille_apres", "plafond_avant", "plafond_apres", "d_un_seul_tenant"}


def population() -> dict[str, int]:
    with open(SHARED / "population" / "communes-2026.csv", encoding="utf-8") as fh:
        return {r["code"]: int(r["population"]) for r in csv.DictReader(fh)
                if r["type"] in {"commune-actuelle", "arrondissement-municipal"}
                and r["zone"] != "com"}


def run(*args: str):
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


@pytest.fixture(scope="module")
def paca_json():
    res = run("propose", "--registry", str(PACA_CSV), "--region", "93", "--json")
    assert res.exit_code == 0, res.output
    return json.loads(res.stdout)


def test_json_has_the_keys_of_the_issue(paca_json):
    d = paca_json
    assert {"propositions", "conciliations", "regle", "non_rattachees", "effet_financement",
            "rattachements", "effets", "options"} <= set(d)
    assert d["perimetre"] == "93 Provence-Alpes-Côte d'Azur"
    assert len(d["propositions"]) == 7 and d["conciliations"] == []
    pop = population()
    for p in d["propositions"]:
        assert set(p) >= PROPOSITION_KEYS
        assert p["zone_blanche"].startswith("ZB-93-")
        assert p["population"] == sum(pop[c] for c in p["codes"])
        assert p["candidats"], p["zone_blanche"]
        for c in p["candidats"]:
            assert set(c) >= CANDIDATE_KEYS
            assert c["population_apres"] - c["population_avant"] == p["population"]
    assert d["taux_couverture_avant"] == 98.06 and d["taux_couverture_apres"] == 100.0
    assert d["non_rattachees"] == [] and len(d["rattachements"]) == 46
    assert "plus longue frontière" in d["regle"]
    assert d["options"] == {"taille_inchangee": False, "stades_exclus": []}


def test_text_report_in_french(tmp_path):
    res = run("propose", "--registry", str(PACA_CSV), "--region", "93")
    assert res.exit_code == 0
    out = res.stdout
    assert out.startswith("Propositions pour une CPTS par territoire et aucune zone blanche")
    for text in ("Règle :", "ZB-93-001 — Marseille 1er Arrondissement (13201)",
                 "CPTS limitrophes", "Proposition : PACA-010", "Conciliations",
                 "Unités non rattachées : 0"):
        assert text in out, text


def test_out_writes_the_tables_and_a_registry_every_command_reads(tmp_path):
    out = tmp_path / "propositions"
    res = run("propose", "--registry", str(PACA_CSV), "--region", "93", "--out", str(out))
    assert res.exit_code == 0, res.output
    names = {p.name for p in out.iterdir()}
    assert {"propositions.csv", "rattachements.csv", "conciliations.csv", "effets.csv",
            "propositions.xlsx", "registre_propose.csv"} <= names
    book = openpyxl.load_workbook(out / "propositions.xlsx", read_only=True)
    assert book.sheetnames == ["propositions", "rattachements", "conciliations", "effets",
                               "regle"]
    book.close()
    props = pd.read_csv(out / "propositions.csv", sep=";", dtype=str, encoding="utf-8-sig")
    assert set(props["zone_blanche"]) == {f"ZB-93-00{i}" for i in range(1, 8)}
    first = props[props["zone_blanche"] == "ZB-93-001"]
    assert first["codes_proposes"].fillna("").tolist() == ["13201", "", "", ""]
    # the registry in the input's columns, read back to 100 % and no conflict
    registry = out / "registre_propose.csv"
    with open(registry, encoding="utf-8-sig") as fh:
        header = next(csv.reader(fh, delimiter=";"))
    with open(PACA_CSV, encoding="utf-8") as fh:
        assert header == next(csv.reader(fh))
    res = run("coverage", "--registry", str(registry), "--region", "93", "--json")
    assert res.exit_code == 0, res.output
    s = json.loads(res.stdout)
    assert s["taux_couverture"] == 100.00 and s["conflits"] == [] and s["zones_blanches"] == []
    assert s["population_couverte"] == s["population_totale"] == 5_218_960
    assert s["n_cpts"] == 70


def test_json_registry_gives_the_canonical_columns(tmp_path):
    out = tmp_path / "p"
    res = run("propose", "--registry", str(PACA_DIR / "cpts.json"), "--region", "93", "--out",
              str(out), "--json")
    assert res.exit_code == 0, res.output
    frame = pd.read_csv(out / "registre_propose.csv", sep=";", dtype=str,
                        keep_default_na=False, encoding="utf-8-sig")
    assert list(frame.columns[:5]) == ["cpts_id", "cpts_nom", "stade", "code_commune",
                                       "partage"]
    assert set(frame.loc[frame["code_commune"] == "06088", "partage"]) == {"infra"}
    assert frame.loc[frame["code_commune"] == "13201", "cpts_id"].tolist() == ["PACA-010"]
    res = run("coverage", "--registry", str(out / "registre_propose.csv"), "--region", "93",
              "--json")
    s = json.loads(res.stdout)
    assert s["taux_couverture"] == 100.0 and s["conflits"] == []
    assert [p["cpts"] for p in s["partages"]] == [["PACA-028", "PACA-029", "PACA-030"],
                                                 ["PACA-025", "PACA-042"]]


def test_xlsx_registry_keeps_its_columns(tmp_path):
    raw = pd.read_csv(PACA_CSV, dtype=str, keep_default_na=False)
    raw = raw.rename(columns={"cpts_nom": "Nom de la CPTS", "code_commune": "Code INSEE"})
    raw.insert(2, "Statut", "Lettre d'intention validée")
    book = tmp_path / "registre.xlsx"
    raw.to_excel(book, index=False)
    out = tmp_path / "p"
    res = run("propose", "--registry", str(book), "--region", "93", "--out", str(out), "--json")
    assert res.exit_code == 0, res.output
    frame = pd.read_csv(out / "registre_propose.csv", sep=";", dtype=str,
                        keep_default_na=False, encoding="utf-8-sig")
    assert list(frame.columns) == list(raw.columns)
    new = frame[frame["code_arrondissement"] == "13201"]
    assert new[["cpts_id", "Code INSEE", "Statut"]].to_numpy().tolist() == [
        ["PACA-010", "13055", "Lettre d'intention validée"]]
    s = json.loads(run("coverage", "--registry", str(out / "registre_propose.csv"), "--region",
                       "93", "--json").stdout)
    assert s["taux_couverture"] == 100.0 and s["n_cpts_par_stade"]["lettre_intention"] == 70


def test_options_on_the_command_line(tmp_path):
    res = run("propose", "--region", "93", "--json", "--keep-tier", "--exclude-stage",
              "émergence", "--exclude-stage", "lettre_intention")
    assert res.exit_code == 0, res.output
    d = json.loads(res.stdout)
    assert d["options"] == {"taille_inchangee": True,
                            "stades_exclus": ["lettre_intention", "emergence"]}
    assert all(e["taille_avant"] == e["taille_apres"] for e in d["effets"])
    assert d["effet_financement"] == 0


def test_bad_input_exits_2_with_a_message(tmp_path):
    res = CliRunner().invoke(main, ["propose", "--exclude-stage", "dormante"])
    assert res.exit_code == 2
    assert "'dormante' is not a stage; use one of: fonctionnement" in res.output
    assert "Traceback" not in res.output
    res = CliRunner().invoke(main, ["propose", "--region", "99"])
    assert res.exit_code == 2 and "Error: --region '99' is not a région code" in res.output
    res = CliRunner().invoke(main, ["propose", "--registry", str(tmp_path / "absent.csv")])
    assert res.exit_code == 2 and "no such file" in res.output
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "notes.txt").write_text("à garder", encoding="utf-8")
    res = CliRunner().invoke(main, ["propose", "--region", "93", "--out", str(mine)])
    assert res.exit_code == 2 and "--overwrite" in res.output
    assert [p.name for p in mine.iterdir()] == ["notes.txt"]


def test_same_output_in_two_processes(tmp_path):
    """The proposal does not depend on hash seeds or anything else that varies between runs."""
    outputs = []
    for seed in ("1", "2"):
        env = {**os.environ, "PYTHONHASHSEED": seed, "PYTHONPATH": str(ROOT)}
        proc = subprocess.run([sys.executable, "-m", "cpts_geo", "propose", "--region", "93",
                               "--json"], capture_output=True, text=True, env=env, check=False,
                              cwd=tmp_path)
        assert proc.returncode == 0, proc.stderr
        outputs.append(proc.stdout)
    assert outputs[0] == outputs[1]
    assert json.loads(outputs[0])["rattachements"][0]["cpts_id"] == "PACA-010"
