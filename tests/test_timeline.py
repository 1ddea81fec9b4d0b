"""A dated registry read at a date and its evolution (``cpts_geo.analysis.timeline``).

The registries are the real PACA registry with seeded dates (``dated_paca.py``), written as
CSV (text dates) and XLSX (Excel date cells). Every figure at a date is computed again by hand,
with plain pandas over the raw CSV and the population file (``dated_paca.expected_at``): the
CPTS present and their stage, the population covered at each threshold over the finest units of
région 93, the same by département.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from cpts_geo.analysis import analyse, summary
from cpts_geo.analysis.timeline import (
    as_day,
    cpts_dates,
    evolution,
    month_ends,
    registry_at,
    require_dates,
)
from cpts_geo.errors import CptsGeoError
from cpts_geo.registry import Registry, read_registry
from cpts_geo.registry.stages import STAGES, THRESHOLDS

from dated_paca import (
    BEYOND,
    UNDATED,
    draw_dates,
    expected_at,
    rows,
    write_dated_csv,
    write_dated_xlsx,
)

D = dt.date


@pytest.fixture(scope="module")
def dates():
    return draw_dates()


@pytest.fixture(scope="module", params=["csv", "xlsx"])
def dated(request, ref, tmp_path_factory, dates):
    """The dated PACA registry, read from a CSV and from an XLSX file."""
    base = tmp_path_factory.mktemp("timeline")
    write = write_dated_csv if request.param == "csv" else write_dated_xlsx
    return read_registry(write(base / f"paca-dates.{request.param}", dates), ref)


def _days(dates: pd.DataFrame) -> list[D]:
    """Days to read the registry at: before any date, on and the day before a signature,
    in between, and after every date."""
    aci = sorted(d for d in dates["aci"] if d is not None)
    li = sorted(d for d in dates["li"] if d is not None)
    return [li[0] - dt.timedelta(days=1), li[0], D(2019, 7, 14), aci[3] - dt.timedelta(days=1),
            aci[3], D(2021, 6, 30), D(2023, 1, 1), D(2030, 1, 1)]


def _check_summary(s: dict, expected: dict) -> None:
    assert s["n_cpts"] == expected["n_cpts"]
    assert s["n_cpts_par_stade"] == expected["n_cpts_par_stade"]
    assert s["population_totale"] == expected["population_totale"] == 5_218_960
    for key in THRESHOLDS:
        got = s["par_stade"][key]
        assert got["population_couverte"] == expected["population_couverte"][key], key
        assert got["taux_couverture"] == expected["taux"][key], key


def test_registry_at_several_dates_against_a_hand_computation(ref, dated, dates):
    for day in _days(dates):
        expected = expected_at(day, dates)
        at = registry_at(dated, day, ref)
        assert at.cpts["stade"].to_dict() == expected["stades"], day
        _check_summary(summary(analyse(at, ref, geometry=False)), expected)
    # the figures move: not one date gives the same as the next
    covered = [expected_at(d, dates)["population_couverte"]["tous_stades"] for d in _days(dates)]
    assert covered[0] == 0 and covered == sorted(covered) and len(set(covered)) >= 5


def test_a_date_counts_from_its_day(ref, dated, dates):
    cid, aci = min(((c, r["aci"]) for c, r in rows(dates).items() if r["aci"]),
                   key=lambda x: x[1])
    before = registry_at(dated, aci - dt.timedelta(days=1), ref).cpts["stade"]
    on = registry_at(dated, aci, ref).cpts["stade"]
    assert before[cid] == "projet_valide" and on[cid] == "fonctionnement"
    # a day given as text or a month (its first day)
    assert registry_at(dated, aci.strftime("%d/%m/%Y"), ref).cpts["stade"][cid] == \
        "fonctionnement"
    first = registry_at(dated, f"{aci:%m/%Y}", ref).cpts["stade"]
    assert first.to_dict() == expected_at(aci.replace(day=1), dates)["stades"]


def test_dates_after_the_day_are_not_known_on_it(ref, dated, dates):
    day = D(2021, 6, 30)
    at = registry_at(dated, day, ref)
    for cid, r in at.cpts.iterrows():
        for col, key in (("date_lettre_intention", "li"), ("date_projet_sante", "ps"),
                         ("date_aci", "aci")):
            written = dates.at[cid, key]
            if written is not None and written <= day:
                assert r[col] == pd.Timestamp(written)
            else:
                assert pd.isna(r[col])
    assert at.source == f"{dated.source} au 30/06/2021"
    assert len(dated.cpts) == 70  # the registry read is left as it was
    assert (dated.claims["stade"] == dated.claims["cpts_id"].map(dates["stade"])).all()


def test_undated_cpts_and_stages_beyond_their_dates(ref, dated, dates):
    late = registry_at(dated, D(2030, 1, 1), ref)
    assert not set(UNDATED) & set(late.cpts.index)
    for cid in BEYOND:  # "ACI signé" in the registry, dated only by a lettre d'intention
        assert dated.cpts.at[cid, "stade"] == "fonctionnement"
        assert late.cpts.at[cid, "stade"] == "lettre_intention"
    kinds = [n.kind for n in late.notices]
    assert kinds.count("sans_date") == 1 and kinds.count("stade_non_date") == len(BEYOND)
    (undated,) = [n for n in late.notices if n.kind == "sans_date"]
    names = dated.cpts["cpts_nom"]
    assert f"{len(UNDATED)} CPTS have no date" in undated.message
    assert all(repr(names[c]) in undated.message for c in UNDATED)
    for cid in BEYOND:
        (note,) = [n for n in late.notices if n.kind == "stade_non_date"
                   and repr(names[cid]) in n.message]
        li = dates.at[cid, "li"].strftime("%d/%m/%Y")
        assert f"its dates go only to lettre d'intention validée ({li})" in note.message
    # every other CPTS is as the registry gives it
    rest = dated.cpts.drop(index=[*UNDATED, *BEYOND])["stade"]
    assert late.cpts["stade"].drop(index=list(BEYOND)).to_dict() == rest.to_dict()


def test_a_stage_behind_the_dates_is_kept(ref, paca):
    """A CPTS at 'lettre d'intention' with an ACI date (the reader warns) stays there."""
    claims = paca.claims.assign(date_lettre_intention=pd.Timestamp("2019-01-01"),
                                date_aci=pd.Timestamp("2020-01-01"), stade="lettre_intention")
    at = registry_at(Registry(claims, "r.csv"), "2021-01-01")
    assert set(at.cpts["stade"]) == {"lettre_intention"}
    emergence = Registry(claims.assign(stade="emergence"), "r.csv")
    assert set(registry_at(emergence, "2021-01-01").cpts["stade"]) == {"emergence"}
    assert registry_at(emergence, "2018-12-31").claims.empty


