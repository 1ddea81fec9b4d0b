"""Reading CPTS registries: the real PACA listing, every input format, lenient columns, stages,
validation that reports every problem at once, and CPTS perimeters drawn as polygons."""

from __future__ import annotations

import csv
import itertools
import json
from pathlib import Path

import geopandas as gpd
import openpyxl
import pandas as pd
import pyogrio
import pytest
import shapely

from cpts_geo import ValidationError
from cpts_geo.reference.codes import ARRONDISSEMENTS
from cpts_geo.registry import (
    CLAIM_COLUMNS,
    Registry,
    default_registry_path,
    membership,
    read_any,
    read_registry,
    registry_from_frame,
)

from conftest import PACA_DIR, SHARED

COMMUNES_GPKG = SHARED / "communes" / "communes-2025.gpkg"


def claim_set(reg: Registry) -> set[tuple[str, str, str, bool]]:
    c = reg.claims
    return set(zip(c["cpts_nom"], c["code"], c["stade"], c["partage"].astype(bool),
                   strict=True))


def population_file() -> dict[str, int]:
    with open(SHARED / "population" / "communes-2026.csv", encoding="utf-8") as fh:
        return {r["code"]: int(r["population"]) for r in csv.DictReader(fh)
                if r["type"] in {"commune-actuelle", "arrondissement-municipal"}
                and r["zone"] != "com"}


def write_csv(path: Path, rows: list[list[object]], *, delimiter: str = ",",
              encoding: str = "utf-8") -> Path:
    with open(path, "w", encoding=encoding, newline="") as fh:
        csv.writer(fh, delimiter=delimiter).writerows(rows)
    return path


def problems_of(path: Path, ref, **kwargs) -> list:
    with pytest.raises(ValidationError) as info:
        read_registry(path, ref, **kwargs)
    return info.value.problems


# --------------------------------------------------------------------------------------------
# the real PACA registry


