"""Proposals: closing the zones blanches and settling the conflicts (``analysis/proposals.py``).

Expectations are computed here independently of the code that makes the proposal: claims from
the real PACA registry read with the ``csv`` module, populations from the reference population
file, the ACI tier table written out from DESIGN.md, and borders measured with shapely on the
polygons (the raw arrondissement file for Marseille; the cleaned coverage of the reference for
the rest), never with ``analysis.borders``. Property tests run on registries made by the
benchmark generator over a few régions and seeds.
"""

from __future__ import annotations

import csv
import importlib.util
import sys
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from cpts_geo.analysis import analyse, summary
from cpts_geo.analysis.proposals import propose
from cpts_geo.outputs import write_table
from cpts_geo.registry import membership, read_registry, registry_from_frame
from cpts_geo.registry.write import registry_table

from conftest import PACA_DIR, SHARED

ROOT = Path(__file__).parents[1]
PACA_CSV = PACA_DIR / "cpts-communes.csv"
#: DESIGN.md: taille 1 < 40 000; 2: 40 000–80 000; 3: 80 000–175 000; 4 > 175 000 inhabitants
PLAFOND = {1: 185_000, 2: 242_000, 3: 315_000, 4: 380_000}


def taille(pop: float) -> int:
    return 1 if pop < 40_000 else 2 if pop < 80_000 else 3 if pop <= 175_000 else 4


