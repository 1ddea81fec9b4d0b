"""The bad-input corpus (issue 6): every way a registry file goes wrong in real life.

Each input either fails with a :class:`~cpts_geo.errors.ValidationError` naming the file, the row
and the fix (exit code 2 on the command line, a message and no traceback), or is usable and gives
the correct claims, with a warning where something was fixed. The small files of
``tests/data/bad/`` are written by ``tests/data/bad/make_bad.py`` from real codes and names;
workbooks, perimeters cut from the real commune layer and the 100,000-row registry are generated
here, into ``tmp_path``.
"""

from __future__ import annotations

import csv
import json
import random
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import openpyxl
import pyogrio
import pytest
import shapely
from click.testing import CliRunner

from cpts_geo import ValidationError
from cpts_geo.cli import main
from cpts_geo.registry import read_registry

from conftest import SHARED, TEST_DATA

BAD = TEST_DATA / "bad"
COMMUNES_GPKG = SHARED / "communes" / "communes-2025.gpkg"


@dataclass(frozen=True)
class Bad:
    """A file the reader must refuse: where, and what the message must say."""

    file: str
    row: int | None
    says: tuple[str, ...]  # fragments of the message: what is wrong and the fix
    column: str | None = None
    value: object = None
    n_problems: int = 1


@dataclass(frozen=True)
class Usable:
    """A file the reader must read: the claims it holds, and the warning it deserves."""

    file: str
    claims: frozenset[tuple[str, str]]  # (cpts_nom, code)
    warns: tuple[str, ...] = ()
    region: str = "93"
    stage: str = "non_renseigne"


LERINS = {("CPTS du Pays de Lérins", "06029"), ("CPTS du Pays de Lérins", "06030")}
ESTEREL = {("CPTS Var Estérel Méditerranée", c) for c in ("83001", "83061", "83118")}
GAPEAU = {("CPTS Vallée du Gapeau", c) for c in ("83017", "83054", "83130", "83131", "83132")}
ANTIPOLIS = {("CPTS Antipolis", "06004"), ("CPTS Antipolis", "06155")}

BAD_FILES = [
    Bad("space-separated.csv", 1, ("missing required column", "separated by spaces",
                                   "comma or a semicolon")),
    Bad("dos-cp850.csv", None, ("unreadable encoding", "0x90", "CSV UTF-8")),
    Bad("unknown-codes.csv", 3, ("unknown code", "code officiel géographique"),
        column="code_insee", value="13999", n_problems=5),
    Bad("two-stages.csv", 4, ("two different stages", "'ACI signé'", "rows left empty",
                              "single stage"), value="Lettre d'intention validée"),
    Bad("unknown-stage.csv", 2, ("unknown stage", "row(s) 2, 3", "accepted stages",
                                 "lettre_intention"), column="statut", value="Dissoute"),
    Bad("duplicate-conflicting.csv", 4, ("duplicate claim", "rows 2 and 4", "keep one row"),
        column="code_insee", value="06088"),
    Bad("empty.csv", None, ("empty file", "header row")),
    Bad("header-only.csv", None, ("no claims", "one row per commune")),
    Bad("missing-code-column.csv", 1, ("missing required column", "code_insee",
                                       "nom_commune", "'territoire'")),
    Bad("missing-name-column.csv", 1, ("missing required column", "cpts_nom",
                                       "'code_insee'")),
    Bad("postal-codes.csv", 1, ("missing required column", "postal codes",
                                "not INSEE codes")),
    Bad("wrong-shape.json", None, ("wrong shape", "found an object", '"communes"')),
    Bad("broken.json", 3, ("not valid JSON", "line 3", "brackets")),
    Bad("outside-france.geojson", 1, ("covers no commune", "CRS and position"),
        value="CPTS du Pays de Lérins"),
    Bad("swapped-lonlat.geojson", 1, ("covers no commune", "latitude, longitude",
                                      "longitude first"), value="CPTS du Pays de Lérins"),
    Bad("points.geojson", 1, ("Point, not a polygon", "(multi)polygon"), value="Point"),
    Bad("old-excel.xls", None, (".xls", "save it as .xlsx or CSV UTF-8")),
]