def test_paca_csv_loads_as_70_cpts(paca, ref) -> None:
    with open(PACA_DIR / "cpts-communes.csv", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    expected = {(r["cpts_id"], {"05120": "05001"}.get(c, c))
                for r in rows for c in [r["code_arrondissement"] or r["code_commune"]]}
    assert len(paca) == 70 == len({r["cpts_id"] for r in rows})
    assert set(zip(paca.claims["cpts_id"], paca.claims["code"], strict=True)) == expected
    assert len(paca.claims) == len(expected) == 918  # 919 rows, 05120 and 05001 the same
    assert list(paca.claims.columns[:6]) == [*CLAIM_COLUMNS, "ligne"]
    assert paca.claims["partage"].dtype == bool
    assert str(paca.claims["ligne"].dtype) == "Int64"
    assert set(paca.claims["stade"]) == {"non_renseigne"}  # the source has no stage
    assert paca.claims["code"].isin(ref.current_codes).all()


def test_paca_marseille_is_claimed_by_arrondissement(paca) -> None:
    claimed = set(paca.claims["code"])
    marseille = set(ARRONDISSEMENTS["13055"])
    # every arrondissement but the 1st is claimed; the city as a whole never is
    assert claimed & marseille == marseille - {"13201"}
    assert "13055" not in claimed
    by_arr = paca.claims.set_index("code").loc[["13214", "13215", "13216"], "cpts_id"]
    assert set(by_arr) == {"PACA-001"}


def test_paca_05120_is_remapped_with_a_warning(paca) -> None:
    assert paca.remapped == {"05120": "05001"}
    remap = [w for w in paca.warnings if "05120" in w]
    assert len(remap) == 1
    assert "05001" in remap[0] and "Abriès-Ristolas" in remap[0] and "row 301" in remap[0]
    # Guil Durance listed both 05001 and 05120: one claim, and a warning saying so
    guil = paca.claims[paca.claims["cpts_id"] == "PACA-015"]
    assert (guil["code"] == "05001").sum() == 1
    assert any("duplicate claim of 05001" in w for w in paca.warnings)


def test_paca_nice_and_toulon_are_shared_below_the_commune(paca) -> None:
    shared = paca.claims[paca.claims["partage"]]
    assert set(shared["code"]) == {"06088", "83137"}
    assert set(shared.loc[shared["code"] == "06088", "cpts_id"]) == {
        "PACA-028", "PACA-029", "PACA-030"}
    assert set(shared.loc[shared["code"] == "83137", "cpts_id"]) == {"PACA-025", "PACA-042"}
    # every claim on Nice or Toulon is a shared one
    nice_toulon = paca.claims[paca.claims["code"].isin(["06088", "83137"])]
    assert nice_toulon["partage"].all()


def test_paca_json_gives_the_same_claims_as_the_csv(paca, paca_json) -> None:
    assert claim_set(paca_json) == claim_set(paca)
    assert paca_json.remapped == paca.remapped
    assert len(paca_json) == 70


def test_default_registry_is_the_embedded_paca_listing(ref, paca) -> None:
    assert default_registry_path().exists()
    reg = read_any(None, ref)
    assert claim_set(reg) == claim_set(paca)


def test_registry_cpts_table(paca) -> None:
    cpts = paca.cpts
    assert len(cpts) == 70 and cpts.index.name == "cpts_id"
    assert int(cpts["n_claims"].sum()) == len(paca.claims)
    assert cpts.loc["PACA-070", "cpts_nom"] == "Drôme Provençale Enclave des Papes"
    assert cpts.loc["PACA-027", "n_claims"] == 1


def test_extra_columns_of_the_source_are_kept(paca) -> None:
    assert {"nom_commune", "departement"} <= set(paca.claims.columns)
    row = paca.claims[paca.claims["code"] == "06029"].iloc[0]
    assert row["nom_commune"] == "Cannes" and row["ligne"] > 1


# --------------------------------------------------------------------------------------------
# the same registry in every format


def _paca_rows(paca) -> list[list[object]]:
    c = paca.claims
    return [[i, n, code, "infra" if p else ""] for i, n, code, p in
            zip(c["cpts_id"], c["cpts_nom"], c["code"], c["partage"], strict=True)]


def test_round_trip_semicolon_windows_1252(paca, ref, tmp_path) -> None:
    path = write_csv(tmp_path / "paca.csv", [["ID CPTS", "Nom CPTS", "Code INSEE", "Partagé"],
                                             *_paca_rows(paca)], delimiter=";",
                     encoding="cp1252")
    reg = read_registry(path, ref)
    assert claim_set(reg) == claim_set(paca)
    assert any("Windows-1252" in w for w in reg.warnings)


def test_round_trip_xlsx_with_codes_as_numbers(paca, ref, tmp_path) -> None:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["Registre des CPTS — ARS PACA, janvier 2026"])  # a title above the header
    ws.append([])
    ws.append(["identifiant", "nom_cpts", "code_commune", "infra"])
    for cid, name, code, share in _paca_rows(paca):
        ws.append([cid, name, int(code) if code.isdigit() else code, share])
    wb.save(tmp_path / "paca.xlsx")
    reg = read_registry(tmp_path / "paca.xlsx", ref)
    assert claim_set(reg) == claim_set(paca)
    assert reg.claims["ligne"].min() == 4  # rows as Excel numbers them


def test_round_trip_one_row_per_cpts_with_a_list_of_codes(paca, ref, tmp_path) -> None:
    rows: list[list[object]] = [["cpts_nom", "codes_insee", "partage"]]
    for (name, share), sub in paca.claims.groupby(["cpts_nom", "partage"]):
        sep = "; " if len(rows) % 2 else ","
        rows.append([name, sep.join(sub["code"]), "oui" if share else "non"])
    path = write_csv(tmp_path / "per-cpts.csv", rows, delimiter=";")
    reg = read_registry(path, ref)
    assert claim_set(reg) == claim_set(paca)


def test_round_trip_json_variants(paca, ref, tmp_path) -> None:
    objects = []
    for (cid, name), sub in paca.claims.groupby(["cpts_id", "cpts_nom"]):
        infra = [ref.units.at[c, "nom"] for c in sub.loc[sub["partage"], "code"]]
        objects.append({"cpts_id": cid, "nom": name,
                        "communes": [{"code": c, "nom": ref.units.at[c, "nom"]}
                                     for c in sub["code"]], **({"infra": infra} if infra else {})})
    path = tmp_path / "wrapped.json"
    path.write_text(json.dumps({"cpts": objects}, ensure_ascii=False), encoding="utf-8")
    assert claim_set(read_registry(path, ref)) == claim_set(paca)