def test_the_perimeter_is_the_whole_registrys(ref, paca):
    """A région whose CPTS came later is in the figures from the start (at 0 %)."""
    reunion = pd.DataFrame({"cpts_id": "RUN-1", "cpts_nom": "CPTS Sud Réunion",
                            "stade": "fonctionnement", "code": ["97411", "97415"],
                            "partage": False})
    claims = pd.concat([paca.claims.assign(date_aci=pd.Timestamp("2019-01-01"),
                                           stade="fonctionnement"),
                        reunion.assign(date_aci=pd.Timestamp("2024-01-01"))],
                       ignore_index=True)
    reg = Registry(claims, "deux.csv")
    at = registry_at(reg, "2020-01-01", ref)
    assert at.regions == ("04", "93")
    s = summary(analyse(at, ref, geometry=False))
    assert s["perimetre_regions"] == ["04", "93"]
    reunion_pop = int(ref.finest.loc[ref.finest["region"] == "04", "population"].sum())
    assert s["population_totale"] == 5_218_960 + reunion_pop
    assert s["population_couverte"] == 5_117_871  # PACA only: La Réunion's CPTS came later
    # without the reference, the perimeter is found from the CPTS there then
    assert registry_at(reg, "2020-01-01").regions is None


def test_before_every_date_the_registry_is_empty(ref, dated, dates):
    day = _days(dates)[0]
    at = registry_at(dated, day, ref)
    assert at.claims.empty and len(at) == 0
    s = summary(analyse(at, ref))
    assert s["taux_couverture"] == 0.0 and s["population_totale"] == 5_218_960