USABLE_FILES = [
    Usable("semicolon-cp1252.csv", frozenset(LERINS | ESTEREL), ("Windows-1252",),
           stage="fonctionnement"),
    Usable("bom-utf8.csv", frozenset(GAPEAU), stage="projet_valide"),
    Usable("excel-unicode-text.txt", frozenset(ANTIPOLIS), stage="lettre_intention"),
    Usable("codes-as-numbers.csv", frozenset(LERINS | ANTIPOLIS)),
    Usable("codes-with-spaces.csv", frozenset({("CPTS Mandelieu Estérel", c)
                                               for c in ("06079", "06138", "83133")})),
    Usable("lowercase-corsica.csv", frozenset({("CPTS Ajaccio", "2A004"),
                                               ("CPTS Bastia", "2B033")}), region="94"),
    Usable("historical-codes.csv", frozenset({("CPTS Guil Durance", "05001"),
                                              ("CPTS Buech-Devoluy", "05053"),
                                              ("CPTS Ubaye Serre-Ponçon", "04033")}),
           ("code 05120 is a former code, mapped to 05001 (Abriès-Ristolas)",
            "code 05143 is a former code, mapped to 05053 (Garde-Colombe)",
            "code 04198 is a former code, mapped to 04033",
            "duplicate claim of 05053")),
    Usable("duplicate-row.csv", frozenset(LERINS), ("row 4: duplicate claim of 06030",
                                                    "first on row 3", "counted once")),
    Usable("commune-names.csv", frozenset({("CPTS du Canton Vert", "13002"),
                                           ("CPTS du Canton Vert", "13075")})),
]


def population_file() -> dict[str, tuple[int, str]]:
    """Population and région of each unit, read from the reference file itself."""
    with open(SHARED / "population" / "communes-2026.csv", encoding="utf-8") as fh:
        return {r["code"]: (int(r["population"]), r["region"]) for r in csv.DictReader(fh)
                if r["type"] in {"commune-actuelle", "arrondissement-municipal"}
                and r["zone"] != "com"}


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args))
    assert result.exception is None or isinstance(result.exception, SystemExit), (
        result.exception)
    return result.exit_code, result.stdout, result.stderr


def assert_refused_by_cli(path: Path, *fragments: str, extra: tuple[str, ...] = ()) -> str:
    code, out, err = run("coverage", "--registry", str(path), "--json", *extra)
    assert code == 2, (code, out, err)
    assert out == ""  # no half-written JSON
    assert err.startswith("Error: ")
    assert "Traceback" not in err and "Traceback" not in out
    assert str(path) in err
    for fragment in fragments:
        assert fragment in err, fragment
    return err


def test_the_corpus_is_complete() -> None:
    listed = {c.file for c in BAD_FILES} | {c.file for c in USABLE_FILES}
    on_disk = {p.name for p in BAD.iterdir() if p.suffix != ".py"}
    assert listed == on_disk


# --------------------------------------------------------------------------------------------
# the committed corpus, through the library and the command line


@pytest.mark.parametrize("case", BAD_FILES, ids=lambda c: c.file)
def test_bad_file_is_refused_with_file_row_and_fix(ref, case: Bad) -> None:
    path = BAD / case.file
    with pytest.raises(ValidationError) as info:
        read_registry(path, ref)
    problems = info.value.problems
    assert len(problems) == case.n_problems, problems
    first = problems[0]
    assert first.file == str(path)
    assert first.row == case.row
    if case.column is not None:
        assert first.column == case.column
    if case.value is not None:
        assert first.value == case.value
    message = str(info.value)
    for fragment in case.says:
        assert fragment in message, fragment
    if case.row is not None:
        assert f"row {case.row}" in str(first)


@pytest.mark.parametrize("case", BAD_FILES, ids=lambda c: c.file)
def test_bad_file_exits_2_on_the_command_line(case: Bad) -> None:
    path = BAD / case.file
    err = assert_refused_by_cli(path, *case.says)
    if case.row is not None:
        assert f"row {case.row}" in err


