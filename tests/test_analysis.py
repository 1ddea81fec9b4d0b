"""Analysis on the real PACA registry, invariants, and golden files for small hand-made cases."""

from __future__ import annotations

import csv
import json
import os
from collections import Counter, defaultdict
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import shapely

from cpts_geo.analysis import analyse, for_region, summary
from cpts_geo.analysis.coverage import coverage_table, zones_blanches
from cpts_geo.analysis.overlaps import conflicts
from cpts_geo.analysis.territories import dissolve
from cpts_geo.registry import membership, read_registry, registry_from_frame

from conftest import PACA_DIR, SHARED, TEST_DATA

GOLDEN = TEST_DATA / "golden"
REGEN = bool(os.environ.get("CPTS_GEO_REGEN_GOLDEN"))


# ---------------------------------------------------------------------------------------------
# what a careful analyst finds by hand in the raw files


def _raw_paca():
    """PACA units and claims computed straight from the raw CSV files, without cpts_geo."""
    with open(SHARED / "population" / "communes-2026.csv", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    with open(SHARED / "population" / "passage-communes-historique.csv", encoding="utf-8") as fh:
        passage = {r["code_historique"]: r["code_commune_2025"] for r in csv.DictReader(fh)}
    units = {r["code"]: r for r in rows
             if r["region"] == "93" and r["code"] != "13055"
             and r["type"] in ("commune-actuelle", "arrondissement-municipal")}
    claims: dict[str, set[str]] = defaultdict(set)
    infra: dict[str, set[str]] = defaultdict(set)
    with open(PACA_DIR / "cpts-communes.csv", encoding="utf-8") as fh:
        for r in csv.DictReader(fh):
            code = r["code_arrondissement"] or r["code_commune"]
            if code not in units:
                code = passage.get(code, code)
            claims[code].add(r["cpts_id"])
            if r["partage"] == "infra":
                infra[code].add(r["cpts_id"])
    return units, claims, infra


def test_paca_gaps_are_the_units_no_cpts_claims(paca_analysis):
    units, claims, _ = _raw_paca()
    expected = {c for c in units if c not in claims}
    found = {c for codes in paca_analysis.zones_blanches["codes"] for c in codes}
    assert found == expected
    assert "13201" in found  # Marseille 1er: unclaimed though its city's others are covered
    assert {"06079", "06138", "83133"} <= found  # Mandelieu, Théoule, Tanneron
    pop = sum(int(units[c]["population"]) for c in expected)
    assert int(paca_analysis.zones_blanches["population"].sum()) == pop
    s = summary(paca_analysis)
    total = sum(int(u["population"]) for u in units.values())
    assert s["population_totale"] == total
    assert s["population_couverte"] == total - pop
    assert s["taux_couverture"] == round(100 * (total - pop) / total, 2)


def test_paca_shared_communes_and_no_double_claimed_arrondissement(paca_analysis):
    _, claims, infra = _raw_paca()
    shared = {c: sorted(ids) for c, ids in infra.items() if len(ids) > 1}
    got = {r.code: sorted(r.cpts) for r in paca_analysis.partages.itertuples()}
    assert got == shared
    assert set(got) == {"06088", "83137"}  # Nice and Toulon
    marseille = {c: ids for c, ids in claims.items() if c.startswith("132")}
    assert all(len(ids) == 1 for ids in marseille.values())
    assert paca_analysis.conflits.empty
    double = {c for c, ids in claims.items() if len(ids) > 1 and c not in infra}
    assert double == set()


def test_paca_registry_loads_70_cpts_with_the_remap(paca):
    assert len(paca) == 70
    assert paca.remapped == {"05120": "05001"}
    assert any("05120" in w and "05001" in w for w in paca.warnings)
    assert set(paca.claims.loc[paca.claims["partage"], "code"]) == {"06088", "83137"}
    marseille = paca.claims[paca.claims["code"].str.startswith("132")]
    assert len(marseille) == 16 - 1  # every arrondissement but the 1er


def test_coverage_counts_cpts_by_stage_and_by_threshold(ref, paca):
    """Thresholds: a stage counts in its own threshold and every looser one."""
    claims = paca.claims[["cpts_nom", "code"]].copy()
    ids = sorted(paca.claims["cpts_id"].unique())
    stage_of = {cid: ("ACI signé", "projet validé", "lettre d'intention", "")[i % 4]
                for i, cid in enumerate(ids)}
    claims["statut"] = paca.claims["cpts_id"].map(stage_of)
    claims["code"] = claims["code"]
    reg = registry_from_frame(claims, ref)
    a = analyse(reg, ref, region="93")
    row = a.couverture["france"].iloc[0]
    assert row["n_cpts_fonctionnement"] == sum(1 for s in stage_of.values() if s == "ACI signé")
    m = membership(reg, ref)
    m = m[m["region"] == "93"]
    pops = ref.finest["population"]
    for key, stages in {"fonctionnement": {"fonctionnement"},
                        "jusqu_projet_valide": {"fonctionnement", "projet_valide"}}.items():
        covered = set(m.loc[m["stade"].isin(stages), "code"])
        assert row[f"population_couverte_{key}"] == int(pops[list(covered)].sum())
    assert (row["taux_fonctionnement"] <= row["taux_jusqu_projet_valide"]
            <= row["taux_tous_stades"])


# ---------------------------------------------------------------------------------------------
# invariants


def test_dissolve_conserves_population(ref, paca, paca_analysis):
    m = membership(paca, ref)
    by_hand = m.groupby("cpts_id")["population"].sum()
    table = paca_analysis.territories.table
    assert (table["population"] == by_hand.reindex(table.index)).all()
    assert table["taille"].between(1, 4).all()
    weighted = table["population_ponderee"]
    assert (table.loc[weighted < 40_000, "taille"] == 1).all()
    assert (table.loc[weighted > 175_000, "taille"] == 4).all()
    # shared communes count whole in each territory, and split in the population served
    assert (table["population_ponderee"] <= table["population"]).all()
    covered = paca_analysis.couverture["france"]["population_couverte_tous_stades"].iloc[0]
    outside = m.loc[m["region"] != "93", "population"].sum()
    assert int(weighted.sum()) == pytest.approx(covered + outside, abs=len(table))
    nice = table.loc[["PACA-028", "PACA-029", "PACA-030"]]
    two_thirds_of_nice = 2 * int(ref.units.at["06088", "population"]) / 3
    for diff in nice["population"] - nice["population_ponderee"]:
        assert diff == pytest.approx(two_thirds_of_nice, abs=1)
    assert nice["taille"].tolist() == [3, 3, 3]  # not 4: each serves a third of Nice


def test_territories_and_gaps_cover_the_region_exactly_once(ref, paca_analysis):
    """Area: territories (clipped to the région) + zones blanches = the région, shares aside."""
    geoms = ref.geometry("metro")
    region_codes = ref.finest.index[ref.finest["region"] == "93"]
    region = shapely.coverage_union_all(np.asarray(geoms[region_codes].array))
    terr = paca_analysis.territories.geometry["metro"]
    pieces = [shapely.intersection(g, region) for g in terr.array]
    # shared communes are drawn in each of their CPTS: count them once
    shared_area = 0.0
    for r in paca_analysis.partages.itertuples():
        shared_area += (len(r.cpts) - 1) * geoms[r.code].area
    gaps = [geoms[c] for codes in paca_analysis.zones_blanches["codes"] for c in codes]
    total = sum(shapely.area(pieces)) - shared_area + sum(g.area for g in gaps)
    assert total == pytest.approx(region.area, rel=1e-6)
    # and the union has no holes a dissolve would have left
    covered = shapely.union_all([*pieces, *gaps])
    assert shapely.area(shapely.symmetric_difference(covered, region)) < 1e-6 * region.area


def test_territory_polygons_have_no_slivers_or_pinholes(paca_analysis, ref):
    terr = paca_analysis.territories.geometry["metro"]
    for cid, geom in terr.items():
        # each territory equals the exact union of its units, and holes are real enclaves only
        parts = shapely.get_parts(geom)
        small_holes = [ring for p in parts for ring in p.interiors
                       if shapely.Polygon(ring).area < 10_000]  # < 1 ha
        assert small_holes == [], cid


def test_no_conflict_registry_reports_none_and_one_extra_claim_reports_that_pair(ref, paca):
    m = membership(paca, ref)
    assert conflicts(m, ref).empty
    extra = pd.DataFrame({"cpts_id": ["PACA-003"], "cpts_nom": ["CPTS Aix Sainte Victoire"],
                          "code_insee": ["13201"], "statut": [""],
                          "partage": [""]})
    base = paca.claims[["cpts_id", "cpts_nom", "code"]].rename(columns={"code": "code_insee"})
    base["statut"] = ""
    base["partage"] = np.where(paca.claims["partage"], "infra", "")
    reg = registry_from_frame(pd.concat([base, extra], ignore_index=True), ref)
    a = analyse(reg, ref, region="93")
    assert len(a.conflits) == 0  # 13201 was claimed by no one: now covered, no conflict
    owner = m.loc[m["code"] == "13202", "cpts_id"].iloc[0]
    extra["code_insee"] = "13202"
    reg = registry_from_frame(pd.concat([base, extra], ignore_index=True), ref)
    a = analyse(reg, ref, region="93")
    assert len(a.conflits) == 1
    row = a.conflits.iloc[0]
    assert {row["cpts_a"], row["cpts_b"]} == {"PACA-003", owner}
    assert row["codes"] == ["13202"]
    assert row["population"] == int(ref.units.at["13202", "population"])


def test_for_region_matches_a_direct_regional_analysis(ref, paca, paca_analysis):
    national = analyse(paca, ref)
    sliced = for_region(national, "93")
    assert summary(sliced) == summary(paca_analysis) | {"perimetre": summary(sliced)[
        "perimetre"]}
    pd.testing.assert_frame_equal(sliced.territories.table.sort_index(),
                                  paca_analysis.territories.table.sort_index())


def test_coverage_table_levels(ref, paca):
    m = membership(paca, ref)
    fr = coverage_table(m, ref, level="france")
    reg = coverage_table(m, ref, level="region")
    dep = coverage_table(m, ref, level="departement")
    assert fr["population_totale"].iloc[0] == reg["population_totale"].sum() == 68_350_798
    assert dep["population_couverte_tous_stades"].sum() == fr[
        "population_couverte_tous_stades"].iloc[0]
    assert reg.loc["11", "taux_tous_stades"] == 0.0
    with pytest.raises(ValueError, match="`level` was 'commune'"):
        coverage_table(m, ref, level="commune")  # type: ignore[arg-type]


def test_unclaimed_arrondissement_is_a_gap_even_when_the_city_is_covered(ref):
    frame = pd.DataFrame({"cpts_nom": ["X"] * 15,
                          "code_insee": [str(c) for c in range(13202, 13217)]})
    reg = registry_from_frame(frame, ref)
    m = membership(reg, ref)
    zb = zones_blanches(m, ref, scope=ref.finest.index[ref.finest["commune"] == "13055"])
    assert zb["codes"].tolist() == [["13201"]]
    assert zb["population"].tolist() == [int(ref.units.at["13201", "population"])]


# ---------------------------------------------------------------------------------------------
# golden files


def _golden(name: str, payload: dict) -> dict:
    path = GOLDEN / f"{name}.json"
    if REGEN:
        path.write_text(json.dumps(payload, ensure_ascii=False, indent=1, sort_keys=True) + "\n",
                        encoding="utf-8")
    return json.loads(path.read_text(encoding="utf-8"))


def _facts(a) -> dict:
    t = a.territories.table
    return {
        "territoires": {cid: {"nom": r.cpts_nom, "stade": r.stade, "population": int(r.population),
                              "n_communes": int(r.n_communes), "taille": int(r.taille),
                              "plafond_aci": int(r.plafond_aci),
                              "superficie_km2": round(float(r.superficie_km2), 1)}
                        for cid, r in t.sort_index().iterrows()},
        "conflits": [{"cpts": sorted([r.cpts_a, r.cpts_b]), "codes": r.codes,
                      "population": int(r.population)} for r in a.conflits.itertuples()],
        "partages": [{"code": r.code, "cpts": r.cpts} for r in a.partages.itertuples()],
    }


def test_golden_briancon(ref):
    """Three CPTS around Briançon (05), written by hand in ``golden/briancon.csv``.

    Haute Vallée (ACI signé) and Guisane (projet validé) both claim Saint-Chaffrey (05133)
    without declaring a share: one conflict. Guisane and Vallouise both claim Puy-Saint-André
    (05107) as ``infra``: a declared share, not a conflict. The expected figures in
    ``golden/briancon.json`` were produced by this test with CPTS_GEO_REGEN_GOLDEN=1 and checked
    against the populations in ``population/communes-2026.csv`` by hand: Haute Vallée = Briançon
    11,411 + Cervières + Villar-Saint-Pancrace + Val-des-Prés + Saint-Chaffrey.
    """
    reg = read_registry(GOLDEN / "briancon.csv", ref)
    a = analyse(reg, ref, region="93")
    facts = _facts(a)
    assert facts == _golden("briancon", facts)
    pops = ref.units["population"]
    hv = facts["territoires"]["CPTS Haute Vallée"]
    assert hv["population"] == int(pops[["05023", "05027", "05183", "05174", "05133"]].sum())
    assert hv["stade"] == "fonctionnement"
    assert facts["conflits"] == [{"cpts": ["CPTS Guisane", "CPTS Haute Vallée"],
                                  "codes": ["05133"], "population": int(pops["05133"])}]
    assert facts["partages"] == [{"code": "05107", "cpts": ["CPTS Guisane", "CPTS Vallouise"]}]
    # territory polygons: golden outlines (Lambert-93, 1 m) compared with a tolerance
    terr = a.territories.geometry["metro"]
    path = GOLDEN / "briancon-territoires.geojson"
    if REGEN:
        import geopandas as gpd

        out = gpd.GeoDataFrame({"cpts_id": terr.index}, geometry=terr.set_precision(1).values,
                               crs=terr.crs)
        out.to_file(path, driver="GeoJSON", engine="pyogrio", WRITE_NON_FINITE_VALUES="NO")
    import pyogrio

    gold = pyogrio.read_dataframe(path).set_index("cpts_id")
    for cid, geom in terr.items():
        ref_geom = gold.geometry[cid]
        assert shapely.area(shapely.symmetric_difference(geom, ref_geom)) < 1e-4 * geom.area
    # Haute Vallée and Guisane overlap exactly on the conflict commune, nowhere else
    overlap = shapely.intersection(terr["CPTS Haute Vallée"], terr["CPTS Guisane"]).area
    assert overlap == pytest.approx(ref.geometry("metro")["05133"].area, rel=1e-6)


def test_golden_marseille(ref):
    """Marseille claimed whole by one CPTS and by arrondissement by three others.

    ``golden/marseille.csv`` was written by hand: M1 claims the whole city (13055), which stands
    for its 16 arrondissements, so it conflicts with M2 (1er, 2e), M3 (8e, 9e) and M4 (10e,
    11e); M2, M3 and M4 hold different arrondissements and do not conflict. ``marseille.json``
    was produced with CPTS_GEO_REGEN_GOLDEN=1 and checked by hand against the arrondissement
    populations.
    """
    reg = read_registry(GOLDEN / "marseille.csv", ref)
    a = analyse(reg, ref, region="93")
    facts = _facts(a)
    assert facts == _golden("marseille", facts)
    pairs = {tuple(c["cpts"]): c["codes"] for c in facts["conflits"]}
    assert pairs == {("M1", "M2"): ["13201", "13202"], ("M1", "M3"): ["13208", "13209"],
                     ("M1", "M4"): ["13210", "13211"]}
    assert facts["territoires"]["M1"]["population"] == int(ref.units.at["13055", "population"])
    assert facts["territoires"]["M1"]["n_communes"] == 1
    assert facts["territoires"]["M4"]["stade"] == "projet_valide"


def test_dissolve_without_geometry_gives_the_same_table(ref, paca):
    m = membership(paca, ref)
    with_geom = dissolve(m, paca.cpts, ref)
    without = dissolve(m, paca.cpts, ref, geometry=False)
    pd.testing.assert_frame_equal(with_geom.table, without.table)
    assert without.geometry == {}
    counts = Counter(m["cpts_id"])
    assert (with_geom.table["n_unites"] == pd.Series(counts).reindex(with_geom.table.index)).all()


def test_golden_files_exist():
    for name in ("briancon.csv", "briancon.json", "briancon-territoires.geojson",
                 "marseille.csv", "marseille.json"):
        assert (GOLDEN / name).is_file(), name
    assert Path(GOLDEN).is_dir()
