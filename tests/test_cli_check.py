"""``cpts-geo check PROJECT [--registry FILE] [--json]``: a new CPTS project against the registry.

Exit code 0 no conflict, 1 conflict, 2 bad input. Projects are built from real PACA codes; every
figure of the JSON answer is computed here again, independently, from the reference population
file and the real PACA registry read with the ``csv`` module.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import geopandas as gpd
import pyogrio
import pytest
import shapely
from click.testing import CliRunner

from cpts_geo.cli import main

from conftest import PACA_DIR, SHARED

PACA_CSV = PACA_DIR / "cpts-communes.csv"
KEYS = {"conflits", "population_totale", "population_nouvelle", "taille", "d_un_seul_tenant",
        "parties", "enclaves"}
# the real zone blanche of the Estérel: no PACA CPTS claims these three communes
ZONE_BLANCHE = ["06079", "06138", "83133"]  # Mandelieu-la-Napoule, Théoule-sur-Mer, Tanneron
VAUVENARGUES = "13111"  # another unclaimed commune, 100 km west: a second part
GRAND_AVIGNON = "PACA-062"
MORIERES = "84081"  # Morières-lès-Avignon: inland, every neighbour in the Grand Avignon


def population() -> dict[str, int]:
    with open(SHARED / "population" / "communes-2026.csv", encoding="utf-8") as fh:
        return {r["code"]: int(r["population"]) for r in csv.DictReader(fh)
                if r["type"] in {"commune-actuelle", "arrondissement-municipal"}
                and r["zone"] != "com"}


def paca_claims() -> dict[str, set[str]]:
    """CPTS id → codes claimed, from the real registry (arrondissement first, 05120 remapped)."""
    out: dict[str, set[str]] = {}
    with open(PACA_CSV, encoding="utf-8") as fh:
        for r in csv.DictReader(fh):
            code = r["code_arrondissement"] or r["code_commune"]
            out.setdefault(r["cpts_id"], set()).add({"05120": "05001"}.get(code, code))
    return out


def paca_names() -> dict[str, str]:
    with open(PACA_CSV, encoding="utf-8") as fh:
        return {r["cpts_id"]: r["cpts_nom"] for r in csv.DictReader(fh)}


def taille(pop: int) -> int:
    """ACI size tier, from DESIGN.md: < 40 000; 40 000–80 000; 80 000–175 000; > 175 000."""
    return 1 if pop < 40_000 else 2 if pop < 80_000 else 3 if pop <= 175_000 else 4


def project_csv(path: Path, name: str, codes: list[str]) -> Path:
    with open(path, "w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh, delimiter=";")
        writer.writerow(["nom_cpts", "statut", "code_insee"])
        writer.writerows([name, "Lettre d'intention", c] for c in codes)
    return path


def check(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, ["check", *args])
    assert result.exception is None or isinstance(result.exception, SystemExit), (
        result.exception)
    assert "Traceback" not in result.output
    return result.exit_code, result.stdout, result.stderr


def check_json(project: Path, *extra: str) -> tuple[int, dict]:
    code, out, err = check(str(project), "--registry", str(PACA_CSV), "--json", *extra)
    assert code in {0, 1}, err
    payload = json.loads(out)
    assert set(payload) >= KEYS
    return code, payload


def test_zone_blanche_project_has_no_conflict(tmp_path) -> None:
    pop = population()
    claimed = set().union(*paca_claims().values())
    assert not set(ZONE_BLANCHE) & claimed  # really unclaimed
    code, res = check_json(project_csv(tmp_path / "esterel.csv", "CPTS de l'Estérel",
                                       ZONE_BLANCHE))
    expected = sum(pop[c] for c in ZONE_BLANCHE)
    assert code == 0
    assert res["conflits"] == []
    assert res["population_totale"] == expected == 21_640 + 1_477 + 1_750
    assert res["population_nouvelle"] == expected
    assert res["taille"] == taille(expected) == 1
    assert res["d_un_seul_tenant"] is True
    assert [sorted(p) for p in res["parties"]] == [ZONE_BLANCHE]
    assert res["enclaves"] == []


def test_project_overlapping_existing_cpts_is_a_conflict(tmp_path) -> None:
    pop = population()
    claims = paca_claims()
    codes = [*ZONE_BLANCHE, "06029", "06030"]  # + Cannes and Le Cannet, of the Pays de Lérins
    code, res = check_json(project_csv(tmp_path / "cannes.csv", "CPTS Cannes Estérel", codes))
    assert code == 1
    expected_conflicts = {cid: sorted(set(codes) & owned) for cid, owned in claims.items()
                          if set(codes) & owned}
    assert expected_conflicts == {"PACA-068": ["06029", "06030"]}
    assert {c["cpts_id"]: sorted(c["codes"]) for c in res["conflits"]} == expected_conflicts
    (conflict,) = res["conflits"]
    assert conflict["cpts_nom"] == paca_names()["PACA-068"] == "CPTS du Pays de Lérins"
    assert conflict["population"] == pop["06029"] + pop["06030"]
    total = sum(pop[c] for c in codes)
    assert res["population_totale"] == total
    assert res["population_nouvelle"] == sum(pop[c] for c in ZONE_BLANCHE)
    assert res["taille"] == taille(total) == 3  # 74 350 + 41 938 + 24 867 = 141 155
    assert res["d_un_seul_tenant"] is True and res["enclaves"] == []


def test_project_overlapping_a_shared_commune_conflicts_with_each_holder(tmp_path) -> None:
    """Nice is shared below commune level by three CPTS; a new claim on it, not declared
    shared, collides with each of them."""
    code, res = check_json(project_csv(tmp_path / "nice.csv", "CPTS Nice Port", ["06088"]))
    assert code == 1
    holders = {cid for cid, owned in paca_claims().items() if "06088" in owned}
    assert holders == {"PACA-028", "PACA-029", "PACA-030"}
    assert {c["cpts_id"] for c in res["conflits"]} == holders
    assert res["population_nouvelle"] == 0
    assert res["population_totale"] == population()["06088"]


def test_project_in_two_parts(tmp_path) -> None:
    pop = population()
    codes = [*ZONE_BLANCHE, VAUVENARGUES]
    assert VAUVENARGUES not in set().union(*paca_claims().values())
    code, res = check_json(project_csv(tmp_path / "deux.csv", "CPTS en deux morceaux", codes))
    assert code == 0
    assert res["d_un_seul_tenant"] is False
    assert sorted(sorted(p) for p in res["parties"]) == [sorted(ZONE_BLANCHE), [VAUVENARGUES]]
    assert res["population_totale"] == res["population_nouvelle"] == sum(pop[c] for c in codes)


def test_project_that_creates_an_enclave(tmp_path) -> None:
    """The Grand Avignon resubmitted without Morières-lès-Avignon, which it surrounds.

    The project has the name of an existing CPTS, so it is checked as that CPTS's revision:
    compared with every other CPTS, none of which claims these communes.
    """
    pop = population()
    claims = paca_claims()
    members = sorted(claims[GRAND_AVIGNON] - {MORIERES})
    assert MORIERES in claims[GRAND_AVIGNON]
    # Morières' neighbours, from the raw commune layer, all stay in the project
    layer = pyogrio.read_dataframe(SHARED / "communes" / "communes-2025.gpkg", layer="metro_l93",
                                   where="departement = '84'")
    geoms = layer.set_index("code_commune").geometry
    ring = geoms.index[geoms.intersects(geoms[MORIERES].buffer(50))].drop(MORIERES)
    assert len(ring) >= 5 and set(ring) <= set(members)
    others = set().union(*(v for k, v in claims.items() if k != GRAND_AVIGNON))
    assert not set(members) & others
    name = paca_names()[GRAND_AVIGNON]
    code, res = check_json(project_csv(tmp_path / "avignon.csv", name, members),
                           "--revise", GRAND_AVIGNON)
    assert code == 0
    assert res["conflits"] == []
    assert res["enclaves"] == [MORIERES]
    assert res["d_un_seul_tenant"] is True
    total = sum(pop[c] for c in members)
    assert res["population_totale"] == total
    # a revision: its old version is left out of the conflicts, but what it already covered is
    # not newly covered
    assert res["remplace"] == GRAND_AVIGNON
    assert res["population_nouvelle"] == 0
    assert res["taille"] == taille(total)


def test_geojson_perimeter_project(tmp_path) -> None:
    """The zone blanche drawn as one polygon (the union of the three real communes)."""
    where = "code_commune IN ({})".format(", ".join(f"'{c}'" for c in ZONE_BLANCHE))
    communes = pyogrio.read_dataframe(SHARED / "communes" / "communes-2025.gpkg",
                                      layer="metro_l93", where=where)
    perimeter = gpd.GeoDataFrame({"nom": ["CPTS de l'Estérel"], "statut": ["Émergence"]},
                                 geometry=[shapely.union_all(communes.geometry.values)],
                                 crs="EPSG:2154").to_crs("EPSG:4326")
    perimeter.to_file(tmp_path / "esterel.geojson")
    code, res = check_json(tmp_path / "esterel.geojson")
    pop = population()
    assert code == 0
    assert sorted(res["codes"]) == ZONE_BLANCHE
    assert res["population_totale"] == sum(pop[c] for c in ZONE_BLANCHE)
    assert res["conflits"] == [] and res["d_un_seul_tenant"] is True
    assert res["enclaves"] == []


def test_json_project_and_the_default_registry(tmp_path) -> None:
    path = tmp_path / "projet.json"
    path.write_text(json.dumps([{"nom": "CPTS Cannes", "communes": ["06029"]}]),
                    encoding="utf-8")
    code, out, _ = check(str(path), "--json")  # default registry: the embedded PACA one
    assert code == 1
    res = json.loads(out)
    assert [c["cpts_id"] for c in res["conflits"]] == ["PACA-068"]


def test_text_report_and_warnings(tmp_path) -> None:
    project = project_csv(tmp_path / "guil.csv", "CPTS Haut Guil", ["05120", "05001"])
    code, out, err = check(str(project), "--registry", str(PACA_CSV))
    assert code == 1  # Abriès-Ristolas belongs to the CPTS Guil Durance
    assert "Warning:" in err and "05120 is a former code, mapped to 05001" in err
    assert "CPTS Guil Durance" in out and "PACA-015" in out
    assert f"{population()['05001']}" in out.replace("\u202f", "").replace(" ", "")


# --------------------------------------------------------------------------------------------
# bad input: exit code 2, a message, no traceback


def test_project_with_two_cpts(tmp_path) -> None:
    path = tmp_path / "deux.csv"
    path.write_text("nom_cpts,code_insee\nCPTS A,06079\nCPTS B,06138\n", encoding="utf-8")
    code, out, err = check(str(path), "--registry", str(PACA_CSV), "--json")
    assert code == 2 and out == ""
    assert str(path) in err and "exactly one" in err and "CPTS A" in err and "CPTS B" in err


def test_project_with_unknown_codes(tmp_path) -> None:
    path = project_csv(tmp_path / "faux.csv", "CPTS de l'Estérel", ["06079", "06999", "Nisse"])
    code, out, err = check(str(path), "--registry", str(PACA_CSV), "--json")
    assert code == 2 and out == ""
    assert err.startswith("Error: 2 problems")
    assert "row 3" in err and "'06999'" in err and "unknown code" in err
    assert "row 4" in err and "'Nisse'" in err and "unknown commune name" in err


@pytest.mark.parametrize("content", [b"", b"nom_cpts;code_insee\n", b"\x00\x01\x02PNG"])
def test_empty_or_garbage_project(tmp_path, content: bytes) -> None:
    path = tmp_path / "projet.csv"
    path.write_bytes(content)
    code, out, err = check(str(path), "--registry", str(PACA_CSV), "--json")
    assert code == 2 and out == "" and err.startswith("Error:") and str(path) in err


def test_missing_project_file(tmp_path) -> None:
    code, out, err = check(str(tmp_path / "absent.csv"), "--json")
    assert code == 2 and out == "" and "no such file" in err


def test_bad_registry(tmp_path) -> None:
    project = project_csv(tmp_path / "esterel.csv", "CPTS de l'Estérel", ZONE_BLANCHE)
    registry = tmp_path / "registre.csv"
    registry.write_text("cpts_nom;statut;code_insee\nCPTS X;ACI signé;13002\n"
                        "CPTS X;Émergence;13075\n", encoding="utf-8")
    code, out, err = check(str(project), "--registry", str(registry), "--json")
    assert code == 2 and out == ""
    assert str(registry) in err and "two different stages" in err and "row 3" in err


def test_a_namesake_is_compared_not_taken_for_a_revision(tmp_path) -> None:
    """A project named like an existing CPTS is not silently its revision: conflicts show."""
    claims = paca_claims()
    name = paca_names()[GRAND_AVIGNON]
    members = sorted(claims[GRAND_AVIGNON])[:3]
    code, res = check_json(project_csv(tmp_path / "homonyme.csv", name.upper(), members))
    assert code == 1
    assert res["homonyme"] == GRAND_AVIGNON and res["remplace"] is None
    assert [c["cpts_id"] for c in res["conflits"]] == [GRAND_AVIGNON]
    code, res = check_json(project_csv(tmp_path / "homonyme.csv", name.upper(), members),
                           "--revise", name)
    assert code == 0 and res["remplace"] == GRAND_AVIGNON
    rc, _out, err = check(str(tmp_path / "homonyme.csv"), "--registry", str(PACA_CSV),
                         "--revise", "PACA-999")
    assert rc == 2 and "PACA-999" in err


def test_a_fourth_cpts_sharing_nice_is_sized_on_its_share(tmp_path) -> None:
    """A project declaring Nice shared (infra) with the three Nice CPTS: no conflict, and its
    ACI tier is that of a quarter of Nice, not of all of it."""
    path = tmp_path / "nice.csv"
    path.write_text("nom_cpts;code_insee;partage\nCPTS Nice Port;06088;infra\n",
                    encoding="utf-8")
    code, res = check_json(path)
    nice = population()["06088"]
    assert code == 0 and res["conflits"] == []
    assert res["population_totale"] == nice
    assert res["population_ponderee"] == round(nice / 4)
    assert res["taille"] == taille(round(nice / 4)) == 3