@pytest.mark.parametrize("case", USABLE_FILES, ids=lambda c: c.file)
def test_usable_file_gives_the_right_claims(ref, case: Usable) -> None:
    reg = read_registry(BAD / case.file, ref)
    got = set(zip(reg.claims["cpts_nom"], reg.claims["code"], strict=True))
    assert got == case.claims
    assert len(reg.claims) == len(case.claims)  # duplicates counted once
    assert set(reg.claims["stade"]) == {case.stage}
    text = "\n".join(reg.warnings)
    for fragment in case.warns:
        assert fragment in text, fragment
    if not case.warns:
        assert reg.warnings == ()


@pytest.mark.parametrize("case", USABLE_FILES, ids=lambda c: c.file)
def test_usable_file_through_the_command_line(case: Usable) -> None:
    code, out, err = run("coverage", "--registry", str(BAD / case.file), "--region",
                         case.region, "--json")
    assert code == 0, err
    pop = population_file()
    codes = {c for _, c in case.claims}
    expected = sum(pop[c][0] for c in codes if pop[c][1] == case.region)
    assert json.loads(out)["population_couverte"] == expected


def test_warnings_are_printed_by_the_command_line() -> None:
    """One line per kind of warning, with the first rows; every warning with -v or --json."""
    path = str(BAD / "historical-codes.csv")
    code, out, err = run("coverage", "--registry", path, "--region", "93")
    assert code == 0
    lines = [line for line in err.splitlines() if line.startswith("Warning: ")]
    assert lines[0].startswith("Warning: 4 former codes mapped to their current commune (")
    assert lines[0].endswith(", row 2; row 3; row 4; …)")
    assert "duplicate claim of 05053" in lines[1]
    assert "-v lists every warning" in lines[-1]
    assert "Traceback" not in err + out
    code, out, err = run("coverage", "--registry", path, "--region", "93", "-v")
    assert "Warning: " in err and "05120 is a former code, mapped to 05001" in err
    assert "05143 is a former code, mapped to 05053" in err
    code, out, err = run("coverage", "--registry", path, "--region", "93", "--json")
    assert err == "" and any("05120 is a former code" in w
                             for w in json.loads(out)["avertissements"])


# --------------------------------------------------------------------------------------------
# workbooks


def test_xlsx_merged_cells_read_as_that_cpts_on_every_row(ref, tmp_path) -> None:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["Nom de la CPTS", "Stade", "Code INSEE", "Commune"])
    gapeau = [(83017, "Belgentier"), (83054, "La Farlède"), (83130, "Solliès-Pont"),
              (83131, "Solliès-Toucas"), (83132, "Solliès-Ville")]
    for code, name in gapeau:
        ws.append([None, None, code, name])
    ws.append([None, "Émergence", 6029, "Cannes"])
    ws.append([None, "Émergence", 6030, "Le Cannet"])
    ws["A2"], ws["B2"] = "CPTS Vallée du Gapeau", "ACI signé"
    ws.merge_cells("A2:A6")
    ws.merge_cells("B2:B6")
    ws["A7"] = "CPTS du Pays de Lérins"
    ws.merge_cells("A7:A8")
    wb.save(tmp_path / "merged.xlsx")
    reg = read_registry(tmp_path / "merged.xlsx", ref)
    by_row = reg.claims.set_index("ligne")
    assert list(by_row.index) == [2, 3, 4, 5, 6, 7, 8]
    assert set(by_row.loc[2:6, "cpts_nom"]) == {"CPTS Vallée du Gapeau"}
    assert set(by_row.loc[2:6, "stade"]) == {"fonctionnement"}
    assert list(by_row.loc[2:6, "code"]) == [f"{c:05d}" for c, _ in gapeau]
    assert set(by_row.loc[7:8, "cpts_nom"]) == {"CPTS du Pays de Lérins"}
    assert list(by_row.loc[7:8, "code"]) == ["06029", "06030"]
    assert reg.warnings == ()


def _notes_workbook(path: Path, n_tables: int) -> Path:
    wb = openpyxl.Workbook()
    notes = wb.active
    notes.title = "Notes"
    notes["A1"] = "Registre des CPTS — ARS Provence-Alpes-Côte d'Azur"
    notes["A3"] = "Source : listing ARS PACA de janvier 2026. Une ligne par commune."
    tables = [("Registre", [("CPTS du Canton Vert", "13002"), ("CPTS du Canton Vert", "13075")]),
              ("Archives 2024", [("CPTS La Caravelle", "13071")])]
    for name, rows in tables[:n_tables]:
        ws = wb.create_sheet(name)
        ws.append(["cpts_nom", "code_insee"])
        for row in rows:
            ws.append(list(row))
    wb.save(path)
    return path