def test_a_registry_without_dates_cannot_be_read_at_a_date(ref, paca):
    with pytest.raises(CptsGeoError) as info:
        registry_at(paca, "2021-06-30", ref)
    message = str(info.value)
    assert "--at needs a dated registry" in message and paca.source in message
    for name in ("date_lettre_intention", "date_projet_sante", "date_aci",
                 "Date signature ACI"):
        assert name in message
    with pytest.raises(CptsGeoError, match="evolution needs a dated registry"):
        evolution(paca, ref)
    require_dates(Registry(paca.claims.assign(date_aci=pd.NaT), "d.csv"))  # a column: enough


def test_as_day():
    assert as_day("2021-06-30") == as_day(dt.datetime(2021, 6, 30, 12)) == D(2021, 6, 30)
    with pytest.raises(CptsGeoError, match=r"--to 'bientôt' is not a date"):
        as_day("bientôt", "--to")


def test_cpts_dates(dated, dates):
    table = cpts_dates(dated)
    for cid, r in rows(dates).items():
        steps = [d for d in (r["li"], r["ps"], r["aci"]) if d is not None]
        assert (pd.isna(table.at[cid, "debut"]) if not steps
                else table.at[cid, "debut"] == pd.Timestamp(min(steps)))
        last = ("fonctionnement" if r["aci"] else "projet_valide" if r["ps"] else
                "lettre_intention" if r["li"] else None)
        assert table.at[cid, "stade_date"] == last


# ---- evolution --------------------------------------------------------------------------------

def test_month_ends():
    ends = month_ends(D(2023, 12, 15), D(2024, 3, 1))
    assert [d.date() for d in ends] == [D(2023, 12, 31), D(2024, 1, 31), D(2024, 2, 29),
                                        D(2024, 3, 31)]


def test_evolution_against_a_hand_computation(ref, dated, dates):
    e = evolution(dated, ref)
    france = e.tables["france"].set_index("mois")
    first = min(d for r in rows(dates).values() for d in (r["li"], r["ps"], r["aci"]) if d)
    last = max(d for r in rows(dates).values() for d in (r["li"], r["ps"], r["aci"]) if d)
    assert france.index[0] == f"{first:%Y-%m}" and france.index[-1] == f"{last:%Y-%m}"
    assert len(france) == (last.year - first.year) * 12 + last.month - first.month + 1
    assert (france["code"] == "FR").all() and (france["population_totale"] == 5_218_960).all()
    for mois in (france.index[0], "2019-07", "2021-06", "2023-12", france.index[-1]):
        row = france.loc[mois]
        day = row["date"]
        assert day == (pd.Timestamp(mois) + pd.offsets.MonthEnd(0)).date()
        expected = expected_at(day, dates)
        assert row["n_cpts"] == expected["n_cpts"]
        for stage in STAGES:
            assert row[f"n_cpts_{stage}"] == expected["n_cpts_par_stade"][stage], (mois, stage)
        for key in THRESHOLDS:
            assert row[f"population_couverte_{key}"] == expected["population_couverte"][key]
            assert row[f"taux_{key}"] == expected["taux"][key]
        deps = e.tables["departement"]
        for dep, exp in expected["par_departement"].items():
            got = deps[(deps["mois"] == mois) & (deps["code"] == dep)].iloc[0]
            assert got["population_totale"] == exp["population_totale"]
            assert got["n_cpts"] == exp["n_cpts"], (mois, dep)
            for key in THRESHOLDS:
                assert got[f"population_couverte_{key}"] == exp["population_couverte"][key]
        region = e.tables["region"]
        assert region.loc[region["mois"] == mois, "code"].tolist() == ["93"]
    assert set(e.undated) == set(UNDATED) and set(e.beyond) == set(BEYOND)


def test_evolution_is_analyse_at_each_month_end(ref, dated):
    """Every month of the window: the same figures as analyse(registry_at(month end))."""
    e = evolution(dated, ref, start="2020-11", end="2021-04")
    assert e.months == ["2020-11", "2020-12", "2021-01", "2021-02", "2021-03", "2021-04"]
    for level in ("france", "region", "departement"):
        table = e.tables[level]
        for _, part in table.groupby("mois"):
            a = analyse(registry_at(dated, part["date"].iloc[0], ref), ref, geometry=False)
            cov = a.couverture[level]
            got = part.set_index("code")[[c for c in cov.columns if c != "nom"]]
            want = cov[got.columns].copy()
            if level == "france":
                want.index = ["FR"]
            pd.testing.assert_frame_equal(got.sort_index(), want.sort_index(),
                                          check_names=False, check_dtype=False)


