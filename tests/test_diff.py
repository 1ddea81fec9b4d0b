"""The diff of two registry vintages (``cpts_geo.analysis.diff``), on pairs built from the real
PACA registry of January 2026.

Each pair is a real file and an edited copy, written as the files users have (CSV with or
without identifiers, XLSX, GeoJSON perimeters without identifier). Every expected unit list and
population is computed here again with plain pandas from the raw CSV and the reference
population file, not with the library.
"""

from __future__ import annotations

import csv
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from cpts_geo.analysis.diff import diff_registries
from cpts_geo.analysis.pairing import fold_name, name_similarity
from cpts_geo.registry import read_registry

from conftest import PACA_DIR, SHARED

PACA_CSV = PACA_DIR / "cpts-communes.csv"
REMAP = {"05120": "05001"}  # Ristolas, now part of Abriès-Ristolas (data/README.md)
BAOUS, VALBONNE = "PACA-055", "PACA-056"
LERINS = "PACA-068"  # CPTS du Pays de Lérins, beside the zone blanche of the Estérel
ESTEREL = ["06079", "06138", "83133"]  # Mandelieu-la-Napoule, Théoule-sur-Mer, Tanneron


# ---- independent expectations: the raw files read with pandas / csv -------------------------

def population() -> dict[str, int]:
    with open(SHARED / "population" / "communes-2026.csv", encoding="utf-8") as fh:
        return {r["code"]: int(r["population"]) for r in csv.DictReader(fh)
                if r["type"] in {"commune-actuelle", "arrondissement-municipal"}
                and r["zone"] != "com"}


def raw() -> pd.DataFrame:
    """The real PACA registry as a user's table: one row per (CPTS, commune or arrondissement)."""
    return pd.read_csv(PACA_CSV, dtype=str, keep_default_na=False)


def unit_codes(frame: pd.DataFrame) -> pd.Series:
    code = frame["code_arrondissement"].where(frame["code_arrondissement"] != "",
                                              frame["code_commune"])
    return code.replace(REMAP)


def units_of(frame: pd.DataFrame, key: str = "cpts_id") -> dict[str, set[str]]:
    codes = unit_codes(frame)
    return {k: set(codes[frame[key] == k]) for k in frame[key].unique()}


def pop_of(codes) -> int:
    pop = population()
    return sum(pop[c] for c in codes)


def write_csv(frame: pd.DataFrame, path: Path) -> Path:
    frame.to_csv(path, index=False)
    return path


def read(path: Path, ref, **kw):
    return read_registry(path, ref, **kw)


# ---- perimeter polygons made from a table ------------------------------------------------------

def _strips(poly: shapely.Geometry, fractions: list[float]) -> list[shapely.Geometry]:
    """Cut ``poly`` into west-to-east strips holding the given fractions of its area."""
    xmin, ymin, xmax, ymax = poly.bounds
    out, left, target = [], xmin, 0.0
    for f in fractions:
        target += f
        lo, hi = left, xmax
        for _ in range(50):
            mid = (lo + hi) / 2
            if poly.intersection(shapely.box(xmin, ymin, mid, ymax)).area < target * poly.area:
                lo = mid
            else:
                hi = mid
        out.append(poly.intersection(shapely.box(left, ymin, hi, ymax)))
        left = hi
    return out


def write_perimeters(frame: pd.DataFrame, ref, path: Path, *, names=None,
                     cut_shared: bool = True) -> Path:
    """One GeoJSON perimeter per CPTS (EPSG:4326, no identifier), dissolved from the unit
    polygons of its communes. A commune shared below commune level (``partage == infra``) is
    cut among its CPTS as a real perimeter file draws it: k >= 3 equal strips, or for two CPTS
    45 % each (neither holds most of it); with ``cut_shared=False`` each takes it whole."""
    units = ref.geometry("metro")
    frame = frame.assign(unit=unit_codes(frame))
    shared = frame[frame["partage"] == "infra"].groupby("unit")["cpts_id"].agg(sorted)
    pieces = {}
    if cut_shared:
        for code, ids in shared.items():
            fractions = [1 / len(ids)] * len(ids) if len(ids) > 2 else [0.45, 0.45]
            for cid, piece in zip(ids, _strips(units.loc[code], fractions), strict=True):
                pieces[cid, code] = piece
    rows, geoms = [], []
    for cid, g in frame.groupby("cpts_id", sort=True):
        parts = [pieces.get((cid, c), units.loc[c]) for c in g["unit"].drop_duplicates()]
        geoms.append(shapely.union_all(parts))
        rows.append((names or {}).get(cid, g["cpts_nom"].iloc[0]))
    gdf = gpd.GeoDataFrame({"nom": rows}, geometry=geoms, crs=units.crs).to_crs(4326)
    gdf.to_file(path, driver="GeoJSON")
    return path


