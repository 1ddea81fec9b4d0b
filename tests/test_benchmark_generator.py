"""The benchmark registry generator: reproducible, valid, and its injected conflicts are found."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pandas as pd
import pytest

from cpts_geo.analysis import analyse
from cpts_geo.registry import read_registry

ROOT = Path(__file__).parents[1]


def _load_generator():
    spec = importlib.util.spec_from_file_location(
        "generate_registry", ROOT / "benchmarks" / "generate_registry.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("generate_registry", module)
    spec.loader.exec_module(module)
    return module


gen = _load_generator()
REGIONS = ["93", "94"]  # PACA (Marseille by arrondissement) and Corse: small and fast
N = 80


@pytest.fixture(scope="module")
def frame(ref):
    return gen.generate_registry(ref, n_cpts=N, seed=3, regions=REGIONS)


@pytest.fixture(scope="module")
def analysis(ref, frame, tmp_path_factory):
    path = tmp_path_factory.mktemp("gen") / "registry.csv"
    frame.to_csv(path, index=False)
    return analyse(read_registry(path, ref), ref, geometry=False)


def test_columns_and_count(frame):
    assert list(frame.columns) == ["cpts_id", "cpts_nom", "stade", "code_commune", "partage"]
    assert frame["cpts_id"].nunique() == N
    assert frame["cpts_nom"].nunique() == N
    assert frame.attrs["n_cpts"] == N
    assert set(frame["partage"]) == {"", "infra"}


def test_reproducible_for_a_seed(ref, frame):
    again = gen.generate_registry(ref, n_cpts=N, seed=3, regions=REGIONS)
    pd.testing.assert_frame_equal(frame, again)
    assert again.attrs == frame.attrs
    other = gen.generate_registry(ref, n_cpts=N, seed=4, regions=REGIONS)
    assert not frame.equals(other)


def test_codes_are_current_finest_units_of_the_regions(ref, frame):
    codes = set(frame["code_commune"])
    assert codes <= ref.current_codes
    finest = ref.finest
    assert codes <= set(finest.index)  # Marseille by arrondissement, never 13055 whole
    assert set(finest.loc[sorted(codes), "region"]) == set(REGIONS)
    assert "13055" not in codes and {"13201", "13216"} & codes


def test_cpts_per_region_follow_population(ref, frame):
    per_region = frame.drop_duplicates("cpts_id")["cpts_id"].str[5:7].value_counts()
    pop = ref.finest.groupby("region")["population"].sum()
    share_93 = pop["93"] / (pop["93"] + pop["94"])
    assert abs(per_region["93"] / N - share_93) < 0.03
    assert per_region["94"] >= 1


def test_gaps_and_injections(frame):
    attrs = frame.attrs
    assert 0.02 <= attrs["gap_share"] <= 0.08
    assert 1 <= len(attrs["conflicts"]) <= 20
    code, a, b = attrs["shared"]
    rows = frame[frame["code_commune"] == code]
    assert set(rows["cpts_id"]) == {a, b}
    assert set(rows["partage"]) == {"infra"}


def test_injected_conflicts_are_found_by_analyse(frame, analysis):
    found = {(r.cpts_a, r.cpts_b): set(r.codes) for r in analysis.conflits.itertuples()}
    injected = {}
    for code, a, b in frame.attrs["conflicts"]:
        injected[tuple(sorted((a, b)))] = {code}
    assert found == injected
    shared_code, a, b = frame.attrs["shared"]
    partages = {r.code: sorted(r.cpts) for r in analysis.partages.itertuples()}
    assert partages == {shared_code: sorted([a, b])}
    zb = analysis.zones_blanches  # national, ungrouped without geometry: one row per unit
    gap_pop = int(zb.loc[zb["region"].isin(REGIONS), "population"].sum())
    assert gap_pop == frame.attrs["gap_population"]


def test_stage_labels_are_read(frame, analysis):
    assert set(frame["stade"]) <= {lbl for lbl, _ in gen.STAGE_LABELS}
    assert analysis.territories.table["stade"].nunique() >= 3


def test_cli_writes_a_csv(tmp_path):
    out = tmp_path / "corse.csv"
    assert gen.main(["--out", str(out), "--seed", "1", "--n", "4", "--region", "94"]) == 0
    table = pd.read_csv(out, dtype=str, keep_default_na=False)
    assert table["cpts_id"].nunique() == 4