def test_xlsx_notes_sheet_first_the_table_is_found(ref, tmp_path) -> None:
    """Our call: when only one sheet holds a registry table, it is read, with a warning."""
    reg = read_registry(_notes_workbook(tmp_path / "notes.xlsx", 1), ref)
    assert list(reg.claims["code"]) == ["13002", "13075"]
    (warning,) = reg.warnings
    assert "'Notes'" in warning and "'Registre'" in warning and "--sheet" in warning


def test_xlsx_notes_sheet_first_and_two_tables_asks_for_sheet(ref, tmp_path) -> None:
    path = _notes_workbook(tmp_path / "notes2.xlsx", 2)
    with pytest.raises(ValidationError) as info:
        read_registry(path, ref)
    (problem,) = info.value.problems
    for fragment in ("'Notes'", "'Registre'", "'Archives 2024'", "--sheet"):
        assert fragment in problem.message
    assert_refused_by_cli(path, "--sheet", "'Archives 2024'")
    code, out, err = run("coverage", "--registry", str(path), "--sheet", "Archives 2024",
                         "--region", "93", "--json")
    assert code == 0, err
    assert json.loads(out)["population_couverte"] == population_file()["13071"][0]


def test_xlsx_without_any_table(ref, tmp_path) -> None:
    wb = openpyxl.Workbook()
    wb.active["A1"] = "Rien ici"
    wb.save(tmp_path / "blank.xlsx")
    with pytest.raises(ValidationError, match="no sheet holds a registry table"):
        read_registry(tmp_path / "blank.xlsx", ref)


def test_damaged_xlsx(ref, tmp_path) -> None:
    path = tmp_path / "damaged.xlsx"
    path.write_bytes(b"PK\x03\x04" + bytes(range(256)) * 4)
    with pytest.raises(ValidationError, match="not a readable XLSX workbook"):
        read_registry(path, ref)
    assert_refused_by_cli(path, "save it again")


def test_binary_file(ref, tmp_path) -> None:
    path = tmp_path / "carte.csv"
    path.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(200))
    assert_refused_by_cli(path, "binary content")


def test_missing_file_and_directory(tmp_path) -> None:
    assert_refused_by_cli(tmp_path / "nowhere.csv", "no such file")
    assert_refused_by_cli(tmp_path, "is a directory")


# --------------------------------------------------------------------------------------------
# perimeters cut from the real commune layer


LERINS_CODES = ["06029", "06030"]


def _lerins() -> shapely.Geometry:
    where = "code_commune IN ('06029', '06030')"
    frame = pyogrio.read_dataframe(COMMUNES_GPKG, layer="metro_l93", where=where)
    return shapely.union_all(frame.geometry.values)


def _write_geojson(path: Path, geom: shapely.Geometry, *, crs: str | None) -> Path:
    feature = {"type": "Feature", "properties": {"nom": "CPTS du Pays de Lérins"},
               "geometry": json.loads(shapely.to_geojson(geom))}
    collection: dict[str, object] = {"type": "FeatureCollection", "features": [feature]}
    if crs is not None:
        collection["crs"] = {"type": "name", "properties": {"name": crs}}
    path.write_text(json.dumps(collection), encoding="utf-8")
    return path


def _to_lonlat(geom: shapely.Geometry) -> shapely.Geometry:
    return gpd.GeoSeries([geom], crs="EPSG:2154").to_crs("EPSG:4326").iloc[0]


