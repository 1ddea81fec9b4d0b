"""Dates in registries (``cpts_geo.registry.dates`` and their checks in ``registry.validate``).

Every accepted form of a date cell, on its own and in the files users have: the real PACA
registry with dates added (CSV with text dates, XLSX with real Excel date cells written by
openpyxl), JSON listings and perimeter files with date properties. Bad dates are problems with
their file, row, column and value; dates out of order are errors; with no stage the stage is the
latest step dated; a stage the dates contradict is a warning; the cache gives the dates back.
"""

from __future__ import annotations

import datetime as dt
import json

import geopandas as gpd
import numpy as np
import openpyxl
import pandas as pd
import pytest
import shapely

from cpts_geo.errors import ValidationError
from cpts_geo.registry import read_registry
from cpts_geo.registry.dates import DATE_COLUMNS, parse_date, parse_when
from cpts_geo.registry.read import _read

from dated_paca import (
    BEYOND,
    HEADERS,
    MONTH_ONLY,
    UNDATED,
    dated_frame,
    draw_dates,
    rows,
    write_dated_csv,
    write_dated_xlsx,
)

D = dt.date


# ---- one cell -------------------------------------------------------------------------------

@pytest.mark.parametrize("cell, expected", [
    ("15/06/2021", D(2021, 6, 15)),
    ("5/6/2021", D(2021, 6, 5)),
    ("15/06/21", D(2021, 6, 15)),
    ("15.06.2021", D(2021, 6, 15)),
    ("15-06-2021", D(2021, 6, 15)),
    ("15/06/2021 00:00", D(2021, 6, 15)),  # a CSV saved from a spreadsheet
    ("15/06/2021 14:30:00", D(2021, 6, 15)),
    ("2021-06-15", D(2021, 6, 15)),
    ("2021/06/15", D(2021, 6, 15)),
    ("2021-06-15 00:00:00", D(2021, 6, 15)),
    ("2021-06-15T10:00:00.000", D(2021, 6, 15)),
    ("15 juin 2021", D(2021, 6, 15)),
    ("1er juin 2021", D(2021, 6, 1)),
    ("15 Février 2022", D(2022, 2, 15)),
    (dt.datetime(2021, 6, 15, 9, 30), D(2021, 6, 15)),  # an Excel date cell, as openpyxl reads it
    (D(2021, 6, 15), D(2021, 6, 15)),
    (pd.Timestamp("2021-06-15"), D(2021, 6, 15)),  # a perimeter file's date field
    (44362, D(2021, 6, 15)),  # an Excel serial date (a date cell without its format)
    (44362.0, D(2021, 6, 15)),
])
def test_a_day_is_read_in_every_form(cell, expected):
    got = parse_date(cell)
    assert (got.value, got.month_only, got.error) == (expected, False, None)


@pytest.mark.parametrize("cell", ["juin 2021", "Juin 2021", "JUIN-2021", "06/2021", "6/2021",
                                  "2021-06", "2021/06", "june 2021"])
def test_a_month_is_its_first_day_and_says_so(cell):
    got = parse_date(cell)
    assert (got.value, got.month_only, got.error) == (D(2021, 6, 1), True, None)


@pytest.mark.parametrize("cell", [None, "", "  ", float("nan"), pd.NaT, np.nan, "NC", "-",
                                  pd.NA])
def test_an_empty_cell_is_no_date_and_no_error(cell):
    got = parse_date(cell)
    assert got.value is None and got.error is None


@pytest.mark.parametrize("cell, words", [
    ("31/02/2021", "no day 31/02/2021"),
    ("2021-13-01", "no month 13"),
    ("13/2021", "no month 13"),
    ("15/06/1921", "out of range"),
    ("bientôt", "not a date"),
    ("mi-juin 2021", "not a date"),
    ("44362", "not a date"),  # a serial number as text is not guessed
    (12, "not a date"),
    (True, "not a date"),
])
def test_a_bad_cell_says_why(cell, words):
    got = parse_date(cell)
    assert got.value is None
    assert words in got.error


def test_dates_on_the_command_line():
    assert parse_when("2024-02-01") == parse_when("01/02/2024") == parse_when("02/2024") \
        == D(2024, 2, 1)
    with pytest.raises(ValueError, match=r"--from 'hier' is not a date: give it as yyyy-mm-dd"):
        parse_when("hier", "--from")


