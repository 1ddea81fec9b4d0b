"""``cpts-geo check``: the zone blanche around a project (units it could take in, and the new
enclaves of zone blanche it would leave).

Expectations come from the real PACA registry read with the ``csv`` module and from shapely on
the raw commune polygons of the reference file (``communes-2025.gpkg``, layer ``metro_l93``),
independently of ``analysis.borders``: two units border when their boundaries share a line; a
group of unclaimed units is enclosed when no part of its outline lies away from claimed units.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
import shapely
from click.testing import CliRunner

from cpts_geo.cli import main

from conftest import PACA_DIR, SHARED

PACA_CSV = PACA_DIR / "cpts-communes.csv"
ESTEREL = ["06079", "06138", "83133"]  # Mandelieu-la-Napoule, Théoule-sur-Mer, Tanneron
TANNERON = "83133"
GRAND_AVIGNON = "PACA-062"
MORIERES = "84081"
NEW_KEYS = {"enclaves_zone_blanche", "unites_blanches_adjacentes", "zones_blanches_adjacentes"}
OLD_KEYS = {"conflits", "population_totale", "population_nouvelle", "taille",
            "d_un_seul_tenant", "parties", "enclaves"}


def claims() -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    with open(PACA_CSV, encoding="utf-8") as fh:
        for r in csv.DictReader(fh):
            code = r["code_arrondissement"] or r["code_commune"]
            out.setdefault(r["cpts_id"], set()).add({"05120": "05001"}.get(code, code))
    return out


@pytest.fixture(scope="module")
def communes():
    frame = gpd.read_file(SHARED / "communes" / "communes-2025.gpkg", layer="metro_l93",
                          bbox=(800_000, 6_150_000, 1_100_000, 6_350_000))
    return frame.set_index("code_commune").geometry


def shared_length(a, b) -> float:
    return float(shapely.length(shapely.intersection(a.boundary, b.boundary)))


def neighbours(geoms, code: str) -> set[str]:
    """Units whose raw polygon comes within 30 m of ``code``'s and shares 100 m of boundary
    with it once both are grown by 30 m (the raw polygons are simplified, not a clean
    coverage)."""
    poly = geoms[code]
    near = geoms[geoms.intersects(poly.buffer(30))].drop(code)
    return {c for c, g in near.items()
            if shapely.length(shapely.intersection(poly.boundary, g.buffer(30))) > 100}


def project_csv(path: Path, codes: list[str], name: str = "CPTS en projet") -> Path:
    with open(path, "w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh, delimiter=";")
        writer.writerow(["nom_cpts", "code_insee"])
        writer.writerows([name, c] for c in codes)
    return path


def check_json(project: Path, *extra: str) -> dict:
    res = CliRunner().invoke(main, ["check", str(project), "--registry", str(PACA_CSV),
                                    "--json", *extra])
    assert res.exit_code in {0, 1}, res.output
    payload = json.loads(res.stdout)
    assert set(payload) >= OLD_KEYS | NEW_KEYS
    return payload


def test_leaving_tanneron_out_makes_it_a_new_enclave(tmp_path, communes):
    claimed = set().union(*claims().values())
    project = ESTEREL[:2]
    # independently: Tanneron is unclaimed, borders the project, and every one of its
    # neighbours is claimed once the project is added
    ring = neighbours(communes, TANNERON)
    assert TANNERON not in claimed and ring & set(project)
    assert ring <= claimed | set(project)
    outline = communes[TANNERON].boundary
    others = shapely.union_all([communes[c].buffer(30) for c in ring])
    assert shapely.length(shapely.difference(outline, others)) < 1  # no coast, no border
    res = check_json(project_csv(tmp_path / "p.csv", project))
    assert res["enclaves_zone_blanche"] == [TANNERON]
    assert res["unites_blanches_adjacentes"] == [
        {"code": TANNERON, "nom": "Tanneron", "population": 1_750}]
    assert res["zones_blanches_adjacentes"] == [
        {"codes": [TANNERON], "n_unites": 1, "population": 1_750,
         "codes_adjacents": [TANNERON], "enclave": True}]
    out = CliRunner().invoke(main, ["check", str(tmp_path / "p.csv"), "--registry",
                                    str(PACA_CSV)]).stdout
    assert "Nouvelles enclaves de zone blanche : Tanneron (83133)" in out
    assert "Zone blanche voisine (le projet pourrait l'intégrer) : 1 unité(s)" in out


def test_taking_the_whole_zone_blanche_leaves_none(tmp_path, communes):
    claimed = set().union(*claims().values())
    ring = set().union(*(neighbours(communes, c) for c in ESTEREL)) - set(ESTEREL)
    assert ring <= claimed  # no unclaimed unit around the Estérel
    res = check_json(project_csv(tmp_path / "p.csv", ESTEREL))
    assert res["enclaves_zone_blanche"] == []
    assert res["unites_blanches_adjacentes"] == []
    assert res["zones_blanches_adjacentes"] == []


def test_an_enclave_that_was_already_there_is_not_new(tmp_path):
    # Marseille 2e and 3e (already PACA-010's: a conflict) border Marseille 1er, the zone
    # blanche of one unit that the arrondissements around it enclose today already
    owner = {c: cid for cid, codes in claims().items() for c in codes}
    assert "13201" not in owner and {"13202", "13203"} <= set(owner)
    res = check_json(project_csv(tmp_path / "p.csv", ["13202", "13203"]))
    assert res["conflits"][0]["cpts_id"] == "PACA-010"
    assert [u["code"] for u in res["unites_blanches_adjacentes"]] == ["13201"]
    assert res["unites_blanches_adjacentes"][0]["population"] == 37_599
    (zone,) = res["zones_blanches_adjacentes"]
    assert zone["codes"] == ["13201"] and zone["enclave"] is False
    assert res["enclaves_zone_blanche"] == []


def test_a_revision_that_drops_an_inland_commune_leaves_a_new_enclave(tmp_path, communes):
    members = sorted(claims()[GRAND_AVIGNON] - {MORIERES})
    assert neighbours(communes, MORIERES) <= set(members)
    res = check_json(project_csv(tmp_path / "p.csv", members, "CPTS du Grand Avignon"),
                     "--revise", GRAND_AVIGNON)
    assert res["enclaves"] == [MORIERES]  # a hole in the project, as before
    assert res["enclaves_zone_blanche"] == [MORIERES]
    assert [u["code"] for u in res["unites_blanches_adjacentes"]] == [MORIERES]


def test_a_vast_zone_blanche_is_not_listed_unit_by_unit(ref):
    from cpts_geo.analysis.check import ENCLAVE_MAX_UNITS, check_project
    from cpts_geo.registry import registry_from_frame

    bretagne = ref.finest.index[ref.finest["region"] == "53"]
    assert len(bretagne) > ENCLAVE_MAX_UNITS + 2
    registry = registry_from_frame(pd.DataFrame({"cpts_nom": "CPTS de Rennes",
                                                 "code_insee": ["35238"]}), ref)
    project = registry_from_frame(pd.DataFrame({"cpts_nom": "CPTS de Cesson",
                                                "code_insee": ["35051"]}), ref)
    d = check_project(project, registry, ref).to_dict()
    assert d["enclaves_zone_blanche"] == []
    (zone,) = d["zones_blanches_adjacentes"]  # the rest of Bretagne, unclaimed, in one piece
    assert zone["codes"] == [] and zone["n_unites"] is None and zone["population"] is None
    assert zone["enclave"] is False
    assert {u["code"] for u in d["unites_blanches_adjacentes"]} == set(zone["codes_adjacents"])
    assert "35238" not in zone["codes_adjacents"] and len(zone["codes_adjacents"]) >= 3
