"""Registries as they really come: communes by name, rows and features that are not a CPTS.

Names are taken from the reference file itself (``population/communes-2026.csv``, read here
with the standard library), written the ways real listings write them, and resolved back to the
codes of the real PACA registry.
"""

from __future__ import annotations

import csv
import json
import random

import geopandas as gpd
import pandas as pd
import pytest
import shapely
from click.testing import CliRunner

from cpts_geo import ValidationError
from cpts_geo.cli import main
from cpts_geo.reference.names import departement_code, fold_name
from cpts_geo.registry import read_registry

from conftest import PACA_DIR, SHARED

PACA_CSV = PACA_DIR / "cpts-communes.csv"


def reference_rows() -> dict[str, dict[str, str]]:
    """Code → row of the reference file (current communes, arrondissements, former communes)."""
    out: dict[str, dict[str, str]] = {}
    with open(SHARED / "population" / "communes-2026.csv", encoding="utf-8") as fh:
        for r in csv.DictReader(fh):
            if r["type"] in {"commune-actuelle", "arrondissement-municipal"} or (
                    r["code"] not in out):
                out[r["code"]] = r
    return out


def departement_names() -> dict[str, str]:
    with open(SHARED / "population" / "departements-2026.csv", encoding="utf-8") as fh:
        return {r["code"]: r["nom"] for r in csv.DictReader(fh)}


def spelt(name: str, rng: random.Random) -> str:
    """A name as a listing may write it: upper case, St- for Saint-, the article after it."""
    out = name
    if out.startswith(("Saint-", "Sainte-")) and rng.random() < 0.7:
        out = out.replace("Sainte-", "Ste-", 1).replace("Saint-", "St-", 1)
    for article in ("Le ", "La ", "Les "):
        if out.startswith(article) and rng.random() < 0.7:
            out = f"{out[len(article):]} ({article.strip()})"
    if out.startswith("L'") and rng.random() < 0.7:
        out = f"{out[2:]} (L')"
    roll = rng.random()
    if roll < 0.3:
        out = out.upper()
    elif roll < 0.5:
        out = out.replace("-", " ")
    return out


@pytest.fixture(scope="module")
def named_twin(tmp_path_factory):
    """The real PACA registry with every commune given by name (and its département)."""
    rows = reference_rows()
    deps = departement_names()
    rng = random.Random(2026)
    with open(PACA_CSV, encoding="utf-8") as fh:
        src = list(csv.DictReader(fh))
    out = []
    for r in src:
        code = r["code_arrondissement"] or r["code_commune"]
        ref_row = rows[code]
        out.append({"CPTS": r["cpts_nom"], "Identifiant": r["cpts_id"],
                    "Commune": spelt(ref_row["nom"], rng),
                    "Dép.": rng.choice([ref_row["departement"], deps[ref_row["departement"]],
                                        f"{ref_row['departement']} - "
                                        f"{deps[ref_row['departement']]}"]),
                    "Partage": r["partage"]})
    path = tmp_path_factory.mktemp("names") / "cpts-par-nom.csv"
    pd.DataFrame(out).to_csv(path, sep=";", index=False, encoding="utf-8-sig")
    return path, out


def test_named_registry_loads_to_the_claims_of_its_coded_twin(ref, paca, named_twin):
    path, rows = named_twin
    assert any(" (Le)" in r["Commune"] or " (La)" in r["Commune"] for r in rows)
    assert any(r["Commune"].startswith("ST") or "St-" in r["Commune"] for r in rows)
    reg = read_registry(path, ref)
    key = ["cpts_id", "code", "partage"]
    got = set(map(tuple, reg.claims[key].astype(str).to_numpy()))
    want = set(map(tuple, paca.claims[key].astype(str).to_numpy()))
    assert got == want
    # every unit was given by name, and the report says so
    assert len(reg.names) == len(rows)
    assert set(reg.names["par"]) <= {"nom", "nom sans article", "ancien nom"}
    # Ristolas (05120) is a commune déléguée of Abriès-Ristolas: resolved with a warning
    assert "ancien nom" in set(reg.names["par"])
    assert any("'RISTOLAS'" in w.upper() and "05001" in w for w in reg.warnings)


