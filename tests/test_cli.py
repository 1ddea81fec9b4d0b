"""The command line: coverage, safe outputs, clean errors (atlas and check have their own files)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import openpyxl
import pyogrio
import pytest
from click.testing import CliRunner

from cpts_geo.cli import main

from conftest import PACA_DIR, SHARED


def run(*args: str, env: dict[str, str] | None = None):
    runner = CliRunner()
    return runner.invoke(main, list(args), env={"CPTS_GEO_DATA": str(SHARED), **(env or {})})


def test_help_and_module_entry_point():
    out = subprocess.run([sys.executable, "-m", "cpts_geo", "--help"], capture_output=True,
                         text=True, check=True)
    for cmd in ("atlas", "coverage", "check", "fetch"):
        assert cmd in out.stdout


def test_coverage_text_report_on_the_default_registry():
    res = run("coverage", "--region", "93")
    assert res.exit_code == 0, res.output
    assert "Provence-Alpes-Côte d'Azur" in res.stdout
    assert "98,06" in res.stdout
    assert "Nice (06088)" in res.stdout and "Toulon (83137)" in res.stdout
    assert "Marseille 1er Arrondissement" in res.stdout
    assert "05120" in res.stderr  # the remap is reported, not silent


def test_coverage_json_contract(paca_analysis):
    res = run("coverage", "--region", "93", "--json",
              "--registry", str(PACA_DIR / "cpts-communes.csv"))
    assert res.exit_code == 0, res.output
    data = json.loads(res.stdout)
    for key in ("population_totale", "population_couverte", "taux_couverture", "par_stade",
                "zones_blanches", "conflits", "partages"):
        assert key in data
    assert data["population_totale"] == 5_218_960
    assert data["taux_couverture"] == round(100 * data["population_couverte"] / 5_218_960, 2)
    assert set(data["par_stade"]) == {"fonctionnement", "jusqu_projet_valide", "tous_stades"}
    assert data["par_stade"]["tous_stades"]["population_couverte"] == data["population_couverte"]
    assert {p["code"] for p in data["partages"]} == {"06088", "83137"}
    assert all({"codes", "population"} <= set(z) for z in data["zones_blanches"])
    assert data["conflits"] == []
    assert sum(z["population"] for z in data["zones_blanches"]) == (
        data["population_totale"] - data["population_couverte"])


def test_coverage_france_counts_all_of_france():
    res = run("coverage", "--france", "--json")
    data = json.loads(res.stdout)
    assert data["population_totale"] == 68_350_798
    assert data["perimetre"] == "France"
    assert len(data["perimetre_regions"]) == 18


def test_coverage_defaults_to_the_registry_perimeter():
    """The embedded registry is PACA's: its figures, not 7.49 % of France."""
    res = run("coverage", "--json")
    data = json.loads(res.stdout)
    assert (data["population_totale"], data["taux_couverture"]) == (5_218_960, 98.06)
    assert data["perimetre"] == "93 Provence-Alpes-Côte d'Azur"
    assert data["perimetre_regions"] == ["93"] and data["regions_hors_perimetre"] == []
    assert len(data["zones_blanches"]) == 7
    assert all(z["zone_blanche"].startswith("ZB-93-") for z in data["zones_blanches"])
    text = run("coverage").stdout
    assert "périmètre du registre" in text and "5 218 960" in text.replace("\u202f", " ")


