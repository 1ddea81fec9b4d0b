"""``cpts-geo diff OLD NEW [--region] [--json] [--out]``: two registry vintages compared.

Exit code 0 no change, 1 changes, 2 bad input. Registries are the real PACA file and edited
copies written as CSV, XLSX and GeoJSON; expected units and populations are computed here from
the raw CSV and the reference population file.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import openpyxl
import pandas as pd
import pyogrio
from click.testing import CliRunner

from cpts_geo.cli import main

from conftest import PACA_DIR, SHARED

PACA_CSV = PACA_DIR / "cpts-communes.csv"
BAOUS, VALBONNE = "PACA-055", "PACA-056"
MOVED = ["06049", "06148"]  # Courmes, Tourrettes-sur-Loup: from the Baous to Valbonne
KEYS = {"appariements", "nouvelles", "disparues", "renommees", "changements_stade",
        "unites_ajoutees", "unites_retirees", "population_nouvellement_couverte",
        "population_plus_couverte", "conflits_apparus", "conflits_resolus", "couverture"}


def population() -> dict[str, int]:
    with open(SHARED / "population" / "communes-2026.csv", encoding="utf-8") as fh:
        return {r["code"]: int(r["population"]) for r in csv.DictReader(fh)
                if r["type"] in {"commune-actuelle", "arrondissement-municipal"}
                and r["zone"] != "com"}


def raw() -> pd.DataFrame:
    return pd.read_csv(PACA_CSV, dtype=str, keep_default_na=False)


def moved_registry(path: Path) -> Path:
    frame = raw()
    name = frame.loc[frame["cpts_id"] == VALBONNE, "cpts_nom"].iloc[0]
    frame.loc[frame["code_commune"].isin(MOVED), ["cpts_id", "cpts_nom"]] = [VALBONNE, name]
    if path.suffix == ".xlsx":
        with pd.ExcelWriter(path) as writer:
            pd.DataFrame({"notes": ["version de juin"]}).to_excel(writer, sheet_name="Notes",
                                                                  index=False)
            frame.to_excel(writer, sheet_name="Registre juin", index=False)
    else:
        frame.to_csv(path, index=False, sep=";")
    return path


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, ["diff", *args])
    assert result.exception is None or isinstance(result.exception, SystemExit), (
        result.exception)
    assert "Traceback" not in result.output
    return result.exit_code, result.stdout, result.stderr


def test_same_registry_is_no_change_exit_0():
    code, out, _ = run(str(PACA_CSV), str(PACA_DIR / "cpts.json"))
    assert code == 0
    assert "Aucun changement" in out
    assert "CPTS appariées par identifiant : 70 paires" in out


def test_changes_exit_1_with_french_report(tmp_path):
    code, out, err = run(str(PACA_CSV), str(moved_registry(tmp_path / "juin.csv")))
    assert code == 1
    pop = population()
    total = f"{pop['06049'] + pop['06148']:,}".replace(",", "\u202f")
    assert f"CPTS des Collines de Valbonne ({VALBONNE}) : +2 — {total} hab." in out
    assert f"CPTS des Baous ({BAOUS}) : −2 — {total} hab." in out
    assert "Courmes (06049), Tourrettes-sur-Loup (06148)" in out
    assert "Par département :" in out
    assert "Warning:" in err  # the PACA file's remapped code


def test_json_keys_and_figures(tmp_path):
    code, out, _ = run(str(PACA_CSV), str(moved_registry(tmp_path / "juin.csv")), "--json")
    assert code == 1
    d = json.loads(out)
    assert set(d) >= KEYS
    pop = population()
    assert {"ancienne", "nouvelle", "par"} <= set(d["appariements"][0])
    assert len(d["appariements"]) == 70
    assert all(p["ancienne"] == p["nouvelle"] and p["par"] == "identifiant"
               for p in d["appariements"])
    assert d["unites_ajoutees"] == [{
        "cpts": VALBONNE, "ancienne": VALBONNE, "cpts_nom": "CPTS des Collines de Valbonne",
        "codes": MOVED, "communes": ["Courmes", "Tourrettes-sur-Loup"], "n_unites": 2,
        "population": pop["06049"] + pop["06148"]}]
    (removed,) = d["unites_retirees"]
    assert {k: removed[k] for k in ("cpts", "codes", "population")} == {
        "cpts": BAOUS, "codes": MOVED, "population": pop["06049"] + pop["06148"]}
    assert d["population_nouvellement_couverte"] == d["population_plus_couverte"] == 0
    assert d["nouvelles"] == d["disparues"] == d["renommees"] == []
    assert d["conflits_apparus"] == d["conflits_resolus"] == []
    cov = d["couverture"]
    assert cov["population_totale"] == 5_218_960
    assert set(cov["par_stade"]) == {"fonctionnement", "jusqu_projet_valide", "tous_stades"}
    assert cov["par_stade"]["tous_stades"]["taux_avant"] == 98.06
    assert cov["par_stade"]["tous_stades"]["taux_apres"] == 98.06
    assert [r["code"] for r in cov["par_region"]] == ["93"]
    assert [r["code"] for r in cov["par_departement"]] == ["04", "05", "06", "13", "83", "84"]
    assert d["changements"] is True and d["par"] == "identifiant"


def test_out_writes_tables_workbook_and_changed_units(tmp_path):
    out = tmp_path / "resultats"
    code, stdout, _ = run(str(PACA_CSV), str(moved_registry(tmp_path / "juin.csv")), "--out",
                          str(out))
    assert code == 1 and "Tables written to" in stdout
    unites = pd.read_csv(out / "diff_unites.csv", sep=";", encoding="utf-8-sig", dtype=str)
    assert unites[["code", "avant", "apres", "changement"]].to_dict("records") == [
        {"code": c, "avant": BAOUS, "apres": VALBONNE, "changement": "changee"} for c in MOVED]
    book = openpyxl.load_workbook(out / "diff.xlsx", read_only=True)
    assert {"appariements", "unites_ajoutees", "unites_retirees", "couverture",
            "zones_blanches"} <= set(book.sheetnames)
    assert [name for name, _ in pyogrio.list_layers(out / "diff.gpkg")] == ["unites"]
    layer = pyogrio.read_dataframe(out / "diff.gpkg", layer="unites")
    assert sorted(layer["code"]) == MOVED
    assert layer.crs.to_epsg() == 2154  # PACA lies in one zone: Lambert-93
    assert (layer.geometry.area > 1e6).all()  # real commune polygons, m²
    # a second run into the same directory is allowed (the tool wrote it)
    assert run(str(PACA_CSV), str(PACA_CSV), "--out", str(out))[0] == 0
    assert pyogrio.read_info(out / "diff.gpkg", layer="unites")["features"] == 0


def test_xlsx_sheets_given_per_file(tmp_path):
    new = moved_registry(tmp_path / "juin.xlsx")
    old = tmp_path / "janvier.xlsx"
    raw().to_excel(old, sheet_name="Registre janvier", index=False)
    code, out, _ = run(str(old), str(new), "--old-sheet", "Registre janvier", "--new-sheet",
                       "Registre juin", "--json")
    assert code == 1
    assert json.loads(out)["unites_ajoutees"][0]["codes"] == MOVED
    code, _, err = run(str(old), str(new), "--sheet", "Registre juin")
    assert code == 2 and "Error:" in err and "Registre juin" in err


def test_region_without_change_exit_0(tmp_path):
    code, out, _ = run(str(PACA_CSV), str(moved_registry(tmp_path / "juin.csv")), "--region",
                       "84", "--json")
    assert code == 0
    assert json.loads(out)["perimetre"] == ["84"]


def test_bad_input_exit_2_without_traceback(tmp_path):
    code, _, err = run(str(PACA_CSV), str(tmp_path / "absent.csv"))
    assert code == 2 and err.startswith("Error:") and "absent.csv" in err
    bad = tmp_path / "bad.csv"
    bad.write_text("cpts_nom;code_insee\nCPTS A;99999\n", encoding="utf-8")
    code, _, err = run(str(bad), str(PACA_CSV))
    assert code == 2 and "Error:" in err and "99999" in err and "row 2" in err
    code, _, err = run(str(PACA_CSV), str(PACA_CSV), "--region", "99")
    assert code == 2 and "--region '99' is not a région code" in err
    code, _, err = run(str(PACA_CSV))
    assert code == 2 and "NEW" in err