@pytest.fixture(scope="module")
def table(ref):
    return read(PACA_CSV, ref)


@pytest.fixture(scope="module")
def perimeters_path(ref, tmp_path_factory):
    return write_perimeters(raw(), ref, tmp_path_factory.mktemp("per") / "perimetres.geojson")


# ---- names ----------------------------------------------------------------------------------

def test_name_folding_pairs_the_spellings_of_one_cpts():
    assert fold_name("CPTS PAYS DES BAOUS") == "baous pays"
    assert fold_name("CPTS des Baous") == "baous"
    assert fold_name("CPTS DU PAYS D'ARLES") == fold_name("CPTS du Pays d'Arles") == "arles pays"
    assert name_similarity("CPTS Cœur du Var", "CPTS COEUR DU VAR") == 1.0
    assert name_similarity("CPTS PAYS DES BAOUS", "CPTS des Baous") > name_similarity(
        "CPTS PAYS DES BAOUS", "CPTS du Pays d'Azur")


# ---- (a) a table against the perimeters drawn from it -----------------------------------------

def test_table_against_its_perimeters_is_no_change(ref, table, perimeters_path):
    drawn = read(perimeters_path, ref)
    # the perimeters carry no identifier: their names are their identifiers
    assert set(drawn.cpts.index) == set(raw()["cpts_nom"])
    # Nice and Toulon, cut between their CPTS, are read back as shared
    shared = drawn.claims[drawn.claims["partage"]]
    assert sorted(set(shared["code"])) == ["06088", "83137"]
    d = diff_registries(table, drawn, ref)
    assert d.par == "territoire"
    assert not d.has_changes
    expected = raw().groupby("cpts_id")["cpts_nom"].first()
    pairs = d.appariements.set_index("ancienne")
    assert len(pairs) == 70
    assert (pairs["par"] == "territoire").all()
    assert pairs["nouvelle"].to_dict() == expected.to_dict()  # each with its own perimeter
    assert (pairs["part_ancienne"] == 100.0).all() and (pairs["part_nouvelle"] == 100.0).all()
    pop = population()
    baous = units_of(raw())[BAOUS]
    assert pairs.loc[BAOUS, "population_commune"] == sum(pop[c] for c in baous)
    for frame in (d.nouvelles, d.disparues, d.renommees, d.unites, d.unites_ajoutees,
                  d.unites_retirees, d.conflits_apparus, d.conflits_resolus, d.zones_blanches):
        assert frame.empty
    top = d.couverture[d.couverture["niveau"] == "perimetre"].iloc[0]
    assert top["taux_avant_tous_stades"] == top["taux_apres_tous_stades"] == 98.06


def test_perimeters_named_by_another_source_pair_by_territory(ref, table, tmp_path):
    """Another source writes the names in capitals and calls the CPTS des Baous 'CPTS PAYS DES
    BAOUS': capitals and accents are no rename, the Baous one is."""
    frame = raw()
    names = {cid: n.upper() for cid, n in frame.groupby("cpts_id")["cpts_nom"].first().items()}
    names[BAOUS] = "CPTS PAYS DES BAOUS"
    path = write_perimeters(frame, ref, tmp_path / "autre-source.geojson", names=names)
    d = diff_registries(table, read(path, ref), ref)
    pairs = d.appariements.set_index("ancienne")
    assert pairs["nouvelle"].to_dict() == names
    assert pairs.loc[BAOUS, "par"] == "territoire"
    assert d.renommees.to_dict("records") == [{
        "ancienne": BAOUS, "nouvelle": "CPTS PAYS DES BAOUS", "nom_avant": "CPTS des Baous",
        "nom_apres": "CPTS PAYS DES BAOUS"}]
    assert d.unites.empty and d.nouvelles.empty and d.disparues.empty