def _load_generator():
    spec = importlib.util.spec_from_file_location(
        "generate_registry", ROOT / "benchmarks" / "generate_registry.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("generate_registry", module)
    spec.loader.exec_module(module)
    return module


gen = _load_generator()


def population() -> dict[str, int]:
    with open(SHARED / "population" / "communes-2026.csv", encoding="utf-8") as fh:
        return {r["code"]: int(r["population"]) for r in csv.DictReader(fh)
                if r["type"] in {"commune-actuelle", "arrondissement-municipal"}
                and r["zone"] != "com"}


POP = population()


def raw_claims(path: Path = PACA_CSV) -> list[dict[str, str]]:
    """(cpts_id, code, partage) of each row of a PACA-layout CSV (05120 remapped, once)."""
    seen, out = set(), []
    with open(path, encoding="utf-8") as fh:
        for r in csv.DictReader(fh):
            code = r["code_arrondissement"] or r["code_commune"]
            code = {"05120": "05001"}.get(code, code)
            if (r["cpts_id"], code) not in seen:
                seen.add((r["cpts_id"], code))
                out.append({"cpts_id": r["cpts_id"], "code": code,
                            "partage": r["partage"] == "infra"})
    return out


def weighted_population(claims: list[dict[str, str]]) -> dict[str, float]:
    """Population served by each CPTS: a commune declared shared by k CPTS counts 1/k."""
    k: dict[str, int] = {}
    for c in claims:
        if c["partage"]:
            k[c["code"]] = k.get(c["code"], 0) + 1
    out: dict[str, float] = {}
    for c in claims:
        w = 1 / k[c["code"]] if c["partage"] else 1.0
        out[c["cpts_id"]] = out.get(c["cpts_id"], 0.0) + w * POP[c["code"]]
    return out


def shared_length(a, b) -> float:
    return float(shapely.length(shapely.intersection(shapely.boundary(a), shapely.boundary(b))))


@pytest.fixture(scope="module")
def proposals(ref, paca):
    return propose(paca, ref, region="93")


@pytest.fixture(scope="module")
def arrondissements():
    frame = gpd.read_file(SHARED / "communes" / "arrondissements-municipaux.gpkg")
    return frame.to_crs(2154).set_index("code").geometry


def polygons(ref, codes):
    geoms = ref.geometry("metro")
    return [geoms[c] for c in codes]


# ------------------------------------------------------------------------------------------
# the real PACA registry


def test_every_paca_zone_blanche_has_candidates(proposals):
    zones = proposals.propositions
    assert len(zones) == 7
    assert (zones["statut"] == "candidats").all()
    assert all(len(c) for c in zones["candidats"])
    assert set(proposals.candidats["zone_blanche"]) == set(zones["zone_blanche"])
    first = zones.iloc[0]
    assert first["zone_blanche"] == "ZB-93-001" and first["codes"] == ["13201"]
    assert first["population"] == POP["13201"] == 37_599


def test_marseille_1er_candidates_are_the_cpts_of_the_bordering_arrondissements(
        proposals, arrondissements):
    owner = {c["code"]: c["cpts_id"] for c in raw_claims() if c["code"].startswith("132")}
    first = arrondissements["13201"]
    lengths = {code: shared_length(first, poly) for code, poly in arrondissements.items()
               if code.startswith("132") and code != "13201"}
    bordering = {code for code, d in lengths.items() if d > 0}
    assert bordering == {"13202", "13203", "13204", "13205", "13206", "13207"}
    expected = {owner[c] for c in bordering}
    cand = proposals.candidats[proposals.candidats["zone_blanche"] == "ZB-93-001"]
    assert set(cand["cpts_id"]) == expected
    # the rule: the CPTS sharing the longest boundary (measured on the raw polygons) takes it
    by_cpts: dict[str, float] = {}
    for code, d in lengths.items():
        if d > 0:
            by_cpts[owner[code]] = by_cpts.get(owner[code], 0.0) + d
    best = max(by_cpts, key=by_cpts.get)
    assigned = proposals.assignments.set_index("code")
    assert assigned.at["13201", "cpts_id"] == best == cand["cpts_id"].iloc[0]


def test_candidate_figures_against_the_tier_table(proposals):
    claims = raw_claims()
    whole: dict[str, int] = {}
    for c in claims:
        whole[c["cpts_id"]] = whole.get(c["cpts_id"], 0) + POP[c["code"]]
    served = weighted_population(claims)
    zone_pop = {z: sum(POP[c] for c in codes) for z, codes in
                zip(proposals.propositions["zone_blanche"], proposals.propositions["codes"],
                    strict=True)}
    cand = proposals.candidats
    assert len(cand) > 20
    for r in cand.itertuples(index=False):
        added = zone_pop[r.zone_blanche]
        before, after = round(served[r.cpts_id]), round(served[r.cpts_id]) + added
        assert r.population_ajoutee == added
        assert (r.population_avant, r.population_apres) == (whole[r.cpts_id],
                                                            whole[r.cpts_id] + added)
        assert (r.population_ponderee_avant, r.population_ponderee_apres) == (before, after)
        assert (r.taille_avant, r.taille_apres) == (taille(before), taille(after))
        assert (r.plafond_avant, r.plafond_apres) == (PLAFOND[taille(before)],
                                                      PLAFOND[taille(after)])
        assert r.effet_financement == PLAFOND[taille(after)] - PLAFOND[taille(before)]


def test_two_funding_effects_worked_by_hand(proposals):
    cand = proposals.candidats.set_index(["zone_blanche", "cpts_id"])
    served = weighted_population(raw_claims())
    # CPTS du Plateau (Marseille 11e-12e) taking Marseille 1er: 38 476 + 37 599 = 76 075
    # inhabitants: from taille 1 (< 40 000, 185 000 €) to taille 2 (40 000-80 000, 242 000 €)
    row = cand.loc[("ZB-93-001", "PACA-069")]
    assert round(served["PACA-069"]) == 38_476 and POP["13201"] == 37_599
    assert (row["population_ponderee_avant"], row["population_ponderee_apres"]) == (38_476,
                                                                                     76_075)
    assert (row["taille_avant"], row["taille_apres"], row["plafond_avant"],
            row["plafond_apres"], row["effet_financement"]) == (1, 2, 185_000, 242_000, 57_000)
    # CPTS Sud 04 taking ZB-93-004 (32 communes, 16 380 inhabitants): 69 099 + 16 380 = 85 479:
    # from taille 2 (242 000 €) to taille 3 (80 000-175 000, 315 000 €), +73 000 € a year
    row = cand.loc[("ZB-93-004", "PACA-040")]
    assert round(served["PACA-040"]) == 69_099
    assert row["population_ajoutee"] == 16_380
    assert (row["taille_avant"], row["taille_apres"], row["effet_financement"]) == (2, 3, 73_000)
    # a Nice CPTS counts Nice (shared by three) for a third: the tier follows that
    row = cand.loc[("ZB-93-003", "PACA-030")]
    assert row["population_avant"] - row["population_ponderee_avant"] == round(
        POP["06088"] * 2 / 3)
    assert row["taille_apres"] == taille(row["population_ponderee_apres"]) == 3


def test_the_proposal_covers_paca_and_its_effects_add_up(proposals, ref):
    assert proposals.taux_avant == 98.06 and proposals.taux_apres == 100.0
    assert proposals.population_totale == 5_218_960
    assigned = proposals.assignments
    assert assigned["cpts_id"].notna().all() and assigned["motif"].isna().all()
    gap_codes = [c for codes in proposals.propositions["codes"] for c in codes]
    assert sorted(assigned["code"]) == sorted(gap_codes) and len(gap_codes) == 46
    served = weighted_population(raw_claims())
    effets = proposals.effets.set_index("cpts_id")
    for cid, group in assigned.groupby("cpts_id"):
        added = sum(POP[c] for c in group["code"])
        row = effets.loc[cid]
        assert sorted(row["codes_ajoutes"]) == sorted(group["code"]) and row["codes_retires"] == []
        after = round(served[cid]) + added
        assert row["population_ponderee_apres"] == after
        assert row["plafond_apres"] == PLAFOND[taille(after)]
    assert proposals.effet_financement == int((effets["plafond_apres"]
                                               - effets["plafond_avant"]).sum())
    assert proposals.conciliations.empty and proposals.resolutions.empty


def _parts(ref, codes) -> int:
    union = shapely.coverage_union_all(np.asarray(polygons(ref, codes), dtype=object))
    return int(shapely.get_num_geometries(union))


def test_registre_propose_reads_back_to_full_coverage_in_one_piece(proposals, ref, paca, tmp_path):
    table = registry_table(proposals.registry, ref, like=PACA_CSV)
    with open(PACA_CSV, encoding="utf-8") as fh:
        assert list(table.columns) == next(csv.reader(fh))  # the input's own columns
    path = write_table(table, tmp_path / "registre_propose.csv")
    back = read_registry(path, ref)
    s = summary(analyse(back, ref, region="93"))
    assert s["taux_couverture"] == 100.0 and s["conflits"] == [] and s["zones_blanches"] == []
    # the proposal adds claims and removes none: every input claim is still there
    before = {(c["cpts_id"], c["code"]) for c in raw_claims()}
    after = set(zip(back.claims["cpts_id"], back.claims["code"], strict=True))
    assert before <= after
    assert after - before == set(zip(proposals.assignments["cpts_id"],
                                     proposals.assignments["code"], strict=True))
    old = membership(paca, ref).groupby("cpts_id")["code"].agg(list)
    new = membership(back, ref).groupby("cpts_id")["code"].agg(list)
    for cid in proposals.effets["cpts_id"]:
        if _parts(ref, old[cid]) == 1:
            assert _parts(ref, new[cid]) == 1, cid


def assert_assignments_border_their_cpts(ref, p) -> int:
    """Each unit given to a CPTS shares a line of boundary with that CPTS's territory as it was
    at that round (its units once the conflicts are settled, and the units given to it at
    earlier rounds); measured with shapely on the cleaned polygons of each zone."""
    claims = membership(p.registry, ref)
    assigned = p.assignments[p.assignments["cpts_id"].notna()]
    new = set(assigned["code"])
    checked = 0
    for r in assigned.itertuples(index=False):
        zone = ref.units.at[r.code, "zone"]
        geoms = ref.geometry(zone)
        earlier = set(assigned.loc[(assigned["cpts_id"] == r.cpts_id)
                                   & (assigned["tour"] < r.tour), "code"])
        own = [c for c in claims.loc[claims["cpts_id"] == r.cpts_id, "code"]
               if (c not in new or c in earlier) and c in geoms.index]
        territory = shapely.union_all(np.asarray([geoms[c] for c in own], dtype=object))
        assert shared_length(geoms[r.code], territory) > 0, (r.code, r.cpts_id, r.tour)
        checked += 1
    return checked


def test_paca_assignments_border_their_cpts(ref, proposals):
    assert assert_assignments_border_their_cpts(ref, proposals) == 46


def test_options_keep_tier_and_exclude_stage(ref, paca):
    kept = propose(paca, ref, region="93", keep_tier=True)
    assert kept.keep_tier and kept.taux_apres == 100.0
    eff = kept.effets
    assert (eff["taille_avant"] == eff["taille_apres"]).all()
    assert (eff["effet_financement"] == 0).all() and kept.effet_financement == 0
    cand = kept.candidats
    changing = cand["taille_avant"] != cand["taille_apres"]
    assert changing.any()
    assert (~cand.loc[changing, "eligible"]).all() and cand.loc[~changing, "eligible"].all()
    # every PACA CPTS is non_renseigne: excluding that stage leaves every unit unassigned
    none = propose(paca, ref, region="93", exclude_stages=["Non renseigné"])
    assert none.exclude_stages == ("non_renseigne",)
    assert none.assignments["cpts_id"].isna().all()
    # units bordering a CPTS say it was set aside; those inside a zone blanche, that no path
    # reaches, say so
    motifs = none.assignments.set_index("code")["motif"]
    assert set(motifs) == {"cpts_ecartees", "sans_chemin"}
    assert motifs["13201"] == "cpts_ecartees"
    assert (motifs == "sans_chemin").sum() < 10
    assert none.taux_apres == none.taux_avant == 98.06
    assert "stade non renseigné exclu" in none.assignments["raison"].iloc[0]


def test_a_region_with_no_cpts_says_so(ref, paca):
    corse = propose(paca, ref, region="94")
    assert len(corse.propositions) >= 1
    assert (corse.propositions["statut"] == "sans_cpts_limitrophe").all()
    assert corse.candidats.empty and corse.assignments["cpts_id"].isna().all()
    assert set(corse.assignments["motif"]) == {"sans_cpts_limitrophe"}
    assert corse.taux_avant == corse.taux_apres == 0.0
    assert corse.population_totale == sum(
        POP[c] for c in ref.finest.index[ref.finest["region"] == "94"])


# ------------------------------------------------------------------------------------------
# conflicts built from the real PACA registry


def _with_claims(tmp_path: Path, extra: list[tuple[str, str, str]]) -> Path:
    """The real PACA registry with extra rows (cpts_id, code_arrondissement or code, partage)."""
    raw = pd.read_csv(PACA_CSV, dtype=str, keep_default_na=False)
    rows = []
    for cid, code, share in extra:
        row = raw[raw["cpts_id"] == cid].iloc[0].copy()
        if code.startswith("132"):
            row["code_commune"], row["code_arrondissement"] = "13055", code
        else:
            row["code_commune"], row["code_arrondissement"] = code, ""
        row["partage"] = share
        rows.append(row)
    path = tmp_path / "registre.csv"
    pd.concat([raw, pd.DataFrame(rows)], ignore_index=True).to_csv(path, index=False)
    return path


def test_a_conflict_has_both_options_and_a_resolution(ref, tmp_path, arrondissements):
    # CPTS Coordination Santé Marseille 2 & 3 (2e, 3e) also claims the 4e of Activ Santé (4e, 5e)
    reg = read_registry(_with_claims(tmp_path, [("PACA-010", "13204", "")]), ref)
    p = propose(reg, ref, region="93")
    assert len(p.conciliations) == 1
    c = p.conciliations.iloc[0]
    assert (c["cpts_a"], c["cpts_b"], c["codes"]) == ("PACA-002", "PACA-010", ["13204"])
    assert c["conciliation"] == "CC-93-001" and c["population"] == POP["13204"]
    pop = {"PACA-002": POP["13204"] + POP["13205"],
           "PACA-010": POP["13202"] + POP["13203"] + POP["13204"]}
    for side, cid in (("a", "PACA-002"), ("b", "PACA-010")):
        now, without = pop[cid], pop[cid] - POP["13204"]
        assert (c[f"population_{side}"], c[f"population_{side}_sans"]) == (now, without)
        assert (c[f"taille_{side}"], c[f"taille_{side}_sans"]) == (taille(now), taille(without))
        assert (c[f"plafond_{side}"], c[f"plafond_{side}_sans"]) == (
            PLAFOND[taille(now)], PLAFOND[taille(without)])
        assert c[f"d_un_seul_tenant_{side}"] and c[f"d_un_seul_tenant_{side}_sans"]
    # option B (PACA-010 keeps the 4e) drops Activ Santé from taille 3 to taille 2
    assert (c["taille_a"], c["taille_a_sans"]) == (3, 2)
    # resolution: the longest boundary of the 4e with the rest of each territory (raw polygons)
    g = arrondissements
    to_002 = shared_length(g["13204"], g["13205"])
    to_010 = shared_length(g["13204"], shapely.union_all([g["13202"], g["13203"]]))
    winner = "PACA-002" if to_002 > to_010 else "PACA-010"
    assert c["proposition"] == winner
    assert (c["codes_a"], c["codes_b"]) == ((["13204"], []) if winner == "PACA-002"
                                            else ([], ["13204"]))
    res = p.resolutions.set_index("code").loc["13204"]
    assert res["cpts_id"] == winner and res["retire"] == sorted({"PACA-002", "PACA-010"}
                                                                 - {winner})
    # the proposed registry: the loser's claim is gone, no conflict, 100 %
    back = p.registry.claims
    assert sorted(back.loc[back["code"] == "13204", "cpts_id"]) == [winner]
    s = summary(analyse(p.registry, ref, region="93"))
    assert s["conflits"] == [] and s["taux_couverture"] == 100.0
    json = p.to_dict(ref)["conciliations"][0]
    assert [o["garde"] for o in json["options"]] == ["PACA-002", "PACA-010"]
    assert json["options"][1]["effets"]["PACA-002"]["taille"] == 2


def test_a_unit_claimed_by_three_cpts_is_settled_once(ref, tmp_path):
    path = _with_claims(tmp_path, [("PACA-010", "13204", ""), ("PACA-069", "13204", "")])
    p = propose(read_registry(path, ref), ref, region="93")
    pairs = {(r.cpts_a, r.cpts_b) for r in p.conciliations.itertuples(index=False)}
    assert pairs == {("PACA-002", "PACA-010"), ("PACA-002", "PACA-069"),
                     ("PACA-010", "PACA-069")}
    assert len(p.resolutions) == 1
    res = p.resolutions.iloc[0]
    assert res["cpts"] == ["PACA-002", "PACA-010", "PACA-069"]
    assert res["conserve"] == [res["cpts_id"]] and len(res["retire"]) == 2
    # every pairwise row names the same winner, even when it is neither of the pair
    assert set(p.conciliations["proposition"]) == {res["cpts_id"]}
    assert summary(analyse(p.registry, ref, region="93"))["conflits"] == []


def test_a_declared_share_survives_when_a_sharer_wins(ref, tmp_path):
    # a CPTS bordering Nice claims it without declaring a share: a conflict with the three
    # CPTS that share it by design; whoever wins, no conflict is left, and if a sharer wins the
    # three keep their declared share
    claims = raw_claims()
    nice = sorted(c["cpts_id"] for c in claims if c["code"] == "06088")
    geoms = ref.geometry("metro")
    intruder = sorted({c["cpts_id"] for c in claims if c["cpts_id"] not in nice
                       and c["code"] in geoms.index
                       and shared_length(geoms[c["code"]], geoms["06088"]) > 0})[0]
    p = propose(read_registry(_with_claims(tmp_path, [(intruder, "06088", "")]), ref), ref,
                region="93")
    assert len(p.conciliations) == 3
    res = p.resolutions.set_index("code").loc["06088"]
    if res["cpts_id"] in nice:
        assert res["conserve"][0] == res["cpts_id"] and sorted(res["conserve"]) == nice
        assert res["retire"] == [intruder]
    else:
        assert res["conserve"] == [intruder] and res["retire"] == nice
    assert summary(analyse(p.registry, ref, region="93"))["conflits"] == []


# ------------------------------------------------------------------------------------------
# properties, on registries made by the benchmark generator


CASES = [(["94"], 6, 1), (["94"], 6, 2), (["93"], 60, 1), (["93"], 60, 2), (["24"], 40, 1),
         (["53"], 40, 1)]


@pytest.fixture(scope="module", params=CASES, ids=lambda c: f"{'+'.join(c[0])}-seed{c[2]}")
def generated(request, ref):
    regions, n, seed = request.param
    frame = gen.generate_registry(ref, n_cpts=n, seed=seed, regions=regions)
    reg = registry_from_frame(frame, ref, source=f"generated {regions} seed {seed}")
    return frame, reg, propose(reg, ref)


def _bordered(ref, codes: list[str], claimed: set[str]) -> bool:
    """Whether the units ``codes`` share a line of boundary with a claimed unit (shapely)."""
    zone = ref.units.at[codes[0], "zone"]
    geoms = ref.geometry(zone)
    union = shapely.union_all([geoms[c] for c in codes])
    tree = shapely.STRtree(np.asarray(geoms.array, dtype=object))
    near = geoms.index[tree.query(union, predicate="intersects")]
    return any(c in claimed and shared_length(union, geoms[c]) > 0 for c in near)


def test_property_same_result_on_every_run(generated, ref):
    _, reg, p = generated
    again = propose(reg, ref)
    assert again.to_dict(ref) == p.to_dict(ref)
    assert again.registry.claims.equals(p.registry.claims)


def test_property_full_coverage_where_every_gap_has_a_path(generated, ref):
    frame, reg, p = generated
    claimed = set(membership(reg, ref)["code"])
    reachable = {z: _bordered(ref, list(codes), claimed) for z, codes in
                 zip(p.propositions["zone_blanche"], p.propositions["codes"], strict=True)}
    assigned = p.assignments
    for z, ok in reachable.items():
        rows = assigned[assigned["zone_blanche"] == z]
        if ok:  # no option: every unit of a bordered zone blanche is reached
            assert rows["cpts_id"].notna().all(), z
        else:
            assert rows["cpts_id"].isna().all() and set(rows["motif"]) == {
                "sans_cpts_limitrophe"}, z
    for region in frame.attrs["regions"]:
        zones = p.propositions[p.propositions["region"] == region]["zone_blanche"]
        rate = summary(analyse(p.registry, ref, region=region))["taux_couverture"]
        if all(reachable[z] for z in zones):
            assert rate == 100.0, region
        else:
            assert rate < 100.0, region


def test_property_no_conflict_left_and_none_created(generated, ref):
    frame, reg, p = generated
    assert len(frame.attrs["conflicts"]) >= 1
    assert len(p.conciliations) >= 1
    after = membership(p.registry, ref)
    for region in frame.attrs["regions"]:
        assert analyse(p.registry, ref, region=region).conflits.empty, region
    # new claims only on units nobody claimed; claims removed only on disputed units
    before = membership(reg, ref)
    old = set(zip(before["cpts_id"], before["code"], strict=True))
    new = set(zip(after["cpts_id"], after["code"], strict=True))
    assert {c for _, c in new - old} <= set(p.assignments["code"])
    assert not {c for _, c in new - old} & set(before["code"])
    assert {c for _, c in old - new} <= set(p.resolutions["code"])


def test_property_every_assigned_unit_borders_its_cpts(generated, ref):
    _, _, p = generated
    assert assert_assignments_border_their_cpts(ref, p) == p.assignments["cpts_id"].notna().sum()


def test_property_territories_in_one_piece_stay_in_one_piece(generated, ref):
    _, reg, p = generated
    old = membership(reg, ref).groupby("cpts_id")["code"].agg(list)
    new = membership(p.registry, ref).groupby("cpts_id")["code"].agg(list)
    losers = {c for lost in p.resolutions["retire"] for c in lost}
    grown = set(p.assignments["cpts_id"].dropna()) - losers
    assert grown
    for cid in sorted(grown):
        if _parts(ref, old[cid]) == 1:
            assert _parts(ref, new[cid]) == 1, cid


def test_property_options_are_respected(generated, ref):
    _, reg, _ = generated
    p = propose(reg, ref, keep_tier=True, exclude_stages=["emergence"])
    stage = reg.cpts["stade"]
    assigned = p.assignments.dropna(subset=["cpts_id"])
    assert not (stage.reindex(assigned["cpts_id"]) == "emergence").any()
    losers = {c for lost in p.resolutions["retire"] for c in lost}
    only_grown = p.effets[~p.effets["cpts_id"].isin(losers)]
    assert (only_grown["taille_avant"] == only_grown["taille_apres"]).all()


def test_islands_are_left_unassigned_and_said_so(ref):
    frame = gen.generate_registry(ref, n_cpts=40, seed=1, regions=["53"])  # Bretagne
    p = propose(registry_from_frame(frame, ref), ref, region="53")
    lonely = p.propositions[p.propositions["statut"] == "sans_cpts_limitrophe"]
    assert len(lonely) >= 5
    geoms = ref.geometry("metro")
    tree = shapely.STRtree(np.asarray(geoms.array, dtype=object))
    for codes in lonely["codes"]:
        union = shapely.union_all([geoms[c] for c in codes])
        near = geoms.index[tree.query(union, predicate="intersects")]
        # an island: no unit outside the zone shares a line of boundary with it
        assert not [c for c in near if c not in codes and shared_length(union, geoms[c]) > 0]
    # Île-de-Bréhat, Île-de-Sein and Groix among them (seed 1 draws no CPTS on them)
    assert {"22016", "29083", "56069"} <= {c for codes in lonely["codes"] for c in codes}
    rows = p.assignments[p.assignments["zone_blanche"].isin(lonely["zone_blanche"])]
    assert rows["cpts_id"].isna().all()
    assert rows["raison"].str.contains("île").all()