def test_coverage_out_writes_tables_and_gpkg(tmp_path):
    out = tmp_path / "res"
    res = run("coverage", "--region", "93", "--out", str(out))
    assert res.exit_code == 0, res.output
    names = {p.name for p in out.iterdir()}
    assert {"couverture.csv", "territoires.csv", "conflits.csv", "zones_blanches.csv",
            "partages.csv", "couverture.xlsx", "cpts.gpkg"} <= names
    text = (out / "territoires.csv").read_bytes()
    assert text.startswith(b"\xef\xbb\xbf")  # BOM: Excel opens UTF-8 right
    assert "CPTS Actes Santé".encode() in text
    layers = {str(n): g for n, g in pyogrio.list_layers(out / "cpts.gpkg")}
    assert {n for n, g in layers.items() if g} == {"territoires", "conflits", "zones_blanches"}
    assert layers["layer_styles"] is None  # the QGIS styles, an attributes table
    terr = pyogrio.read_dataframe(out / "cpts.gpkg", layer="territoires")
    assert len(terr) == 70 and terr.crs.to_epsg() == 2154
    wb = openpyxl.load_workbook(out / "couverture.xlsx")
    assert {"couverture", "territoires", "conflits", "zones_blanches", "partages"} <= set(
        wb.sheetnames)
    # nothing written outside the directory given, no staging left behind
    assert sorted(p.name for p in tmp_path.iterdir()) == ["res"]


def test_formula_looking_names_are_neutralised(tmp_path):
    reg = tmp_path / "reg.csv"
    reg.write_text('cpts_nom;code_insee\n"=HYPERLINK(""http://x"",""y"")";05023\n'
                   "+CPTS;05027\n", encoding="utf-8")
    out = tmp_path / "res"
    res = run("coverage", "--registry", str(reg), "--region", "93", "--out", str(out))
    assert res.exit_code == 0, res.output
    csv_text = (out / "territoires.csv").read_text(encoding="utf-8-sig")
    assert "'=HYPERLINK" in csv_text and "'+CPTS" in csv_text
    assert "\n=HYPERLINK" not in csv_text and ";=HYPERLINK" not in csv_text
    wb = openpyxl.load_workbook(out / "couverture.xlsx")
    cells = [c.value for row in wb["territoires"].iter_rows() for c in row]
    assert "'=HYPERLINK(\"http://x\",\"y\")" in cells
    assert not any(isinstance(v, str) and v.startswith("=") for v in cells)


def test_out_refuses_a_foreign_directory_without_overwrite(tmp_path):
    out = tmp_path / "mine"
    out.mkdir()
    (out / "notes.txt").write_text("précieux", encoding="utf-8")
    res = run("coverage", "--region", "93", "--out", str(out))
    assert res.exit_code == 2
    assert "--overwrite" in res.output
    assert (out / "notes.txt").read_text(encoding="utf-8") == "précieux"
    res = run("coverage", "--region", "93", "--out", str(out), "--overwrite")
    assert res.exit_code == 0
    assert (out / "couverture.csv").exists()
    assert (out / "notes.txt").read_text(encoding="utf-8") == "précieux"  # others kept
    # a directory this tool wrote may be refreshed without --overwrite
    res = run("coverage", "--region", "93", "--out", str(out))
    assert res.exit_code == 0


def test_out_that_is_a_file_is_refused(tmp_path):
    target = tmp_path / "f"
    target.write_text("x", encoding="utf-8")
    res = run("coverage", "--out", str(target))
    assert res.exit_code == 2 and "is a file" in res.output


@pytest.mark.parametrize(("args", "message"), [
    (("coverage", "--region", "99"), "is not a région code"),
    (("coverage", "--registry", "/nonexistent/reg.csv"), "no such file"),
    (("coverage", "--data", "/nonexistent"), "No reference data found"),
])
def test_bad_input_exits_2_without_traceback(args, message):
    res = run(*args)
    assert res.exit_code == 2
    assert message in res.output
    assert "Traceback" not in res.output


def _snapshot(directory: Path) -> dict[str, bytes]:
    return {str(p.relative_to(directory)): p.read_bytes()
            for p in sorted(directory.rglob("*")) if p.is_file()}