def test_json_object_of_name_to_codes(ref, tmp_path) -> None:
    path = tmp_path / "simple.json"
    path.write_text(json.dumps({"CPTS du Canton Vert": ["13002", "13075"],
                                "CPTS La Caravelle": [13071, "13106"]}), encoding="utf-8")
    reg = read_registry(path, ref)
    assert claim_set(reg) == {("CPTS du Canton Vert", "13002", "non_renseigne", False),
                              ("CPTS du Canton Vert", "13075", "non_renseigne", False),
                              ("CPTS La Caravelle", "13071", "non_renseigne", False),
                              ("CPTS La Caravelle", "13106", "non_renseigne", False)}


def test_registry_from_frame(ref) -> None:
    frame = pd.DataFrame({"Nom de la CPTS": ["CPTS du Canton Vert"] * 2,
                          "Code INSEE": [13002, 13075], "Statut": ["ACI signé", None]})
    reg = registry_from_frame(frame, ref)
    assert list(reg.claims["code"]) == ["13002", "13075"]
    assert set(reg.claims["stade"]) == {"fonctionnement"}


# --------------------------------------------------------------------------------------------
# lenient columns, stages


@pytest.mark.parametrize(
    "header",
    [
        ["cpts_nom", "statut", "code_commune"],
        ["Nom CPTS", "Stade", "Code INSEE"],
        ["nom_cpts", "état", "insee"],
        ["NOM", "ETAT", "COMMUNE"],
        ["Nom de la CPTS", "État d'avancement", "Code INSEE de la commune"],
        ["cpts", "Avancement", "N° INSEE"],
        ["Dénomination", "statut_cpts", "CODGEO"],
    ],
)
def test_column_names_are_matched_leniently(ref, tmp_path, header: list[str]) -> None:
    path = write_csv(tmp_path / "r.csv", [header, ["CPTS du Canton Vert", "ACI signé", "13002"],
                                          ["CPTS du Canton Vert", "ACI signé", "13075"]])
    reg = read_registry(path, ref)
    assert claim_set(reg) == {("CPTS du Canton Vert", "13002", "fonctionnement", False),
                              ("CPTS du Canton Vert", "13075", "fonctionnement", False)}


def test_delimiter_is_found_when_names_hold_commas(ref, tmp_path) -> None:
    path = write_csv(tmp_path / "r.csv", [["cpts_nom", "code_insee"],
                                          ["CPTS Nice, Est", "06011"],
                                          ["CPTS Nice, Est", "06059"]], delimiter=";")
    reg = read_registry(path, ref)
    assert set(reg.claims["cpts_nom"]) == {"CPTS Nice, Est"}
    assert list(reg.claims["code"]) == ["06011", "06059"]


def test_stage_written_on_the_first_row_only_applies_to_the_cpts(ref, tmp_path) -> None:
    path = write_csv(tmp_path / "r.csv", [["cpts_nom", "statut", "code_insee"],
                                          ["CPTS Vallée du Gapeau", "", "83017"],
                                          ["CPTS Vallée du Gapeau", "ACI signé", "83054"],
                                          ["CPTS Vallée du Gapeau", "", "83130"],
                                          ["CPTS du Canton Vert", "", "13002"]])
    reg = read_registry(path, ref)
    assert reg.cpts["stade"].to_dict() == {"CPTS Vallée du Gapeau": "fonctionnement",
                                           "CPTS du Canton Vert": "non_renseigne"}


def test_name_given_on_some_rows_only_with_an_identifier(ref, tmp_path) -> None:
    path = write_csv(tmp_path / "r.csv", [["cpts_id", "cpts_nom", "code_insee"],
                                          ["PACA-058", "", "13002"],
                                          ["PACA-058", "CPTS du Canton Vert", "13075"]])
    reg = read_registry(path, ref)
    assert list(reg.claims["cpts_nom"]) == ["CPTS du Canton Vert"] * 2
    assert list(reg.claims["cpts_id"]) == ["PACA-058"] * 2