# ---- the real PACA registry, dated ----------------------------------------------------------

@pytest.fixture(scope="module")
def dates():
    return draw_dates()


@pytest.fixture(scope="module")
def dated_csv(tmp_path_factory, dates):
    return write_dated_csv(tmp_path_factory.mktemp("dated") / "paca-dates.csv", dates)


@pytest.fixture(scope="module")
def dated_xlsx(tmp_path_factory, dates):
    return write_dated_xlsx(tmp_path_factory.mktemp("dated") / "paca-dates.xlsx", dates)


def _as_written(dates: pd.DataFrame) -> pd.DataFrame:
    """The dates per CPTS as the registry must give them (``NaT`` for none)."""
    out = pd.DataFrame({col: pd.to_datetime(dates[key].astype(object).where(
        dates[key].notna(), None)) for col, key in zip(DATE_COLUMNS, ("li", "ps", "aci"),
                                                      strict=True)})
    out.index.name = "cpts_id"
    return out.astype("datetime64[ns]")


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_dates_of_the_dated_paca_registry(ref, dates, dated_csv, dated_xlsx, fmt):
    reg = read_registry(dated_csv if fmt == "csv" else dated_xlsx, ref)
    assert reg.dated == DATE_COLUMNS
    cpts = reg.cpts
    assert len(cpts) == 70
    got = cpts[list(DATE_COLUMNS)].sort_index()
    pd.testing.assert_frame_equal(got, _as_written(dates).sort_index(), check_freq=False)
    # every claim of a CPTS carries its dates, also rows written without them
    claims = reg.claims
    per_cpts = claims.groupby("cpts_id")["date_lettre_intention"].nunique(dropna=False)
    assert (per_cpts == 1).all()
    assert claims["date_lettre_intention"].dtype == "datetime64[ns]"
    # the stage given is kept (it agrees with the dates, or is beyond them)
    assert cpts["stade"].to_dict() == dates["stade"].to_dict()


def test_a_month_is_said_to_be_taken_as_its_first_day(ref, dated_csv):
    reg = read_registry(dated_csv, ref)
    months = [n for n in reg.notices if n.kind == "mois"]
    frame = dated_frame()
    assert len(months) == len(MONTH_ONLY)
    for cid, notice in zip(MONTH_ONLY, months, strict=True):
        rows = frame.index[frame["cpts_id"] == cid] + 2  # header = row 1
        cell = frame.loc[frame["cpts_id"] == cid, HEADERS["li"]].iloc[0]
        assert notice.row == rows[0]
        assert f"column '{HEADERS['li']}' gives a month ({cell!r}), taken as its first day" \
            in notice.message
        assert str(dated_csv) in notice.message


def test_real_excel_date_cells_are_read(ref, tmp_path):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["Nom de la CPTS", "Code INSEE", "Date lettre d'intention",
               "Date validation projet de santé", "Date de signature de l'ACI"])
    ws.append(["CPTS A", "13001", dt.datetime(2019, 3, 4), D(2020, 1, 2), 44362])
    ws.append(["CPTS A", "13002", None, None, None])
    ws.append(["CPTS B", "13003", "juin 2021", None, None])
    for cell in ("C2", "D2"):
        ws[cell].number_format = "DD/MM/YYYY"
    wb.save(tmp_path / "r.xlsx")
    reg = read_registry(tmp_path / "r.xlsx", ref)
    cpts = reg.cpts
    assert cpts.loc["CPTS A", list(DATE_COLUMNS)].tolist() == [
        pd.Timestamp(2019, 3, 4), pd.Timestamp(2020, 1, 2), pd.Timestamp(2021, 6, 15)]
    assert cpts.loc["CPTS B", "date_lettre_intention"] == pd.Timestamp(2021, 6, 1)
    assert pd.isna(cpts.loc["CPTS B", "date_aci"])
    # no stage column: the stage is the latest step dated
    assert cpts["stade"].to_dict() == {"CPTS A": "fonctionnement", "CPTS B": "lettre_intention"}
    (month,) = [n for n in reg.notices if n.kind == "mois"]
    assert month.row == 4 and "'juin 2021'" in month.message


