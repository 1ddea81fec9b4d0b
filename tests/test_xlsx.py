"""couverture.xlsx reads well in Excel: frozen French header, fitted widths, typed and formatted
cells, on the real PACA analysis; the CSV files keep the machine names scripts read.

Expectations come from the CSV files written beside it (plain pandas) and from hand-written
French titles, not from the module under test.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import openpyxl
import pandas as pd
import pytest

from cpts_geo.outputs import write_results, write_table, write_xlsx

SHEETS = ("couverture", "territoires", "conflits", "zones_blanches", "partages")


@pytest.fixture(scope="module")
def results(paca_analysis, tmp_path_factory):
    out = tmp_path_factory.mktemp("xlsx")
    write_results(paca_analysis, out, gpkg=False)
    return out


@pytest.fixture(scope="module")
def workbook(results):
    return openpyxl.load_workbook(results / "couverture.xlsx")


def _csv(results, name: str) -> pd.DataFrame:
    return pd.read_csv(results / f"{name}.csv", sep=";", encoding="utf-8-sig",
                       dtype={"code": str, "region": str, "departements": str, "regions": str,
                              "codes": str})


def _column(ws, title: str) -> list:
    header = [c.value for c in ws[1]]
    i = header.index(title)
    return [row[i] for row in ws.iter_rows(min_row=2)]


def test_every_sheet_has_a_frozen_bold_header_with_filters(workbook, results):
    assert list(workbook.sheetnames) == list(SHEETS)
    for name in SHEETS:
        ws = workbook[name]
        assert ws.freeze_panes == "A2"
        assert all(c.font.bold for c in ws[1])
        rows = len(_csv(results, name))
        assert ws.max_row == rows + 1
        assert ws.auto_filter.ref == f"A1:{ws.cell(1, ws.max_column).column_letter}{rows + 1}"
        assert ws.print_title_rows == "$1:$1"  # the header is printed on every page


def test_titles_are_french_and_the_csv_keeps_machine_names(workbook, results):
    csv_header = list(_csv(results, "couverture").columns)
    assert "population_couverte_tous_stades" in csv_header  # scripts read these
    titles = [c.value for c in workbook["couverture"][1]]
    assert len(titles) == len(csv_header)
    expected = {
        "niveau": "Niveau",
        "population_totale": "Population totale",
        "n_cpts": "Nombre de CPTS",
        "population_couverte_tous_stades": "Population couverte (tous stades)",
        "taux_tous_stades": "Taux de couverture (tous stades)",
        "taux_fonctionnement": "Taux de couverture (ACI signé)",
        "n_cpts_fonctionnement": "CPTS : En fonctionnement (ACI signé)",
    }
    for machine, french in expected.items():
        assert titles[csv_header.index(machine)] == french
    terr = [c.value for c in workbook["territoires"][1]]
    assert terr[:4] == ["Identifiant CPTS", "Nom de la CPTS", "Stade (code)", "Stade"]
    assert "Superficie (km²)" in terr and "Plafond ACI (€ par an)" in terr
    assert not any("_" in str(t) for ws in workbook for t in (c.value for c in ws[1]))


def test_numbers_are_typed_and_formatted_by_kind(workbook, results):
    terr = _csv(results, "territoires")
    ws = workbook["territoires"]
    population = _column(ws, "Population")
    assert [c.value for c in population] == terr["population"].tolist()
    assert all(isinstance(c.value, int) and c.number_format == "#,##0" for c in population)
    ceiling = _column(ws, "Plafond ACI (€ par an)")
    assert [c.value for c in ceiling] == terr["plafond_aci"].tolist()
    assert {c.number_format for c in ceiling} == {'#,##0 "€"'}
    area = _column(ws, "Superficie (km²)")
    assert np.allclose([c.value for c in area], terr["superficie_km2"])
    assert {c.number_format for c in area} == {"#,##0.00"}
    # codes stay text, with their leading zero
    assert {c.value for c in _column(ws, "Région")} == {"93"}
    assert all(isinstance(c.value, str) for c in _column(ws, "Départements"))


def test_rates_are_real_percentages(workbook, results):
    cov = _csv(results, "couverture")
    rates = _column(workbook["couverture"], "Taux de couverture (tous stades)")
    assert {c.number_format for c in rates} == {"0.00 %"}
    # the CSV holds percent (98.06), the cell the fraction Excel shows as 98,06 %
    assert np.allclose([c.value for c in rates], cov["taux_tous_stades"] / 100)
    france = cov.index[cov["niveau"] == "france"][0]
    assert rates[france].value == pytest.approx(
        cov.loc[france, "population_couverte_tous_stades"]
        / cov.loc[france, "population_totale"], abs=5e-5)


def test_lists_are_joined_text_and_widths_fit(workbook, results):
    zb = _csv(results, "zones_blanches")
    ws = workbook["zones_blanches"]
    codes = [c.value for c in _column(ws, "Codes INSEE")]
    assert codes == zb["codes"].tolist()
    assert "06079;06138;83133" in codes
    terr = workbook["territoires"]
    header = [c.value for c in terr[1]]
    names = _csv(results, "territoires")["cpts_nom"]
    width = terr.column_dimensions[terr.cell(1, header.index("Nom de la CPTS") + 1)
                                   .column_letter].width
    assert width >= min(names.str.len().max(), 60)  # the longest name fits, within bounds
    for ws in workbook:
        for cell in ws[1]:
            w = ws.column_dimensions[cell.column_letter].width
            assert 6 <= w <= 62
            # the title wraps in a header tall enough, but no word of it is cut
            assert w >= max(len(word) for word in str(cell.value).split())
        assert ws.row_dimensions[1].height >= 15


def test_empty_table_keeps_its_header(workbook, paca_analysis):
    assert paca_analysis.conflits.empty
    ws = workbook["conflits"]
    assert ws.max_row == 1
    assert [c.value for c in ws[1]][:2] == ["CPTS A", "Nom de la CPTS A"]


def test_missing_values_dates_booleans_and_formulas(tmp_path):
    frame = pd.DataFrame({
        "nom": ["=cmd|' /C calc'!A0", "Gap", None],
        "population": pd.array([12, None, 3], dtype="Int64"),
        "taux_couverture": [50.0, np.nan, 100.0],
        "date_aci": pd.to_datetime(["2024-01-15", None, "2025-06-30"]),
        "date_lettre_intention": [dt.date(2023, 3, 1), None, dt.date(2022, 1, 2)],
        "partage": [True, False, True],
        "n_unites": pd.Series([1, None, 1200], dtype=object),  # ints with a gap, as objects
    })
    ws = openpyxl.load_workbook(write_xlsx({"t": frame}, tmp_path / "t.xlsx"))["t"]
    rows = [[c.value for c in row] for row in ws.iter_rows(min_row=2)]
    assert rows[0][0] == "'=cmd|' /C calc'!A0"  # never a formula
    assert rows[1][1:4] == [None, None, None] and rows[2][0] is None  # empty cells, no "nan"
    assert rows[0][2] == 0.5 and rows[2][2] == 1.0
    assert rows[0][3] == dt.datetime(2024, 1, 15)
    assert ws["D2"].number_format == "dd/mm/yyyy" and ws["E2"].number_format == "dd/mm/yyyy"
    assert rows[0][4] == dt.datetime(2023, 3, 1)
    assert [r[5] for r in rows] == [True, False, True]
    assert [r[6] for r in rows] == [1, None, 1200] and ws["G4"].number_format == "#,##0"


def test_every_xlsx_goes_through_the_same_writer(tmp_path):
    frame = pd.DataFrame({"zone_blanche": ["ZB-93-001"], "population": [37599]})
    ws = openpyxl.load_workbook(write_table(frame, tmp_path / "zones.xlsx"))["zones"]
    assert ws.freeze_panes == "A2"
    assert [c.value for c in ws[1]] == ["Zone blanche", "Population"]
    assert ws["B2"].value == 37599 and ws["B2"].number_format == "#,##0"


def test_sheet_names_are_made_valid_for_excel(tmp_path):
    frame = pd.DataFrame({"a": [1]})
    wb = openpyxl.load_workbook(write_xlsx({"zones/blanches: 2026?": frame,
                                            "zones_blanches_2026": frame}, tmp_path / "s.xlsx"))
    assert wb.sheetnames == ["zones_blanches_ 2026_", "zones_blanches_2026"]