def test_self_intersecting_polygon_is_repaired_with_a_warning(ref, tmp_path) -> None:
    """A digitising slip: a small bow-tie (two edges crossing) drawn on the outline."""
    ring = list(_lerins().exterior.coords)
    k = max(range(len(ring) - 1), key=lambda i: shapely.LineString(ring[i:i + 2]).length)
    (x0, y0), (x1, y1) = ring[k], ring[k + 1]
    dx, dy = x1 - x0, y1 - y0
    norm = (dx * dx + dy * dy) ** 0.5
    nx, ny = -dy / norm * 200, dx / norm * 200  # 200 m across the edge
    m1 = (x0 + 0.4 * dx, y0 + 0.4 * dy)
    m2 = (x0 + 0.6 * dx, y0 + 0.6 * dy)
    bowtie = [m1, (m2[0] + nx, m2[1] + ny), (m1[0] + nx, m1[1] + ny), m2]
    broken = shapely.Polygon(ring[:k + 1] + bowtie + ring[k + 1:])
    assert not broken.is_valid
    assert "Self-intersection" in shapely.is_valid_reason(broken)
    path = _write_geojson(tmp_path / "bowtie.geojson", _to_lonlat(broken), crs=None)
    reg = read_registry(path, ref)
    assert sorted(reg.claims["code"]) == LERINS_CODES
    (warning,) = reg.warnings
    assert "invalid polygon" in warning and "self-intersecting" in warning


def test_geojson_without_crs_is_wgs84(ref, tmp_path) -> None:
    path = _write_geojson(tmp_path / "no-crs.geojson", _to_lonlat(_lerins()), crs=None)
    reg = read_registry(path, ref)
    assert sorted(reg.claims["code"]) == LERINS_CODES
    assert reg.warnings == ()  # RFC 7946: GeoJSON is WGS 84


def test_geojson_in_lambert93_with_its_crs(ref, tmp_path) -> None:
    path = _write_geojson(tmp_path / "l93.geojson", _lerins(),
                          crs="urn:ogc:def:crs:EPSG::2154")
    reg = read_registry(path, ref)
    assert sorted(reg.claims["code"]) == LERINS_CODES
    assert reg.warnings == ()


def test_geojson_in_lambert93_without_crs_is_recognised(ref, tmp_path) -> None:
    path = _write_geojson(tmp_path / "l93-no-crs.geojson", _lerins(), crs=None)
    reg = read_registry(path, ref)
    assert sorted(reg.claims["code"]) == LERINS_CODES
    (warning,) = reg.warnings
    assert "Lambert-93" in warning and "no CRS" in warning


def test_geopackage_without_crs_is_read_as_lonlat_with_a_warning(ref, tmp_path) -> None:
    frame = gpd.GeoDataFrame({"nom": ["CPTS du Pays de Lérins"]},
                             geometry=[_to_lonlat(_lerins())], crs=None)
    with pytest.warns(UserWarning, match="'crs' was not provided"):
        frame.to_file(tmp_path / "no-crs.gpkg")
    reg = read_registry(tmp_path / "no-crs.gpkg", ref)
    assert sorted(reg.claims["code"]) == LERINS_CODES
    (warning,) = reg.warnings
    assert "EPSG:4326" in warning


def test_perimeter_covering_no_commune_among_good_ones(ref, tmp_path) -> None:
    """Every feature is checked: the bad one is named by its row, the good ones pass."""
    frame = gpd.GeoDataFrame(
        {"nom": ["CPTS du Pays de Lérins", "CPTS au large", "CPTS sans contour"]},
        geometry=[_lerins(), shapely.box(900_000, 6_000_000, 910_000, 6_010_000), None],
        crs="EPSG:2154")
    frame.to_file(tmp_path / "sea.gpkg")
    with pytest.raises(ValidationError) as info:
        read_registry(tmp_path / "sea.gpkg", ref)
    rows = {p.row: p for p in info.value.problems}
    assert set(rows) == {2, 3}
    assert "covers no commune" in rows[2].message and rows[2].value == "CPTS au large"
    assert "no geometry" in rows[3].message
    assert_refused_by_cli(tmp_path / "sea.gpkg", "row 2", "row 3", "CPTS au large")


# --------------------------------------------------------------------------------------------
# a 100,000-row registry