def test_stage_from_dates_when_the_registry_gives_none(ref, dates, tmp_path):
    frame = dated_frame(dates).drop(columns="statut")
    frame.to_csv(tmp_path / "sans-statut.csv", index=False)
    reg = read_registry(tmp_path / "sans-statut.csv", ref)
    latest = {cid: ("fonctionnement" if r["aci"] else "projet_valide" if r["ps"] else
                    "lettre_intention" if r["li"] else "non_renseigne")
              for cid, r in rows(dates).items()}
    assert reg.cpts["stade"].to_dict() == latest
    assert set(reg.cpts.loc[list(UNDATED), "stade"]) == {"non_renseigne"}
    assert not [n for n in reg.notices if n.kind == "stade_dates"]


# ---- bad dates --------------------------------------------------------------------------------

def _problems(path, ref):
    with pytest.raises(ValidationError) as info:
        read_registry(path, ref)
    return info.value.problems


def test_bad_dates_are_problems_with_file_row_column_and_value(ref, tmp_path):
    frame = dated_frame()
    header = HEADERS["aci"]
    frame.loc[3, header] = "31/02/2022"
    frame.loc[10, header] = "bientôt"
    frame.loc[11, header] = "bientôt"
    frame.loc[20, HEADERS["li"]] = "15/06/1921"
    path = tmp_path / "mauvaises-dates.csv"
    frame.to_csv(path, index=False)
    problems = sorted(_problems(path, ref), key=lambda p: p.row)
    assert [(p.file, p.row, p.column, p.value) for p in problems] == [
        (str(path), 5, header, "31/02/2022"),
        (str(path), 12, header, "bientôt"),
        (str(path), 22, HEADERS["li"], "15/06/1921")]
    assert "has no day 31/02/2022" in problems[0].message
    assert "also on row 13" in problems[1].message  # the same value, once
    assert "out of range" in problems[2].message
    assert all("dd/mm/yyyy" in p.message or "year" in p.message for p in problems)


def test_dates_out_of_order_are_an_error(ref, tmp_path):
    frame = dated_frame()
    cid = "PACA-003"
    rows = frame.index[frame["cpts_id"] == cid]
    frame.loc[rows, HEADERS["li"]] = "01/03/2022"
    frame.loc[rows, HEADERS["ps"]] = ""
    frame.loc[rows, HEADERS["aci"]] = "15/01/2021"
    frame.loc[rows, "statut"] = "ACI signé"
    path = tmp_path / "desordre.csv"
    frame.to_csv(path, index=False)
    (problem,) = _problems(path, ref)
    name = frame.loc[rows[0], "cpts_nom"]
    assert problem.row == rows[0] + 2 and problem.column == HEADERS["aci"]
    assert problem.value == "15/01/2021"
    assert (f"CPTS {name!r}: dates out of order: ACI signé on 15/01/2021 comes before lettre "
            "d'intention validée on 01/03/2022") in problem.message


def test_two_different_dates_on_rows_of_one_cpts_are_an_error(ref, tmp_path):
    frame = dated_frame()
    cid = "PACA-004"  # dated on every row
    rows = frame.index[frame["cpts_id"] == cid]
    assert len(rows) >= 2 and (frame.loc[rows, HEADERS["li"]] != "").all()
    frame.loc[rows[1], HEADERS["li"]] = "01/01/2017"
    path = tmp_path / "deux-dates.csv"
    frame.to_csv(path, index=False)
    (problem,) = _problems(path, ref)
    assert problem.row == rows[1] + 2 and problem.column == HEADERS["li"]
    assert problem.value == "01/01/2017"
    assert "is given different dates of lettre d'intention validée" in problem.message
    assert "Give each CPTS one date per step" in problem.message


def test_a_stage_the_dates_contradict_is_a_warning_naming_both(ref, tmp_path):
    frame = dated_frame()
    dates = draw_dates()
    cid = next(c for c, r in rows(dates).items() if r["aci"] is not None)
    lines = frame.index[frame["cpts_id"] == cid]
    frame.loc[lines, "statut"] = "Lettre d'intention"
    path = tmp_path / "desaccord.csv"
    frame.to_csv(path, index=False)
    reg = read_registry(path, ref)
    (notice,) = [n for n in reg.notices if n.kind == "stade_dates"]
    name = frame.loc[lines[0], "cpts_nom"]
    aci = dates.at[cid, "aci"].strftime("%d/%m/%Y")
    assert notice.row == lines[0] + 2
    assert (f"CPTS {name!r} is at stage 'lettre_intention' but is dated ACI signé on {aci} "
            "(stage 'fonctionnement'); the stage given is kept") in notice.message
    assert reg.cpts.at[cid, "stade"] == "lettre_intention"
    # a stage beyond the dates (ACI signé, only a lettre d'intention date) is no disagreement
    assert all(name not in notice.message for name in BEYOND)