def test_namesakes_need_a_departement(ref, tmp_path):
    """Sigoyer is 04207 in the Alpes-de-Haute-Provence and 05168 in the Hautes-Alpes."""
    path = tmp_path / "sigoyer.csv"
    path.write_text("cpts_nom,commune\nCPTS Durance,Sisteron\nCPTS Durance,Sigoyer\n",
                    encoding="utf-8")
    with pytest.raises(ValidationError) as info:
        read_registry(path, ref)
    (problem,) = info.value.problems
    assert (problem.row, problem.column, problem.value) == (3, "commune", "Sigoyer")
    message = str(problem)
    assert "ambiguous" in message
    assert "Sigoyer 04207 (04 Alpes-de-Haute-Provence)" in message
    assert "Sigoyer 05168 (05 Hautes-Alpes)" in message
    assert "département column" in message
    # with the département, each row finds its own
    path.write_text("cpts_nom,commune,departement\nCPTS Durance,Sigoyer,04\n"
                    "CPTS Gapençais,Sigoyer,Hautes-Alpes\n", encoding="utf-8")
    reg = read_registry(path, ref)
    assert dict(zip(reg.claims["cpts_nom"], reg.claims["code"], strict=True)) == {
        "CPTS Durance": "04207", "CPTS Gapençais": "05168"}


def test_a_postal_code_decides_between_namesakes(ref, tmp_path):
    """Thèze is 04216 (postal code 04200) and 64536 (64450)."""
    path = tmp_path / "theze.csv"
    path.write_text("cpts_nom;commune;code_postal\nCPTS Sisteronais;Thèze;04200\n",
                    encoding="utf-8")
    reg = read_registry(path, ref)
    assert reg.claims["code"].tolist() == ["04216"]
    assert reg.names["par"].tolist() == ["code postal"]
    path.write_text("cpts_nom;code_postal\nCPTS Sisteronais;04200\n", encoding="utf-8")
    with pytest.raises(ValidationError) as info:  # a postal code alone stays refused
        read_registry(path, ref)
    assert "postal codes, which are not INSEE codes" in str(info.value)


def test_an_unknown_name_gets_the_closest_names_of_its_departement(ref, tmp_path):
    path = tmp_path / "faute.csv"
    path.write_text("cpts_nom;nom_commune;dep\nCPTS Sisteronais;Sisterone;04\n"
                    "CPTS Sisteronais;Sisterone;04\n", encoding="utf-8")
    with pytest.raises(ValidationError) as info:
        read_registry(path, ref)
    (problem,) = info.value.problems  # one problem for the value, naming both rows
    assert problem.row == 2 and problem.value == "Sisterone"
    message = str(problem)
    assert "unknown commune name (rows 2, 3)" in message
    assert "closest names of département 04: Sisteron 04209" in message


def test_a_name_of_another_departement_is_named(ref, tmp_path):
    path = tmp_path / "ailleurs.csv"
    path.write_text("cpts_nom;nom_commune;dep\nCPTS Sisteronais;Gap;04\n", encoding="utf-8")
    with pytest.raises(ValidationError) as info:
        read_registry(path, ref)
    message = str(info.value)
    assert "no commune of this name in département 04" in message
    assert "Gap 05061 (05 Hautes-Alpes)" in message


def test_a_former_commune_name_resolves_with_a_warning(ref, tmp_path):
    path = tmp_path / "ancien.csv"
    path.write_text("cpts_nom,commune\nCPTS Guil Durance,Ristolas\nCPTS Guil Durance,05003\n",
                    encoding="utf-8")
    reg = read_registry(path, ref)
    assert sorted(reg.claims["code"]) == ["05001", "05003"]
    (warning,) = reg.warnings
    assert "row 2: 'Ristolas' is a former commune, merged into 05001 (Abriès-Ristolas)" in warning


def test_names_and_codes_side_by_side(ref, tmp_path):
    """Codes win; an empty code cell takes the name; a département that disagrees is said."""
    path = tmp_path / "mixte.csv"
    path.write_text("cpts_nom;code_insee;nom_commune;departement\n"
                    "CPTS A;04209;Sisteron;04\nCPTS A;;Mison;04\nCPTS A;04070;Entrepierres;05\n",
                    encoding="utf-8")
    reg = read_registry(path, ref)
    assert reg.claims["code"].tolist() == ["04209", "04123", "04070"]
    assert reg.names["code"].tolist() == ["04123"]
    assert any("row 4" in w and "département 04, the row says 05" in w for w in reg.warnings)


@pytest.mark.parametrize("written, code", [
    ("04", "04"), ("4", "04"), ("2a", "2A"), ("Hautes-Alpes", "05"), ("HAUTES ALPES", "05"),
    ("05 - Hautes-Alpes", "05"), ("Hautes-Alpes (05)", "05"), ("Dép. 13", "13"),
    ("974", "974"), ("Côte-d'Or", "21"), ("99", None), ("Atlantide", None),
    ("05 - Var", None),
])
def test_departement_cells(ref, written, code):
    assert departement_code(written, ref.departements) == code


def test_folding_rules():
    assert fold_name("Broc (Le)") == fold_name("Le Broc") == fold_name("LE-BROC")
    assert fold_name("Ste-Agnès") == fold_name("Sainte Agnès")
    assert fold_name("Cœuvres-et-Valsery") == fold_name("COEUVRES ET VALSERY")
    assert fold_name("Marseille 01") == fold_name("Marseille 1er") == fold_name(
        "Marseille 1er Arrondissement")
    assert fold_name("Paris 15ème") == fold_name("PARIS 15E ARRONDISSEMENT")
    assert fold_name("Bors (Canton de Tude-et-Lavalette)") != fold_name("Bors")