@pytest.fixture(scope="module")
def big_registry(ref, tmp_path_factory) -> tuple[Path, dict[str, set[str]]]:
    """100,000 claims: 2,000 CPTS of 50 real communes each, a ';' CSV as Excel writes it."""
    rnd = random.Random(20260101)
    codes = sorted(ref.units.index)
    stages = ["ACI signé", "Projet de santé validé", "Lettre d'intention", "Émergence", ""]
    expected: dict[str, set[str]] = {}
    path = tmp_path_factory.mktemp("big") / "registre-100k.csv"
    with open(path, "w", encoding="utf-8-sig", newline="") as fh:
        writer = csv.writer(fh, delimiter=";")
        writer.writerow(["cpts_id", "cpts_nom", "statut", "code_insee"])
        for i in range(2_000):
            name = f"CPTS {i:04d}"
            members = rnd.sample(codes, 50)
            expected[name] = set(members)
            stage = stages[i % len(stages)]
            for code in members:
                writer.writerow([f"X-{i:04d}", name, stage, code])
    return path, expected


def test_100k_row_registry_reads_every_claim(ref, big_registry) -> None:
    """Read time is measured by benchmarks/run.py, not asserted here."""
    path, expected = big_registry
    reg = read_registry(path, ref)
    assert len(reg.claims) == 100_000 and len(reg) == 2_000
    got = reg.claims.groupby("cpts_nom")["code"].apply(set).to_dict()
    assert got == expected
    assert reg.cpts["stade"].value_counts().to_dict() == {
        "fonctionnement": 400, "projet_valide": 400, "lettre_intention": 400, "emergence": 400,
        "non_renseigne": 400}


def test_100k_row_registry_with_errors_names_each_row(ref, big_registry, tmp_path) -> None:
    path, _ = big_registry
    lines = path.read_text(encoding="utf-8-sig").splitlines()
    lines[50_000] = lines[50_000].rsplit(";", 1)[0] + ";99999"  # file row 50,001
    lines[99_999] = lines[99_999].rsplit(";", 1)[0] + ";Marseile"  # row 100,000, misspelt
    bad = tmp_path / "registre-100k-bad.csv"
    bad.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(ValidationError) as info:
        read_registry(bad, ref)
    assert [(p.row, p.value) for p in info.value.problems] == [(50_001, "99999"),
                                                               (100_000, "Marseile")]


def test_metres_without_crs_that_could_be_web_mercator_are_refused(ref, tmp_path) -> None:
    """Metz and its neighbours exported in Web Mercator without a CRS: read as Lambert-93 these
    coordinates would land on communes of Aveyron, so the reader asks for the CRS, not guess."""
    layer = pyogrio.read_dataframe(SHARED / "communes" / "communes-2025.gpkg",
                                   layer="metro_l93", where="departement = '57'")
    metz = layer.set_index("code_commune").geometry
    ring = metz[metz.intersects(metz["57463"].buffer(100))]
    perimeter = gpd.GeoSeries([shapely.union_all(ring.values)], crs="EPSG:2154").to_crs(
        "EPSG:3857")
    feature = {"type": "Feature", "properties": {"nom": "CPTS Metz"},
               "geometry": json.loads(perimeter.to_json())["features"][0]["geometry"]}
    path = tmp_path / "metz-3857-sans-crs.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": [feature]}),
                    encoding="utf-8")
    with pytest.raises(ValidationError) as info:
        read_registry(path, ref)
    (problem,) = info.value.problems
    assert "EPSG:3857" in problem.message and "EPSG:2154" in problem.message
    # with its CRS named, the same perimeter reads right: Metz and its neighbours
    named = json.loads(path.read_text(encoding="utf-8"))
    named["crs"] = {"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::3857"}}
    path.write_text(json.dumps(named), encoding="utf-8")
    reg = read_registry(path, ref)
    assert "57463" in set(reg.claims["code"])
    assert set(reg.claims["code"]) <= set(ring.index)


def test_unclosed_quote_names_the_row_where_it_opens(ref, tmp_path) -> None:
    path = tmp_path / "guillemet.csv"
    path.write_text('cpts_nom;code_insee\nCPTS A;05023\n"CPTS B;05027\nCPTS C;05028\n',
                    encoding="utf-8")
    with pytest.raises(ValidationError) as info:
        read_registry(path, ref)
    (problem,) = info.value.problems
    assert problem.row == 3 and "never closed" in problem.message
    # a stray quote inside an unquoted cell is only text
    path.write_text('cpts_nom;code_insee\nCPTS 5" Sud;05023\n', encoding="utf-8")
    assert read_registry(path, ref).claims["cpts_nom"].tolist() == ['CPTS 5" Sud']