# ---- other formats ----------------------------------------------------------------------------

def test_dates_in_a_json_listing(ref, tmp_path):
    listing = [
        {"nom": "CPTS A", "communes": ["13001", "13002"], "statut": "ACI signé",
         "Date signature ACI": "15/06/2021", "date_lettre_intention": "2019-03"},
        {"nom": "CPTS B", "communes": ["13003"], "date_lettre_intention": "2020-02-01",
         "date_projet_sante": None},
    ]
    path = tmp_path / "cpts.json"
    path.write_text(json.dumps(listing), encoding="utf-8")
    reg = read_registry(path, ref)
    cpts = reg.cpts
    assert cpts.loc["CPTS A", ["date_lettre_intention", "date_aci"]].tolist() == [
        pd.Timestamp(2019, 3, 1), pd.Timestamp(2021, 6, 15)]
    assert cpts.loc["CPTS B", "date_lettre_intention"] == pd.Timestamp(2020, 2, 1)
    assert cpts["stade"].to_dict() == {"CPTS A": "fonctionnement",
                                       "CPTS B": "lettre_intention"}
    assert [n.row for n in reg.notices if n.kind == "mois"] == [1]
    listing[1]["Date signature ACI"] = "32/01/2022"
    path.write_text(json.dumps(listing), encoding="utf-8")
    (problem,) = _problems(path, ref)
    assert (problem.row, problem.column, problem.value) == (2, "Date signature ACI",
                                                             "32/01/2022")


@pytest.mark.parametrize("driver, suffix", [("GeoJSON", "geojson"), ("GPKG", "gpkg")])
def test_dates_in_perimeter_properties(ref, tmp_path, driver, suffix):
    units = ref.geometry("metro")
    frame = gpd.GeoDataFrame(
        {"nom": ["CPTS A", "CPTS B"],
         "date_aci": pd.to_datetime(["2021-06-15", None]),  # a date field (GPKG) or text
         "Date lettre d'intention": ["03/2019", "2020-02-01"]},
        geometry=[shapely.union_all([units.loc["13001"], units.loc["13002"]]),
                  units.loc["13003"]], crs=units.crs).to_crs(4326)
    path = tmp_path / f"perimetres.{suffix}"
    frame.to_file(path, driver=driver)
    reg = read_registry(path, ref)
    cpts = reg.cpts
    assert cpts.loc["CPTS A", ["date_lettre_intention", "date_aci"]].tolist() == [
        pd.Timestamp(2019, 3, 1), pd.Timestamp(2021, 6, 15)]
    assert pd.isna(cpts.loc["CPTS B", "date_aci"])
    assert cpts["stade"].to_dict() == {"CPTS A": "fonctionnement",
                                       "CPTS B": "lettre_intention"}
    (month,) = [n for n in reg.notices if n.kind == "mois"]
    assert month.row == 1 and "column \"Date lettre d'intention\"" in month.message


# ---- the cache --------------------------------------------------------------------------------

def test_the_cache_gives_dated_registries_back(ref, tmp_path, monkeypatch, dates):
    cache = tmp_path / "cache"
    monkeypatch.setenv("CPTS_GEO_CACHE", str(cache))
    for fmt in ("csv", "xlsx"):
        src = (write_dated_csv(tmp_path / "r.csv", dates) if fmt == "csv"
               else write_dated_xlsx(tmp_path / "r.xlsx", dates))
        first = read_registry(src, ref)
        second = read_registry(src, ref)  # from the cache
        fresh = _read(src, ref, None, str(src), fmt)
        assert len(list((cache / "registries").glob("*.npz"))) == (1 if fmt == "csv" else 2)
        for reg in (first, second):
            pd.testing.assert_frame_equal(reg.claims, fresh.claims)
            assert reg.dated == DATE_COLUMNS
            assert reg.notices == fresh.notices
        assert second.claims["date_aci"].isna().sum() == fresh.claims["date_aci"].isna().sum() > 0