def test_shared_commune_drawn_whole_by_each_cpts_is_a_conflict(ref, table, tmp_path):
    """The partage flag alone is no change, but three perimeters each holding the whole of
    Nice (and two the whole of Toulon) are three CPTS claiming it: conflicts appear."""
    frame = raw()
    path = write_perimeters(frame, ref, tmp_path / "entiers.geojson", cut_shared=False)
    d = diff_registries(table, read(path, ref), ref)
    names = frame.groupby("cpts_id")["cpts_nom"].first()
    holders = {code: sorted(names[frame.loc[(unit_codes(frame) == code), "cpts_id"]])
               for code in ("06088", "83137")}
    expected = sorted((a, b, code) for code, hs in holders.items()
                      for i, a in enumerate(hs) for b in hs[i + 1:])
    got = sorted((r.cpts_a, r.cpts_b, c) for r in d.conflits_apparus.itertuples()
                 for c in r.codes)
    assert got == expected and len(expected) == 3 + 1
    pop = population()
    for r in d.conflits_apparus.itertuples():
        assert r.population == sum(pop[c] for c in r.codes)
    assert d.unites.empty  # the same CPTS claim the same units
    assert d.conflits_resolus.empty


# ---- (b) renamed ------------------------------------------------------------------------------

def test_renamed_cpts_without_identifiers(ref, tmp_path):
    frame = raw().drop(columns="cpts_id")
    old = write_csv(frame, tmp_path / "2026-01.csv")
    renamed = frame.copy()
    new_names = {"CPTS des Baous": "CPTS Pays des Baous et de la Vésubie",
                 "CPTS du Golfe": "CPTS Golfe de Saint-Tropez"}
    renamed["cpts_nom"] = renamed["cpts_nom"].replace(new_names)
    new = write_csv(renamed, tmp_path / "2026-06.csv")
    d = diff_registries(read(old, ref), read(new, ref), ref)
    assert d.par == "territoire"
    assert sorted(map(tuple, d.renommees[["nom_avant", "nom_apres"]].to_numpy())) == sorted(
        new_names.items())
    assert d.renommees.set_index("nom_avant")["nouvelle"].to_dict() == new_names
    assert d.has_changes
    assert d.unites.empty and d.nouvelles.empty and d.disparues.empty
    assert d.changements_stade.empty and d.scissions.empty and d.fusions.empty


def test_renamed_cpts_with_identifiers(ref, table, tmp_path):
    frame = raw()
    frame.loc[frame["cpts_id"] == BAOUS, "cpts_nom"] = "CPTS Vence et des Baous"
    d = diff_registries(table, read(write_csv(frame, tmp_path / "n.csv"), ref), ref)
    assert d.par == "identifiant"
    assert (d.appariements["par"] == "identifiant").all()
    assert d.renommees.to_dict("records") == [{"ancienne": BAOUS, "nouvelle": BAOUS,
                                               "nom_avant": "CPTS des Baous",
                                               "nom_apres": "CPTS Vence et des Baous"}]


# ---- (c) a CPTS split in two ------------------------------------------------------------------