def test_two_labels_of_one_stage_are_not_a_conflict(ref, tmp_path) -> None:
    path = write_csv(tmp_path / "r.csv", [["cpts_nom", "statut", "code_insee"],
                                          ["CPTS du Canton Vert", "ACI signé", "13002"],
                                          ["CPTS du Canton Vert", "Signataire", "13075"]])
    assert set(read_registry(path, ref).claims["stade"]) == {"fonctionnement"}


def test_a_city_claimed_whole_stands_for_its_arrondissements(ref, tmp_path) -> None:
    path = write_csv(tmp_path / "r.csv", [["cpts_nom", "code_insee"],
                                          ["CPTS Marseille", "13055"]])
    reg = read_registry(path, ref)
    members = membership(reg, ref)
    assert sorted(members["code"]) == list(ARRONDISSEMENTS["13055"])
    pop = population_file()
    assert int(members["population"].sum()) == sum(pop[c] for c in ARRONDISSEMENTS["13055"])


def test_membership_population_of_paca(paca, ref) -> None:
    members = membership(paca, ref)
    pop = population_file()
    assert len(members) == len(paca.claims)  # PACA claims no city as a whole
    assert int(members["population"].sum()) == sum(pop[c] for c in paca.claims["code"])
    assert set(members["region"]) <= {"93"}
    assert members.groupby("cpts_id")["population"].sum()["PACA-068"] == (pop["06029"]
                                                                          + pop["06030"])


# --------------------------------------------------------------------------------------------
# every problem at once


def test_every_problem_is_reported_in_one_error(ref, tmp_path) -> None:
    path = write_csv(tmp_path / "r.csv", [
        ["cpts_id", "cpts_nom", "statut", "code_insee", "partage"],
        ["PACA-058", "CPTS du Canton Vert", "ACI signé", "13002", ""],  # row 2: fine
        ["PACA-058", "CPTS du Canton Vert", "Émergence", "13075", ""],  # 3: second stage
        ["PACA-023", "CPTS La Caravelle", "", "99999", ""],  # 4: unknown code
        ["", "", "", "13106", ""],  # 5: no CPTS
        ["PACA-023", "CPTS La Caravelle", "Dissoute", "13071", ""],  # 6: unknown stage
        ["PACA-023", "CPTS La Caravel", "", "13106", ""],  # 7: another name for PACA-023
        ["PACA-023", "CPTS La Caravelle", "", "13106", "peut-être"],  # 8: bad partage
        ["PACA-023", "CPTS La Caravelle", "", "", ""],  # 9: no code
    ])
    problems = problems_of(path, ref)
    rows = [p.row for p in problems]
    assert rows == sorted(rows)  # in the order of the file
    text = "\n".join(map(str, problems))
    assert {3, 4, 5, 6, 7, 8, 9} <= set(rows)
    assert "two different stages" in text and "'ACI signé'" in text
    assert "unknown code" in text and "'99999'" in text
    assert "no CPTS name on row(s) 5" in text
    assert "unknown stage" in text and "'Dissoute'" in text
    assert "different names" in text and "CPTS La Caravel'" in text
    assert "shared commune" in text and "'peut-être'" in text
    assert "no commune code on row(s) 9" in text
    assert all(p.file == str(path) for p in problems)
    unknown = next(p for p in problems if "unknown code" in p.message)
    assert (unknown.row, unknown.column, unknown.value) == (4, "code_insee", "99999")


def test_an_id_column_numbering_rows_is_caught(ref, tmp_path) -> None:
    path = write_csv(tmp_path / "r.csv", [["id", "cpts_nom", "code_insee"],
                                          ["1", "CPTS du Canton Vert", "13002"],
                                          ["2", "CPTS du Canton Vert", "13075"],
                                          ["3", "CPTS La Caravelle", "13071"]])
    (problem,) = problems_of(path, ref)
    assert problem.row == 3 and problem.value == "2"
    assert "2 identifiers" in problem.message and "numbers the rows" in problem.message