# --------------------------------------------------------------------------------------------
# rows and features that are not a CPTS


def by_hand(claimed: set[str], region: str = "93") -> tuple[int, int]:
    """Population of the région and of its units in ``claimed``, from the reference file."""
    with open(SHARED / "population" / "communes-2026.csv", encoding="utf-8") as fh:
        rows = [r for r in csv.DictReader(fh) if r["region"] == region and r["zone"] != "com"]
    split = {r["commune_parente"] for r in rows if r["type"] == "arrondissement-municipal"}
    finest = [r for r in rows if (r["type"] == "commune-actuelle" and r["code"] not in split)
              or r["type"] == "arrondissement-municipal"]
    total = sum(int(r["population"]) for r in finest)
    covered = sum(int(r["population"]) for r in finest if r["code"] in claimed)
    return total, covered


def coverage_json(path) -> dict:
    res = CliRunner().invoke(main, ["coverage", "--registry", str(path), "--json"])
    assert res.exit_code == 0, res.output
    return json.loads(res.stdout)


def test_zone_blanche_rows_are_left_unclaimed(ref, tmp_path):
    """A table whose uncovered communes sit in rows of a 'Zone blanche' pseudo-CPTS."""
    claims = pd.read_csv(PACA_CSV, dtype=str, keep_default_na=False)
    # Mandelieu-la-Napoule, Théoule-sur-Mer and Tanneron: the real zone blanche ZB-93-002
    extra = pd.DataFrame({"cpts_id": "ZB", "cpts_nom": "Zone blanche – secteur Estérel",
                          "code_commune": ["06079", "06138", "83133"]})
    table = pd.concat([claims, extra], ignore_index=True).fillna("")
    path = tmp_path / "avec-zone-blanche.csv"
    table.to_csv(path, index=False)
    reg = read_registry(path, ref)
    assert "ZB" not in set(reg.claims["cpts_id"]) and len(reg) == 70
    assert reg.unclaimed == ("06079", "06138", "83133")
    assert any("'Zone blanche – secteur Estérel' is read as no CPTS" in w
               and "3 units are counted as zones blanches" in w for w in reg.warnings)
    data = coverage_json(path)
    codes = {r["code_arrondissement"] or r["code_commune"] for r in claims.to_dict("records")}
    codes = {"05001" if c == "05120" else c for c in codes}
    total, covered = by_hand(codes)
    assert (data["population_totale"], data["population_couverte"]) == (total, covered)
    assert data["non_cpts"] == ["06079", "06138", "83133"]
    assert ["06079", "06138", "83133"] in [z["codes"] for z in data["zones_blanches"]]


def test_a_hors_cpts_feature_is_left_unclaimed(ref, tmp_path):
    """A perimeter file of four CPTS of the Alpes-Maritimes and the area left out of them."""
    units = ref.geometry("metro")
    paca = read_registry(PACA_CSV, ref)
    ids = ["PACA-007", "PACA-018", "PACA-022", "PACA-031"]
    features, names = [], []
    for cid in ids:
        codes = paca.claims.loc[paca.claims["cpts_id"] == cid, "code"]
        features.append(shapely.union_all(units.reindex(codes).dropna().to_numpy()))
        names.append(paca.cpts.at[cid, "cpts_nom"])
    # the rest of the Alpes-Maritimes, drawn as one "HORS CPTS" feature
    inside = set().union(*(set(paca.claims.loc[paca.claims["cpts_id"] == c, "code"])
                           for c in ids))
    dep06 = ref.finest.index[ref.finest["departement"] == "06"]
    rest = [c for c in dep06 if c not in inside]
    features.append(shapely.union_all(units.reindex(rest).dropna().to_numpy()))
    names.append("HORS CPTS")
    path = tmp_path / "perimetres.geojson"
    gpd.GeoDataFrame({"nom": names}, geometry=features, crs=units.crs).to_crs(4326).to_file(path)
    reg = read_registry(path, ref)
    assert "HORS CPTS" not in set(reg.claims["cpts_nom"]) and len(reg) == len(ids)
    assert set(reg.unclaimed) == set(rest) - inside
    assert any("'HORS CPTS' is read as no CPTS" in w for w in reg.warnings)
    data = coverage_json(path)
    total, covered = by_hand(set(reg.claims["code"]))
    assert data["population_totale"] == total
    assert data["population_couverte"] == covered
    assert data["taux_couverture"] < 50  # not the 100 % a CPTS named "HORS CPTS" would give