def test_cpts_split_in_two(ref, tmp_path):
    frame = raw().drop(columns="cpts_id")
    old = write_csv(frame, tmp_path / "avant.csv")
    pop = population()
    sizes = frame.groupby("cpts_nom").size()
    name = sizes.idxmax()  # the CPTS with most communes
    rows = frame[frame["cpts_nom"] == name]
    codes = sorted(set(unit_codes(rows)))
    west, east = codes[: len(codes) // 3], codes[len(codes) // 3:]
    new = frame.copy()
    new.loc[unit_codes(new).isin(west) & (new["cpts_nom"] == name), "cpts_nom"] = "CPTS Nouvelle A"
    new.loc[unit_codes(new).isin(east) & (new["cpts_nom"] == name), "cpts_nom"] = "CPTS Nouvelle B"
    d = diff_registries(read(old, ref), read(write_csv(new, tmp_path / "apres.csv"), ref), ref)
    pop_w, pop_e = sum(pop[c] for c in west), sum(pop[c] for c in east)
    big, small = (("CPTS Nouvelle A", west), ("CPTS Nouvelle B", east)) if pop_w > pop_e else (
        ("CPTS Nouvelle B", east), ("CPTS Nouvelle A", west))
    # the old CPTS pairs with the part holding most of its population
    pair = d.appariements.set_index("ancienne").loc[name]
    assert pair["nouvelle"] == big[0] and pair["par"] == "territoire"
    assert pair["population_commune"] == sum(pop[c] for c in big[1])
    # the other part is new, with exactly its units and population
    assert d.nouvelles[["cpts_id", "codes", "population"]].to_dict("records") == [
        {"cpts_id": small[0], "codes": sorted(small[1]),
         "population": sum(pop[c] for c in small[1])}]
    assert d.disparues.empty
    # the split is reported as such, with the population each part took
    assert d.scissions.to_dict("records") == [{
        "ancienne": name, "cpts_nom": name, "nouvelles": [big[0], small[0]],
        "noms": [big[0], small[0]],
        "populations": [sum(pop[c] for c in big[1]), sum(pop[c] for c in small[1])]}]
    assert d.renommees[["nom_avant", "nom_apres"]].to_numpy().tolist() == [[name, big[0]]]
    # the units of the small part left the paired CPTS
    (removed,) = d.unites_retirees.to_dict("records")
    assert removed["cpts"] == big[0] and removed["ancienne"] == name
    assert removed["codes"] == sorted(small[1])
    assert removed["population"] == sum(pop[c] for c in small[1])
    assert d.unites_ajoutees.empty
    # coverage is unchanged: every unit is still covered
    assert d.population_nouvellement_couverte == d.population_plus_couverte == 0
    assert set(d.unites["changement"]) == {"changee"}
    assert sorted(d.unites["code"]) == sorted(small[1])


# ---- (d) units moving between two CPTS --------------------------------------------------------

def test_units_moving_between_two_cpts(ref, table, tmp_path):
    frame = raw()
    moved = ["06049", "06148", "06157"]  # Courmes, Tourrettes-sur-Loup, Vence
    target = frame[frame["cpts_id"] == VALBONNE].iloc[0]
    sel = frame["code_commune"].isin(moved)
    assert set(frame.loc[sel, "cpts_id"]) == {BAOUS}
    frame.loc[sel, ["cpts_id", "cpts_nom"]] = [VALBONNE, target["cpts_nom"]]
    new = read(write_csv(frame, tmp_path / "2026-06.csv"), ref)
    d = diff_registries(table, new, ref)
    before, after = units_of(raw()), units_of(frame)
    added = sorted(after[VALBONNE] - before[VALBONNE])
    removed = sorted(before[BAOUS] - after[BAOUS])
    assert added == removed == sorted(moved)
    assert d.par == "identifiant"
    assert d.unites_ajoutees[["cpts", "ancienne", "codes", "population"]].to_dict(
        "records") == [{"cpts": VALBONNE, "ancienne": VALBONNE, "codes": added,
                        "population": pop_of(added)}]
    assert d.unites_retirees[["cpts", "ancienne", "codes", "population"]].to_dict(
        "records") == [{"cpts": BAOUS, "ancienne": BAOUS, "codes": removed,
                        "population": pop_of(removed)}]
    assert pop_of(added) == 109 + 4_165 + 19_917
    assert d.unites[["code", "avant", "apres", "changement"]].to_dict("records") == [
        {"code": c, "avant": [BAOUS], "apres": [VALBONNE], "changement": "changee"}
        for c in sorted(moved)]
    assert d.renommees.empty and d.nouvelles.empty and d.scissions.empty
    assert d.population_nouvellement_couverte == 0


def test_units_newly_covered_and_zones_blanches_closed_and_changed(ref, table, tmp_path):
    """The Pays de Lérins takes Mandelieu and Théoule (of the zone blanche of the Estérel);
    Marseille 1er (a zone blanche of its own) joins the CPTS of Marseille 2 & 3; a CPTS of the
    Alpes drops out, leaving its communes uncovered."""
    frame = raw()
    lerins = frame[frame["cpts_id"] == LERINS].iloc[0]
    add = pd.DataFrame([{**lerins.to_dict(), "code_commune": c, "code_arrondissement": "",
                         "partage": "", "code_commune_cog2026": c} for c in ESTEREL[:2]])
    m23 = frame[frame["cpts_nom"] == "CPTS Coordination Santé Marseille 2 & 3"].iloc[0]
    add = pd.concat([add, pd.DataFrame([{**m23.to_dict(), "code_arrondissement": "13201"}])])
    gone = "PACA-016"
    new_frame = pd.concat([frame[frame["cpts_id"] != gone], add], ignore_index=True)
    d = diff_registries(table, read(write_csv(new_frame, tmp_path / "n.csv"), ref), ref)
    pop = population()
    gone_codes = sorted(units_of(frame)[gone])
    newly = sorted([*ESTEREL[:2], "13201"])
    assert sorted(d.unites.loc[d.unites["changement"] == "gagnee", "code"]) == newly
    assert d.population_nouvellement_couverte == sum(pop[c] for c in newly)
    assert sorted(d.unites.loc[d.unites["changement"] == "perdue", "code"]) == gone_codes
    assert d.population_plus_couverte == sum(pop[c] for c in gone_codes)
    assert d.disparues["cpts_id"].tolist() == [gone]
    assert d.disparues["population"].tolist() == [sum(pop[c] for c in gone_codes)]
    zb = {r.statut: r for r in d.zones_blanches.itertuples()}
    closed = d.zones_blanches[d.zones_blanches["statut"] == "fermee"]
    assert closed["codes_avant"].tolist() == [["13201"]]
    assert closed["population_avant"].tolist() == [pop["13201"]] == [37_599]
    changed = zb["modifiee"]
    assert changed.codes_avant == sorted(ESTEREL) and changed.codes_apres == ["83133"]
    assert changed.codes_couverts == sorted(ESTEREL[:2])
    assert changed.population_avant == sum(pop[c] for c in ESTEREL) == 24_867
    assert changed.population_apres == pop["83133"]
    # the communes of the CPTS gone form zones blanches of their own (or join old ones)
    new_gaps = set().union(*d.zones_blanches["codes_decouverts"])
    assert new_gaps == set(gone_codes)
    covered = d.couverture.set_index(["niveau", "code"])
    total = covered.loc[("perimetre", "FR"), "population_totale"]
    with open(SHARED / "population" / "communes-2026.csv", encoding="utf-8") as fh:
        paca = [r["code"] for r in csv.DictReader(fh) if r["type"] != "commune-deleguee"
                and r["type"] != "commune-associee" and r["region"] == "93"
                and r["code"] not in {"13055"}]  # Marseille counted by arrondissement
    assert total == sum(pop[c] for c in paca) == 5_218_960
    delta = sum(pop[c] for c in newly) - sum(pop[c] for c in gone_codes)
    row = covered.loc[("perimetre", "FR")]
    assert row["couverte_apres_tous_stades"] - row["couverte_avant_tous_stades"] == delta
    assert row["ecart_tous_stades"] == round(row["taux_apres_tous_stades"]
                                             - row["taux_avant_tous_stades"], 2)
    dep06 = covered.loc[("departement", "06")]
    assert dep06["couverte_apres_tous_stades"] - dep06["couverte_avant_tous_stades"] == sum(
        pop[c] for c in ESTEREL[:2]) - sum(pop[c] for c in gone_codes if c.startswith("06"))


# ---- (e) conflicts ----------------------------------------------------------------------------

def test_new_conflict_then_resolved(ref, table, tmp_path):
    frame = raw()
    vence = frame[(frame["cpts_id"] == BAOUS) & (frame["code_commune"] == "06157")].iloc[0]
    valbonne = frame[frame["cpts_id"] == VALBONNE].iloc[0]
    claim = {**vence.to_dict(), "cpts_id": VALBONNE, "cpts_nom": valbonne["cpts_nom"]}
    conflict = pd.concat([frame, pd.DataFrame([claim])], ignore_index=True)
    path = write_csv(conflict, tmp_path / "conflit.csv")
    d = diff_registries(table, read(path, ref), ref)
    names = frame.groupby("cpts_id")["cpts_nom"].first()
    assert d.conflits_apparus[["cpts_a", "nom_a", "cpts_b", "nom_b", "codes",
                               "population"]].to_dict("records") == [{
        "cpts_a": BAOUS, "nom_a": names[BAOUS], "cpts_b": VALBONNE, "nom_b": names[VALBONNE],
        "codes": ["06157"], "population": population()["06157"]}]
    assert d.conflits_resolus.empty
    assert d.unites_ajoutees[["cpts", "codes"]].to_dict("records") == [
        {"cpts": VALBONNE, "codes": ["06157"]}]
    assert d.unites.to_dict("records")[0]["apres"] == [BAOUS, VALBONNE]
    back = diff_registries(read(path, ref), table, ref)
    assert back.conflits_resolus[["cpts_a", "cpts_b", "codes"]].to_dict("records") == [
        {"cpts_a": BAOUS, "cpts_b": VALBONNE, "codes": ["06157"]}]
    assert back.conflits_apparus.empty


def test_declared_share_dropped_becomes_conflicts(ref, table, tmp_path):
    """One of the three CPTS of Nice no longer declares it shared: it now collides with the
    other two, which still share it with each other by design."""
    frame = raw()
    holders = sorted(frame.loc[frame["code_commune"] == "06088", "cpts_id"])
    frame.loc[(frame["cpts_id"] == holders[0]) & (frame["code_commune"] == "06088"),
              "partage"] = ""
    d = diff_registries(table, read(write_csv(frame, tmp_path / "n.csv"), ref), ref)
    assert sorted((r.cpts_a, r.cpts_b) for r in d.conflits_apparus.itertuples()) == [
        (holders[0], holders[1]), (holders[0], holders[2])]
    assert set(d.conflits_apparus["population"]) == {population()["06088"]}
    assert d.unites.empty  # the same CPTS hold the same units


# ---- (f) stages --------------------------------------------------------------------------------

def test_stage_changes_up_and_down_and_coverage_by_stage(ref, tmp_path):
    frame = raw()
    frame["statut"] = "Lettre d'intention validée"
    frame.loc[frame["cpts_id"] == BAOUS, "statut"] = "Projet de santé validé"
    old = write_csv(frame, tmp_path / "avant.csv")
    new = frame.copy()
    new.loc[new["cpts_id"] == BAOUS, "statut"] = "ACI signé"
    new.loc[new["cpts_id"] == VALBONNE, "statut"] = "Émergence"
    d = diff_registries(read(old, ref), read(write_csv(new, tmp_path / "apres.csv"), ref), ref)
    assert d.changements_stade[["ancienne", "stade_avant", "stade_apres", "sens"]].to_dict(
        "records") == [
        {"ancienne": BAOUS, "stade_avant": "projet_valide", "stade_apres": "fonctionnement",
         "sens": "hausse"},
        {"ancienne": VALBONNE, "stade_avant": "lettre_intention", "stade_apres": "emergence",
         "sens": "baisse"}]
    assert d.unites.empty and d.has_changes
    top = d.couverture[d.couverture["niveau"] == "perimetre"].iloc[0]
    baous = pop_of(units_of(raw())[BAOUS])
    assert top["couverte_avant_fonctionnement"] == 0
    assert top["couverte_apres_fonctionnement"] == baous
    assert top["couverte_avant_jusqu_projet_valide"] == baous
    assert top["couverte_apres_jusqu_projet_valide"] == baous
    assert top["couverte_avant_tous_stades"] == top["couverte_apres_tous_stades"]
    assert top["taux_apres_fonctionnement"] == round(100 * baous / top["population_totale"], 2)


def test_stages_are_not_compared_when_one_registry_gives_none(ref, tmp_path, perimeters_path):
    frame = raw()
    frame["statut"] = "ACI signé"
    d = diff_registries(read(write_csv(frame, tmp_path / "t.csv"), ref),
                        read(perimeters_path, ref), ref)
    assert d.changements_stade.empty and not d.has_changes
    assert any("gives no stage" in w for w in d.avertissements)


# ---- scope, pairing rules ---------------------------------------------------------------------

def test_region_restricts_the_comparison(ref, table, tmp_path):
    frame = raw()
    frame = frame[frame["cpts_id"] != "PACA-016"]
    new = read(write_csv(frame, tmp_path / "n.csv"), ref)
    assert diff_registries(table, new, ref, region="93").has_changes
    elsewhere = diff_registries(table, new, ref, region="84")  # Auvergne-Rhône-Alpes
    assert not elsewhere.has_changes and elsewhere.appariements.empty
    assert elsewhere.perimetre == ("84",)
    assert elsewhere.couverture.loc[elsewhere.couverture["niveau"] == "perimetre",
                                    "taux_avant_tous_stades"].iloc[0] == 0.0


def test_small_cpts_taking_most_of_a_large_one_keeps_both_pairs(ref, tmp_path):
    """Vence (most of the CPTS des Baous) moves to a smaller CPTS: the largest overlap is then
    old Baous / new small CPTS, but pairing each CPTS with itself holds more population in
    common, so both keep their partner and Vence is reported as moving."""
    frame = raw().drop(columns="cpts_id")
    pop = population()
    units = units_of(frame, "cpts_nom")
    baous = "CPTS des Baous"
    vence, rest = pop["06157"], pop_of(units[baous] - {"06157"})
    assert vence > rest
    sizes = {n: pop_of(u) for n, u in units.items() if n != baous}
    # a CPTS smaller than Vence, but which with the rest of the Baous outweighs it
    small = min((n for n, p in sizes.items() if vence - rest < p < vence and
                 not frame.loc[frame["cpts_nom"] == n, "partage"].any()), key=sizes.get)
    new = frame.copy()
    new.loc[new["code_commune"] == "06157", "cpts_nom"] = small
    old = write_csv(frame, tmp_path / "avant.csv")
    d = diff_registries(read(old, ref), read(write_csv(new, tmp_path / "apres.csv"), ref), ref)
    pairs = d.appariements.set_index("ancienne")["nouvelle"]
    assert pairs[baous] == baous and pairs[small] == small
    assert d.nouvelles.empty and d.disparues.empty and d.renommees.empty
    assert d.unites[["code", "avant", "apres"]].to_dict("records") == [
        {"code": "06157", "avant": [baous], "apres": [small]}]


def test_same_identifiers_for_other_territories_fall_back_to_territory(ref, table, tmp_path):
    """Identifiers that name other CPTS in the new file (renumbered) are not trusted."""
    frame = raw()
    ids = sorted(frame["cpts_id"].unique())
    shift = dict(zip(ids, ids[1:] + ids[:1], strict=True))
    frame["cpts_id"] = frame["cpts_id"].map(shift)
    d = diff_registries(table, read(write_csv(frame, tmp_path / "n.csv"), ref), ref)
    assert d.par == "territoire" and not d.has_changes
    assert d.appariements.set_index("ancienne")["nouvelle"].to_dict() == shift
    assert any("do not mean the same CPTS" in w for w in d.avertissements)


def test_xlsx_against_json_listing(ref, table, tmp_path):
    """The JSON listing of the same registry (one object per CPTS) against the table as XLSX:
    same identifiers, no change."""
    path = tmp_path / "registre.xlsx"
    with pd.ExcelWriter(path) as writer:
        pd.DataFrame({"notes": ["registre ARS"]}).to_excel(writer, sheet_name="Lisez-moi",
                                                          index=False)
        raw().to_excel(writer, sheet_name="CPTS", index=False)
    d = diff_registries(read(path, ref, sheet="CPTS"), read(PACA_DIR / "cpts.json", ref), ref)
    assert d.par == "identifiant" and not d.has_changes
    assert len(d.appariements) == 70


def test_inputs_are_not_modified(ref, table, perimeters_path):
    drawn = read(perimeters_path, ref)
    before = (table.claims.copy(), drawn.claims.copy())
    diff_registries(table, drawn, ref)
    assert table.claims.equals(before[0]) and drawn.claims.equals(before[1])


def test_to_dict_is_json_ready(ref, table, tmp_path):
    import json

    frame = raw()
    frame.loc[frame["code_commune"] == "06157", ["cpts_id", "cpts_nom"]] = [
        VALBONNE, frame.loc[frame["cpts_id"] == VALBONNE, "cpts_nom"].iloc[0]]
    d = diff_registries(table, read(write_csv(frame, tmp_path / "n.csv"), ref), ref).to_dict()
    text = json.dumps(d)
    assert json.loads(text)["unites_ajoutees"][0]["codes"] == ["06157"]
    assert isinstance(d["unites_ajoutees"][0]["population"], int)
    assert d["unites_changees"] == [{"code": "06157", "nom": "Vence",
                                     "population": population()["06157"], "avant": [BAOUS],
                                     "apres": [VALBONNE], "changement": "changee"}]
    assert np.isclose(d["couverture"]["par_stade"]["tous_stades"]["taux_avant"], 98.06)