def test_infra_must_name_a_claimed_commune(ref, tmp_path) -> None:
    path = tmp_path / "r.json"
    path.write_text(json.dumps([{"nom": "CPTS Nice ouest Vallée", "communes": ["06046", "06088"],
                                 "infra": ["Nicee"]}]), encoding="utf-8")
    (problem,) = problems_of(path, ref)
    assert "Nicee" in problem.message.title() or "nicee" in problem.message
    assert problem.row == 1


def test_json_city_with_arrondissements_stands_for_those_only(ref, tmp_path) -> None:
    path = tmp_path / "r.json"
    path.write_text(json.dumps([{"nom": "CPTS du Plateau", "communes": ["13055"],
                                 "arrondissements": ["13206"]}]), encoding="utf-8")
    assert list(read_registry(path, ref).claims["code"]) == ["13206"]


# --------------------------------------------------------------------------------------------
# workbooks


def _workbook(path: Path, sheets: dict[str, list[list[object]]]) -> Path:
    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    for name, rows in sheets.items():
        ws = wb.create_sheet(name)
        for row in rows:
            ws.append(row)
    wb.save(path)
    return path


def test_sheet_by_name_or_number(ref, tmp_path) -> None:
    path = _workbook(tmp_path / "r.xlsx", {
        "2025": [["cpts_nom", "code_insee"], ["CPTS du Canton Vert", "13002"]],
        "2026": [["cpts_nom", "code_insee"], ["CPTS La Caravelle", "13071"]]})
    first = read_registry(path, ref)
    assert list(first.claims["code"]) == ["13002"]
    assert any("'2026'" in w and "--sheet" in w for w in first.warnings)
    assert list(read_registry(path, ref, sheet="2026").claims["code"]) == ["13071"]
    assert list(read_registry(path, ref, sheet=2).claims["code"]) == ["13071"]
    assert list(read_registry(path, ref, sheet="2").claims["code"]) == ["13071"]
    for bad in ("2027", "3", 0):
        (problem,) = problems_of(path, ref, sheet=bad)
        assert "'2025'" in problem.message and "'2026'" in problem.message


# --------------------------------------------------------------------------------------------
# perimeters


def _communes(codes: list[str]) -> gpd.GeoDataFrame:
    where = "code_commune IN ({})".format(", ".join(f"'{c}'" for c in codes))
    return pyogrio.read_dataframe(COMMUNES_GPKG, layer="metro_l93", where=where)


def _perimeter(name: str, codes: list[str], **props: object) -> gpd.GeoDataFrame:
    union = shapely.union_all(_communes(codes).geometry.values)
    return gpd.GeoDataFrame({"nom": [name], **{k: [v] for k, v in props.items()}},
                            geometry=[union], crs="EPSG:2154")


def test_geojson_perimeters_claim_the_communes_inside(paca, ref, tmp_path) -> None:
    lerins = ["06029", "06030"]
    gapeau = sorted(paca.claims.loc[paca.claims["cpts_id"] == "PACA-046", "code"])
    frame = pd.concat([_perimeter("CPTS du Pays de Lérins", lerins, statut="ACI signé",
                                  porteur="SISA Lérins"),
                       _perimeter("CPTS Vallée du Gapeau", gapeau, statut="Émergence",
                                  porteur=None)])
    frame.to_crs("EPSG:4326").to_file(tmp_path / "p.geojson")
    reg = read_registry(tmp_path / "p.geojson", ref)
    got = reg.claims.groupby("cpts_nom")["code"].apply(sorted).to_dict()
    assert got == {"CPTS du Pays de Lérins": lerins, "CPTS Vallée du Gapeau": gapeau}
    assert reg.cpts["stade"].to_dict() == {"CPTS du Pays de Lérins": "fonctionnement",
                                           "CPTS Vallée du Gapeau": "emergence"}
    assert not reg.claims["partage"].any()
    assert reg.warnings == ()
    porteurs = reg.claims.groupby("cpts_nom")["porteur"].first().to_dict()
    assert porteurs == {"CPTS du Pays de Lérins": "SISA Lérins", "CPTS Vallée du Gapeau": ""}