def test_killed_run_leaves_previous_outputs_byte_identical(tmp_path):
    """Kill ``coverage --out`` while it writes: the previous outputs are untouched."""
    out = tmp_path / "res"
    env = {**os.environ, "CPTS_GEO_DATA": str(SHARED)}
    cmd = [sys.executable, "-m", "cpts_geo", "coverage", "--out", str(out)]
    subprocess.run([*cmd, "--region", "93"], env=env, check=True, capture_output=True)
    before = _snapshot(out)
    killed_while_writing = False
    for _ in range(5):
        proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and proc.poll() is None:
            staged = [p for p in tmp_path.glob(".res.tmp-*") if any(p.iterdir())]
            if staged:
                proc.send_signal(signal.SIGKILL)
                killed_while_writing = True
                break
            time.sleep(0.005)
        proc.wait()
        if killed_while_writing:
            break
    assert killed_while_writing, "the run finished before it could be killed mid-way"
    assert _snapshot(out) == before
    # the next run cleans up what the killed one left
    subprocess.run([*cmd, "--region", "93"], env=env, check=True, capture_output=True)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["res"]


def test_national_tables_fit_excel_cells(tmp_path):
    """France-wide zones blanches list thousands of communes: the XLSX cell is cut, not the CSV."""
    out = tmp_path / "fr"
    res = run("coverage", "--france", "--out", str(out))
    assert res.exit_code == 0, res.output
    wb = openpyxl.load_workbook(out / "couverture.xlsx", read_only=True)
    cells = [c for row in wb["zones_blanches"].iter_rows(values_only=True) for c in row]
    longest = max((c for c in cells if isinstance(c, str)), key=len)
    assert len(longest) <= 32_767
    assert "liste complète dans le fichier CSV" in longest
    csv_text = (out / "zones_blanches.csv").read_text(encoding="utf-8-sig")
    assert max(len(line) for line in csv_text.splitlines()) > 32_767


def test_republishing_keeps_permissions_follows_links_and_drops_stale_outputs(tmp_path):
    """A web folder: mode kept, a symlinked --out written through, old pages not carried over."""
    www = tmp_path / "www"
    www.mkdir()
    (www / "README.txt").write_text("dossier publié", encoding="utf-8")
    www.chmod(0o755)
    link = tmp_path / "link"
    link.symlink_to(www)
    res = run("coverage", "--region", "93", "--out", str(link), "--overwrite")
    assert res.exit_code == 0, res.output
    assert link.is_symlink() and (www / "couverture.csv").exists()
    assert (www.stat().st_mode & 0o777) == 0o755
    # a file the previous run wrote but this one does not is not carried over; the user's is
    (www / "ancienne-page.html").write_text("x", encoding="utf-8")
    marker = www / ".cpts-geo-output"
    data = json.loads(marker.read_text(encoding="utf-8"))
    marker.write_text(json.dumps({**data, "files": [*data["files"], "ancienne-page.html"]}),
                      encoding="utf-8")
    res = run("coverage", "--region", "93", "--out", str(link))
    assert res.exit_code == 0, res.output
    assert not (www / "ancienne-page.html").exists()
    assert (www / "README.txt").read_text(encoding="utf-8") == "dossier publié"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["link", "www"]


def test_out_dot_dot_is_resolved(tmp_path, monkeypatch):
    sub = tmp_path / "a" / "b"
    sub.mkdir(parents=True)
    monkeypatch.chdir(sub)
    res = run("coverage", "--region", "93", "--out", "..", "--overwrite")
    assert res.exit_code == 0, res.output
    assert (tmp_path / "a" / "couverture.csv").exists()
    assert (tmp_path / "a" / "b").is_dir()  # the user's folder inside --out is kept


def test_dollar_signs_in_input_names_are_text_in_figures(tmp_path):
    """matplotlib would read ``$...$`` as TeX and fail; names from inputs are plain text."""
    reg = tmp_path / "reg$\\frac{$.csv"
    reg.write_text("cpts_nom;code_insee\nCPTS $x^2$;05023\n", encoding="utf-8")
    out = tmp_path / "atlas"
    res = run("atlas", "--registry", str(reg), "--region", "93", "--png", "--out", str(out))
    assert res.exit_code == 0, res.output
    assert (out / "93.png").stat().st_size > 10_000