def test_evolution_of_one_region_and_of_france(ref, dated, paca):
    e = evolution(dated, ref, region="93", start="2021-01", end="2021-03")
    assert e.perimeter == ("93",) and e.region == "93"
    everywhere = evolution(dated, ref, france=True, start="2021-01", end="2021-03")
    assert everywhere.perimeter is None and everywhere.label == "France"
    fr = everywhere.tables["france"]
    assert (fr["population_totale"] == int(ref.finest["population"].sum())).all()
    assert (fr["population_couverte_tous_stades"].to_numpy()
            == e.tables["france"]["population_couverte_tous_stades"].to_numpy()).all()
    assert len(everywhere.tables["region"]["code"].unique()) == len(set(ref.finest["region"]))


def test_evolution_window_errors(ref, dated, paca):
    with pytest.raises(CptsGeoError, match=r"--from 06/2022 comes after --to 01/2021"):
        evolution(dated, ref, start="2022-06", end="2021-01")
    empty = Registry(paca.claims.assign(date_aci=pd.NaT), "vide.csv")
    with pytest.raises(CptsGeoError, match=r"its date columns .* are empty"):
        evolution(empty, ref)
    # --to before every date: that one month
    e = evolution(dated, ref, end="2010-05-20")
    assert e.months == ["2010-05"] and e.tables["france"]["n_cpts"].tolist() == [0]


def test_evolution_json(ref, dated):
    d = evolution(dated, ref, start="2021-05", end="2021-06").to_dict()
    assert list(d) == ["registre", "perimetre", "perimetre_regions", "region", "debut", "fin",
                       "regle", "mois", "par_region", "par_departement", "avertissements"]
    assert (d["debut"], d["fin"], d["perimetre_regions"]) == ("2021-05", "2021-06", ["93"])
    month = d["mois"][1]
    assert month["date"] == "2021-06-30"
    assert set(month) == {"mois", "date", "population_totale", "n_cpts", "n_cpts_par_stade",
                          "par_stade"}
    assert set(month["par_stade"]) == set(THRESHOLDS)
    assert [g["code"] for g in d["par_departement"]] == ["04", "05", "06", "13", "83", "84"]
    assert any("have no date" in w for w in d["avertissements"])


def test_evolution_does_not_run_analyse_per_month(ref, dated, monkeypatch):
    """Membership once for the whole window, however many months."""
    import cpts_geo.analysis.timeline as timeline

    calls = []
    real = timeline.membership
    monkeypatch.setattr(timeline, "membership", lambda *a: calls.append(1) or real(*a))
    e = evolution(dated, ref, start="2018-01", end="2026-12")
    assert len(e.months) == 108 and len(calls) == 1


def test_random_registries_keep_the_invariants(ref, paca):
    """Seeded random dates: coverage never falls, thresholds are nested, counts add up."""
    rng = np.random.default_rng(3)
    ids = sorted(paca.cpts.index)
    li = pd.Timestamp("2019-01-01") + pd.to_timedelta(rng.integers(0, 1500, len(ids)), "D")
    aci = li + pd.to_timedelta(rng.integers(1, 900, len(ids)), "D")
    keep = rng.random(len(ids)) < 0.5
    claims = paca.claims.assign(
        date_lettre_intention=paca.claims["cpts_id"].map(dict(zip(ids, li, strict=True))),
        date_aci=paca.claims["cpts_id"].map(dict(zip(ids, aci.where(keep), strict=True))),
        stade="non_renseigne")
    e = evolution(Registry(claims, "r.csv"), ref)
    for table in e.tables.values():
        for _, part in table.groupby("code"):
            for key in THRESHOLDS:
                assert part[f"population_couverte_{key}"].is_monotonic_increasing
            assert (part["population_couverte_fonctionnement"]
                    <= part["population_couverte_jusqu_projet_valide"]).all()
            assert (part["population_couverte_jusqu_projet_valide"]
                    <= part["population_couverte_tous_stades"]).all()
            assert (part["population_couverte_tous_stades"] <= part["population_totale"]).all()
            assert (part[[f"n_cpts_{s}" for s in STAGES]].sum(axis=1) == part["n_cpts"]).all()
    last = e.tables["france"].iloc[-1]
    assert last["n_cpts"] == 70 and last["n_cpts_fonctionnement"] == int(keep.sum())
    assert last["taux_tous_stades"] == 98.06