def test_geopackage_perimeters(ref, tmp_path) -> None:
    _perimeter("CPTS du Canton Vert", ["13002", "13075"]).to_file(tmp_path / "p.gpkg")
    reg = read_registry(tmp_path / "p.gpkg", ref)
    assert sorted(reg.claims["code"]) == ["13002", "13075"]


def _cut_at(geom: shapely.Geometry, fraction: float) -> float:
    """The x at which the part of ``geom`` west of it holds ``fraction`` of its area."""
    xmin, ymin, xmax, ymax = geom.bounds
    lo, hi = xmin, xmax
    for _ in range(40):
        mid = (lo + hi) / 2
        west = shapely.intersection(geom, shapely.box(xmin, ymin, mid, ymax)).area
        lo, hi = (mid, hi) if west < fraction * geom.area else (lo, mid)
    return lo


def test_a_commune_split_between_perimeters_is_shared(ref, tmp_path) -> None:
    """Nice cut in three, as the real registry shares it between three CPTS: no part holds
    most of it, each holds a third, so each claims it as shared (``partage``)."""
    nice = _communes(["06088"]).geometry.iloc[0]
    xmin, ymin, xmax, ymax = nice.bounds
    cuts = [xmin, _cut_at(nice, 1 / 3), _cut_at(nice, 2 / 3), xmax]
    parts = [shapely.intersection(nice, shapely.box(a, ymin, b, ymax))
             for a, b in itertools.pairwise(cuts)]
    assert all(0.3 < p.area / nice.area < 0.36 for p in parts)
    saint_laurent = _communes(["06123"]).geometry.iloc[0]  # Saint-Laurent-du-Var, west of Nice
    frame = gpd.GeoDataFrame(
        {"nom": ["CPTS Nice ouest Vallée", "CPTS Nice Nord et ses Collines",
                 "CPTS Nice Centre - Nice Est"]},
        geometry=[shapely.union(parts[0], saint_laurent), parts[1], parts[2]],
        crs="EPSG:2154")
    frame.to_file(tmp_path / "nice.gpkg")
    reg = read_registry(tmp_path / "nice.gpkg", ref)
    nice_claims = reg.claims[reg.claims["code"] == "06088"]
    assert set(nice_claims["cpts_nom"]) == set(frame["nom"])
    assert nice_claims["partage"].all()
    assert list(reg.claims.loc[~reg.claims["partage"], "code"]) == ["06123"]


def test_a_perimeter_holding_a_minority_of_its_only_commune_covers_nothing(ref, tmp_path
                                                                           ) -> None:
    nice = _communes(["06088"]).geometry.iloc[0]
    xmin, ymin, xmax, ymax = nice.bounds
    cut = _cut_at(nice, 0.6)
    frame = gpd.GeoDataFrame(
        {"nom": ["CPTS Nice ouest Vallée", "CPTS Nice Centre - Nice Est"]},
        geometry=[shapely.intersection(nice, shapely.box(xmin, ymin, cut, ymax)),
                  shapely.intersection(nice, shapely.box(cut, ymin, xmax, ymax))],
        crs="EPSG:2154")
    frame.to_file(tmp_path / "nice.gpkg")
    (problem,) = problems_of(tmp_path / "nice.gpkg", ref)
    assert problem.row == 2 and problem.value == "CPTS Nice Centre - Nice Est"
    assert "covers no commune" in problem.message


@pytest.mark.parametrize(("infra", "shared"), [
    ("oui", {"06088", "06004"}),
    ("non", set()),
    ("Nice", {"06088"}),
    ("Nice; Antibes", {"06088", "06004"}),
])
def test_json_partage_as_a_word_or_names(ref, tmp_path, infra, shared) -> None:
    """``"partage": "oui"`` shares every commune; a string of names shares those communes."""
    path = tmp_path / "p.json"
    path.write_text(json.dumps([{"nom": "CPTS Côte", "communes": ["06088", "06004"],
                                 "partage": infra}]), encoding="utf-8")
    reg = read_registry(path, ref)
    assert set(reg.claims.loc[reg.claims["partage"], "code"]) == shared
